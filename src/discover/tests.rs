//! Naming an inventory with the blueprint's addresses, with plain data.

use std::collections::HashMap;

use super::organizations::{AccountInfo, CreationInfo, OrgInfo, OuInfo};
use super::*;
use crate::desired::{Address, BLUEPRINT_TAG, OWNER_TAG, Spec};

/// What the organization's inventory alone names.
fn named(inventory: &Inventory, blueprint: &Blueprint) -> Actual {
    identify(&Read::new(blueprint, inventory.clone()), &Raws::default())
}

fn acme() -> Blueprint {
    Blueprint::load(concat!(env!("CARGO_MANIFEST_DIR"), "/blueprints/acme.yaml")).unwrap()
}

fn account(id: &str, name: &str, email: &str, ou: Option<&str>) -> AccountInfo {
    AccountInfo {
        id: id.to_owned(),
        name: name.to_owned(),
        email: email.to_owned(),
        parent_ou: ou.map(str::to_owned),
    }
}

fn inventory() -> Inventory {
    Inventory {
        organization: Some(OrgInfo {
            id: "o-abc".to_owned(),
            management_account_id: "123456789012".to_owned(),
            feature_set: "ALL".to_owned(),
        }),
        root_id: Some("r-root".to_owned()),
        ous: vec![OuInfo {
            id: "ou-prod".to_owned(),
            name: "Prod".to_owned(),
            tags: Tags::from([(OWNER_TAG.to_owned(), "landing-zone".to_owned())]),
        }],
        accounts: vec![
            account("123456789012", "management", "root@acme.example", None),
            account(
                "111111111111",
                "lumo-prod",
                "AWS+Lumo-Prod@acme.example",
                Some("ou-prod"),
            ),
            account("222222222222", "legacy", "legacy@acme.example", None),
            account(
                "333333333333",
                "security",
                "aws+security@acme.example",
                Some("ou-deep"),
            ),
        ],
        account_tags: HashMap::from([(
            "111111111111".to_owned(),
            Tags::from([(BLUEPRINT_TAG.to_owned(), "acme".to_owned())]),
        )]),
        creating: vec![
            CreationInfo {
                id: "car-1".to_owned(),
                account_name: "retail-dev".to_owned(),
            },
            CreationInfo {
                id: "car-2".to_owned(),
                account_name: "someone-else".to_owned(),
            },
        ],
        trusted_services: BTreeSet::from(["sso.amazonaws.com".to_owned()]),
    }
}

#[test]
fn no_organization_is_an_empty_state() {
    let actual = named(&Inventory::default(), &acme());
    assert_eq!(actual, Actual::empty());
}

#[test]
fn accounts_are_matched_by_email_ignoring_case() {
    let actual = named(&inventory(), &acme());
    let lumo = &actual.resources[&Address::account("lumo-prod")];
    assert_eq!(lumo.id.as_deref(), Some("111111111111"));
    let Spec::Account(spec) = lumo.spec.as_ref() else {
        panic!()
    };
    assert_eq!(spec.ou, "Prod");
    assert_eq!(spec.tags[BLUEPRINT_TAG], "acme");
    assert_eq!(actual.known().account_ids["lumo-prod"], "111111111111");
}

#[test]
fn the_management_account_is_never_a_member_and_others_are_unmanaged() {
    let actual = named(&inventory(), &acme());
    assert!(
        !actual
            .resources
            .values()
            .any(|r| r.id.as_deref() == Some("123456789012"))
    );
    let unmanaged: Vec<&str> = actual
        .unmanaged_accounts
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(unmanaged, ["legacy"]);
}

#[test]
fn an_account_in_a_nested_ou_says_so() {
    let actual = named(&inventory(), &acme());
    let Spec::Account(spec) = actual.resources[&Address::account("security")]
        .spec
        .as_ref()
    else {
        panic!()
    };
    assert_eq!(spec.ou, "(nested OU ou-deep)");
}

#[test]
fn a_creation_in_progress_is_matched_by_name_and_not_created_again() {
    let actual = named(&inventory(), &acme());
    let retail = &actual.resources[&Address::account("retail-dev")];
    assert_eq!(retail.creating.as_deref(), Some("car-1"));
    assert_eq!(retail.id, None);
    assert!(
        !actual
            .resources
            .contains_key(&Address::account("someone-else"))
    );
    let desired = crate::expand(&acme(), &actual.known());
    let plan = crate::plan(&desired, &actual);
    let change = plan
        .resource_changes
        .iter()
        .find(|c| c.address == Address::account("retail-dev"))
        .unwrap();
    assert_eq!(change.creating.as_deref(), Some("car-1"));
}

#[test]
fn organization_and_ous_carry_their_ids() {
    let actual = named(&inventory(), &acme());
    assert_eq!(actual.root_id.as_deref(), Some("r-root"));
    assert_eq!(
        actual.management_account_id.as_deref(),
        Some("123456789012")
    );
    assert_eq!(
        actual.resources[&Address::organization()].id.as_deref(),
        Some("o-abc")
    );
    assert_eq!(
        actual.resources[&Address::ou("Prod")].id.as_deref(),
        Some("ou-prod")
    );
    assert_eq!(actual.known().organization_id.as_deref(), Some("o-abc"));
}
