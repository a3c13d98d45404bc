//! Account-level S3 Block Public Access in a member account (CIS AWS Foundations 2.1.4, AWS
//! Security Hub S3.1): the four settings on for every bucket of the account, present and
//! future, whatever each bucket's own settings say. It lives in S3 Control, one per account,
//! and takes no tags: lz owns the one of every account it makes, and never removes it.

use serde::{Deserialize, Serialize};

use super::{Attr, ResourceKind, Step, json, observed};
use crate::actual::Observed;
use crate::apply::{Ctx, StepError};
use crate::aws::{CallError, Member, call};
use crate::desired::{Address, Spec, Tags};
use crate::discover::Read;

/// The account's Block Public Access settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PublicAccessBlockSpec {
    /// Refuse requests that grant public access by ACL.
    pub block_public_acls: bool,
    /// Ignore public ACLs that exist.
    pub ignore_public_acls: bool,
    /// Refuse bucket and access point policies that grant public access.
    pub block_public_policy: bool,
    /// Only AWS services and the account's principals reach a bucket with a public policy.
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlockSpec {
    /// Every setting on.
    pub const ALL_ON: PublicAccessBlockSpec = PublicAccessBlockSpec {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
}

/// One write: PutPublicAccessBlock with every setting.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Put;

impl ResourceKind for PublicAccessBlockSpec {
    const NAME: &'static str = "s3_account_public_access_block";
    const RANK: u8 = 3;
    // Removing it opens every bucket of the account to whatever their own settings allow.
    const DELETABLE_WITH: Option<crate::blueprint::DeletableKind> = None;

    fn tags(&self) -> Option<&Tags> {
        None
    }

    fn attributes(&self) -> Vec<(&'static str, Attr<'_>)> {
        vec![
            ("block_public_acls", Attr::Exact(json(&self.block_public_acls))),
            ("ignore_public_acls", Attr::Exact(json(&self.ignore_public_acls))),
            ("block_public_policy", Attr::Exact(json(&self.block_public_policy))),
            (
                "restrict_public_buckets",
                Attr::Exact(json(&self.restrict_public_buckets)),
            ),
        ]
    }

    /// Read with each member account, in discovery's per-account reads.
    type Raw = ();

    fn identify(read: &Read<'_>, _raw: &()) -> Vec<(Address, Observed)> {
        read.public_access_blocks
            .iter()
            .filter_map(|(account, (id, found))| {
                let spec = Spec::S3AccountPublicAccessBlock((*found)?);
                Some((
                    Address::public_access_block(account),
                    observed(Some(id.clone()), spec, Some(account)),
                ))
            })
            .collect()
    }

    type Seen = Option<PublicAccessBlockSpec>;
    type Op = Put;

    async fn read(ctx: &Ctx<'_>, step: &Step<'_, Self>) -> Result<Self::Seen, StepError> {
        let account = step.account()?;
        let member = ctx.member(account).await?;
        Ok(read(&member, &ctx.live.account_id(account)?).await?)
    }

    fn decide(step: &Step<'_, Self>, seen: &Self::Seen) -> Result<Vec<Put>, StepError> {
        let Some(want) = step.want else {
            return Err(step.never_deleted("lz never turns Block Public Access off"));
        };
        Ok(if seen.as_ref() == Some(want) {
            Vec::new()
        } else {
            vec![Put]
        })
    }

    async fn send(
        ctx: &Ctx<'_>,
        step: &Step<'_, Self>,
        _seen: &mut Self::Seen,
        _op: &Put,
    ) -> Result<(), StepError> {
        let Some(want) = step.want else {
            return Ok(());
        };
        let account = step.account()?;
        let member = ctx.member(account).await?;
        let settings = aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
            .block_public_acls(want.block_public_acls)
            .ignore_public_acls(want.ignore_public_acls)
            .block_public_policy(want.block_public_policy)
            .restrict_public_buckets(want.restrict_public_buckets)
            .build();
        member
            .s3control
            .put_public_access_block()
            .account_id(ctx.live.account_id(account)?)
            .public_access_block_configuration(settings)
            .send()
            .await
            .map_err(call("s3control.PutPublicAccessBlock"))?;
        Ok(())
    }
}

/// The settings of account `account_id`; `None` when it has none (everything off).
pub(crate) async fn read(
    member: &Member,
    account_id: &str,
) -> Result<Option<PublicAccessBlockSpec>, CallError> {
    match member
        .s3control
        .get_public_access_block()
        .account_id(account_id)
        .send()
        .await
    {
        Ok(out) => Ok(out.public_access_block_configuration().map(|c| {
            PublicAccessBlockSpec {
                block_public_acls: c.block_public_acls().unwrap_or(false),
                ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
                block_public_policy: c.block_public_policy().unwrap_or(false),
                restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
            }
        })),
        Err(e)
            if aws_sdk_s3control::error::ProvideErrorMetadata::code(&e)
                == Some("NoSuchPublicAccessBlockConfiguration") =>
        {
            Ok(None)
        }
        Err(e) => Err(call("s3control.GetPublicAccessBlock")(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests::{change, step};
    use crate::plan::Action;

    #[test]
    fn settings_off_or_absent_are_put_and_settings_on_are_left() {
        let want = PublicAccessBlockSpec::ALL_ON;
        let change = change(Action::Update, &["block_public_policy"]);
        let step = step(&change, Some(&want), None);
        let one_off = PublicAccessBlockSpec {
            block_public_policy: false,
            ..want
        };
        assert_eq!(
            PublicAccessBlockSpec::decide(&step, &Some(one_off)).unwrap(),
            [Put]
        );
        assert_eq!(PublicAccessBlockSpec::decide(&step, &None).unwrap(), [Put]);
        assert_eq!(
            PublicAccessBlockSpec::decide(&step, &Some(want)).unwrap(),
            []
        );
    }

    #[test]
    fn it_is_never_removed() {
        let (before, change) = (PublicAccessBlockSpec::ALL_ON, change(Action::Delete, &[]));
        let step = step(&change, None, Some(&before));
        assert!(matches!(
            PublicAccessBlockSpec::decide(&step, &None),
            Err(StepError::NeverDeleted { .. })
        ));
    }
}
