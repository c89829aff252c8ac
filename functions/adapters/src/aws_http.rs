//! Signed HTTPS calls to AWS services without their SDKs (S3's four object operations,
//! Secrets Manager's one read, SQS's batch send): the SDK's own signer (`aws-sigv4`), a hyper
//! client trusting the process's roots, one reading of JSON protocol errors, and one retry
//! policy whose worst case fits the shortest function timeout.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_smithy_runtime_api::client::identity::Identity;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

use crate::bootstrap::TrustedRoots;

/// Attempts per call on a connection error, a timeout or a retryable answer, each cut off
/// after `ATTEMPT_TIMEOUT`, with `RETRY_BACKOFF << attempt` between them: at most
/// 3 x 1.5 s + 0.1 s + 0.2 s = 4.8 s per call, inside the shortest function timeout (10 s).
/// ARCHITECTURE.md ("Time budgets") has every client's numbers.
pub const ATTEMPTS: u32 = 3;
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
const RETRY_BACKOFF: Duration = Duration::from_millis(50);

/// The longest one call can take, retries included.
pub fn call_budget() -> Duration {
    (1..ATTEMPTS).map(|attempt| RETRY_BACKOFF * (1 << attempt)).sum::<Duration>() + ATTEMPT_TIMEOUT * ATTEMPTS
}

/// What one attempt came to.
pub enum Attempt<T> {
    Done(T),
    /// Worth another attempt (a 5xx, throttling, a dropped connection).
    Retry(anyhow::Error),
    Fail(anyhow::Error),
}

/// Never shows a value: it may be a secret.
impl<T> std::fmt::Debug for Attempt<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Done(_) => f.write_str("Done(..)"),
            Self::Retry(error) => write!(f, "Retry({error:#})"),
            Self::Fail(error) => write!(f, "Fail({error:#})"),
        }
    }
}

/// How `with_retries` ends when every attempt met a retryable failure (a timeout, no
/// connection, throttling, a 5xx): the service's state, not the request's fault.
#[derive(Debug, thiserror::Error)]
#[error("{what} failed {attempts} times: {last:#}")]
pub struct RetriesSpent {
    what: String,
    attempts: u32,
    last: anyhow::Error,
}

/// A `with_retries` failure as the store's: `Unavailable` once the retries are spent on
/// retryable failures, `Backend` for a refusal.
pub fn store_error(error: anyhow::Error) -> todo_domain::ports::StoreError {
    if error.is::<RetriesSpent>() {
        todo_domain::ports::StoreError::unavailable(error)
    } else {
        todo_domain::ports::StoreError::backend(error)
    }
}

/// Runs `attempt` until it is done or fails for good, at most `ATTEMPTS` times, each cut
/// off after `ATTEMPT_TIMEOUT` (a timeout counts as retryable).
pub async fn with_retries<T, F, Fut>(what: &str, mut attempt: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let mut made = 0;
    loop {
        made += 1;
        let outcome = tokio::time::timeout(ATTEMPT_TIMEOUT, attempt())
            .await
            .unwrap_or_else(|_| Attempt::Retry(anyhow::anyhow!("{what} timed out after {ATTEMPT_TIMEOUT:?}")));
        match outcome {
            Attempt::Done(value) => return Ok(value),
            Attempt::Fail(error) => return Err(error),
            // The cause in the message itself: callers print errors with `{}`.
            Attempt::Retry(last) if made >= ATTEMPTS => return Err(RetriesSpent { what: what.to_owned(), attempts: made, last }.into()),
            Attempt::Retry(_) => tokio::time::sleep(RETRY_BACKOFF * (1 << made)).await,
        }
    }
}

/// A failed AWS JSON protocol answer (`{"__type": "...#Kind", "message": ...}`) from
/// `service`: throttling and 5xx are worth another attempt, anything else is refused.
pub fn json_error<T>(service: &str, status: http::StatusCode, body: &[u8]) -> Attempt<T> {
    #[derive(serde::Deserialize)]
    struct Failure {
        #[serde(rename = "__type")]
        error_type: Option<String>,
        #[serde(alias = "Message")]
        message: Option<String>,
    }
    let parsed: Option<Failure> = serde_json::from_slice(body).ok();
    let (error_type, message) = parsed.map_or((None, None), |failure| {
        (failure.error_type.map(|kind| kind.rsplit('#').next().unwrap_or_default().to_owned()), failure.message)
    });
    let error = anyhow::anyhow!(
        "{service} answered {status}: {} {}",
        error_type.as_deref().unwrap_or("(no error type)"),
        message.unwrap_or_default()
    );
    let throttled = error_type.as_deref().is_some_and(|kind| kind.contains("Throttl") || kind == "InternalServiceError");
    if status.is_server_error() || throttled { Attempt::Retry(error) } else { Attempt::Fail(error) }
}

/// Sends `request` and reads the whole answer. Its errors (a refused or dropped
/// connection) are worth another attempt.
pub async fn exchange<C, B>(client: &Client<C, B>, request: http::Request<B>) -> anyhow::Result<(http::response::Parts, bytes::Bytes)>
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
    B: http_body::Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use http_body_util::BodyExt as _;
    let (parts, body) = client.request(request).await?.into_parts();
    Ok((parts, body.collect().await?.to_bytes()))
}

/// Credentials as Lambda hands them to a function (temporary, with a session token), in
/// eu-west-1: what the signing tests sign with.
#[cfg(test)]
pub fn lambda_env() -> crate::bootstrap::AwsEnv {
    let vars = [
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjEXAMPLE+token/=="),
    ];
    crate::bootstrap::AwsEnv::from_env(&crate::config::Env::from_fn(move |name| {
        vars.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
    }))
    .expect("a complete Lambda environment")
}

/// The DNS suffix of `region`'s partition, as `${AWS::URLSuffix}` gives it in the template:
/// host names are not `amazonaws.com` everywhere.
pub fn dns_suffix(region: &str) -> &'static str {
    // From the partitions the SDKs' endpoint rules list; every other region is in `aws`
    // (and `aws-us-gov`), whose suffix is amazonaws.com.
    const PARTITIONS: &[(&str, &str)] = &[
        ("cn-", "amazonaws.com.cn"),
        ("us-isob-", "sc2s.sgov.gov"),
        ("us-isof-", "csp.hci.ic.gov"),
        ("us-iso-", "c2s.ic.gov"),
        ("eu-isoe-", "cloud.adc-e.uk"),
        ("eusc-", "amazonaws.eu"),
    ];
    PARTITIONS.iter().find(|(prefix, _)| region.starts_with(prefix)).map_or("amazonaws.com", |(_, suffix)| suffix)
}

/// An HTTP(S) client (HTTP for emulators) that trusts `roots`, on ring as everything else.
pub fn https_client<B>(roots: &TrustedRoots) -> Client<hyper_rustls::HttpsConnector<HttpConnector>, B>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
{
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots.store())
        .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http().enable_http1().build();
    Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector)
}

/// Signs `request` (SigV4, for `service` in `region`, at `at`) with `settings`, over `body`.
pub fn sign_request<B>(
    request: &mut http::Request<B>,
    identity: &Identity,
    region: &str,
    service: &str,
    at: SystemTime,
    settings: SigningSettings,
    body: SignableBody<'_>,
) -> anyhow::Result<()> {
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name(service)
        .time(at)
        .settings(settings)
        .build()?
        .into();
    let uri = request.uri().to_string();
    let headers = request.headers().iter().map(|(name, value)| (name.as_str(), value.to_str().unwrap_or_default()));
    let signable = SignableRequest::new(request.method().as_str(), uri, headers, body)?;
    let (instructions, _signature) = sign(signable, &params)?.into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_call_with_its_retries_fits_the_shortest_function_timeout() {
        assert!(call_budget() <= Duration::from_secs(5), "{:?}", call_budget());
    }

    #[test]
    fn host_names_follow_the_region_partition() {
        assert_eq!(dns_suffix("eu-west-1"), "amazonaws.com");
        assert_eq!(dns_suffix("us-gov-west-1"), "amazonaws.com");
        assert_eq!(dns_suffix("cn-north-1"), "amazonaws.com.cn");
        assert_eq!(dns_suffix("us-iso-east-1"), "c2s.ic.gov");
        assert_eq!(dns_suffix("us-isob-east-1"), "sc2s.sgov.gov");
    }

    #[tokio::test]
    async fn only_retryable_failures_are_retried_and_only_so_often() {
        let mut calls = 0;
        let error = with_retries("probe", || {
            calls += 1;
            async { Attempt::<()>::Retry(anyhow::anyhow!("5xx")) }
        })
        .await
        .unwrap_err();
        assert_eq!(calls, ATTEMPTS);
        assert_eq!(error.to_string(), "probe failed 3 times: 5xx", "the cause shows however the error is printed");
        let mut calls = 0;
        with_retries("probe", || {
            calls += 1;
            async { Attempt::<()>::Fail(anyhow::anyhow!("400")) }
        })
        .await
        .unwrap_err();
        assert_eq!(calls, 1);
    }
}
