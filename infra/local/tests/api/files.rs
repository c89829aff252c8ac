//! The storage service end to end on the local server: upload URL → PUT bytes → arrival →
//! download, with isolation, bad input and cascades.

use http::{Method, StatusCode};
use serde_json::{Value, json};
use todo_domain::model::{FileId, TaskId, UserId};
use todo_domain::ports::{ObjectKey, PageRequest};

use crate::support::{Account, BASE_URL, Reply, TestApp};

fn path_of(url: &str) -> &str {
    url.strip_prefix(BASE_URL).expect("a URL of this server")
}

async fn task(app: &TestApp, account: &Account) -> String {
    app.create_task(account, json!({"title": "with attachments"})).await["id"].as_str().unwrap().to_owned()
}

async fn request_upload(app: &TestApp, account: &Account, task: &str, body: Value) -> Reply {
    app.call(Method::POST, &format!("/lists/{}/tasks/{task}/files", account.id), Some(&account.access_token), Some(body)).await
}

/// PUTs `bytes` to an upload answer's URL with the headers it names.
pub(crate) async fn upload(app: &TestApp, answer: &Value, bytes: &[u8]) -> Reply {
    let upload = &answer["upload"];
    let headers: Vec<(&str, &str)> = upload["headers"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| *name != "content-length")
        .map(|(name, value)| (name.as_str(), value.as_str().unwrap()))
        .collect();
    app.send(TestApp::request(Method::PUT, path_of(upload["url"].as_str().unwrap()), None, &headers, Some(bytes.to_vec()))).await
}

fn object_key(account: &Account, task: &str, file: &str) -> ObjectKey {
    ObjectKey::for_file(UserId::parse(&account.id).unwrap(), TaskId::parse(task).unwrap(), file)
}

#[tokio::test]
async fn upload_arrive_download_and_delete() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let task = task(&app, &ada).await;
    let bytes = b"%PDF-1.7 pretend this is a report\n";
    let answer =
        request_upload(&app, &ada, &task, json!({"name": "Q1 report.pdf", "content_type": "application/pdf", "size": bytes.len()})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:#}", answer.body);
    let file = &answer.body["file"];
    let file_id = file["id"].as_str().unwrap().to_owned();
    assert_eq!(answer.header("location"), Some(format!("/lists/{}/tasks/{task}/files/{file_id}", ada.id).as_str()));
    assert_eq!(file["status"], "pending");
    assert_eq!(file["name"], "Q1 report.pdf");
    assert_eq!(answer.body["upload"]["method"], "PUT");
    assert_eq!(answer.body["upload"]["headers"]["content-type"], "application/pdf");
    assert!(answer.body["upload"]["expires_at"].is_string());
    assert!(!answer.body["upload"]["url"].as_str().unwrap().contains("report"), "keys are ids, never names");

    let path = format!("/lists/{}/tasks/{task}/files/{file_id}", ada.id);
    let pending = app.call(Method::GET, &path, Some(&ada.access_token), None).await;
    assert_eq!(pending.body["status"], "pending");
    assert!(pending.body.get("download").is_none(), "no download before the bytes arrive");

    assert_eq!(upload(&app, &answer.body, bytes).await.status, StatusCode::OK);
    let available = app.call(Method::GET, &path, Some(&ada.access_token), None).await;
    assert_eq!(available.body["status"], "available", "{:#}", available.body);
    assert_eq!(available.body["size"], bytes.len());
    assert!(available.body["uploaded_at"].is_string());
    let download = available.body["download"]["url"].as_str().unwrap();
    let fetched = app.send(TestApp::request(Method::GET, path_of(download), None, &[], None)).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body, Value::String(String::from_utf8(bytes.to_vec()).unwrap()));
    assert_eq!(fetched.header("content-disposition"), Some("attachment; filename=\"Q1 report.pdf\"; filename*=UTF-8''Q1%20report.pdf"));

    let listed = app.call(Method::GET, &format!("/lists/{}/tasks/{task}/files", ada.id), Some(&ada.access_token), None).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["next_cursor"], Value::Null);

    assert_eq!(app.call(Method::DELETE, &path, Some(&ada.access_token), None).await.status, StatusCode::NO_CONTENT);
    app.call(Method::GET, &path, Some(&ada.access_token), None).await.assert_problem(StatusCode::NOT_FOUND, None);
    let gone = app.send(TestApp::request(Method::GET, path_of(download), None, &[], None)).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "the download URL stops working");
    assert!(app.app.stores.blobs.head(&object_key(&ada, &task, &file_id)).await.unwrap().is_none());
}

#[tokio::test]
async fn a_duplicate_arrival_changes_nothing_and_an_orphan_is_removed() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let task = task(&app, &ada).await;
    let answer = request_upload(&app, &ada, &task, json!({"name": "a.txt", "content_type": "text/plain", "size": 3})).await;
    assert_eq!(upload(&app, &answer.body, b"abc").await.status, StatusCode::OK);
    let key = object_key(&ada, &task, answer.body["file"]["id"].as_str().unwrap());
    let ids = (
        UserId::parse(&ada.id).unwrap(),
        TaskId::parse(&task).unwrap(),
        FileId::parse(answer.body["file"]["id"].as_str().unwrap()).unwrap(),
    );
    let first = app.app.stores.files.get_file(ids.1, ids.2).await.unwrap();
    let again = todo_domain::usecases::files::complete_upload(&app.app, &key).await.unwrap();
    assert_eq!(again, todo_domain::usecases::files::Arrival::Duplicate);
    let after = app.app.stores.files.get_file(ids.1, ids.2).await.unwrap();
    assert_eq!(first, after);

    // An object nobody's metadata names is removed on arrival.
    let stray = object_key(&ada, &task, &FileId::generate().to_string());
    let spec = todo_domain::ports::UploadSpec { content_type: "text/plain".to_owned(), content_length: 1 };
    let url = app
        .app
        .stores
        .blobs
        .presign_put(&stray, &spec, std::time::Duration::from_secs(60), todo_domain::model::Timestamp::from_datetime(chrono::Utc::now()))
        .await
        .unwrap();
    let put =
        app.send(TestApp::request(Method::PUT, path_of(&url.url), None, &[("content-type", "text/plain")], Some(b"x".to_vec()))).await;
    assert_eq!(put.status, StatusCode::OK);
    assert!(app.app.stores.blobs.head(&stray).await.unwrap().is_none(), "orphan removed");
}

#[tokio::test]
async fn another_users_task_and_files_are_not_found_on_every_route() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let task = task(&app, &ada).await;
    let answer = request_upload(&app, &ada, &task, json!({"name": "a.txt", "content_type": "text/plain", "size": 3})).await;
    upload(&app, &answer.body, b"abc").await;
    let file = answer.body["file"]["id"].as_str().unwrap();
    let bob_token = Some(bob.access_token.as_str());
    request_upload(&app, &bob, &task, json!({"name": "b.txt", "content_type": "text/plain", "size": 3}))
        .await
        .assert_problem(StatusCode::NOT_FOUND, None);
    // Through Ada's list (Bob is no member) and through his own (the task is not in it).
    for list in [&ada.id, &bob.id] {
        let files = format!("/lists/{list}/tasks/{task}/files");
        app.call(Method::POST, &files, bob_token, Some(json!({"name": "b.txt", "content_type": "text/plain", "size": 3})))
            .await
            .assert_problem(StatusCode::NOT_FOUND, None);
        app.call(Method::GET, &files, bob_token, None).await.assert_problem(StatusCode::NOT_FOUND, None);
        app.call(Method::GET, &format!("{files}/{file}"), bob_token, None).await.assert_problem(StatusCode::NOT_FOUND, None);
        app.call(Method::DELETE, &format!("{files}/{file}"), bob_token, None).await.assert_problem(StatusCode::NOT_FOUND, None);
    }
    let still = app.call(Method::GET, &format!("/lists/{}/tasks/{task}/files/{file}", ada.id), Some(&ada.access_token), None).await;
    assert_eq!(still.body["status"], "available");
}

#[tokio::test]
async fn bad_file_requests_name_the_field_and_store_nothing() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let task = task(&app, &ada).await;
    let cases = [
        (json!({"name": "", "content_type": "text/plain", "size": 1}), "name"),
        (json!({"name": "n".repeat(256), "content_type": "text/plain", "size": 1}), "name"),
        (json!({"name": "bell\u{7}.txt", "content_type": "text/plain", "size": 1}), "name"),
        (json!({"name": "../../etc/passwd", "content_type": "text/plain", "size": 1}), "name"),
        (json!({"name": "a.txt", "content_type": "nonsense", "size": 1}), "content_type"),
        (json!({"name": "a.html", "content_type": "text/html", "size": 1}), "content_type"),
        (json!({"name": "a.txt", "content_type": "text/plain", "size": 0}), "size"),
        (json!({"name": "a.txt", "content_type": "text/plain", "size": -5}), "size"),
        (json!({"name": "a.txt", "content_type": "text/plain", "size": 26 * 1024 * 1024}), "size"),
        (json!({"name": "a.txt", "content_type": "text/plain", "size": 1.5}), "size"),
        (json!({"name": "a.txt", "content_type": "text/plain", "size": "1"}), "size"),
        (json!({"name": "a.txt", "content_type": "text/plain"}), "size"),
        (json!({"name": "a.txt", "content_type": "text/plain", "size": 1, "key": "users/x"}), "key"),
    ];
    for (body, field) in cases {
        let reply = request_upload(&app, &ada, &task, body.clone()).await;
        assert!(reply.status.is_client_error(), "{body}");
        reply.assert_problem(reply.status, Some(field));
    }
    let unknown_task = TaskId::generate();
    request_upload(&app, &ada, &unknown_task.to_string(), json!({"name": "a.txt", "content_type": "text/plain", "size": 1}))
        .await
        .assert_problem(StatusCode::NOT_FOUND, None);
    request_upload(&app, &ada, "not-a-task", json!({"name": "a.txt", "content_type": "text/plain", "size": 1}))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("task_id"));
    app.call(Method::GET, &format!("/lists/{}/tasks/{task}/files/not-a-file", ada.id), Some(&ada.access_token), None)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("file_id"));
    app.call(Method::GET, &format!("/lists/{}/tasks/{task}/files?limit=0", ada.id), Some(&ada.access_token), None)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("limit"));
    app.call(Method::GET, &format!("/lists/{}/tasks/{task}/files?cursor=forged", ada.id), Some(&ada.access_token), None)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("cursor"));
    let listed = app.call(Method::GET, &format!("/lists/{}/tasks/{task}/files", ada.id), Some(&ada.access_token), None).await;
    assert_eq!(listed.body["items"], json!([]), "nothing stored");
}

#[tokio::test]
async fn a_task_holds_a_limited_number_of_files_and_lists_page_through_them() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let task = task(&app, &ada).await;
    let mut ids = Vec::new();
    for n in 0..20 {
        let reply = request_upload(&app, &ada, &task, json!({"name": format!("{n}.txt"), "content_type": "text/plain", "size": 1})).await;
        assert_eq!(reply.status, StatusCode::CREATED);
        ids.push(reply.body["file"]["id"].as_str().unwrap().to_owned());
    }
    request_upload(&app, &ada, &task, json!({"name": "21.txt", "content_type": "text/plain", "size": 1}))
        .await
        .assert_problem(StatusCode::CONFLICT, None);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/lists/{}/tasks/{task}/files?limit=6&cursor={cursor}", ada.id),
            None => format!("/lists/{}/tasks/{task}/files?limit=6", ada.id),
        };
        let page = app.call(Method::GET, &path, Some(&ada.access_token), None).await;
        seen.extend(page.body["items"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    // A cursor for one task's files is no cursor for another's.
    let other = self::task(&app, &ada).await;
    let page = app.call(Method::GET, &format!("/lists/{}/tasks/{task}/files?limit=6", ada.id), Some(&ada.access_token), None).await;
    let cursor = page.body["next_cursor"].as_str().unwrap();
    app.call(Method::GET, &format!("/lists/{}/tasks/{other}/files?cursor={cursor}", ada.id), Some(&ada.access_token), None)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("cursor"));
}

#[tokio::test]
async fn deleting_a_task_or_the_account_removes_objects_and_metadata() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let _owner = UserId::parse(&ada.id).unwrap();
    let mut keys = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let task = task(&app, &ada).await;
        for n in 0..3 {
            let answer =
                request_upload(&app, &ada, &task, json!({"name": format!("{n}.txt"), "content_type": "text/plain", "size": 2})).await;
            assert_eq!(upload(&app, &answer.body, b"hi").await.status, StatusCode::OK);
            keys.push((task.clone(), object_key(&ada, &task, answer.body["file"]["id"].as_str().unwrap())));
        }
        tasks.push(task);
    }
    assert_eq!(
        app.call(Method::DELETE, &format!("/lists/{}/tasks/{}", ada.id, tasks[0]), Some(&ada.access_token), None).await.status,
        StatusCode::NO_CONTENT
    );
    for (task, key) in &keys {
        let expect_gone = *task == tasks[0];
        assert_eq!(app.app.stores.blobs.head(key).await.unwrap().is_none(), expect_gone, "{}", key.as_str());
    }
    let left = app.app.stores.files.list_files(TaskId::parse(&tasks[0]).unwrap(), PageRequest { limit: 100, after: None }).await.unwrap();
    assert!(left.items.is_empty());

    assert_eq!(
        app.call(Method::DELETE, "/users/me", Some(&ada.access_token), Some(json!({"password": crate::support::PASSWORD}))).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(todo_domain::usecases::users::finish_pending_deletions(&app.app, 10).await.unwrap(), (1, false));
    for (_, key) in &keys {
        assert!(app.app.stores.blobs.head(key).await.unwrap().is_none(), "{} left behind", key.as_str());
    }
    let left = app.app.stores.files.list_files(TaskId::parse(&tasks[1]).unwrap(), PageRequest { limit: 100, after: None }).await.unwrap();
    assert!(left.items.is_empty(), "file metadata left behind");
}

#[tokio::test]
async fn a_stale_if_match_on_task_delete_keeps_its_files() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let task = task(&app, &ada).await;
    let answer = request_upload(&app, &ada, &task, json!({"name": "keep.txt", "content_type": "text/plain", "size": 2})).await;
    assert_eq!(upload(&app, &answer.body, b"ok").await.status, StatusCode::OK);
    let key = object_key(&ada, &task, answer.body["file"]["id"].as_str().unwrap());
    app.call(Method::PATCH, &format!("/lists/{}/tasks/{task}", ada.id), Some(&ada.access_token), Some(json!({"title": "renamed"}))).await;
    let stale = app
        .call_with(Method::DELETE, &format!("/lists/{}/tasks/{task}", ada.id), Some(&ada.access_token), &[("if-match", "\"1\"")], None)
        .await;
    stale.assert_problem(StatusCode::PRECONDITION_FAILED, None);
    assert!(app.app.stores.blobs.head(&key).await.unwrap().is_some(), "a refused delete deleted nothing");
    let current = app
        .call_with(Method::DELETE, &format!("/lists/{}/tasks/{task}", ada.id), Some(&ada.access_token), &[("if-match", "\"2\"")], None)
        .await;
    assert_eq!(current.status, StatusCode::NO_CONTENT);
    assert!(app.app.stores.blobs.head(&key).await.unwrap().is_none());
}

/// An upload URL lives 15 minutes; using it again after the file became available would
/// leave the recorded size and ETag describing bytes no longer there. The same bytes again
/// change nothing; other bytes remove the file.
#[tokio::test]
async fn an_upload_url_used_again_with_other_bytes_removes_the_file() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let task = task(&app, &ada).await;
    let answer = request_upload(&app, &ada, &task, json!({"name": "a.txt", "content_type": "text/plain", "size": 3})).await;
    let file_path = format!("/lists/{}/tasks/{task}/files/{}", ada.id, answer.body["file"]["id"].as_str().unwrap());
    assert_eq!(upload(&app, &answer.body, b"abc").await.status, StatusCode::OK);
    assert_eq!(upload(&app, &answer.body, b"abc").await.status, StatusCode::OK, "the same bytes again");
    let same = app.call(Method::GET, &file_path, Some(&ada.access_token), None).await;
    assert_eq!((same.status, same.body["status"].as_str()), (StatusCode::OK, Some("available")));

    assert_eq!(upload(&app, &answer.body, b"xyz").await.status, StatusCode::OK, "S3 takes the PUT; its event acts after");
    let gone = app.call(Method::GET, &file_path, Some(&ada.access_token), None).await;
    gone.assert_problem(StatusCode::NOT_FOUND, None);
    let key = object_key(&ada, &task, answer.body["file"]["id"].as_str().unwrap());
    assert!(app.app.stores.blobs.head(&key).await.unwrap().is_none(), "the replaced bytes are gone too");
}
