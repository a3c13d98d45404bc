//! One apply at a time for a blueprint: a lease held in AWS itself, so that two pipelines
//! applying at once cannot both create the same account or key. No local state: the lease is a
//! customer managed IAM policy in the management account, `lz-lease-<blueprint>` under lz's
//! path, which grants nothing. IAM creates a name once (a second `CreatePolicy` is refused with
//! `EntityAlreadyExists`), which makes it a lock; a tag carries the holder's run id, another
//! its last heartbeat, so that a lease left by a run that died is taken over once stale.
//!
//! Taken only when there is something to change: an apply that finds nothing to do writes
//! nothing, the lease included.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::Tag;

use super::{ApplyError, Event, Live};
use crate::aws::{Aws, call};
use crate::blueprint::Blueprint;

/// The tag naming the run holding the lease.
const RUN_TAG: &str = "lz:lease-run";
/// The tag with the holder's last heartbeat, in milliseconds since the epoch.
const HEARTBEAT_TAG: &str = "lz:lease-heartbeat";
/// A document that grants nothing (a policy needs one statement).
const DOCUMENT: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"LeaseGrantsNothing","Effect":"Deny","Action":"iam:GetPolicy","Resource":"arn:aws:iam::*:policy/lz-lease-grants-nothing"}]}"#;

/// How the lease is held and waited for.
#[derive(Debug, Clone, Copy)]
pub struct LeaseOptions {
    /// How often the holder says it is alive.
    pub heartbeat: Duration,
    /// How old a heartbeat makes a lease abandoned (its run died), to be taken over.
    pub stale_after: Duration,
    /// How long to wait for another apply to finish before giving up.
    pub wait: Duration,
    /// How often to look whether the other apply finished.
    pub poll: Duration,
}

impl Default for LeaseOptions {
    fn default() -> Self {
        LeaseOptions {
            heartbeat: Duration::from_secs(20),
            stale_after: Duration::from_secs(90),
            wait: Duration::from_secs(30 * 60),
            poll: Duration::from_secs(5),
        }
    }
}

/// A lease this run holds.
#[derive(Debug, Clone)]
pub(crate) struct Lease {
    arn: String,
    run: String,
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn tag(key: &str, value: &str) -> Option<Tag> {
    Tag::builder().key(key).value(value).build().ok()
}

impl Lease {
    /// Takes the lease, waiting while another live run holds it.
    pub(crate) async fn acquire(
        aws: &Aws,
        blueprint: &Blueprint,
        options: &LeaseOptions,
        live: &Live,
    ) -> Result<Lease, ApplyError> {
        let caller = aws
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(call("sts.GetCallerIdentity"))?;
        let account = caller.account().unwrap_or_default();
        let path = &blueprint.organization.iam_path;
        let name = format!("lz-lease-{}", blueprint.name);
        let arn = format!("arn:aws:iam::{account}:policy{path}{name}");
        let run = format!(
            "{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let started = Instant::now();
        loop {
            let mut tags = crate::desired::ownership_tags(&blueprint.name);
            tags.insert(RUN_TAG.to_owned(), run.clone());
            tags.insert(HEARTBEAT_TAG.to_owned(), now_millis().to_string());
            let created = aws
                .iam
                .create_policy()
                .policy_name(&name)
                .path(path)
                .description("lz apply lease: one apply at a time for this blueprint")
                .policy_document(DOCUMENT)
                .set_tags(Some(tags.iter().filter_map(|(k, v)| tag(k, v)).collect()))
                .send()
                .await;
            match created {
                Ok(_) => {
                    tracing::info!(lease = %arn, run = %run, "lease taken");
                    return Ok(Lease { arn, run });
                }
                Err(e) if e.code() == Some("EntityAlreadyExists") => {}
                Err(e) => return Err(call("iam.CreatePolicy")(e).into()),
            }
            let Some((holder, heartbeat)) = holder_of(aws, &arn).await? else {
                continue; // released meanwhile
            };
            if holder == run {
                // Our own create, whose answer was lost and retried.
                return Ok(Lease { arn, run });
            }
            let age = Duration::from_millis(now_millis().saturating_sub(heartbeat));
            if age > options.stale_after {
                tracing::warn!(lease = %arn, holder = %holder, ?age, "taking over an abandoned lease");
                match aws.iam.delete_policy().policy_arn(&arn).send().await {
                    Ok(_) => {}
                    Err(e) if e.code() == Some("NoSuchEntity") => {}
                    Err(e) => return Err(call("iam.DeletePolicy")(e).into()),
                }
                continue;
            }
            // Someone else's, alive: wait, reading (not writing) until it is given back or
            // goes stale.
            live.event(Event::Waiting {
                address: crate::desired::Address::organization(),
                message: format!("another apply of this blueprint is running (run {holder})"),
            });
            loop {
                if started.elapsed() > options.wait {
                    return Err(ApplyError::Busy {
                        holder,
                        waited: started.elapsed(),
                    });
                }
                tokio::time::sleep(options.poll).await;
                match holder_of(aws, &arn).await? {
                    Some((_, beat))
                        if Duration::from_millis(now_millis().saturating_sub(beat))
                            <= options.stale_after => {}
                    _ => break,
                }
            }
        }
    }

    /// Says this run is alive.
    pub(crate) async fn beat(&self, aws: &Aws) {
        let sent = aws
            .iam
            .tag_policy()
            .policy_arn(&self.arn)
            .set_tags(tag(HEARTBEAT_TAG, &now_millis().to_string()).map(|t| vec![t]))
            .send()
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %crate::discover::chain(&call("iam.TagPolicy")(e)), "lease heartbeat failed");
        }
    }

    /// Gives the lease back, if it is still this run's.
    pub(crate) async fn release(self, aws: &Aws) {
        match holder_of(aws, &self.arn).await {
            Ok(Some((holder, _))) if holder == self.run => {}
            _ => return,
        }
        if let Err(e) = aws.iam.delete_policy().policy_arn(&self.arn).send().await {
            tracing::warn!(error = %crate::discover::chain(&call("iam.DeletePolicy")(e)), "lease not released; the next apply takes it over once stale");
        }
    }
}

/// Who holds the lease at `arn`, and their last heartbeat; `None` when no one does.
async fn holder_of(aws: &Aws, arn: &str) -> Result<Option<(String, u64)>, ApplyError> {
    match aws.iam.list_policy_tags().policy_arn(arn).send().await {
        Ok(out) => {
            let get = |key: &str| {
                out.tags()
                    .iter()
                    .find(|t| t.key() == key)
                    .map(|t| t.value().to_owned())
            };
            let heartbeat = get(HEARTBEAT_TAG).and_then(|h| h.parse().ok()).unwrap_or(0);
            Ok(Some((get(RUN_TAG).unwrap_or_default(), heartbeat)))
        }
        Err(e) if e.code() == Some("NoSuchEntity") => Ok(None),
        Err(e) => Err(call("iam.ListPolicyTags")(e).into()),
    }
}
