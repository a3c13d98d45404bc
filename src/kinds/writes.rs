//! What the kinds' writes share: tags in each SDK's shape, IAM's eventual consistency, and
//! deletions of what is already gone.

use std::future::Future;
use std::time::Duration;

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::aws::{CallError, call};
use crate::desired::Tags;

/// Tags for AWS Organizations.
pub(crate) fn organizations_tags(tags: &Tags) -> Vec<aws_sdk_organizations::types::Tag> {
    tags.iter()
        .filter_map(|(k, v)| {
            aws_sdk_organizations::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .ok()
        })
        .collect()
}

/// Tags for IAM.
pub(crate) fn iam_tags(tags: &Tags) -> Vec<aws_sdk_iam::types::Tag> {
    tags.iter()
        .filter_map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .ok()
        })
        .collect()
}

/// Whether an SDK error carries AWS's error `code`.
pub(crate) fn is_code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>, code: &str) -> bool {
    error.code() == Some(code)
}

/// Runs an IAM call, retrying while IAM has not yet caught up with an entity just created: a
/// role or policy just made can be missing for a few seconds, and the SDK's own retries do not
/// cover `NoSuchEntity`.
pub(crate) async fn eventually<T, E, R, Fut>(
    operation: &'static str,
    mut attempt: impl FnMut() -> Fut,
) -> Result<T, CallError>
where
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let mut pause = Duration::from_millis(250);
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(e) if tries < 6 && is_code(&e, "NoSuchEntity") => {
                tries += 1;
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            other => return other.map_err(call(operation)),
        }
    }
}

/// Ignores "not found" for IAM deletions: what is gone need not be deleted.
pub(crate) fn gone_ok<T, E, R>(
    operation: &'static str,
    result: Result<T, SdkError<E, R>>,
) -> Result<(), CallError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) if is_code(&e, "NoSuchEntity") => Ok(()),
        Err(e) => Err(call(operation)(e)),
    }
}

/// Whether a failure may have been the network or AWS having a moment, rather than AWS
/// refusing the request: no answer, an answer AWS could not finish (5xx), throttling, or an
/// error without a code.
pub(crate) fn transient<E>(error: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(e) => {
            e.raw().status().is_server_error()
                || e.err()
                    .code()
                    .is_none_or(|code| THROTTLED.contains(&code) || code == "ServiceException")
        }
        _ => false,
    }
}

/// Whether AWS refused the request for its rate: it did nothing, and asking again later is
/// safe even for a create that has no idempotency token.
pub(crate) fn throttled<E>(error: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    error.code().is_some_and(|code| THROTTLED.contains(&code))
}

/// The error codes AWS's services throttle with (the SDK's retry classifier knows the same).
const THROTTLED: [&str; 6] = [
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "RequestThrottled",
];

#[cfg(test)]
mod tests {
    use aws_sdk_iam::operation::create_role::CreateRoleError;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    /// An answer from AWS with `status` and error `code`.
    fn answer(status: u16, code: Option<&str>) -> SdkError<CreateRoleError, HttpResponse> {
        let mut meta = ErrorMetadata::builder().message("test");
        if let Some(code) = code {
            meta = meta.code(code);
        }
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(CreateRoleError::generic(meta.build()), raw)
    }

    #[test]
    fn throttling_and_server_errors_are_transient_refusals_are_not() {
        for (status, code) in [
            (400, "Throttling"),
            (400, "ThrottlingException"),
            (400, "TooManyRequestsException"),
            (503, "SlowDown"),
        ] {
            assert!(transient(&answer(status, Some(code))), "{code}");
            assert!(throttled(&answer(status, Some(code))), "{code}");
        }
        for (status, code) in [(500, "InternalFailure"), (503, "ServiceUnavailable")] {
            assert!(transient(&answer(status, Some(code))), "{code}");
            assert!(
                !throttled(&answer(status, Some(code))),
                "{code}: AWS may have acted"
            );
        }
        assert!(transient(&answer(400, None)), "no code: not a refusal");
        for code in [
            "EntityAlreadyExists",
            "AccessDenied",
            "MalformedPolicyDocument",
        ] {
            assert!(!transient(&answer(400, Some(code))), "{code}");
        }
    }
}
