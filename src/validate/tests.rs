//! One test per check, each asserting the exact message and where it points.

use super::*;

/// A small valid blueprint; tests change one thing in it.
const BASE: &str = r#"version: 1
name: acme
home_region: eu-west-3
organization:
  email: "aws+{account}@acme.example"
accounts:
  security: { name: security }
  log_archive: { name: log-archive }
environments:
  dev: { ou: Dev }
  prod: { ou: Prod }
customers:
  lumo: { environments: [dev, prod] }
role_tiers:
  tinker: { environments: [dev] }
audit_log:
  retention_days: 400
"#;

/// The problems of `text` as `LINE:COLUMN: path: message` lines (hints on their own line).
fn problems(text: &str) -> Vec<String> {
    match Blueprint::parse("bp.yaml", text) {
        Ok(_) => Vec::new(),
        Err(invalid) => invalid
            .diagnostics
            .iter()
            .map(|d| {
                let path = if d.path.is_empty() {
                    String::new()
                } else {
                    format!("{}: ", d.path)
                };
                let hint = d
                    .hint
                    .as_ref()
                    .map(|h| format!(" (hint: {h})"))
                    .unwrap_or_default();
                format!("{}: {path}{}{hint}", d.pos, d.message)
            })
            .collect(),
    }
}

fn with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE has no {from:?}");
    BASE.replacen(from, to, 1)
}

#[test]
fn the_base_is_valid() {
    assert_eq!(problems(BASE), Vec::<String>::new());
}

#[test]
fn yaml_syntax_error_is_reported_alone() {
    let text = with("  dev: { ou: Dev }", "  dev: { ou: Dev");
    assert_eq!(
        problems(&text),
        ["11:7: YAML syntax error: while parsing a flow mapping, did not find expected ',' or '}'"]
    );
}

#[test]
fn unknown_key_points_at_the_key_and_suggests() {
    let text = with(
        "  tinker: { environments: [dev] }",
        "  tinker: { enviroments: [dev] }",
    );
    assert_eq!(
        problems(&text),
        [
            "15:13: role_tiers.tinker.enviroments: unknown field `enviroments` (hint: did you mean `environments`?)"
        ]
    );
}

#[test]
fn unknown_top_level_key_lists_the_known_ones_when_nothing_is_close() {
    let text = format!("{BASE}frobnicate: true\n");
    let found = problems(&text);
    assert_eq!(found.len(), 1);
    assert!(
        found[0].starts_with("18:1: frobnicate: unknown field `frobnicate` (hint: expected one of: `version`, `name`,"),
        "{found:?}"
    );
}

#[test]
fn wrong_type_points_at_the_value() {
    let text = with("retention_days: 400", "retention_days: forever");
    assert_eq!(
        problems(&text),
        ["17:19: audit_log.retention_days: expected a whole number, found `forever`"]
    );
}

#[test]
fn wrong_type_in_a_list_or_keyword_field() {
    let text = with(
        "tinker: { environments: [dev] }",
        "tinker: { environments: 5 }",
    );
    assert_eq!(
        problems(&text),
        ["15:27: role_tiers.tinker.environments: expected `all` or a list of strings, found `5`"]
    );
}

#[test]
fn an_item_of_the_wrong_type_inside_a_list() {
    let text = with(
        "tinker: { environments: [dev] }",
        "tinker: { environments: [dev, 7] }",
    );
    assert_eq!(
        problems(&text),
        ["15:33: role_tiers.tinker.environments[1]: expected a string, found `7`"]
    );
}

#[test]
fn value_outside_an_enumeration() {
    let text = with(
        "  tinker: { environments: [dev] }",
        "  tinker: { mfa: sometimes }",
    );
    assert_eq!(
        problems(&text),
        ["15:18: role_tiers.tinker.mfa: expected `required` or `optional`, found `sometimes`"]
    );
}

#[test]
fn missing_required_field_points_at_its_mapping() {
    let text = with("  email: \"aws+{account}@acme.example\"\n", "  tags: {}\n");
    assert_eq!(
        problems(&text),
        ["4:1: organization.email: missing required field `email`"]
    );
}

#[test]
fn unsupported_version() {
    let text = with("version: 1", "version: 2");
    assert_eq!(
        problems(&text),
        ["1:10: version: unsupported blueprint version 2 (hint: this build of lz reads version 1)"]
    );
}

#[test]
fn undefined_environment_of_a_customer() {
    let text = with("environments: [dev, prod] }", "environments: [dev, prd] }");
    assert_eq!(
        problems(&text),
        [
            "13:31: customers.lumo.environments[1]: environment `prd` is not defined (hint: did you mean `prod`?)"
        ]
    );
}

#[test]
fn undefined_environment_of_a_tier() {
    let text = with(
        "tinker: { environments: [dev] }",
        "tinker: { environments: [qa] }",
    );
    assert_eq!(
        problems(&text),
        [
            "15:28: role_tiers.tinker.environments[0]: environment `qa` is not defined (hint: expected one of: `dev`, `prod`)"
        ]
    );
}

#[test]
fn duplicate_account_names() {
    // `lumo-dev` as a customer name in `prod`... is `lumo-dev-prod`; collide with a core name.
    let text = with(
        "security: { name: security }",
        "security: { name: lumo-dev }",
    );
    assert_eq!(
        problems(&text),
        [
            "13:26: customers.lumo.environments[0]: account name `lumo-dev` is already used by accounts.security.name (hint: every account needs its own name; rename a customer or environment)"
        ]
    );
}

#[test]
fn duplicate_emails_after_expansion() {
    let text = with(
        "log_archive: { name: log-archive }",
        "log_archive: { name: log-archive, email: \"AWS+security@acme.example\" }",
    );
    assert_eq!(
        problems(&text),
        [
            "8:44: accounts.log_archive.email: account `log-archive` gets the email `AWS+security@acme.example`, already given to account `security` (hint: AWS refuses two accounts with one email (emails compare case-insensitively))"
        ]
    );
}

#[test]
fn email_template_without_placeholder() {
    let text = with("\"aws+{account}@acme.example\"", "\"aws@acme.example\"");
    assert_eq!(
        problems(&text),
        [
            "5:10: organization.email: the email template `aws@acme.example` has no `{account}` (hint: every account needs its own email, e.g. aws+{account}@example.com)"
        ]
    );
}

#[test]
fn email_template_that_is_not_an_email() {
    let text = with(
        "\"aws+{account}@acme.example\"",
        "\"aws+{account}.acme.example\"",
    );
    assert_eq!(
        problems(&text),
        [
            "5:10: organization.email: the email template does not make an email: `aws+account.acme.example` is not an email address"
        ]
    );
}

#[test]
fn account_name_too_long() {
    let long = "s".repeat(51);
    let text = with(
        "security: { name: security }",
        &format!("security: {{ name: {long} }}"),
    );
    assert_eq!(
        problems(&text),
        [format!(
            "7:21: accounts.security.name: account name `{long}` has 51 characters; AWS accepts 1 to 50"
        )]
    );
}

#[test]
fn account_name_with_characters_aws_refuses() {
    let text = with(
        "security: { name: security }",
        "security: { name: sécurité }",
    );
    assert_eq!(
        problems(&text),
        [
            "7:21: accounts.security.name: account name `sécurité` contains `é`; AWS accepts printable ASCII characters only"
        ]
    );
}

#[test]
fn role_name_iam_refuses() {
    let text = with(
        "tinker: { environments: [dev] }",
        "tinker: { role_name: \"lz tinker\" }",
    );
    assert_eq!(
        problems(&text),
        [
            "15:24: role_tiers.tinker.role_name: IAM name `lz tinker` contains ` `; IAM accepts letters, digits and _+=,.@-"
        ]
    );
}

#[test]
fn role_name_too_long() {
    let long = "r".repeat(65);
    let text = with(
        "tinker: { environments: [dev] }",
        &format!("tinker: {{ role_name: {long} }}"),
    );
    assert_eq!(
        problems(&text),
        [format!(
            "15:24: role_tiers.tinker.role_name: IAM name `{long}` has 65 characters; IAM accepts 1 to 64"
        )]
    );
}

#[test]
fn iam_path_iam_refuses() {
    let text = with(
        "  email: \"aws+{account}@acme.example\"\n",
        "  email: \"aws+{account}@acme.example\"\n  iam_path: landing-zone\n",
    );
    assert_eq!(
        problems(&text),
        [
            "6:13: organization.iam_path: IAM path `landing-zone` is not valid; it must start and end with `/` and hold printable ASCII without spaces"
        ]
    );
}

#[test]
fn bucket_name_s3_refuses() {
    let text = with(
        "  retention_days: 400\n",
        "  retention_days: 400\n  bucket_name: Acme_Audit\n",
    );
    assert_eq!(
        problems(&text),
        [
            "18:16: audit_log.bucket_name: bucket name `Acme_Audit` contains `A`; S3 accepts lowercase letters, digits, `.` and `-` (hint: the audit buckets are named from this; S3 names are 3-63 lowercase letters, digits, `.` and `-`)"
        ]
    );
}

#[test]
fn bucket_name_shaped_like_an_ip_address() {
    let text = with(
        "  retention_days: 400\n",
        "  retention_days: 400\n  bucket_name: 10.1.2.3\n",
    );
    let found = problems(&text);
    assert_eq!(found.len(), 1);
    assert!(
        found[0].starts_with(
            "18:16: audit_log.bucket_name: bucket name `10.1.2.3` is shaped like an IP address"
        ),
        "{found:?}"
    );
}

#[test]
fn tier_restricted_to_environments_no_account_has() {
    let text = with(
        "  prod: { ou: Prod }\n",
        "  prod: { ou: Prod }\n  qa: { ou: QA }\n",
    )
    .replace(
        "tinker: { environments: [dev] }",
        "tinker: { environments: [qa] }",
    );
    assert_eq!(
        problems(&text),
        [
            "16:27: role_tiers.tinker.environments: tier `tinker` is restricted to `qa`, which no customer has (hint: give a customer one of these environments, or widen the tier)"
        ]
    );
}

#[test]
fn max_session_unparsable() {
    let text = with(
        "tinker: { environments: [dev] }",
        "tinker: { max_session: soon }",
    );
    assert_eq!(
        problems(&text),
        [
            "15:26: role_tiers.tinker.max_session: `soon` is not a duration (hint: write it like 1h, 90m or 2h30m)"
        ]
    );
}

#[test]
fn max_session_out_of_range() {
    let text = with(
        "tinker: { environments: [dev] }",
        "tinker: { max_session: 30m }",
    );
    assert_eq!(
        problems(&text),
        [
            "15:26: role_tiers.tinker.max_session: max_session must be between 1h and 12h, found `30m`"
        ]
    );
    let text = with(
        "tinker: { environments: [dev] }",
        "tinker: { max_session: 13h }",
    );
    assert_eq!(
        problems(&text),
        [
            "15:26: role_tiers.tinker.max_session: max_session must be between 1h and 12h, found `13h`"
        ]
    );
}

#[test]
fn retention_days_below_one() {
    let text = with("retention_days: 400", "retention_days: 0");
    assert_eq!(
        problems(&text),
        ["17:19: audit_log.retention_days: retention_days must be at least 1, found 0"]
    );
}

#[test]
fn object_lock_longer_than_retention() {
    let text = with(
        "  retention_days: 400\n",
        "  retention_days: 400\n  object_lock: compliance\n  object_lock_days: 500\n",
    );
    assert_eq!(
        problems(&text),
        [
            "19:21: audit_log.object_lock_days: the object lock retention (500 days) is longer than the lifecycle retention (400 days) (hint: locked objects could not expire; shorten the lock or lengthen retention_days)"
        ]
    );
}

/// lz writes `arn:aws:` ARNs: a home region in China, GovCloud, the European Sovereign Cloud
/// or an isolated partition is refused at the field, before anything is planned.
#[test]
fn region_of_another_partition() {
    for (region, partition) in [
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("eusc-de-east-1", "aws-eusc"),
        ("us-isob-east-1", "aws-iso-b"),
    ] {
        let text = with("home_region: eu-west-3", &format!("home_region: {region}"));
        assert_eq!(
            problems(&text),
            [format!(
                "3:14: home_region: `{region}` is in AWS partition `{partition}`, and lz writes ARNs for the `aws` partition only (hint: write a region of the commercial partition, such as eu-west-3 or us-east-1)"
            )]
        );
    }
    for region in [
        "us-east-1",
        "eu-west-3",
        "ap-southeast-5",
        "il-central-1",
        "mx-central-1",
    ] {
        assert_eq!(partition_of(region), "aws", "{region}");
    }
}

#[test]
fn region_that_is_not_a_region_name() {
    let text = with("home_region: eu-west-3", "home_region: europe");
    assert_eq!(
        problems(&text),
        [
            "3:14: home_region: `europe` is not an AWS region name (hint: write a region such as eu-west-3 or us-east-1)"
        ]
    );
}

#[test]
fn admin_tier_without_mfa() {
    let text = with(
        "tinker: { environments: [dev] }",
        "settler: { mfa: optional }",
    );
    assert_eq!(
        problems(&text),
        [
            "15:19: role_tiers.settler.mfa: tier `settler` would void its guarantee: it must hold that it reaches no administrator when entered without MFA, but a member of group lz-settler (security account) assumes role /landing-zone/lz-settler; role /landing-zone/lz-settler is an administrator (hint: administrator tiers need `mfa: required`)"
        ]
    );
}

/// Refusals decided by evaluating the documents: each names the tier's field and the first
/// step of how the guarantee would break.
#[test]
fn tier_policies_that_void_a_guarantee_are_refused() {
    let cases = [
        (
            "keeper: { managed_policies: [arn:aws:iam::aws:policy/IAMFullAccess] }",
            "15:31: role_tiers.keeper.managed_policies: tier `keeper` would void its guarantee: it must hold that it reaches no administrator, but role /landing-zone/lz-keeper ",
        ),
        (
            "watcher: { managed_policies: [arn:aws:iam::aws:policy/PowerUserAccess] }",
            "15:32: role_tiers.watcher.managed_policies: tier `watcher` would void its guarantee: it must hold that it reaches no administrator, but role /landing-zone/lz-watcher assumes an administrator role someone else made",
        ),
        (
            "tinker: { managed_policies: [arn:aws:iam::aws:policy/AdministratorAccess] }",
            "15:31: role_tiers.tinker.managed_policies: tier `tinker` would void its guarantee: it must hold that it reaches no administrator, but role /landing-zone/lz-tinker ",
        ),
    ];
    for (tier, expected) in cases {
        let found = problems(&with("tinker: { environments: [dev] }", tier));
        assert_eq!(found.len(), 1, "{tier}: {found:#?}");
        assert!(found[0].starts_with(expected), "{tier}: {}", found[0]);
    }
    // Read-only policies on the read-only tier, and policies lz does not know, pass: only
    // what the evaluation proves is refused.
    for fine in [
        "watcher: { managed_policies: [arn:aws:iam::aws:policy/job-function/ViewOnlyAccess] }",
        "keeper: { managed_policies: [arn:aws:iam::111122223333:policy/custom] }",
    ] {
        assert_eq!(
            problems(&with("tinker: { environments: [dev] }", fine)),
            Vec::<String>::new(),
            "{fine}"
        );
    }
}

#[test]
fn reserved_tags() {
    let text = with(
        "lumo: { environments: [dev, prod] }",
        "lumo: { environments: [dev, prod], tags: { managed-by: me } }",
    );
    assert_eq!(
        problems(&text),
        [
            "13:46: customers.lumo.tags.managed-by: tag `managed-by` is set by lz itself (hint: lz uses it to know what it owns; remove it here)"
        ]
    );
}

#[test]
fn twelve_mistakes_make_twelve_problems_in_file_order() {
    let text = r#"version: 3
name: Acme
home_region: mars-1
organization:
  email: "aws@acme.example"
  colour: blue
accounts:
  security: { name: security }
  log_archive: { name: sécurité }
environments:
  dev: { ou: Dev }
customers:
  lumo: { environments: [dev, prod, dev] }
role_tiers:
  tinker: { environments: [qa], max_session: 20h }
audit_log:
  retention_days: 0
  object_lock: maybe
"#;
    let found = problems(text);
    let expected = [
        "1:10: version: unsupported blueprint version 3",
        "2:7: name: `Acme` is not a valid landing zone name",
        "3:14: home_region: `mars-1` is not an AWS region name",
        "5:10: organization.email: the email template `aws@acme.example` has no `{account}`",
        "6:3: organization.colour: unknown field `colour`",
        "9:24: accounts.log_archive.name: account name `sécurité` contains `é`",
        "13:31: customers.lumo.environments[1]: environment `prod` is not defined",
        "13:37: customers.lumo.environments[2]: environment `dev` is listed twice",
        "15:28: role_tiers.tinker.environments[0]: environment `qa` is not defined",
        "15:46: role_tiers.tinker.max_session: max_session must be between 1h and 12h",
        "17:19: audit_log.retention_days: retention_days must be at least 1, found 0",
        "18:16: audit_log.object_lock: expected `off`, `governance` or `compliance`, found `maybe`",
    ];
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for (line, want) in found.iter().zip(expected) {
        assert!(
            line.starts_with(want),
            "{line:?} should start with {want:?}"
        );
    }
}

#[test]
fn the_display_is_one_line_per_problem_with_the_file() {
    let text = with("version: 1", "version: 2");
    let invalid = Blueprint::parse("blueprints/bad.yaml", &text).unwrap_err();
    assert_eq!(
        invalid.to_string(),
        "blueprints/bad.yaml:1:10: version: unsupported blueprint version 2\n  hint: this build of lz reads version 1"
    );
    assert_eq!(invalid.reports().len(), 1);
}

#[test]
fn the_schema_and_the_types_agree_on_the_shipped_blueprints() {
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/blueprints")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // Both the schema check and serde accept it, and nothing else is reported.
        let (value, _) = crate::yaml::read(&text).unwrap();
        assert!(
            structure::check(&value).problems.is_empty(),
            "{}",
            path.display()
        );
        if let Err(e) = Blueprint::parse(&path, &text) {
            panic!("{e}");
        }
    }
}

#[test]
fn every_schema_property_is_a_field_serde_knows() {
    // A blueprint that sets every optional field once: the schema accepts it and so does serde.
    let full = r#"version: 1
name: full
home_region: us-east-1
organization:
  email: "aws+{account}@full.example"
  access_role: OrganizationAccountAccessRole
  iam_path: /lz/
  tags: { a: b }
accounts:
  security: { name: sec, ou: Core, email: sec@full.example, tags: { c: d } }
  log_archive: { name: logs, ou: Core }
environments:
  dev: { ou: Dev }
customers:
  x: { environments: [dev], tags: { e: f } }
role_tiers:
  watcher: { enabled: true, environments: all, managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess], mfa: optional, max_session: 2h, role_name: lz-watch }
  tinker: { environments: [dev] }
  keeper: { enabled: false }
  settler: { mfa: required }
  break_glass: { enabled: true, max_session: 1h }
audit_log:
  retention_days: 30
  object_lock: compliance
  object_lock_days: 10
  key_alias: full-audit
  bucket_name: full-audit-bucket
allow_delete: [organizational_units, roles, groups]
"#;
    let (value, _) = crate::yaml::read(full).unwrap();
    assert!(structure::check(&value).problems.is_empty());
    let bp = Blueprint::parse("full.yaml", full).unwrap();
    assert_eq!(bp.role_tiers.watcher.role_name.as_deref(), Some("lz-watch"));
    assert_eq!(bp.audit_log.object_lock_days, Some(10));
}

mod quotas {
    //! AWS's quotas, measured before any AWS call.

    use super::*;

    fn base() -> String {
        BASE.to_owned()
    }

    fn problems(text: &str) -> Vec<String> {
        match Blueprint::parse("q.yaml", text) {
            Ok(_) => Vec::new(),
            Err(invalid) => invalid
                .diagnostics
                .iter()
                .map(|d| format!("{}: {}", d.path, d.message))
                .collect(),
        }
    }

    fn with_tier_policies(n: usize) -> String {
        let arns: Vec<String> = (0..n)
            .map(|i| format!("\"arn:aws:iam::aws:policy/P{i}\""))
            .collect();
        base().replace(
            "role_tiers:",
            &format!(
                "role_tiers:\n  watcher: {{ managed_policies: [{}] }}",
                arns.join(", ")
            ),
        )
    }

    #[test]
    fn eleven_managed_policies_on_a_tier_are_refused_where_they_are_written() {
        assert!(problems(&with_tier_policies(10)).is_empty());
        let found = problems(&with_tier_policies(11));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("role_tiers.watcher.managed_policies: role `lz-watcher` would exceed AWS's quota on managed policies attached to a role: 11, where 10 is allowed"),
            "{found:?}"
        );
    }

    #[test]
    fn a_declared_raise_lifts_the_limit_only_as_far_as_aws_grants() {
        let raised = with_tier_policies(11) + "quotas: { managed_policies_per_role: 20 }\n";
        assert!(problems(&raised).is_empty(), "{:?}", problems(&raised));
        let beyond = base() + "quotas: { managed_policies_per_role: 30 }\n";
        assert_eq!(
            problems(&beyond),
            [
                "quotas.managed_policies_per_role: managed_policies_per_role can be raised from 10 to at most 25, not 30"
            ]
        );
        let hard = base() + "quotas: { group_inline_policy_size: 6000 }\n";
        assert_eq!(
            problems(&hard),
            [
                "quotas.group_inline_policy_size: group_inline_policy_size is a hard limit of 5120; AWS does not raise it"
            ]
        );
    }

    #[test]
    fn more_accounts_than_the_organization_allows_is_refused_at_customers() {
        let mut text = base();
        for n in 0..4 {
            text = text.replace(
                "customers:",
                &format!("customers:\n  extra{n}: {{ environments: [dev, prod] }}"),
            );
        }
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("customers: the organization would exceed AWS's quota on accounts in an organization, the management account included: 13, where 10 is allowed"),
            "{found:?}"
        );
    }

    /// 1,700 customers in three environments: 5,102 accounts, every document within its quota.
    #[test]
    fn a_five_thousand_account_blueprint_is_within_every_quota() {
        let mut text = String::from(
            "version: 1\nname: huge\nhome_region: eu-west-3\norganization: { email: \"aws+{account}@huge.example\" }\naccounts:\n  security: { name: security }\n  log_archive: { name: log-archive }\nenvironments: { dev: { ou: Dev }, preprod: { ou: PreProd }, prod: { ou: Prod } }\nquotas: { accounts_per_organization: 6000 }\ncustomers:\n",
        );
        for n in 0..1_700 {
            text.push_str(&format!(
                "  c{n:04}: {{ environments: [dev, preprod, prod] }}\n"
            ));
        }
        let found = problems(&text);
        assert!(found.is_empty(), "{found:?}");
    }
}

#[test]
fn a_huge_value_is_quoted_short() {
    let huge = "x".repeat(100_000);
    let text = BASE.replace("home_region: eu-west-3", &format!("home_region: {huge}"));
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].len() < 400, "{}", found[0].len());
    assert!(found[0].contains("xxx…`"), "{}", found[0]);
}

/// Hostile input ends with one clear error, quickly: deep nesting, an alias bomb, a 10 MB
/// file.
#[test]
fn hostile_documents_end_with_one_clear_error() {
    let deep = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let nested: String = (0..3_000)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    let mut bomb = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    let mut previous = 'a';
    for c in "bcdefghi".chars() {
        let refs = vec![format!("*{previous}"); 9].join(", ");
        bomb.push_str(&format!("{c}: &{c} [{refs}]\n"));
        previous = c;
    }
    let huge = format!("{BASE}# {}\n", "x".repeat(10_000_000));
    for (name, text, expected) in [
        ("deep", deep.as_str(), "nests too deeply"),
        ("nested", nested.as_str(), "nests deeper than"),
        ("bomb", bomb.as_str(), "expands to more than"),
    ] {
        let found = problems(text);
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        assert!(found[0].contains(expected), "{name}: {}", found[0]);
        assert!(found[0].len() < 200, "{name}: {}", found[0]);
    }
    // Ten megabytes of comment around a valid blueprint: read, and valid.
    assert!(problems(&huge).is_empty());
}

#[test]
fn a_file_that_is_not_utf8_is_one_clear_error() {
    let file = std::env::temp_dir().join(format!("lz-not-utf8-{}.yaml", std::process::id()));
    std::fs::write(&file, b"version: 1\nname: \xff\xfe\n").unwrap();
    let error = crate::discover::chain(&Blueprint::load(&file).unwrap_err());
    assert!(error.contains("UTF-8"), "{error}");
    assert!(!error.contains('\n'), "{error}");
}

mod mutated {
    //! Blueprints mutated at random: reading them never panics, every problem carries a
    //! location, and whatever reads as valid expands and plans.

    use proptest::prelude::*;

    use super::*;

    /// One edit of a line: dropped, doubled, a character put in, or its value replaced.
    #[derive(Debug, Clone)]
    enum Edit {
        Drop(usize),
        Double(usize),
        Insert(usize, usize, char),
        Value(usize, String),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        let junk = prop::sample::select(vec![
            ':',
            '-',
            '[',
            ']',
            '{',
            '}',
            '&',
            '*',
            '!',
            '#',
            '"',
            '\'',
            ' ',
            '\t',
            'a',
            '0',
            '\u{e9}',
            '\u{1F600}',
        ]);
        prop_oneof![
            (0..64usize).prop_map(Edit::Drop),
            (0..64usize).prop_map(Edit::Double),
            (0..64usize, 0..80usize, junk).prop_map(|(l, c, ch)| Edit::Insert(l, c, ch)),
            (0..64usize, "[ -~]{0,40}").prop_map(|(l, v)| Edit::Value(l, v)),
        ]
    }

    fn apply(text: &str, edits: &[Edit]) -> String {
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        for edit in edits {
            let n = lines.len().max(1);
            match edit {
                Edit::Drop(l) if !lines.is_empty() => {
                    lines.remove(l % n);
                }
                Edit::Double(l) if !lines.is_empty() => {
                    let line = lines[l % n].clone();
                    lines.insert(l % n, line);
                }
                Edit::Insert(l, c, ch) if !lines.is_empty() => {
                    let line = &mut lines[l % n];
                    let at = line.char_indices().nth(c % (line.chars().count() + 1));
                    let at = at.map_or(line.len(), |(i, _)| i);
                    line.insert(at, *ch);
                }
                Edit::Value(l, v) if !lines.is_empty() => {
                    let line = &mut lines[l % n];
                    if let Some((key, _)) = line.split_once(": ") {
                        *line = format!("{key}: {v}");
                    }
                }
                _ => {}
            }
        }
        lines.join("\n") + "\n"
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("LZ_PROPTEST_CASES")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(10_000),
            ..ProptestConfig::default()
        })]

        #[test]
        fn a_mutated_blueprint_is_read_or_refused_with_locations(
            edits in prop::collection::vec(edit(), 1..4)
        ) {
            let text = apply(BASE, &edits);
            match Blueprint::parse("m.yaml", &text) {
                Ok(blueprint) => {
                    let desired = crate::expand(&blueprint, &Default::default());
                    let plan = crate::plan(&desired, &crate::Actual::empty());
                    prop_assert!(plan.has_changes());
                }
                Err(invalid) => {
                    prop_assert!(!invalid.diagnostics.is_empty());
                    for d in &invalid.diagnostics {
                        prop_assert!(d.pos.line >= 1, "{d:?}");
                        prop_assert!(!d.message.is_empty(), "{d:?}");
                        prop_assert!(!d.message.contains('\n'), "{d:?}");
                    }
                }
            }
        }
    }
}

/// Found by `cargo fuzz`: a plain scalar across carriage returns was quoted with its line
/// breaks, so the message took several lines.
#[test]
fn a_value_spanning_line_breaks_is_quoted_on_one_line() {
    let text = format!("# a\\: b # {}z{}norlat wr", "\r".repeat(93), "\r".repeat(6));
    let invalid = Blueprint::parse("crash.yaml", &text).unwrap_err();
    assert!(!invalid.diagnostics.is_empty());
    for d in &invalid.diagnostics {
        assert!(!d.message.contains(['\n', '\r']), "{d:?}");
        assert!(d.message.contains("z\\n"), "{d:?}");
    }
    // The same with a backtick inside the value, which once threw the quoting off.
    let text = format!(
        "# a\\: b # \r\rNULL{}`{}delta",
        "\r".repeat(20),
        "\r".repeat(20)
    );
    let invalid = Blueprint::parse("crash.yaml", &text).unwrap_err();
    for d in &invalid.diagnostics {
        assert!(!d.message.contains(['\n', '\r']), "{d:?}");
    }
}

/// A directory of its own under the system's temporary directory, holding `files`; the
/// blueprint `text` is parsed as if it were `bp.yaml` in it. Returns the problems, each
/// prefixed with its file's name.
fn problems_with_files(test: &str, text: &str, files: &[(&str, &str)]) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("lz-validate-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, content) in files {
        std::fs::write(dir.join(name), content).unwrap();
    }
    let result = Blueprint::parse(dir.join("bp.yaml"), text);
    std::fs::remove_dir_all(&dir).unwrap();
    match result {
        Ok(bp) => {
            assert!(bp.guardrails.policies.iter().all(|p| p.document.is_some()));
            Vec::new()
        }
        Err(invalid) => invalid
            .to_string()
            .lines()
            .filter(|l| !l.starts_with("  hint"))
            .map(|l| l.replace(&format!("{}/", dir.display()), ""))
            .collect(),
    }
}

const OWN: &str = "\
guardrails:
  regions: { allowed: [eu-west-3, eu-central-1], environments: [prod] }
  policies:
    - name: no-gpu
      type: service_control
      file: no-gpu.json
      attach: { environments: [dev], accounts: [lumo-prod] }
";

#[test]
fn a_guardrail_file_is_read_relative_to_the_blueprint_and_attached() {
    let text = format!("{BASE}{OWN}");
    let file = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoGpu","Effect":"Deny","Action":"ec2:RunInstances","Resource":"arn:aws:ec2:*:*:instance/*","Condition":{"StringLike":{"ec2:InstanceType":"p*"}}}]}"#;
    assert_eq!(
        problems_with_files("read", &text, &[("no-gpu.json", file)]),
        Vec::<String>::new()
    );
    let dir = std::env::temp_dir().join(format!("lz-validate-{}-expand", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("no-gpu.json"), file).unwrap();
    let bp = Blueprint::parse(dir.join("bp.yaml"), &text).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    // A saved plan's copy of the blueprint keeps the document that was reviewed.
    let saved: Blueprint = serde_json::from_str(&serde_json::to_string(&bp).unwrap()).unwrap();
    assert_eq!(saved, bp);
    assert!(saved.guardrails.policies[0].document.is_some());
    // A blueprint cannot set the document itself.
    let inline = text.replace("file: no-gpu.json", "file: no-gpu.json\n      document: {}");
    assert_eq!(
        problems(&inline),
        [
            "24:7: guardrails.policies[0].document: unknown field `document` (hint: expected one of: `name`, `type`, `file`, `attach`)"
        ]
    );
    let desired = crate::desired::expand(&bp, &crate::desired::Known::default());
    let spec = |address: &str| match desired
        .get(&crate::desired::Address::org_policy(
            crate::kinds::organizations_policy::OrgPolicyType::ServiceControlPolicy,
            address,
        ))
        .map(|r| r.spec.as_ref())
    {
        Some(crate::desired::Spec::OrganizationsPolicy(p)) => p.clone(),
        other => panic!("{address}: {other:?}"),
    };
    assert_eq!(
        spec("no-gpu").targets,
        [
            "(known after apply: account.lumo-prod)",
            "(known after apply: ou.Dev)"
        ]
    );
    assert_eq!(
        spec("lz-acme-regions").targets,
        ["(known after apply: ou.Prod)"]
    );
}

#[test]
fn a_broken_guardrail_file_is_reported_in_it_at_its_line_and_column() {
    let text = format!("{BASE}{OWN}");
    let broken = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Deny\" \"Action\": \"*\"}\n  ]\n}\n";
    assert_eq!(
        problems_with_files("syntax", &text, &[("no-gpu.json", broken)]),
        ["no-gpu.json:4:23: not an IAM policy document: expected `,` or `}`"]
    );
    let principal = "{\"Statement\": [\n  {\"Effect\": \"Deny\", \"Action\": \"*\", \"Resource\": \"*\"},\n  {\"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": \"*\", \"Resource\": \"*\"}\n]}";
    assert_eq!(
        problems_with_files("principal", &text, &[("no-gpu.json", principal)]),
        [
            "no-gpu.json:3:3: Statement[1]: a service control policy's statement names no `Principal`"
        ]
    );
    let missing = problems_with_files("missing", &text, &[]);
    assert_eq!(missing.len(), 1);
    assert!(
        missing[0]
            .starts_with("bp.yaml:23:13: guardrails.policies[0].file: cannot read `no-gpu.json`: "),
        "{missing:?}"
    );
}

#[test]
fn a_guardrail_that_would_lock_lz_out_is_refused_where_it_is_named() {
    let text = format!("{BASE}{OWN}");
    let no_iam =
        r#"{"Statement":[{"Sid":"NoIam","Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#;
    let found = problems_with_files("lockout", &text, &[("no-gpu.json", no_iam)]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("bp.yaml:23:13: guardrails.policies[0].file: guardrail `no-gpu` (statement `NoIam`) would deny arn:aws:iam::111111111111:role/OrganizationAccountAccessRole `iam:CreateRole` on `arn:aws:iam::111111111111:role/landing-zone/lz-watcher` in account `lumo-dev`, which the landing zone needs, and 69 more requests"),
        "{}",
        found[0]
    );
    // A region deny that leaves out the home region, on the units lz writes in.
    let text = format!("{BASE}guardrails: {{ regions: {{ allowed: [us-east-1] }} }}\n");
    let found = problems(&text);
    assert!(
        found[0].starts_with("18:35: guardrails.regions.allowed: guardrail `lz-acme-regions` (statement `DenyRegionsNotAllowed`) would deny arn:aws:iam::111111111111:role/OrganizationAccountAccessRole `s3:CreateBucket` on `arn:aws:s3:::acme-audit-111111111111` in account `log-archive`"),
        "{found:?}"
    );
}

#[test]
fn guardrail_targets_and_names_must_exist() {
    let text = format!(
        "{BASE}guardrails:\n  regions: {{ allowed: [mars-1], environments: [qa] }}\n  policies:\n    - {{ name: lz-acme-baseline, type: service_control, file: a.json, attach: {{}} }}\n    - {{ name: x, type: resource_control, file: b.json, attach: {{ accounts: [lumo-qa] }} }}\n"
    );
    assert_eq!(
        problems(&text),
        [
            "19:24: guardrails.regions.allowed[0]: `mars-1` is not an AWS region name",
            "19:48: guardrails.regions.environments[0]: environment `qa` is not defined (hint: expected one of: `dev`, `prod`)",
            "21:15: guardrails.policies[0].name: `lz-acme-baseline` is the name of one of lz's own guardrails",
            "21:78: guardrails.policies[0].attach: the policy is attached nowhere (hint: set `organization: true`, or list `environments` or `accounts`)",
            "22:77: guardrails.policies[1].attach.accounts[0]: account `lumo-qa` is not one the blueprint makes (hint: expected one of: `security`, `log-archive`, `lumo-dev`, `lumo-prod`)",
        ]
    );
}

#[test]
fn a_customer_email_names_one_of_its_environments_and_is_an_email() {
    let text = with(
        "lumo: { environments: [dev, prod] }",
        "lumo: { environments: [dev, prod], emails: { prod: \"lumo@x\", test: \"t@lumo.example\" } }",
    );
    assert_eq!(
        problems(&text),
        [
            "13:54: customers.lumo.emails.prod: account `lumo-prod`: `lumo@x` is not an email address",
            "13:64: customers.lumo.emails.test: `test` is not one of customer `lumo`'s environments",
        ]
    );
    // An explicit email replaces the template's for that account only.
    let text = with(
        "lumo: { environments: [dev, prod] }",
        "lumo: { environments: [dev, prod], emails: { prod: \"lumo-team@acme.example\" } }",
    );
    let bp = Blueprint::parse("bp.yaml", &text).unwrap();
    let emails: Vec<String> = crate::desired::accounts(&bp)
        .into_iter()
        .map(|a| a.email)
        .collect();
    assert_eq!(
        emails,
        [
            "aws+security@acme.example",
            "aws+log-archive@acme.example",
            "aws+lumo-dev@acme.example",
            "lumo-team@acme.example"
        ]
    );
}
