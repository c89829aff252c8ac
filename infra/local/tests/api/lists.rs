//! The list routes, and tasks nested under their list: the Inbox made with the account,
//! creating, paging, renaming and recolouring lists, and every list-scoped route answering
//! 404 to someone who is not a member.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Account, TestApp};

async fn create_list(app: &TestApp, account: &Account, body: Value) -> crate::support::Reply {
    app.call(Method::POST, "/lists", Some(&account.access_token), Some(body)).await
}

#[tokio::test]
async fn every_account_starts_with_its_inbox_whose_id_is_the_accounts() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let lists = app.call(Method::GET, "/lists", Some(&ada.access_token), None).await;
    assert_eq!(lists.status, StatusCode::OK);
    assert_eq!(lists.body["next_cursor"], Value::Null);
    let items = lists.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:#}", lists.body);
    let inbox = &items[0];
    assert_eq!((inbox["name"].as_str(), inbox["inbox"].as_bool(), inbox["role"].as_str()), (Some("Inbox"), Some(true), Some("owner")));
    assert_eq!(inbox["id"], ada.id.as_str());
    assert_eq!(inbox["owner_id"], ada.id.as_str());
    assert_eq!(inbox["color"], Value::Null);
    let got = app.call(Method::GET, &format!("/lists/{}", ada.id), Some(&ada.access_token), None).await;
    assert_eq!((got.status, got.header("etag")), (StatusCode::OK, Some("\"1\"")));
    assert_eq!(&got.body, inbox);
}

#[tokio::test]
async fn lists_are_created_renamed_recoloured_and_paged() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let created = create_list(&app, &ada, json!({"name": "  Groceries ", "color": "green"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.header("location"), Some(format!("/lists/{id}").as_str()));
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(
        (created.body["name"].as_str(), created.body["color"].as_str(), created.body["inbox"].as_bool(), created.body["role"].as_str()),
        (Some("Groceries"), Some("green"), Some(false), Some("owner"))
    );

    let path = format!("/lists/{id}");
    let renamed = app.call(Method::PATCH, &path, Some(&ada.access_token), Some(json!({"name": "Shopping", "color": null}))).await;
    assert_eq!(renamed.status, StatusCode::OK, "{:#}", renamed.body);
    assert_eq!((renamed.body["name"].as_str(), renamed.body["color"].as_str()), (Some("Shopping"), None));
    assert_eq!(renamed.header("etag"), Some("\"2\""));
    let stale =
        app.call_with(Method::PATCH, &path, Some(&ada.access_token), &[("if-match", "\"1\"")], Some(json!({"name": "Stale"}))).await;
    stale.assert_problem(StatusCode::PRECONDITION_FAILED, None);
    let current =
        app.call_with(Method::PATCH, &path, Some(&ada.access_token), &[("if-match", "\"2\"")], Some(json!({"color": "teal"}))).await;
    assert_eq!((current.status, current.body["color"].as_str()), (StatusCode::OK, Some("teal")));

    // The Inbox keeps its name; its colour may change.
    let inbox = format!("/lists/{}", ada.id);
    app.call(Method::PATCH, &inbox, Some(&ada.access_token), Some(json!({"name": "Stuff"})))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("name"));
    let recoloured = app.call(Method::PATCH, &inbox, Some(&ada.access_token), Some(json!({"color": "red"}))).await;
    assert_eq!((recoloured.status, recoloured.body["color"].as_str()), (StatusCode::OK, Some("red")));

    for n in 0..4 {
        assert_eq!(create_list(&app, &ada, json!({"name": format!("List {n}")})).await.status, StatusCode::CREATED);
    }
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/lists?limit=2&cursor={cursor}"),
            None => "/lists?limit=2".to_owned(),
        };
        let page = app.call(Method::GET, &path, Some(&ada.access_token), None).await;
        assert_eq!(page.status, StatusCode::OK, "{:#}", page.body);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        names.extend(items.iter().map(|list| list["name"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(names, ["Inbox", "Shopping", "List 0", "List 1", "List 2", "List 3"], "every list once, in creation order");
}

#[tokio::test]
async fn bad_list_requests_name_the_field_and_change_nothing() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "   "}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (json!({"name": "two\nlines"}), "name"),
        (json!({"name": "Colourful", "color": "#ff0000"}), "color"),
        (json!({"name": "Typo", "colour": "red"}), "colour"),
        (json!({}), "name"),
    ] {
        let reply = create_list(&app, &ada, body.clone()).await;
        assert!(reply.status.is_client_error(), "{body}: {}", reply.status);
        reply.assert_problem(reply.status, Some(field));
    }
    let inbox = format!("/lists/{}", ada.id);
    app.call(Method::PATCH, &inbox, Some(&ada.access_token), Some(json!({"name": null})))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("name"));
    app.call(Method::PATCH, &inbox, Some(&ada.access_token), Some(json!({"color": "plaid"})))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("color"));
    app.call(Method::GET, "/lists?limit=0", Some(&ada.access_token), None)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("limit"));
    app.call(Method::GET, "/lists?cursor=forged", Some(&ada.access_token), None)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("cursor"));
    let lists = app.call(Method::GET, "/lists", Some(&ada.access_token), None).await;
    assert_eq!(lists.body["items"].as_array().unwrap().len(), 1, "nothing was created: {:#}", lists.body);
    assert_eq!(lists.body["items"][0]["color"], Value::Null, "nothing was changed");
}

#[tokio::test]
async fn a_user_owns_at_most_199_lists_besides_the_inbox() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    for n in 0..todo_domain::usecases::lists::MAX_OWNED_LISTS {
        let reply = create_list(&app, &ada, json!({"name": format!("List {n}")})).await;
        assert_eq!(reply.status, StatusCode::CREATED, "list {n}: {:#}", reply.body);
    }
    create_list(&app, &ada, json!({"name": "One too many"})).await.assert_problem(StatusCode::CONFLICT, None);
    // Someone else's limit is their own.
    let bob = app.sign_up("bob@example.com").await;
    assert_eq!(create_list(&app, &bob, json!({"name": "Bob's"})).await.status, StatusCode::CREATED);
}

/// A list someone is not a member of, and everything in it, is a 404 on every route —
/// through the other's list path, or through one's own naming the other's task.
#[tokio::test]
async fn another_users_list_and_its_tasks_are_not_found_on_every_route() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let groceries = create_list(&app, &ada, json!({"name": "Groceries"})).await.body["id"].as_str().unwrap().to_owned();
    let task = app.call(Method::POST, &format!("/lists/{groceries}/tasks"), Some(&ada.access_token), Some(json!({"title": "Milk"}))).await;
    assert_eq!(task.status, StatusCode::CREATED, "{:#}", task.body);
    assert_eq!(task.body["list_id"], groceries.as_str());
    let task_id = task.body["id"].as_str().unwrap();
    let token = Some(bob.access_token.as_str());
    for list in [&groceries, &ada.id] {
        let path = format!("/lists/{list}");
        app.call(Method::GET, &path, token, None).await.assert_problem(StatusCode::NOT_FOUND, None);
        app.call(Method::PATCH, &path, token, Some(json!({"name": "Mine now"}))).await.assert_problem(StatusCode::NOT_FOUND, None);
        app.call(Method::GET, &format!("{path}/tasks"), token, None).await.assert_problem(StatusCode::NOT_FOUND, None);
        app.call(Method::POST, &format!("{path}/tasks"), token, Some(json!({"title": "planted"})))
            .await
            .assert_problem(StatusCode::NOT_FOUND, None);
    }
    for list in [&groceries, &bob.id] {
        let path = format!("/lists/{list}/tasks/{task_id}");
        app.call(Method::GET, &path, token, None).await.assert_problem(StatusCode::NOT_FOUND, None);
        app.call(Method::PATCH, &path, token, Some(json!({"title": "mine"}))).await.assert_problem(StatusCode::NOT_FOUND, None);
        app.call(Method::DELETE, &path, token, None).await.assert_problem(StatusCode::NOT_FOUND, None);
    }
    // Ada's task, in the list the path names only: not through her Inbox.
    app.call(Method::GET, &format!("/lists/{}/tasks/{task_id}", ada.id), Some(&ada.access_token), None)
        .await
        .assert_problem(StatusCode::NOT_FOUND, None);
    let still = app.call(Method::GET, &format!("/lists/{groceries}/tasks/{task_id}"), Some(&ada.access_token), None).await;
    assert_eq!((still.status, still.body["title"].as_str()), (StatusCode::OK, Some("Milk")), "unchanged");
    let listed = app.call(Method::GET, &format!("/lists/{groceries}/tasks"), Some(&ada.access_token), None).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1, "nothing planted: {:#}", listed.body);
    let bobs = app.call(Method::GET, "/lists", token, None).await;
    assert_eq!(bobs.body["items"].as_array().unwrap().len(), 1, "Bob sees his Inbox only: {:#}", bobs.body);
}

/// The account's deletion takes every list it owns, with their tasks.
#[tokio::test]
async fn deleting_the_account_removes_its_lists_and_their_tasks() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let groceries = create_list(&app, &ada, json!({"name": "Groceries"})).await.body["id"].as_str().unwrap().to_owned();
    let list_id = todo_domain::model::ListId::parse(&groceries).unwrap();
    app.call(Method::POST, &format!("/lists/{groceries}/tasks"), Some(&ada.access_token), Some(json!({"title": "Milk"}))).await;
    let deleted = app.call(Method::DELETE, "/users/me", Some(&ada.access_token), Some(json!({"password": crate::support::PASSWORD}))).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    assert_eq!(todo_domain::usecases::users::finish_pending_deletions(&app.app, 10).await.unwrap(), (1, false));
    assert_eq!(app.app.stores.lists.get_list(list_id).await.unwrap(), None);
    let everything = todo_domain::ports::TaskFilter::default();
    let left = app.app.stores.tasks.list_tasks(list_id, &everything, todo_domain::ports::PageRequest { limit: 10, after: None });
    assert!(left.await.unwrap().items.is_empty());
    let user = todo_domain::model::UserId::parse(&ada.id).unwrap();
    assert!(app.app.stores.lists.memberships(user).await.unwrap().is_empty());
}

/// Deleting a list: its owner only, never the Inbox; gone for every member at once, its
/// tasks, files and bytes off the request path, and its place under the 200-list limit back.
#[tokio::test]
async fn deleting_a_list_takes_it_from_everyone_then_its_tasks_and_files() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let stranger = app.sign_up("eve@example.com").await;
    let errands = create_list(&app, &ada, json!({"name": "Errands"})).await.body["id"].as_str().unwrap().to_owned();
    app.share(&ada, &errands, &bob, "bob@example.com", "editor").await;
    let task =
        app.call(Method::POST, &format!("/lists/{errands}/tasks"), Some(&bob.access_token), Some(json!({"title": "Post office"}))).await;
    let task_id = task.body["id"].as_str().unwrap().to_owned();
    let body = json!({"name": "form.txt", "content_type": "text/plain", "size": 4});
    let file = app.call(Method::POST, &format!("/lists/{errands}/tasks/{task_id}/files"), Some(&bob.access_token), Some(body)).await;
    assert_eq!(crate::files::upload(&app, &file.body, b"form").await.status, StatusCode::OK);
    let file_id = todo_domain::model::FileId::parse(file.body["file"]["id"].as_str().unwrap()).unwrap();
    let key = todo_domain::ports::ObjectKey::for_file(
        todo_domain::model::UserId::parse(&bob.id).unwrap(),
        todo_domain::model::TaskId::parse(&task_id).unwrap(),
        &file_id.to_string(),
    );
    assert!(app.app.stores.blobs.head(&key).await.unwrap().is_some());

    let path = format!("/lists/{errands}");
    app.call(Method::DELETE, &path, Some(&bob.access_token), None).await.assert_problem(StatusCode::FORBIDDEN, None);
    app.call(Method::DELETE, &path, Some(&stranger.access_token), None).await.assert_problem(StatusCode::NOT_FOUND, None);
    app.call(Method::DELETE, &format!("/lists/{}", ada.id), Some(&ada.access_token), None).await.assert_problem(StatusCode::CONFLICT, None);
    let deleted = app.call(Method::DELETE, &path, Some(&ada.access_token), None).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "{:#}", deleted.body);

    // At once, for everyone: no read, no write, not in anybody's lists.
    for account in [&ada, &bob] {
        let token = Some(account.access_token.as_str());
        app.call(Method::GET, &path, token, None).await.assert_problem(StatusCode::NOT_FOUND, None);
        app.call(Method::POST, &format!("{path}/tasks"), token, Some(json!({"title": "late"})))
            .await
            .assert_problem(StatusCode::NOT_FOUND, None);
        let lists = app.call(Method::GET, "/lists", token, None).await;
        assert!(!lists.body["items"].as_array().unwrap().iter().any(|list| list["id"] == errands.as_str()), "{:#}", lists.body);
    }
    app.call(Method::DELETE, &path, Some(&ada.access_token), None).await.assert_problem(StatusCode::NOT_FOUND, None);

    // Off the request path: the tasks, the files and their bytes go, then the marker.
    assert_eq!(todo_domain::usecases::lists::finish_pending_list_deletions(&app.app, 10).await.unwrap(), (1, false));
    let list_id = todo_domain::model::ListId::parse(&errands).unwrap();
    assert_eq!(app.app.stores.lists.get_list(list_id).await.unwrap(), None);
    let task = todo_domain::model::TaskId::parse(&task_id).unwrap();
    assert_eq!(app.app.stores.tasks.get_task(list_id, task).await.unwrap(), None);
    assert_eq!(app.app.stores.files.get_file(task, file_id).await.unwrap(), None);
    assert_eq!(app.app.stores.blobs.head(&key).await.unwrap(), None, "the bytes went too");
    assert_eq!(todo_domain::usecases::lists::finish_pending_list_deletions(&app.app, 10).await.unwrap(), (0, false));
    assert!(app.app.stores.lists.memberships(todo_domain::model::UserId::parse(&ada.id).unwrap()).await.unwrap().len() == 1, "the Inbox");
}

#[tokio::test]
async fn an_idempotency_key_replays_the_same_list_and_is_one_key_space_with_tasks() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let token = Some(ada.access_token.as_str());
    let key = [("idempotency-key", "new-list-7")];
    let first = app.call_with(Method::POST, "/lists", token, &key, Some(json!({"name": "Trip", "color": "teal"}))).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.header("idempotent-replayed"), None);
    // Same body, keys in another order: the same request, answered as it was the first time.
    let retry = app.call_with(Method::POST, "/lists", token, &key, Some(json!({"color": "teal", "name": "Trip"}))).await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        (&retry.body, retry.header("location"), retry.header("etag")),
        (&first.body, first.header("location"), first.header("etag"))
    );
    let different = app.call_with(Method::POST, "/lists", token, &key, Some(json!({"name": "Other trip"}))).await;
    different.assert_problem(StatusCode::CONFLICT, None);
    assert!(different.body["detail"].as_str().unwrap().contains("Idempotency-Key"), "{:#}", different.body);
    // A key already used for a task is taken for lists too (and the reverse).
    let task_key = [("idempotency-key", "task-key")];
    let task = app.call_with(Method::POST, &format!("/lists/{}/tasks", ada.id), token, &task_key, Some(json!({"title": "x"}))).await;
    assert_eq!(task.status, StatusCode::CREATED);
    // (A body that is not a list is refused before the key is looked at.)
    app.call_with(Method::POST, "/lists", token, &task_key, Some(json!({"title": "x"})))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, Some("title"));
    app.call_with(Method::POST, "/lists", token, &task_key, Some(json!({"name": "x"}))).await.assert_problem(StatusCode::CONFLICT, None);
    app.call_with(Method::POST, &format!("/lists/{}/tasks", ada.id), token, &key, Some(json!({"name": "Trip"})))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, Some("name"));
    app.call_with(Method::POST, &format!("/lists/{}/tasks", ada.id), token, &key, Some(json!({"title": "Trip"})))
        .await
        .assert_problem(StatusCode::CONFLICT, None);
    // Nothing made twice: the Inbox and one Trip.
    let lists = app.call(Method::GET, "/lists", token, None).await;
    let names: Vec<&str> = lists.body["items"].as_array().unwrap().iter().map(|list| list["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Inbox", "Trip"]);
    // A malformed key is a 422 naming the header, and creates nothing.
    app.call_with(Method::POST, "/lists", token, &[("idempotency-key", "has space")], Some(json!({"name": "Bad key"})))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, Some("Idempotency-Key"));
    assert_eq!(app.call(Method::GET, "/lists", token, None).await.body["items"].as_array().unwrap().len(), 2);
}
