//! The notifications feed over HTTP: what the reminders job sends shows up once, newest
//! first, pages and filters, is marked read, and is nobody else's business.

use std::process::Command;

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Account, TestApp};

fn minutes_ago(minutes: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339()
}

async fn feed(app: &TestApp, account: &Account, query: &str) -> Value {
    let reply = app.call(Method::GET, &format!("/notifications{query}"), Some(&account.access_token), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
    reply.body
}

#[tokio::test]
async fn a_passed_reminder_reaches_the_feed_once_and_is_marked_read() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let task = app.create_task(&ada, json!({"title": "Call the bank", "reminder_at": minutes_ago(5)})).await;
    assert_eq!(feed(&app, &ada, "").await["items"], json!([]), "nothing before the job runs");

    let first = todo_jobs::REMINDERS.run_once(&app.app).await.unwrap();
    let second = todo_jobs::REMINDERS.run_once(&app.app).await.unwrap();
    assert_eq!((first["sent"].as_u64(), second["sent"].as_u64()), (Some(1), Some(0)), "{first} {second}");
    let items = feed(&app, &ada, "").await["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    let notification = &items[0];
    assert_eq!(notification["kind"], "reminder");
    assert_eq!(notification["task_id"], task["id"]);
    assert_eq!(notification["task_title"], "Call the bank");
    assert_eq!(notification["at"], task["reminder_at"]);
    assert_eq!((notification["read"].as_bool(), notification["read_at"].is_null()), (Some(false), true));

    let path = format!("/notifications/{}", notification["id"].as_str().unwrap());
    let read = app.call(Method::PATCH, &path, Some(&ada.access_token), Some(json!({"read": true}))).await;
    assert_eq!(read.status, StatusCode::OK, "{:#}", read.body);
    assert_eq!(read.body["read"], true);
    let again = app.call(Method::PATCH, &path, Some(&ada.access_token), Some(json!({"read": true}))).await;
    assert_eq!(again.body["read_at"], read.body["read_at"], "marking read twice keeps when it was first read");
    assert_eq!(feed(&app, &ada, "?unread=true").await["items"], json!([]));
    assert_eq!(feed(&app, &ada, "?unread=false").await["items"].as_array().unwrap().len(), 1);
    let unread = app.call(Method::PATCH, &path, Some(&ada.access_token), Some(json!({"read": false}))).await;
    assert_eq!((unread.body["read"].as_bool(), unread.body["read_at"].is_null()), (Some(false), true));
}

#[tokio::test]
async fn overdue_tasks_notify_once_and_completed_ones_never() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let overdue = app.create_task(&ada, json!({"title": "File taxes", "due": minutes_ago(1)})).await;
    let done = app.create_task(&ada, json!({"title": "Done early", "due": minutes_ago(1), "reminder_at": minutes_ago(2)})).await;
    let reply = app
        .call(
            Method::PATCH,
            &format!("/lists/{}/tasks/{}", done["list_id"].as_str().unwrap(), done["id"].as_str().unwrap()),
            Some(&ada.access_token),
            Some(json!({"status": "completed"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    todo_jobs::REMINDERS.run_once(&app.app).await.unwrap();
    let items = feed(&app, &ada, "").await["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!((items[0]["kind"].as_str(), &items[0]["task_id"]), (Some("overdue"), &overdue["id"]));
}

#[tokio::test]
async fn the_feed_pages_newest_first_and_binds_cursors_to_their_view() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    for minutes in 1..=5 {
        app.create_task(&ada, json!({"title": format!("reminded {minutes} min ago"), "reminder_at": minutes_ago(minutes)})).await;
    }
    todo_jobs::REMINDERS.run_once(&app.app).await.unwrap();
    let mut seen = Vec::new();
    let mut query = "?limit=2".to_owned();
    loop {
        let page = feed(&app, &ada, &query).await;
        seen.extend(page["items"].as_array().unwrap().iter().map(|item| item["task_title"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let expected: Vec<String> = (1..=5).map(|minutes| format!("reminded {minutes} min ago")).collect();
    assert_eq!(seen, expected, "every notification once, newest first");

    let page = feed(&app, &ada, "?limit=2&unread=true").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let reply = app.call(Method::GET, &format!("/notifications?cursor={cursor}"), Some(&ada.access_token), None).await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("cursor"));
}

#[tokio::test]
async fn another_users_notification_is_a_404_and_stays_unread() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    app.create_task(&ada, json!({"title": "private", "reminder_at": minutes_ago(1)})).await;
    todo_jobs::REMINDERS.run_once(&app.app).await.unwrap();
    let id = feed(&app, &ada, "").await["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(feed(&app, &bob, "").await["items"], json!([]));
    let reply = app.call(Method::PATCH, &format!("/notifications/{id}"), Some(&bob.access_token), Some(json!({"read": true}))).await;
    reply.assert_problem(StatusCode::NOT_FOUND, None);
    assert_eq!(feed(&app, &ada, "").await["items"][0]["read"], false, "unchanged");
    let anonymous = app.call(Method::GET, "/notifications", None, None).await;
    anonymous.assert_problem(StatusCode::UNAUTHORIZED, None);
}

#[tokio::test]
async fn bad_notification_requests_name_the_problem_and_change_nothing() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    app.create_task(&ada, json!({"title": "remind me", "reminder_at": minutes_ago(1)})).await;
    todo_jobs::REMINDERS.run_once(&app.app).await.unwrap();
    let id = feed(&app, &ada, "").await["items"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/notifications/{id}");
    for (body, field) in [
        (json!({}), "read"),
        (json!({"read": "yes"}), "read"),
        (json!({"read": null}), "read"),
        (json!({"read": true, "pinned": true}), "pinned"),
    ] {
        let reply = app.call(Method::PATCH, &path, Some(&ada.access_token), Some(body.clone())).await;
        assert!(reply.status.is_client_error(), "{body}: {}", reply.status);
        reply.assert_problem(reply.status, Some(field));
    }
    let reply = app.call(Method::PATCH, "/notifications/not-an-id", Some(&ada.access_token), Some(json!({"read": true}))).await;
    assert!(reply.status.is_client_error());
    reply.assert_problem(reply.status, Some("id"));
    let missing = todo_domain::model::NotificationId::generate();
    let reply = app.call(Method::PATCH, &format!("/notifications/{missing}"), Some(&ada.access_token), Some(json!({"read": true}))).await;
    reply.assert_problem(StatusCode::NOT_FOUND, None);
    for (query, field) in
        [("?unread=maybe", "unread"), ("?limit=0", "limit"), ("?limit=101", "limit"), ("?cursor=forged", "cursor"), ("?sort=asc", "sort")]
    {
        let reply = app.call(Method::GET, &format!("/notifications{query}"), Some(&ada.access_token), None).await;
        assert!(reply.status.is_client_error(), "{query}: {}", reply.status);
        reply.assert_problem(reply.status, Some(field));
    }
    assert_eq!(feed(&app, &ada, "").await["items"][0]["read"], false, "nothing changed");
}

/// `cargo run -- job reminders`, twice, against a data dir: one notification.
#[tokio::test]
async fn cargo_run_job_reminders_twice_sends_once() {
    let dir = tempfile::tempdir().unwrap();
    let embedded =
        todo_adapters::bootstrap::embedded_app(&todo_adapters::config::Env::from_fn(|_| None), dir.path(), None, "http://localhost")
            .unwrap();
    let app = embedded.app;
    let (user, _) = todo_domain::usecases::users::sign_up(
        &app,
        todo_domain::usecases::users::SignUp {
            email: todo_domain::model::Email::parse("ada@example.com").unwrap(),
            password: todo_domain::model::Password::parse(crate::support::PASSWORD).unwrap(),
            name: None,
        },
    )
    .await
    .unwrap();
    let now = todo_domain::model::Timestamp::from_datetime(chrono::Utc::now());
    let new = todo_domain::model::NewTask {
        title: todo_domain::model::Title::parse("Water the plants").unwrap(),
        notes: None,
        due: None,
        priority: None,
        tags: todo_domain::model::Tags::default(),
        recurrence: None,
        reminder_at: Some(now.plus(chrono::Duration::minutes(-1))),
    };
    let task = todo_domain::model::Task::create(
        todo_domain::model::TaskId::generate(),
        todo_domain::model::ListId::inbox_of(user.id),
        user.id,
        new,
        now,
    )
    .unwrap();
    app.stores.tasks.create_task(&task, None, now).await.unwrap();
    // The job runs in its own process while this one holds the same database open, as
    // `cargo run -- job reminders` beside a running server does.
    let run = || {
        let output = Command::new(env!("CARGO_BIN_EXE_todo-local"))
            .args(["job", "reminders"])
            .env("TODO_DATA_DIR", dir.path())
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice::<Value>(&output.stdout).expect("the outcome as JSON")
    };
    assert_eq!(run()["sent"], 1);
    assert_eq!(run()["sent"], 0, "run twice, still one notification");
    let page = app
        .stores
        .notifications
        .list_notifications(user.id, false, now, todo_domain::ports::PageRequest { limit: 10, after: None })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
}
