//! The DynamoDB adapter: every port over one table (single-table design).
//!
//! | item            | PK             | SK                | notes                                   |
//! |-----------------|----------------|-------------------|-----------------------------------------|
//! | user profile    | `USER#<uid>`   | `PROFILE`         | `version` guards updates                |
//! | email guard     | `EMAIL#<email>`| `EMAIL`           | `user_id`; written with the profile     |
//! | session         | `USER#<uid>`   | `SESSION#<sid>`   | `generation`; `ttl` = expiry            |
//! | list            | `LIST#<lid>`   | `LIST`            | the Inbox's `<lid>` is its owner's id   |
//! | member          | `LIST#<lid>`   | `MEMBER#<uid>`    | `role`: every access check reads this   |
//! | membership      | `USER#<uid>`   | `MEMBERSHIP#<lid>`| `role`: a user's lists in one query     |
//! | list count      | `USER#<uid>`   | `LISTCOUNT`       | lists owned besides the Inbox (≤ 199)   |
//! | invitation      | `LIST#<lid>`   | `INVITE#<iid>`    | holds a seat until answered or swept    |
//! | invitation (email's copy) | `INVITEE#<email>` | `INVITE#<iid>` | `ttl` = expiry; `GET /invitations` |
//! | seat count      | `LIST#<lid>`   | `SEATS`           | members besides the owner + invitations (≤ 49) |
//! | task            | `LIST#<lid>`   | `TASK#<tid>`      | `completed`, `due_ms` for filters       |
//! | idempotency key | `USER#<uid>`   | `IDEMPOTENCY#<k>` | `ttl` = expiry                          |
//! | file            | `TASK#<tid>`   | `FILE#<fid>`      | `status`; keyed by task: moves keep it  |
//! | file count      | `TASK#<tid>`   | `FILECOUNT`       | `count`, kept with file writes          |
//! | notification    | `USER#<uid>`   | `NOTIFICATION#<nid>` | `read`; `ttl` = expiry               |
//! | deletion marker | `DELETIONS`    | `USER#<uid>`      | an account whose leftovers remain       |
//! | password failures | `THROTTLE#<email hash>` | `THROTTLE` | `failures`, `last_failure_ms`; `ttl` |
//!
//! One sparse GSI, `schedule` (`sched_pk`, `sched_sk`, keys only), holds work due at a
//! time: tasks with a pending alarm and pending uploads (see `schedule`).
//!
//! A list's tasks share the list's partition and a task's files the task's, so listing and
//! cascading are key conditions; access is the caller's `MEMBER#` item in the list's
//! partition, read beside every read and checked in every member's write transaction. No request path Scans (see the `no_scan` test). Items are mapped with
//! `serde_dynamo`: the domain type is flattened next to its key attributes.

mod calls;
mod files;
mod idempotency;
mod lists;
mod notifications;
mod schedule;
mod schema;
mod sessions;
mod sharing;
mod stream;
mod tasks;
mod throttle;
mod users;

pub use calls::CallLog;
pub use schedule::{DEFAULT_SHARDS, MAX_SHARDS, SCHEDULE_INDEX};
pub use schema::create_table;
pub use sharing::INVITEE_PREFIX;
pub use stream::{NewInvitations, StreamEvent};
pub use tasks::OPEN_INDEX;
pub use users::DELETIONS;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use serde::{Serialize, de::DeserializeOwned};
use todo_domain::model::{ListId, TaskId, UserId};
use todo_domain::ports::{StoreError, StoreResult};

pub type Item = HashMap<String, AttributeValue>;

/// DynamoDB's own limit on one `BatchWriteItem` (moto accepts more: do not rely on it).
pub const MAX_BATCH_WRITE: usize = 25;

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// The `schedule` index's shards (`TODO_ALARM_SHARDS`).
    alarm_shards: u32,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into(), alarm_shards: DEFAULT_SHARDS }
    }

    /// The store with its due work spread over `shards` partitions of the `schedule` index
    /// (1 to `MAX_SHARDS`). Every process writing or reading the table must use one count,
    /// or a raised one: an entry in a shard beyond a reader's count waits, unread, until its
    /// item is written again.
    pub fn with_alarm_shards(self, shards: u32) -> Self {
        assert!((1..=MAX_SHARDS).contains(&shards), "{shards} shards: from 1 to {MAX_SHARDS}");
        Self { alarm_shards: shards, ..self }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Deletes the given keys in batches of at most 25, retrying unprocessed ones.
    async fn delete_keys(&self, keys: Vec<Item>) -> StoreResult<()> {
        for chunk in keys.chunks(MAX_BATCH_WRITE) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|key| {
                    Ok(WriteRequest::builder()
                        .delete_request(DeleteRequest::builder().set_key(Some(key.clone())).build().map_err(StoreError::backend)?)
                        .build())
                })
                .collect::<StoreResult<_>>()?;
            // 8 attempts, 6.35 s of backoff at most, inside the 10 s of `DELETE /users/me`
            // (its sessions) as of the purges. No sleep after the last attempt.
            for attempt in 0..8u32 {
                if requests.is_empty() {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(50 << (attempt - 1))).await;
                }
                let output = self.client.batch_write_item().request_items(&self.table, requests).send().await.map_err(backend)?;
                requests = output.unprocessed_items.and_then(|mut unprocessed| unprocessed.remove(&self.table)).unwrap_or_default();
            }
            if !requests.is_empty() {
                return Err(StoreError::unavailable(anyhow::anyhow!("{} deletes still unprocessed after retries", requests.len())));
            }
        }
        Ok(())
    }

    /// Every key in partition `pk` whose sort key starts with `prefix`
    /// (a keys-only query, paged to the end).
    async fn partition_keys(&self, pk: &str, prefix: &str) -> StoreResult<Vec<Item>> {
        self.partition_query(pk, prefix, Some("PK, SK")).await
    }

    /// Every item in partition `pk` whose sort key starts with `prefix`.
    async fn partition_items(&self, pk: &str, prefix: &str) -> StoreResult<Vec<Item>> {
        self.partition_query(pk, prefix, None).await
    }

    /// One page of the items in partition `pk` whose sort key is `prefix` + an id, after
    /// `prefix` + `after` (one strongly consistent `Query` of at most `limit` items), and
    /// the id to resume after (`None` on the last page).
    async fn prefix_page<K: std::fmt::Display>(
        &self,
        pk: &str,
        prefix: &str,
        limit: u32,
        after: Option<K>,
        parse: fn(&str) -> Result<K, String>,
    ) -> StoreResult<(Vec<Item>, Option<K>)> {
        let output = self
            .prefix_query(pk, prefix)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(after.map(|after| key(pk.to_owned(), format!("{prefix}{after}"))))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        let next = resume_after(output.last_evaluated_key, prefix, parse);
        Ok((output.items.unwrap_or_default(), next))
    }

    /// A Query of the items of partition `pk` whose sort key starts with `prefix`.
    fn prefix_query(&self, pk: &str, prefix: &str) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
    }

    async fn partition_query(&self, pk: &str, prefix: &str, projection: Option<&str>) -> StoreResult<Vec<Item>> {
        let mut keys = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .prefix_query(pk, prefix)
                .set_projection_expression(projection.map(str::to_owned))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            keys.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(keys);
            }
        }
    }
}

/// Per-call budget of the DynamoDB client on AWS: a connection that does not open in time is
/// retried (nothing was sent), and a call is cut off after `OPERATION_TIMEOUT`, retries
/// included, well inside the shortest function timeout (10 s). There is deliberately no
/// per-attempt timeout: a slow attempt that did succeed and was then retried would fail its
/// own condition (a refresh-token rotation would read as reuse). A DynamoDB call normally
/// takes single-digit milliseconds; ARCHITECTURE.md ("Time budgets") has every client's numbers.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);
pub const OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(3500);
/// Emulators (an `AWS_ENDPOINT_URL`) answer one request at a time and far slower than AWS:
/// the budget there only guards against a hang.
pub const EMULATOR_OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
pub const MAX_ATTEMPTS: u32 = 3;

/// A client from explicit settings (see `bootstrap::AwsEnv`), optionally with a call log.
pub fn client(aws: &crate::bootstrap::AwsEnv, calls: Option<&CallLog>) -> Client {
    client_with_timeout(aws, calls, if aws.endpoint.is_some() { EMULATOR_OPERATION_TIMEOUT } else { OPERATION_TIMEOUT })
}

/// `client` with another whole-call budget: for tests that freeze the emulator and must
/// not wait out `EMULATOR_OPERATION_TIMEOUT`.
pub fn client_with_timeout(aws: &crate::bootstrap::AwsEnv, calls: Option<&CallLog>, operation_timeout: std::time::Duration) -> Client {
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    use aws_sdk_dynamodb::config::{BehaviorVersion, IdentityCache, Region, StalledStreamProtectionConfig, retry::RetryConfig};
    let mut config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(aws.region.clone()))
        .credentials_provider(aws.credentials.clone())
        // The credentials are fixed for the life of the process (Lambda's environment, or an
        // emulator's dummies): caching them only adds a lock, a clock read and a timer to
        // every call.
        .identity_cache(IdentityCache::no_cache())
        // Bodies here are a few KB, and the operation timeout already bounds a stalled
        // response; the protection wraps every body in a throughput monitor with timers.
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .timeout_config(TimeoutConfig::builder().connect_timeout(CONNECT_TIMEOUT).operation_timeout(operation_timeout).build())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .http_client(aws.http.clone());
    if let Some(endpoint) = &aws.endpoint {
        config = config.endpoint_url(endpoint);
    }
    if let Some(endpoint) = ResolvedOnce::new(&aws.region, aws.endpoint.as_deref()) {
        config = config.endpoint_resolver(endpoint);
    }
    if let Some(calls) = calls {
        config = config.interceptor(calls.clone());
    }
    Client::from_conf(config.build())
}

/// The endpoint every call goes to, resolved once per client by the SDK's own rules. The
/// SDK would evaluate its rule set on every call; here nothing a call carries changes the
/// answer (tables are named, not ARNs, and the credentials carry no account id). Supporting
/// FIPS or dual-stack endpoints, table ARNs or account-id endpoints means passing them here.
#[derive(Debug)]
struct ResolvedOnce(aws_sdk_dynamodb::config::endpoint::Endpoint);

impl ResolvedOnce {
    /// `None` if the rules refuse the settings: the SDK then reports that on every call.
    fn new(region: &str, endpoint: Option<&str>) -> Option<Self> {
        use aws_sdk_dynamodb::config::endpoint::{DefaultResolver, Params, ResolveEndpoint as _};
        let params = Params::builder()
            .region(region)
            .set_endpoint(endpoint.map(str::to_owned))
            .use_fips(false)
            .use_dual_stack(false)
            .build()
            .ok()?;
        let resolver = DefaultResolver::new();
        let mut resolving = std::pin::pin!(resolver.resolve_endpoint(&params));
        // The default resolver answers at once (no I/O): one poll.
        match resolving.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
            std::task::Poll::Ready(answer) => answer.ok().map(Self),
            std::task::Poll::Pending => None,
        }
    }
}

impl aws_sdk_dynamodb::config::endpoint::ResolveEndpoint for ResolvedOnce {
    fn resolve_endpoint<'a>(
        &'a self,
        _params: &'a aws_sdk_dynamodb::config::endpoint::Params,
    ) -> aws_sdk_dynamodb::config::endpoint::EndpointFuture<'a> {
        aws_sdk_dynamodb::config::endpoint::EndpointFuture::ready(Ok(self.0.clone()))
    }
}

/// A client for a local emulator at `endpoint` (moto's server): fixed region, dummy
/// credentials, optional call log.
pub fn emulator_client(endpoint: &str, calls: Option<&CallLog>) -> Client {
    client(&crate::bootstrap::AwsEnv::emulator(endpoint), calls)
}

pub(crate) fn user_pk(user: UserId) -> String {
    format!("USER#{user}")
}

/// Partition key prefixes of a list's and a task's partitions.
pub(crate) const LIST_PREFIX: &str = "LIST#";
pub(crate) const TASK_PARTITION_PREFIX: &str = "TASK#";

pub(crate) fn list_pk(list: ListId) -> String {
    format!("{LIST_PREFIX}{list}")
}

pub(crate) fn task_pk(task: TaskId) -> String {
    format!("{TASK_PARTITION_PREFIX}{task}")
}

/// The id to resume a page after: the sort key of a query's last evaluated key, less `prefix`.
pub(crate) fn resume_after<T>(last: Option<Item>, prefix: &str, parse: fn(&str) -> Result<T, String>) -> Option<T> {
    last?.get("SK")?.as_s().ok()?.strip_prefix(prefix).and_then(|id| parse(id).ok())
}

/// How one key attribute names an id: a prefix, then the id's text.
pub(crate) type KeyShape<'a, T> = (&'a str, fn(&str) -> Result<T, String>);

fn id_in<T>(value: &str, (prefix, parse): KeyShape<'_, T>) -> Option<T> {
    value.strip_prefix(prefix).and_then(|id| parse(id).ok())
}

/// The ids a base-table key (as the index projects it) names, its partition key read as
/// `partition`, its sort key as `sort`.
pub(crate) fn item_ids<P, S>(item: &Item, partition: KeyShape<'_, P>, sort: KeyShape<'_, S>) -> StoreResult<(P, S)> {
    let text = |name: &str| item.get(name).and_then(|value| value.as_s().ok());
    let (Some(pk), Some(sk)) = (text("PK"), text("SK")) else {
        return Err(StoreError::backend(anyhow::anyhow!("an index entry without base-table keys: {item:?}")));
    };
    id_in(pk, partition)
        .zip(id_in(sk, sort))
        .ok_or_else(|| StoreError::backend(anyhow::anyhow!("not a {}/{} key in the index: {pk} / {sk}", partition.0, sort.0)))
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl Into<i128>) -> AttributeValue {
    AttributeValue::N(value.into().to_string())
}

pub(crate) fn key(pk: String, sk: String) -> Item {
    HashMap::from([("PK".to_owned(), s(pk)), ("SK".to_owned(), s(sk))])
}

pub(crate) fn to_item<T: Serialize>(value: &T) -> StoreResult<Item> {
    serde_dynamo::to_item(value).map_err(StoreError::backend)
}

pub(crate) fn from_item<T: DeserializeOwned>(item: Item) -> StoreResult<T> {
    serde_dynamo::from_item(item).map_err(StoreError::backend)
}

/// A failed call as the store's error: `Unavailable` when it was the service's state, not the
/// request (no answer in time, no connection, throttling, a 5xx: the SDK's own retries are
/// spent, and a later request may succeed), `Backend` otherwise (a bug).
pub(crate) fn backend<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    use aws_sdk_dynamodb::error::ProvideErrorMetadata as _;
    use aws_smithy_types::retry::ErrorKind;
    let transient = match &error {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        // Connecting failed (refused, DNS, TLS: the client tells these apart no further), the
        // connection dropped, or a timeout; not a request the client could not even send
        // (a "user" error: a bug).
        SdkError::DispatchFailure(failure) => {
            failure.is_io()
                || failure.is_timeout()
                || matches!(failure.as_other(), Some(ErrorKind::TransientError | ErrorKind::ThrottlingError | ErrorKind::ServerError))
        }
        SdkError::ServiceError(_) => error.code().is_some_and(is_transient_code),
        _ => false,
    };
    let cause = anyhow::anyhow!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(error));
    if transient { StoreError::unavailable(cause) } else { StoreError::backend(cause) }
}

/// The service's error of a failed call when `expected` picks it (a condition that failed),
/// else the failure as a store error (`backend`: a timeout stays a timeout).
pub(crate) fn expected_error<E, R>(error: SdkError<E, R>, expected: impl Fn(&E) -> bool) -> StoreResult<E>
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match error {
        SdkError::ServiceError(context) if expected(context.err()) => Ok(context.into_err()),
        other => Err(backend(other)),
    }
}

/// DynamoDB's error codes that say "not now" rather than "not this".
fn is_transient_code(code: &str) -> bool {
    matches!(
        code,
        "ThrottlingException"
            | "ProvisionedThroughputExceededException"
            | "RequestLimitExceeded"
            | "InternalServerError"
            | "ServiceUnavailable"
            | "InternalFailure"
    )
}

impl DynamoStore {
    /// One strongly consistent `GetItem`, deserialised.
    pub(crate) async fn get<T: DeserializeOwned>(&self, pk: String, sk: String) -> StoreResult<Option<T>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        output.item.map(from_item).transpose()
    }

    /// One `PutItem` of `item` under a version-style `condition`. A failed condition reports
    /// whether an item was there (a version mismatch) or not (not found).
    pub(crate) async fn put_if(&self, item: Item, condition: &str, values: &[(&str, AttributeValue)]) -> StoreResult<()> {
        use aws_sdk_dynamodb::operation::put_item::PutItemError;
        use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        for (name, value) in values {
            request = request.expression_attribute_values(*name, value.clone());
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(error) => match expected_error(error, PutItemError::is_conditional_check_failed_exception)? {
                PutItemError::ConditionalCheckFailedException(failed) => {
                    Err(if failed.item.is_some() { StoreError::VersionMismatch } else { StoreError::NotFound })
                }
                other => Err(StoreError::backend(other)),
            },
        }
    }
}

/// A transaction item that creates `item` only where nothing has its key.
pub(crate) fn put_if_absent(table: &str, item: Item) -> StoreResult<aws_sdk_dynamodb::types::TransactWriteItem> {
    use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(PK)")
        .build()
        .map_err(StoreError::backend)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// A transaction whose condition on some item failed: the per-item reasons.
#[derive(Debug)]
pub(crate) struct Cancelled(Vec<aws_sdk_dynamodb::types::CancellationReason>);

impl Cancelled {
    /// Whether item `index`'s condition failed.
    pub(crate) fn failed_at(&self, index: usize) -> bool {
        condition_failed_at(&self.0, index)
    }

    /// Whether item `index` existed when its condition failed (needs
    /// `ReturnValuesOnConditionCheckFailure::AllOld` on that item).
    pub(crate) fn existed_at(&self, index: usize) -> bool {
        self.0.get(index).is_some_and(|reason| reason.item.is_some())
    }

    pub(crate) fn unexpected(&self, what: &str) -> StoreError {
        StoreError::backend(anyhow::anyhow!("{what} cancelled: {:?}", self.0))
    }
}

/// How often a transaction cancelled only by `TransactionConflict` is retried.
const TRANSACTION_ATTEMPTS: u32 = 5;

impl DynamoStore {
    /// One `TransactWriteItems`, retried with backoff while concurrent writes to the same
    /// items (`TransactionConflict`) or throttling (`ThrottlingError`,
    /// `ProvisionedThroughputExceeded`) cancel it, then `Unavailable`. `Ok(Err(_))` when a
    /// condition failed.
    pub(crate) async fn transact(
        &self,
        items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
        what: &str,
    ) -> StoreResult<Result<(), Cancelled>> {
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        for attempt in 0..TRANSACTION_ATTEMPTS {
            let Err(error) = self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await else {
                return Ok(Ok(()));
            };
            let TransactWriteItemsError::TransactionCanceledException(cancelled) =
                expected_error(error, TransactWriteItemsError::is_transaction_canceled_exception)?
            else {
                unreachable!("expected_error let only a cancellation through")
            };
            let reasons = cancelled.cancellation_reasons.unwrap_or_default();
            let not_now =
                |code: Option<&str>| matches!(code, Some("TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded"));
            // A condition that failed decides, whatever else cancelled the transaction.
            let decided = reasons.iter().any(|reason| reason.code() == Some("ConditionalCheckFailed"));
            if decided || !reasons.iter().any(|reason| not_now(reason.code())) {
                return Ok(Err(Cancelled(reasons)));
            }
            tokio::time::sleep(std::time::Duration::from_millis(10 << attempt)).await;
        }
        // Contention or load, not a bug: the same request a moment later may well go through.
        Err(StoreError::unavailable(anyhow::anyhow!("{what} kept being cancelled by concurrent writes or throttling")))
    }
}

/// Whether a cancelled transaction failed on the condition of item `index`.
pub(crate) fn condition_failed_at(reasons: &[aws_sdk_dynamodb::types::CancellationReason], index: usize) -> bool {
    reasons.get(index).and_then(|reason| reason.code()) == Some("ConditionalCheckFailed")
}

#[cfg(test)]
mod endpoint_tests {
    use super::ResolvedOnce;

    #[test]
    fn the_endpoint_resolved_once_is_the_one_the_rules_give() {
        assert_eq!(ResolvedOnce::new("us-east-1", None).unwrap().0.url(), "https://dynamodb.us-east-1.amazonaws.com");
        assert_eq!(ResolvedOnce::new("cn-north-1", None).unwrap().0.url(), "https://dynamodb.cn-north-1.amazonaws.com.cn");
        assert_eq!(ResolvedOnce::new("us-east-1", Some("http://127.0.0.1:5123")).unwrap().0.url(), "http://127.0.0.1:5123");
        assert!(ResolvedOnce::new("not a region!", None).is_none(), "the SDK reports a bad region on each call instead");
    }
}
