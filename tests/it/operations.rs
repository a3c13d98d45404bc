//! Faults aimed at operations, deterministically or by a seeded draw: an HTTP client wrapped
//! around the SDK's own, which knows each request's operation (a raw TCP proxy cannot tell them
//! apart). It throttles, answers 500 or 503, resets the connection before the request reaches
//! moto, or passes the request on and loses the answer, as a network would after AWS acted. The
//! SDK retries (or lz does, for the creates it sends only once), AWS answers "already exists"
//! or the creation is found, and apply converges with nothing made twice.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

use crate::support::{Moto, SMALL, Zone, fast, repo_path, sdk_config_at};

/// What goes wrong with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    /// Passed on; AWS acts; the answer is lost on the way back.
    LoseAnswer,
    /// Refused as throttled (`TooManyRequestsException`, `ThrottlingException`, `Throttling`,
    /// S3's `SlowDown`), not passed on.
    Throttle,
    /// 500, not passed on.
    InternalError,
    /// 503, not passed on.
    Unavailable,
    /// The connection reset before the request reached AWS.
    Reset,
}

const FAULTS: [Fault; 5] = [
    Fault::LoseAnswer,
    Fault::Throttle,
    Fault::InternalError,
    Fault::Unavailable,
    Fault::Reset,
];

/// Which requests go wrong.
#[derive(Debug)]
enum Faults {
    /// The first request of each operation named, with its fault.
    Aimed(Mutex<BTreeMap<String, Fault>>),
    /// Each request, with probability `percent`, gets a fault drawn with it; seeded.
    Random { percent: u64, state: Mutex<u64> },
}

impl Faults {
    fn random(percent: u64, seed: u64) -> Faults {
        Faults::Random {
            percent,
            state: Mutex::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
        }
    }

    fn draw(&self, operation: Option<&str>) -> Option<Fault> {
        match self {
            Faults::Aimed(pending) => pending.lock().unwrap().remove(operation?),
            Faults::Random { percent, state } => {
                // xorshift64*: a fixed sequence for a seed, enough for sampling faults.
                let mut state = state.lock().unwrap();
                let mut next = || {
                    *state ^= *state >> 12;
                    *state ^= *state << 25;
                    *state ^= *state >> 27;
                    state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33
                };
                (next() % 100 < *percent).then(|| FAULTS[(next() % 5) as usize])
            }
        }
    }
}

/// The SDK's HTTP client, with faults.
#[derive(Debug, Clone)]
struct Faulty {
    inner: SharedHttpClient,
    faults: Arc<Faults>,
    /// What was injected, in order.
    injected: Arc<Mutex<Vec<(String, Fault)>>>,
}

impl Faulty {
    fn new(faults: Faults) -> Faulty {
        Faulty {
            // moto speaks plain HTTP on 127.0.0.1.
            inner: aws_smithy_http_client::Builder::new().build_http(),
            faults: Arc::new(faults),
            injected: Arc::default(),
        }
    }
}

impl HttpClient for Faulty {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(Connector {
            inner: self.inner.http_connector(settings, components),
            faults: self.faults.clone(),
            injected: self.injected.clone(),
        })
    }
}

#[derive(Debug)]
struct Connector {
    inner: SharedHttpConnector,
    faults: Arc<Faults>,
    injected: Arc<Mutex<Vec<(String, Fault)>>>,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = operation(&request);
        let Some(fault) = self.faults.draw(operation.as_deref()) else {
            return self.inner.call(request);
        };
        let name = operation.unwrap_or_else(|| format!("{} {}", request.method(), request.uri()));
        self.injected.lock().unwrap().push((name, fault));
        let protocol = Protocol::of(&request);
        match fault {
            Fault::LoseAnswer => {
                let sent = self.inner.call(request);
                HttpConnectorFuture::new(async move {
                    sent.await?;
                    Err(ConnectorError::io(
                        "the answer was lost on the way back (test)".into(),
                    ))
                })
            }
            Fault::Reset => HttpConnectorFuture::ready(Err(ConnectorError::io(
                "connection reset before the request reached AWS (test)".into(),
            ))),
            Fault::Throttle | Fault::InternalError | Fault::Unavailable => {
                HttpConnectorFuture::ready(Ok(protocol.error(fault, &request)))
            }
        }
    }
}

/// How a service words its errors.
#[derive(Debug, Clone, Copy)]
enum Protocol {
    /// Organizations, KMS, CloudTrail: `awsJson1_1`.
    Json,
    /// IAM, STS: `awsQuery`.
    Query,
    /// S3: `restXml`.
    RestXml,
}

impl Protocol {
    fn of(request: &HttpRequest) -> Protocol {
        if request.headers().get("x-amz-target").is_some() {
            Protocol::Json
        } else if request
            .body()
            .bytes()
            .is_some_and(|b| b.starts_with(b"Action="))
        {
            Protocol::Query
        } else {
            Protocol::RestXml
        }
    }

    /// The answer AWS gives for `fault`, as this protocol words it.
    fn error(self, fault: Fault, request: &HttpRequest) -> HttpResponse {
        let organizations = request
            .headers()
            .get("x-amz-target")
            .is_some_and(|t| t.starts_with("AWSOrganizations"));
        let (status, code) = match (fault, self) {
            (Fault::Throttle, Protocol::Json) if organizations => (400, "TooManyRequestsException"),
            (Fault::Throttle, Protocol::Json) => (400, "ThrottlingException"),
            (Fault::Throttle, Protocol::Query) => (400, "Throttling"),
            (Fault::Throttle, Protocol::RestXml) => (503, "SlowDown"),
            (Fault::InternalError, Protocol::RestXml) => (500, "InternalError"),
            (Fault::InternalError, _) => (500, "InternalFailure"),
            (Fault::Unavailable, _) => (503, "ServiceUnavailable"),
            (Fault::LoseAnswer | Fault::Reset, _) => unreachable!("not an answer"),
        };
        let message = "injected by the test";
        let (content_type, body) = match self {
            Protocol::Json => (
                "application/x-amz-json-1.1",
                format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
            ),
            Protocol::Query => (
                "text/xml",
                format!(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>lz-test</RequestId></ErrorResponse>"
                ),
            ),
            Protocol::RestXml => (
                "application/xml",
                format!("<Error><Code>{code}</Code><Message>{message}</Message></Error>"),
            ),
        };
        let mut response = HttpResponse::new(status.try_into().unwrap(), SdkBody::from(body));
        response.headers_mut().insert("content-type", content_type);
        if let Protocol::Json = self {
            response.headers_mut().insert("x-amzn-errortype", code);
        }
        response
    }
}

/// The `Service.Operation` of a request, as `RequestLog` names it.
fn operation(request: &HttpRequest) -> Option<String> {
    if let Some(target) = request.headers().get("x-amz-target") {
        let (service, operation) = target.split_once('.')?;
        let service = match service {
            s if s.starts_with("AWSOrganizations") => "Organizations",
            "TrentService" => "KMS",
            s if s.starts_with("CloudTrail") => "CloudTrail",
            _ => return None,
        };
        return Some(format!("{service}.{operation}"));
    }
    let body = request.body().bytes().map(String::from_utf8_lossy);
    if let Some(body) = body.as_deref()
        && let Some(action) = body
            .strip_prefix("Action=")
            .and_then(|rest| rest.split('&').next())
    {
        let service = if body.contains("Version=2011-06-15") {
            "STS"
        } else {
            "IAM"
        };
        return Some(format!("{service}.{action}"));
    }
    // S3's REST: a PUT names its setting in the query; a PUT with none creates the bucket.
    if request.method() != "PUT" {
        return None;
    }
    // S3 Control's REST: the setting is in the path.
    if request
        .uri()
        .contains("/v20180820/configuration/publicAccessBlock")
    {
        return Some("S3 Control.PutPublicAccessBlock".to_owned());
    }
    let query = request.uri().split_once('?').map(|(_, q)| q).unwrap_or("");
    let setting = query.split('&').next().unwrap_or("").split('=').next()?;
    let operation = match setting {
        "" => "CreateBucket",
        "policy" => "PutBucketPolicy",
        "encryption" => "PutBucketEncryption",
        "versioning" => "PutBucketVersioning",
        "lifecycle" => "PutBucketLifecycleConfiguration",
        "object-lock" => "PutObjectLockConfiguration",
        "logging" => "PutBucketLogging",
        "tagging" => "PutBucketTagging",
        "publicAccessBlock" => "PutPublicAccessBlock",
        "ownershipControls" => "PutBucketOwnershipControls",
        _ => return None,
    };
    Some(format!("S3.{operation}"))
}

/// What exists that could exist twice: accounts and units by name (Organizations does not keep
/// names unique), the audit key and its aliases. Roles, groups, policies, buckets and trails
/// have names unique in their scope.
pub async fn census(zone: &Zone) -> BTreeMap<String, usize> {
    let mut census = BTreeMap::new();
    let org = zone.organizations();
    for account in org.list_accounts().send().await.unwrap().accounts() {
        *census
            .entry(format!("account {}", account.name().unwrap_or_default()))
            .or_default() += 1;
    }
    for (_, name) in zone.units().await {
        *census.entry(format!("unit {name}")).or_default() += 1;
    }
    let log_archive = zone.account_id("log-archive").await;
    let kms = aws_sdk_kms::Client::new(&zone.config_in(&log_archive).await);
    census.insert(
        "keys".to_owned(),
        kms.list_keys().send().await.unwrap().keys().len(),
    );
    let aliases = kms.list_aliases().send().await.unwrap();
    census.insert(
        "lz aliases".to_owned(),
        aliases
            .aliases()
            .iter()
            .filter(|a| !a.alias_name().unwrap_or_default().starts_with("alias/aws/"))
            .count(),
    );
    census
}

/// A blueprint applied with `faults` in front of a fresh moto, run again while it has not
/// converged (at most `runs` times); then, read past the faults, nothing is left to change and
/// nothing exists twice. Returns the faults injected and the runs it took.
async fn apply_through(
    yaml: &str,
    faults: Faults,
    runs: usize,
    expected: &BTreeMap<String, usize>,
) -> (Vec<(String, Fault)>, usize) {
    let moto = Arc::new(Moto::start());
    let faulty = Faulty::new(faults);
    let injected = faulty.injected.clone();
    let config = sdk_config_at(&moto.endpoint())
        .await
        .to_builder()
        .http_client(SharedHttpClient::new(faulty))
        // The SDK's backoff, shortened: what is tested is that apply converges, not how long
        // the SDK waits (it is the SDK's standard retry otherwise, with lz's attempts).
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(landing_zone::aws::MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(20))
                .with_max_backoff(Duration::from_millis(200)),
        )
        .build();
    let aws = landing_zone::aws::Aws::new(config, None);
    let blueprint = landing_zone::Blueprint::parse("test.yaml", yaml).unwrap();
    let mut run = 1;
    loop {
        match landing_zone::apply::apply(&aws, &blueprint, None, fast()).await {
            Ok(report) if !report.remaining.has_changes() => break,
            Ok(_) if run < runs => eprintln!("run {run} left changes; running again"),
            Err(e) if run < runs => eprintln!("run {run} stopped ({e}); running again"),
            Ok(report) => panic!(
                "not converged after {run} runs:\n{}",
                landing_zone::render::human(&report.remaining, Default::default())
            ),
            Err(e) => panic!("not converged after {run} runs: {e}"),
        }
        run += 1;
    }
    let injected = injected.lock().unwrap().clone();
    let zone = Zone::at(moto.clone(), &moto.endpoint(), yaml).await;
    let plan = zone.plan().await;
    assert!(
        !plan.has_changes(),
        "changes remain after {injected:?}:\n{}",
        landing_zone::render::human(&plan, Default::default())
    );
    assert_eq!(
        &census(&zone).await,
        expected,
        "something twice: {injected:?}"
    );
    (injected, run)
}

/// Every write operation lz sends while applying `yaml`, and what that leaves.
async fn reference(yaml: &str) -> (Vec<String>, BTreeMap<String, usize>) {
    let zone = Zone::new(yaml).await;
    zone.apply().await;
    let writes = zone.log.writes().into_keys().collect();
    (writes, census(&zone).await)
}

pub fn acme() -> String {
    std::fs::read_to_string(repo_path("blueprints/acme.yaml")).unwrap()
}

pub fn seed() -> u64 {
    std::env::var("LZ_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// Every write lz sends while applying acme gets each of the five faults on its first request:
/// five runs, in each of which every write operation gets one fault, the faults rotated so that
/// over the five each operation has had each one. Each run converges in itself or the next.
#[tokio::test]
async fn every_write_survives_each_fault_on_its_first_request() {
    let yaml = acme();
    let (writes, expected) = reference(&yaml).await;
    assert!(writes.len() > 20, "{writes:?}");
    let mut covered = BTreeSet::new();
    for rotation in 0..FAULTS.len() {
        let aimed: BTreeMap<String, Fault> = writes
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), FAULTS[(i + rotation) % FAULTS.len()]))
            .collect();
        let (injected, _) = apply_through(
            &yaml,
            Faults::Aimed(Mutex::new(aimed.clone())),
            2,
            &expected,
        )
        .await;
        let hit: BTreeMap<String, Fault> = injected.into_iter().collect();
        assert_eq!(hit, aimed, "every write operation got its fault");
        covered.extend(hit);
    }
    assert_eq!(covered.len(), writes.len() * FAULTS.len());
}

/// Random faults over whole applies of acme, at 10 % and at 30 % of all requests (reads
/// included), drawn from a seed (`LZ_FAULT_SEED`, default 1): apply is run again until it
/// converges, and nothing exists twice.
#[tokio::test]
async fn random_faults_at_10_and_30_percent_converge_without_duplicates() {
    let yaml = acme();
    let (_, expected) = reference(&yaml).await;
    for percent in [10, 30] {
        let (injected, runs) =
            apply_through(&yaml, Faults::random(percent, seed()), 10, &expected).await;
        let lost = injected
            .iter()
            .filter(|(o, f)| *f == Fault::LoseAnswer && landing_zone::aws::is_write(o))
            .count();
        eprintln!(
            "{percent} %: {} faults injected ({lost} answers to writes lost), converged in {runs} runs",
            injected.len()
        );
        assert!(lost > 0, "answers to writes were lost");
    }
}

/// One write at a time, with its first answer lost: every write lz sends applying SMALL, each
/// in its own run (minutes; `scripts/sweep`).
#[tokio::test]
#[ignore = "a sweep of every write: run it with scripts/sweep"]
async fn a_lost_answer_to_every_write_is_recovered() {
    let (writes, expected) = reference(SMALL).await;
    let mut not_lost = Vec::new();
    for operation in &writes {
        let aimed = BTreeMap::from([(operation.clone(), Fault::LoseAnswer)]);
        let (injected, _) =
            apply_through(SMALL, Faults::Aimed(Mutex::new(aimed)), 2, &expected).await;
        if injected.is_empty() {
            not_lost.push(operation.clone());
        }
    }
    eprintln!(
        "{} write operations, each with its first answer lost; not reached: {not_lost:?}",
        writes.len()
    );
    assert!(not_lost.is_empty(), "{not_lost:?}");
}
