//! One `moto_server` per test, on a free port of 127.0.0.1, gone when the test ends.
//!
//! Each test gets its own server because one server is shared state: tests sharing it would
//! depend on each other's order. A server starts in about half a second.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_organizations::config::Credentials;

/// The region the tests use.
pub const REGION: &str = "eu-west-3";

/// A running moto server.
pub struct Moto {
    child: Child,
    port: u16,
}

fn moto_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("LZ_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("moto_server")
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

impl Moto {
    /// Starts a server and waits until it accepts connections.
    pub fn start() -> Moto {
        let binary = moto_binary();
        for _ in 0..3 {
            let port = free_port();
            let mut child = Command::new(&binary)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot start {} ({e}); run scripts/test, which installs moto into .venv",
                        binary.display()
                    )
                });
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: most likely the port was taken meanwhile; try another
                }
                if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                    return Moto { child, port };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto_server did not start");
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`, what `AWS_ENDPOINT_URL` is set to.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SDK configuration for the management account: dummy credentials, the test region and
    /// this server's endpoint (as `AWS_ENDPOINT_URL` would give it).
    pub async fn sdk_config(&self) -> SdkConfig {
        sdk_config_at(&self.endpoint()).await
    }
}

/// SDK configuration for the management account at `endpoint`.
pub async fn sdk_config_at(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        // As `Aws::from_environment` does.
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(landing_zone::aws::MAX_ATTEMPTS),
        )
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The environment a child `lz` process needs to reach a server at `endpoint`, and nothing
/// of the machine's own AWS configuration.
pub fn env_for(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_CONFIG_FILE", "/nonexistent".to_owned()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".to_owned()),
        ("NO_COLOR", "1".to_owned()),
    ]
}

/// The path of a file in the repository.
pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A small landing zone: four accounts, every tier, object lock on.
pub const SMALL: &str = r#"version: 1
name: test
home_region: eu-west-3
organization: { email: "aws+{account}@test.example" }
accounts:
  security: { name: security }
  log_archive: { name: log-archive }
environments:
  dev: { ou: Dev }
  prod: { ou: Prod }
customers:
  lumo: { environments: [dev, prod], tags: { owner: team-lumo } }
audit_log:
  retention_days: 30
  object_lock: governance
  object_lock_days: 10
"#;

/// A moto server, clients that count their requests, and a blueprint.
pub struct Zone {
    /// The server; it lives as long as the zones that share it.
    pub moto: Arc<Moto>,
    pub aws: landing_zone::aws::Aws,
    pub log: landing_zone::aws::RequestLog,
    pub blueprint: landing_zone::Blueprint,
    pub config: SdkConfig,
}

impl Zone {
    pub async fn new(yaml: &str) -> Zone {
        let moto = Arc::new(Moto::start());
        let endpoint = moto.endpoint();
        Zone::at(moto, &endpoint, yaml).await
    }

    /// A zone whose clients talk to `endpoint` (a proxy in front of `moto`, say).
    pub async fn at(moto: Arc<Moto>, endpoint: &str, yaml: &str) -> Zone {
        let config = sdk_config_at(endpoint).await;
        let log = landing_zone::aws::RequestLog::new();
        let aws = landing_zone::aws::Aws::new(config.clone(), Some(log.clone()));
        let blueprint = landing_zone::Blueprint::parse("test.yaml", yaml).expect("valid blueprint");
        Zone {
            moto,
            aws,
            log,
            blueprint,
            config,
        }
    }

    /// Discovers and plans, as `lz plan` does.
    pub async fn plan(&self) -> landing_zone::Plan {
        let actual = landing_zone::discover::discover(&self.aws, &self.blueprint)
            .await
            .expect("discovery");
        let mut plan = landing_zone::plan::for_blueprint(&self.blueprint, &actual);
        plan.configuration = Some(self.blueprint.clone());
        plan
    }

    /// Applies the blueprint and checks it converged.
    pub async fn apply(&self) -> landing_zone::apply::ApplyReport {
        let report = landing_zone::apply::apply(&self.aws, &self.blueprint, None, fast())
            .await
            .expect("apply");
        assert!(
            !report.remaining.has_changes(),
            "did not converge: {}",
            landing_zone::render::human(&report.remaining, Default::default())
        );
        report
    }

    /// Organizations, as the management account.
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::new(&self.config)
    }

    /// The ids of the accounts with this name (more than one would be a duplicate).
    pub async fn account_ids(&self, name: &str) -> Vec<String> {
        let accounts = self
            .organizations()
            .list_accounts()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .expect("list accounts");
        accounts
            .iter()
            .flat_map(|p| p.accounts())
            .filter(|a| a.name() == Some(name))
            .filter_map(|a| a.id().map(str::to_owned))
            .collect()
    }

    /// The one account with this name.
    pub async fn account_id(&self, name: &str) -> String {
        let ids = self.account_ids(name).await;
        assert_eq!(ids.len(), 1, "accounts named {name}: {ids:?}");
        ids[0].clone()
    }

    /// SDK configuration acting in account `id`, through its access role, with credentials
    /// from STS as any tool would get them.
    pub async fn config_in(&self, id: &str) -> SdkConfig {
        let sts = aws_sdk_sts::Client::new(&self.config);
        let credentials = sts
            .assume_role()
            .role_arn(format!(
                "arn:aws:iam::{id}:role/OrganizationAccountAccessRole"
            ))
            .role_session_name("test")
            .send()
            .await
            .expect("assume role")
            .credentials
            .expect("credentials");
        self.config
            .to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                    credentials.access_key_id(),
                    credentials.secret_access_key(),
                    Some(credentials.session_token().to_owned()),
                    None,
                    "test",
                )),
            )
            .build()
    }

    /// The environment a child `lz` process needs to reach this zone's server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        env_for(&self.moto.endpoint())
    }

    /// The id of the organization's root.
    pub async fn root_id(&self) -> String {
        let roots = self.organizations().list_roots().send().await.unwrap();
        roots.roots()[0].id().unwrap().to_owned()
    }

    /// The top-level units, as (id, name).
    pub async fn units(&self) -> Vec<(String, String)> {
        let units = self
            .organizations()
            .list_organizational_units_for_parent()
            .parent_id(self.root_id().await)
            .send()
            .await
            .unwrap();
        units
            .organizational_units()
            .iter()
            .map(|u| (u.id().unwrap().to_owned(), u.name().unwrap().to_owned()))
            .collect()
    }

    /// The id of the top-level unit named `name`.
    pub async fn ou_id(&self, name: &str) -> String {
        let units = self.units().await;
        let found = units.into_iter().find(|(_, n)| n == name);
        found.unwrap_or_else(|| panic!("no unit {name}")).0
    }

    /// S3 Control acting in the account named `name`, with its id. The endpoint is the
    /// server's own: S3 Control would put the account id in the host name.
    pub async fn s3control_in(&self, name: &str) -> (aws_sdk_s3control::Client, String) {
        let id = self.account_id(name).await;
        let config = self.config_in(&id).await;
        let conf = aws_sdk_s3control::config::Builder::from(&config)
            .endpoint_resolver(ServerEndpoint(self.moto.endpoint()))
            .build();
        (aws_sdk_s3control::Client::from_conf(conf), id)
    }

    /// IAM acting in the account named `name`.
    pub async fn iam_in(&self, name: &str) -> aws_sdk_iam::Client {
        let id = self.account_id(name).await;
        aws_sdk_iam::Client::new(&self.config_in(&id).await)
    }
}

/// Apply options for tests: account creations are polled without waiting.
pub fn fast() -> landing_zone::apply::ApplyOptions {
    landing_zone::apply::ApplyOptions {
        polling: landing_zone::apply::Polling {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(100),
            timeout: Duration::from_secs(60),
        },
        lease: landing_zone::apply::LeaseOptions {
            heartbeat: Duration::from_millis(300),
            // moto answers one request at a time, a heartbeat may queue behind slow ones.
            stale_after: Duration::from_secs(10),
            wait: Duration::from_secs(120),
            poll: Duration::from_millis(100),
        },
        ..Default::default()
    }
}

/// The (address, attribute) pairs a plan changes, to compare with what a test broke.
pub fn changed(plan: &landing_zone::Plan) -> std::collections::BTreeSet<(String, String)> {
    plan.changes()
        .flat_map(|c| {
            c.attributes
                .iter()
                .map(move |a| (c.address.to_string(), a.name.clone()))
        })
        .collect()
}

/// The same pairs, written as literals.
pub fn pairs(list: &[(&str, &str)]) -> std::collections::BTreeSet<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// An S3 Control endpoint resolver answering the test server's address.
#[derive(Debug)]
struct ServerEndpoint(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for ServerEndpoint {
    fn resolve_endpoint<'a>(
        &'a self,
        _params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(
            aws_sdk_s3control::config::endpoint::Endpoint::builder()
                .url(self.0.clone())
                .build(),
        ))
    }
}
