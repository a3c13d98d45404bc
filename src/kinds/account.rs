//! Member accounts: created (never closed), moved into their unit, tagged. Found by email,
//! which AWS keeps unique; a creation in progress is found by account name.
//!
//! Account creation is the one write whose effect spans minutes: the request, then polling
//! until AWS finishes. CreateAccount has no idempotency token, so the effect looks for a
//! creation of the same account before every attempt, and never lets the SDK retry it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use aws_sdk_organizations::types::{CreateAccountFailureReason, CreateAccountState, ParentType};
use serde::{Deserialize, Serialize};

use super::organizational_unit::{ou_id, root_id};
use super::writes::{organizations_tags, throttled, transient};
use super::{Attr, ResourceKind, Step, json, observed};
use crate::actual::Observed;
use crate::apply::{Ctx, Event, StepError};
use crate::aws::call;
use crate::blueprint::DeletableKind;
use crate::blueprint::Blueprint;
use crate::desired::{Address, Known, Spec, Tags, accounts};
use crate::discover::{Inventory, ROOT, Read, ou_name};
use crate::discover::organizations::AccountInfo;
use crate::plan::{Action, Change};

/// A member account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccountSpec {
    /// Its name.
    pub name: String,
    /// Its email: the account's identity in AWS.
    pub email: String,
    /// The name of the organizational unit that holds it.
    pub ou: String,
    /// Tags, the ownership tags among them.
    pub tags: Tags,
}

/// What apply knows of the account.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Its id, once it exists.
    id: Option<String>,
}

/// One write to an account.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// CreateAccount (or the creation already requested), then wait for it.
    Create,
    /// MoveAccount into its unit, from wherever it is.
    Move,
    /// TagResource.
    Tag,
}

impl ResourceKind for AccountSpec {
    const NAME: &'static str = "account";
    const RANK: u8 = 2;
    const DELETABLE_WITH: Option<DeletableKind> = None;

    fn tags(&self) -> Option<&Tags> {
        Some(&self.tags)
    }

    fn attributes(&self) -> Vec<(&'static str, Attr<'_>)> {
        vec![
            ("ou", Attr::Exact(json(&self.ou))),
            ("tags", Attr::Tags(&self.tags)),
        ]
    }

    fn learn(&self, address: &Address, id: &str, known: &mut Known) {
        if let Some(name) = address.as_str().strip_prefix("account.") {
            known.account_ids.insert(name.to_owned(), id.to_owned());
        }
    }

    fn assumed_id(&self, known: &Known) -> Option<String> {
        known.account_ids.get(&self.name).cloned()
    }

    type Raw = ();

    fn identify(read: &Read<'_>, _: &()) -> Vec<(Address, Observed)> {
        let inventory = &read.organization;
        let mut names = BTreeSet::new();
        let mut found = Vec::new();
        for (name, account) in matched(inventory, read.blueprint) {
            names.insert(name.clone());
            let spec = AccountSpec {
                name: account.name.clone(),
                email: account.email.clone(),
                ou: account
                    .parent_ou
                    .as_deref()
                    .map(|id| ou_name(inventory, id))
                    .unwrap_or_else(|| ROOT.to_owned()),
                tags: inventory
                    .account_tags
                    .get(&account.id)
                    .cloned()
                    .unwrap_or_default(),
            };
            found.push((
                Address::account(&name),
                observed(Some(account.id.clone()), Spec::Account(spec), None),
            ));
        }
        let planned = accounts(read.blueprint);
        for request in &inventory.creating {
            let Some(account) = planned.iter().find(|a| a.name == request.account_name) else {
                continue;
            };
            // Found already, or another request for it seen first.
            if !names.insert(account.name.clone()) {
                continue;
            }
            let spec = AccountSpec {
                name: request.account_name.clone(),
                email: account.email.to_ascii_lowercase(),
                ou: ROOT.to_owned(),
                tags: Tags::new(),
            };
            found.push((
                Address::account(&account.name),
                Observed {
                    creating: Some(request.id.clone()),
                    ..observed(None, Spec::Account(spec), None)
                },
            ));
        }
        found
    }

    type Seen = Seen;
    type Op = Op;

    async fn read(_ctx: &Ctx<'_>, step: &Step<'_, Self>) -> Result<Seen, StepError> {
        Ok(Seen {
            id: step.change.id.clone(),
        })
    }

    fn decide(step: &Step<'_, Self>, seen: &Seen) -> Result<Vec<Op>, StepError> {
        if step.want.is_none() {
            return Err(step.never_deleted("lz never closes an account"));
        }
        let mut ops = Vec::new();
        if seen.id.is_none() {
            ops.push(Op::Create);
        }
        if step.touches("ou") {
            ops.push(Op::Move);
        }
        // A new account gets its tags with its creation.
        if step.change.action != Action::Create && step.touches("tags") {
            ops.push(Op::Tag);
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
        match (op, &seen.id) {
            (Op::Create, _) => {
                let id = create_account(ctx, step.change, spec).await?;
                // Later waves of this round (the roles in it) need the new account's id.
                ctx.live.remember_account(&spec.name, &id);
                seen.id = Some(id);
            }
            (Op::Move, Some(id)) => move_account(ctx, id, spec).await?,
            (Op::Tag, Some(id)) => {
                ctx.aws
                    .organizations
                    .tag_resource()
                    .resource_id(id)
                    .set_tags(Some(organizations_tags(&spec.tags)))
                    .send()
                    .await
                    .map_err(call("organizations.TagResource"))?;
            }
            (Op::Move | Op::Tag, None) => {
                return Err(StepError::AccountMissing {
                    account: spec.name.clone(),
                });
            }
        }
        Ok(())
    }
}

/// The organization's accounts that are the blueprint's, with their blueprint names: matched
/// by email, which AWS keeps unique; the management account is never one of them.
fn matched<'a>(inventory: &'a Inventory, blueprint: &Blueprint) -> Vec<(String, &'a AccountInfo)> {
    let Some(org) = &inventory.organization else {
        return Vec::new();
    };
    let by_email: HashMap<String, String> = accounts(blueprint)
        .into_iter()
        .map(|a| (a.email.to_ascii_lowercase(), a.name))
        .collect();
    inventory
        .accounts
        .iter()
        .filter(|a| a.id != org.management_account_id)
        .filter_map(|a| Some((by_email.get(&a.email.to_ascii_lowercase())?.clone(), a)))
        .collect()
}

/// The ids of the blueprint's accounts that exist, by name: the accounts discovery reads.
pub(crate) fn member_ids(inventory: &Inventory, blueprint: &Blueprint) -> BTreeMap<String, String> {
    matched(inventory, blueprint)
        .into_iter()
        .map(|(name, account)| (name, account.id.clone()))
        .collect()
}

/// Creates the account, or finds the creation a previous run started, and waits for it.
async fn create_account(
    ctx: &Ctx<'_>,
    change: &Change,
    spec: &AccountSpec,
) -> Result<String, StepError> {
    let _slot = ctx.live.creation_slot().await;
    // A creation found in progress is matched by account name, all a creation request
    // carries; whether it makes this account is known when it is done, by the account's email.
    let (mut request, mut verified) = match &change.creating {
        Some(request) => (request.clone(), false),
        None => request_account(ctx, spec).await?,
    };
    loop {
        match wait_for_account(ctx, change, spec, &request).await? {
            Some(id)
                if verified
                    || email_of(ctx, &id)
                        .await?
                        .is_some_and(|e| e.eq_ignore_ascii_case(&spec.email)) =>
            {
                return Ok(id);
            }
            Some(other) => {
                tracing::warn!(
                    account = %spec.name,
                    other = %other,
                    "a creation of the same name made another account; asking for this one"
                );
                (request, verified) = request_account(ctx, spec).await?;
            }
            // AWS refused it because another change to the organization was under way
            // (CONCURRENT_ACCOUNT_MODIFICATION): ask again, as AWS advises.
            None => {
                tokio::time::sleep(ctx.live.polling().initial).await;
                (request, verified) = request_account(ctx, spec).await?;
            }
        }
    }
}

/// Asks for the account. CreateAccount carries no idempotency token, so the SDK must not
/// retry it: an answer lost on the way back would become a second account. Before the first
/// try, discovery has already looked for a creation of this account (a run that stopped after
/// asking); only after a failure that may have gone through (a 5xx, a lost answer) does lz list
/// the creations again before asking once more. Throttling (`TooManyRequestsException`) means
/// AWS did nothing: wait and ask again, for as long as polling allows, never failing apply.
///
/// Returns the request, and whether it is known to make this account (lz asked for it, or it
/// finished with this account's email) rather than matched by name while in progress.
async fn request_account(
    ctx: &Ctx<'_>,
    spec: &AccountSpec,
) -> Result<(String, bool), StepError> {
    let polling = ctx.live.polling();
    let started = Instant::now();
    let mut pause = Duration::from_millis(200);
    let mut unsure = false;
    loop {
        if unsure && let Some(request) = requested(ctx, spec).await? {
            return Ok(request);
        }
        let created = ctx
            .aws
            .organizations
            .create_account()
            .email(&spec.email)
            .account_name(&spec.name)
            .role_name(ctx.live.access_role())
            .set_tags(Some(organizations_tags(&spec.tags)))
            .customize()
            .config_override(
                aws_sdk_organizations::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        match created {
            Ok(out) => {
                let id = out.create_account_status.and_then(|s| s.id).ok_or(
                    StepError::IncompleteAnswer {
                        operation: "organizations.CreateAccount",
                        missing: "request id",
                    },
                )?;
                return Ok((id, true));
            }
            Err(e) if transient(&e) && started.elapsed() < polling.timeout => {
                let throttled = throttled(&e);
                unsure |= !throttled;
                tracing::info!(account = %spec.name, throttled, "CreateAccount failed; asking again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(polling.max.max(Duration::from_millis(200)));
            }
            Err(e) => return Err(call("organizations.CreateAccount")(e).into()),
        }
    }
}

/// The request that creates, or created, this account: in progress under its name, or done
/// for an account of the organization that has its email (a request whose answer was lost).
async fn requested(
    ctx: &Ctx<'_>,
    spec: &AccountSpec,
) -> Result<Option<(String, bool)>, StepError> {
    let pages = ctx.aws
        .organizations
        .list_create_account_status()
        .states(CreateAccountState::InProgress)
        .states(CreateAccountState::Succeeded)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(call("organizations.ListCreateAccountStatus"))?;
    for status in pages
        .iter()
        .flat_map(|p| p.create_account_statuses())
        .filter(|s| s.account_name() == Some(spec.name.as_str()))
    {
        let Some(id) = status.id() else { continue };
        if status.state() == Some(&CreateAccountState::InProgress) {
            return Ok(Some((id.to_owned(), false)));
        }
        let Some(account) = status.account_id() else {
            continue;
        };
        if email_of(ctx, account)
            .await?
            .is_some_and(|e| e.eq_ignore_ascii_case(&spec.email))
        {
            return Ok(Some((id.to_owned(), true)));
        }
    }
    Ok(None)
}

/// The email of account `id`; `None` for an account that left the organization.
async fn email_of(ctx: &Ctx<'_>, id: &str) -> Result<Option<String>, StepError> {
    let described = ctx
        .aws
        .organizations
        .describe_account()
        .account_id(id)
        .send()
        .await;
    match described {
        Ok(out) => Ok(out.account.and_then(|a| a.email)),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_account_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(call("organizations.DescribeAccount")(e).into()),
    }
}

/// Polls the creation until AWS finishes it: the new account's id, or `None` when AWS refused it
/// for a reason that means "ask again".
async fn wait_for_account(
    ctx: &Ctx<'_>,
    change: &Change,
    spec: &AccountSpec,
    request: &str,
) -> Result<Option<String>, StepError> {
    let polling = ctx.live.polling();
    let started = Instant::now();
    let mut pause = polling.initial;
    loop {
        let status = ctx.aws
            .organizations
            .describe_create_account_status()
            .create_account_request_id(request)
            .send()
            .await
            .map_err(call("organizations.DescribeCreateAccountStatus"))?
            .create_account_status
            .unwrap_or_else(|| {
                aws_sdk_organizations::types::CreateAccountStatus::builder().build()
            });
        match status.state() {
            Some(CreateAccountState::Succeeded) => {
                return status
                    .account_id()
                    .map(|id| Some(id.to_owned()))
                    .ok_or(StepError::IncompleteAnswer {
                        operation: "organizations.DescribeCreateAccountStatus",
                        missing: "account id",
                    });
            }
            Some(CreateAccountState::Failed)
                if status.failure_reason()
                    == Some(&CreateAccountFailureReason::ConcurrentAccountModification) =>
            {
                tracing::info!(account = %spec.name, "creation refused while the organization was changing; asking again");
                return Ok(None);
            }
            Some(CreateAccountState::Failed) => {
                return Err(StepError::AccountCreationFailed {
                    account: spec.name.clone(),
                    reason: status
                        .failure_reason()
                        .map(|r| r.as_str().to_owned())
                        .unwrap_or_else(|| "no reason given".to_owned()),
                });
            }
            _ if started.elapsed() >= polling.timeout => {
                return Err(StepError::CreationTimedOut {
                    account: spec.name.clone(),
                    request: request.to_owned(),
                    waited: started.elapsed(),
                });
            }
            _ => {
                ctx.live.event(Event::Waiting {
                    address: change.address.clone(),
                    message: format!("account {} is being created", spec.name),
                });
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(polling.max).max(Duration::from_millis(1));
            }
        }
    }
}

/// Moves the account into its OU, from wherever it is now.
async fn move_account(
    ctx: &Ctx<'_>,
    id: &str,
    spec: &AccountSpec,
) -> Result<(), StepError> {
    let org = &ctx.aws.organizations;
    let destination = if spec.ou == ROOT {
        root_id(ctx).await?
    } else {
        ou_id(ctx, &spec.ou)
            .await?
            .ok_or_else(|| StepError::NotFound {
                what: "organizational unit",
                name: spec.ou.clone(),
            })?
    };
    let parents = org
        .list_parents()
        .child_id(id)
        .send()
        .await
        .map_err(call("organizations.ListParents"))?;
    let Some(source) = parents
        .parents()
        .iter()
        .find(|p| {
            matches!(
                p.r#type(),
                Some(ParentType::Root | ParentType::OrganizationalUnit)
            )
        })
        .and_then(|p| p.id())
    else {
        return Err(StepError::IncompleteAnswer {
            operation: "organizations.ListParents",
            missing: "parent",
        });
    };
    if source == destination {
        return Ok(());
    }
    let moved = org
        .move_account()
        .account_id(id)
        .source_parent_id(source)
        .destination_parent_id(destination.clone())
        .send()
        .await;
    if let Err(e) = moved {
        // A retry of a move that went through finds the account gone from its source.
        let parents = org
            .list_parents()
            .child_id(id)
            .send()
            .await
            .map_err(call("organizations.ListParents"))?;
        if !parents
            .parents()
            .iter()
            .any(|p| p.id() == Some(destination.as_str()))
        {
            return Err(call("organizations.MoveAccount")(e).into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::tests::{change, step};

    fn spec() -> AccountSpec {
        AccountSpec {
            name: "lumo-prod".to_owned(),
            email: "aws+lumo-prod@example.com".to_owned(),
            ou: "Prod".to_owned(),
            tags: Tags::new(),
        }
    }

    #[test]
    fn a_new_account_is_created_then_moved_with_its_tags_given_at_creation() {
        let (want, change) = (spec(), change(Action::Create, &[]));
        let ops = AccountSpec::decide(&step(&change, Some(&want), None), &Seen::default());
        assert_eq!(ops.unwrap(), [Op::Create, Op::Move]);
    }

    #[test]
    fn an_adopted_account_is_moved_and_tagged_as_planned_and_never_created() {
        let want = spec();
        let seen = Seen {
            id: Some("111122223333".to_owned()),
        };
        let moved = change(Action::Adopt, &["ou", "tags"]);
        let ops = AccountSpec::decide(&step(&moved, Some(&want), None), &seen);
        assert_eq!(ops.unwrap(), [Op::Move, Op::Tag]);
        let tagged = change(Action::Update, &["tags"]);
        let ops = AccountSpec::decide(&step(&tagged, Some(&want), None), &seen);
        assert_eq!(ops.unwrap(), [Op::Tag]);
    }

    #[test]
    fn an_account_is_never_closed() {
        let change = change(Action::Delete, &[]);
        let seen = Seen {
            id: Some("111122223333".to_owned()),
        };
        let decided = AccountSpec::decide(&step(&change, None, Some(&spec())), &seen);
        assert!(matches!(decided, Err(StepError::NeverDeleted { .. })));
    }
}
