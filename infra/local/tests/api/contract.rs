//! What schemathesis found when it first ran the API against its OpenAPI document, each kept
//! as a regression test (`cargo xtask fuzz`; a quick pass in `cargo xtask test`), and the
//! text rules the document states exactly (`todo_http::openapi`).

use http::{Method, StatusCode};
use serde_json::json;

use crate::support::{PASSWORD, TestApp};

/// JSON (and JSON Schema's `integer`) has no integer/float divide: `2.0` is the integer 2.
#[tokio::test]
async fn whole_numbers_written_with_a_decimal_point_are_integers() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let task = app.create_task(&ada, json!({"title": "Pay rent", "priority": 2.0})).await;
    assert_eq!(task["priority"], 2);
    let path = format!("/lists/{}/tasks/{}/files", ada.id, task["id"].as_str().unwrap());
    let body = json!({"name": "lease.pdf", "content_type": "application/pdf", "size": 94103.0});
    let reply = app.call(Method::POST, &path, Some(&ada.access_token), Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
    assert_eq!(reply.body["file"]["size"], 94103);
    for fractional in [json!(2.5), json!(1e300)] {
        let reply = app
            .call(
                Method::POST,
                &format!("/lists/{}/tasks", ada.id),
                Some(&ada.access_token),
                Some(json!({"title": "x", "priority": fractional})),
            )
            .await;
        reply.assert_problem(StatusCode::BAD_REQUEST, Some("priority"));
    }
}

/// A malformed `If-Match` used to answer 412 before the body was read, hiding a bad body.
#[tokio::test]
async fn a_bad_body_is_reported_before_an_unusable_if_match() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let task = app.create_task(&ada, json!({"title": "keep"})).await;
    let path = format!("/lists/{}/tasks/{}", ada.id, task["id"].as_str().unwrap());
    for if_match in ["", "nonsense", "\"99999999999999999999999\""] {
        let headers = [("if-match", if_match)];
        let bad = app.call_with(Method::PATCH, &path, Some(&ada.access_token), &headers, Some(json!({"priority": 143_617_983}))).await;
        bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("priority"));
        let good = app.call_with(Method::PATCH, &path, Some(&ada.access_token), &headers, Some(json!({"title": "changed"}))).await;
        good.assert_problem(StatusCode::PRECONDITION_FAILED, None);
    }
    let unchanged = app.call(Method::GET, &path, Some(&ada.access_token), None).await;
    assert_eq!(unchanged.body["title"], "keep");
}

/// Inviting yourself is a conflict with who owns the list, not a malformed email.
#[tokio::test]
async fn inviting_your_own_address_is_a_conflict() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let reply = app
        .call(
            Method::POST,
            &format!("/lists/{}/invitations", ada.id),
            Some(&ada.access_token),
            Some(json!({"email": "ada@example.com", "role": "editor"})),
        )
        .await;
    reply.assert_problem(StatusCode::CONFLICT, None);
}

/// The document states each text rule as a pattern and a length in characters as sent, so
/// the rules are exactly those: no trimming into validity, no reordering characters.
#[tokio::test]
async fn text_rules_are_the_documented_ones() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let padded_email = app.call(Method::POST, "/users", None, Some(json!({"email": " bob@example.com", "password": PASSWORD}))).await;
    padded_email.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("email"));
    let cased = app.call(Method::POST, "/sessions", None, Some(json!({"email": "ADA@Example.com", "password": PASSWORD}))).await;
    assert_eq!(cased.status, StatusCode::OK, "emails compare without case");
    for (body, field) in [
        (json!({"title": "invoice\u{202e}fdp.exe"}), "title"),
        (json!({"title": "zero\u{200b}width"}), "title"),
        (json!({"title": format!(" {}", "x".repeat(200))}), "title"),
        (json!({"title": "ok", "tags": [" padded"]}), "tags"),
    ] {
        let reply = app.call(Method::POST, &format!("/lists/{}/tasks", ada.id), Some(&ada.access_token), Some(body.clone())).await;
        reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    let emoji = app.create_task(&ada, json!({"title": "  👨\u{200d}👩\u{200d}👧 picnic "})).await;
    assert_eq!(emoji["title"], "👨\u{200d}👩\u{200d}👧 picnic", "joiners stay, the line is kept trimmed");
    let files = format!("/lists/{}/tasks/{}/files", ada.id, emoji["id"].as_str().unwrap());
    for name in ["re\u{2066}port.pdf", "...", " . . "] {
        let body = json!({"name": name, "content_type": "application/pdf", "size": 10});
        let reply = app.call(Method::POST, &files, Some(&ada.access_token), Some(body)).await;
        reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("name"));
    }
}

/// Requests a lenient reader would take one way and a strict one another are refused: a key
/// twice in one object, nesting past any real body's, bytes that are not UTF-8.
#[tokio::test]
async fn ambiguous_or_abusive_bodies_are_refused_and_change_nothing() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let path = format!("/lists/{}/tasks", ada.id);
    let send = |body: Vec<u8>| TestApp::request(Method::POST, &path, Some(&ada.access_token), &[], Some(body));
    let duplicate = app.send(send(br#"{"title": "shown", "title": "stored"}"#.to_vec())).await;
    duplicate.assert_problem(StatusCode::BAD_REQUEST, Some("title"));
    let nested_duplicate = app.send(send(br#"{"title": "x", "recurrence": {"freq": "daily", "freq": "weekly"}}"#.to_vec())).await;
    nested_duplicate.assert_problem(StatusCode::BAD_REQUEST, None);
    let deep = format!(r#"{{"title": "x", "notes": {}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    app.send(send(deep.into_bytes())).await.assert_problem(StatusCode::BAD_REQUEST, None);
    let mut invalid_utf8 = br#"{"title": "caf"#.to_vec();
    invalid_utf8.extend_from_slice(&[0xC3, 0x28, b'"', b'}']);
    app.send(send(invalid_utf8)).await.assert_problem(StatusCode::BAD_REQUEST, None);
    let undecodable_path = TestApp::request(Method::GET, &format!("/lists/{}/tasks/%C3%28", ada.id), Some(&ada.access_token), &[], None);
    app.send(undecodable_path).await.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("task_id"));
    assert!(app.all_tasks(&ada, "").await.is_empty(), "nothing stored");
}

/// A retry is the same request whatever order its keys come in: the fingerprint is of the
/// parsed body, keys sorted (a dependency once turned on serde_json's insertion order for
/// every crate, which would have made this a 409).
#[tokio::test]
async fn a_retry_with_its_keys_in_another_order_is_a_replay() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let path = format!("/lists/{}/tasks", ada.id);
    let headers = [("idempotency-key", "retry-1")];
    let send =
        |body: &'static str| TestApp::request(Method::POST, &path, Some(&ada.access_token), &headers, Some(body.as_bytes().to_vec()));
    let first = app.send(send(r#"{"title": "Pay rent", "priority": 1, "tags": ["bills"]}"#)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:#}", first.body);
    let again = app.send(send(r#"{"tags": ["bills"], "priority": 1, "title": "Pay rent"}"#)).await;
    assert_eq!(again.status, StatusCode::CREATED, "{:#}", again.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body["id"], first.body["id"]);
}
