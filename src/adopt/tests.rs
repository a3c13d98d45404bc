use super::*;
use crate::Blueprint;

fn account(id: &str, name: &str, email: &str, place: Place) -> Account {
    Account {
        id: id.into(),
        name: name.into(),
        email: email.into(),
        place,
        active: true,
    }
}

fn unit(id: &str) -> Place {
    Place::Unit(id.into())
}

/// An organization as teams have them: core accounts in a Security unit, workloads named
/// `<customer>-<env>` but for a few, one email that does not follow the rest.
fn organization() -> Organization {
    Organization {
        id: "o-abc".into(),
        management_account_id: "100000000000".into(),
        units: vec![
            Unit {
                id: "ou-sec".into(),
                name: "Security".into(),
            },
            Unit {
                id: "ou-dev".into(),
                name: "Development".into(),
            },
            Unit {
                id: "ou-prod".into(),
                name: "Production".into(),
            },
            Unit {
                id: "ou-sbx".into(),
                name: "Sandbox".into(),
            },
        ],
        nested_units: vec!["Legacy (in Production)".into()],
        accounts: vec![
            account(
                "100000000001",
                "Audit",
                "aws+Audit@corp.example",
                unit("ou-sec"),
            ),
            account(
                "100000000002",
                "Log Archive",
                "aws+log-archive@corp.example",
                unit("ou-sec"),
            ),
            account(
                "100000000003",
                "lumo-dev",
                "aws+lumo-dev@corp.example",
                unit("ou-dev"),
            ),
            account(
                "100000000004",
                "lumo-prod",
                "aws+lumo-prod@corp.example",
                unit("ou-prod"),
            ),
            account(
                "100000000005",
                "retail-prod",
                "retail-team@corp.example",
                unit("ou-prod"),
            ),
            account(
                "100000000006",
                "payments",
                "aws+payments@corp.example",
                unit("ou-prod"),
            ),
            account(
                "100000000007",
                "old-prod",
                "aws+old-prod@corp.example",
                Place::Nested,
            ),
            account(
                "100000000008",
                "scratch",
                "aws+scratch@corp.example",
                Place::Root,
            ),
            account(
                "100000000009",
                "ada-sandbox",
                "aws+ada-sandbox@corp.example",
                unit("ou-sbx"),
            ),
            Account {
                active: false,
                ..account(
                    "100000000010",
                    "gone-dev",
                    "aws+gone-dev@corp.example",
                    unit("ou-dev"),
                )
            },
        ],
    }
}

fn options() -> AdoptOptions {
    AdoptOptions {
        name: "corp".into(),
        home_region: "eu-west-1".into(),
        security: None,
        log_archive: None,
    }
}

#[test]
fn the_blueprint_describes_what_fits_and_validates() {
    let adoption = describe(&organization(), &options()).unwrap();
    let bp = Blueprint::parse("corp.yaml", &adoption.yaml)
        .unwrap_or_else(|e| panic!("{e}\n{}", adoption.yaml));
    assert_eq!(bp.accounts.security.name, "Audit");
    assert_eq!(bp.accounts.log_archive.name, "Log Archive");
    // Its email does not follow the template: kept as it is.
    assert_eq!(
        bp.accounts.log_archive.email.as_deref(),
        Some("aws+log-archive@corp.example")
    );
    assert_eq!(bp.accounts.security.email, None);
    assert_eq!(bp.organization.email, "aws+{account}@corp.example");
    let envs: Vec<(&str, &str)> = bp
        .environments
        .iter()
        .map(|(k, e)| (k.as_str(), e.ou.as_str()))
        .collect();
    assert_eq!(
        envs,
        [
            ("dev", "Development"),
            ("prod", "Production"),
            ("sandbox", "Sandbox")
        ]
    );
    let customers: Vec<(&str, Vec<&str>)> = bp
        .customers
        .iter()
        .map(|(c, s)| {
            (
                c.as_str(),
                s.environments.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        customers,
        [
            ("ada", vec!["sandbox"]),
            ("lumo", vec!["dev", "prod"]),
            ("retail", vec!["prod"])
        ]
    );
    // The one email that does not follow the template is kept as it is.
    assert_eq!(
        bp.customers["retail"].emails["prod"],
        "retail-team@corp.example"
    );
    assert!(bp.customers["lumo"].emails.is_empty());
    // Every account the blueprint plans has the email of the account that exists.
    let planned = crate::desired::accounts(&bp);
    for a in organization().accounts.iter().filter(|a| a.active) {
        if let Some(p) = planned.iter().find(|p| p.name == a.name) {
            assert_eq!(p.email, a.email, "{}", a.name);
        }
    }
    assert_eq!(planned.len(), adoption.described);
    assert_eq!(adoption.described, 6);
}

#[test]
fn what_does_not_fit_is_listed_with_why() {
    let adoption = describe(&organization(), &options()).unwrap();
    let left = adoption.left_out.join("\n");
    for why in [
        "account `payments` (100000000006) in unit `Production`: its name is not `<customer>-prod`",
        "account `old-prod` (100000000007): in a nested unit",
        "account `scratch` (100000000008): directly under the root, in no unit",
        "account `gone-dev` (100000000010): not active",
        "unit `Legacy (in Production)`: nested",
    ] {
        assert!(left.contains(why), "{why} in\n{left}");
        assert!(adoption.yaml.contains(&format!("# - {why}")), "{why}");
    }
    assert_eq!(adoption.left_out.len(), 5);
}

#[test]
fn core_accounts_are_found_by_name_or_named_by_the_caller() {
    let mut org = organization();
    org.accounts.retain(|a| a.name != "Audit");
    assert_eq!(
        describe(&org, &options()),
        Err(AdoptError::CoreAccountNotFound {
            role: "security",
            looked: "`security` or `audit`",
            flag: "--security",
        })
    );
    let mut named = options();
    named.security = Some("lumo-dev".into());
    let adoption = describe(&org, &named).unwrap();
    let bp = Blueprint::parse("corp.yaml", &adoption.yaml).unwrap();
    assert_eq!(bp.accounts.security.name, "lumo-dev");
    assert_eq!(bp.accounts.security.ou, "Development");
    assert!(
        !bp.customers.contains_key("lumo")
            || !bp.customers["lumo"]
                .environments
                .contains(&"dev".to_owned())
    );
}

#[test]
fn guardrails_that_could_break_workloads_start_off() {
    let bp = Blueprint::parse(
        "corp.yaml",
        &describe(&organization(), &options()).unwrap().yaml,
    )
    .unwrap();
    assert!(bp.guardrails.baseline);
    assert!(!bp.guardrails.data_perimeter);
    assert!(!bp.guardrails.tag_policy);
    assert!(!bp.guardrails.block_public_access);
}

#[test]
fn names_and_slugs() {
    assert!(is_named("Log Archive", LOG_ARCHIVE_NAMES));
    assert!(is_named("nw-security", SECURITY_NAMES));
    assert!(!is_named("securityish", SECURITY_NAMES));
    assert_eq!(slug("Pre Prod"), "pre-prod");
    assert_eq!(slug("--X--"), "x");
}

#[test]
fn ambiguous_or_misnamed_core_accounts_are_refused_with_what_to_do() {
    let mut org = organization();
    org.accounts.push(account(
        "100000000011",
        "payments-audit",
        "aws+payments-audit@corp.example",
        unit("ou-prod"),
    ));
    assert_eq!(
        describe(&org, &options()),
        Err(AdoptError::CoreAccountAmbiguous {
            role: "security",
            candidates: vec![
                "`Audit` (100000000001)".into(),
                "`payments-audit` (100000000011)".into()
            ],
            flag: "--security",
        })
    );
    let mut named = options();
    named.security = Some("Audit".into());
    assert!(describe(&org, &named).is_ok());
    named.security = Some("nobody".into());
    assert_eq!(
        describe(&org, &named),
        Err(AdoptError::NamedAccountNotFound {
            name: "nobody".into(),
            flag: "--security"
        })
    );
    named.security = Some("Log Archive".into());
    named.log_archive = Some("Log Archive".into());
    assert_eq!(
        describe(&org, &named),
        Err(AdoptError::SameCoreAccount("Log Archive".into()))
    );
}

#[test]
fn accounts_sharing_a_name_are_left_out_and_numeric_names_stay_strings() {
    let mut org = organization();
    org.accounts.push(account(
        "100000000012",
        "lumo-prod",
        "other-lumo@corp.example",
        unit("ou-prod"),
    ));
    org.accounts.push(account(
        "100000000013",
        "007-prod",
        "aws+007-prod@corp.example",
        unit("ou-prod"),
    ));
    let adoption = describe(&org, &options()).unwrap();
    let bp = Blueprint::parse("corp.yaml", &adoption.yaml)
        .unwrap_or_else(|e| panic!("{e}\n{}", adoption.yaml));
    assert_eq!(bp.customers["lumo"].environments, ["dev"]);
    assert_eq!(bp.customers["007"].environments, ["prod"]);
    let left = adoption.left_out.join("\n");
    assert!(
        left.contains(
            "account `lumo-prod` (100000000004) in unit `Production`: another account has its name"
        ),
        "{left}"
    );
    assert!(
        left.contains("account `lumo-prod` (100000000012)"),
        "{left}"
    );
    let planned: Vec<String> = crate::desired::accounts(&bp)
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert!(planned.contains(&"007-prod".to_owned()), "{planned:?}");
}
