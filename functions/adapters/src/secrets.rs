//! The signing keys' secret, read from Secrets Manager once per cold start (one
//! `GetSecretValue`), so that no function's environment holds it: anyone allowed
//! `lambda:GetFunctionConfiguration` would read an environment, while this read needs the
//! function's own role. One signed JSON call does not need the Secrets Manager SDK (the same
//! reasoning and machinery as `s3.rs`: `aws_http`).

use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SigningSettings};
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;

use crate::aws_http::{self, Attempt, dns_suffix};
use crate::bootstrap::AwsEnv;

/// The Secrets Manager endpoint for `aws`: its `AWS_ENDPOINT_URL`, else the region's.
fn endpoint(aws: &AwsEnv) -> String {
    aws.endpoint.clone().unwrap_or_else(|| format!("https://secretsmanager.{}.{}", aws.region, dns_suffix(&aws.region)))
}

/// The `GetSecretValue` request for `secret_id` (a name or an ARN), signed at `at` as the
/// SDK signs an AWS JSON 1.1 call (headers, the body's hash, no `x-amz-content-sha256`).
pub fn get_secret_value_request(aws: &AwsEnv, secret_id: &str, at: SystemTime) -> anyhow::Result<Request<Full<Bytes>>> {
    let body = serde_json::to_vec(&serde_json::json!({ "SecretId": secret_id }))?;
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(format!("{}/", endpoint(aws).trim_end_matches('/')))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "secretsmanager.GetSecretValue")
        .body(Full::new(Bytes::from(body.clone())))?;
    let identity: Identity = aws.credentials.clone().into();
    aws_http::sign_request(
        &mut request,
        &identity,
        &aws.region,
        "secretsmanager",
        at,
        SigningSettings::default(),
        SignableBody::Bytes(&body),
    )?;
    Ok(request)
}

/// The text of the secret `secret_id` (its `SecretString`), retried as every AWS call here
/// is (`aws_http::with_retries`); a refusal (no such secret, access denied) is not retried.
pub async fn secret_string(aws: &AwsEnv, secret_id: &str) -> anyhow::Result<String> {
    let http = aws_http::https_client::<Full<Bytes>>(&aws.roots);
    // The caller names the secret in its error.
    aws_http::with_retries("Secrets Manager GetSecretValue", || async {
        let request = match get_secret_value_request(aws, secret_id, SystemTime::now()) {
            Ok(request) => request,
            Err(error) => return Attempt::Fail(error),
        };
        match aws_http::exchange(&http, request).await {
            Ok((parts, body)) => answer(parts.status, &body),
            Err(error) => Attempt::Retry(error),
        }
    })
    .await
}

/// A `GetSecretValue` answer: the secret's text, or why not (AWS JSON errors name their type
/// in `__type`; throttling and 5xx are worth another attempt).
fn answer(status: StatusCode, body: &[u8]) -> Attempt<String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "SecretString")]
        secret_string: Option<String>,
    }
    if !status.is_success() {
        return aws_http::json_error("Secrets Manager", status, body);
    }
    match serde_json::from_slice::<Answer>(body).ok().and_then(|answer| answer.secret_string) {
        Some(text) => Attempt::Done(text),
        None => Attempt::Fail(anyhow::anyhow!("the secret has no SecretString (a binary secret cannot hold signing keys)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lambda() -> AwsEnv {
        crate::aws_http::lambda_env()
    }

    #[test]
    fn the_request_goes_to_the_region_signed_for_secrets_manager_with_the_session_token() {
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_798_761_600); // 2027-01-01
        let request = get_secret_value_request(&lambda(), "arn:aws:secretsmanager:eu-west-1:1:secret:k", at).unwrap();
        assert_eq!(request.uri(), "https://secretsmanager.eu-west-1.amazonaws.com/");
        let header = |name: &str| request.headers().get(name).unwrap().to_str().unwrap().to_owned();
        let authorization = header("authorization");
        assert!(authorization.starts_with("AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20270101/eu-west-1/secretsmanager/aws4_request"));
        assert!(authorization.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"), "{authorization}");
        assert_eq!(header("x-amz-security-token"), "IQoJb3JpZ2luX2VjEXAMPLE+token/==");
        assert!(request.headers().get("x-amz-content-sha256").is_none(), "only S3 sends the payload hash as a header");
    }

    #[test]
    fn answers_are_read_and_only_transient_failures_retried() {
        assert!(matches!(answer(StatusCode::OK, br#"{"Name": "k", "SecretString": "s3cret"}"#), Attempt::Done(text) if text == "s3cret"));
        assert!(matches!(answer(StatusCode::OK, br#"{"Name": "k", "SecretBinary": "AAAA"}"#), Attempt::Fail(_)));
        let missing = br#"{"__type": "com.amazonaws.secretsmanager#ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."}"#;
        match answer(StatusCode::BAD_REQUEST, missing) {
            Attempt::Fail(error) => assert!(error.to_string().contains("ResourceNotFoundException"), "{error}"),
            _ => panic!("a missing secret is not retried"),
        }
        assert!(matches!(answer(StatusCode::BAD_REQUEST, br#"{"__type": "ThrottlingException"}"#), Attempt::Retry(_)));
        assert!(matches!(answer(StatusCode::SERVICE_UNAVAILABLE, b"<html>"), Attempt::Retry(_)));
        assert!(matches!(answer(StatusCode::FORBIDDEN, br#"{"__type": "AccessDeniedException"}"#), Attempt::Fail(_)));
    }
}
