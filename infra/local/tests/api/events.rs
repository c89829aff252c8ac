//! The sample events in `infra/events/` (API Gateway HTTP API, payload 2.0) fed through each
//! function's own one-route router, exactly as `lambda_http` delivers them on Lambda.

use http::StatusCode;
use http_body_util::BodyExt as _;
use serde_json::json;
use tower::ServiceExt as _;

use crate::support::TestApp;

/// The placeholder ids in the events, replaced by real ones here.
const SAMPLE_TASK_ID: &str = "01JAAAAAAAAAAAAAAAAAAAAAAA";
const SAMPLE_FILE_ID: &str = "01JBBBBBBBBBBBBBBBBBBBBBBB";
const SAMPLE_USER_ID: &str = "01JCCCCCCCCCCCCCCCCCCCCCCC";
const SAMPLE_NOTIFICATION_ID: &str = "01JDDDDDDDDDDDDDDDDDDDDDDD";
/// A member of the sample user's Inbox; an invitation they sent; one they received.
const SAMPLE_MEMBER_ID: &str = "01JEEEEEEEEEEEEEEEEEEEEEEE";
const SAMPLE_SENT_INVITATION_ID: &str = "01JFFFFFFFFFFFFFFFFFFFFFFF";
const SAMPLE_RECEIVED_INVITATION_ID: &str = "01JGGGGGGGGGGGGGGGGGGGGGGG";
/// A list of the sample user's other than the Inbox (the one `list-delete` deletes).
const SAMPLE_LIST_ID: &str = "01JHHHHHHHHHHHHHHHHHHHHHHH";

#[tokio::test]
async fn every_sample_event_invokes_its_function() {
    for operation in todo_local::operations() {
        let app = TestApp::spawn();
        let event = sample_event(&app, operation.binary).await;
        let (status, body) = invoke(&app, operation, &event).await;
        assert_eq!(status, expected_status(operation.binary), "{}: {body}", operation.binary);
    }
}

/// `binary`'s sample event, its placeholders replaced by what `app` now holds: Ada's account
/// with a task (a passed reminder, notified), a file, Bob in her Inbox, an invitation she
/// sent and one she received, and another list.
pub async fn sample_event(app: &TestApp, binary: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../events/{binary}.json"));
    let event = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing sample event {}", path.display()));
    if binary == "user-signup" {
        return event;
    }
    let account = app.sign_up("ada@example.com").await;
    let task = app
        .create_task(
            &account,
            json!({"title": "sample", "due": "2027-01-31T09:00:00Z", "recurrence": {"freq": "monthly"}, "reminder_at": "2026-01-01T09:00:00Z"}),
        )
        .await;
    let task_id = task["id"].as_str().unwrap();
    let file = app
        .call(
            http::Method::POST,
            &format!("/lists/{}/tasks/{task_id}/files", account.id),
            Some(&account.access_token),
            Some(json!({"name": "a.txt", "content_type": "text/plain", "size": 3})),
        )
        .await;
    // Bob is a member of Ada's Inbox; Ada has invited Grace, and Bob has invited Ada.
    let bob = app.sign_up("bob@example.com").await;
    app.share(&account, &account.id, &bob, "bob@example.com", "viewer").await;
    let sent = app.invite(&account, &account.id, "grace@example.com", "editor").await;
    let received = app.invite(&bob, &bob.id, "ada@example.com", "editor").await;
    let list = app.call(http::Method::POST, "/lists", Some(&account.access_token), Some(json!({"name": "Errands"}))).await;
    // The reminder has passed: one run of the job leaves a notification to mark read.
    todo_jobs::REMINDERS.run_once(&app.app).await.unwrap();
    let feed = app.call(http::Method::GET, "/notifications", Some(&account.access_token), None).await;
    event
        .replace(SAMPLE_NOTIFICATION_ID, feed.body["items"][0]["id"].as_str().unwrap())
        .replace("REPLACE_WITH_ACCESS_TOKEN", &account.access_token)
        .replace("REPLACE_WITH_REFRESH_TOKEN", &account.refresh_token)
        .replace(SAMPLE_TASK_ID, task_id)
        // The sample's list is the sample user's Inbox, whose id is the user's.
        .replace(SAMPLE_USER_ID, &account.id)
        .replace(SAMPLE_FILE_ID, file.body["file"]["id"].as_str().unwrap())
        .replace(SAMPLE_MEMBER_ID, &bob.id)
        .replace(SAMPLE_SENT_INVITATION_ID, &sent)
        .replace(SAMPLE_RECEIVED_INVITATION_ID, &received)
        .replace(SAMPLE_LIST_ID, list.body["id"].as_str().unwrap())
}

/// Sends an API Gateway event through `operation`'s own one-route router, as `lambda_http`
/// delivers it on Lambda: the status and body.
pub async fn invoke(app: &TestApp, operation: &'static todo_http::Operation, event: &str) -> (StatusCode, String) {
    let request = lambda_http::request::from_str(event).unwrap_or_else(|e| panic!("{} is not an API Gateway event: {e}", operation.binary));
    let response = operation.router(app.app.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

pub fn expected_status(binary: &str) -> StatusCode {
    match binary {
        "user-signup" | "list-create" | "task-create" | "file-upload-url" => StatusCode::CREATED,
        "session-delete" | "task-delete" | "file-delete" | "member-remove" | "invitation-revoke" | "invitation-decline" => {
            StatusCode::NO_CONTENT
        }
        "user-me-delete" | "invitation-create" | "list-delete" => StatusCode::ACCEPTED,
        _ => StatusCode::OK,
    }
}

#[tokio::test]
async fn a_function_answers_only_its_own_route() {
    let app = TestApp::spawn();
    let event = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/task-list.json")).unwrap();
    let request = lambda_http::request::from_str(&event).unwrap();
    // The task-get function receiving task-list's event: not its route.
    let response = todo_tasks::GET_TASK.router(app.app.clone()).oneshot(request).await.unwrap();
    assert!(response.status() == StatusCode::NOT_FOUND || response.status() == StatusCode::METHOD_NOT_ALLOWED, "{}", response.status());
}

/// The S3 `ObjectCreated` sample event through the `file-uploaded` handler: the pending
/// file it names becomes available; the same event again changes nothing.
#[tokio::test]
async fn the_upload_event_sample_completes_its_file_once() {
    let app = TestApp::spawn();
    let account = app.sign_up("ada@example.com").await;
    let task = app.create_task(&account, json!({"title": "with a file"})).await;
    let task_id = task["id"].as_str().unwrap();
    let bytes = vec![b'x'; 48_213];
    let answer = app
        .call(
            http::Method::POST,
            &format!("/lists/{}/tasks/{task_id}/files", account.id),
            Some(&account.access_token),
            Some(json!({"name": "Q1 report.pdf", "content_type": "application/pdf", "size": bytes.len()})),
        )
        .await;
    let file_id = answer.body["file"]["id"].as_str().unwrap().to_owned();
    // Put the bytes straight into the folder, as S3 would, without the local server's own
    // completion: the event is what completes it here.
    let url = answer.body["upload"]["url"].as_str().unwrap();
    let (path, query) = url.split_once('?').unwrap();
    let key = todo_domain::ports::ObjectKey::parse(path.split("/blobs/").nth(1).unwrap()).unwrap();
    app.blobs.put(&key, query, Some("application/pdf"), &bytes, todo_domain::model::Timestamp::from_datetime(chrono::Utc::now())).unwrap();

    let sample = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/file-uploaded.json")).unwrap();
    let event = sample.replace(SAMPLE_USER_ID, &account.id).replace(SAMPLE_TASK_ID, task_id).replace(SAMPLE_FILE_ID, &file_id);
    let event: todo_files::uploaded::ObjectEvent = serde_json::from_str(&event).unwrap();
    let outcome = todo_files::uploaded::on_objects_created(&app.app, event.clone()).await.unwrap();
    assert_eq!(outcome, todo_files::uploaded::Outcome { completed: 1, ..Default::default() });
    let file = app
        .call(http::Method::GET, &format!("/lists/{}/tasks/{task_id}/files/{file_id}", account.id), Some(&account.access_token), None)
        .await;
    assert_eq!(file.body["status"], "available");
    assert_eq!(file.body["size"], 48_213);
    let again = todo_files::uploaded::on_objects_created(&app.app, event).await.unwrap();
    assert_eq!(again, todo_files::uploaded::Outcome { duplicates: 1, ..Default::default() });
}
