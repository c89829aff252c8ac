//! Scheduled jobs on the local store: the housekeeping job finishes what an interrupted
//! account deletion left, purges what the embedded store has no TTL for, and `cargo run --
//! job housekeeping` runs it against a data dir; a reminders worker's answer to the
//! messages it is handed.

use std::process::Command;

use http::{Method, StatusCode};
use serde_json::json;
use todo_domain::model::{TaskId, Timestamp, UserId};
use todo_domain::ports::{PageRequest, Session, TaskFilter};

use crate::support::TestApp;

fn now() -> Timestamp {
    Timestamp::from_datetime(chrono::Utc::now())
}

/// What the queue's worker answers (`reminders-shard`): a message it cannot run is reported
/// failed (only it goes back to the queue, and on to the failed-runs queue), a stale one is
/// skipped, and a good one runs its shard.
#[tokio::test]
async fn a_reminders_worker_reports_the_messages_it_cannot_run_and_skips_stale_ones() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    app.create_task(&ada, json!({"title": "reminded", "reminder_at": "2026-01-01T09:00:00Z"})).await;
    let now_ms = now().unix_millis();
    let record =
        |id: &str, body: &str, sent_ms: i64| json!({"messageId": id, "body": body, "attributes": {"SentTimestamp": sent_ms.to_string()}});
    let stale_ms = now_ms - i64::try_from(todo_jobs::fan_out::STALE_AFTER.as_millis()).unwrap() - 1_000;
    let event = json!({"Records": [
        record("not-a-shard-message", "shard 0", now_ms),
        record("past-the-ceiling", r#"{"shard": 128}"#, now_ms),
        record("stale", r#"{"shard": 0}"#, stale_ms),
        record("due", r#"{"shard": 0}"#, now_ms),
    ]});
    let answer = todo_jobs::fan_out::run_shards(&app.app, serde_json::from_value(event).unwrap()).await;
    let failed: Vec<&str> = answer.batch_item_failures.iter().map(|failure| failure.item_identifier.as_str()).collect();
    assert_eq!(failed, ["not-a-shard-message", "past-the-ceiling"], "{answer:?}");
    assert_eq!((answer.stale, answer.outcome.shards, answer.outcome.sent), (1, 1, 1), "{answer:?}");
    let response = serde_json::to_value(&answer).unwrap();
    assert_eq!(response["batchItemFailures"][1], json!({"itemIdentifier": "past-the-ceiling"}), "Lambda's partial-batch answer");
}

#[tokio::test]
async fn housekeeping_finishes_an_interrupted_account_deletion_once() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let user_id = UserId::parse(&ada.id).unwrap();
    let task = app.create_task(&ada, json!({"title": "leftover"})).await;
    let task_id = task["id"].as_str().unwrap();
    let answer = app
        .call(
            Method::POST,
            &format!("/lists/{}/tasks/{task_id}/files", ada.id),
            Some(&ada.access_token),
            Some(json!({"name": "a.txt", "content_type": "text/plain", "size": 2})),
        )
        .await;
    let file_key =
        todo_domain::ports::ObjectKey::for_file(user_id, TaskId::parse(task_id).unwrap(), answer.body["file"]["id"].as_str().unwrap());
    let (_, query) = answer.body["upload"]["url"].as_str().unwrap().split_once('?').unwrap();
    app.blobs.put(&file_key, query, Some("text/plain"), b"hi", now()).unwrap();

    // The deleting process dies right after the profile goes (and the marker appears).
    let user = app.app.stores.users.get_user(user_id).await.unwrap().unwrap();
    app.app.stores.users.delete_user(&user, now()).await.unwrap();
    let refresh = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": ada.refresh_token}))).await;
    refresh.assert_problem(StatusCode::UNAUTHORIZED, None);

    let sample = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/housekeeping.json")).unwrap();
    let _: serde_json::Value = serde_json::from_str(&sample).expect("the scheduled event is JSON");
    let outcome = todo_jobs::HOUSEKEEPING.run_once(&app.app).await.unwrap();
    assert_eq!(outcome["accounts_finished"], 1, "{outcome}");
    let tasks = app
        .app
        .stores
        .tasks
        .list_tasks(todo_domain::model::ListId::inbox_of(user_id), &TaskFilter::default(), PageRequest { limit: 10, after: None })
        .await
        .unwrap();
    assert!(tasks.items.is_empty());
    assert!(app.app.stores.blobs.head(&file_key).await.unwrap().is_none(), "the file's object went too");
    assert_eq!(app.app.stores.sessions.delete_user_sessions(user_id).await.unwrap(), 0, "sessions went");
    assert!(app.app.stores.users.pending_deletions(10).await.unwrap().is_empty());
    let again = todo_jobs::HOUSEKEEPING.run_once(&app.app).await.unwrap();
    assert_eq!(again["accounts_finished"], 0, "a second run finds nothing left");
}

#[tokio::test]
async fn housekeeping_purges_expired_sessions_and_keeps_live_ones() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let user_id = UserId::parse(&ada.id).unwrap();
    let long_ago = now().plus(chrono::Duration::days(-60));
    let expired = Session {
        id: todo_domain::model::SessionId::generate(),
        user_id,
        generation: 1,
        secret_hash: "0".repeat(64),
        salt: String::new(),
        created_at: long_ago,
        expires_at: long_ago.plus(chrono::Duration::days(30)),
        revoked_at: None,
        credentials_version: 1,
    };
    app.app.stores.sessions.insert_session(&expired).await.unwrap();
    let outcome = todo_jobs::HOUSEKEEPING.run_once(&app.app).await.unwrap();
    assert_eq!(outcome["expired_sessions"], 1, "{outcome}");
    assert!(app.app.stores.sessions.get_session(user_id, expired.id).await.unwrap().is_none());
    let live = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": ada.refresh_token}))).await;
    assert_eq!(live.status, StatusCode::OK, "the live session survived");
}

#[test]
fn cargo_run_job_runs_one_job_against_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_todo-local")).args(args).env("TODO_DATA_DIR", dir.path()).env("RUST_LOG", "warn").output().unwrap()
    };
    let output = run(&["job", "housekeeping"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let outcome: serde_json::Value = serde_json::from_slice(&output.stdout).expect("the outcome as JSON");
    assert_eq!(outcome["accounts_finished"], 0);
    let unknown = run(&["job", "nope"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("housekeeping"), "names the jobs there are");
}
