//! The audit log's KMS key, in the log-archive account, found by its alias. Never deleted,
//! never scheduled for deletion. Its policy and description are given at creation.

use aws_sdk_kms::types::{KeySpec as KmsKeySpec, KeyUsageType, Tag as KmsTag};
use serde::{Deserialize, Serialize};

use super::writes::transient;
use super::{Attr, ResourceKind, Step, json, observed};
use crate::actual::Observed;
use crate::apply::{Ctx, StepError};
use crate::aws::call;
use crate::blueprint::DeletableKind;
use crate::desired::audit::AUDIT;
use crate::desired::{Address, Known, Spec, Tags};
use crate::discover::{Read, list_aliases};
use crate::policy::PolicyDocument;

/// A customer managed KMS key, found by its alias.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KeySpec {
    /// The alias, with its `alias/` prefix.
    pub alias: String,
    /// The description.
    pub description: String,
    /// Whether yearly rotation is on.
    pub rotation: bool,
    /// The key policy.
    pub policy: PolicyDocument,
    /// Tags, the ownership tags among them.
    pub tags: Tags,
}

/// What apply knows of the key.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Its id or ARN, once it exists.
    key: Option<String>,
    /// Whether its alias points at it.
    aliased: bool,
}

/// One write to the key.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// CreateKey with its policy, description and tags (or a key of ours left without its
    /// alias by an interrupted run).
    Create,
    /// CreateAlias.
    Alias,
    /// EnableKeyRotation.
    Rotation,
    /// PutKeyPolicy.
    Policy,
    /// UpdateKeyDescription.
    Description,
    /// TagResource.
    Tag,
}

impl ResourceKind for KeySpec {
    const NAME: &'static str = "kms_key";
    const RANK: u8 = 3;
    const DELETABLE_WITH: Option<DeletableKind> = None;

    fn tags(&self) -> Option<&Tags> {
        Some(&self.tags)
    }

    fn attributes(&self) -> Vec<(&'static str, Attr<'_>)> {
        vec![
            ("description", Attr::Exact(json(&self.description))),
            ("rotation", Attr::Exact(json(&self.rotation))),
            ("policy", Attr::Policy(&self.policy)),
            ("tags", Attr::Tags(&self.tags)),
        ]
    }

    fn learn(&self, address: &Address, id: &str, known: &mut Known) {
        known.key_arns.insert(address.clone(), id.to_owned());
    }

    type Raw = ();

    fn identify(read: &Read<'_>, _: &()) -> Vec<(Address, Observed)> {
        let account = read.blueprint.accounts.log_archive.name.as_str();
        read.log_archive
            .iter()
            .filter_map(|audit| audit.key.as_ref())
            .map(|key| {
                (
                    Address::key(AUDIT),
                    observed(key.id.clone(), Spec::KmsKey(key.spec.clone()), Some(account)),
                )
            })
            .collect()
    }

    type Seen = Seen;
    type Op = Op;

    async fn read(ctx: &Ctx<'_>, step: &Step<'_, Self>) -> Result<Seen, StepError> {
        let Some(want) = step.want else {
            return Ok(Seen::default());
        };
        if !step.recovered {
            return Ok(Seen {
                key: step.change.id.clone(),
                aliased: step.change.id.is_some(),
            });
        }
        // The alias was refused as existing: it was made after all; find its key.
        let member = ctx.member(step.account()?).await?;
        let key = list_aliases(&member.kms)
            .await?
            .into_iter()
            .find(|a| a.alias_name() == Some(want.alias.as_str()))
            .and_then(|a| a.target_key_id().map(str::to_owned));
        Ok(Seen {
            aliased: key.is_some(),
            key,
        })
    }

    fn decide(step: &Step<'_, Self>, seen: &Seen) -> Result<Vec<Op>, StepError> {
        if step.want.is_none() {
            return Err(step.never_deleted("it is part of the audit log"));
        }
        let full = step.full();
        let mut ops = Vec::new();
        if seen.key.is_none() {
            ops.push(Op::Create);
        }
        if !seen.aliased {
            ops.push(Op::Alias);
        }
        if full || step.touches("rotation") {
            ops.push(Op::Rotation);
        }
        // A new key got these with its creation.
        for (attribute, op) in [
            ("policy", Op::Policy),
            ("description", Op::Description),
            ("tags", Op::Tag),
        ] {
            if !full && step.touches(attribute) {
                ops.push(op);
            }
        }
        Ok(ops)
    }

    async fn send(
        ctx: &Ctx<'_>,
        step: &Step<'_, Self>,
        seen: &mut Seen,
        op: &Op,
    ) -> Result<(), StepError> {
        let Some(spec) = step.want else {
            return Ok(());
        };
        let member = ctx.member(step.account()?).await?;
        let kms = &member.kms;
        if *op == Op::Create {
            seen.key = Some(create_key(kms, spec).await?);
            return Ok(());
        }
        let Some(key) = seen.key.as_deref() else {
            return Err(StepError::NotFound {
                what: "key",
                name: spec.alias.clone(),
            });
        };
        match op {
            Op::Create => {}
            Op::Alias => {
                kms.create_alias()
                    .alias_name(&spec.alias)
                    .target_key_id(key)
                    .send()
                    .await
                    .map_err(call("kms.CreateAlias"))?;
                seen.aliased = true;
            }
            Op::Rotation => {
                kms.enable_key_rotation()
                    .key_id(key)
                    .send()
                    .await
                    .map_err(call("kms.EnableKeyRotation"))?;
            }
            Op::Policy => {
                kms.put_key_policy()
                    .key_id(key)
                    .policy_name("default")
                    .policy(spec.policy.to_json())
                    .send()
                    .await
                    .map_err(call("kms.PutKeyPolicy"))?;
            }
            Op::Description => {
                kms.update_key_description()
                    .key_id(key)
                    .description(&spec.description)
                    .send()
                    .await
                    .map_err(call("kms.UpdateKeyDescription"))?;
            }
            Op::Tag => {
                kms.tag_resource()
                    .key_id(key)
                    .set_tags(Some(key_tags(spec)?))
                    .send()
                    .await
                    .map_err(call("kms.TagResource"))?;
            }
        }
        Ok(())
    }
}

fn key_tags(spec: &KeySpec) -> Result<Vec<KmsTag>, StepError> {
    spec.tags
        .iter()
        .map(|(k, v)| Ok(KmsTag::builder().tag_key(k).tag_value(v).build()?))
        .collect()
}

/// Creates the key, once. CreateKey has no idempotency token, so the SDK must not retry it (a
/// lost answer would leave a second key); after a failure lz looks for the key by its tags
/// before trying again.
async fn create_key(kms: &aws_sdk_kms::Client, spec: &KeySpec) -> Result<String, StepError> {
    let mut pause = std::time::Duration::from_millis(200);
    for attempt in 1.. {
        if let Some(id) = orphan_key(kms, spec).await? {
            return Ok(id);
        }
        let created = kms
            .create_key()
            .description(&spec.description)
            .key_usage(KeyUsageType::EncryptDecrypt)
            .key_spec(KmsKeySpec::SymmetricDefault)
            .policy(spec.policy.to_json())
            .set_tags(Some(key_tags(spec)?))
            .customize()
            .config_override(
                aws_sdk_kms::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        match created {
            Ok(out) => {
                return out.key_metadata().map(|m| m.key_id().to_owned()).ok_or(
                    StepError::IncompleteAnswer {
                        operation: "kms.CreateKey",
                        missing: "key",
                    },
                );
            }
            // Throttled, a 5xx, or no answer: look for the key again, then ask again.
            Err(e) if transient(&e) && attempt < crate::aws::MAX_ATTEMPTS => {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            Err(e) => return Err(call("kms.CreateKey")(e).into()),
        }
    }
    unreachable!("the loop returns")
}

/// A key of ours whose alias was never made: a run stopped between CreateKey and CreateAlias.
/// Reusing it keeps a crash from leaving one more key behind each time.
async fn orphan_key(
    kms: &aws_sdk_kms::Client,
    spec: &KeySpec,
) -> Result<Option<String>, StepError> {
    let keys = kms
        .list_keys()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(call("kms.ListKeys"))?;
    let aliases = list_aliases(kms).await?;
    for key in keys {
        let Some(id) = key.key_id() else { continue };
        if aliases.iter().any(|a| a.target_key_id() == Some(id)) {
            continue;
        }
        let tags = kms
            .list_resource_tags()
            .key_id(id)
            .send()
            .await
            .map_err(call("kms.ListResourceTags"))?;
        // Its tags include `lz:key`, naming which of lz's keys it is.
        let ours = spec.tags.iter().all(|(k, v)| {
            tags.tags()
                .iter()
                .any(|t| t.tag_key() == k && t.tag_value() == v)
        });
        if ours {
            return Ok(Some(id.to_owned()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests::{change, step};
    use crate::plan::Action;

    fn spec() -> KeySpec {
        KeySpec {
            alias: "alias/lz-audit".to_owned(),
            description: "audit".to_owned(),
            rotation: true,
            policy: PolicyDocument::new(Vec::new()),
            tags: Tags::new(),
        }
    }

    #[test]
    fn a_new_key_is_created_aliased_and_rotated_its_policy_given_at_creation() {
        let (want, change) = (spec(), change(Action::Create, &[]));
        let ops = KeySpec::decide(&step(&change, Some(&want), None), &Seen::default());
        assert_eq!(ops.unwrap(), [Op::Create, Op::Alias, Op::Rotation]);
    }

    #[test]
    fn a_drifted_key_gets_back_its_policy_and_nothing_else() {
        let (want, change) = (spec(), change(Action::Update, &["policy"]));
        let seen = Seen {
            key: Some("arn:aws:kms:eu-west-3:111122223333:key/1".to_owned()),
            aliased: true,
        };
        let ops = KeySpec::decide(&step(&change, Some(&want), None), &seen);
        assert_eq!(ops.unwrap(), [Op::Policy]);
    }

    #[test]
    fn the_audit_key_is_never_deleted() {
        let change = change(Action::Delete, &[]);
        let decided = KeySpec::decide(&step(&change, None, Some(&spec())), &Seen::default());
        assert!(matches!(decided, Err(StepError::NeverDeleted { .. })));
    }
}
