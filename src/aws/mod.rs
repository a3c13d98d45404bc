//! The AWS clients, built once from the standard configuration chain.
//!
//! Credentials, region and endpoint come from where every AWS tool finds them: environment
//! variables (`AWS_ENDPOINT_URL` among them), profiles, SSO. Retries are the SDK's standard
//! retry with a higher ceiling than its default, since AWS Organizations throttles readily;
//! lz adds no retry loop of its own around what the SDK retries.

mod requests;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};

pub use requests::{RequestLog, is_write};

/// How many times the SDK tries a request before giving up (the SDK's default is 3).
pub const MAX_ATTEMPTS: u32 = 6;

/// The clients lz uses, and the request log if one was asked for.
#[derive(Debug, Clone)]
pub struct Aws {
    config: SdkConfig,
    log: Option<RequestLog>,
    pub(crate) organizations: aws_sdk_organizations::Client,
    pub(crate) sts: aws_sdk_sts::Client,
}

impl Aws {
    /// Loads the standard configuration (environment, profiles, SSO, `AWS_ENDPOINT_URL`).
    pub async fn from_environment() -> Aws {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .load()
            .await;
        Aws::new(config, None)
    }

    /// Clients from a configuration the caller built; with a log, every request is counted.
    pub fn new(config: SdkConfig, log: Option<RequestLog>) -> Aws {
        let organizations = {
            let mut builder = aws_sdk_organizations::config::Builder::from(&config);
            if let Some(log) = &log {
                builder = builder.interceptor(log.clone());
            }
            aws_sdk_organizations::Client::from_conf(builder.build())
        };
        let sts = {
            let mut builder = aws_sdk_sts::config::Builder::from(&config);
            if let Some(log) = &log {
                builder = builder.interceptor(log.clone());
            }
            aws_sdk_sts::Client::from_conf(builder.build())
        };
        Aws {
            config,
            log,
            organizations,
            sts,
        }
    }

    /// The request log, when the clients were built with one.
    pub fn requests(&self) -> Option<&RequestLog> {
        self.log.as_ref()
    }

    /// The configuration the clients were built from.
    pub fn config(&self) -> &SdkConfig {
        &self.config
    }
}

/// A failed AWS call: which operation, and the SDK's error with its causes.
#[derive(Debug, thiserror::Error)]
#[error("AWS call {operation} failed")]
pub struct CallError {
    /// `Service.Operation`.
    pub operation: &'static str,
    /// The SDK's error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// Wraps an SDK error with the operation that failed.
pub(crate) fn call<E>(operation: &'static str) -> impl FnOnce(E) -> CallError
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |e| CallError {
        operation,
        source: Box::new(e),
    }
}
