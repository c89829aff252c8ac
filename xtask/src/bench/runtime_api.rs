//! A Lambda Runtime API emulator that times what the benchmark needs: when a process first
//! asks for work (the end of its init), and how long each invocation takes, as seen from
//! outside the process.

use std::collections::VecDeque;
use std::io::{BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use super::http1::read_message;

#[derive(Default)]
struct State {
    /// When a process asked for its next event (`GET .../invocation/next`), oldest first.
    asked: VecDeque<Instant>,
    /// The event waiting to be handed out: (request id, body).
    event: Option<(String, String)>,
    /// The answer to the event in flight: (request id, was it an error, body, when).
    answer: Option<(String, bool, Vec<u8>, Instant)>,
}

#[derive(Clone)]
pub struct RuntimeApi {
    pub address: String,
    shared: Arc<(Mutex<State>, Condvar)>,
}

/// One invocation as the caller saw it.
pub struct Invocation {
    pub latency: Duration,
    pub error: bool,
    pub body: Vec<u8>,
}

impl RuntimeApi {
    pub fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?.to_string();
        let api = Self { address, shared: Arc::new((Mutex::new(State::default()), Condvar::new())) };
        let server = api.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                // Small writes must not wait for delayed ACKs (40 ms each on Linux).
                let _ = stream.set_nodelay(true);
                let connection = server.clone();
                std::thread::spawn(move || connection.serve(stream));
            }
        });
        Ok(api)
    }

    /// Waits for the next "give me work" request; returns when it arrived.
    pub fn wait_for_next(&self, timeout: Duration) -> anyhow::Result<Instant> {
        let (lock, ready) = &*self.shared;
        let deadline = Instant::now() + timeout;
        let mut state = lock.lock().unwrap();
        loop {
            if let Some(at) = state.asked.pop_front() {
                return Ok(at);
            }
            let left = deadline.checked_duration_since(Instant::now()).context("the function never asked for work")?;
            state = ready.wait_timeout(state, left).unwrap().0;
        }
    }

    /// Hands `event` to the waiting process and waits for its answer. The latency runs
    /// from handing the event over to the answer's arrival.
    pub fn invoke(&self, request_id: &str, event: &str, timeout: Duration) -> anyhow::Result<Invocation> {
        let (lock, ready) = &*self.shared;
        let sent = Instant::now();
        {
            let mut state = lock.lock().unwrap();
            state.answer = None;
            state.event = Some((request_id.to_owned(), event.to_owned()));
        }
        ready.notify_all();
        let deadline = sent + timeout;
        let mut state = lock.lock().unwrap();
        loop {
            if let Some((id, error, body, at)) = state.answer.take() {
                if id != request_id {
                    bail!("an answer for {id} while waiting for {request_id}");
                }
                return Ok(Invocation { latency: at - sent, error, body });
            }
            let left = deadline.checked_duration_since(Instant::now()).context("the function did not answer in time")?;
            state = ready.wait_timeout(state, left).unwrap().0;
        }
    }

    fn serve(&self, stream: TcpStream) {
        let mut writer = stream.try_clone().expect("clone a socket");
        let mut reader = BufReader::new(stream);
        let (lock, ready) = &*self.shared;
        while let Ok(Some(request)) = read_message(&mut reader) {
            let arrived = Instant::now();
            let path = request.start.split_whitespace().nth(1).unwrap_or_default().to_owned();
            if path.ends_with("/runtime/invocation/next") {
                let (id, body) = {
                    let mut state = lock.lock().unwrap();
                    state.asked.push_back(arrived);
                    ready.notify_all();
                    loop {
                        if let Some(event) = state.event.take() {
                            break event;
                        }
                        state = ready.wait(state).unwrap();
                    }
                };
                let deadline = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 30_000;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nlambda-runtime-aws-request-id: {id}\r\nlambda-runtime-deadline-ms: {deadline}\r\nlambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:bench\r\nlambda-runtime-trace-id: Root=1-00000000-000000000000000000000000\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                if writer.write_all(&[head.as_bytes(), body.as_bytes()].concat()).is_err() {
                    return;
                }
            } else {
                // `.../invocation/<id>/response`, `.../invocation/<id>/error` or `.../init/error`.
                let id = path.split('/').rev().nth(1).unwrap_or_default().to_owned();
                let error = path.ends_with("/error");
                {
                    let mut state = lock.lock().unwrap();
                    state.answer = Some((id, error, request.body, arrived));
                }
                ready.notify_all();
                if writer.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}").is_err() {
                    return;
                }
            }
        }
    }
}
