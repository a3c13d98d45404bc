//! The AWS clients, built once from the standard configuration chain.
//!
//! Credentials, region and endpoint come from where every AWS tool finds them: environment
//! variables (`AWS_ENDPOINT_URL` among them), profiles, SSO. Retries are the SDK's standard
//! retry with a higher ceiling than its default, since AWS Organizations throttles readily;
//! lz adds no retry loop of its own around what the SDK retries.

mod budget;
mod requests;

use std::collections::HashMap;
use std::sync::Arc;

use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use tokio::sync::{Mutex, OnceCell};

pub use budget::BudgetSpent;
use budget::WriteBudget;
pub(crate) use budget::is_budget_spent;
pub use requests::{RequestLog, is_write};

/// A client of SDK crate `$krate` from `$config`, with lz's interceptors (`$log`, `$budget`);
/// `$more` adjusts the builder further, given the configuration.
macro_rules! client {
    ($log:expr, $budget:expr, $krate:ident, $config:expr) => {
        client!($log, $budget, $krate, $config, |builder, _| builder)
    };
    ($log:expr, $budget:expr, $krate:ident, $config:expr, $more:expr) => {{
        let mut builder = $krate::config::Builder::from($config);
        if let Some(log) = $log {
            builder = builder.interceptor(log.clone());
        }
        if let Some(budget) = $budget {
            builder = builder.interceptor(budget.clone());
        }
        let more: fn($krate::config::Builder, &SdkConfig) -> $krate::config::Builder = $more;
        $krate::Client::from_conf(more(builder, $config).build())
    }};
}

/// How many times the SDK tries a request before giving up (the SDK's default is 3).
pub const MAX_ATTEMPTS: u32 = 6;

/// The clients lz uses, and the request log if one was asked for.
#[derive(Debug, Clone)]
pub struct Aws {
    config: SdkConfig,
    log: Option<RequestLog>,
    budget: Option<WriteBudget>,
    pub(crate) organizations: aws_sdk_organizations::Client,
    pub(crate) sts: aws_sdk_sts::Client,
    /// IAM in the management account (reads of AWS managed policies).
    pub(crate) iam: aws_sdk_iam::Client,
    members: Arc<Mutex<HashMap<String, MemberCell>>>,
}

/// One member account's clients, made by the first caller that needs them.
type MemberCell = Arc<OnceCell<Arc<Member>>>;

/// Clients acting in one member account, through the organization's access role.
#[derive(Debug)]
pub(crate) struct Member {
    pub iam: aws_sdk_iam::Client,
    pub kms: aws_sdk_kms::Client,
    pub s3: aws_sdk_s3::Client,
    /// S3 Control: the account-level Block Public Access.
    pub s3control: aws_sdk_s3control::Client,
}

/// The access role could not be assumed in a member account.
#[derive(Debug, thiserror::Error)]
#[error("cannot assume role {role} in account {account} ({account_id})")]
pub struct AssumeError {
    /// The account's name.
    pub account: String,
    /// Its id.
    pub account_id: String,
    /// The role's name.
    pub role: String,
    /// Why.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl Aws {
    /// Loads the standard configuration (environment, profiles, SSO, `AWS_ENDPOINT_URL`).
    pub async fn from_environment() -> Aws {
        Aws::from_environment_or_region(None).await
    }

    /// [`Aws::from_environment`], in `region` when the environment names none (no
    /// `AWS_REGION`, no region in the profile): Organizations and IAM answer in any region,
    /// and without one the SDK cannot send a request at all.
    pub async fn from_environment_or_region(region: Option<&str>) -> Aws {
        let mut chain = RegionProviderChain::default_provider();
        if let Some(region) = region {
            chain = chain.or_else(aws_config::Region::new(region.to_owned()));
        }
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(chain)
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .load()
            .await;
        Aws::new(config, None)
    }

    /// Clients from a configuration the caller built; with a log, every request is counted.
    pub fn new(config: SdkConfig, log: Option<RequestLog>) -> Aws {
        Aws::build(config, log, None)
    }

    /// The same clients, refusing every write request after the first `writes`: apply then
    /// stops with [`crate::apply::ApplyError::Interrupted`], as if the process had died there.
    /// For tests of what a crash leaves behind.
    #[doc(hidden)]
    pub fn stop_after_writes(&self, writes: usize) -> Aws {
        Aws::build(
            self.config.clone(),
            self.log.clone(),
            Some(WriteBudget::new(writes)),
        )
    }

    fn build(config: SdkConfig, log: Option<RequestLog>, budget: Option<WriteBudget>) -> Aws {
        Aws {
            organizations: client!(&log, &budget, aws_sdk_organizations, &config),
            sts: client!(&log, &budget, aws_sdk_sts, &config),
            iam: client!(&log, &budget, aws_sdk_iam, &config),
            config,
            log,
            budget,
            members: Arc::default(),
        }
    }

    /// CloudTrail in the management account, in `region` (the blueprint's home region).
    pub(crate) fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        let config = self.in_region(&self.config, region);
        client!(&self.log, &self.budget, aws_sdk_cloudtrail, &config)
    }

    fn in_region(&self, config: &SdkConfig, region: &str) -> SdkConfig {
        config
            .to_builder()
            .region(aws_config::Region::new(region.to_owned()))
            .build()
    }

    fn clients(&self, config: &SdkConfig) -> Member {
        Member {
            iam: client!(&self.log, &self.budget, aws_sdk_iam, config),
            kms: client!(&self.log, &self.budget, aws_sdk_kms, config),
            s3: if config.endpoint_url().is_some() {
                // With a custom endpoint (an emulator), bucket names go in the path, not the
                // host name, which a local endpoint cannot resolve.
                client!(&self.log, &self.budget, aws_sdk_s3, config, |b, _| b
                    .force_path_style(true))
            } else {
                client!(&self.log, &self.budget, aws_sdk_s3, config)
            },
            s3control: client!(
                &self.log,
                &self.budget,
                aws_sdk_s3control,
                config,
                |b, c| {
                    match c.endpoint_url() {
                        // S3 Control puts the account id in the host name, which a local endpoint
                        // cannot resolve; a custom endpoint is used as given.
                        Some(url) => b.endpoint_resolver(AsGiven(url.to_owned())),
                        None => b,
                    }
                }
            ),
        }
    }

    /// Clients acting in member account `account_id` through `role`, regional ones in `region`
    /// (the blueprint's home region, whatever the environment's), assumed once per run and
    /// refreshed by the SDK before the session expires. The first use checks that the role can
    /// be assumed, so that a refusal is reported here, naming the account and the role.
    pub(crate) async fn member(
        &self,
        account: &str,
        account_id: &str,
        role: &str,
        region: &str,
    ) -> Result<Arc<Member>, AssumeError> {
        // The map is locked only to find the account's cell: accounts are assumed concurrently,
        // each once.
        let cell = self
            .members
            .lock()
            .await
            .entry(account_id.to_owned())
            .or_default()
            .clone();
        cell.get_or_try_init(|| async {
            let provider = aws_config::sts::AssumeRoleProvider::builder(format!(
                "arn:aws:iam::{account_id}:role/{role}"
            ))
            .session_name("landing-zone")
            .configure(&self.config)
            .build()
            .await;
            provider
                .provide_credentials()
                .await
                .map_err(|e| AssumeError {
                    account: account.to_owned(),
                    account_id: account_id.to_owned(),
                    role: role.to_owned(),
                    source: Box::new(e),
                })?;
            let config = self
                .config
                .to_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
            Ok(Arc::new(self.clients(&self.in_region(&config, region))))
        })
        .await
        .cloned()
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

/// An S3 Control endpoint resolver that answers the configured endpoint, unchanged.
#[derive(Debug)]
struct AsGiven(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for AsGiven {
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

/// A failed AWS call, in one line for people: the operation, AWS's error code and message, or
/// what went wrong on the way. The SDK's error stays attached for programs, but out of the
/// text (its `Display` of an unmodelled error is a `Debug` dump).
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed: {}", match code { Some(code) => format!("{code}: {message}"), None => message.clone() })]
pub struct CallError {
    /// `Service.Operation`.
    pub operation: &'static str,
    /// AWS's error code, when AWS answered with one (`EntityAlreadyExists`).
    pub code: Option<String>,
    /// AWS's message, or what went wrong on the way to AWS and back.
    pub message: String,
    /// The SDK's error.
    pub sdk: Box<dyn std::error::Error + Send + Sync>,
}

/// Wraps an SDK error with the operation that failed.
pub(crate) fn call<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> CallError
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    move |e| {
        let code = e.code().map(str::to_owned);
        let message = match &e {
            SdkError::ServiceError(_) => e
                .message()
                .map(|m| crate::yaml::shorten(m, 300))
                .unwrap_or_else(|| "AWS gave no message".to_owned()),
            SdkError::TimeoutError(_) => "timed out".to_owned(),
            SdkError::DispatchFailure(d) if d.is_timeout() => "timed out".to_owned(),
            SdkError::DispatchFailure(d) if d.is_io() => {
                "could not reach AWS (the connection failed); check the network or the endpoint"
                    .to_owned()
            }
            SdkError::DispatchFailure(_) => "the request could not be sent".to_owned(),
            SdkError::ResponseError(_) => "AWS's answer could not be read".to_owned(),
            SdkError::ConstructionFailure(_) if budget::is_budget_spent(&e).is_some() => {
                "not sent: the write budget is spent".to_owned()
            }
            SdkError::ConstructionFailure(_) => "the request could not be built".to_owned(),
            _ => "failed".to_owned(),
        };
        CallError {
            operation,
            code,
            message,
            sdk: Box::new(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_config::Region;
    use aws_credential_types::Credentials;
    use aws_smithy_runtime_api::client::http::{
        HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
    };
    use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    /// moto lets any role be assumed, so the refusal is tested here with the one call it needs
    /// answered as AWS answers it: STS `AssumeRole` refused with `AccessDenied`.
    #[derive(Debug)]
    struct RefuseAssumeRole;

    const ACCESS_DENIED: &str = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code>
  <Message>User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/OrganizationAccountAccessRole</Message>
  </Error><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"#;

    impl HttpConnector for RefuseAssumeRole {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let body = request
                .body()
                .bytes()
                .map(|b| String::from_utf8_lossy(b).into_owned());
            assert!(
                body.is_some_and(|b| b.contains("Action=AssumeRole")),
                "only AssumeRole is sent"
            );
            HttpConnectorFuture::ready(Ok(HttpResponse::new(
                StatusCode::try_from(403).expect("a status"),
                SdkBody::from(ACCESS_DENIED),
            )))
        }
    }

    #[tokio::test]
    async fn a_refused_access_role_is_an_error_naming_the_account_and_the_role() {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("eu-west-3"))
            .credentials_provider(Credentials::new("a", "b", None, None, "test"))
            .http_client(http_client_fn(|_, _| {
                SharedHttpConnector::new(RefuseAssumeRole)
            }))
            .load()
            .await;
        let aws = Aws::new(config, None);
        let error = aws
            .member(
                "lumo-prod",
                "111122223333",
                "OrganizationAccountAccessRole",
                "eu-west-3",
            )
            .await
            .expect_err("refused");
        assert_eq!(error.account, "lumo-prod");
        assert_eq!(error.account_id, "111122223333");
        assert_eq!(error.role, "OrganizationAccountAccessRole");
        let chain = crate::discover::chain(&error);
        assert!(
            chain.starts_with("cannot assume role OrganizationAccountAccessRole in account lumo-prod (111122223333)"),
            "{chain}"
        );
        assert!(chain.contains("AccessDenied"), "{chain}");
    }

    /// Answers every request as Organizations does when it fails inside: an error the SDK has
    /// no model for, whose `Display` would be a `Debug` dump.
    #[derive(Debug)]
    struct InternalFailure;

    impl HttpConnector for InternalFailure {
        fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
            let mut response = HttpResponse::new(
                StatusCode::try_from(500).expect("a status"),
                SdkBody::from(
                    r#"{"__type":"InternalFailure","message":"We encountered an internal error. Please try again."}"#,
                ),
            );
            response
                .headers_mut()
                .insert("x-amzn-errortype", "InternalFailure");
            HttpConnectorFuture::ready(Ok(response))
        }
    }

    #[tokio::test]
    async fn an_aws_error_is_one_line_with_its_code_and_message() {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("eu-west-3"))
            .credentials_provider(Credentials::new("a", "b", None, None, "test"))
            .retry_config(RetryConfig::disabled())
            .http_client(http_client_fn(|_, _| {
                SharedHttpConnector::new(InternalFailure)
            }))
            .load()
            .await;
        let aws = Aws::new(config, None);
        let error = aws
            .organizations
            .describe_organization()
            .send()
            .await
            .map_err(call("organizations.DescribeOrganization"))
            .expect_err("refused");
        assert_eq!(
            crate::discover::chain(&error),
            "organizations.DescribeOrganization failed: InternalFailure: We encountered an internal error. Please try again."
        );
    }
}
