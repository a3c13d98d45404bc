//! The actual state: what discovery found in the live organization, named by the same
//! addresses as the desired state so that planning is a comparison of two maps.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::desired::{Address, Known, Spec};

/// One resource found in AWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// Its id in AWS (account id, OU id, key id, ...), where it has one.
    pub id: Option<String>,
    /// What it is now, in the same terms as the desired state.
    pub spec: Spec,
    /// For an account whose creation was requested and has not finished: the request's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creating: Option<String>,
}

/// An account in the organization that the blueprint does not name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnmanagedAccount {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its email.
    pub email: String,
    /// The name of the organizational unit holding it; `None` at the root.
    pub ou: Option<String>,
}

/// Everything discovery found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actual {
    /// The management account's id, when there is an organization.
    pub management_account_id: Option<String>,
    /// The resources found, by address.
    pub resources: BTreeMap<Address, Observed>,
    /// Accounts of the organization that the blueprint does not name.
    pub unmanaged_accounts: Vec<UnmanagedAccount>,
}

impl Actual {
    /// An organization with nothing in it: what a reviewer without credentials plans against.
    pub fn empty() -> Actual {
        Actual::default()
    }

    /// The ids this state makes known, for expanding the blueprint against it.
    pub fn known(&self) -> Known {
        let mut known = Known {
            management_account_id: self.management_account_id.clone(),
            ..Known::default()
        };
        for (address, observed) in &self.resources {
            match (&observed.spec, &observed.id) {
                (Spec::Organization(_), Some(id)) => known.organization_id = Some(id.clone()),
                (Spec::Account(_), Some(id)) => {
                    if let Some(name) = address.as_str().strip_prefix("account.") {
                        known.account_ids.insert(name.to_owned(), id.clone());
                    }
                }
                _ => {}
            }
        }
        known
    }

    /// A digest of this state: a saved plan records it, and apply refuses the plan when the
    /// organization no longer has the same digest.
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_vec(self).expect("the actual state always serialises");
        let digest = Sha256::digest(&json);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }
}
