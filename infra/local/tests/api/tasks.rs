use std::collections::HashSet;

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Account, TestApp};

fn id(task: &Value) -> &str {
    task["id"].as_str().unwrap()
}

#[tokio::test]
async fn create_answers_201_with_location_etag_and_the_task() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let reply = app
        .call(
            Method::POST,
            &format!("/lists/{}/tasks", ada.id),
            Some(&ada.access_token),
            Some(json!({"title": "  Buy milk ", "notes": "two\nlitres", "due": "2027-01-01T10:00:00+01:00", "priority": 2, "tags": ["Home", "home", "errand"], "reminder_at": "2027-01-01T08:00:00Z"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let task = &reply.body;
    assert_eq!(reply.header("location"), Some(format!("/lists/{}/tasks/{}", ada.id, id(task)).as_str()));
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_eq!(task["title"], "Buy milk");
    assert_eq!(task["list_id"], ada.id.as_str(), "in the creator's Inbox, whose id is the account's");
    assert_eq!(task["created_by"], ada.id.as_str());
    assert_eq!(task["notes"], "two\nlitres");
    assert_eq!(task["status"], "open");
    assert_eq!(task["completed_at"], Value::Null);
    assert_eq!(task["due"], "2027-01-01T09:00:00.000Z");
    assert_eq!(task["priority"], 2);
    assert_eq!(task["tags"], json!(["home", "errand"]));
    assert_eq!(task["recurrence"], Value::Null);
    assert_eq!(task["reminder_at"], "2027-01-01T08:00:00.000Z");

    let fetched = app.call(Method::GET, &format!("/lists/{}/tasks/{}", ada.id, id(task)), Some(&ada.access_token), None).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.header("etag"), Some("\"1\""));
    assert_eq!(&fetched.body, task);
}

#[tokio::test]
async fn pages_return_every_task_exactly_once_in_creation_order() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let mut created = Vec::new();
    for n in 0..23 {
        created.push(id(&app.create_task(&ada, json!({"title": format!("task {n}")})).await).to_owned());
    }
    let seen: Vec<String> = app.all_tasks(&ada, "limit=5").await.iter().map(|t| id(t).to_owned()).collect();
    assert_eq!(seen, created);
    let first = app.call(Method::GET, &format!("/lists/{}/tasks", ada.id), Some(&ada.access_token), None).await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 20, "default page size");
    let exact = app.call(Method::GET, &format!("/lists/{}/tasks?limit=23", ada.id), Some(&ada.access_token), None).await;
    assert_eq!(exact.body["next_cursor"], Value::Null, "no cursor after the last page");
}

#[tokio::test]
async fn filters_by_status_tag_and_due_range() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let early = app.create_task(&ada, json!({"title": "early", "due": "2027-01-01T00:00:00Z", "tags": ["work"]})).await;
    let late = app.create_task(&ada, json!({"title": "late", "due": "2027-06-01T00:00:00Z", "tags": ["home"]})).await;
    let undated = app.create_task(&ada, json!({"title": "undated", "tags": ["work", "home"]})).await;
    let done = app
        .call(
            Method::PATCH,
            &format!("/lists/{}/tasks/{}", ada.id, id(&late)),
            Some(&ada.access_token),
            Some(json!({"status": "completed"})),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);

    let titles = |items: Vec<Value>| items.iter().map(|t| t["title"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(titles(app.all_tasks(&ada, "status=open").await), ["early", "undated"]);
    assert_eq!(titles(app.all_tasks(&ada, "status=completed").await), ["late"]);
    assert_eq!(titles(app.all_tasks(&ada, "status=all").await), ["early", "late", "undated"]);
    assert_eq!(titles(app.all_tasks(&ada, "tag=WORK").await), ["early", "undated"]);
    assert_eq!(titles(app.all_tasks(&ada, "due_before=2027-03-01T00:00:00Z").await), ["early"]);
    assert_eq!(titles(app.all_tasks(&ada, "due_after=2027-03-01T00:00:00Z").await), ["late"]);
    assert_eq!(titles(app.all_tasks(&ada, "due_after=2027-01-01T00:00:00Z&due_before=2027-06-01T00:00:00Z").await), ["early"]);
    assert_eq!(titles(app.all_tasks(&ada, "tag=home&status=open&limit=1").await), ["undated"]);
    let _ = (early, undated);
}

#[tokio::test]
async fn another_users_task_is_not_found_on_every_verb_and_stays_unchanged() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let task = app.create_task(&ada, json!({"title": "private"})).await;
    let path = format!("/lists/{}/tasks/{}", task["list_id"].as_str().unwrap(), id(&task));
    let bob_token = Some(bob.access_token.as_str());
    app.call(Method::GET, &path, bob_token, None).await.assert_problem(StatusCode::NOT_FOUND, None);
    app.call(Method::PATCH, &path, bob_token, Some(json!({"title": "mine now"}))).await.assert_problem(StatusCode::NOT_FOUND, None);
    app.call_with(Method::PATCH, &path, bob_token, &[("if-match", "\"1\"")], Some(json!({"title": "mine now"})))
        .await
        .assert_problem(StatusCode::NOT_FOUND, None);
    app.call(Method::DELETE, &path, bob_token, None).await.assert_problem(StatusCode::NOT_FOUND, None);
    assert!(app.all_tasks(&bob, "").await.is_empty());
    let after = app.call(Method::GET, &path, Some(&ada.access_token), None).await;
    assert_eq!(after.body, task);
}

#[tokio::test]
async fn a_cursor_is_bound_to_its_user_and_tamper_evident() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    for n in 0..3 {
        app.create_task(&ada, json!({"title": format!("ada {n}")})).await;
    }
    let page = app.call(Method::GET, &format!("/lists/{}/tasks?limit=1", ada.id), Some(&ada.access_token), None).await;
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    let stolen = app.call(Method::GET, &format!("/lists/{}/tasks?cursor={cursor}", bob.id), Some(&bob.access_token), None).await;
    stolen.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("cursor"));
    let mut tampered = cursor.clone().into_bytes();
    tampered[2] = if tampered[2] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let reply = app.call(Method::GET, &format!("/lists/{}/tasks?cursor={tampered}", ada.id), Some(&ada.access_token), None).await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("cursor"));
}

async fn patch(app: &TestApp, account: &Account, task: &Value, body: Value) -> crate::support::Reply {
    app.call(Method::PATCH, &format!("/lists/{}/tasks/{}", account.id, id(task)), Some(&account.access_token), Some(body)).await
}

#[tokio::test]
async fn merge_patch_sets_and_clears_fields_and_bumps_the_etag() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let task =
        app.create_task(&ada, json!({"title": "draft", "notes": "n", "priority": 1, "tags": ["a"], "due": "2027-01-01T00:00:00Z"})).await;
    let reply = patch(&app, &ada, &task, json!({"title": "final", "notes": null, "priority": null, "tags": null, "due": null})).await;
    assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
    assert_eq!(reply.header("etag"), Some("\"2\""));
    assert_eq!(reply.body["title"], "final");
    assert_eq!(reply.body["notes"], Value::Null);
    assert_eq!(reply.body["priority"], Value::Null);
    assert_eq!(reply.body["tags"], json!([]));
    assert_eq!(reply.body["due"], Value::Null);
    // An empty patch changes nothing, not even the version.
    let same = patch(&app, &ada, &task, json!({})).await;
    assert_eq!(same.header("etag"), Some("\"2\""));
    patch(&app, &ada, &task, json!({"title": null})).await.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("title"));
}

#[tokio::test]
async fn completing_sets_completed_at_and_reopening_clears_it() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let task = app.create_task(&ada, json!({"title": "once"})).await;
    let done = patch(&app, &ada, &task, json!({"status": "completed"})).await;
    assert_eq!(done.body["status"], "completed");
    assert!(done.body["completed_at"].is_string());
    let reopened = patch(&app, &ada, &task, json!({"status": "open"})).await;
    assert_eq!(reopened.body["status"], "open");
    assert_eq!(reopened.body["completed_at"], Value::Null);
    assert_eq!(app.all_tasks(&ada, "").await.len(), 1, "no occurrence for a one-off task");
}

#[tokio::test]
async fn completing_a_recurring_task_creates_its_next_occurrence() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let task = app
        .create_task(&ada, json!({"title": "rent", "due": "2027-01-31T09:00:00Z", "reminder_at": "2027-01-30T09:00:00Z", "recurrence": {"freq": "monthly", "interval": 1}, "tags": ["bills"]}))
        .await;
    let done = patch(&app, &ada, &task, json!({"status": "completed"})).await;
    assert_eq!(done.status, StatusCode::OK);
    // Completing again (a retry) must not create a second occurrence.
    patch(&app, &ada, &task, json!({"status": "completed"})).await;
    let open = app.all_tasks(&ada, "status=open").await;
    assert_eq!(open.len(), 1, "{open:#?}");
    let next = &open[0];
    assert_ne!(id(next), id(&task));
    assert_eq!(next["title"], "rent");
    assert_eq!(next["due"], "2027-02-28T09:00:00.000Z");
    assert_eq!(next["reminder_at"], "2027-02-27T09:00:00.000Z");
    assert_eq!(next["recurrence"], json!({"freq": "monthly", "interval": 1}));
    assert_eq!(next["tags"], json!(["bills"]));
}

#[tokio::test]
async fn a_stale_if_match_fails_the_precondition_and_changes_nothing() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let task = app.create_task(&ada, json!({"title": "v1"})).await;
    let path = format!("/lists/{}/tasks/{}", task["list_id"].as_str().unwrap(), id(&task));
    let token = Some(ada.access_token.as_str());
    let ok = app.call_with(Method::PATCH, &path, token, &[("if-match", "\"1\"")], Some(json!({"title": "v2"}))).await;
    assert_eq!(ok.status, StatusCode::OK);
    let stale = app.call_with(Method::PATCH, &path, token, &[("if-match", "\"1\"")], Some(json!({"title": "v3"}))).await;
    stale.assert_problem(StatusCode::PRECONDITION_FAILED, None);
    let garbage = app.call_with(Method::PATCH, &path, token, &[("if-match", "whatever")], Some(json!({"title": "v3"}))).await;
    garbage.assert_problem(StatusCode::PRECONDITION_FAILED, None);
    app.call_with(Method::DELETE, &path, token, &[("if-match", "\"1\"")], None).await.assert_problem(StatusCode::PRECONDITION_FAILED, None);
    let now = app.call(Method::GET, &path, token, None).await;
    assert_eq!(now.body["title"], "v2");
    let deleted = app.call_with(Method::DELETE, &path, token, &[("if-match", "\"2\"")], None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.call(Method::GET, &path, token, None).await.assert_problem(StatusCode::NOT_FOUND, None);
    app.call(Method::DELETE, &path, token, None).await.assert_problem(StatusCode::NOT_FOUND, None);
}

#[tokio::test]
async fn of_sixteen_concurrent_if_match_writers_exactly_one_wins() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let task = app.create_task(&ada, json!({"title": "contended"})).await;
    let path = format!("/lists/{}/tasks/{}", task["list_id"].as_str().unwrap(), id(&task));
    let writers = (0..16).map(|n| {
        app.call_with(
            Method::PATCH,
            &path,
            Some(&ada.access_token),
            &[("if-match", "\"1\"")],
            Some(json!({"title": format!("writer {n}")})),
        )
    });
    let replies = futures::future::join_all(writers).await;
    let ok = replies.iter().filter(|r| r.status == StatusCode::OK).count();
    let failed = replies.iter().filter(|r| r.status == StatusCode::PRECONDITION_FAILED).count();
    assert_eq!((ok, failed), (1, 15));
    let winner = replies.iter().find(|r| r.status == StatusCode::OK).unwrap();
    let now = app.call(Method::GET, &path, Some(&ada.access_token), None).await;
    assert_eq!(now.body["title"], winner.body["title"]);
    assert_eq!(now.header("etag"), Some("\"2\""));
}

#[tokio::test]
async fn an_idempotency_key_replays_the_same_task() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let token = Some(ada.access_token.as_str());
    let key = [("idempotency-key", "create-42")];
    let first =
        app.call_with(Method::POST, &format!("/lists/{}/tasks", ada.id), token, &key, Some(json!({"title": "once", "priority": 1}))).await;
    assert_eq!(first.status, StatusCode::CREATED);
    // Same body, keys in another order: the same request.
    let retry =
        app.call_with(Method::POST, &format!("/lists/{}/tasks", ada.id), token, &key, Some(json!({"priority": 1, "title": "once"}))).await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.header("location"), first.header("location"));
    let different = app.call_with(Method::POST, &format!("/lists/{}/tasks", ada.id), token, &key, Some(json!({"title": "twice"}))).await;
    different.assert_problem(StatusCode::CONFLICT, None);
    assert_eq!(app.all_tasks(&ada, "").await.len(), 1);
    // Keys are per user: Bob's same key is his own.
    let bob = app.sign_up("bob@example.com").await;
    let bobs = app
        .call_with(
            Method::POST,
            &format!("/lists/{}/tasks", bob.id),
            Some(&bob.access_token),
            &key,
            Some(json!({"title": "once", "priority": 1})),
        )
        .await;
    assert_eq!(bobs.status, StatusCode::CREATED);
    assert_ne!(bobs.body["id"], first.body["id"]);
}

#[tokio::test]
async fn eight_concurrent_idempotent_creates_make_one_task() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let tasks = format!("/lists/{}/tasks", ada.id);
    let attempts = (0..8).map(|_| {
        app.call_with(
            Method::POST,
            &tasks,
            Some(&ada.access_token),
            &[("idempotency-key", "retry-me")],
            Some(json!({"title": "exactly once"})),
        )
    });
    let replies = futures::future::join_all(attempts).await;
    assert!(replies.iter().all(|r| r.status == StatusCode::CREATED), "{replies:#?}");
    let ids: HashSet<&str> = replies.iter().map(|r| id(&r.body)).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(app.all_tasks(&ada, "").await.len(), 1);
}

#[tokio::test]
async fn every_operation_is_routed_for_its_method() {
    let app = TestApp::spawn();
    let binaries: HashSet<&str> = todo_local::operations().map(|op| op.binary).collect();
    assert_eq!(binaries.len(), todo_local::operations().count(), "binary names are unique");
    for operation in todo_local::operations() {
        let path = operation.path.replace("{id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV");
        let reply = app.call(operation.method.clone(), &path, None, None).await;
        assert_ne!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{operation:?}");
        assert_ne!(reply.status, StatusCode::NOT_FOUND, "{operation:?} {:#}", reply.body);
    }
}
