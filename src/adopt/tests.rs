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
        management_account_name: "management".into(),
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

/// A small organization: security and log-archive in `Security`, then `units` (id, name)
/// holding `accounts` (name, unit id), emails `aws+<name>@corp.example`.
fn small(units: &[(&str, &str)], accounts: &[(&str, &str)]) -> Organization {
    let mut org = Organization {
        id: "o-abc".into(),
        management_account_id: "100000000000".into(),
        management_account_name: "management".into(),
        units: vec![Unit {
            id: "ou-sec".into(),
            name: "Security".into(),
        }],
        ..Organization::default()
    };
    org.units.extend(units.iter().map(|(id, name)| Unit {
        id: (*id).into(),
        name: (*name).into(),
    }));
    let core = [("security", "ou-sec"), ("log-archive", "ou-sec")];
    for (n, (name, unit_id)) in core.iter().chain(accounts).enumerate() {
        org.accounts.push(account(
            &format!("2000000000{n:02}"),
            name,
            &format!("aws+{name}@corp.example"),
            unit(unit_id),
        ));
    }
    org
}

/// The blueprint's environments (key, unit) and customers (name, environments).
#[allow(clippy::type_complexity)]
fn shape(adoption: &Adoption) -> (Vec<(String, String)>, Vec<(String, Vec<String>)>) {
    let bp = Blueprint::parse("corp.yaml", &adoption.yaml)
        .unwrap_or_else(|e| panic!("{e}\n{}", adoption.yaml));
    let envs = bp
        .environments
        .iter()
        .map(|(k, e)| (k.clone(), e.ou.clone()))
        .collect();
    let customers = bp
        .customers
        .iter()
        .map(|(c, s)| (c.clone(), s.environments.clone()))
        .collect();
    (envs, customers)
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).into(), (*b).into()))
        .collect()
}

/// `Pre Prod` holds `lumo-pre-prod`: its environment is `pre-prod` (the unit's own name),
/// not `prod` with a customer `lumo-pre`, and the unit `Prod`, listed after it, keeps `prod`.
#[test]
fn a_unit_whose_name_its_accounts_end_with_names_its_environment() {
    let org = small(
        &[("ou-pp", "Pre Prod"), ("ou-p", "Prod")],
        &[
            ("lumo-pre-prod", "ou-pp"),
            ("retail-pre-prod", "ou-pp"),
            ("lumo-prod", "ou-p"),
            ("retail-prod", "ou-p"),
        ],
    );
    let adoption = describe(&org, &options()).unwrap();
    let (envs, customers) = shape(&adoption);
    assert_eq!(envs, pairs(&[("pre-prod", "Pre Prod"), ("prod", "Prod")]));
    let both = vec!["pre-prod".to_owned(), "prod".to_owned()];
    assert_eq!(
        customers,
        [
            ("lumo".to_owned(), both.clone()),
            ("retail".to_owned(), both)
        ]
    );
    assert_eq!(adoption.left_out, Vec::<String>::new());
    assert_eq!(adoption.described, 6);
}

/// One unit holding several environments' accounts: one environment each, in that unit.
#[test]
fn a_unit_holding_several_environments_describes_each() {
    let org = small(
        &[("ou-w", "Workloads")],
        &[
            ("lumo-dev", "ou-w"),
            ("retail-dev", "ou-w"),
            ("shop-dev", "ou-w"),
            ("lumo-prod", "ou-w"),
            ("retail-prod", "ou-w"),
            ("bob-sandbox", "ou-w"),
        ],
    );
    let adoption = describe(&org, &options()).unwrap();
    let (envs, customers) = shape(&adoption);
    assert_eq!(envs, pairs(&[("dev", "Workloads"), ("prod", "Workloads")]));
    assert_eq!(
        customers[0],
        ("lumo".into(), vec!["dev".into(), "prod".into()])
    );
    assert_eq!(customers[2], ("shop".into(), vec!["dev".into()]));
    // One account alone with its last word is no environment.
    assert_eq!(
        adoption.left_out,
        [
            "account `bob-sandbox` (200000000007) in unit `Workloads`: its name is not `<customer>-dev` or `<customer>-prod`"
        ]
    );
}

/// Two units whose accounts name the same environment: the one named for it keeps it, the
/// other is left out saying which unit has it.
#[test]
fn an_environment_two_units_name_goes_to_the_unit_of_its_name() {
    let org = small(
        &[("ou-x", "Experiments"), ("ou-d", "Dev")],
        &[("lumo-dev", "ou-x"), ("retail-dev", "ou-d")],
    );
    let adoption = describe(&org, &options()).unwrap();
    let (envs, _) = shape(&adoption);
    assert_eq!(envs, pairs(&[("dev", "Dev")]));
    assert_eq!(
        adoption.left_out,
        [
            "unit `Experiments`, its 1 account(s) named `<customer>-dev`: environment `dev` is already unit `Dev`"
        ]
    );
}

/// A core account named by its id when two share its name; by its name without case; never
/// the management account.
#[test]
fn a_flag_names_a_core_account_by_id_or_name_and_never_the_management_account() {
    let mut org = small(&[("ou-old", "Old")], &[]);
    org.accounts.push(account(
        "300000000000",
        "security",
        "old-security@corp.example",
        unit("ou-old"),
    ));
    let mut named = options();
    named.security = Some("security".into());
    assert_eq!(
        describe(&org, &named),
        Err(AdoptError::NamedAccountAmbiguous {
            name: "security".into(),
            candidates: vec![
                "`security` (200000000000)".into(),
                "`security` (300000000000)".into()
            ],
            flag: "--security",
        })
    );
    named.security = Some("200000000000".into());
    let bp = Blueprint::parse("corp.yaml", &describe(&org, &named).unwrap().yaml).unwrap();
    assert_eq!(bp.accounts.security.ou, "Security");
    let org = small(&[], &[]);
    named.security = Some("SECURITY".into());
    assert!(describe(&org, &named).is_ok());
    for given in ["management", "100000000000"] {
        named.security = Some(given.into());
        assert_eq!(
            describe(&org, &named),
            Err(AdoptError::ManagementAccountChosen {
                name: given.into(),
                role: "security",
                flag: "--security",
            })
        );
    }
}

/// An account named like a core account when another was chosen is left out as such, and
/// its unit makes no environment with no account in it.
#[test]
fn a_second_security_account_is_left_out_as_such() {
    let mut org = small(&[("ou-aud", "Audit")], &[("lumo-dev", "ou-sec")]);
    org.accounts.push(account(
        "300000000000",
        "Audit",
        "aws+Audit@corp.example",
        unit("ou-aud"),
    ));
    let mut named = options();
    named.security = Some("Audit".into());
    let adoption = describe(&org, &named).unwrap();
    let (envs, _) = shape(&adoption);
    assert_eq!(envs, pairs(&[("dev", "Security")]));
    assert_eq!(
        adoption.left_out,
        [
            "account `security` (200000000000) in unit `Security`: named like a core account, but another was chosen"
        ]
    );
}

/// No template most accounts follow: none is claimed, and each account keeps its own email.
#[test]
fn emails_without_a_common_template_are_each_kept() {
    let mut org = small(
        &[("ou-d", "Dev")],
        &[("lumo-dev", "ou-d"), ("retail-dev", "ou-d")],
    );
    for (a, email) in org.accounts.iter_mut().zip([
        "secops@corp.example",
        "logs@other.example",
        "lumo.dev@corp.example",
        "retail-dev@retail-dev.example",
    ]) {
        a.email = email.into();
    }
    let adoption = describe(&org, &options()).unwrap();
    assert!(
        !adoption.yaml.contains("most accounts follow it"),
        "{}",
        adoption.yaml
    );
    let bp = Blueprint::parse("corp.yaml", &adoption.yaml).unwrap();
    let planned = crate::desired::accounts(&bp);
    for a in &org.accounts {
        let p = planned.iter().find(|p| p.name == a.name).unwrap();
        assert_eq!(p.email, a.email, "{}", a.name);
    }
}

/// Organizations allows any character in a name: a line break stays inside its comment.
#[test]
fn a_line_break_in_a_name_stays_in_its_comment() {
    let mut org = small(&[], &[]);
    org.nested_units.push("Legacy\nstuff: 1 (in Old)".into());
    let adoption = describe(&org, &options()).unwrap();
    assert!(
        adoption
            .yaml
            .contains("# - unit `Legacy\\nstuff: 1 (in Old)`: nested"),
        "{}",
        adoption.yaml
    );
    Blueprint::parse("corp.yaml", &adoption.yaml).unwrap();
}

/// A core account in a nested unit is said to be there, and to be moved.
#[test]
fn a_core_account_in_a_nested_unit_is_said_to_be_moved() {
    let mut org = small(&[], &[]);
    org.accounts[0].place = Place::Nested;
    let adoption = describe(&org, &options()).unwrap();
    assert!(
        adoption
            .yaml
            .contains("# 200000000000: in a nested unit now; apply moves it to `Security`"),
        "{}",
        adoption.yaml
    );
}

#[test]
fn a_name_or_region_no_blueprint_may_hold_is_refused_before_reading() {
    let mut bad = options();
    bad.name = "Corp".into();
    assert_eq!(bad.check(), Err(AdoptError::InvalidName("Corp".into())));
    for (region, why) in [
        ("mars-1", "not an AWS region name"),
        ("EU-WEST-3", "not an AWS region name"),
        (
            "cn-north-1",
            "in AWS partition `aws-cn`, and lz writes ARNs for the `aws` partition only",
        ),
    ] {
        let mut bad = options();
        bad.home_region = region.into();
        assert_eq!(
            bad.check().unwrap_err().to_string(),
            format!("the home region `{region}` is {why}: pass --home-region, such as eu-west-3")
        );
    }
    assert_eq!(options().check(), Ok(()));
}

/// Units not named for their environments: `lumo-pre-prod` beside `lumo-prod` is `lumo`'s
/// `pre-prod`, whichever unit comes first, and in one unit too.
#[test]
fn a_customer_with_other_accounts_reads_the_longer_environment() {
    for units in [
        [("ou-s", "Staging"), ("ou-l", "Live")],
        [("ou-l", "Live"), ("ou-s", "Staging")],
    ] {
        let org = small(
            &units,
            &[
                ("lumo-pre-prod", "ou-s"),
                ("retail-pre-prod", "ou-s"),
                ("lumo-prod", "ou-l"),
                ("retail-prod", "ou-l"),
            ],
        );
        let adoption = describe(&org, &options()).unwrap();
        let (mut envs, customers) = shape(&adoption);
        envs.sort();
        assert_eq!(envs, pairs(&[("pre-prod", "Staging"), ("prod", "Live")]));
        assert_eq!(customers.len(), 2, "{customers:?}");
        assert!(adoption.left_out.is_empty(), "{:?}", adoption.left_out);
    }
    let org = small(
        &[("ou-w", "Workloads")],
        &[
            ("lumo-prod", "ou-w"),
            ("retail-prod", "ou-w"),
            ("lumo-pre-prod", "ou-w"),
            ("retail-pre-prod", "ou-w"),
            ("lumo-preprod", "ou-w"),
        ],
    );
    let adoption = describe(&org, &options()).unwrap();
    let (envs, customers) = shape(&adoption);
    assert_eq!(
        envs,
        pairs(&[
            ("pre-prod", "Workloads"),
            ("preprod", "Workloads"),
            ("prod", "Workloads")
        ])
    );
    assert_eq!(
        customers[0],
        (
            "lumo".into(),
            vec!["pre-prod".into(), "preprod".into(), "prod".into()]
        )
    );
    // A customer's name may hold a hyphen: the shorter environment wins a tie.
    let org = small(
        &[("ou-d", "Dev"), ("ou-p", "Prod")],
        &[("big-co-dev", "ou-d"), ("big-co-prod", "ou-p")],
    );
    let (_, customers) = shape(&describe(&org, &options()).unwrap());
    assert_eq!(customers[0].0, "big-co");
}

/// A customer's unit (`Lumo`: `lumo-dev`, `lumo-prod`), or a second environment with one
/// account whose customer has others: each is an environment.
#[test]
fn an_environment_of_one_account_is_kept_when_its_customer_has_others() {
    let org = small(
        &[("ou-w", "Workloads")],
        &[
            ("lumo-dev", "ou-w"),
            ("retail-dev", "ou-w"),
            ("lumo-prod", "ou-w"),
        ],
    );
    let adoption = describe(&org, &options()).unwrap();
    let (envs, _) = shape(&adoption);
    assert_eq!(envs, pairs(&[("dev", "Workloads"), ("prod", "Workloads")]));
    assert!(adoption.left_out.is_empty(), "{:?}", adoption.left_out);
    let org = small(
        &[("ou-l", "Lumo")],
        &[("lumo-dev", "ou-l"), ("lumo-prod", "ou-l")],
    );
    let (envs, _) = shape(&describe(&org, &options()).unwrap());
    assert_eq!(envs, pairs(&[("dev", "Lumo"), ("prod", "Lumo")]));
}

/// A second log-archive account, when another was chosen, is left out as such, not read as
/// customer `log`'s environment `archive`.
#[test]
fn a_second_log_archive_account_is_left_out_as_such() {
    let mut org = small(&[("ou-logs", "Logs")], &[("lumo-dev", "ou-sec")]);
    org.accounts.push(account(
        "300000000000",
        "Log Archive",
        "logs@corp.example",
        unit("ou-logs"),
    ));
    let mut named = options();
    named.log_archive = Some("log archive".into());
    let adoption = describe(&org, &named).unwrap();
    let (envs, customers) = shape(&adoption);
    assert_eq!(envs, pairs(&[("dev", "Security")]));
    assert_eq!(customers, [("lumo".to_owned(), vec!["dev".to_owned()])]);
    assert_eq!(
        adoption.left_out,
        [
            "account `log-archive` (200000000001) in unit `Security`: named like a core account, but another was chosen"
        ]
    );
}
