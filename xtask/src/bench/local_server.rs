//! Throughput of the local server (`cargo run`): a release build on loopback, a fixed
//! number of keep-alive connections each sending a fixed number of `GET /lists/{list_id}/tasks/{task_id}`.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use serde_json::{Value, json};

use super::http1::read_message;

pub struct Throughput {
    pub connections: usize,
    pub requests: usize,
    pub requests_per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

/// Starts `binary` (the local server) on a free port with a fresh data dir, loads it, stops it.
pub fn measure(binary: &std::path::Path, connections: usize, per_connection: usize) -> anyhow::Result<Throughput> {
    let data = std::env::temp_dir().join(format!("todo-bench-{}", std::process::id()));
    let mut child = Command::new(binary)
        .env("TODO_ADDR", "127.0.0.1:0")
        .env("TODO_DATA_DIR", &data)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the local server")?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let address = loop {
        let line = lines.next().context("the server exited before listening")??;
        if let Some(at) = line.find("listening on http://") {
            break line[at + "listening on http://".len()..].split_whitespace().next().context("an address")?.to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    let result = load(&address, connections, per_connection);
    // Stopped by its PID, as every process the benchmark starts.
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&data);
    result
}

fn load(address: &str, connections: usize, per_connection: usize) -> anyhow::Result<Throughput> {
    let mut setup = Connection::open(address)?;
    let (status, account) =
        setup.send("POST", "/users", None, Some(&json!({"email": "bench@example.com", "password": "correct horse battery"})))?;
    ensure!(status == 201, "sign-up: {status} {account}");
    let token = account["access_token"].as_str().context("a token")?.to_owned();
    let tasks = format!("/lists/{}/tasks", account["user"]["id"].as_str().context("a user id")?);
    let (status, task) = setup.send("POST", &tasks, Some(&token), Some(&json!({"title": "load me", "tags": ["bench"]})))?;
    ensure!(status == 201, "create: {status} {task}");
    let path = format!("{tasks}/{}", task["id"].as_str().context("a task id")?);
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (address, path, token) = (address.to_owned(), path.clone(), token.clone());
            std::thread::spawn(move || -> anyhow::Result<Vec<Duration>> {
                let mut connection = Connection::open(&address)?;
                (0..per_connection)
                    .map(|_| {
                        let sent = Instant::now();
                        let (status, _) = connection.send("GET", &path, Some(&token), None)?;
                        ensure!(status == 200, "GET {path}: {status}");
                        Ok(sent.elapsed())
                    })
                    .collect()
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.join().map_err(|_| anyhow::anyhow!("a load thread panicked"))??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    #[allow(clippy::cast_precision_loss)]
    let requests_per_second = latencies.len() as f64 / elapsed.as_secs_f64();
    let at = |p: f64| {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[index]
    };
    Ok(Throughput { connections, requests: latencies.len(), requests_per_second, p50: at(0.5), p99: at(0.99) })
}

/// One keep-alive HTTP/1.1 connection.
pub struct Connection {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Connection {
    pub fn open(address: &str) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(address)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Self { writer: stream.try_clone()?, reader: BufReader::new(stream) })
    }

    pub fn send(&mut self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> anyhow::Result<(u16, Value)> {
        self.send_with(method, path, token, &[], body)
    }

    /// With extra headers (`name: value` pairs).
    pub fn send_with(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        use std::fmt::Write as _;
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut head = token.map(|token| format!("authorization: Bearer {token}\r\n")).unwrap_or_default();
        for (name, value) in headers {
            write!(head, "{name}: {value}\r\n")?;
        }
        write!(
            self.writer,
            "{method} {path} HTTP/1.1\r\nhost: bench\r\n{head}content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )?;
        let response = read_message(&mut self.reader)?.context("the server closed the connection")?;
        let status = response.start.split_whitespace().nth(1).context("a status")?.parse()?;
        Ok((status, serde_json::from_slice(&response.body).unwrap_or(Value::Null)))
    }
}
