//! The real `todo-local` process, as `cargo run` starts it: it binds, logs its URL,
//! serves over TCP, stops cleanly on SIGTERM, and keeps data and tokens across restarts.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(data_dir: &std::path::Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_todo-local"))
            .env("TODO_ADDR", "127.0.0.1:0")
            .env("TODO_DATA_DIR", data_dir)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("todo-local starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let addr = loop {
            let line = lines.next().expect("the server logs its URL before anything else").expect("utf-8 log");
            if let Some(at) = line.find("listening on http://") {
                break line[at + "listening on http://".len()..].split_whitespace().next().expect("address").to_owned();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        let mut first_curl = None;
        for line in lines.by_ref().take(1) {
            first_curl = line.ok();
        }
        assert!(first_curl.is_some_and(|line| line.contains("try: curl")), "the server suggests a first curl");
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, addr }
    }

    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
        let mut stream = TcpStream::connect(&self.addr).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let body = body.map(Value::to_string).unwrap_or_default();
        let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        write!(stream, "{method} {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", self.addr, body.len()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response");
        let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status line");
        let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    /// Signs up ada@example.com and creates a task titled `title`: the access token and the task.
    fn sign_up_with_task(&self, title: &str) -> (String, Value) {
        let (status, body) =
            self.call("POST", "/users", None, Some(&json!({"email": "ada@example.com", "password": "correct horse battery"})));
        assert_eq!(status, 201, "{body}");
        let token = body["access_token"].as_str().unwrap().to_owned();
        let inbox = body["user"]["id"].as_str().unwrap();
        let (status, task) = self.call("POST", &format!("/lists/{inbox}/tasks"), Some(&token), Some(&json!({"title": title})));
        assert_eq!(status, 201, "{task}");
        (token, task)
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success());
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("the server did not stop within 5 s of SIGTERM");
    }
}

#[test]
fn the_local_server_serves_stops_cleanly_and_keeps_data_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (token, task) = server.sign_up_with_task("survive a restart");
    let reminder_at = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let (status, _) = server.call(
        "POST",
        &format!("/lists/{}/tasks", task["list_id"].as_str().unwrap()),
        Some(&token),
        Some(&json!({"title": "remind me", "reminder_at": reminder_at})),
    );
    assert_eq!(status, 201);
    let (status, problem) = server.call("GET", "/no/such/route", None, None);
    assert_eq!((status, problem["status"].as_u64()), (404, Some(404)));
    assert!(server.terminate().success(), "SIGTERM is a clean shutdown");

    let server = Server::start(dir.path());
    let (status, fetched) = server.call(
        "GET",
        &format!("/lists/{}/tasks/{}", task["list_id"].as_str().unwrap(), task["id"].as_str().unwrap()),
        Some(&token),
        None,
    );
    assert_eq!(status, 200, "the token and the task survive: {fetched}");
    assert_eq!(fetched["title"], "survive a restart");
    // The server runs the reminders job on its schedule, starting at start-up.
    let mut feed = Value::Null;
    for _ in 0..100 {
        feed = server.call("GET", "/notifications", Some(&token), None).1;
        if feed["items"].as_array().is_some_and(|items| !items.is_empty()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(feed["items"].as_array().map(Vec::len), Some(1), "{feed}");
    assert_eq!(feed["items"][0]["task_title"], "remind me");
    assert!(server.terminate().success());
}

/// `DELETE /users/me` answers 202 at once; the server's purge loop (the table stream's
/// stand-in) removes the account's tasks and notifications within seconds.
#[test]
fn the_local_server_finishes_an_account_deletion_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (token, task) = server.sign_up_with_task("goes with the account");
    let path = format!("/lists/{}/tasks/{}", task["list_id"].as_str().unwrap(), task["id"].as_str().unwrap());
    let (status, _) = server.call("DELETE", "/users/me", Some(&token), Some(&json!({"password": "correct horse battery"})));
    assert_eq!(status, 202);
    // The still-unexpired access token reads nothing once the purge has run.
    let mut last = 0;
    for _ in 0..100 {
        last = server.call("GET", &path, Some(&token), None).0;
        if last == 404 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(last, 404, "the task is gone within 10 s");
    let (status, _) = server.call("GET", "/users/me", Some(&token), None);
    assert_eq!(status, 401);
    assert!(server.terminate().success());
}
