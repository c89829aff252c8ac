//! Sending to an SQS queue: how the reminders job hands each shard to its own worker
//! invocation (`todo_jobs::fan_out`). One signed AWS JSON 1.0 call, `SendMessageBatch`,
//! does not need the SQS SDK (the same reasoning and machinery as `secrets.rs`: `aws_http`).

use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SigningSettings};
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

use crate::aws_http::{self, Attempt, dns_suffix};
use crate::bootstrap::AwsEnv;
use crate::config::{ConfigError, Env};

/// `TODO_REMINDER_QUEUE_URL`: the queue the reminders job sends one message per shard to
/// (the template's `ReminderShardsQueue`).
pub const REMINDER_QUEUE_URL: &str = "TODO_REMINDER_QUEUE_URL";

/// SQS takes at most ten messages per `SendMessageBatch`.
const BATCH: usize = 10;

/// A queue messages are sent to; the client built once per cold start.
#[derive(Clone)]
pub struct Queue {
    aws: AwsEnv,
    url: String,
    http: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Queue {
    pub fn new(aws: &AwsEnv, url: impl Into<String>) -> Self {
        Self { aws: aws.clone(), url: url.into(), http: aws_http::https_client(&aws.roots) }
    }

    /// The queue `variable` names, with the AWS environment every function has.
    pub fn from_env(env: &Env<'_>, variable: &'static str) -> Result<Self, ConfigError> {
        let url = env.optional(variable).ok_or(ConfigError { name: variable, problem: "is required (a queue URL)".to_owned() })?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ConfigError { name: variable, problem: format!("{url:?} is not a queue URL") });
        }
        Ok(Self::new(&AwsEnv::from_env(env)?, url))
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends every message in `bodies`, ten to a call, the calls side by side (so a dispatch
    /// of 128 shards takes one call's time, retries included, not thirteen); entries SQS
    /// could not take for a passing reason (throttling, its own failure) are sent again, each
    /// call retried as every AWS call here is (`aws_http::with_retries`). Every batch that can
    /// go goes; then the first failure, if a message could not.
    pub async fn send_all(&self, bodies: &[String]) -> anyhow::Result<()> {
        futures::future::join_all(bodies.chunks(BATCH).map(|chunk| self.send_batch(chunk))).await.into_iter().collect()
    }

    /// One `SendMessageBatch` of at most ten messages, and its retries.
    async fn send_batch(&self, chunk: &[String]) -> anyhow::Result<()> {
        // What is still to send, by index in the chunk: a retry resends only these.
        let pending = std::sync::Mutex::new((0..chunk.len()).collect::<Vec<_>>());
        aws_http::with_retries("SQS SendMessageBatch", || async {
            let entries: Vec<(usize, &str)> =
                pending.lock().expect("never poisoned").iter().map(|&index| (index, chunk[index].as_str())).collect();
            let request = match self.send_message_batch_request(&entries, SystemTime::now()) {
                Ok(request) => request,
                Err(error) => return Attempt::Fail(error),
            };
            let failed = match aws_http::exchange(&self.http, request).await {
                Ok((parts, body)) => match batch_answer(parts.status, &body) {
                    Attempt::Done(failed) => failed,
                    Attempt::Retry(error) => return Attempt::Retry(error),
                    Attempt::Fail(error) => return Attempt::Fail(error),
                },
                Err(error) => return Attempt::Retry(error),
            };
            let mut pending = pending.lock().expect("never poisoned");
            match still_pending(&pending, &failed) {
                Attempt::Done(rest) if rest.is_empty() => Attempt::Done(()),
                Attempt::Done(rest) => {
                    let error = anyhow::anyhow!("SQS could not take {} of {} messages: {}", rest.len(), entries.len(), failed[0].reason);
                    *pending = rest;
                    Attempt::Retry(error)
                }
                Attempt::Retry(error) => Attempt::Retry(error),
                Attempt::Fail(error) => Attempt::Fail(error),
            }
        })
        .await
    }

    /// The `SendMessageBatch` request for `entries` (their ids are their indexes), signed at
    /// `at` as the SDK signs an AWS JSON 1.0 call.
    pub fn send_message_batch_request(&self, entries: &[(usize, &str)], at: SystemTime) -> anyhow::Result<Request<Full<Bytes>>> {
        let entries: Vec<_> = entries.iter().map(|(id, body)| serde_json::json!({ "Id": id.to_string(), "MessageBody": body })).collect();
        let body = serde_json::to_vec(&serde_json::json!({ "QueueUrl": self.url, "Entries": entries }))?;
        let endpoint =
            self.aws.endpoint.clone().unwrap_or_else(|| format!("https://sqs.{}.{}", self.aws.region, dns_suffix(&self.aws.region)));
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(format!("{}/", endpoint.trim_end_matches('/')))
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", "AmazonSQS.SendMessageBatch")
            .body(Full::new(Bytes::from(body.clone())))?;
        let identity: Identity = self.aws.credentials.clone().into();
        aws_http::sign_request(
            &mut request,
            &identity,
            &self.aws.region,
            "sqs",
            at,
            SigningSettings::default(),
            SignableBody::Bytes(&body),
        )?;
        Ok(request)
    }
}

/// What is left to send after SQS answered a batch of `sent` with `failed`: the entries it
/// could not take for a passing reason, or a failure for one it refused (the request's
/// fault) or one it named that was not sent.
fn still_pending(sent: &[usize], failed: &[FailedEntry]) -> Attempt<Vec<usize>> {
    if let Some(stranger) = failed.iter().find(|entry| !sent.contains(&entry.id)) {
        return Attempt::Fail(anyhow::anyhow!("SQS named entry {} as failed, which was not sent", stranger.id));
    }
    if let Some(refused) = failed.iter().find(|entry| entry.sender_fault) {
        return Attempt::Fail(anyhow::anyhow!("SQS refused message {}: {}", refused.id, refused.reason));
    }
    Attempt::Done(failed.iter().map(|entry| entry.id).collect())
}

/// An entry of a batch SQS did not take.
#[derive(Debug, PartialEq, Eq)]
struct FailedEntry {
    /// The entry's id: its index in the batch.
    id: usize,
    /// The request's fault (a message too large, say): sending it again cannot help.
    sender_fault: bool,
    reason: String,
}

/// A `SendMessageBatch` answer: the entries SQS did not take, or why the call failed (AWS
/// JSON errors name their type in `__type`; throttling and 5xx are worth another attempt).
fn batch_answer(status: StatusCode, body: &[u8]) -> Attempt<Vec<FailedEntry>> {
    #[derive(serde::Deserialize)]
    struct Failed {
        #[serde(rename = "Id")]
        id: String,
        #[serde(rename = "SenderFault", default)]
        sender_fault: bool,
        #[serde(rename = "Code", default)]
        code: String,
        #[serde(rename = "Message", default)]
        message: String,
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "Failed", default)]
        failed: Vec<Failed>,
    }
    if !status.is_success() {
        return aws_http::json_error("SQS", status, body);
    }
    match serde_json::from_slice::<Answer>(body) {
        Ok(answer) => answer
            .failed
            .into_iter()
            .map(|failed| {
                let id = failed.id.parse().map_err(|_| anyhow::anyhow!("SQS named an entry {:?}, which was not sent", failed.id))?;
                Ok(FailedEntry { id, sender_fault: failed.sender_fault, reason: format!("{}: {}", failed.code, failed.message) })
            })
            .collect::<anyhow::Result<_>>()
            .map_or_else(Attempt::Fail, Attempt::Done),
        Err(_) => Attempt::Retry(anyhow::anyhow!("SQS answered {status} with an unreadable body")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_batch_goes_to_the_regions_sqs_signed_with_the_session_token() {
        // The queue's own host is not where the call goes: the region's endpoint is.
        let queue = Queue::new(&crate::aws_http::lambda_env(), "https://queue.example/1/todo-reminder-shards");
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_798_761_600); // 2027-01-01
        let request = queue.send_message_batch_request(&[(0, r#"{"shard":0}"#), (1, r#"{"shard":1}"#)], at).unwrap();
        assert_eq!(request.uri(), "https://sqs.eu-west-1.amazonaws.com/");
        let header = |name: &str| request.headers().get(name).unwrap().to_str().unwrap().to_owned();
        let authorization = header("authorization");
        assert!(authorization.starts_with("AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20270101/eu-west-1/sqs/aws4_request"));
        assert!(authorization.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"), "{authorization}");
        assert_eq!(header("x-amz-target"), "AmazonSQS.SendMessageBatch");
        assert_eq!(header("x-amz-security-token"), "IQoJb3JpZ2luX2VjEXAMPLE+token/==");
        let body = http_body_util::BodyExt::collect(request.into_body()).await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["QueueUrl"], "https://queue.example/1/todo-reminder-shards");
        assert_eq!(body["Entries"][1], serde_json::json!({"Id": "1", "MessageBody": "{\"shard\":1}"}));
    }

    #[test]
    fn refused_entries_and_failed_calls_are_told_apart() {
        let ok = br#"{"Successful": [{"Id": "0", "MessageId": "m"}]}"#;
        assert!(matches!(batch_answer(StatusCode::OK, ok), Attempt::Done(failed) if failed.is_empty()));
        let partial =
            br#"{"Successful": [], "Failed": [{"Id": "0", "SenderFault": false, "Code": "InternalError", "Message": "try again"}]}"#;
        assert!(
            matches!(batch_answer(StatusCode::OK, partial), Attempt::Done(failed) if failed == [FailedEntry { id: 0, sender_fault: false, reason: "InternalError: try again".to_owned() }])
        );
        let throttled = br#"{"__type": "com.amazonaws.sqs#RequestThrottled", "message": "slow down"}"#;
        assert!(matches!(batch_answer(StatusCode::BAD_REQUEST, throttled), Attempt::Retry(_)));
        let missing = br#"{"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "no queue"}"#;
        match batch_answer(StatusCode::BAD_REQUEST, missing) {
            Attempt::Fail(error) => assert!(error.to_string().contains("QueueDoesNotExist"), "{error}"),
            other => panic!("a missing queue is not retried: {other:?}"),
        }
        assert!(matches!(batch_answer(StatusCode::SERVICE_UNAVAILABLE, b"<html>"), Attempt::Retry(_)));
    }

    #[test]
    fn only_what_sqs_could_not_take_is_sent_again() {
        let failed = |id, sender_fault| FailedEntry { id, sender_fault, reason: "r".to_owned() };
        assert!(matches!(still_pending(&[0, 1, 2], &[]), Attempt::Done(rest) if rest.is_empty()));
        assert!(matches!(still_pending(&[0, 1, 2], &[failed(1, false)]), Attempt::Done(rest) if rest == [1]));
        assert!(matches!(still_pending(&[1], &[failed(1, false)]), Attempt::Done(rest) if rest == [1]));
        assert!(matches!(still_pending(&[0, 1], &[failed(0, false), failed(1, true)]), Attempt::Fail(_)), "a refused message cannot go");
        assert!(matches!(still_pending(&[1, 2], &[failed(0, false)]), Attempt::Fail(_)), "entry 0 was not sent in this attempt");
        assert!(matches!(still_pending(&[0], &[failed(10, false)]), Attempt::Fail(_)));
    }

    #[test]
    fn the_queue_url_is_required_and_must_be_one() {
        let env = |url: &'static str| {
            Env::from_fn(move |name| match name {
                REMINDER_QUEUE_URL => Some(url.to_owned()),
                "AWS_REGION" => Some("eu-west-1".to_owned()),
                "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("x".to_owned()),
                _ => None,
            })
        };
        assert_eq!(Queue::from_env(&env(""), REMINDER_QUEUE_URL).unwrap_err().name, REMINDER_QUEUE_URL);
        assert!(Queue::from_env(&env("todo-reminder-shards"), REMINDER_QUEUE_URL).unwrap_err().problem.contains("not a queue URL"));
        assert_eq!(
            Queue::from_env(&env("https://sqs.eu-west-1.amazonaws.com/1/q"), REMINDER_QUEUE_URL).unwrap().url(),
            "https://sqs.eu-west-1.amazonaws.com/1/q"
        );
    }
}
