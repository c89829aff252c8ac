//! The real Lambda binaries, as `sam build` packages them, booted under a Lambda Runtime
//! API emulator (`cargo lambda watch --only-lambda-apis`) against DynamoDB on moto, each
//! invoked with its sample event. `cargo xtask test` provides both emulators; without them
//! this test fails rather than skips.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const SAMPLE_TASK_ID: &str = "01JAAAAAAAAAAAAAAAAAAAAAAA";
const SAMPLE_USER_ID: &str = "01JCCCCCCCCCCCCCCCCCCCCCCC";
/// The signing keys the functions read from the emulator's Secrets Manager at cold start
/// (`TODO_TOKEN_SECRET_ID`, as on AWS): a key set in mid-rotation.
const SIGNING_KEYS: &str = r#"{"current": {"kid": "k2", "key": "lambda-runtime-test-current-key-0123456789"}, "previous": {"kid": "k1", "key": "lambda-runtime-test-previous-key-012345678"}}"#;

fn required_env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run `cargo xtask test`, which provides the emulators (this test never skips)"))
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// `target/<profile>`, where cargo put the function binaries next to this test's.
fn binaries_dir() -> PathBuf {
    std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().to_path_buf()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the runtime emulator did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct Runtime {
    cargo_lambda: String,
    port: u16,
    endpoint: String,
    table: String,
    /// The reminders job's shards queue (`TODO_REMINDER_QUEUE_URL`).
    shards_queue: String,
    _watch: Killed,
}

impl Runtime {
    /// Invokes an HTTP function: returns the API Gateway response's status and JSON body.
    fn invoke(&self, binary: &str, event: &str) -> (u16, Value) {
        let response = self.invoke_raw(binary, event);
        let status = u16::try_from(response["statusCode"].as_u64().expect("statusCode")).unwrap();
        let body = response["body"].as_str().map_or(Value::Null, |body| serde_json::from_str(body).unwrap_or(Value::Null));
        (status, body)
    }

    /// Starts `binary` as Lambda would (a fresh process: a cold start), invokes it once with
    /// `event`, and returns what it answered.
    fn invoke_raw(&self, binary: &str, event: &str) -> Value {
        let function = Killed(
            Command::new(binaries_dir().join(binary))
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{}/.rt/{binary}", self.port))
                .env("AWS_LAMBDA_FUNCTION_NAME", binary)
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
                .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "test")
                .env("AWS_ENDPOINT_URL", &self.endpoint)
                .env("TODO_STORE", "dynamodb")
                .env("TABLE_NAME", &self.table)
                .env("BUCKET_NAME", &self.table)
                .env("TODO_S3_PATH_STYLE", "true")
                .env("TODO_TOKEN_SECRET_ID", &self.table)
                .env("TODO_REMINDER_QUEUE_URL", &self.shards_queue)
                // Not the default: the count every function writes and reads the index with.
                .env("TODO_ALARM_SHARDS", ALARM_SHARDS.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {binary}: {e}")),
        );
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), event).unwrap();
        let output = Command::new(&self.cargo_lambda)
            .args(["lambda", "invoke", binary, "--invoke-address", "127.0.0.1", "--invoke-port", &self.port.to_string(), "--data-file"])
            .arg(file.path())
            .output()
            .expect("cargo lambda invoke runs");
        drop(function);
        assert!(output.status.success(), "{binary}: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{binary}: {e}: {}", String::from_utf8_lossy(&output.stdout)))
    }
}

/// The functions' `TODO_ALARM_SHARDS` here.
const ALARM_SHARDS: u32 = 5;

fn event(binary: &str) -> String {
    std::fs::read_to_string(workspace_root().join(format!("infra/events/{binary}.json"))).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_function_binary_boots_under_a_lambda_runtime_and_answers_its_event() {
    let endpoint = required_env("TODO_TEST_AWS_ENDPOINT");
    let cargo_lambda = required_env("TODO_TEST_CARGO_LAMBDA");
    let table = format!("todo-lambda-{}", ulid::Ulid::new().to_string().to_lowercase());
    todo_adapters::dynamodb::create_table(&todo_adapters::dynamodb::emulator_client(&endpoint, None), &table).await.unwrap();
    aws_json(&endpoint, "secretsmanager", "secretsmanager.CreateSecret", &serde_json::json!({"Name": table, "SecretString": SIGNING_KEYS}));
    let port = free_port();
    let watch = Command::new(&cargo_lambda)
        .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
        .current_dir(workspace_root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cargo lambda watch starts");
    let shards_queue = sqs(&endpoint, "CreateQueue", &serde_json::json!({"QueueName": format!("{table}-shards")}))["QueueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let runtime = Runtime { cargo_lambda, port, endpoint, table, shards_queue, _watch: Killed(watch) };
    wait_for_port(port);

    let (status, signed_up) = runtime.invoke("user-signup", &event("user-signup"));
    assert_eq!(status, 201, "{signed_up}");
    let access = signed_up["access_token"].as_str().unwrap().to_owned();
    let refresh = signed_up["refresh_token"].as_str().unwrap().to_owned();
    // The samples' list is the sample user's Inbox, whose id is the user's.
    let user_id = signed_up["user"]["id"].as_str().unwrap().to_owned();
    let with_tokens = |binary: &str| {
        event(binary)
            .replace("REPLACE_WITH_ACCESS_TOKEN", &access)
            .replace("REPLACE_WITH_REFRESH_TOKEN", &refresh)
            .replace(SAMPLE_USER_ID, &user_id)
    };

    let (status, created) = runtime.invoke("task-create", &with_tokens("task-create"));
    assert_eq!(status, 201, "{created}");
    let task_id = created["id"].as_str().unwrap().to_owned();
    let with_task = |binary: &str| with_tokens(binary).replace(SAMPLE_TASK_ID, &task_id);

    // Files: the bucket notifies an SQS queue (moto cannot invoke a Lambda), so the upload
    // produces a real `ObjectCreated` event, which `file-uploaded` then gets as S3 would send it.
    let queue_arn = watch_uploads(&runtime.endpoint, &runtime.table).await;
    let (status, requested) = runtime.invoke("file-upload-url", &with_task("file-upload-url"));
    assert_eq!(status, 201, "{requested}");
    let file_id = requested["file"]["id"].as_str().unwrap().to_owned();
    let declared = usize::try_from(requested["file"]["size"].as_u64().unwrap()).unwrap();
    let headers: Vec<(String, String)> =
        requested["upload"]["headers"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect();
    let (status, _) = http("PUT", requested["upload"]["url"].as_str().unwrap(), &headers, &vec![7u8; declared]);
    assert_eq!(status, 200, "the presigned PUT to S3");
    let upload_event = receive_object_created(&runtime.endpoint, &queue_arn);
    let outcome = runtime.invoke_raw("file-uploaded", &upload_event);
    assert_eq!(outcome["completed"], 1, "{outcome}");
    let with_file = |binary: &str| with_task(binary).replace("01JBBBBBBBBBBBBBBBBBBBBBBB", &file_id);
    let (status, file) = runtime.invoke("file-get", &with_file("file-get"));
    assert_eq!((status, file["status"].as_str()), (200, Some("available")), "{file}");
    let (status, bytes) = http("GET", file["download"]["url"].as_str().unwrap(), &[], &[]);
    assert_eq!((status, bytes.len()), (200, declared), "the presigned GET returns what was uploaded");
    let (status, listed) = runtime.invoke("file-list", &with_file("file-list"));
    assert_eq!((status, listed["items"].as_array().map(Vec::len)), (200, Some(1)));
    let (status, _) = runtime.invoke("file-delete", &with_file("file-delete"));
    assert_eq!(status, 204);
    let (status, _) = http("GET", file["download"]["url"].as_str().unwrap(), &[], &[]);
    // S3 answers 403 rather than 404 for a missing key to a caller without ListBucket.
    assert!(status == 403 || status == 404, "the download URL stops working: {status}");
    let key = todo_domain::ports::ObjectKey::parse(&format!(
        "users/{}/tasks/{task_id}/files/{file_id}",
        signed_up["user"]["id"].as_str().unwrap()
    ))
    .unwrap();
    let s3 = todo_adapters::s3::S3Blobs::new(&todo_adapters::bootstrap::AwsEnv::emulator(&runtime.endpoint), &runtime.table, true);
    assert!(todo_domain::ports::BlobStore::head(&s3, &key).await.unwrap().is_none(), "the object is gone with its file");

    // A passed reminder: the reminders job sends one notification, however often it runs,
    // and the feed's functions show it and mark it read.
    let remind = with_task("task-update").replace(r#"{\"status\": \"completed\"}"#, r#"{\"reminder_at\": \"2026-01-01T09:00:00Z\"}"#);
    let (status, reminded) = runtime.invoke("task-update", &remind);
    assert_eq!((status, reminded["reminder_at"].as_str()), (200, Some("2026-01-01T09:00:00.000Z")), "{reminded}");
    // Tasks with a due date (the sample's, next year) wait in the due-alarm index too: with
    // five more beside the reminded one, a writer ignoring TODO_ALARM_SHARDS (16 by default)
    // would almost surely put one outside the setting's 5 partitions.
    for probe in 0..5 {
        let create = with_tokens("task-create").replace("sample-event-task-create", &format!("shard-probe-{probe}"));
        let (status, created) = runtime.invoke("task-create", &create);
        assert_eq!(status, 201, "{created}");
    }
    let index = aws_json(
        &runtime.endpoint,
        "dynamodb",
        "DynamoDB_20120810.Scan",
        &serde_json::json!({"TableName": runtime.table, "IndexName": "schedule"}),
    );
    let partitions: Vec<&str> = index["Items"].as_array().unwrap().iter().filter_map(|item| item["sched_pk"]["S"].as_str()).collect();
    assert_eq!(partitions.iter().filter(|pk| pk.starts_with("ALARM#")).count(), 6, "the six tasks are in the index: {partitions:?}");
    for pk in &partitions {
        let shard: u32 = pk.split_once('#').unwrap().1.parse().unwrap();
        assert!(shard < ALARM_SHARDS, "{pk}: outside TODO_ALARM_SHARDS={ALARM_SHARDS}");
    }
    // The schedule's function sends a message per shard; the queue's worker, given them all,
    // sends the notification; a second minute sends nothing more.
    let mut sent = Vec::new();
    for _minute in 0..2 {
        let dispatched = runtime.invoke_raw("reminders", &event("reminders"));
        let shards = dispatched["shards"].as_u64().expect("the shards dispatched");
        assert_eq!(shards, u64::from(ALARM_SHARDS), "one message per shard of TODO_ALARM_SHARDS: {dispatched}");
        let messages = receive_shard_messages(&runtime.endpoint, &runtime.shards_queue, shards);
        let worked = runtime.invoke_raw("reminders-shard", &serde_json::json!({ "Records": messages }).to_string());
        assert_eq!(worked["batchItemFailures"], serde_json::json!([]), "{worked}");
        assert_eq!(worked["outcome"]["shards"].as_u64(), Some(shards), "{worked}");
        sent.push(worked["outcome"]["sent"].as_u64());
    }
    assert_eq!(sent, [Some(1), Some(0)], "one notification, however often the job runs");
    let (status, feed) = runtime.invoke("notification-list", &with_tokens("notification-list"));
    assert_eq!((status, feed["items"].as_array().map(Vec::len)), (200, Some(1)), "{feed}");
    let notification_id = feed["items"][0]["id"].as_str().unwrap();
    let (status, read) =
        runtime.invoke("notification-update", &with_tokens("notification-update").replace("01JDDDDDDDDDDDDDDDDDDDDDDD", notification_id));
    assert_eq!((status, read["read"].as_bool()), (200, Some(true)), "{read}");

    // A task that outlives the request path's part of the account deletion, for the purge.
    let (status, kept) =
        runtime.invoke("task-create", &with_tokens("task-create").replace("sample-event-task-create", "kept-for-the-purge"));
    assert_eq!(status, 201, "{kept}");
    let with_kept = |binary: &str| with_tokens(binary).replace(SAMPLE_TASK_ID, kept["id"].as_str().unwrap());

    let expectations = [
        ("session-create", 200),
        ("user-me-get", 200),
        ("user-me-update", 200),
        ("task-create", 201), // the same Idempotency-Key: a replay, still 201
        ("task-list", 200),
        ("task-get", 200),
        ("task-update", 200),
        ("task-delete", 204),
        ("list-create", 201),
        ("list-list", 200),
        ("list-get", 200),
        ("list-update", 200),
        ("session-refresh", 200),
        ("session-delete", 204),
        ("user-me-delete", 202),
    ];
    for (binary, expected) in expectations {
        let (status, body) = runtime.invoke(binary, &with_task(binary));
        assert_eq!(status, expected, "{binary}: {body}");
        if binary == "task-create" {
            assert_eq!(body["id"].as_str(), Some(task_id.as_str()), "the idempotent replay names the first task");
        }
        if binary == "task-list" {
            assert_eq!(body["items"][0]["id"].as_str(), Some(task_id.as_str()));
        }
        if binary == "list-list" {
            // By creation: the Inbox (made with the account), then the list just created.
            let names: Vec<&str> = body["items"].as_array().unwrap().iter().filter_map(|list| list["name"].as_str()).collect();
            assert_eq!(names, ["Inbox", "Groceries"], "{body}");
        }
        if binary == "list-update" {
            assert_eq!((body["name"].as_str(), body["color"].as_str()), (Some("Inbox"), Some("teal")), "{body}");
        }
    }
    let (status, _) = runtime.invoke("user-me-get", &with_task("user-me-get"));
    assert_eq!(status, 401, "the deleted account is gone from DynamoDB");
    // The table stream's record of the new deletion marker (the sample, naming this user)
    // runs the rest of the cascade; a redelivery finds nothing left to do.
    // Until then the (still unexpired) token reads what is left: the other task.
    let (status, _) = runtime.invoke("task-get", &with_kept("task-get"));
    assert_eq!(status, 200, "left for the purge");
    let marker = event("account-purge").replace("01JCCCCCCCCCCCCCCCCCCCCCCC", signed_up["user"]["id"].as_str().unwrap());
    let purged = runtime.invoke_raw("account-purge", &marker);
    assert_eq!((purged["accounts_finished"].as_u64(), purged["ignored"].as_u64()), (Some(1), Some(0)), "{purged}");
    let (status, _) = runtime.invoke("task-get", &with_kept("task-get"));
    assert_eq!(status, 404, "the purge removed the task");
    let again = runtime.invoke_raw("account-purge", &marker);
    assert_eq!(again["accounts_finished"].as_u64(), Some(1), "idempotent: {again}");
    let outcome = runtime.invoke_raw("housekeeping", &event("housekeeping"));
    assert_eq!(outcome["accounts_finished"], 0, "the purge finished the deletion: nothing left for the job ({outcome})");
}

/// A minimal HTTP/1.1 exchange with the plain-HTTP emulator.
fn http(method: &str, url: &str, headers: &[(String, String)], body: &[u8]) -> (u16, Vec<u8>) {
    use std::fmt::Write as _;
    use std::io::{Read as _, Write as _};
    let rest = url.strip_prefix("http://").expect("emulator URLs are plain HTTP");
    let (authority, path) = rest.split_once('/').unwrap();
    let mut stream = TcpStream::connect(authority).unwrap();
    let mut head = format!("{method} /{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (name, value) in headers.iter().filter(|(name, _)| name != "content-length") {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    let _ = write!(head, "Content-Length: {}\r\n\r\n", body.len());
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = std::str::from_utf8(&response[..split]).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, response[split + 4..].to_vec())
}

/// One call of an AWS JSON protocol (moto reads the service from the credential scope).
fn aws_json(endpoint: &str, service: &str, target: &str, body: &Value) -> Value {
    // SQS and DynamoDB speak AWS JSON 1.0, Secrets Manager 1.1.
    let version = if service == "sqs" || service == "dynamodb" { "1.0" } else { "1.1" };
    let headers = [
        ("x-amz-target".to_owned(), target.to_owned()),
        ("content-type".to_owned(), format!("application/x-amz-json-{version}")),
        (
            "authorization".to_owned(),
            format!("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"),
        ),
    ];
    let (status, bytes) = http("POST", &format!("{endpoint}/"), &headers, body.to_string().as_bytes());
    assert_eq!(status, 200, "{target}: {}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).unwrap()
}

fn sqs(endpoint: &str, action: &str, body: &Value) -> Value {
    aws_json(endpoint, "sqs", &format!("AmazonSQS.{action}"), body)
}

/// Creates the bucket and routes its `ObjectCreated` notifications to a new queue.
async fn watch_uploads(endpoint: &str, bucket: &str) -> String {
    use aws_sdk_s3::types::{Event, NotificationConfiguration, QueueConfiguration};
    let s3 = todo_adapters::s3::sdk_client(&todo_adapters::bootstrap::AwsEnv::emulator(endpoint), true);
    s3.create_bucket().bucket(bucket).send().await.expect("create bucket");
    let queue_url = sqs(endpoint, "CreateQueue", &serde_json::json!({"QueueName": bucket}))["QueueUrl"].as_str().unwrap().to_owned();
    let queue_arn = format!("arn:aws:sqs:us-east-1:123456789012:{bucket}");
    let queue = QueueConfiguration::builder().queue_arn(&queue_arn).events(Event::S3ObjectCreated).build().unwrap();
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(NotificationConfiguration::builder().queue_configurations(queue).build())
        .send()
        .await
        .expect("bucket notifications");
    queue_url
}

/// The shards queue's messages until every one of `count` shards has one, as SQS records of a
/// Lambda event (each deleted, as the event source mapping does once the worker succeeds).
fn receive_shard_messages(endpoint: &str, queue_url: &str, count: u64) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut records = Vec::new();
    let mut shards = std::collections::BTreeSet::new();
    while (shards.len() as u64) < count && Instant::now() < deadline {
        let received =
            sqs(endpoint, "ReceiveMessage", &serde_json::json!({"QueueUrl": queue_url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1}));
        for message in received["Messages"].as_array().into_iter().flatten() {
            let body = message["Body"].as_str().unwrap();
            sqs(endpoint, "DeleteMessage", &serde_json::json!({"QueueUrl": queue_url, "ReceiptHandle": message["ReceiptHandle"]}));
            // A retried send may put a shard's message twice (harmless: exactly once holds);
            // the event carries each shard once.
            if shards.insert(serde_json::from_str::<todo_jobs::fan_out::ShardMessage>(body).unwrap().shard) {
                records.push(serde_json::json!({"messageId": message["MessageId"], "body": body, "eventSource": "aws:sqs"}));
            }
        }
    }
    assert_eq!(shards, (0..u32::try_from(count).unwrap()).collect(), "one message per shard");
    records
}

/// The first S3 event with records on the queue (skipping S3's test event).
fn receive_object_created(endpoint: &str, queue_url: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let received =
            sqs(endpoint, "ReceiveMessage", &serde_json::json!({"QueueUrl": queue_url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1}));
        for message in received["Messages"].as_array().into_iter().flatten() {
            let body = message["Body"].as_str().unwrap();
            if serde_json::from_str::<Value>(body)
                .is_ok_and(|event| event["Records"][0]["eventName"].as_str().is_some_and(|name| name.starts_with("ObjectCreated:")))
            {
                return body.to_owned();
            }
        }
    }
    panic!("no ObjectCreated event arrived on the queue");
}
