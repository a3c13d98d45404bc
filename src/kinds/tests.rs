//! The registry, and what the kinds' decision tests share.

use super::*;
use crate::plan::AttributeChange;

/// A planned change of `action`, with `attributes` differing, to a resource in account `acct`.
pub(crate) fn change(action: Action, attributes: &[&str]) -> Change {
    Change {
        address: Address::role("acct", "test"),
        kind: Kind::IamRole,
        account: Some("acct".to_owned()),
        action,
        id: None,
        before: None,
        after: None,
        attributes: attributes
            .iter()
            .map(|name| AttributeChange {
                name: (*name).to_owned(),
                before: Value::Null,
                after: Value::Null,
            })
            .collect(),
        unknown: Vec::new(),
        depends_on: Vec::new(),
        creating: None,
    }
}

/// The step apply takes for `change`.
pub(crate) fn step<'a, K>(
    change: &'a Change,
    want: Option<&'a K>,
    before: Option<&'a K>,
) -> Step<'a, K> {
    Step {
        change,
        want,
        before,
        recovered: false,
    }
}

#[test]
fn every_kind_is_named_in_plans_as_its_type() {
    for kind in Kind::ALL {
        assert_eq!(
            json(kind),
            Value::String(kind.as_str().to_owned()),
            "{kind:?}"
        );
    }
}

mod discovery {
    //! Each IAM kind naming a member account's listing: plain data in, addresses out.

    use std::collections::BTreeMap;

    use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
    use aws_sdk_iam::types::{GroupDetail, ManagedPolicyDetail, PolicyVersion, RoleDetail};

    use crate::blueprint::Blueprint;
    use crate::desired::{Address, Spec};
    use crate::discover::{AccountRead, Inventory, Read, identify};
    use crate::kinds::Raws;

    fn acme() -> Blueprint {
        Blueprint::load(concat!(env!("CARGO_MANIFEST_DIR"), "/blueprints/acme.yaml")).unwrap()
    }

    fn organization() -> Inventory {
        Inventory {
            organization: Some(crate::discover::organizations::OrgInfo {
                id: "o-abc".to_owned(),
                management_account_id: "123456789012".to_owned(),
                feature_set: "ALL".to_owned(),
            }),
            ..Inventory::default()
        }
    }

    fn listing(path: &str) -> AccountRead {
        let details = GetAccountAuthorizationDetailsOutput::builder()
            .role_detail_list(
                RoleDetail::builder()
                    .role_name("lz-watcher")
                    .path(path)
                    .arn("arn:aws:iam::111122223333:role/lz/lz-watcher")
                    .assume_role_policy_document("%7B%22Statement%22%3A%5B%5D%7D")
                    .build(),
            )
            .role_detail_list(RoleDetail::builder().role_name("admin").path("/").build())
            .group_detail_list(
                GroupDetail::builder()
                    .group_name("lz-watcher-lumo")
                    .path(path)
                    .build(),
            )
            .group_detail_list(GroupDetail::builder().group_name("ops").path("/").build())
            .policies(
                ManagedPolicyDetail::builder()
                    .arn(format!("arn:aws:iam::111122223333:policy{path}lz-boundary"))
                    .path(path)
                    .policy_version_list(
                        PolicyVersion::builder()
                            .is_default_version(true)
                            .document("%7B%22Statement%22%3A%5B%5D%7D")
                            .build(),
                    )
                    .build(),
            )
            .build();
        AccountRead {
            details: vec![details],
            sessions: BTreeMap::from([("lz-watcher".to_owned(), 7200)]),
            policy_tags: BTreeMap::from([(
                format!("arn:aws:iam::111122223333:policy{path}lz-boundary"),
                crate::desired::ownership_tags("acme"),
            )]),
        }
    }

    #[test]
    fn iam_kinds_name_only_what_is_under_the_path_and_groups_only_where_people_sign_in() {
        let bp = acme();
        let path = bp.organization.iam_path.clone();
        let mut read = Read::new(&bp, organization());
        read.accounts.insert("security".to_owned(), listing(&path));
        read.accounts.insert("lumo-prod".to_owned(), listing(&path));
        let actual = identify(&read, &Raws::default());
        let names: Vec<&str> = actual.resources.keys().map(Address::as_str).collect();
        assert_eq!(
            names,
            [
                "group.lz-watcher-lumo",
                "organization",
                "policy.lumo-prod.lz-boundary",
                "policy.security.lz-boundary",
                "role.lumo-prod.lz-watcher",
                "role.security.lz-watcher",
            ]
        );
        let role = &actual.resources[&Address::role("lumo-prod", "lz-watcher")];
        assert_eq!(role.account.as_deref(), Some("lumo-prod"));
        let Spec::IamRole(spec) = role.spec.as_ref() else {
            panic!("a role")
        };
        assert_eq!(spec.max_session_secs, 7200);
        let group = &actual.resources[&Address::group("lz-watcher-lumo")];
        assert_eq!(group.account.as_deref(), Some("security"));
        let Spec::IamPolicy(policy) = actual.resources
            [&Address::policy("lumo-prod", "lz-boundary")]
            .spec
            .as_ref()
        else {
            panic!("a policy")
        };
        // moto leaves the name out of the listing: it comes from the ARN.
        assert_eq!(policy.name, "lz-boundary");
        assert_eq!(policy.tags, crate::desired::ownership_tags("acme"));
    }
}
