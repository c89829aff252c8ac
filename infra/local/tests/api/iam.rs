//! Each function's IAM policy in `template.yaml` allows every DynamoDB action its code calls:
//! each route's sample request (and a keyed create's retry) runs against DynamoDB on moto,
//! and the call log names the actions (a transaction's items one by one), as IAM authorises
//! them. moto does not enforce IAM, so without this a missing action is found on AWS, as a 500.

use std::collections::{BTreeMap, BTreeSet};

use http::StatusCode;
use serde_json::json;

use crate::events::{expected_status, invoke, sample_event};
use crate::support::TestApp;

/// The DynamoDB actions each function's policy allows, by binary.
fn allowed_actions() -> BTreeMap<String, BTreeSet<String>> {
    let template = crate::template::template();
    crate::template::functions(&template)
        .into_iter()
        .map(|function| {
            let dynamodb = function.actions.into_iter().filter(|action| action.starts_with("dynamodb:")).collect();
            (function.binary, dynamodb)
        })
        .collect()
}

fn assert_allowed(allowed: &BTreeMap<String, BTreeSet<String>>, binary: &str, called: &BTreeSet<String>) {
    let policy = allowed.get(binary).unwrap_or_else(|| panic!("{binary} has no function in template.yaml"));
    let missing: Vec<&String> = called.difference(policy).collect();
    assert!(missing.is_empty(), "{binary} calls {missing:?}, which its policy does not allow (it allows {policy:?})");
}

#[tokio::test]
async fn every_route_calls_only_what_its_policy_allows() {
    let allowed = allowed_actions();
    for operation in todo_local::operations() {
        let (app, calls) = TestApp::spawn_on_dynamodb().await;
        let event = sample_event(&app, operation.binary).await;
        calls.take_actions();
        let (status, body) = invoke(&app, operation, &event).await;
        assert_eq!(status, expected_status(operation.binary), "{}: {body}", operation.binary);
        if event.contains("idempotency-key") {
            // The retry reads the stored answer.
            let (status, body) = invoke(&app, operation, &event).await;
            assert_eq!(status, expected_status(operation.binary), "{} retried: {body}", operation.binary);
        }
        let called = calls.take_actions();
        assert!(operation.binary == "user-signup" || !called.is_empty(), "{}: no call logged", operation.binary);
        assert_allowed(&allowed, operation.binary, &called);
    }
}

/// The functions the table stream and the schedules run, likewise.
#[tokio::test]
async fn every_background_function_calls_only_what_its_policy_allows() {
    let allowed = allowed_actions();
    let (app, calls) = TestApp::spawn_on_dynamodb().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    app.create_task(&ada, json!({"title": "reminded", "reminder_at": "2026-01-01T09:00:00Z"})).await;
    let invitation = app.invite(&ada, &ada.id, "bob@example.com", "viewer").await;
    let run = |binary: &'static str, called: BTreeSet<String>| {
        assert!(!called.is_empty(), "{binary}: no call logged");
        assert_allowed(&allowed, binary, &called);
    };

    calls.take_actions();
    let record = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/invitation-announce.json"))
        .unwrap()
        .replace("01JGGGGGGGGGGGGGGGGGGGGGGG", &invitation);
    let announced = todo_sharing::announce::on_new_invitations(&app.app, serde_json::from_str(&record).unwrap()).await.unwrap();
    assert_eq!(announced.sent, 1, "{announced:?}");
    run("invitation-announce", calls.take_actions());

    // The queue's worker, given every shard's message (the dispatcher only sends to SQS).
    let records = (0..app.app.stores.notifications.alarm_shards())
        .map(|shard| json!({"messageId": format!("m{shard}"), "body": json!({"shard": shard}).to_string()}))
        .collect::<Vec<_>>();
    let reminded = todo_jobs::fan_out::run_shards(&app.app, serde_json::from_value(json!({"Records": records})).unwrap()).await;
    assert_eq!((reminded.outcome.sent, reminded.batch_item_failures.len()), (1, 0), "{reminded:?}");
    run("reminders-shard", calls.take_actions());

    let deleted =
        app.call(http::Method::DELETE, "/users/me", Some(&bob.access_token), Some(json!({"password": crate::support::PASSWORD}))).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "{:#}", deleted.body);
    calls.take_actions();
    let marker = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/account-purge.json"))
        .unwrap()
        .replace("01JCCCCCCCCCCCCCCCCCCCCCCC", &bob.id);
    let purged = todo_users::purge::on_deletion_markers(&app.app, serde_json::from_str(&marker).unwrap()).await.unwrap();
    assert_eq!(purged.accounts_finished, 1, "{purged:?}");
    run("account-purge", calls.take_actions());

    todo_jobs::HOUSEKEEPING.run_once(&app.app).await.unwrap();
    run("housekeeping", calls.take_actions());
}

/// The password routes' paths the samples do not take: a log-in that removes ended sessions,
/// a change of email and password together.
#[tokio::test]
async fn the_account_routes_other_paths_call_only_what_their_policies_allow() {
    use http::Method;
    let allowed = allowed_actions();
    let (app, calls) = TestApp::spawn_on_dynamodb().await;
    let ada = app.sign_up("ada@example.com").await;
    let logged_out = app.call(Method::DELETE, "/sessions/current", Some(&ada.access_token), None).await;
    assert_eq!(logged_out.status, StatusCode::NO_CONTENT);
    calls.take_actions();
    let credentials = json!({"email": "ada@example.com", "password": crate::support::PASSWORD});
    let logged_in = app.call(Method::POST, "/sessions", None, Some(credentials)).await;
    assert_eq!(logged_in.status, StatusCode::OK);
    let called = calls.take_actions();
    assert!(called.contains("dynamodb:BatchWriteItem"), "the logged-out session was removed: {called:?}");
    assert_allowed(&allowed, "session-create", &called);

    let token = logged_in.body["access_token"].as_str().unwrap().to_owned();
    let change = json!({"email": "ada@new.example", "password": "a new password", "current_password": crate::support::PASSWORD});
    let changed = app.call(Method::PATCH, "/users/me", Some(&token), Some(change)).await;
    assert_eq!(changed.status, StatusCode::OK, "{:#}", changed.body);
    assert_allowed(&allowed, "user-me-update", &calls.take_actions());
}
