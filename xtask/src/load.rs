//! Load and crash tests of the local server (`cargo run`), on loopback (issue 14 §4).
//!
//! Load: many users, one keep-alive connection per worker, a fixed mix of reads, list pages,
//! keyed creates and updates for a fixed time; then every acknowledged write is read back.
//! Fails on any error or any lost write; prints throughput and latency percentiles.
//!
//! Crash: writers create tasks concurrently, the server is killed with SIGKILL mid-stream,
//! restarted on the same data dir, and every create it acknowledged must be there.
//!
//! `cargo xtask test` runs both briefly on the debug build (correctness, not speed);
//! `cargo xtask load [--seconds N] [--connections N] [--users N] [--debug]` runs the long
//! load on the release build.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use serde_json::json;

use crate::bench::local_server::Connection;
use crate::web::{LocalServer, TempDir};

pub struct Options {
    pub binary: PathBuf,
    pub connections: usize,
    pub users: usize,
    pub duration: Duration,
    /// Writers in the crash test, and how long they write before the kill.
    pub crash_writers: usize,
    pub crash_after: Duration,
}

impl Options {
    /// The test command's pass: the debug build, briefly.
    pub fn quick() -> Self {
        Self {
            binary: crate::target_dir().join("debug/todo-local"),
            connections: 200,
            users: 50,
            duration: Duration::from_secs(10),
            crash_writers: 40,
            crash_after: Duration::from_secs(2),
        }
    }

    /// `cargo xtask load`: the release build, a minute.
    pub fn long() -> Self {
        Self {
            binary: crate::target_dir().join("release/todo-local"),
            connections: 200,
            users: 200,
            duration: Duration::from_secs(60),
            crash_writers: 100,
            crash_after: Duration::from_secs(5),
        }
    }
}

pub fn run(options: &Options) -> anyhow::Result<()> {
    load(options)?;
    crash(options)
}

/// Tokens outlive any run.
const TOKEN_SECONDS: &str = "86400";
const PASSWORD: &str = "correct horse battery";

struct User {
    token: String,
    tasks: String,
}

fn sign_up(address: &str, count: usize) -> anyhow::Result<Vec<User>> {
    let run = crate::unique();
    let parallel = 4;
    let made: Vec<anyhow::Result<Vec<User>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..parallel)
            .map(|lane| {
                scope.spawn(move || -> anyhow::Result<Vec<User>> {
                    let mut connection = Connection::open(address)?;
                    (lane..count)
                        .step_by(parallel)
                        .map(|n| {
                            let email = format!("load-{}-{run}-{n}@example.com", std::process::id());
                            let (status, account) =
                                connection.send("POST", "/users", None, Some(&json!({"email": email, "password": PASSWORD})))?;
                            ensure!(status == 201, "sign-up: {status} {account}");
                            let id = account["user"]["id"].as_str().context("a user id")?;
                            let token = account["access_token"].as_str().context("a token")?.to_owned();
                            Ok(User { token, tasks: format!("/lists/{id}/tasks") })
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a sign-up thread panicked")))).collect()
    });
    let mut users = Vec::with_capacity(count);
    for lane in made {
        users.extend(lane?);
    }
    Ok(users)
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Kind {
    Page,
    Get,
    Create,
    Update,
    Lists,
}

/// What one worker saw: latencies by kind, errors, and the writes acknowledged to it (task
/// path -> the title it must have).
#[derive(Default)]
struct Outcome {
    latencies: Vec<(Kind, Duration)>,
    errors: Vec<String>,
    acknowledged: HashMap<String, (usize, String)>,
    creates: usize,
    updates: usize,
}

fn worker(address: &str, worker: usize, user_index: usize, user: &User, deadline: Instant) -> Outcome {
    let mut outcome = Outcome::default();
    let mut connection = None;
    let mut own: Vec<String> = Vec::new();
    let mut step = 0usize;
    while Instant::now() < deadline {
        step += 1;
        let kind = match step % 20 {
            0..8 => Kind::Page,
            8..11 if !own.is_empty() => Kind::Get,
            16..19 if !own.is_empty() => Kind::Update,
            19 => Kind::Lists,
            _ => Kind::Create,
        };
        let connected = match connection.as_mut() {
            Some(connection) => connection,
            None => match Connection::open(address) {
                Ok(opened) => connection.insert(opened),
                Err(error) => {
                    outcome.errors.push(format!("connect: {error:#}"));
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            },
        };
        let token = Some(user.token.as_str());
        let sent = Instant::now();
        let (answer, expected) = match kind {
            Kind::Page => (connected.send("GET", &format!("{}?limit=20", user.tasks), token, None), 200),
            Kind::Lists => (connected.send("GET", "/lists", token, None), 200),
            Kind::Get => (connected.send("GET", &own[step % own.len()], token, None), 200),
            Kind::Create => {
                let key = format!("load-{worker}-{step}");
                let body = json!({"title": format!("task {worker}/{step}"), "tags": ["load"]});
                (connected.send_with("POST", &user.tasks, token, &[("idempotency-key", &key)], Some(&body)), 201)
            }
            Kind::Update => {
                let path = own[step % own.len()].clone();
                (connected.send("PATCH", &path, token, Some(&json!({"title": format!("updated {worker}/{step}")}))), 200)
            }
        };
        let took = sent.elapsed();
        match answer {
            Ok((status, body)) if status == expected => {
                outcome.latencies.push((kind, took));
                match kind {
                    Kind::Create => {
                        let path = format!("{}/{}", user.tasks, body["id"].as_str().unwrap_or_default());
                        outcome.acknowledged.insert(path.clone(), (user_index, format!("task {worker}/{step}")));
                        own.push(path);
                        outcome.creates += 1;
                    }
                    Kind::Update => {
                        let path = &own[step % own.len()];
                        outcome.acknowledged.insert(path.clone(), (user_index, format!("updated {worker}/{step}")));
                        outcome.updates += 1;
                    }
                    _ => {}
                }
            }
            Ok((status, body)) => outcome.errors.push(format!("{kind:?}: {status} {body}")),
            Err(error) => {
                outcome.errors.push(format!("{kind:?}: {error:#}"));
                connection = None;
            }
        }
    }
    outcome
}

/// Every task of `user`'s Inbox, path -> title, through the API's pages.
fn all_tasks(connection: &mut Connection, user: &User) -> anyhow::Result<HashMap<String, String>> {
    let mut found = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("{}?limit=100&cursor={}", user.tasks, encode(cursor)),
            None => format!("{}?limit=100", user.tasks),
        };
        let (status, page) = connection.send("GET", &path, Some(&user.token), None)?;
        ensure!(status == 200, "GET {path}: {status} {page}");
        for task in page["items"].as_array().context("items")? {
            let id = task["id"].as_str().context("an id")?;
            found.insert(format!("{}/{id}", user.tasks), task["title"].as_str().unwrap_or_default().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(found),
        }
    }
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(
            |byte| {
                if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) { (byte as char).to_string() } else { format!("%{byte:02X}") }
            },
        )
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn load(options: &Options) -> anyhow::Result<()> {
    let data = TempDir::new("load")?;
    let server = LocalServer::start_on(&options.binary, &data.0, TOKEN_SECONDS)?;
    let address = server.address().to_owned();
    let users = sign_up(&address, options.users)?;
    println!(
        "load: {} connections, {} users, {} s, {} (mix per 20 requests: 8 page, 3 get, 5 create with Idempotency-Key, 3 update, 1 list of lists)",
        options.connections,
        options.users,
        options.duration.as_secs(),
        options.binary.display()
    );
    let started = Instant::now();
    let deadline = started + options.duration;
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..options.connections)
            .map(|n| {
                let (address, users) = (&address, &users);
                scope.spawn(move || worker(address, n, n % users.len(), &users[n % users.len()], deadline))
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap_or_default()).collect()
    });
    let elapsed = started.elapsed();

    let mut by_kind: HashMap<Kind, Vec<Duration>> = HashMap::new();
    let (mut errors, mut acknowledged, mut creates, mut updates) = (Vec::new(), HashMap::new(), 0, 0);
    for outcome in outcomes {
        for (kind, took) in outcome.latencies {
            by_kind.entry(kind).or_default().push(took);
        }
        errors.extend(outcome.errors);
        acknowledged.extend(outcome.acknowledged);
        creates += outcome.creates;
        updates += outcome.updates;
    }
    let mut all: Vec<Duration> = by_kind.values().flatten().copied().collect();
    all.sort();
    #[allow(clippy::cast_precision_loss)]
    let throughput = all.len() as f64 / elapsed.as_secs_f64();
    println!("  {} requests answered as expected in {:.1} s: {throughput:.0}/s; errors {}", all.len(), elapsed.as_secs_f64(), errors.len());
    let mut kinds: Vec<_> = by_kind.into_iter().collect();
    kinds.sort_by_key(|(kind, _)| *kind);
    for (kind, mut latencies) in kinds {
        latencies.sort();
        println!(
            "  {:<7} n={:<7} p50 {:>8.2?} p99 {:>8.2?} max {:>8.2?}",
            format!("{kind:?}"),
            latencies.len(),
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            latencies.last().copied().unwrap_or_default()
        );
    }
    println!(
        "  all     n={:<7} p50 {:>8.2?} p99 {:>8.2?} max {:>8.2?}",
        all.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.last().copied().unwrap_or_default()
    );

    // Every acknowledged write, read back: each task there with its last acknowledged title,
    // and no task nobody was told about.
    let mut connection = Connection::open(&address)?;
    let (mut lost, mut unexpected) = (Vec::new(), 0);
    for (index, user) in users.iter().enumerate() {
        let found = all_tasks(&mut connection, user)?;
        let expected: HashMap<&String, &String> =
            acknowledged.iter().filter(|(_, (owner, _))| *owner == index).map(|(path, (_, title))| (path, title)).collect();
        for (path, title) in &expected {
            if found.get(*path) != Some(*title) {
                lost.push(format!("{path}: expected {title:?}, found {:?}", found.get(*path)));
            }
        }
        unexpected += found.keys().filter(|path| !expected.contains_key(path)).count();
    }
    println!("  writes: {creates} creates and {updates} updates acknowledged; read back: {} lost, {unexpected} unexpected", lost.len());
    drop(server);
    if !errors.is_empty() || !lost.is_empty() || unexpected > 0 {
        for line in errors.iter().take(10).chain(lost.iter().take(10)) {
            eprintln!("  {line}");
        }
        bail!("load test failed: {} errors, {} lost writes, {unexpected} unexpected tasks", errors.len(), lost.len());
    }
    Ok(())
}

fn crash(options: &Options) -> anyhow::Result<()> {
    let data = TempDir::new("crash")?;
    let mut server = LocalServer::start_on(&options.binary, &data.0, TOKEN_SECONDS)?;
    let address = server.address().to_owned();
    let users = sign_up(&address, options.crash_writers.div_ceil(2))?;
    let acknowledged: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::new());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    std::thread::scope(|scope| {
        for writer in 0..options.crash_writers {
            let (address, users, acknowledged, stop) = (&address, &users, &acknowledged, stop.clone());
            scope.spawn(move || {
                let index = writer % users.len();
                let Ok(mut connection) = Connection::open(address) else { return };
                for step in 0.. {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        return;
                    }
                    let key = format!("crash-{writer}-{step}");
                    let body = json!({"title": format!("crash {writer}/{step}")});
                    let user = &users[index];
                    match connection.send_with("POST", &user.tasks, Some(&user.token), &[("idempotency-key", &key)], Some(&body)) {
                        Ok((201, task)) => {
                            let path = format!("{}/{}", user.tasks, task["id"].as_str().unwrap_or_default());
                            acknowledged.lock().unwrap().push((index, path));
                        }
                        // The server is gone (or refused): nothing was acknowledged.
                        _ => return,
                    }
                }
            });
        }
        std::thread::sleep(options.crash_after);
        server.crash();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let acknowledged = acknowledged.into_inner().unwrap();
    ensure!(!acknowledged.is_empty(), "no create was acknowledged before the kill: the crash test tested nothing");

    let restarted = LocalServer::start_on(&options.binary, &data.0, TOKEN_SECONDS)?;
    let mut connection = Connection::open(restarted.address())?;
    let mut found: Vec<HashMap<String, String>> = Vec::new();
    for user in &users {
        found.push(all_tasks(&mut connection, user)?);
    }
    let lost: Vec<&String> = acknowledged.iter().filter(|(index, path)| !found[*index].contains_key(path)).map(|(_, path)| path).collect();
    let present: usize = found.iter().map(HashMap::len).sum();
    println!(
        "crash: {} writers, SIGKILL after {} s: {} creates acknowledged; after the restart {} tasks, {} acknowledged ones lost",
        options.crash_writers,
        options.crash_after.as_secs(),
        acknowledged.len(),
        present,
        lost.len()
    );
    drop(restarted);
    if !lost.is_empty() {
        bail!("crash test failed: {} acknowledged creates lost, e.g. {:?}", lost.len(), &lost[..lost.len().min(5)]);
    }
    Ok(())
}
