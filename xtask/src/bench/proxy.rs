//! A relay between the functions and the AWS emulator that counts every request by API
//! call: JSON APIs by their `X-Amz-Target` (DynamoDB, Secrets Manager), S3 by method. Counting at the wire means the
//! release binaries are measured unchanged.
//!
//! It also counts DynamoDB round trips: a DynamoDB request starts a new one unless no
//! answer (from any service) has arrived since the previous DynamoDB request — calls
//! issued together, before either is answered, are one round trip; a call made after
//! reading an answer is another.

use std::collections::BTreeMap;
use std::io::{BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::http1::read_message;

pub struct CountingProxy {
    pub endpoint: String,
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
    round_trips: Arc<Mutex<RoundTrips>>,
    stopped: Arc<AtomicBool>,
}

#[derive(Default)]
struct RoundTrips {
    count: u64,
    answered_since_last_request: bool,
}

impl CountingProxy {
    pub fn start(upstream: &str) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let proxy = Self {
            endpoint: format!("http://{}", listener.local_addr()?),
            counts: Arc::default(),
            round_trips: Arc::new(Mutex::new(RoundTrips { count: 0, answered_since_last_request: true })),
            stopped: Arc::default(),
        };
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let (counts, round_trips, stopped) = (Arc::clone(&proxy.counts), Arc::clone(&proxy.round_trips), Arc::clone(&proxy.stopped));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                let (upstream, counts, round_trips) = (upstream.clone(), Arc::clone(&counts), Arc::clone(&round_trips));
                std::thread::spawn(move || relay(client, &upstream, &counts, &round_trips));
            }
        });
        Ok(proxy)
    }

    /// Calls by name since the last `take` (and the round-trip count restarts).
    pub fn take(&self) -> BTreeMap<String, u64> {
        self.take_round_trips();
        std::mem::take(&mut *self.counts.lock().unwrap())
    }

    /// Stops listening (the thread accepting connections ends with the next one, made here);
    /// dropping the proxy does it.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.endpoint.trim_start_matches("http://"));
    }

    /// DynamoDB round trips since the last `take` or `take_round_trips`.
    pub fn take_round_trips(&self) -> u64 {
        std::mem::take(&mut self.round_trips.lock().unwrap().count)
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

fn call_name(method: &str, target: Option<&str>) -> String {
    if let Some(target) = target {
        let (prefix, operation) = target.split_once('.').unwrap_or(("", target));
        let service = if prefix.starts_with("DynamoDB") { "dynamodb" } else { prefix };
        return format!("{service}:{operation}");
    }
    let operation = match method {
        "GET" => "GetObject",
        "HEAD" => "HeadObject",
        "PUT" => "PutObject",
        "DELETE" => "DeleteObject",
        other => other,
    };
    format!("s3:{operation}")
}

fn relay(client: TcpStream, upstream: &str, counts: &Mutex<BTreeMap<String, u64>>, round_trips: &Arc<Mutex<RoundTrips>>) {
    let Ok(server) = TcpStream::connect(upstream) else { return };
    // Relayed writes must not wait for delayed ACKs.
    let _ = (server.set_nodelay(true), client.set_nodelay(true));
    let (Ok(mut to_server), Ok(mut from_server), Ok(mut to_client)) = (server.try_clone(), server.try_clone(), client.try_clone()) else {
        return;
    };
    let answers = Arc::clone(round_trips);
    std::thread::spawn(move || {
        use std::io::Read as _;
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(read @ 1..) = from_server.read(&mut buffer) {
            answers.lock().unwrap().answered_since_last_request = true;
            if to_client.write_all(&buffer[..read]).is_err() {
                break;
            }
        }
        let _ = to_client.shutdown(std::net::Shutdown::Both);
    });
    let mut reader = BufReader::new(client);
    while let Ok(Some(request)) = read_message(&mut reader) {
        let method = request.start.split_whitespace().next().unwrap_or_default();
        let name = call_name(method, request.header("x-amz-target"));
        if name.starts_with("dynamodb:") {
            let mut trips = round_trips.lock().unwrap();
            if std::mem::replace(&mut trips.answered_since_last_request, false) {
                trips.count += 1;
            }
        }
        *counts.lock().unwrap().entry(name).or_default() += 1;
        if to_server.write_all(&request.raw).is_err() {
            break;
        }
    }
    let _ = server.shutdown(std::net::Shutdown::Both);
}
