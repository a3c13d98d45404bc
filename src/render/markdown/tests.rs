use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::plan::{AttributeChange, Conflict};
use crate::{Actual, Blueprint, expand, plan};

/// A blueprint of `customers` customers in `dev` and `prod`: 2 x customers + 2 accounts.
fn blueprint(customers: usize) -> Blueprint {
    let mut yaml = String::from(
        "version: 1\nname: big\nhome_region: eu-west-3\norganization: { email: \"aws+{account}@big.example\" }\n\
         accounts: { security: { name: security }, log_archive: { name: log-archive } }\n\
         environments: { dev: { ou: Dev }, prod: { ou: Prod } }\n\
         quotas: { accounts_per_organization: 10000 }\ncustomers:\n",
    );
    for n in 0..customers {
        yaml.push_str(&format!("  c{n:04}: {{ environments: [dev, prod] }}\n"));
    }
    Blueprint::parse("big.yaml", &yaml).expect("the generated blueprint is valid")
}

fn empty_plan(bp: &Blueprint) -> Plan {
    let actual = Actual::empty();
    plan(&expand(bp, &actual.known()), &actual)
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

#[test]
fn a_small_plan_shows_every_change_in_its_own_section_with_its_fields() {
    let plan = empty_plan(&blueprint(1));
    let md = markdown(&plan, MarkdownOptions::default());
    let changes = plan.changes().count();
    assert_eq!(count(&md, "<details>"), changes);
    assert_eq!(count(&md, "</details>"), changes);
    assert!(md.contains(&format!("| + create | {changes} |")), "{md}");
    assert!(md.contains("| c0000-dev | "), "{md}");
    assert!(md.contains("+ name = \"c0000-dev\""), "{md}");
    assert!(!md.contains("[!NOTE]"), "a plan that fits is not shortened");
}

#[test]
fn a_changed_policy_is_a_line_diff_not_two_documents() {
    let mut plan = empty_plan(&blueprint(1));
    let role = plan
        .resource_changes
        .iter_mut()
        .find(|c| c.kind == crate::desired::Kind::IamRole)
        .unwrap();
    let statement = |action: &str| {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": action,
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]})
    };
    role.action = Action::Update;
    role.attributes = vec![
        AttributeChange {
            name: "trust_policy".into(),
            before: statement("sts:AssumeRole"),
            after: statement("sts:*"),
        },
        AttributeChange {
            name: "max_session_secs".into(),
            before: json!(3600),
            after: json!(7200),
        },
    ];
    let address = role.address.clone();
    let md = markdown(&plan, MarkdownOptions::default());
    let section = md
        .split("<details>")
        .find(|s| s.contains(address.as_str()))
        .unwrap();
    assert!(
        section.contains("-         \"Action\": \"sts:AssumeRole\","),
        "{section}"
    );
    assert!(
        section.contains("+         \"Action\": \"sts:*\","),
        "{section}"
    );
    assert!(section.contains("- max_session_secs = 3600"), "{section}");
    assert!(section.contains("+ max_session_secs = 7200"), "{section}");
    // The unchanged lines appear once, as context, never as a removed and an added copy.
    assert_eq!(count(section, "aws:MultiFactorAuthPresent"), 1, "{section}");
    assert!(
        !section.contains("\"Version\""),
        "beyond the context: {section}"
    );
}

#[test]
fn a_thousand_account_plan_fits_a_comment_and_says_what_it_left_out() {
    let mut plan = empty_plan(&blueprint(499));
    assert_eq!(
        plan.changes()
            .filter(|c| c.kind == crate::desired::Kind::Account)
            .count(),
        1000
    );
    plan.conflicts.push(Conflict {
        address: crate::desired::Address::account("c0007-dev"),
        message: "owned by blueprint `other`".into(),
    });
    let changes = plan.changes().count();
    let md = markdown(&plan, MarkdownOptions::default());
    assert!(md.len() <= GITHUB_COMMENT_LIMIT, "{} bytes", md.len());
    assert!(md.contains("[!NOTE]"), "it says it was shortened");
    assert!(md.contains(&summary_line(&plan)));
    // The conflict is never cut.
    assert!(md.contains("- `account.c0007-dev`: owned by blueprint `other`"));
    // Every change is either listed or counted.
    let listed = md
        .lines()
        .filter(|l| l.starts_with("- <code>") || l.starts_with("<details>"))
        .count();
    let more: usize = md
        .lines()
        .find_map(|l| {
            l.strip_prefix("- … and ")?
                .strip_suffix(" more changes")?
                .parse()
                .ok()
        })
        .expect("a count of the changes left out");
    assert_eq!(listed + more, changes);
    let rows = md
        .lines()
        .filter(|l| {
            l.starts_with("| ") && !l.starts_with("| Account") && !l.starts_with("| Action")
        })
        .filter(|l| !l.starts_with("| + "))
        .filter(|l| !l.starts_with("| … "))
        .count();
    let more_accounts: usize = md
        .lines()
        .find_map(|l| {
            l.strip_prefix("| … | and ")?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .expect("a count of the accounts left out");
    let accounts: std::collections::BTreeSet<_> = plan.changes().map(|c| &c.account).collect();
    assert_eq!(rows + more_accounts, accounts.len());
}

#[test]
fn a_plan_just_over_the_limit_keeps_changes_to_what_exists_in_detail() {
    let mut plan = empty_plan(&blueprint(3));
    let last = plan.resource_changes.len() - 1;
    let updated = plan.resource_changes[last].address.clone();
    plan.resource_changes[last].action = Action::Update;
    plan.resource_changes[last].attributes = vec![AttributeChange {
        name: "is_multi_region_trail".into(),
        before: json!(false),
        after: json!(true),
    }];
    let full = markdown(&plan, MarkdownOptions::default());
    assert!(!full.contains("[!NOTE]"));
    let limit = full.len() - 1;
    let md = markdown(
        &plan,
        MarkdownOptions {
            check: None,
            max_len: limit,
        },
    );
    assert!(md.len() <= limit);
    assert!(md.contains("[!NOTE]"), "it says it was shortened");
    let detailed = count(&md, "<details>");
    let brief = md.lines().filter(|l| l.starts_with("- <code>")).count();
    assert!(brief >= 1 && detailed >= 1, "{detailed} {brief}");
    assert_eq!(detailed + brief, plan.changes().count());
    // The update, the last change in the plan, kept its details over earlier creations.
    assert!(md.contains(&format!("<details><summary><code>~ {updated}</code>")));
}

#[test]
fn a_document_shown_once_is_named_where_it_repeats() {
    let plan = empty_plan(&blueprint(2));
    let md = markdown(&plan, MarkdownOptions::default());
    // The watcher roles of four accounts and the tinker roles of two dev accounts trust the
    // security account alike, without MFA: shown once, then named five times.
    let first = "role.c0000-dev.lz-watcher.trust_policy";
    assert_eq!(count(&md, &format!("(the same as {first})")), 5, "{md}");
    // Keeper and settler both require MFA: their trust is alike too.
    assert_eq!(count(&md, "+ trust_policy = {"), 2);
}

#[test]
fn backticks_and_html_in_values_cannot_break_out_of_their_section() {
    let mut plan = empty_plan(&blueprint(1));
    let account = plan
        .resource_changes
        .iter_mut()
        .find(|c| c.kind == crate::desired::Kind::Account)
        .unwrap();
    let mut spec = (**account.after.as_ref().unwrap()).clone();
    if let crate::desired::Spec::Account(a) = &mut spec {
        a.tags
            .insert("note".into(), "````</details><b>x</b>".into());
    }
    account.after = Some(Arc::new(spec));
    let md = markdown(&plan, MarkdownOptions::default());
    let section = md.split("<details>").find(|s| s.contains("note")).unwrap();
    assert!(section.contains("`````diff\n"), "{section}");
    assert_eq!(
        count(section, "</details>"),
        2,
        "the value's own, in code, and the end"
    );
    assert_eq!(count(&md, "\n</details>\n"), plan.changes().count());
}

#[test]
fn names_in_code_spans_and_summaries_cannot_break_them() {
    assert_eq!(code("scp.plain"), "`scp.plain`");
    assert_eq!(code("scp.a`b"), "`` scp.a`b ``");
    assert_eq!(code("x``y"), "``` x``y ```");
    let mut plan = empty_plan(&blueprint(1));
    let role = plan
        .resource_changes
        .iter_mut()
        .find(|c| c.kind == crate::desired::Kind::IamRole)
        .unwrap();
    role.account = Some("a<b>".into());
    let md = markdown(&plan, MarkdownOptions::default());
    assert!(
        md.contains(" in <code>a&lt;b&gt;</code> will be created"),
        "{md}"
    );
    assert!(!md.contains("<b>"));
}
