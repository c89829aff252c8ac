//! Bad input gets a 4xx problem naming the field, and changes nothing.

use base64::Engine as _;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestApp};

/// Each case: a create-task body and the field its problem must name.
fn bad_task_bodies() -> Vec<(Value, &'static str)> {
    vec![
        (json!({}), "title"),
        (json!({"title": ""}), "title"),
        (json!({"title": "   "}), "title"),
        (json!({"title": "x".repeat(201)}), "title"),
        (json!({"title": "bell\u{7}"}), "title"),
        (json!({"title": 5}), "title"),
        (json!({"title": null}), "title"),
        (json!({"title": "ok", "notes": "n".repeat(10_001)}), "notes"),
        (json!({"title": "ok", "notes": "nul\u{0}"}), "notes"),
        (json!({"title": "ok", "due": "tomorrow"}), "due"),
        (json!({"title": "ok", "due": "2027-02-30T10:00:00Z"}), "due"),
        (json!({"title": "ok", "due": "2027-01-01"}), "due"),
        (json!({"title": "ok", "due": 1_700_000_000}), "due"),
        (json!({"title": "ok", "priority": 0}), "priority"),
        (json!({"title": "ok", "priority": 5}), "priority"),
        (json!({"title": "ok", "priority": 1.5}), "priority"),
        (json!({"title": "ok", "priority": "1"}), "priority"),
        (json!({"title": "ok", "priority": 99_999_999_999_999_999_999_u128.to_string().parse::<f64>().unwrap()}), "priority"),
        (json!({"title": "ok", "tags": "home"}), "tags"),
        (json!({"title": "ok", "tags": ["has space"]}), "tags"),
        (json!({"title": "ok", "tags": [""]}), "tags"),
        (json!({"title": "ok", "tags": (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()}), "tags"),
        (json!({"title": "ok", "recurrence": {"freq": "hourly"}}), "recurrence.freq"),
        (json!({"title": "ok", "due": "2027-01-01T00:00:00Z", "recurrence": {"freq": "daily", "interval": 0}}), "recurrence.interval"),
        (json!({"title": "ok", "recurrence": {"freq": "daily"}}), "recurrence"),
        (json!({"title": "ok", "recurrence": {"freq": "daily", "every": 2}}), "recurrence.every"),
        (json!({"title": "ok", "reminder_at": "noon"}), "reminder_at"),
        (json!({"title": "ok", "owner": "someone-else"}), "owner"),
        (json!({"title": "ok", "id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}), "id"),
    ]
}

#[tokio::test]
async fn invalid_task_bodies_name_the_field_and_store_nothing() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    for (body, field) in bad_task_bodies() {
        let reply = app.call(Method::POST, &format!("/lists/{}/tasks", ada.id), Some(&ada.access_token), Some(body.clone())).await;
        assert!(reply.status.is_client_error(), "{body}: {}", reply.status);
        reply.assert_problem(reply.status, Some(field));
    }
    assert!(app.all_tasks(&ada, "").await.is_empty(), "nothing stored");
}

#[tokio::test]
async fn invalid_patches_name_the_field_and_change_nothing() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let task = app.create_task(&ada, json!({"title": "keep", "due": "2027-01-01T00:00:00Z", "recurrence": {"freq": "daily"}})).await;
    let path = format!("/lists/{}/tasks/{}", task["list_id"].as_str().unwrap(), task["id"].as_str().unwrap());
    let cases = [
        (json!({"title": ""}), "title"),
        (json!({"status": "done"}), "status"),
        (json!({"status": null}), "status"),
        (json!({"priority": 7}), "priority"),
        (json!({"due": null}), "recurrence"),
        (json!({"due": "yesterday"}), "due"),
        (json!({"recurrence": {"freq": "daily", "interval": 400}}), "recurrence.interval"),
        (json!({"completed_at": "2027-01-01T00:00:00Z"}), "completed_at"),
        (json!({"title": "ok", "tags": [1]}), "tags[0]"),
    ];
    for (body, field) in cases {
        let reply = app.call(Method::PATCH, &path, Some(&ada.access_token), Some(body.clone())).await;
        assert!(reply.status.is_client_error(), "{body}");
        reply.assert_problem(reply.status, Some(field));
    }
    let after = app.call(Method::GET, &path, Some(&ada.access_token), None).await;
    assert_eq!(after.body, task);
    assert_eq!(after.header("etag"), Some("\"1\""));
}

#[tokio::test]
async fn malformed_bodies_and_media_types_are_refused() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let token = Some(ada.access_token.as_str());
    let tasks = format!("/lists/{}/tasks", ada.id);
    let raw = |body: &[u8], content_type: &'static str| {
        TestApp::request(Method::POST, &tasks, token, &[("content-type", content_type)], Some(body.to_vec()))
    };
    app.send(raw(b"{\"title\": ", "application/json")).await.assert_problem(StatusCode::BAD_REQUEST, None);
    app.send(raw(b"", "application/json")).await.assert_problem(StatusCode::BAD_REQUEST, None);
    app.send(raw(b"[1, 2]", "application/json")).await.assert_problem(StatusCode::BAD_REQUEST, None);
    app.send(raw(b"\"title\"", "application/json")).await.assert_problem(StatusCode::BAD_REQUEST, None);
    app.send(raw(b"{\"title\": \"a\"} trailing", "application/json")).await.assert_problem(StatusCode::BAD_REQUEST, None);
    app.send(raw(b"\xff\xfe", "application/json")).await.assert_problem(StatusCode::BAD_REQUEST, None);
    app.send(raw(b"{\"title\": \"a\"}", "text/plain")).await.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, None);
    let no_type = TestApp::request(Method::POST, &tasks, token, &[("content-type", "")], Some(b"{\"title\":\"a\"}".to_vec()));
    app.send(no_type).await.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, None);
    let huge = format!("{{\"title\": \"big\", \"notes\": \"{}\"}}", "x".repeat(1024 * 1024 + 1));
    app.send(raw(huge.as_bytes(), "application/json")).await.assert_problem(StatusCode::PAYLOAD_TOO_LARGE, None);
    assert!(app.all_tasks(&ada, "").await.is_empty(), "nothing stored");
}

#[tokio::test]
async fn bad_query_parameters_are_named() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let cases = [
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=99999999999999999999", "limit"),
        ("status=done", "status"),
        ("tag=", "tag"),
        ("due_before=soon", "due_before"),
        ("due_after=2027-13-01T00:00:00Z", "due_after"),
        ("cursor=garbage", "cursor"),
        ("cursor=", "cursor"),
        ("cursor=a.b", "cursor"),
        ("colour=red", "colour"),
        ("limit=1&limit=2", "limit"),
    ];
    for (query, field) in cases {
        let reply = app.call(Method::GET, &format!("/lists/{}/tasks?{query}", ada.id), Some(&ada.access_token), None).await;
        assert!(reply.status.is_client_error(), "{query}: {}", reply.status);
        reply.assert_problem(reply.status, Some(field));
    }
}

#[tokio::test]
async fn malformed_and_giant_ids_are_refused() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let giant = "A".repeat(10_000);
    for bad in ["not-an-id", "01ARZ3NDEKTSV4RRFFQ69G5FA!", "ZZZZZZZZZZZZZZZZZZZZZZZZZZ", giant.as_str(), "%00", "%FF%FE", "a%2Fb"] {
        for method in [Method::GET, Method::PATCH, Method::DELETE] {
            let body = (method == Method::PATCH).then(|| json!({"title": "x"}));
            let reply = app.call(method.clone(), &format!("/lists/{}/tasks/{bad}", ada.id), Some(&ada.access_token), body).await;
            assert!(reply.status.is_client_error(), "{method} {bad}: {}", reply.status);
            reply.assert_problem(reply.status, Some("task_id"));
        }
        let reply = app.call(Method::GET, &format!("/lists/{bad}/tasks"), Some(&ada.access_token), None).await;
        reply.assert_problem(reply.status, Some("list_id"));
    }
}

#[tokio::test]
async fn bad_tokens_are_refused_everywhere() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let tasks = format!("/lists/{}/tasks", ada.id);
    let payload = ada.access_token.split('.').nth(1).unwrap();
    let header_none = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let alg_none = format!("{header_none}.{payload}.");
    let mut forged_signature = ada.access_token.clone();
    forged_signature.truncate(forged_signature.len() - 4);
    forged_signature.push_str("AAAA");
    let other_server = {
        let secret = todo_domain::auth::Secret::new(vec![9; 32]).unwrap();
        let tokens = todo_domain::auth::AccessTokens::new(&todo_domain::auth::SigningKeys::single(secret), "todo-api", "todo-api", 900);
        let principal = todo_domain::auth::Principal {
            user_id: todo_domain::model::UserId::parse(&ada.id).unwrap(),
            session_id: todo_domain::model::SessionId::generate(),
        };
        tokens.issue(principal, todo_domain::model::Timestamp::from_datetime(chrono_now())).unwrap()
    };
    let giant = "a".repeat(10_000);
    for token in ["", "garbage", "a.b.c", alg_none.as_str(), forged_signature.as_str(), other_server.as_str(), giant.as_str()] {
        for (method, path) in [
            (Method::GET, "/users/me"),
            (Method::GET, "/lists"),
            (Method::GET, &tasks),
            (Method::POST, &tasks),
            (Method::DELETE, "/sessions/current"),
        ] {
            let body = (method == Method::POST).then(|| json!({"title": "x"}));
            let reply = app.call(method.clone(), path, Some(token), body).await;
            reply.assert_problem(StatusCode::UNAUTHORIZED, None);
            assert!(reply.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")));
        }
    }
    let basic = TestApp::request(Method::GET, "/users/me", None, &[("authorization", "Basic YTpi")], None);
    app.send(basic).await.assert_problem(StatusCode::UNAUTHORIZED, None);
    app.call(Method::GET, "/users/me", None, None).await.assert_problem(StatusCode::UNAUTHORIZED, None);
    assert!(app.all_tasks(&ada, "").await.is_empty(), "nothing stored");
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let principal = app.app.access_tokens.verify(&ada.access_token).unwrap();
    let an_hour_ago = todo_domain::model::Timestamp::from_datetime(chrono_now() - chrono::Duration::hours(1));
    let expired = app.app.access_tokens.issue(principal, an_hour_ago).unwrap();
    let reply = app.call(Method::GET, "/users/me", Some(&expired), None).await;
    reply.assert_problem(StatusCode::UNAUTHORIZED, None);
    assert!(reply.body["detail"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn invalid_sign_ups_name_the_field_and_create_no_account() {
    let app = TestApp::spawn();
    let cases = [
        (json!({"password": PASSWORD}), "email"),
        (json!({"email": "ada@example.com"}), "password"),
        (json!({"email": "not-an-email", "password": PASSWORD}), "email"),
        (json!({"email": format!("{}@example.com", "a".repeat(300)), "password": PASSWORD}), "email"),
        (json!({"email": "ada@example.com", "password": "short"}), "password"),
        (json!({"email": "ada@example.com", "password": "p".repeat(129)}), "password"),
        (json!({"email": "ada@example.com", "password": PASSWORD, "name": ""}), "name"),
        (json!({"email": "ada@example.com", "password": PASSWORD, "name": "n".repeat(101)}), "name"),
        (json!({"email": "ada@example.com", "password": PASSWORD, "admin": true}), "admin"),
        (json!({"email": 42, "password": PASSWORD}), "email"),
    ];
    for (body, field) in cases {
        let reply = app.call(Method::POST, "/users", None, Some(body.clone())).await;
        assert!(reply.status.is_client_error(), "{body}");
        reply.assert_problem(reply.status, Some(field));
    }
    let email = todo_domain::model::Email::parse("ada@example.com").unwrap();
    assert!(app.app.stores.users.find_user_by_email(&email).await.unwrap().is_none(), "nothing stored");
    let reply = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": "garbage"}))).await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("refresh_token"));
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_with_problems() {
    let app = TestApp::spawn();
    app.call(Method::GET, "/nowhere", None, None).await.assert_problem(StatusCode::NOT_FOUND, None);
    app.call(Method::PUT, "/lists", None, None).await.assert_problem(StatusCode::METHOD_NOT_ALLOWED, None);
    let task = "/lists/01ARZ3NDEKTSV4RRFFQ69G5FAV/tasks/01ARZ3NDEKTSV4RRFFQ69G5FAV";
    app.call(Method::POST, task, None, None).await.assert_problem(StatusCode::METHOD_NOT_ALLOWED, None);
    app.call(Method::POST, "/tasks", None, None).await.assert_problem(StatusCode::METHOD_NOT_ALLOWED, None);
}
