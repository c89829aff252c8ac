use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use serde_json::json;
use todo_domain::model::UserId;
use todo_domain::ports::{PageRequest, TaskFilter};

use crate::support::{PASSWORD, TestApp};

#[tokio::test]
async fn sign_up_returns_the_user_and_a_working_token_pair() {
    let app = TestApp::spawn();
    let reply =
        app.call(Method::POST, "/users", None, Some(json!({"email": "Ada@Example.com", "password": PASSWORD, "name": "Ada"}))).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.header("location"), Some("/users/me"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.body["user"]["email"], "ada@example.com");
    assert_eq!(reply.body["user"]["name"], "Ada");
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 900);
    assert!(reply.body["user"].get("password_hash").is_none());
    let token = reply.body["access_token"].as_str().unwrap();
    let me = app.call(Method::GET, "/users/me", Some(token), None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["id"], reply.body["user"]["id"]);
}

#[tokio::test]
async fn a_duplicate_email_in_any_case_is_a_conflict() {
    let app = TestApp::spawn();
    app.sign_up("ada@example.com").await;
    let reply = app.call(Method::POST, "/users", None, Some(json!({"email": "ADA@example.com", "password": PASSWORD}))).await;
    reply.assert_problem(StatusCode::CONFLICT, None);
    assert_eq!(reply.body["detail"], "an account with this email already exists", "the reason alone: the title says Conflict");
}

/// `ａda@…` (fullwidth) is not a second `ada@…`: refused with the reason at sign-up, log-in
/// and email change alike, and nothing is created.
#[tokio::test]
async fn an_email_in_a_compatibility_form_is_refused_by_name() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let lookalike = "ａda@example.com";
    let reply = app.call(Method::POST, "/users", None, Some(json!({"email": lookalike, "password": PASSWORD}))).await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("email"));
    assert!(reply.body["errors"][0]["message"].as_str().unwrap().contains("NFKC"), "{:#}", reply.body);
    let log_in = app.call(Method::POST, "/sessions", None, Some(json!({"email": lookalike, "password": PASSWORD}))).await;
    log_in.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("email"));
    let change = json!({"email": lookalike, "current_password": PASSWORD});
    app.call(Method::PATCH, "/users/me", Some(&ada.access_token), Some(change))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("email"));
    let me = app.call(Method::GET, "/users/me", Some(&ada.access_token), None).await;
    assert_eq!(me.body["email"], "ada@example.com");
    let again = app.call(Method::POST, "/users", None, Some(json!({"email": "ada@example.com", "password": PASSWORD}))).await;
    again.assert_problem(StatusCode::CONFLICT, None);
}

#[tokio::test]
async fn concurrent_sign_ups_with_one_email_create_one_account() {
    let app = TestApp::spawn();
    let attempts = (0..8).map(|_| app.call(Method::POST, "/users", None, Some(json!({"email": "race@example.com", "password": PASSWORD}))));
    let replies = futures::future::join_all(attempts).await;
    let created = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let conflicts = replies.iter().filter(|r| r.status == StatusCode::CONFLICT).count();
    assert_eq!((created, conflicts), (1, 7));
}

#[tokio::test]
async fn log_in_works_and_failures_look_identical() {
    let app = TestApp::spawn();
    let account = app.sign_up("ada@example.com").await;
    let ok = app.call(Method::POST, "/sessions", None, Some(json!({"email": "ADA@example.com", "password": PASSWORD}))).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body["user"]["id"].as_str(), Some(account.id.as_str()));
    assert!(ok.body["access_token"].is_string() && ok.body["refresh_token"].is_string());

    let wrong_password =
        app.call(Method::POST, "/sessions", None, Some(json!({"email": "ada@example.com", "password": "not the password"}))).await;
    let unknown_email =
        app.call(Method::POST, "/sessions", None, Some(json!({"email": "bob@example.com", "password": "not the password"}))).await;
    wrong_password.assert_problem(StatusCode::UNAUTHORIZED, None);
    assert_eq!(wrong_password.status, unknown_email.status);
    assert_eq!(wrong_password.body, unknown_email.body);
}

/// The median time of five failed log-ins.
async fn median(app: &TestApp, email: &str) -> Duration {
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let reply = app.call(Method::POST, "/sessions", None, Some(json!({"email": email, "password": "not the password"}))).await;
        times.push(started.elapsed());
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    times.sort();
    times[2]
}

/// Both failures must spend a password hash verification; without the decoy, an unknown
/// email answers in microseconds instead of tens of milliseconds.
#[tokio::test]
async fn unknown_email_costs_a_hash_like_a_wrong_password() {
    let app = TestApp::spawn();
    app.sign_up("ada@example.com").await;
    let wrong_password = median(&app, "ada@example.com").await;
    let unknown_email = median(&app, "nobody@example.com").await;
    let ratio = unknown_email.as_secs_f64() / wrong_password.as_secs_f64();
    assert!((0.3..3.0).contains(&ratio), "unknown email {unknown_email:?} vs wrong password {wrong_password:?}");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_session() {
    let app = TestApp::spawn();
    let account = app.sign_up("ada@example.com").await;
    let first = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": account.refresh_token}))).await;
    assert_eq!(first.status, StatusCode::OK, "{:#}", first.body);
    let rotated = first.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, account.refresh_token);
    let me = app.call(Method::GET, "/users/me", Some(first.body["access_token"].as_str().unwrap()), None).await;
    assert_eq!(me.status, StatusCode::OK);

    // The old token again: a replay. It fails, and so does the legitimate newer one.
    let replay = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": account.refresh_token}))).await;
    replay.assert_problem(StatusCode::UNAUTHORIZED, None);
    let after = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": rotated}))).await;
    after.assert_problem(StatusCode::UNAUTHORIZED, None);
}

#[tokio::test]
async fn a_forged_refresh_secret_does_not_revoke_the_session() {
    let app = TestApp::spawn();
    let account = app.sign_up("ada@example.com").await;
    // Change a character in the middle of the secret (the last one only carries padding bits).
    let mut forged: Vec<char> = account.refresh_token.chars().collect();
    let at = forged.len() - 10;
    forged[at] = if forged[at] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    let reply = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": forged}))).await;
    reply.assert_problem(StatusCode::UNAUTHORIZED, None);
    let genuine = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": account.refresh_token}))).await;
    assert_eq!(genuine.status, StatusCode::OK);
}

#[tokio::test]
async fn knowing_the_ids_is_not_enough_to_revoke_a_session() {
    let app = TestApp::spawn();
    let account = app.sign_up("ada@example.com").await;
    // Rotate once so generation 1 is "stale", then forge a generation-1 token from the
    // ids (which any access token shows) with a made-up secret.
    let rotated = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": account.refresh_token}))).await;
    let parts: Vec<&str> = account.refresh_token.split('.').collect();
    let forged = format!("rt1.{}.{}.1.{}", parts[1], parts[2], "A".repeat(43));
    let reply = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": forged}))).await;
    reply.assert_problem(StatusCode::UNAUTHORIZED, None);
    let still = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": rotated.body["refresh_token"]}))).await;
    assert_eq!(still.status, StatusCode::OK, "the session survived the forgery");
}

#[tokio::test]
async fn log_out_revokes_the_refresh_token() {
    let app = TestApp::spawn();
    let account = app.sign_up("ada@example.com").await;
    let reply = app.call(Method::DELETE, "/sessions/current", Some(&account.access_token), None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let refresh = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": account.refresh_token}))).await;
    refresh.assert_problem(StatusCode::UNAUTHORIZED, None);
}

#[tokio::test]
async fn profile_changes_need_the_current_password_for_credentials() {
    let app = TestApp::spawn();
    let account = app.sign_up("ada@example.com").await;
    let other_session = app.call(Method::POST, "/sessions", None, Some(json!({"email": "ada@example.com", "password": PASSWORD}))).await;
    let token = Some(account.access_token.as_str());

    let renamed = app.call(Method::PATCH, "/users/me", token, Some(json!({"name": "Ada L."}))).await;
    assert_eq!((renamed.status, renamed.body["name"].as_str()), (StatusCode::OK, Some("Ada L.")));
    let cleared = app.call(Method::PATCH, "/users/me", token, Some(json!({"name": null}))).await;
    assert!(cleared.body["name"].is_null());

    let no_current = app.call(Method::PATCH, "/users/me", token, Some(json!({"email": "ada@new.example"}))).await;
    no_current.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("current_password"));
    let wrong_current =
        app.call(Method::PATCH, "/users/me", token, Some(json!({"password": "a new password", "current_password": "nope nope"}))).await;
    wrong_current.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("current_password"));

    let changed = app
        .call(
            Method::PATCH,
            "/users/me",
            token,
            Some(json!({"email": "Ada@New.example", "password": "a new password", "current_password": PASSWORD})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:#}", changed.body);
    assert_eq!(changed.body["email"], "ada@new.example");

    let old = app.call(Method::POST, "/sessions", None, Some(json!({"email": "ada@new.example", "password": PASSWORD}))).await;
    old.assert_problem(StatusCode::UNAUTHORIZED, None);
    let new = app.call(Method::POST, "/sessions", None, Some(json!({"email": "ada@new.example", "password": "a new password"}))).await;
    assert_eq!(new.status, StatusCode::OK);
    // The password change logged out the other session, but not this one.
    let other =
        app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": other_session.body["refresh_token"]}))).await;
    other.assert_problem(StatusCode::UNAUTHORIZED, None);
    let this = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": account.refresh_token}))).await;
    assert_eq!(this.status, StatusCode::OK);
    // The old address is free again.
    app.sign_up("ada@example.com").await;
}

#[tokio::test]
async fn changing_to_a_taken_email_is_a_conflict() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    app.sign_up("bob@example.com").await;
    let reply = app
        .call(Method::PATCH, "/users/me", Some(&ada.access_token), Some(json!({"email": "BOB@example.com", "current_password": PASSWORD})))
        .await;
    reply.assert_problem(StatusCode::CONFLICT, None);
}

#[tokio::test]
async fn deleting_the_account_removes_its_tasks_and_sessions_and_frees_the_email() {
    let app = TestApp::spawn();
    let account = app.sign_up("ada@example.com").await;
    for n in 0..3 {
        app.create_task(&account, json!({"title": format!("task {n}")})).await;
    }
    // The token alone is not enough: the password is asked, and a wrong one changes nothing.
    let without = app.call(Method::DELETE, "/users/me", Some(&account.access_token), None).await;
    without.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, None);
    let wrong = app.call(Method::DELETE, "/users/me", Some(&account.access_token), Some(json!({"password": "not the password"}))).await;
    wrong.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("password"));
    assert_eq!(app.call(Method::GET, "/users/me", Some(&account.access_token), None).await.status, StatusCode::OK);
    let reply = app.call(Method::DELETE, "/users/me", Some(&account.access_token), Some(json!({"password": PASSWORD}))).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);

    // Answered at once: the profile and sessions are gone, the tasks wait for the purge.
    let user_id = UserId::parse(&account.id).unwrap();
    assert!(app.app.stores.users.get_user(user_id).await.unwrap().is_none());
    assert_eq!(app.app.stores.users.pending_deletions(10).await.unwrap(), vec![user_id]);
    assert_eq!(app.app.stores.sessions.delete_user_sessions(user_id).await.unwrap(), 0, "sessions go with the profile");
    let inbox_tasks = || async {
        let inbox = todo_domain::model::ListId::inbox_of(user_id);
        app.app.stores.tasks.list_tasks(inbox, &TaskFilter::default(), PageRequest { limit: 100, after: None }).await.unwrap()
    };
    assert_eq!(inbox_tasks().await.items.len(), 3);
    // What the table stream (or the local purge loop) runs for the new marker.
    assert_eq!(todo_domain::usecases::users::finish_pending_deletions(&app.app, 10).await.unwrap(), (1, false));

    let left = inbox_tasks().await;
    assert!(left.items.is_empty(), "tasks left: {:?}", left.items);
    assert!(app.app.stores.users.get_user(user_id).await.unwrap().is_none());
    assert!(app.app.stores.users.pending_deletions(10).await.unwrap().is_empty(), "the finished cascade removed its marker");
    assert_eq!(app.app.stores.sessions.delete_user_sessions(user_id).await.unwrap(), 0, "sessions left");

    // The still-unexpired access token no longer reaches anything, nor creates anything.
    app.call(Method::GET, "/users/me", Some(&account.access_token), None).await.assert_problem(StatusCode::UNAUTHORIZED, None);
    app.call(Method::POST, &format!("/lists/{}/tasks", account.id), Some(&account.access_token), Some(json!({"title": "orphan"})))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, None);
    let refresh = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": account.refresh_token}))).await;
    refresh.assert_problem(StatusCode::UNAUTHORIZED, None);
    let again = app.sign_up("ada@example.com").await;
    assert_ne!(again.id, account.id);
}

/// Between `DELETE /users/me` and the purge (seconds: the stream or the purge loop), the
/// account's access token still verifies. Nothing it starts then may outlive the purge: a
/// task, a recurring task's next occurrence, an upload (whose bytes could land after the purge
/// looked) or a list are all refused, and nothing changes.
#[tokio::test]
async fn before_the_purge_a_deleted_accounts_token_creates_nothing() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let rent = app
        .create_task(&ada, json!({"title": "rent", "due": "2027-01-31T09:00:00Z", "recurrence": {"freq": "monthly", "interval": 1}}))
        .await;
    let rent_path = format!("/lists/{}/tasks/{}", ada.id, rent["id"].as_str().unwrap());
    let reply = app.call(Method::DELETE, "/users/me", Some(&ada.access_token), Some(json!({"password": PASSWORD}))).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);

    let token = Some(ada.access_token.as_str());
    let tasks = format!("/lists/{}/tasks", ada.id);
    app.call(Method::POST, &tasks, token, Some(json!({"title": "orphan"}))).await.assert_problem(StatusCode::UNAUTHORIZED, None);
    app.call(Method::PATCH, &rent_path, token, Some(json!({"status": "completed"}))).await.assert_problem(StatusCode::UNAUTHORIZED, None);
    let upload = json!({"name": "late.pdf", "content_type": "application/pdf", "size": 10});
    app.call(Method::POST, &format!("{rent_path}/files"), token, Some(upload)).await.assert_problem(StatusCode::UNAUTHORIZED, None);
    app.call(Method::POST, "/lists", token, Some(json!({"name": "Later"}))).await.assert_problem(StatusCode::UNAUTHORIZED, None);

    let user_id = UserId::parse(&ada.id).unwrap();
    let inbox = todo_domain::model::ListId::inbox_of(user_id);
    let left = app.app.stores.tasks.list_tasks(inbox, &TaskFilter::default(), PageRequest { limit: 100, after: None }).await.unwrap();
    assert_eq!(left.items.len(), 1, "no task was added: {:?}", left.items);
    assert!(!left.items[0].completion.is_completed(), "the refused completion changed nothing");
    let rent_id = todo_domain::model::TaskId::parse(rent["id"].as_str().unwrap()).unwrap();
    assert!(app.app.stores.files.list_files(rent_id, PageRequest { limit: 10, after: None }).await.unwrap().items.is_empty());
    assert_eq!(app.app.stores.lists.memberships(user_id).await.unwrap().len(), 1, "only the Inbox");
}

#[tokio::test]
async fn data_and_tokens_survive_a_restart() {
    let app = TestApp::spawn();
    let account = app.sign_up("ada@example.com").await;
    let task = app.create_task(&account, json!({"title": "persist me"})).await;
    let app = app.restart();
    let reply = app
        .call(Method::GET, &format!("/lists/{}/tasks/{}", account.id, task["id"].as_str().unwrap()), Some(&account.access_token), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
    assert_eq!(reply.body["title"], "persist me");
    let refreshed = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": account.refresh_token}))).await;
    assert_eq!(refreshed.status, StatusCode::OK);
}

/// A key rotation logs nobody out: with the old key as `previous`, tokens and refresh tokens
/// issued under it keep working and what is issued now names the new key; once the old key
/// is dropped, only what was issued under the new one works.
#[tokio::test]
async fn a_signing_key_rotation_keeps_everyone_logged_in() {
    use todo_domain::auth::{KeyId, Secret, SigningKey, SigningKeys};
    let key = |id: &str, byte: u8| SigningKey { id: KeyId::parse(id).unwrap(), secret: Secret::new(vec![byte; 32]).unwrap() };
    let app = TestApp::spawn().restart_with(Some(SigningKeys::rotating(key("k0", 1), None).unwrap()));
    let ada = app.sign_up("ada@example.com").await;
    let ada_first_access = ada.access_token.clone();
    let list = app
        .call(Method::POST, &format!("/lists/{}/tasks", ada.id), Some(&ada.access_token), Some(json!({"title": "before the rotation"})))
        .await;
    assert_eq!(list.status, StatusCode::CREATED);

    let app = app.restart_with(Some(SigningKeys::rotating(key("k1", 2), Some(key("k0", 1))).unwrap()));
    let me = app.call(Method::GET, "/users/me", Some(&ada.access_token), None).await;
    assert_eq!(me.status, StatusCode::OK, "an access token from before the rotation: {:#}", me.body);
    let refreshed = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": ada.refresh_token}))).await;
    assert_eq!(refreshed.status, StatusCode::OK, "a refresh token from before the rotation: {:#}", refreshed.body);
    let access = refreshed.body["access_token"].as_str().unwrap().to_owned();
    let refresh = refreshed.body["refresh_token"].as_str().unwrap().to_owned();
    // The pre-rotation refresh token is now a stale generation: recognised as genuine under
    // the previous key, so its replay is reuse and revokes the session (a forged token would
    // merely be refused).
    let replay = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": ada.refresh_token}))).await;
    replay.assert_problem(StatusCode::UNAUTHORIZED, None);
    let revoked = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": refresh}))).await;
    revoked.assert_problem(StatusCode::UNAUTHORIZED, None);
    let ada = app.call(Method::POST, "/sessions", None, Some(json!({"email": "ada@example.com", "password": PASSWORD}))).await;
    assert_eq!(ada.status, StatusCode::OK);
    let refresh = ada.body["refresh_token"].as_str().unwrap().to_owned();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, access.split('.').next().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], "k1", "new tokens name the new key");

    let app = app.restart_with(Some(SigningKeys::rotating(key("k1", 2), None).unwrap()));
    let first_token = app.call(Method::GET, "/users/me", Some(&ada_first_access), None).await;
    first_token.assert_problem(StatusCode::UNAUTHORIZED, None);
    assert_eq!(app.call(Method::GET, "/users/me", Some(&access), None).await.status, StatusCode::OK);
    let again = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": refresh}))).await;
    assert_eq!(again.status, StatusCode::OK, "{:#}", again.body);
}

/// Five wrong passwords are free; the sixth locks the email's password checks (1 s, then
/// doubling): answered 429 with `Retry-After`, before the password is even looked at, the
/// same for an email without an account. A right password after the lock works. The checks
/// of `current_password` count toward the same lock.
#[tokio::test]
async fn repeated_wrong_passwords_lock_the_email_for_known_and_unknown_alike() {
    // Starting now: access tokens are checked against the real time.
    let clock = std::sync::Arc::new(todo_domain::clock::ManualClock::new(todo_domain::model::Timestamp::from_datetime(chrono::Utc::now())));
    let app = TestApp::spawn_with_clock(clock.clone());
    let account = app.sign_up("ada@example.com").await;
    let log_in = |email: &'static str, password: &'static str| {
        app.call(Method::POST, "/sessions", None, Some(json!({"email": email, "password": password})))
    };
    let mut refusals = Vec::new();
    for email in ["ada@example.com", "nobody@example.com"] {
        for attempt in 0..6 {
            assert_eq!(log_in(email, "not the password").await.status, StatusCode::UNAUTHORIZED, "{email} attempt {attempt}");
        }
        let refused = log_in(email, "not the password").await;
        refused.assert_problem(StatusCode::TOO_MANY_REQUESTS, None);
        assert_eq!(refused.header("retry-after"), Some("1"), "{email}");
        refusals.push(refused.body);
    }
    assert_eq!(refusals[0], refusals[1], "the throttle tells no account from no account");
    // Locked means locked: the right password waits too.
    log_in("ada@example.com", PASSWORD).await.assert_problem(StatusCode::TOO_MANY_REQUESTS, None);
    clock.advance(chrono::Duration::seconds(1));
    assert_eq!(log_in("ada@example.com", PASSWORD).await.status, StatusCode::OK, "after the lock, the right password works");
    // The success took back its own count and time, nothing else: the six failures before it
    // still count, so the next failure locks for the next step, 2 s.
    assert_eq!(log_in("ada@example.com", "not the password").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(log_in("ada@example.com", PASSWORD).await.header("retry-after"), Some("2"));

    // The account's own password checks count toward the same lock.
    let bob = app.sign_up("bob@example.com").await;
    for _ in 0..5 {
        let wrong = app.call(Method::DELETE, "/users/me", Some(&bob.access_token), Some(json!({"password": "not the password"}))).await;
        wrong.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("password"));
    }
    assert_eq!(log_in("bob@example.com", "not the password").await.status, StatusCode::UNAUTHORIZED);
    let locked = app.call(Method::DELETE, "/users/me", Some(&bob.access_token), Some(json!({"password": PASSWORD}))).await;
    locked.assert_problem(StatusCode::TOO_MANY_REQUESTS, None);
    assert_eq!(app.call(Method::GET, "/users/me", Some(&bob.access_token), None).await.status, StatusCode::OK, "nothing was deleted");
    let _ = account;
}

/// On DynamoDB an unknown email makes the same reads as a known one with a wrong password
/// (with the decoy hash, a log-in's timing does not tell which emails have accounts).
#[tokio::test]
async fn unknown_and_known_emails_read_the_store_alike() {
    let (app, calls) = TestApp::spawn_on_dynamodb().await;
    app.sign_up("ada@example.com").await;
    let mut counts = Vec::new();
    for email in ["ada@example.com", "nobody@example.com"] {
        calls.take_counts();
        let reply = app.call(Method::POST, "/sessions", None, Some(json!({"email": email, "password": "not the password"}))).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        counts.push(calls.take_counts());
    }
    assert_eq!(counts[0], counts[1], "known email with a wrong password vs unknown email");
    assert_eq!(counts[0].get("GetItem"), Some(&2), "{:?}", counts[0]);
}

/// A password change ends every other session in one write (the account's
/// `credentials_version`), however many there are: on DynamoDB its calls do not grow with
/// them. And an account keeps at most `MAX_SESSIONS`: a log-in past it ends the oldest.
#[tokio::test]
async fn sessions_end_by_construction_and_are_capped() {
    use todo_domain::usecases::users::MAX_SESSIONS;
    let (app, calls) = TestApp::spawn_on_dynamodb().await;
    let ada = app.sign_up("ada@example.com").await;
    let mut refresh_tokens = Vec::new();
    for _ in 0..MAX_SESSIONS {
        let session = app.call(Method::POST, "/sessions", None, Some(json!({"email": "ada@example.com", "password": PASSWORD}))).await;
        assert_eq!(session.status, StatusCode::OK);
        refresh_tokens.push(session.body["refresh_token"].clone());
    }
    // The sign-up's session was the oldest of MAX_SESSIONS + 1: the last log-in ended it.
    let oldest = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": ada.refresh_token}))).await;
    oldest.assert_problem(StatusCode::UNAUTHORIZED, None);
    let refreshed = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": refresh_tokens[0]}))).await;
    assert_eq!(refreshed.status, StatusCode::OK, "the others live");
    refresh_tokens[0] = refreshed.body["refresh_token"].clone();

    let last = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": refresh_tokens.pop().unwrap()}))).await;
    let token = last.body["access_token"].as_str().unwrap().to_owned();
    calls.take_counts();
    let change = json!({"password": "a new password", "current_password": PASSWORD});
    let changed = app.call(Method::PATCH, "/users/me", Some(&token), Some(change)).await;
    assert_eq!(changed.status, StatusCode::OK, "{:#}", changed.body);
    let counts = calls.take_counts();
    let calls_made: usize = counts.values().sum();
    assert!(calls_made <= 8, "a password change's calls do not grow with the sessions: {counts:?}");
    for refresh_token in &refresh_tokens {
        let ended = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": refresh_token}))).await;
        ended.assert_problem(StatusCode::UNAUTHORIZED, None);
    }
    let this = app.call(Method::POST, "/sessions/refresh", None, Some(json!({"refresh_token": last.body["refresh_token"]}))).await;
    assert_eq!(this.status, StatusCode::OK, "the session that changed the password lives on: {:#}", this.body);
}

/// A log-in reads the account before its password check; a password change meanwhile moves
/// sessions on to a newer credentials version. Those are live: the log-in's clean-up keeps them.
#[tokio::test]
async fn a_log_in_keeps_sessions_newer_than_the_account_it_read() {
    use todo_domain::model::{SessionId, UserId};
    use todo_domain::ports::Session;
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let user_id = UserId::parse(&ada.id).unwrap();
    let account = app.app.stores.users.get_user(user_id).await.unwrap().unwrap();
    let now = todo_domain::model::Timestamp::from_datetime(chrono::Utc::now());
    let newer = Session {
        id: SessionId::generate(),
        user_id,
        generation: 1,
        secret_hash: "0".repeat(64),
        salt: String::new(),
        created_at: now,
        expires_at: now.plus(chrono::Duration::days(30)),
        revoked_at: None,
        credentials_version: account.credentials_version + 1,
    };
    app.app.stores.sessions.insert_session(&newer).await.unwrap();
    let logged_in = app.call(Method::POST, "/sessions", None, Some(json!({"email": "ada@example.com", "password": PASSWORD}))).await;
    assert_eq!(logged_in.status, StatusCode::OK);
    assert!(app.app.stores.sessions.get_session(user_id, newer.id).await.unwrap().is_some(), "a newer session is not dead");
}
