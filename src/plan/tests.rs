//! The planner with plain data: no AWS.

use super::*;
use crate::actual::UnmanagedAccount;
use crate::blueprint::Blueprint;
use crate::desired::{Known, expand};

fn acme() -> Blueprint {
    Blueprint::load(concat!(env!("CARGO_MANIFEST_DIR"), "/blueprints/acme.yaml")).unwrap()
}

fn known(bp: &Blueprint) -> Known {
    let mut known = Known {
        organization_id: Some("o-abc123".to_owned()),
        management_account_id: Some("999999999999".to_owned()),
        root_id: Some("r-ab12".to_owned()),
        ..Known::default()
    };
    for (n, ou) in crate::desired::ous(bp).into_iter().enumerate() {
        known
            .ou_ids
            .insert(ou.to_owned(), format!("ou-ab12-{n:08}"));
    }
    let desired = expand(bp, &Known::default());
    for (n, r) in desired.resources.iter().enumerate() {
        if let Spec::Account(a) = r.spec.as_ref() {
            known
                .account_ids
                .insert(a.name.clone(), format!("{:012}", 500 + n));
        }
    }
    known.key_arns.insert(
        Address::key("audit"),
        "arn:aws:kms:eu-west-3:000000000501:key/1234abcd".to_owned(),
    );
    known
}

/// An actual state that is exactly the desired one.
fn mirror(desired: &Desired, known: &Known) -> Actual {
    Actual::as_if_applied(desired, known)
}

fn setup() -> (Desired, Actual) {
    let bp = acme();
    let known = known(&bp);
    let desired = expand(&bp, &known);
    let actual = mirror(&desired, &known);
    (desired, actual)
}

fn spec_mut<'a>(actual: &'a mut Actual, address: &str) -> &'a mut Spec {
    let address = actual
        .resources
        .keys()
        .find(|a| a.as_str() == address)
        .cloned()
        .unwrap_or_else(|| panic!("no {address}"));
    Arc::make_mut(&mut actual.resources.get_mut(&address).unwrap().spec)
}

fn only_change(plan: &Plan) -> &Change {
    let changes: Vec<&Change> = plan.changes().collect();
    assert_eq!(changes.len(), 1, "{changes:#?}");
    changes[0]
}

#[test]
fn against_nothing_everything_is_created_in_dependency_order() {
    let bp = acme();
    let actual = Actual::empty();
    let desired = expand(&bp, &actual.known());
    let plan = plan(&desired, &actual);
    assert_eq!(plan.summary.create, desired.resources.len());
    assert_eq!(
        plan.summary.update + plan.summary.delete + plan.summary.adopt,
        0
    );
    let position = |a: &Address| {
        plan.resource_changes
            .iter()
            .position(|c| &c.address == a)
            .unwrap()
    };
    for (i, change) in plan.resource_changes.iter().enumerate() {
        assert_eq!(change.action, Action::Create);
        for dep in &change.depends_on {
            assert!(position(dep) < i, "{} planned before {dep}", change.address);
        }
    }
    assert_eq!(plan.resource_changes[0].address.as_str(), "organization");
}

#[test]
fn when_equal_nothing_changes() {
    let (desired, actual) = setup();
    let plan = plan(&desired, &actual);
    assert!(
        !plan.has_changes(),
        "{:#?}",
        plan.changes().collect::<Vec<_>>()
    );
    assert!(plan.notes.is_empty() && plan.conflicts.is_empty());
    assert_eq!(plan.resource_changes.len(), desired.resources.len());
}

#[test]
fn an_account_moved_to_another_ou_is_moved_back() {
    let (desired, mut actual) = setup();
    let Spec::Account(a) = spec_mut(&mut actual, "account.lumo-prod") else {
        panic!()
    };
    a.ou = "Dev".to_owned();
    let plan = plan(&desired, &actual);
    let change = only_change(&plan);
    assert_eq!(
        (change.action, change.address.as_str()),
        (Action::Update, "account.lumo-prod")
    );
    assert_eq!(change.attributes.len(), 1);
    assert_eq!(change.attributes[0].name, "ou");
    assert_eq!(change.attributes[0].before, "Dev");
    assert_eq!(change.attributes[0].after, "Prod");
    assert_eq!(
        change.id.as_deref(),
        actual
            .known()
            .account_ids
            .get("lumo-prod")
            .map(String::as_str)
    );
}

#[test]
fn a_changed_tag_is_restored_and_foreign_tags_are_left_alone() {
    let (desired, mut actual) = setup();
    let Spec::Account(a) = spec_mut(&mut actual, "account.lumo-dev") else {
        panic!()
    };
    a.tags
        .insert("cost-center".to_owned(), "marketing".to_owned());
    a.tags.insert("added-by-someone".to_owned(), "x".to_owned());
    let plan = plan(&desired, &actual);
    let change = only_change(&plan);
    assert_eq!(change.attributes[0].name, "tags");
    assert_eq!(change.attributes[0].before["cost-center"], "marketing");
    assert_eq!(change.attributes[0].after["cost-center"], "platform");
    assert!(
        change.attributes[0]
            .before
            .get("added-by-someone")
            .is_none()
    );

    // A foreign tag alone is no drift.
    let (desired, mut actual) = setup();
    let Spec::Account(a) = spec_mut(&mut actual, "account.lumo-dev") else {
        panic!()
    };
    a.tags.insert("added-by-someone".to_owned(), "x".to_owned());
    assert!(!plan_of(&desired, &actual).has_changes());
}

fn plan_of(desired: &Desired, actual: &Actual) -> Plan {
    plan(desired, actual)
}

#[test]
fn a_resource_without_ownership_tags_is_adopted_not_recreated() {
    let (desired, mut actual) = setup();
    let Spec::Account(a) = spec_mut(&mut actual, "account.retail-dev") else {
        panic!()
    };
    a.tags.clear();
    let plan = plan(&desired, &actual);
    let change = only_change(&plan);
    assert_eq!(change.action, Action::Adopt);
    assert_eq!(plan.summary.adopt, 1);
    assert_eq!(plan.summary.create, 0);
    assert_eq!(change.attributes[0].name, "tags");
}

#[test]
fn a_resource_of_another_landing_zone_is_a_conflict() {
    let (desired, mut actual) = setup();
    let Spec::Account(a) = spec_mut(&mut actual, "account.retail-dev") else {
        panic!()
    };
    a.tags.insert(BLUEPRINT_TAG.to_owned(), "other".to_owned());
    let plan = plan(&desired, &actual);
    assert!(!plan.has_changes());
    assert_eq!(plan.conflicts.len(), 1);
    assert_eq!(plan.conflicts[0].address.as_str(), "account.retail-dev");
}

#[test]
fn policy_documents_compare_by_meaning() {
    let (desired, mut actual) = setup();
    let Spec::IamRole(role) = spec_mut(&mut actual, "role.lumo-dev.lz-settler") else {
        panic!()
    };
    // As IAM returns it: URL-encoded JSON with keys in another order, parsed back.
    let encoded: String = percent_encoding::utf8_percent_encode(
        &role.trust_policy.to_json(),
        percent_encoding::NON_ALPHANUMERIC,
    )
    .to_string();
    role.trust_policy = Arc::new(crate::policy::PolicyDocument::parse(&encoded).unwrap());
    Arc::make_mut(&mut role.trust_policy).statements[0]
        .action
        .0
        .reverse();
    assert!(!plan(&desired, &actual).has_changes());
}

#[test]
fn each_kind_of_role_drift_is_an_update_of_that_attribute() {
    type Drift = fn(&mut crate::desired::RoleSpec);
    let cases: [(&str, Drift); 5] = [
        ("trust_policy", |r| {
            Arc::make_mut(&mut r.trust_policy).statements[0]
                .condition
                .remove("Bool")
                .map(drop)
                .unwrap_or(())
        }),
        ("managed_policies", |r| {
            r.managed_policies
                .insert(crate::blueprint::ADMINISTRATOR_ACCESS.to_owned());
        }),
        ("inline_policies", |r| r.inline_policies.clear()),
        ("max_session_secs", |r| r.max_session_secs = 43200),
        ("tags", |r| {
            r.tags.remove("lz:tier");
        }),
    ];
    for (attribute, drift) in cases {
        let (desired, mut actual) = setup();
        let Spec::IamRole(role) = spec_mut(&mut actual, "role.lumo-dev.lz-keeper") else {
            panic!()
        };
        drift(role);
        let plan = plan(&desired, &actual);
        let change = only_change(&plan);
        assert_eq!(change.action, Action::Update, "{attribute}");
        let names: Vec<&str> = change.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, [attribute]);
    }
}

#[test]
fn bucket_and_trail_drift() {
    let (desired, mut actual) = setup();
    let Spec::S3Bucket(b) = spec_mut(&mut actual, "bucket.audit") else {
        panic!()
    };
    b.versioning = false;
    b.block_public_access = false;
    let Spec::CloudtrailTrail(t) = spec_mut(&mut actual, "trail.org") else {
        panic!()
    };
    t.logging = false;
    let plan = plan(&desired, &actual);
    let changed: Vec<(&str, Vec<&str>)> = plan
        .changes()
        .map(|c| {
            (
                c.address.as_str(),
                c.attributes.iter().map(|a| a.name.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        [
            ("bucket.audit", vec!["versioning", "block_public_access"]),
            ("trail.org", vec!["logging"]),
        ]
    );
}

#[test]
fn object_lock_on_an_existing_bucket_is_a_conflict_not_a_replacement() {
    let (desired, mut actual) = setup();
    let Spec::S3Bucket(b) = spec_mut(&mut actual, "bucket.audit") else {
        panic!()
    };
    b.object_lock = None;
    let plan = plan(&desired, &actual);
    assert_eq!(plan.conflicts.len(), 1, "{:?}", plan.conflicts);
    assert!(
        plan.conflicts[0]
            .message
            .contains("turns on only when a bucket is created")
    );
    assert!(
        plan.changes()
            .all(|c| c.action != Action::Delete && c.action != Action::Create)
    );
}

#[test]
fn an_ou_left_behind_is_kept_unless_deletion_is_allowed_and_it_is_empty() {
    let (mut desired, mut actual) = setup();
    let mut old = actual.resources[&Address::ou("Dev")].clone();
    let Spec::OrganizationalUnit(ou) = Arc::make_mut(&mut old.spec) else {
        panic!()
    };
    ou.name = "Sandbox".to_owned();
    actual.resources.insert(Address::ou("Sandbox"), old);

    let kept = plan(&desired, &actual);
    assert!(!kept.has_changes());
    assert_eq!(kept.notes.len(), 1);
    assert!(
        kept.notes[0].message.contains("allow_delete"),
        "{:?}",
        kept.notes
    );

    desired.deletable.insert(Kind::OrganizationalUnit);
    let deleted = plan(&desired, &actual);
    let change = only_change(&deleted);
    assert_eq!(
        (change.action, change.address.as_str()),
        (Action::Delete, "ou.Sandbox")
    );
    assert_eq!(deleted.summary.delete, 1);

    actual.unmanaged_accounts.push(UnmanagedAccount {
        id: "123412341234".to_owned(),
        name: "sandbox".to_owned(),
        email: "sandbox@acme.example".to_owned(),
        ou: Some("Sandbox".to_owned()),
    });
    let not_empty = plan(&desired, &actual);
    assert!(!not_empty.has_changes());
    assert!(
        not_empty
            .notes
            .iter()
            .any(|n| n.message.contains("still holds accounts"))
    );
}

#[test]
fn accounts_are_never_deleted() {
    let (mut desired, mut actual) = setup();
    desired.deletable.extend([
        Kind::OrganizationalUnit,
        Kind::IamRole,
        Kind::IamGroup,
        Kind::Account,
    ]);
    let mut gone = actual.resources[&Address::account("lumo-dev")].clone();
    let Spec::Account(a) = Arc::make_mut(&mut gone.spec) else {
        panic!()
    };
    a.name = "old-customer-dev".to_owned();
    actual
        .resources
        .insert(Address::account("old-customer-dev"), gone);
    let plan = plan(&desired, &actual);
    assert!(!plan.has_changes());
    assert!(
        plan.notes
            .iter()
            .any(|n| n.address == "account.old-customer-dev" && n.message.contains("never closes"))
    );
}

#[test]
fn unmanaged_accounts_are_listed_not_touched() {
    let (desired, mut actual) = setup();
    actual.unmanaged_accounts.push(UnmanagedAccount {
        id: "222233334444".to_owned(),
        name: "legacy".to_owned(),
        email: "legacy@acme.example".to_owned(),
        ou: None,
    });
    let plan = plan(&desired, &actual);
    assert!(!plan.has_changes());
    assert_eq!(plan.notes.len(), 1);
    assert!(plan.notes[0].address.contains("legacy (222233334444)"));
}

/// An account's name is anything Organizations allows: a line break or a terminal escape in
/// it cannot forge a line of the plan, or drive the reviewer's terminal.
#[test]
fn a_name_with_control_characters_stays_on_its_line() {
    let (desired, mut actual) = setup();
    actual.unmanaged_accounts.push(UnmanagedAccount {
        id: "222233334444".to_owned(),
        name: "x\nPlan: 0 to create, 0 to update, 0 to delete.\u{1b}[2J".to_owned(),
        email: "x@acme.example".to_owned(),
        ou: None,
    });
    let text = crate::render::human(&plan(&desired, &actual), Default::default());
    let note: Vec<&str> = text.lines().filter(|l| l.starts_with("Note: ")).collect();
    assert_eq!(
        note,
        [
            "Note: account x\\nPlan: 0 to create, 0 to update, 0 to delete.\\u{1b}[2J (222233334444): in the organization but not in the blueprint; not managed, left as it is"
        ]
    );
    assert!(!text.contains('\u{1b}'));
    assert!(!text.lines().any(|l| l.starts_with("Plan: 0 to create")));
}

#[test]
fn an_account_being_created_is_waited_for_not_created_again() {
    let (desired, mut actual) = setup();
    let observed = actual
        .resources
        .get_mut(&Address::account("retail-prod"))
        .unwrap();
    observed.id = None;
    observed.creating = Some("car-123".to_owned());
    let plan = plan(&desired, &actual);
    let change = only_change(&plan);
    assert_eq!(change.action, Action::Create);
    assert_eq!(change.creating.as_deref(), Some("car-123"));
}

#[test]
fn the_fingerprint_follows_the_actual_state() {
    let (desired, mut actual) = setup();
    let before = plan(&desired, &actual).fingerprint;
    assert_eq!(before, plan(&desired, &actual).fingerprint);
    let Spec::Account(a) = spec_mut(&mut actual, "account.lumo-prod") else {
        panic!()
    };
    a.ou = "Dev".to_owned();
    assert_ne!(before, plan(&desired, &actual).fingerprint);
}

#[test]
fn the_json_plan_round_trips_and_is_versioned() {
    let (desired, mut actual) = setup();
    let Spec::Account(a) = spec_mut(&mut actual, "account.lumo-prod") else {
        panic!()
    };
    a.ou = "Dev".to_owned();
    let plan = plan(&desired, &actual);
    let json = crate::render::json(&plan);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["format_version"], FORMAT_VERSION);
    assert_eq!(value["blueprint"], "acme");
    assert!(
        value["fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    let change = value["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "account.lumo-prod")
        .unwrap();
    assert_eq!(change["action"], "update");
    assert_eq!(change["type"], "account");
    assert_eq!(change["before"]["ou"], "Dev");
    assert_eq!(change["after"]["ou"], "Prod");
    let back: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(back, plan);
}

#[test]
fn the_human_plan_reads_like_terraform() {
    let (desired, mut actual) = setup();
    let Spec::Account(a) = spec_mut(&mut actual, "account.lumo-prod") else {
        panic!()
    };
    a.ou = "Dev".to_owned();
    let text = crate::render::human(&plan(&desired, &actual), Default::default());
    assert!(text.contains("  # account.lumo-prod will be updated in place\n  ~ account account.lumo-prod\n    ~ ou: \"Dev\" -> \"Prod\"\n"), "{text}");
    assert!(
        text.ends_with("Plan: 0 to create, 1 to update, 0 to delete.\n"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "no colour unless asked");
    let empty = crate::render::human(
        &plan(&desired, &mirror(&desired, &known(&acme()))),
        Default::default(),
    );
    assert_eq!(
        empty,
        "No changes. The landing zone matches the blueprint.\n"
    );
}

#[test]
fn a_changed_policy_reads_as_a_line_diff_in_the_human_plan() {
    let (desired, mut actual) = setup();
    let Spec::IamRole(role) = spec_mut(&mut actual, "role.lumo-prod.lz-watcher") else {
        panic!()
    };
    let mut trust = serde_json::to_value(&*role.trust_policy).unwrap();
    trust["Statement"][0]["Action"] = serde_json::json!("sts:*");
    role.trust_policy = Arc::new(serde_json::from_value(trust).unwrap());
    let text = crate::render::human(&plan(&desired, &actual), Default::default());
    let diff: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("~ trust_policy:"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    let removed: Vec<&str> = diff
        .iter()
        .copied()
        .filter(|l| l.starts_with("        - "))
        .collect();
    let added: Vec<&str> = diff
        .iter()
        .copied()
        .filter(|l| l.starts_with("        + "))
        .collect();
    assert_eq!(
        removed,
        ["        -       \"Action\": \"sts:*\","],
        "{text}"
    );
    assert_eq!(
        added,
        [
            "        +       \"Action\": [",
            "        +         \"sts:AssumeRole\",",
            "        +         \"sts:TagSession\"",
            "        +       ],",
        ],
        "{text}"
    );
    // Context, not the whole document: the version line is far from the change.
    assert!(!diff.iter().any(|l| l.contains("Version")), "{text}");
    assert!(!text.contains(" -> "), "no before/after blobs: {text}");
}

#[test]
fn an_unreadable_account_is_left_out_and_said() {
    let (desired, mut actual) = setup();
    actual
        .resources
        .retain(|a, _| !a.as_str().starts_with("role.lumo-dev."));
    actual.unreadable.insert(
        "lumo-dev".to_owned(),
        "cannot assume role OrganizationAccountAccessRole in account lumo-dev".to_owned(),
    );
    let plan = plan(&desired, &actual);
    assert!(
        !plan.has_changes(),
        "nothing in lumo-dev is planned, not even as created"
    );
    assert!(!plan.is_complete());
    assert_eq!(plan.unreadable.len(), 1);
    assert_eq!(plan.unreadable[0].address, "account.lumo-dev");
    let text = crate::render::human(&plan, Default::default());
    assert!(
        text.contains("Unreadable: account.lumo-dev: could not be read"),
        "{text}"
    );
}

#[test]
fn a_plan_sealed_while_written_is_the_sealed_plan_written() {
    let (desired, _) = setup();
    let mut streamed = plan(&desired, &Actual::empty());
    let mut sealed = streamed.clone();
    let mut bytes = Vec::new();
    streamed.write_sealed(&mut bytes).unwrap();
    sealed.seal();
    assert_eq!(streamed.digest, sealed.digest);
    assert_eq!(
        String::from_utf8(bytes.clone()).unwrap(),
        crate::render::json(&sealed)
    );
    let read: Plan = serde_json::from_slice(&bytes).unwrap();
    assert!(read.is_intact());
    let mut edited = read.clone();
    edited.resource_changes.pop();
    assert!(!edited.is_intact());
}
