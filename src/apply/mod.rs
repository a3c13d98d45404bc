//! Apply: the effects of a plan, in rounds, until the organization matches the blueprint.
//!
//! A round discovers, expands, plans, and performs the plan's changes, each as soon as what it
//! depends on in the round is done ([`schedule`]), with bounded concurrency. A change that
//! needs an id that does not exist yet (a role in an account being created) waits for the next
//! round, which starts from a fresh discovery and so sees the new ids. A later round re-reads
//! the organization and only the member accounts the previous round wrote in (or that are new);
//! the others were read moments before and lz changed nothing in them. Every step re-checks
//! what it is about to change before it writes, and is written so that running it again after
//! a crash finishes the job rather than repeating it. Apply ends with a last discovery and
//! plan: what it reports as remaining is what did not converge.

mod execute;
mod lease;
mod schedule;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::actual::Actual;
use crate::aws::{AssumeError, Aws, CallError, Member};
use crate::blueprint::Blueprint;
use crate::desired::{Address, Spec};
use crate::discover::{AccountReads, DiscoverError, discover, discover_again};
use crate::plan::{Action, Change, Conflict, Plan};

/// A callback for [`Event`]s.
pub type EventHandler = Arc<dyn Fn(&Event) + Send + Sync>;

/// How apply runs.
#[derive(Clone)]
pub struct ApplyOptions {
    /// How many changes run at once (account creations run beside them, five at once).
    pub parallelism: usize,
    /// How many discover-plan-apply rounds at most (one per level of ids that must exist first).
    pub max_rounds: usize,
    /// How account creations are polled.
    pub polling: Polling,
    /// How the lease that keeps two applies from running at once is held and waited for.
    pub lease: LeaseOptions,
    /// Called as apply progresses.
    pub on_event: Option<EventHandler>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 4,
            max_rounds: 4,
            polling: Polling::default(),
            lease: LeaseOptions::default(),
            on_event: None,
        }
    }
}

impl std::fmt::Debug for ApplyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplyOptions")
            .field("parallelism", &self.parallelism)
            .field("max_rounds", &self.max_rounds)
            .field("polling", &self.polling)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

/// Backoff for polling an asynchronous operation (CreateAccount).
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    /// The first wait.
    pub initial: Duration,
    /// The longest wait between two polls.
    pub max: Duration,
    /// When to give up.
    pub timeout: Duration,
}

impl Default for Polling {
    /// A creation is noticed within 5 seconds of finishing: AWS takes from about half a minute
    /// to a few minutes per account, and at most five are in progress, so polling each every 5
    /// seconds sends at most one `DescribeCreateAccountStatus` a second, far below what
    /// Organizations throttles.
    fn default() -> Self {
        Polling {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(5),
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// Progress, for a caller that shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A round begins with this many changes to make.
    Round {
        /// 1-based.
        number: usize,
        /// Changes planned in it.
        changes: usize,
    },
    /// A change started.
    Started {
        /// The resource.
        address: Address,
        /// What is done to it.
        action: Action,
    },
    /// A change finished.
    Finished {
        /// The resource.
        address: Address,
        /// What was done to it.
        action: Action,
    },
    /// A change waits for something in AWS (an account being created).
    Waiting {
        /// The resource.
        address: Address,
        /// What it waits for.
        message: String,
    },
}

/// What apply did.
#[derive(Debug, Clone)]
pub struct ApplyReport {
    /// Every change made, in the order they finished.
    pub applied: Vec<(Address, Action)>,
    /// Rounds run.
    pub rounds: usize,
    /// The plan made after the last round: empty when the organization matches the blueprint.
    pub remaining: Plan,
}

/// Why apply stopped.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Reading the organization failed.
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    /// Resources belong to another landing zone.
    #[error("{} resource(s) belong to another landing zone; nothing was changed: {}", .0.len(), .0.iter().map(|c| c.message.as_str()).collect::<Vec<_>>().join("; "))]
    Conflicts(Vec<Conflict>),
    /// A saved plan no longer matches the organization.
    #[error(
        "the saved plan was made against a different state of the organization (plan {saved}, now {now}); nothing was changed. Run `lz plan` again and review the new plan"
    )]
    StalePlan {
        /// The fingerprint in the plan.
        saved: String,
        /// The fingerprint now.
        now: String,
    },
    /// A saved plan from another version of lz.
    #[error(
        "the saved plan was made by lz {saved}, this is lz {running}; plan again with this version"
    )]
    OtherVersion {
        /// The version that made the plan.
        saved: String,
        /// This version.
        running: String,
    },
    /// A saved plan whose content no longer matches its digest: edited after it was made.
    #[error(
        "the saved plan was changed after it was made (its digest does not match, or it has none); nothing was changed. Run `lz plan --out` again and review the new plan"
    )]
    EditedPlan,
    /// The plan made now differs from the saved one in a change, not only in its address.
    #[error(
        "the saved plan's change to {address} differs from what lz would do now; nothing was changed. Run `lz plan` again and review the new plan"
    )]
    PlanDiffers {
        /// The first resource whose change differs.
        address: String,
    },
    /// Accounts could not be read: the plan does not cover them.
    #[error("account(s) {} could not be read, so the plan does not cover them; nothing was changed", .0.join(", "))]
    Unreadable(Vec<String>),
    /// A saved plan without the blueprint it was made from.
    #[error(
        "the saved plan does not include its blueprint (`configuration`); plan again with `lz plan --out`"
    )]
    NoConfiguration,
    /// A change failed.
    #[error("{address}: {action} failed")]
    Step {
        /// The resource.
        address: Address,
        /// What was being done.
        action: Action,
        /// Why it failed.
        #[source]
        source: StepError,
    },
    /// Another apply of this blueprint held the lease for longer than
    /// [`LeaseOptions::wait`].
    #[error(
        "another apply of this blueprint is running (run {holder}); waited {waited:?} for it to finish. Run apply again when it has"
    )]
    Busy {
        /// The run holding the lease.
        holder: String,
        /// How long this one waited.
        waited: Duration,
    },
    /// An AWS call outside any change failed (taking the lease).
    #[error(transparent)]
    Aws(CallError),
    /// Stopped by the test hook [`Aws::stop_after_writes`], as if the process had died.
    #[error("stopped after {0} write request(s), as asked")]
    Interrupted(usize),
}

/// Why one change failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// An AWS call failed.
    #[error(transparent)]
    Aws(CallError),
    /// The access role could not be assumed in the account.
    #[error(transparent)]
    Assume(#[from] AssumeError),
    /// The SDK refused to build a request from the values given.
    #[error("cannot build the request")]
    Request(#[from] aws_sdk_s3::error::BuildError),
    /// AWS could not create an account.
    #[error("AWS could not create account `{account}`: {reason}")]
    AccountCreationFailed {
        /// The account's name.
        account: String,
        /// AWS's reason, such as `EMAIL_ALREADY_EXISTS`.
        reason: String,
    },
    /// An account creation did not finish in time.
    #[error(
        "account `{account}` was still being created after {waited:?} (request {request}); run apply again later to finish"
    )]
    CreationTimedOut {
        /// The account's name.
        account: String,
        /// The creation request.
        request: String,
        /// How long apply waited.
        waited: Duration,
    },
    /// A resource in an account, planned without naming the account.
    #[error("{address} names no account")]
    NoAccount {
        /// The resource.
        address: Address,
    },
    /// The account a change needs does not exist (yet).
    #[error("account {account} does not exist yet")]
    AccountMissing {
        /// The account's name.
        account: String,
    },
    /// Something the change needs is not in AWS (any more).
    #[error("{what} {name} does not exist")]
    NotFound {
        /// What kind of thing, such as `organizational unit`.
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// AWS answered a call without what the answer must hold.
    #[error("{operation} returned no {missing}")]
    IncompleteAnswer {
        /// `Service.Operation`.
        operation: &'static str,
        /// What was missing, such as `request id`.
        missing: &'static str,
    },
    /// An organizational unit planned for deletion holds accounts or units again.
    #[error("organizational unit {name} is not empty any more; it is kept")]
    NotEmpty {
        /// The unit's name.
        name: String,
    },
    /// The audit bucket's name belongs to another AWS account.
    #[error("bucket name {bucket} is taken by another AWS account; set audit_log.bucket_name")]
    BucketNameTaken {
        /// The bucket's name.
        bucket: String,
    },
    /// A deletion lz never makes.
    #[error("lz never deletes {address}: {why}")]
    NeverDeleted {
        /// The resource.
        address: Address,
        /// Why.
        why: &'static str,
    },
    /// The organization lacks all features, which only a person can turn on.
    #[error(
        "the organization's feature set is not {want}: enabling all features needs every member account to accept a handshake; start it in the AWS Organizations console, then run lz again"
    )]
    FeatureSet {
        /// The feature set wanted.
        want: String,
    },
    /// A write refused by the write budget ([`Aws::stop_after_writes`]), after this many.
    #[error("interrupted after {0} write request(s)")]
    Interrupted(usize),
}

impl From<CallError> for ApplyError {
    /// A call refused by the write budget is an interruption, not a failure of AWS.
    fn from(error: CallError) -> ApplyError {
        match crate::aws::is_budget_spent(error.sdk.as_ref()) {
            Some(limit) => ApplyError::Interrupted(limit),
            None => ApplyError::Aws(error),
        }
    }
}

impl From<CallError> for StepError {
    /// A call refused by the write budget is an interruption, not a failure of AWS.
    fn from(error: CallError) -> StepError {
        match crate::aws::is_budget_spent(error.sdk.as_ref()) {
            Some(limit) => StepError::Interrupted(limit),
            None => StepError::Aws(error),
        }
    }
}

pub(crate) use execute::execute;
use lease::Lease;
pub use lease::LeaseOptions;
use schedule::{Lane, Schedule};

/// What a change's reads and writes need: the clients, and what this apply has learned.
pub(crate) struct Ctx<'a> {
    /// The clients.
    pub aws: &'a Aws,
    /// Ids learned on the way.
    pub live: &'a Live,
}

impl Ctx<'_> {
    /// Clients acting in the blueprint's account `name`.
    pub(crate) async fn member(&self, name: &str) -> Result<Arc<Member>, StepError> {
        self.live.member(self.aws, name).await
    }

    /// CloudTrail in the management account, in the blueprint's home region.
    pub(crate) fn cloudtrail(&self) -> aws_sdk_cloudtrail::Client {
        self.aws.cloudtrail(&self.live.home_region)
    }
}

/// What steps share within one apply: ids learned on the way.
pub(crate) struct Live {
    root_id: Mutex<Option<String>>,
    ou_ids: Mutex<HashMap<String, String>>,
    account_ids: Mutex<HashMap<String, String>>,
    account_creations: Semaphore,
    access_role: String,
    home_region: String,
    options: ApplyOptions,
}

/// How many account creations AWS lets an organization have in progress at once.
pub const CONCURRENT_ACCOUNT_CREATIONS: usize = 5;

impl Live {
    fn new(options: &ApplyOptions, blueprint: &Blueprint) -> Live {
        Live {
            root_id: Mutex::new(None),
            ou_ids: Mutex::new(HashMap::new()),
            account_ids: Mutex::new(HashMap::new()),
            account_creations: Semaphore::new(CONCURRENT_ACCOUNT_CREATIONS),
            access_role: blueprint.organization.access_role.clone(),
            home_region: blueprint.home_region.clone(),
            options: options.clone(),
        }
    }

    /// Learns the ids a fresh discovery knows.
    fn learn(&self, actual: &Actual) {
        if let Some(root) = &actual.root_id {
            *self.root_id.lock().expect("not poisoned") = Some(root.clone());
        }
        self.account_ids
            .lock()
            .expect("not poisoned")
            .extend(actual.known().account_ids);
        let mut ous = self.ou_ids.lock().expect("not poisoned");
        for observed in actual.resources.values() {
            if let (Spec::OrganizationalUnit(ou), Some(id)) = (observed.spec.as_ref(), &observed.id)
            {
                ous.insert(ou.name.clone(), id.clone());
            }
        }
    }

    /// The id of the blueprint's account `name`, known from discovery.
    pub(crate) fn account_id(&self, name: &str) -> Result<String, StepError> {
        self.account_ids
            .lock()
            .expect("not poisoned")
            .get(name)
            .cloned()
            .ok_or_else(|| StepError::AccountMissing {
                account: name.to_owned(),
            })
    }

    /// Clients acting in the blueprint's account `name`.
    pub(crate) async fn member(&self, aws: &Aws, name: &str) -> Result<Arc<Member>, StepError> {
        let id = self.account_id(name)?;
        Ok(aws
            .member(name, &id, &self.access_role, &self.home_region)
            .await?)
    }

    /// The organization's root id, once known.
    pub(crate) fn root(&self) -> Option<String> {
        self.root_id.lock().expect("not poisoned").clone()
    }

    pub(crate) fn remember_root(&self, id: &str) {
        *self.root_id.lock().expect("not poisoned") = Some(id.to_owned());
    }

    /// The id of top-level unit `name`, once known.
    pub(crate) fn ou(&self, name: &str) -> Option<String> {
        self.ou_ids.lock().expect("not poisoned").get(name).cloned()
    }

    pub(crate) fn remember_ou(&self, name: &str, id: &str) {
        self.ou_ids
            .lock()
            .expect("not poisoned")
            .insert(name.to_owned(), id.to_owned());
    }

    pub(crate) fn forget_ou(&self, name: &str) {
        self.ou_ids.lock().expect("not poisoned").remove(name);
    }

    pub(crate) fn remember_account(&self, name: &str, id: &str) {
        self.account_ids
            .lock()
            .expect("not poisoned")
            .insert(name.to_owned(), id.to_owned());
    }

    /// A place among the account creations AWS lets run at once; held until dropped.
    pub(crate) async fn creation_slot(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.account_creations
            .acquire()
            .await
            .expect("the semaphore is never closed")
    }

    /// How account creations are polled.
    pub(crate) fn polling(&self) -> Polling {
        self.options.polling
    }

    /// The role CreateAccount makes in new accounts, and lz assumes in them.
    pub(crate) fn access_role(&self) -> &str {
        &self.access_role
    }

    pub(crate) fn event(&self, event: Event) {
        if let Some(on_event) = &self.options.on_event {
            on_event(&event);
        }
    }
}

/// Applies `blueprint` to the organization. With `saved`, the plan a person reviewed: apply
/// refuses it if the organization changed since, and makes no change it did not show.
pub async fn apply(
    aws: &Aws,
    blueprint: &Blueprint,
    saved: Option<&Plan>,
    options: ApplyOptions,
) -> Result<ApplyReport, ApplyError> {
    if let Some(saved) = saved
        && saved.digest.is_some()
        && !saved.is_intact()
    {
        return Err(ApplyError::EditedPlan);
    }
    if let Some(saved) = saved
        && saved.lz_version != crate::plan::LZ_VERSION
    {
        return Err(ApplyError::OtherVersion {
            saved: saved.lz_version.clone(),
            running: crate::plan::LZ_VERSION.to_owned(),
        });
    }
    let live = Live::new(&options, blueprint);
    let lease: Mutex<Option<Lease>> = Mutex::new(None);
    let body = std::pin::pin!(rounds(aws, blueprint, saved, &options, &live, &lease));
    // The holder says it is alive while it works, so that a lease is taken over only from a
    // run that died.
    let heartbeat = std::pin::pin!(async {
        loop {
            tokio::time::sleep(options.lease.heartbeat).await;
            let held = lease.lock().expect("not poisoned").clone();
            if let Some(held) = held {
                held.beat(aws).await;
            }
        }
    });
    let result = match futures::future::select(body, heartbeat).await {
        futures::future::Either::Left((result, _)) => result,
        futures::future::Either::Right(((), _)) => unreachable!("the heartbeat never ends"),
    };
    let held = lease.lock().expect("not poisoned").take();
    if let Some(held) = held {
        held.release(aws).await;
    }
    result
}

/// Apply's rounds: each discovers, plans, and makes the changes, until none are left.
async fn rounds(
    aws: &Aws,
    blueprint: &Blueprint,
    saved: Option<&Plan>,
    options: &ApplyOptions,
    live: &Live,
    lease: &Mutex<Option<Lease>>,
) -> Result<ApplyReport, ApplyError> {
    let allowed: Option<BTreeSet<Address>> =
        saved.map(|p| p.changes().map(|c| c.address.clone()).collect());
    let mut applied = Vec::new();
    let mut rounds = 0;
    let mut round = 1;
    let mut kept = AccountReads::default();
    // The member accounts the last round wrote in; `None`: read them all.
    let mut written: Option<BTreeSet<String>> = None;
    while round <= options.max_rounds.max(1) {
        let stale = |account: &str| written.as_ref().is_none_or(|w| w.contains(account));
        let actual = discover_again(aws, blueprint, &mut kept, &stale).await?;
        let current = crate::plan::for_blueprint(blueprint, &actual);
        if round == 1
            && let Some(saved) = saved
            && saved.fingerprint != current.fingerprint
        {
            return Err(ApplyError::StalePlan {
                saved: saved.fingerprint.clone(),
                now: current.fingerprint.clone(),
            });
        }
        if round == 1
            && let Some(saved) = saved
            && let Some(address) = first_difference(saved, &current)
        {
            return Err(ApplyError::PlanDiffers { address });
        }
        if round == 1 && !current.is_complete() {
            return Err(ApplyError::Unreadable(
                current
                    .unreadable
                    .iter()
                    .map(|n| n.address.trim_start_matches("account.").to_owned())
                    .collect(),
            ));
        }
        if !current.conflicts.is_empty() {
            return Err(ApplyError::Conflicts(current.conflicts.clone()));
        }
        let steps: Vec<&Change> = current
            .changes()
            .filter(|c| allowed.as_ref().is_none_or(|a| a.contains(&c.address)))
            .collect();
        if steps.is_empty() {
            tracing::info!(round, "nothing left to change");
            return Ok(ApplyReport {
                applied,
                rounds,
                remaining: current,
            });
        }
        if lease.lock().expect("not poisoned").is_none() {
            // Something to change: take the lease, then look again, since another apply may
            // have changed the organization while this one waited.
            let taken = Lease::acquire(aws, blueprint, &options.lease, live).await?;
            *lease.lock().expect("not poisoned") = Some(taken);
            written = None;
            continue;
        }
        rounds = round;
        tracing::info!(round, changes = steps.len(), "round begins");
        live.learn(&actual);
        live.event(Event::Round {
            number: round,
            changes: steps.len(),
        });
        let done = run_round(aws, live, &steps, &mut applied).await?;
        written = Some(steps.iter().filter_map(|c| c.account.clone()).collect());
        if done == 0 {
            break; // nothing could be done: the rest waits on something that is not coming
        }
        round += 1;
    }
    let actual = discover(aws, blueprint).await?;
    if let Some(log) = aws.requests() {
        tracing::info!(
            requests = log.total(),
            writes = log.writes().values().sum::<usize>(),
            "apply finished"
        );
    }
    Ok(ApplyReport {
        applied,
        rounds,
        remaining: crate::plan::for_blueprint(blueprint, &actual),
    })
}

/// The first resource whose planned change differs between the reviewed plan and the plan made
/// now from the same state.
fn first_difference(saved: &Plan, current: &Plan) -> Option<String> {
    let (a, b) = (&saved.resource_changes, &current.resource_changes);
    a.iter()
        .zip(b)
        .find(|(x, y)| x != y)
        .map(|(x, _)| x.address.to_string())
        .or_else(|| {
            let longer = if a.len() > b.len() { a } else { b };
            longer
                .get(a.len().min(b.len()))
                .map(|c| c.address.to_string())
        })
}

/// What one change came to.
type Outcome = (usize, Result<(), StepError>);

/// Runs one round's changes, each as soon as what it depends on is done, with at most
/// `parallelism` changes and [`CONCURRENT_ACCOUNT_CREATIONS`] account creations at once;
/// returns how many were made. After a failure no change starts; those running finish.
async fn run_round<'a>(
    aws: &'a Aws,
    live: &'a Live,
    steps: &[&'a Change],
    applied: &mut Vec<(Address, Action)>,
) -> Result<usize, ApplyError> {
    let mut schedule = Schedule::new(steps);
    tracing::info!(
        changes = steps.len(),
        next_round = schedule.deferred(),
        "changes scheduled"
    );
    let perform = |i: usize| {
        let change = steps[i];
        let span = tracing::info_span!(
            "change",
            address = %change.address,
            action = %change.action,
            account = change.account.as_deref().unwrap_or("management"),
        );
        async move {
            live.event(Event::Started {
                address: change.address.clone(),
                action: change.action,
            });
            tracing::debug!("started");
            let result = crate::kinds::apply(&Ctx { aws, live }, change).await;
            match &result {
                Ok(()) => {
                    tracing::info!("done");
                    live.event(Event::Finished {
                        address: change.address.clone(),
                        action: change.action,
                    });
                }
                Err(e) => tracing::warn!(error = %crate::discover::chain(e), "failed"),
            }
            (i, result)
        }
        .instrument(span)
    };
    let limits = [
        (Lane::Creation, CONCURRENT_ACCOUNT_CREATIONS),
        (Lane::Other, live.options.parallelism.max(1)),
    ];
    let mut running: [usize; 2] = [0, 0];
    let mut in_flight = FuturesUnordered::new();
    let mut done = 0;
    let mut failure = None;
    loop {
        if failure.is_none() {
            for (lane, limit) in limits {
                while running[lane as usize] < limit {
                    let Some(i) = schedule.next(lane) else { break };
                    running[lane as usize] += 1;
                    in_flight.push(perform(i).map(move |outcome: Outcome| (lane, outcome)));
                }
            }
        }
        let Some((lane, (i, result))) = in_flight.next().await else {
            break;
        };
        running[lane as usize] -= 1;
        let change = steps[i];
        match result {
            Ok(()) => {
                done += 1;
                applied.push((change.address.clone(), change.action));
                schedule.done(i);
            }
            Err(StepError::Interrupted(writes)) => {
                failure.get_or_insert(ApplyError::Interrupted(writes));
            }
            Err(source) => {
                failure.get_or_insert(ApplyError::Step {
                    address: change.address.clone(),
                    action: change.action,
                    source,
                });
            }
        }
    }
    match failure {
        Some(failure) => Err(failure),
        None => Ok(done),
    }
}
