//! The actual state: what discovery found in the live organization, named by the same
//! addresses as the desired state so that planning is a comparison of two maps.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::check::AccountIam;
use crate::desired::{Address, Desired, Known, Spec};
use crate::kinds::organizations_policy::ForeignPolicy;

/// One resource found in AWS.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Observed {
    /// Its id in AWS (account id, OU id, key id, ...), where it has one.
    pub id: Option<String>,
    /// What it is now, in the same terms as the desired state.
    pub spec: Arc<Spec>,
    /// For an account whose creation was requested and has not finished: the request's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creating: Option<String>,
    /// The name of the blueprint account it was found in; `None` for the management account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// An account in the organization that the blueprint does not name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actual {
    /// The management account's id, when there is an organization.
    pub management_account_id: Option<String>,
    /// The id of the organization's root.
    pub root_id: Option<String>,
    /// The resources found, by address.
    pub resources: BTreeMap<Address, Observed>,
    /// Accounts of the organization that the blueprint does not name.
    pub unmanaged_accounts: Vec<UnmanagedAccount>,
    /// AWS managed policies the blueprint names that do not exist (IAM would refuse to
    /// attach them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_policies: Vec<String>,
    /// Accounts of the blueprint that could not be read (the access role could not be
    /// assumed), with why; what lives in them is not planned.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unreadable: BTreeMap<String, String>,
    /// Every role, user, group and customer managed policy of each member account read, lz's
    /// and others': what `lz check` evaluates.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub iam: BTreeMap<String, AccountIam>,
    /// The organization's service and resource control policies that lz does not own, with
    /// where they are attached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_policies: Vec<ForeignPolicy>,
}

impl Actual {
    /// An organization with nothing in it: what a reviewer without credentials plans against.
    pub fn empty() -> Actual {
        Actual::default()
    }

    /// The state a complete apply of `desired` would leave, given the ids in `known`: what
    /// planning against a converged organization looks like, without one. Resources other
    /// than the organization and accounts get no id.
    pub fn as_if_applied(desired: &Desired, known: &Known) -> Actual {
        let mut actual = Actual {
            management_account_id: known.management_account_id.clone(),
            root_id: known.root_id.clone(),
            ..Actual::default()
        };
        for resource in &desired.resources {
            let id = resource.spec.assumed_id(known);
            actual.resources.insert(
                resource.address.clone(),
                Observed {
                    id,
                    spec: resource.spec.clone(),
                    creating: None,
                    account: resource.account.clone(),
                },
            );
        }
        actual
    }

    /// The ids this state makes known, for expanding the blueprint against it.
    pub fn known(&self) -> Known {
        let mut known = Known {
            management_account_id: self.management_account_id.clone(),
            root_id: self.root_id.clone(),
            ..Known::default()
        };
        for (address, observed) in &self.resources {
            if let Some(id) = &observed.id {
                observed.spec.learn(address, id, &mut known);
            }
        }
        known
    }

    /// A digest of this state: a saved plan records it, and apply refuses the plan when the
    /// organization no longer has the same digest. It is computed from the values (through
    /// `Hash`), not from their JSON, which is several times slower on large organizations; a
    /// plan is therefore only applied by the same build of lz that made it, which apply checks.
    pub fn fingerprint(&self) -> String {
        /// Feeds the state's `Hash` straight into SHA-256: no text is built, and every field,
        /// length and variant is covered.
        struct Sha {
            digest: Sha256,
            buffer: Vec<u8>,
        }
        impl Hasher for Sha {
            fn write(&mut self, bytes: &[u8]) {
                // `Hash` writes many tiny pieces; hashing them in blocks is several times faster.
                self.buffer.extend_from_slice(bytes);
                if self.buffer.len() >= 1 << 16 {
                    self.digest.update(&self.buffer);
                    self.buffer.clear();
                }
            }
            fn finish(&self) -> u64 {
                0 // unused: the digest is taken from the SHA-256 state
            }
        }
        let mut sha = Sha {
            digest: Sha256::new(),
            buffer: Vec::with_capacity(1 << 17),
        };
        self.hash(&mut sha);
        sha.digest.update(&sha.buffer);
        let digest = sha.digest.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }
}
