//! Counting the requests lz sends, by operation: how tests prove that discovery never writes
//! and that a second apply sends no write, and how the benchmark reports API usage.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_organizations::config::ConfigBag;
use aws_sdk_organizations::config::RuntimeComponents;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

/// Requests sent, by `Service.Operation`, retries included (each attempt is a request).
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    counts: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl RequestLog {
    /// An empty log.
    pub fn new() -> RequestLog {
        RequestLog::default()
    }

    /// The counts so far.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Forgets everything counted so far.
    pub fn reset(&self) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.clear();
        }
    }

    /// The requests that change something, by operation.
    pub fn writes(&self) -> BTreeMap<String, usize> {
        self.counts()
            .into_iter()
            .filter(|(operation, _)| is_write(operation))
            .collect()
    }

    /// All requests sent.
    pub fn total(&self) -> usize {
        self.counts().values().sum()
    }

    fn record(&self, operation: String) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(operation).or_default() += 1;
        }
    }
}

/// Whether an operation changes something. AWS names its reads `Describe*`, `Get*`, `List*`
/// and `Head*`; STS's `AssumeRole` and `GetCallerIdentity` change nothing either.
pub fn is_write(operation: &str) -> bool {
    let name = operation.rsplit('.').next().unwrap_or(operation);
    !([
        "Describe",
        "Get",
        "List",
        "Head",
        "AssumeRole",
        "LookupEvents",
    ]
    .iter()
    .any(|read| name.starts_with(read)))
}

impl Intercept for RequestLog {
    fn name(&self) -> &'static str {
        "lz-request-log"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            self.record(format!("{}.{}", metadata.service(), metadata.name()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes() {
        for read in [
            "organizations.ListAccounts",
            "organizations.DescribeOrganization",
            "iam.GetRole",
            "s3.GetBucketPolicy",
            "s3.HeadBucket",
            "sts.AssumeRole",
            "sts.GetCallerIdentity",
        ] {
            assert!(!is_write(read), "{read}");
        }
        for write in [
            "organizations.CreateAccount",
            "organizations.MoveAccount",
            "organizations.TagResource",
            "iam.PutRolePolicy",
            "s3.PutBucketPolicy",
            "cloudtrail.StartLogging",
        ] {
            assert!(is_write(write), "{write}");
        }
    }
}
