//! The local server's front over real TCP: a head or body sent too slowly, or a head too
//! large, is cut off with a clear answer and changes nothing; the body's limit is a total,
//! so a trickle (a byte now and then, which a per-read timeout never catches) is cut off too.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use serde_json::json;
use todo_local::front::Limits;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::TestApp;

const SHORT: Limits = Limits { head_timeout: Duration::from_secs(1), max_head_bytes: 16 * 1024, body_timeout: Duration::from_secs(1) };

/// Everything the server sends until it closes the connection (at most 10 s).
async fn read_all(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server kept the connection open: {}", String::from_utf8_lossy(&answer));
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_head_sent_too_slowly_is_cut_off() {
    let app = TestApp::spawn();
    let (address, _stop) = app.serve_over_tcp(SHORT).await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(b"GET /lists HTTP/1.1\r\nhost: localhost\r\n").await.unwrap();
    let answer = read_all(&mut stream).await;
    let waited = started.elapsed();
    // Timed from the connection's opening (taken after `started`), give or take the timer's tick.
    assert!(waited + Duration::from_millis(50) >= SHORT.head_timeout && waited < SHORT.head_timeout * 5, "closed after {waited:?}");
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn an_enormous_head_is_refused_with_431() {
    let app = TestApp::spawn();
    let (address, _stop) = app.serve_over_tcp(SHORT).await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!("GET /lists HTTP/1.1\r\nhost: localhost\r\nx-filler: {}\r\n\r\n", "a".repeat(64 * 1024));
    // The server may answer and close before taking it all.
    let _ = stream.write_all(head.as_bytes()).await;
    let answer = read_all(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
}

/// The head of a task creation in `account`'s Inbox with a body of `length` bytes; the
/// server closes the connection after answering.
fn task_creation_head(account: &crate::support::Account, length: usize) -> String {
    format!(
        "POST /lists/{}/tasks HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n",
        account.id, account.access_token
    )
}

#[tokio::test]
async fn a_body_that_trickles_past_its_time_is_a_408_problem_and_changes_nothing() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let (address, _stop) = app.serve_over_tcp(SHORT).await;

    // A normal request over the same front goes through.
    let mut stream = TcpStream::connect(address).await.unwrap();
    let body = json!({"title": "on time"}).to_string();
    stream.write_all(format!("{}{body}", task_creation_head(&ada, body.len())).as_bytes()).await.unwrap();
    assert!(read_all(&mut stream).await.starts_with("HTTP/1.1 201"));

    let mut stream = TcpStream::connect(address).await.unwrap();
    let body = json!({"title": "a title that arrives one byte at a time"}).to_string();
    stream.write_all(task_creation_head(&ada, body.len()).as_bytes()).await.unwrap();
    let started = Instant::now();
    let trickle = async {
        // A byte every 200 ms: never idle for long, but the whole body would take ~10 s.
        for byte in body.as_bytes() {
            if stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            if started.elapsed() > SHORT.body_timeout * 3 {
                break;
            }
        }
    };
    trickle.await;
    let answer = read_all(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json") && answer.contains("/problems/request-timeout"), "{answer}");
    assert!(answer.contains("did not arrive within 1 s"), "{answer}");

    let listed = app.call(Method::GET, &format!("/lists/{}/tasks", ada.id), Some(&ada.access_token), None).await;
    assert_eq!(listed.status, StatusCode::OK);
    let titles: Vec<&str> = listed.body["items"].as_array().unwrap().iter().map(|task| task["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["on time"], "the late body created nothing");
}
