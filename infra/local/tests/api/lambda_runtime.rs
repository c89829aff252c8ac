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
const TOKEN_SECRET: &str = "lambda-runtime-test-secret-0123456789abcdef";

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
    _watch: Killed,
}

impl Runtime {
    /// Starts `binary` as Lambda would (a fresh process: a cold start), invokes it once with
    /// `event`, and returns the API Gateway response it produced.
    fn invoke(&self, binary: &str, event: &str) -> (u16, Value) {
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
                .env("TODO_TOKEN_SECRET", TOKEN_SECRET)
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
        let response: Value =
            serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{binary}: {e}: {}", String::from_utf8_lossy(&output.stdout)));
        let status = u16::try_from(response["statusCode"].as_u64().expect("statusCode")).unwrap();
        let body = response["body"].as_str().map_or(Value::Null, |body| serde_json::from_str(body).unwrap_or(Value::Null));
        (status, body)
    }
}

fn event(binary: &str) -> String {
    std::fs::read_to_string(workspace_root().join(format!("infra/events/{binary}.json"))).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_function_binary_boots_under_a_lambda_runtime_and_answers_its_event() {
    let endpoint = required_env("TODO_TEST_AWS_ENDPOINT");
    let cargo_lambda = required_env("TODO_TEST_CARGO_LAMBDA");
    let table = format!("todo-lambda-{}", ulid::Ulid::new().to_string().to_lowercase());
    todo_adapters::dynamodb::create_table(&todo_adapters::dynamodb::emulator_client(&endpoint, None), &table).await.unwrap();
    let port = free_port();
    let watch = Command::new(&cargo_lambda)
        .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
        .current_dir(workspace_root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cargo lambda watch starts");
    let runtime = Runtime { cargo_lambda, port, endpoint, table, _watch: Killed(watch) };
    wait_for_port(port);

    let (status, signed_up) = runtime.invoke("user-signup", &event("user-signup"));
    assert_eq!(status, 201, "{signed_up}");
    let access = signed_up["access_token"].as_str().unwrap().to_owned();
    let refresh = signed_up["refresh_token"].as_str().unwrap().to_owned();
    let with_tokens =
        |binary: &str| event(binary).replace("REPLACE_WITH_ACCESS_TOKEN", &access).replace("REPLACE_WITH_REFRESH_TOKEN", &refresh);

    let (status, created) = runtime.invoke("task-create", &with_tokens("task-create"));
    assert_eq!(status, 201, "{created}");
    let task_id = created["id"].as_str().unwrap().to_owned();
    let with_task = |binary: &str| with_tokens(binary).replace(SAMPLE_TASK_ID, &task_id);

    let expectations = [
        ("session-create", 200),
        ("user-me-get", 200),
        ("user-me-update", 200),
        ("task-create", 201), // the same Idempotency-Key: a replay, still 201
        ("task-list", 200),
        ("task-get", 200),
        ("task-update", 200),
        ("task-delete", 204),
        ("session-refresh", 200),
        ("session-delete", 204),
        ("user-me-delete", 204),
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
    }
    let (status, _) = runtime.invoke("user-me-get", &with_task("user-me-get"));
    assert_eq!(status, 401, "the deleted account is gone from DynamoDB");
}
