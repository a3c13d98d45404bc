//! Resource kinds, each one unit: one module holds a kind's spec (what it should be), how it is
//! compared (its attributes), and how a change to it becomes writes (a pure decision over what
//! was just re-read, and the effect of each write). The [`kinds!`] list below registers them;
//! from it come [`Kind`], [`Spec`] and every dispatch over them, so a kind that lacks a part
//! is a compile error, not a silent gap.
//!
//! Adding a kind: write `src/kinds/<kind>.rs` with its spec type and an `impl ResourceKind`,
//! then add one line to the list. Expansion (`crate::desired`) decides where resources of the
//! kind appear, and discovery (`crate::discover`) where they are read.

mod writes;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::actual::{Actual, Observed};
use crate::apply::{Ctx, StepError};
use crate::aws::Aws;
use crate::blueprint::DeletableKind;
use crate::desired::{Address, Known, Tags};
use crate::discover::{DiscoverError, Read};
use crate::plan::{Action, Change};
use crate::policy::PolicyDocument;

pub use s3_bucket::{Encryption, ObjectLockSpec};

/// One resource kind. Its schema is the implementing type (the spec); the rest says how it
/// is planned and applied.
pub(crate) trait ResourceKind: Variant + Sized + Send + Sync + 'static {
    /// The kind's name in the JSON plan (its `type`).
    const NAME: &'static str;
    /// Deletions run from the highest rank down: what depends on others goes first.
    const RANK: u8;
    /// The `allow_delete` entry that lets lz delete resources of this kind; `None`: never.
    const DELETABLE_WITH: Option<DeletableKind>;

    /// The resource's tags; `None` for kinds that take none (lz then owns what it finds under
    /// its own names or path).
    fn tags(&self) -> Option<&Tags>;

    /// The attributes planning compares, in display order. Identity attributes (names,
    /// emails, paths, regions) are not among them: a resource is found by them.
    fn attributes(&self) -> Vec<(&'static str, Attr<'_>)>;

    /// Records the ids a found resource makes known to expansion (`id` is its id in AWS).
    fn learn(&self, _address: &Address, _id: &str, _known: &mut Known) {}

    /// The id this resource would have once applied, when `known` already holds it.
    fn assumed_id(&self, _known: &Known) -> Option<String> {
        None
    }

    /// Why the change from `found` to `self` cannot be made in place, if it cannot; planning
    /// reports it as a conflict rather than replacing the resource.
    fn impossible(&self, _found: &Self) -> Option<String> {
        None
    }

    /// Why a found resource of ours that is no longer desired is kept although its kind may be
    /// deleted (an organizational unit that still holds accounts).
    fn kept(&self, _actual: &Actual) -> Option<&'static str> {
        None
    }

    /// What this kind reads for itself, in the management account, beyond the shared reads
    /// of [`Read`] (the organization's inventory, each member account's IAM listing, the audit
    /// key and buckets); `()` for kinds those cover.
    type Raw: Default + Send + Sync;

    /// Reads [`Self::Raw`]; the default reads nothing.
    fn read_own(
        _aws: &Aws,
        _read: &Read<'_>,
    ) -> impl Future<Output = Result<Self::Raw, DiscoverError>> + Send {
        async { Ok(Self::Raw::default()) }
    }

    /// Names what discovery read: every resource of this kind found, by address. Pure.
    fn identify(read: &Read<'_>, raw: &Self::Raw) -> Vec<(Address, Observed)>;

    /// What apply re-reads before writing, and learns while writing.
    type Seen: Send + Sync;
    /// One write.
    type Op: Send + Sync + fmt::Debug;

    /// Re-reads what the change is about to write.
    fn read(
        ctx: &Ctx<'_>,
        step: &Step<'_, Self>,
    ) -> impl Future<Output = Result<Self::Seen, StepError>> + Send;

    /// The writes that bring what was seen to what the change wants, in order. Pure.
    fn decide(step: &Step<'_, Self>, seen: &Self::Seen) -> Result<Vec<Self::Op>, StepError>;

    /// Sends one write, recording in `seen` what later writes need (a new id).
    fn send(
        ctx: &Ctx<'_>,
        step: &Step<'_, Self>,
        seen: &mut Self::Seen,
        op: &Self::Op,
    ) -> impl Future<Output = Result<(), StepError>> + Send;
}

/// A found resource, named: its id and what it is, in the blueprint account `account`
/// (`None`: the management account).
pub(crate) fn observed(id: Option<String>, spec: Spec, account: Option<&str>) -> Observed {
    Observed {
        id,
        spec: Arc::new(spec),
        creating: None,
        account: account.map(str::to_owned),
    }
}

/// One change to a resource of kind `K`, as apply performs it.
#[derive(Debug)]
pub(crate) struct Step<'a, K> {
    /// The planned change.
    pub change: &'a Change,
    /// What the resource should be; `None` for a deletion.
    pub want: Option<&'a K>,
    /// What it was when planned; `None` for a creation.
    pub before: Option<&'a K>,
    /// Whether a create was refused because the resource exists after all (a retry whose first
    /// try went through, or a run that stopped before discovery could see it). Found where the
    /// plan expected none, it is brought in line in full.
    pub recovered: bool,
}

impl<K> Step<'_, K> {
    /// Whether `attribute` must be written: everything for a creation, else what differs.
    pub fn touches(&self, attribute: &str) -> bool {
        self.change.action == Action::Create
            || self.change.attributes.iter().any(|a| a.name == attribute)
    }

    /// Whether the whole resource is to be written: a creation, or a recovered one.
    pub fn full(&self) -> bool {
        self.change.action == Action::Create || self.recovered
    }

    /// The blueprint account the resource lives in.
    pub fn account(&self) -> Result<&str, StepError> {
        self.change
            .account
            .as_deref()
            .ok_or_else(|| StepError::NoAccount {
                address: self.change.address.clone(),
            })
    }

    /// The refusal of a deletion lz never makes.
    pub fn never_deleted(&self, why: &'static str) -> StepError {
        StepError::NeverDeleted {
            address: self.change.address.clone(),
            why,
        }
    }
}

/// How one attribute is compared.
pub(crate) enum Attr<'a> {
    /// Equal or not.
    Exact(Value),
    /// Every desired tag must be present with its value; other tags are someone else's.
    Tags(&'a Tags),
    /// Every desired item must be present; others are someone else's.
    Includes(Vec<&'a str>),
    /// Compared by meaning.
    Policy(&'a PolicyDocument),
    /// Named policies, each compared by meaning; the names must match exactly.
    Policies(&'a BTreeMap<String, Arc<PolicyDocument>>),
}

/// A value as JSON, for an [`Attr::Exact`] comparison and the plan's display.
pub(crate) fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A kind's spec inside a [`Spec`]; the registry implements it for every kind.
pub(crate) trait Variant {
    /// This kind's spec, if `spec` is of this kind.
    fn of(spec: &Spec) -> Option<&Self>;
}

/// The registry: one line per kind, `Variant(module::SpecType)`. Declares the kind's module,
/// and generates [`Kind`], [`Spec`], and the dispatch from them to each kind's
/// [`ResourceKind`] implementation.
macro_rules! kinds {
    ($( $(#[$doc:meta])* $variant:ident($module:ident::$spec:ident), )*) => {
        $(
            pub mod $module;
            pub use $module::$spec;
        )*

        /// What kind of AWS resource a spec describes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Kind {
            $( $(#[$doc])* $variant, )*
        }

        /// What one resource should be (or, found, what it is).
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        pub enum Spec {
            $( $(#[$doc])* $variant($spec), )*
        }

        impl Kind {
            /// Every kind, in registry order.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),*];

            /// The kind's name, as in the JSON plan.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Kind::$variant => <$spec as ResourceKind>::NAME, )*
                }
            }

            /// Deletion order: higher ranks are deleted first.
            pub(crate) fn rank(self) -> u8 {
                match self {
                    $( Kind::$variant => <$spec as ResourceKind>::RANK, )*
                }
            }

            /// The `allow_delete` entry that lets lz delete this kind.
            pub(crate) fn deletable_with(self) -> Option<DeletableKind> {
                match self {
                    $( Kind::$variant => <$spec as ResourceKind>::DELETABLE_WITH, )*
                }
            }
        }

        impl Spec {
            /// The kind of resource.
            pub fn kind(&self) -> Kind {
                match self {
                    $( Spec::$variant(_) => Kind::$variant, )*
                }
            }

            /// The resource's tags; `None` for kinds that take none.
            pub fn tags(&self) -> Option<&Tags> {
                match self {
                    $( Spec::$variant(s) => s.tags(), )*
                }
            }

            pub(crate) fn attributes(&self) -> Vec<(&'static str, Attr<'_>)> {
                match self {
                    $( Spec::$variant(s) => s.attributes(), )*
                }
            }

            pub(crate) fn learn(&self, address: &Address, id: &str, known: &mut Known) {
                match self {
                    $( Spec::$variant(s) => s.learn(address, id, known), )*
                }
            }

            pub(crate) fn assumed_id(&self, known: &Known) -> Option<String> {
                match self {
                    $( Spec::$variant(s) => s.assumed_id(known), )*
                }
            }

            /// Why `self` cannot be made from `found` in place (see [`ResourceKind::impossible`]).
            pub(crate) fn impossible(&self, found: &Spec) -> Option<String> {
                match (self, found) {
                    $( (Spec::$variant(want), Spec::$variant(have)) => want.impossible(have), )*
                    _ => None,
                }
            }

            pub(crate) fn kept(&self, actual: &Actual) -> Option<&'static str> {
                match self {
                    $( Spec::$variant(s) => s.kept(actual), )*
                }
            }
        }

        $(
            impl Variant for $spec {
                fn of(spec: &Spec) -> Option<&Self> {
                    match spec {
                        Spec::$variant(s) => Some(s),
                        _ => None,
                    }
                }
            }
        )*

        /// What each kind read for itself.
        #[derive(Default)]
        pub(crate) struct Raws {
            $( $module: <$spec as ResourceKind>::Raw, )*
        }

        /// Reads what each kind reads for itself.
        pub(crate) async fn read_own(aws: &Aws, read: &Read<'_>) -> Result<Raws, DiscoverError> {
            Ok(Raws {
                $( $module: <$spec as ResourceKind>::read_own(aws, read).await?, )*
            })
        }

        /// Every resource discovery read, named by its kind. Pure.
        pub(crate) fn identify(read: &Read<'_>, raws: &Raws) -> Vec<(Address, Observed)> {
            let mut found = Vec::new();
            $( found.extend(<$spec as ResourceKind>::identify(read, &raws.$module)); )*
            found
        }

        /// Performs one planned change, by its kind.
        pub(crate) async fn apply(ctx: &Ctx<'_>, change: &Change) -> Result<(), StepError> {
            match change.kind {
                $( Kind::$variant => crate::apply::execute::<$spec>(ctx, change).await, )*
            }
        }
    };
}

kinds! {
    /// The AWS Organizations organization.
    Organization(organization::OrganizationSpec),
    /// An organizational unit, directly under the root.
    OrganizationalUnit(organizational_unit::OuSpec),
    /// A member account.
    Account(account::AccountSpec),
    /// An IAM role.
    IamRole(iam_role::RoleSpec),
    /// A customer managed IAM policy.
    IamPolicy(iam_policy::PolicySpec),
    /// An IAM group.
    IamGroup(iam_group::GroupSpec),
    /// A KMS key.
    KmsKey(kms_key::KeySpec),
    /// An S3 bucket.
    S3Bucket(s3_bucket::BucketSpec),
    /// A CloudTrail trail.
    CloudtrailTrail(cloudtrail_trail::TrailSpec),
    /// An Organizations policy (service control, resource control or tag policy) and where
    /// it is attached.
    OrganizationsPolicy(organizations_policy::OrgPolicySpec),
    /// A member account's S3 Block Public Access.
    S3AccountPublicAccessBlock(s3_account_public_access_block::PublicAccessBlockSpec),
}

/// The SCPs and RCPs of the organization that lz does not own, as discovery read them.
pub(crate) fn foreign_policies(raws: &Raws) -> Vec<organizations_policy::ForeignPolicy> {
    raws.organizations_policy.foreign.clone()
}

#[cfg(test)]
mod tests;
