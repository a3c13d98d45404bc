//! One `moto_server` per test, on a free port of 127.0.0.1, gone when the test ends.
//!
//! Each test gets its own server because one server is shared state: tests sharing it would
//! depend on each other's order. A server starts in about half a second.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
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

    /// `http://127.0.0.1:PORT`, what `AWS_ENDPOINT_URL` is set to.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SDK configuration for the management account: dummy credentials, the test region and
    /// this server's endpoint (as `AWS_ENDPOINT_URL` would give it).
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(self.endpoint())
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The path of a file in the repository.
pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}
