//! A relay between the functions and the AWS emulator that counts every request by API
//! call: JSON APIs by their `X-Amz-Target` (DynamoDB, Secrets Manager), S3 by method. Counting at the wire means the
//! release binaries are measured unchanged.

use std::collections::BTreeMap;
use std::io::{BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use super::http1::read_message;

#[derive(Clone)]
pub struct CountingProxy {
    pub endpoint: String,
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl CountingProxy {
    pub fn start(upstream: &str) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let proxy = Self { endpoint: format!("http://{}", listener.local_addr()?), counts: Arc::default() };
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let counts = Arc::clone(&proxy.counts);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (upstream, counts) = (upstream.clone(), Arc::clone(&counts));
                std::thread::spawn(move || relay(client, &upstream, &counts));
            }
        });
        Ok(proxy)
    }

    /// Calls by name since the last `take`.
    pub fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.counts.lock().unwrap())
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

fn relay(client: TcpStream, upstream: &str, counts: &Mutex<BTreeMap<String, u64>>) {
    let Ok(server) = TcpStream::connect(upstream) else { return };
    // Relayed writes must not wait for delayed ACKs.
    let _ = (server.set_nodelay(true), client.set_nodelay(true));
    let (Ok(mut to_server), Ok(mut from_server), Ok(mut to_client)) = (server.try_clone(), server.try_clone(), client.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(std::net::Shutdown::Both);
    });
    let mut reader = BufReader::new(client);
    while let Ok(Some(request)) = read_message(&mut reader) {
        let method = request.start.split_whitespace().next().unwrap_or_default();
        *counts.lock().unwrap().entry(call_name(method, request.header("x-amz-target"))).or_default() += 1;
        if to_server.write_all(&request.raw).is_err() {
            break;
        }
    }
    let _ = server.shutdown(std::net::Shutdown::Both);
}
