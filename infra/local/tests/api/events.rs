//! The sample events in `infra/events/` (API Gateway HTTP API, payload 2.0) fed through each
//! function's own one-route router, exactly as `lambda_http` delivers them on Lambda.

use http::StatusCode;
use http_body_util::BodyExt as _;
use serde_json::json;
use tower::ServiceExt as _;

use crate::support::TestApp;

/// The placeholder task id in the events, replaced by a real one here.
const SAMPLE_TASK_ID: &str = "01JAAAAAAAAAAAAAAAAAAAAAAA";

fn expected_status(binary: &str) -> StatusCode {
    match binary {
        "user-signup" | "task-create" => StatusCode::CREATED,
        "session-delete" | "user-me-delete" | "task-delete" => StatusCode::NO_CONTENT,
        _ => StatusCode::OK,
    }
}

#[tokio::test]
async fn every_sample_event_invokes_its_function() {
    let events = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    for operation in todo_local::operations() {
        let path = events.join(format!("{}.json", operation.binary));
        let template = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing sample event {}", path.display()));
        let app = TestApp::spawn();
        let mut event = template.clone();
        if operation.binary != "user-signup" {
            let account = app.sign_up("ada@example.com").await;
            let task = app
                .create_task(&account, json!({"title": "sample", "due": "2027-01-31T09:00:00Z", "recurrence": {"freq": "monthly"}}))
                .await;
            event = event
                .replace("REPLACE_WITH_ACCESS_TOKEN", &account.access_token)
                .replace("REPLACE_WITH_REFRESH_TOKEN", &account.refresh_token)
                .replace(SAMPLE_TASK_ID, task["id"].as_str().unwrap());
        }
        let request =
            lambda_http::request::from_str(&event).unwrap_or_else(|e| panic!("{} is not an API Gateway event: {e}", operation.binary));
        let response = operation.router(app.app.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(status, expected_status(operation.binary), "{}: {}", operation.binary, String::from_utf8_lossy(&body));
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
