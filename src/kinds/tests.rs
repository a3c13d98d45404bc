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
