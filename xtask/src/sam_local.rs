//! The functions as Lambda runs them, through SAM CLI's own commands: `sam build` (for the
//! local architecture), then `sam local invoke` with the events in `infra/events/` and
//! `sam local start-api` with curl-like calls, in containers against moto. Every answer is
//! checked; nothing is skipped (a missing engine or image is installed or made, or the run
//! fails).

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use serde_json::{Value, json};
use xshell::Shell;

use crate::container::{Docker, STANDIN_IMAGE};
use crate::emulator::Moto;
use crate::sam::Sam;

/// Built and invoked by the test command: at least one function of every service crate,
/// and the ones a person's first minutes touch (sign up, create and read a task, attach a
/// file, get reminded).
pub const FUNCTIONS: &[&str] = &[
    "UserSignupFunction",
    "ListGetFunction",
    "TaskCreateFunction",
    "TaskGetFunction",
    "FileUploadUrlFunction",
    "FileUploadedFunction",
    "FileGetFunction",
    "NotificationListFunction",
    "InvitationCreateFunction",
    "InvitationAnnounceFunction",
    "RemindersFunction",
    "ReminderShardFunction",
    "WebFunction",
];

const TABLE: &str = "todo-local";
const BUCKET: &str = "todo-local-files";
const SIGNING_KEYS_SECRET: &str = "todo-local-token-keys";
const SHARDS_QUEUE: &str = "todo-local-reminder-shards";

/// Builds `FUNCTIONS` with `sam build` (x86_64, this machine's architecture) and runs them
/// with `samconfig.toml`'s `local` settings, as the README tells a developer to.
pub fn run(sh: &Shell, tools_dir: &Path, sam: &Sam) -> anyhow::Result<()> {
    sam.build_local(sh, FUNCTIONS)?;
    let docker = Docker::start(sh, tools_dir)?;
    // On the bridge's host address: the containers reach it there (SAM does not put them on
    // the host's network). It is this machine's own bridge.
    let moto = Moto::start_on(sh, tools_dir, &docker.bridge_gateway)?;
    crate::bench::create_table_and_bucket(&moto.endpoint, TABLE, BUCKET)?;
    // The functions read their signing keys from this secret, as on AWS.
    crate::bench::create_secret(&moto.endpoint, SIGNING_KEYS_SECRET, crate::bench::LOCAL_SIGNING_KEY)?;
    // The reminders job's shards go to this queue, as to the template's on AWS.
    let shards_queue = crate::bench::create_queue(&moto.endpoint, SHARDS_QUEUE)?;
    let env_file = tools_dir.join("sam-local-env.json");
    std::fs::write(&env_file, local_env(&moto.endpoint, &shards_queue)?.to_string())?;
    let local = Local { sh, sam, env_file: env_file.to_str().context("a UTF-8 tools path")?.to_owned(), shards_queue };
    let started = Instant::now();
    local.scenario(&moto.endpoint).context("sam local invoke")?;
    eprintln!("sam local invoke: {} functions checked in {:.0} s", FUNCTIONS.len(), started.elapsed().as_secs_f64());
    let started = Instant::now();
    local.start_api_smoke().context("sam local start-api")?;
    eprintln!("sam local start-api: smoke test passed in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// `infra/events/env.json` with the emulator's real address (and queue) in place of the sample's.
fn local_env(endpoint: &str, shards_queue: &str) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(crate::workspace_root().join("infra/events/env.json"))?;
    let mut env: Value = serde_json::from_str(&text)?;
    let parameters = env["Parameters"].as_object_mut().context("env.json has Parameters")?;
    ensure!(
        parameters["TABLE_NAME"] == TABLE
            && parameters["BUCKET_NAME"] == BUCKET
            && parameters["TODO_TOKEN_SECRET_ID"] == SIGNING_KEYS_SECRET,
        "env.json names another table, bucket or secret"
    );
    parameters.insert("AWS_ENDPOINT_URL".to_owned(), json!(endpoint));
    let reminders = env["RemindersFunction"].as_object_mut().context("env.json has the RemindersFunction's queue")?;
    ensure!(
        reminders["TODO_REMINDER_QUEUE_URL"].as_str().is_some_and(|url| url.ends_with(&format!("/{SHARDS_QUEUE}"))),
        "env.json names another shards queue"
    );
    reminders.insert("TODO_REMINDER_QUEUE_URL".to_owned(), json!(shards_queue));
    Ok(env)
}

struct Local<'a> {
    sh: &'a Shell,
    sam: &'a Sam,
    env_file: String,
    shards_queue: String,
}

/// A sample event with the placeholders the README names replaced.
fn event(name: &str, replacements: &[(&str, &str)]) -> anyhow::Result<Value> {
    let mut text = std::fs::read_to_string(crate::workspace_root().join(format!("infra/events/{name}.json")))?;
    for (from, to) in replacements {
        text = text.replace(from, to);
    }
    Ok(serde_json::from_str(&text)?)
}

/// An HTTP answer from a function: its status and parsed JSON body.
fn http_answer(response: &Value) -> anyhow::Result<(u64, Value)> {
    let status = response["statusCode"].as_u64().with_context(|| format!("not an HTTP answer: {response}"))?;
    let body = match response["body"].as_str() {
        Some("") | None => Value::Null,
        Some(text) => serde_json::from_str(text).with_context(|| format!("body is not JSON: {text}"))?,
    };
    Ok((status, body))
}

impl Local<'_> {
    /// `sam local invoke FUNCTION -e EVENT`; the function's answer (SAM prints it last on
    /// stdout, the function's logs go to stderr).
    fn invoke(&self, function: &str, event: &Value) -> anyhow::Result<Value> {
        let event_file = crate::target_dir().join("xtask-tools").join(format!("event-{function}.json"));
        std::fs::write(&event_file, event.to_string())?;
        let event_file = event_file.to_str().context("a UTF-8 tools path")?.to_owned();
        let output = self
            .sam
            .command(
                self.sh,
                &[
                    "local",
                    "invoke",
                    "--config-env",
                    "local",
                    function,
                    "--invoke-image",
                    STANDIN_IMAGE,
                    "--skip-pull-image",
                    "-e",
                    &event_file,
                    "--env-vars",
                    &self.env_file,
                ],
            )
            .ignore_status()
            .output()?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        ensure!(output.status.success(), "sam local invoke {function} failed ({}):\n{stderr}", output.status);
        let last = stdout.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or_default();
        let answer: Value = serde_json::from_str(last)
            .with_context(|| format!("sam local invoke {function} printed no JSON answer:\n{stdout}\n{stderr}"))?;
        eprintln!("sam local invoke {function}: {}", truncate(last, 300));
        Ok(answer)
    }

    fn call(&self, function: &str, event: &Value, expected: u64) -> anyhow::Result<Value> {
        let (status, body) = http_answer(&self.invoke(function, event)?)?;
        ensure!(status == expected, "{function} answered {status}, not {expected}: {body}");
        Ok(body)
    }

    fn scenario(&self, moto: &str) -> anyhow::Result<()> {
        let signup = self.call("UserSignupFunction", &event("user-signup", &[])?, 201)?;
        let token = signup["access_token"].as_str().context("sign-up gave no access token")?.to_owned();
        let user = signup["user"]["id"].as_str().context("sign-up gave no user id")?.to_owned();
        // The samples' list is the sample user's Inbox, whose id is the user's.
        let auth = [("REPLACE_WITH_ACCESS_TOKEN", token.as_str()), (crate::bench::SAMPLE_USER_ID, user.as_str())];

        let inbox = self.call("ListGetFunction", &event("list-get", &auth)?, 200)?;
        ensure!(inbox["name"] == "Inbox" && inbox["role"] == "owner", "the account's Inbox: {inbox}");

        let mut create = event("task-create", &auth)?;
        let reminder_at = (chrono::Utc::now() - chrono::Duration::minutes(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        create["body"] = json!(json!({"title": "Call the bank", "reminder_at": reminder_at}).to_string());
        let task = self.call("TaskCreateFunction", &create, 201)?;
        let task_id = task["id"].as_str().context("no task id")?.to_owned();
        let with_task = [auth[0], auth[1], ("01JAAAAAAAAAAAAAAAAAAAAAAA", task_id.as_str())];

        let got = self.call("TaskGetFunction", &event("task-get", &with_task)?, 200)?;
        ensure!(got["title"] == "Call the bank" && got["id"] == task_id.as_str(), "task-get answered another task: {got}");
        let mut forged = event("task-get", &with_task)?;
        forged["headers"]["authorization"] = json!(format!("Bearer {token}x"));
        self.call("TaskGetFunction", &forged, 401)?;

        let bytes = b"hello from sam local invoke";
        let mut upload_request = event("file-upload-url", &with_task)?;
        upload_request["body"] = json!(json!({"name": "hello.txt", "content_type": "text/plain", "size": bytes.len()}).to_string());
        let created = self.call("FileUploadUrlFunction", &upload_request, 201)?;
        ensure!(created["file"]["status"] == "pending", "a new file is pending: {created}");
        let file_id = created["file"]["id"].as_str().context("no file id")?.to_owned();
        let url = created["upload"]["url"].as_str().context("no upload url")?;
        ensure!(url.starts_with(moto), "the upload URL {url} is not on the emulator {moto}");
        let status = crate::bench::put_upload(&created["upload"], bytes)?;
        ensure!(status == 200, "the presigned PUT answered {status}");

        let key = format!("users/{user}/tasks/{task_id}/files/{file_id}");
        let mut arrived = event("file-uploaded", &[])?;
        arrived["Records"][0]["s3"]["bucket"]["name"] = json!(BUCKET);
        arrived["Records"][0]["s3"]["object"]["key"] = json!(key);
        arrived["Records"][0]["s3"]["object"]["size"] = json!(bytes.len());
        self.invoke("FileUploadedFunction", &arrived)?;
        let with_file = [with_task[0], with_task[1], with_task[2], ("01JBBBBBBBBBBBBBBBBBBBBBBB", file_id.as_str())];
        let file = self.call("FileGetFunction", &event("file-get", &with_file)?, 200)?;
        ensure!(file["status"] == "available" && file["size"] == bytes.len(), "the upload event did not complete the file: {file}");
        ensure!(file["download"]["url"].as_str().is_some_and(|url| url.starts_with(moto)), "no download URL: {file}");

        // The schedule's function puts a message per shard on the queue; the workers, given
        // them (all in one event here), send the notification once; a second minute nothing.
        for expected in [1, 0] {
            let dispatched = self.invoke("RemindersFunction", &event("reminders", &[])?)?;
            let shards = dispatched["shards"].as_u64().with_context(|| format!("no shards dispatched: {dispatched}"))?;
            let messages = crate::bench::shards_event(moto, &self.shards_queue, shards)?;
            let worked = self.invoke("ReminderShardFunction", &serde_json::from_str(&messages)?)?;
            ensure!(
                worked["batchItemFailures"] == json!([]) && worked["outcome"]["shards"] == shards && worked["outcome"]["sent"] == expected,
                "{expected} notification(s) from this minute's shards: {worked}"
            );
        }
        let feed = self.call("NotificationListFunction", &event("notification-list", &auth)?, 200)?;
        let items = feed["items"].as_array().context("a list")?;
        ensure!(
            items.len() == 1 && items[0]["kind"] == "reminder" && items[0]["task_id"] == task_id.as_str(),
            "one reminder for the task: {feed}"
        );

        let invited = self.call("InvitationCreateFunction", &event("invitation-create", &auth)?, 202)?;
        ensure!(
            invited["email"] == "grace@example.com" && invited["list_id"] == user.as_str() && invited["role"] == "viewer",
            "an invitation to the caller's Inbox: {invited}"
        );
        // Grace signs up; the table stream's record of the invitation (the sample, naming
        // hers) puts it in her feed.
        let mut grace_signup = event("user-signup", &[])?;
        grace_signup["body"] = json!(json!({"email": "grace@example.com", "password": "correct horse battery"}).to_string());
        let grace = self.call("UserSignupFunction", &grace_signup, 201)?;
        let grace_token = grace["access_token"].as_str().context("sign-up gave no access token")?;
        let invitation_id = invited["id"].as_str().context("no invitation id")?;
        let record =
            event("invitation-announce", &[("bob@example.com", "grace@example.com"), ("01JGGGGGGGGGGGGGGGGGGGGGGG", invitation_id)])?;
        let outcome = self.invoke("InvitationAnnounceFunction", &record)?;
        ensure!(outcome["sent"] == 1, "the invitation announced once: {outcome}");
        let feed =
            self.call("NotificationListFunction", &event("notification-list", &[("REPLACE_WITH_ACCESS_TOKEN", grace_token)])?, 200)?;
        ensure!(
            feed["items"][0]["kind"] == "invited" && feed["items"][0]["invitation_id"] == invitation_id,
            "the invitation in Grace's feed: {feed}"
        );
        Ok(())
    }

    /// `sam local start-api` serving the built functions' routes; a sign-up, a task created
    /// and read back, and another user's view of it, over HTTP; the web app's page and script.
    fn start_api_smoke(&self) -> anyhow::Result<()> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port().to_string();
        let log = crate::target_dir().join("xtask-tools/sam-start-api.log");
        let child = self
            .sam
            .process(&[
                "local",
                "start-api",
                "--config-env",
                "local",
                "--invoke-image",
                STANDIN_IMAGE,
                "--skip-pull-image",
                "--port",
                &port,
                "--env-vars",
                &self.env_file,
            ])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::options().append(true).open(&log)?)
            .spawn()
            .context("cannot start sam local start-api")?;
        let mut server = StartApi { child };
        let base = format!("http://127.0.0.1:{port}");
        server
            .wait_for_port(&port, Duration::from_secs(60))
            .with_context(|| format!("start-api did not listen; log: {}", log.display()))?;
        let json_headers = [("content-type", "application/json")];
        let send = |method: &str, path: &str, headers: &[(&str, &str)], body: &Value| -> anyhow::Result<(u16, Value)> {
            let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
            let (status, answer) = crate::bench::http(&base, method, path, headers, &body)?;
            let answer = if answer.is_empty() { Value::Null } else { serde_json::from_slice(&answer).unwrap_or(Value::Null) };
            Ok((status, answer))
        };
        let mut tokens = Vec::new();
        let mut inboxes = Vec::new();
        for email in ["margaret@example.com", "alan@example.com"] {
            let (status, body) =
                send("POST", "/users", &json_headers, &json!({"email": email, "password": "correct horse battery", "name": "Smoke"}))?;
            ensure!(status == 201, "POST /users answered {status}: {body}; log: {}", log.display());
            tokens.push(format!("Bearer {}", body["access_token"].as_str().context("no token")?));
            inboxes.push(body["user"]["id"].as_str().context("no user id")?.to_owned());
        }
        let owner = [("content-type", "application/json"), ("authorization", tokens[0].as_str())];
        let tasks = format!("/lists/{}/tasks", inboxes[0]);
        let (status, task) = send("POST", &tasks, &owner, &json!({"title": "Served by start-api"}))?;
        ensure!(status == 201, "POST {tasks} answered {status}: {task}");
        let path = format!("{tasks}/{}", task["id"].as_str().context("no task id")?);
        let (status, got) = send("GET", &path, &owner[1..], &Value::Null)?;
        ensure!(status == 200 && got["title"] == "Served by start-api", "GET {path} answered {status}: {got}");
        let (status, _) = send("GET", &path, &[("authorization", tokens[1].as_str())], &Value::Null)?;
        ensure!(status == 404, "another user's task answered {status}, not 404");
        // The web app through the gateway emulation: the page, and a brotli asset it names
        // (binary bodies cross Lambda base64-encoded).
        let (status, page) = crate::bench::http(&base, "GET", "/", &[("accept-encoding", "identity")], &[])?;
        let page = String::from_utf8_lossy(&page);
        ensure!(status == 200 && page.contains("/assets/"), "GET / answered {status}: {page}");
        let script = page.split("src=\"").nth(1).and_then(|rest| rest.split('"').next()).context("the page names its script")?;
        let (status, bytes) = crate::bench::http(&base, "GET", script, &[("accept-encoding", "br")], &[])?;
        ensure!(status == 200 && !bytes.is_empty() && !bytes.starts_with(b"//"), "GET {script} (brotli) answered {status}");
        let (status, bytes) = crate::bench::http(&base, "GET", script, &[], &[])?;
        ensure!(
            status == 200 && bytes.starts_with(b"// @ts-check"),
            "GET {script} answered {status}: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
        );
        drop(server);
        Ok(())
    }
}

/// start-api, stopped by PID on drop: SIGTERM, which also stops its warm containers.
struct StartApi {
    child: Child,
}

impl StartApi {
    fn wait_for_port(&mut self, port: &str, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("sam local start-api exited with {status}");
            }
            if std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        bail!("nothing listens on 127.0.0.1:{port} after {within:?}")
    }
}

impl Drop for StartApi {
    fn drop(&mut self) {
        crate::process::terminate(&mut self.child, Duration::from_secs(30));
    }
}

fn truncate(text: &str, at: usize) -> &str {
    text.char_indices().nth(at).map_or(text, |(index, _)| &text[..index])
}
