//! Sharing over HTTP: invitations by email (the same answer whether or not the email has an
//! account), joining, roles, leaving and removal, and the isolation matrix — every route of a
//! list, asked by its owner, an editor, a viewer, a stranger, a removed member and someone
//! invited who has not accepted, each answering exactly as the access rules say.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Account, TestApp};

async fn create_list(app: &TestApp, owner: &Account, name: &str) -> String {
    let reply = app.call(Method::POST, "/lists", Some(&owner.access_token), Some(json!({"name": name}))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

async fn task_in(app: &TestApp, owner: &Account, list: &str, title: &str) -> String {
    let reply = app.call(Method::POST, &format!("/lists/{list}/tasks"), Some(&owner.access_token), Some(json!({"title": title}))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

async fn file_on(app: &TestApp, owner: &Account, list: &str, task: &str) -> String {
    let body = json!({"name": "plan.txt", "content_type": "text/plain", "size": 4});
    let reply = app.call(Method::POST, &format!("/lists/{list}/tasks/{task}/files"), Some(&owner.access_token), Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
    reply.body["file"]["id"].as_str().unwrap().to_owned()
}

fn ids(body: &Value, field: &str) -> Vec<String> {
    body["items"].as_array().unwrap().iter().map(|item| item[field].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn an_owner_shares_a_list_and_members_join_change_role_leave_and_are_removed() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let list = create_list(&app, &ada, "Trip").await;

    // Known and unknown emails: the same status and the same shape, nothing else told.
    let known = app
        .call(
            Method::POST,
            &format!("/lists/{list}/invitations"),
            Some(&ada.access_token),
            Some(json!({"email": "Bob@Example.com", "role": "viewer"})),
        )
        .await;
    let unknown = app
        .call(
            Method::POST,
            &format!("/lists/{list}/invitations"),
            Some(&ada.access_token),
            Some(json!({"email": "nobody@example.com", "role": "viewer"})),
        )
        .await;
    assert_eq!((known.status, unknown.status), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    let keys = |body: &Value| body.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&known.body), keys(&unknown.body));
    assert_eq!(known.body["email"], "bob@example.com", "emails are compared lower-cased");
    let invitation = known.body["id"].as_str().unwrap().to_owned();
    assert!(known.headers.get("location").is_none(), "no Location: an invitation has no GET route");

    let pending = app.call(Method::GET, &format!("/lists/{list}/invitations"), Some(&ada.access_token), None).await;
    assert_eq!(pending.status, StatusCode::OK);
    assert_eq!(ids(&pending.body, "email"), ["bob@example.com", "nobody@example.com"]);

    // Bob sees it, with who sent it and the list's name; it is his alone to answer.
    let received = app.call(Method::GET, "/invitations", Some(&bob.access_token), None).await;
    assert_eq!(ids(&received.body, "id"), std::slice::from_ref(&invitation));
    assert_eq!(
        (received.body["items"][0]["list_name"].as_str(), received.body["items"][0]["role"].as_str()),
        (Some("Trip"), Some("viewer"))
    );
    let stolen = app.call(Method::POST, &format!("/invitations/{invitation}/accept"), Some(&ada.access_token), None).await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND, "an invitation to someone else's email: {:#}", stolen.body);
    let joined = app.call(Method::POST, &format!("/invitations/{invitation}/accept"), Some(&bob.access_token), None).await;
    assert_eq!(joined.status, StatusCode::OK, "{:#}", joined.body);
    assert_eq!((joined.body["id"].as_str(), joined.body["role"].as_str()), (Some(list.as_str()), Some("viewer")));
    let again = app.call(Method::POST, &format!("/invitations/{invitation}/accept"), Some(&bob.access_token), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "used up");
    let bobs_lists = app.call(Method::GET, "/lists", Some(&bob.access_token), None).await;
    assert!(ids(&bobs_lists.body, "id").contains(&list), "{:#}", bobs_lists.body);

    let members = app.call(Method::GET, &format!("/lists/{list}/members"), Some(&bob.access_token), None).await;
    assert_eq!(members.status, StatusCode::OK);
    let mut roles: Vec<(String, String)> = members.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| (member["email"].as_str().unwrap().to_owned(), member["role"].as_str().unwrap().to_owned()))
        .collect();
    roles.sort();
    assert_eq!(roles, [("ada@example.com".to_owned(), "owner".to_owned()), ("bob@example.com".to_owned(), "viewer".to_owned())]);

    // A viewer cannot write; promoted to editor, he can.
    let refused = app.call(Method::POST, &format!("/lists/{list}/tasks"), Some(&bob.access_token), Some(json!({"title": "x"}))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let promoted = app
        .call(Method::PATCH, &format!("/lists/{list}/members/{}", bob.id), Some(&ada.access_token), Some(json!({"role": "editor"})))
        .await;
    assert_eq!((promoted.status, promoted.body["role"].as_str()), (StatusCode::OK, Some("editor")), "{:#}", promoted.body);
    task_in(&app, &bob, &list, "Book the train").await;
    for (body, field) in [(json!({"role": "owner"}), "role"), (json!({"role": "admin"}), "role")] {
        let bad = app.call(Method::PATCH, &format!("/lists/{list}/members/{}", bob.id), Some(&ada.access_token), Some(body)).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.body["errors"][0]["field"], field, "{:#}", bad.body);
    }
    let own = app
        .call(Method::PATCH, &format!("/lists/{list}/members/{}", ada.id), Some(&ada.access_token), Some(json!({"role": "viewer"})))
        .await;
    assert_eq!(own.status, StatusCode::CONFLICT, "the owner stays the owner");
    let owner_leaves = app.call(Method::DELETE, &format!("/lists/{list}/members/{}", ada.id), Some(&ada.access_token), None).await;
    assert_eq!(owner_leaves.status, StatusCode::CONFLICT);

    // Bob leaves: from his next request on the list is a 404; re-invited, he re-joins.
    let left = app.call(Method::DELETE, &format!("/lists/{list}/members/{}", bob.id), Some(&bob.access_token), None).await;
    assert_eq!(left.status, StatusCode::NO_CONTENT);
    let gone = app.call(Method::GET, &format!("/lists/{list}"), Some(&bob.access_token), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    app.share(&ada, &list, &bob, "bob@example.com", "editor").await;
    let back = app.call(Method::GET, &format!("/lists/{list}"), Some(&bob.access_token), None).await;
    assert_eq!((back.status, back.body["role"].as_str()), (StatusCode::OK, Some("editor")));
    let removed = app.call(Method::DELETE, &format!("/lists/{list}/members/{}", bob.id), Some(&ada.access_token), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let after = app.call(Method::GET, &format!("/lists/{list}/tasks"), Some(&bob.access_token), None).await;
    assert_eq!(after.status, StatusCode::NOT_FOUND, "removed: no access on the next request");
    let twice = app.call(Method::DELETE, &format!("/lists/{list}/members/{}", bob.id), Some(&ada.access_token), None).await;
    assert_eq!(twice.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invitations_are_revoked_declined_replaced_expire_and_are_bounded() {
    let clock = std::sync::Arc::new(todo_domain::clock::ManualClock::new(todo_domain::model::Timestamp::from_datetime(chrono::Utc::now())));
    let app = TestApp::spawn_with_clock(clock.clone());
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let list = create_list(&app, &ada, "Club").await;

    let own = app
        .call(
            Method::POST,
            &format!("/lists/{list}/invitations"),
            Some(&ada.access_token),
            Some(json!({"email": "ada@example.com", "role": "viewer"})),
        )
        .await;
    own.assert_problem(StatusCode::CONFLICT, None);
    let bad = app
        .call(
            Method::POST,
            &format!("/lists/{list}/invitations"),
            Some(&ada.access_token),
            Some(json!({"email": "not an email", "role": "owner"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = bad.body["errors"].as_array().unwrap().iter().filter_map(|error| error["field"].as_str()).collect();
    assert_eq!(fields, ["email", "role"], "every bad field named: {:#}", bad.body);

    // Inviting again replaces: one pending invitation per email, the new role.
    let first = app.invite(&ada, &list, "bob@example.com", "viewer").await;
    let second = app.invite(&ada, &list, "bob@example.com", "editor").await;
    let pending = app.call(Method::GET, &format!("/lists/{list}/invitations"), Some(&ada.access_token), None).await;
    assert_eq!(ids(&pending.body, "id"), std::slice::from_ref(&second));
    let stale = app.call(Method::POST, &format!("/invitations/{first}/accept"), Some(&bob.access_token), None).await;
    assert_eq!(stale.status, StatusCode::NOT_FOUND, "the replaced invitation is gone");

    // Declined: gone for both.
    let declined = app.call(Method::POST, &format!("/invitations/{second}/decline"), Some(&bob.access_token), None).await;
    assert_eq!(declined.status, StatusCode::NO_CONTENT);
    let pending = app.call(Method::GET, &format!("/lists/{list}/invitations"), Some(&ada.access_token), None).await;
    assert!(ids(&pending.body, "id").is_empty());

    // Revoked: no longer accepted.
    let revoked = app.invite(&ada, &list, "bob@example.com", "viewer").await;
    let reply = app.call(Method::DELETE, &format!("/lists/{list}/invitations/{revoked}"), Some(&ada.access_token), None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = app.call(Method::POST, &format!("/invitations/{revoked}/accept"), Some(&bob.access_token), None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = app.call(Method::DELETE, &format!("/lists/{list}/invitations/{revoked}"), Some(&ada.access_token), None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // Expired after seven days: not offered, not accepted.
    let expiring = app.invite(&ada, &list, "bob@example.com", "viewer").await;
    clock.advance(chrono::Duration::days(7));
    let received = app.call(Method::GET, "/invitations", Some(&bob.access_token), None).await;
    assert!(ids(&received.body, "id").is_empty(), "{:#}", received.body);
    let reply = app.call(Method::POST, &format!("/invitations/{expiring}/accept"), Some(&bob.access_token), None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // An invitation to an email that signs up later waits for it.
    let later = app.invite(&ada, &list, "carol@example.com", "viewer").await;
    let carol = app.sign_up("carol@example.com").await;
    let received = app.call(Method::GET, "/invitations", Some(&carol.access_token), None).await;
    assert_eq!(ids(&received.body, "id"), std::slice::from_ref(&later));
    let reply = app.call(Method::POST, &format!("/invitations/{later}/accept"), Some(&carol.access_token), None).await;
    assert_eq!(reply.status, StatusCode::OK);

    // 50 people at most: Carol and 48 invitations fill the seats (the expired one gives its seat back).
    for n in 0..48 {
        app.invite(&ada, &list, &format!("guest{n}@example.com"), "viewer").await;
    }
    let full = app
        .call(
            Method::POST,
            &format!("/lists/{list}/invitations"),
            Some(&ada.access_token),
            Some(json!({"email": "one-more@example.com", "role": "viewer"})),
        )
        .await;
    assert_eq!(full.status, StatusCode::CONFLICT, "{:#}", full.body);
    let replaced = app
        .call(
            Method::POST,
            &format!("/lists/{list}/invitations"),
            Some(&ada.access_token),
            Some(json!({"email": "guest0@example.com", "role": "editor"})),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::ACCEPTED, "re-inviting keeps its seat");
    let left = app.call(Method::DELETE, &format!("/lists/{list}/members/{}", carol.id), Some(&carol.access_token), None).await;
    assert_eq!(left.status, StatusCode::NO_CONTENT);
    app.invite(&ada, &list, "one-more@example.com", "viewer").await;
}

/// What a caller is to the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relation {
    Owner,
    Editor,
    Viewer,
    Stranger,
    Removed,
    Invited,
}

/// Who may use a route.
#[derive(Clone, Copy, Debug)]
enum Needs {
    Member,
    Writer,
    Owner,
}

impl Needs {
    fn allows(self, relation: Relation) -> Option<bool> {
        let member = matches!(relation, Relation::Owner | Relation::Editor | Relation::Viewer);
        if !member {
            return None; // 404: the list does not exist for them
        }
        Some(match self {
            Self::Member => true,
            Self::Writer => relation != Relation::Viewer,
            Self::Owner => relation == Relation::Owner,
        })
    }
}

/// Fresh things for one caller to act on, so every row of the matrix can succeed.
struct Targets {
    task: String,
    file: String,
    invitation: String,
    member: String,
}

async fn targets(app: &TestApp, owner: &Account, list: &str, n: usize) -> Targets {
    let task = task_in(app, owner, list, &format!("to delete {n}")).await;
    let file = file_on(app, owner, list, &task).await;
    let doomed = task_in(app, owner, list, &format!("to delete, with its file, {n}")).await;
    let invitation = app.invite(owner, list, &format!("revoke-me-{n}@example.com"), "viewer").await;
    let email = format!("extra-{n}@example.com");
    let extra = app.sign_up(&email).await;
    app.share(owner, list, &extra, &email, "viewer").await;
    // `task` holds `file` (deleted first); `doomed` is deleted outright.
    Targets { task: format!("{task}|{doomed}"), file, invitation, member: extra.id }
}

#[tokio::test]
async fn the_isolation_matrix_every_route_for_every_relation() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let list = create_list(&app, &ada, "Shared").await;
    let task = task_in(&app, &ada, &list, "Shared task").await;
    let file = file_on(&app, &ada, &list, &task).await;

    let mut callers = vec![(Relation::Owner, ada.clone())];
    for (relation, email) in [
        (Relation::Editor, "editor@example.com"),
        (Relation::Viewer, "viewer@example.com"),
        (Relation::Stranger, "stranger@example.com"),
        (Relation::Removed, "removed@example.com"),
        (Relation::Invited, "invited@example.com"),
    ] {
        let account = app.sign_up(email).await;
        match relation {
            Relation::Editor => app.share(&ada, &list, &account, email, "editor").await,
            Relation::Viewer => app.share(&ada, &list, &account, email, "viewer").await,
            Relation::Removed => {
                app.share(&ada, &list, &account, email, "editor").await;
                let reply = app.call(Method::DELETE, &format!("/lists/{list}/members/{}", account.id), Some(&ada.access_token), None).await;
                assert_eq!(reply.status, StatusCode::NO_CONTENT);
            }
            Relation::Invited => {
                app.invite(&ada, &list, email, "editor").await;
            }
            Relation::Owner | Relation::Stranger => {}
        }
        callers.push((relation, account));
    }

    let mut checked = 0;
    for (n, (relation, caller)) in callers.iter().enumerate() {
        let own = targets(&app, &ada, &list, n).await;
        let (own_task, doomed) = own.task.split_once('|').unwrap();
        let viewer_id = callers.iter().find(|(relation, _)| *relation == Relation::Viewer).unwrap().1.id.clone();
        let rows: Vec<(Method, String, Option<Value>, Needs, StatusCode)> = vec![
            (Method::GET, format!("/lists/{list}"), None, Needs::Member, StatusCode::OK),
            (Method::PATCH, format!("/lists/{list}"), Some(json!({"color": "teal"})), Needs::Writer, StatusCode::OK),
            (Method::GET, format!("/lists/{list}/tasks"), None, Needs::Member, StatusCode::OK),
            (Method::POST, format!("/lists/{list}/tasks"), Some(json!({"title": "new"})), Needs::Writer, StatusCode::CREATED),
            (Method::GET, format!("/lists/{list}/tasks/{task}"), None, Needs::Member, StatusCode::OK),
            (Method::PATCH, format!("/lists/{list}/tasks/{task}"), Some(json!({"notes": "changed"})), Needs::Writer, StatusCode::OK),
            (Method::GET, format!("/lists/{list}/tasks/{task}/files"), None, Needs::Member, StatusCode::OK),
            (Method::GET, format!("/lists/{list}/tasks/{task}/files/{file}"), None, Needs::Member, StatusCode::OK),
            (
                Method::POST,
                format!("/lists/{list}/tasks/{task}/files"),
                Some(json!({"name": "b.txt", "content_type": "text/plain", "size": 1})),
                Needs::Writer,
                StatusCode::CREATED,
            ),
            (Method::DELETE, format!("/lists/{list}/tasks/{own_task}/files/{}", own.file), None, Needs::Writer, StatusCode::NO_CONTENT),
            (Method::DELETE, format!("/lists/{list}/tasks/{doomed}"), None, Needs::Writer, StatusCode::NO_CONTENT),
            (Method::GET, format!("/lists/{list}/members"), None, Needs::Member, StatusCode::OK),
            (Method::PATCH, format!("/lists/{list}/members/{viewer_id}"), Some(json!({"role": "viewer"})), Needs::Owner, StatusCode::OK),
            (Method::DELETE, format!("/lists/{list}/members/{}", own.member), None, Needs::Owner, StatusCode::NO_CONTENT),
            (Method::GET, format!("/lists/{list}/invitations"), None, Needs::Owner, StatusCode::OK),
            (
                Method::POST,
                format!("/lists/{list}/invitations"),
                Some(json!({"email": format!("new-{n}@example.com"), "role": "viewer"})),
                Needs::Owner,
                StatusCode::ACCEPTED,
            ),
            (Method::DELETE, format!("/lists/{list}/invitations/{}", own.invitation), None, Needs::Owner, StatusCode::NO_CONTENT),
        ];
        for (method, path, body, needs, success) in rows {
            let expected = match needs.allows(*relation) {
                Some(true) => success,
                Some(false) => StatusCode::FORBIDDEN,
                None => StatusCode::NOT_FOUND,
            };
            let reply = app.call(method.clone(), &path, Some(&caller.access_token), body).await;
            assert_eq!(reply.status, expected, "{relation:?} {method} {path}: {:#}", reply.body);
            if expected == StatusCode::NOT_FOUND {
                assert_eq!(reply.body["status"], 404, "a problem document, telling nothing: {:#}", reply.body);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 6 * 17, "every route for every relation");

    // Nothing a refused caller asked for happened: the shared task is as the members left it.
    let reply = app.call(Method::GET, &format!("/lists/{list}/tasks/{task}"), Some(&ada.access_token), None).await;
    assert_eq!(reply.body["notes"], "changed");
    let files = app.call(Method::GET, &format!("/lists/{list}/tasks/{task}/files"), Some(&ada.access_token), None).await;
    assert_eq!(files.body["items"].as_array().unwrap().len(), 3, "the first file + one per writer (owner, editor)");

    // And deleting the list (last: it ends the list for everyone): only its owner may.
    for (relation, caller) in callers.iter().rev() {
        let reply = app.call(Method::DELETE, &format!("/lists/{list}"), Some(&caller.access_token), None).await;
        let expected = match Needs::Owner.allows(*relation) {
            Some(true) => StatusCode::ACCEPTED,
            Some(false) => StatusCode::FORBIDDEN,
            None => StatusCode::NOT_FOUND,
        };
        assert_eq!(reply.status, expected, "{relation:?} DELETE /lists/{list}: {:#}", reply.body);
        if *relation == Relation::Owner {
            todo_domain::usecases::lists::finish_pending_list_deletions(&app.app, 10).await.unwrap();
        }
    }
}

/// `PATCH {"list_id": ...}` moves a task: the caller writes tasks in both lists; the task
/// keeps its id, files and history; the next occurrence of a recurring task completed in the
/// same patch lands in the new list; a list one cannot write is named as a bad `list_id`,
/// whether it exists or not.
#[tokio::test]
async fn moving_a_task_needs_the_right_to_write_both_lists() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let shared = create_list(&app, &ada, "Shared").await;
    let readonly = create_list(&app, &ada, "Read only").await;
    app.share(&ada, &shared, &bob, "bob@example.com", "editor").await;
    app.share(&ada, &readonly, &bob, "bob@example.com", "viewer").await;

    let body = json!({"title": "Rent", "due": "2027-01-31T09:00:00Z", "recurrence": {"freq": "monthly"}});
    let created = app.call(Method::POST, &format!("/lists/{}/tasks", ada.id), Some(&ada.access_token), Some(body)).await;
    let task = created.body["id"].as_str().unwrap().to_owned();
    let file = file_on(&app, &ada, &ada.id, &task).await;

    let moved = app
        .call(Method::PATCH, &format!("/lists/{}/tasks/{task}", ada.id), Some(&ada.access_token), Some(json!({"list_id": shared})))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{:#}", moved.body);
    assert_eq!((moved.body["id"].as_str(), moved.body["list_id"].as_str()), (Some(task.as_str()), Some(shared.as_str())));
    assert_eq!(moved.headers["etag"], "\"2\"");
    app.call(Method::GET, &format!("/lists/{}/tasks/{task}", ada.id), Some(&ada.access_token), None)
        .await
        .assert_problem(StatusCode::NOT_FOUND, None);
    let files = app.call(Method::GET, &format!("/lists/{shared}/tasks/{task}/files"), Some(&bob.access_token), None).await;
    assert_eq!(ids(&files.body, "id"), [file], "its files came along, visible to the new list's members");

    // Bob (editor of Shared, viewer of Read only, a stranger to Ada's Inbox).
    let path = format!("/lists/{shared}/tasks/{task}");
    for target in [readonly.as_str(), ada.id.as_str(), "01JZZZZZZZZZZZZZZZZZZZZZZZ"] {
        let refused = app.call(Method::PATCH, &path, Some(&bob.access_token), Some(json!({"list_id": target, "title": "x"}))).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{target}: {:#}", refused.body);
        assert_eq!(refused.body["errors"][0]["field"], "list_id");
        assert_eq!(refused.body["errors"][0]["message"], "is not a list you can add tasks to", "the same words for every reason");
    }
    let null = app.call(Method::PATCH, &path, Some(&bob.access_token), Some(json!({"list_id": null}))).await;
    assert_eq!(null.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unchanged = app.call(Method::GET, &path, Some(&ada.access_token), None).await;
    assert_eq!((unchanged.body["title"].as_str(), unchanged.headers["etag"].to_str().unwrap()), (Some("Rent"), "\"2\""), "nothing changed");

    // A viewer of the source cannot move out of it.
    let viewer_task = task_in(&app, &ada, &readonly, "Stay").await;
    let refused = app
        .call(Method::PATCH, &format!("/lists/{readonly}/tasks/{viewer_task}"), Some(&bob.access_token), Some(json!({"list_id": shared})))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Bob completes it and moves it to his Inbox in one patch: the next occurrence is there too.
    let done = app.call(Method::PATCH, &path, Some(&bob.access_token), Some(json!({"list_id": bob.id, "status": "completed"}))).await;
    assert_eq!((done.status, done.body["list_id"].as_str()), (StatusCode::OK, Some(bob.id.as_str())), "{:#}", done.body);
    let open = app.call(Method::GET, &format!("/lists/{}/tasks?status=open", bob.id), Some(&bob.access_token), None).await;
    assert_eq!(open.body["items"].as_array().unwrap().len(), 1, "{:#}", open.body);
    assert_eq!(open.body["items"][0]["due"], "2027-02-28T09:00:00.000Z", "the next occurrence, in the new list");
    app.call(Method::GET, &path, Some(&ada.access_token), None).await.assert_problem(StatusCode::NOT_FOUND, None);
}

/// `GET /tasks`: the tasks of every list the caller is in, own and shared, with the list
/// filters; a list one leaves drops out on the next request.
#[tokio::test]
async fn the_cross_list_view_follows_membership() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let shared = create_list(&app, &bob, "Bob's").await;
    app.share(&bob, &shared, &ada, "ada@example.com", "viewer").await;
    let mine = task_in(&app, &ada, &ada.id, "Mine").await;
    let theirs = task_in(&app, &bob, &shared, "Shared with me").await;
    task_in(&app, &bob, &bob.id, "Bob's own").await;
    let tagged = app
        .call(
            Method::POST,
            &format!("/lists/{}/tasks", ada.id),
            Some(&ada.access_token),
            Some(json!({"title": "Tagged", "tags": ["home"]})),
        )
        .await;
    let tagged = tagged.body["id"].as_str().unwrap().to_owned();

    let all = app.call(Method::GET, "/tasks", Some(&ada.access_token), None).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(ids(&all.body, "id"), [mine.clone(), theirs.clone(), tagged.clone()], "creation order across lists");
    let home = app.call(Method::GET, "/tasks?tag=home", Some(&ada.access_token), None).await;
    assert_eq!(ids(&home.body, "id"), std::slice::from_ref(&tagged));
    let first = app.call(Method::GET, "/tasks?limit=1", Some(&ada.access_token), None).await;
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app.call(Method::GET, &format!("/tasks?limit=1&cursor={cursor}"), Some(&ada.access_token), None).await;
    assert_eq!((ids(&first.body, "id"), ids(&second.body, "id")), (vec![mine.clone()], vec![theirs]));
    let stolen = app.call(Method::GET, &format!("/tasks?limit=1&cursor={cursor}"), Some(&bob.access_token), None).await;
    assert_eq!((stolen.status, stolen.body["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("cursor")));
    let bad = app.call(Method::GET, "/tasks?status=maybe", Some(&ada.access_token), None).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let left = app.call(Method::DELETE, &format!("/lists/{shared}/members/{}", ada.id), Some(&ada.access_token), None).await;
    assert_eq!(left.status, StatusCode::NO_CONTENT);
    let after = app.call(Method::GET, "/tasks", Some(&ada.access_token), None).await;
    assert_eq!(ids(&after.body, "id"), [mine, tagged], "the shared list's task went with the membership");
}

/// A task moved away while a member deletes it (as read before the move) is a 404 for the
/// task: its files stay with it, and the request ends instead of retrying.
#[tokio::test]
async fn deleting_through_a_list_the_task_left_removes_nothing() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let other = create_list(&app, &ada, "Other").await;
    let task = task_in(&app, &ada, &ada.id, "Moving").await;
    let file = file_on(&app, &ada, &ada.id, &task).await;
    let (list_id, task_id) = (todo_domain::model::ListId::parse(&ada.id).unwrap(), todo_domain::model::TaskId::parse(&task).unwrap());
    let writer = todo_domain::ports::Writer::Member { user: todo_domain::model::UserId::parse(&ada.id).unwrap(), list: list_id };
    let moved =
        app.call(Method::PATCH, &format!("/lists/{}/tasks/{task}", ada.id), Some(&ada.access_token), Some(json!({"list_id": other}))).await;
    assert_eq!(moved.status, StatusCode::OK);
    // The delete's file cleanup as it runs after having read the task in the Inbox.
    let error = todo_domain::usecases::files::delete_task_files(&app.app, writer, task_id).await.unwrap_err();
    assert!(matches!(error, todo_domain::Error::NotFound("task")), "{error:?}");
    let files = app.call(Method::GET, &format!("/lists/{other}/tasks/{task}/files"), Some(&ada.access_token), None).await;
    assert_eq!(ids(&files.body, "id"), [file], "the file is still there, in the task's new list");
}

async fn list_names(app: &TestApp, account: &Account) -> Vec<String> {
    ids(&app.call(Method::GET, "/lists", Some(&account.access_token), None).await.body, "name")
}

/// `position` is each member's own order of their lists: a viewer may set it, it shows only
/// to them, `GET /lists` follows it, it is not part of the list's version, and a refused
/// patch changes neither the list nor the position.
#[tokio::test]
async fn each_member_orders_their_own_lists() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let trip = create_list(&app, &ada, "Trip").await;
    let club = create_list(&app, &ada, "Club").await;
    app.share(&ada, &trip, &bob, "bob@example.com", "viewer").await;
    let names = |body: &Value| -> Vec<String> { ids(body, "name") };

    assert_eq!(list_names(&app, &ada).await, ["Inbox", "Trip", "Club"], "unplaced: oldest first");
    let placed = app.call(Method::PATCH, &format!("/lists/{trip}"), Some(&bob.access_token), Some(json!({"position": 0}))).await;
    assert_eq!((placed.status, placed.body["position"].as_u64()), (StatusCode::OK, Some(0)), "a viewer places a list: {:#}", placed.body);
    assert_eq!(placed.headers["etag"], "\"1\"", "the list itself did not change");
    assert_eq!(list_names(&app, &bob).await, ["Trip", "Inbox"]);
    let adas = app.call(Method::GET, "/lists", Some(&ada.access_token), None).await;
    assert_eq!(names(&adas.body), ["Inbox", "Trip", "Club"], "Bob's order is his own");
    assert!(adas.body["items"].as_array().unwrap().iter().all(|list| list["position"].is_null()));

    for (list, position) in [(&club, 10), (&ada.id, 20), (&trip, 10)] {
        let reply = app.call(Method::PATCH, &format!("/lists/{list}"), Some(&ada.access_token), Some(json!({"position": position}))).await;
        assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
    }
    assert_eq!(list_names(&app, &ada).await, ["Trip", "Club", "Inbox"], "by position, ties oldest first");
    let got = app.call(Method::GET, &format!("/lists/{club}"), Some(&ada.access_token), None).await;
    assert_eq!(got.body["position"], 10);
    // Pages of one resume after each list's place.
    let mut seen = Vec::new();
    let mut path = "/lists?limit=1".to_owned();
    loop {
        let page = app.call(Method::GET, &path, Some(&ada.access_token), None).await;
        seen.extend(names(&page.body));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/lists?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["Trip", "Club", "Inbox"]);

    // Out of range, wrong type: refused, naming the field, nothing changed.
    for bad in [json!(-1), json!(1_000_001), json!(1.5)] {
        let reply = app.call(Method::PATCH, &format!("/lists/{club}"), Some(&ada.access_token), Some(json!({"position": bad}))).await;
        assert!(reply.status.is_client_error(), "{bad}: {:#}", reply.body);
        assert_eq!(reply.body["errors"][0]["field"], "position", "{bad}: {:#}", reply.body);
    }
    // A viewer renaming and placing at once is refused as a whole.
    let refused =
        app.call(Method::PATCH, &format!("/lists/{trip}"), Some(&bob.access_token), Some(json!({"name": "Mine", "position": 3}))).await;
    refused.assert_problem(StatusCode::FORBIDDEN, None);
    let bobs_trip = app.call(Method::GET, &format!("/lists/{trip}"), Some(&bob.access_token), None).await;
    assert_eq!((bobs_trip.body["name"].as_str(), bobs_trip.body["position"].as_u64()), (Some("Trip"), Some(0)));
    // `null` unplaces it again; a stranger's patch is a 404.
    let cleared = app.call(Method::PATCH, &format!("/lists/{club}"), Some(&ada.access_token), Some(json!({"position": null}))).await;
    assert_eq!((cleared.status, cleared.body["position"].clone()), (StatusCode::OK, Value::Null));
    assert_eq!(list_names(&app, &ada).await, ["Trip", "Inbox", "Club"]);
    app.call(Method::PATCH, &format!("/lists/{club}"), Some(&bob.access_token), Some(json!({"position": 1})))
        .await
        .assert_problem(StatusCode::NOT_FOUND, None);
    // A member who leaves and re-joins starts unplaced.
    app.call(Method::DELETE, &format!("/lists/{trip}/members/{}", bob.id), Some(&bob.access_token), None).await;
    app.share(&ada, &trip, &bob, "bob@example.com", "editor").await;
    assert_eq!(list_names(&app, &bob).await, ["Inbox", "Trip"]);
}

async fn feed_of(app: &TestApp, account: &Account) -> crate::support::Reply {
    app.call(Method::GET, "/notifications", Some(&account.access_token), None).await
}

/// An invitation reaches its invitee's notification feed off the request path (the local
/// server's loop here, the table stream's `invitation-announce` on AWS), once; the inviter's
/// answer is the same whether or not the address has an account, and an address nobody
/// holds yet gets nothing in any feed.
#[tokio::test]
async fn an_invitation_is_announced_in_the_invitees_feed() {
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    app.call(Method::PATCH, "/users/me", Some(&ada.access_token), Some(json!({"name": "Ada"}))).await;
    let trip = create_list(&app, &ada, "Trip").await;
    let to_bob = app.invite(&ada, &trip, "bob@example.com", "editor").await;
    let _to_nobody = app.invite(&ada, &trip, "grace@example.com", "viewer").await;
    assert!(feed_of(&app, &bob).await.body["items"].as_array().unwrap().is_empty(), "nothing on the request path");

    assert_eq!(app.announce_invitations().await, 2);
    assert_eq!(app.announce_invitations().await, 0, "each invitation once");
    let feed = feed_of(&app, &bob).await;
    let items = feed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:#}", feed.body);
    let notice = &items[0];
    assert_eq!(
        (notice["kind"].as_str(), notice["invitation_id"].as_str(), notice["list_id"].as_str(), notice["list_name"].as_str()),
        (Some("invited"), Some(to_bob.as_str()), Some(trip.as_str()), Some("Trip"))
    );
    assert_eq!(
        (notice["role"].as_str(), notice["invited_by_name"].as_str(), notice["read"].as_bool()),
        (Some("editor"), Some("Ada"), Some(false))
    );
    assert!(notice.get("task_id").is_none(), "no task fields on an invitation's notification: {notice:#}");
    assert!(feed_of(&app, &ada).await.body["items"].as_array().unwrap().is_empty(), "the inviter is told nothing");

    // Answered through the id it names; answering it reads it (accepting or declining).
    let joined = app.call(Method::POST, &format!("/invitations/{to_bob}/accept"), Some(&bob.access_token), None).await;
    assert_eq!((joined.status, joined.body["role"].as_str()), (StatusCode::OK, Some("editor")), "{:#}", joined.body);
    assert_eq!(feed_of(&app, &bob).await.body["items"][0]["read"], true);
    let club = create_list(&app, &ada, "Club").await;
    let to_club = app.invite(&ada, &club, "bob@example.com", "viewer").await;
    assert_eq!(app.announce_invitations().await, 1);
    let unread = app.call(Method::GET, "/notifications?unread=true", Some(&bob.access_token), None).await;
    assert_eq!(unread.body["items"][0]["list_name"], "Club", "{:#}", unread.body);
    let declined = app.call(Method::POST, &format!("/invitations/{to_club}/decline"), Some(&bob.access_token), None).await;
    assert_eq!(declined.status, StatusCode::NO_CONTENT);
    let unread = app.call(Method::GET, "/notifications?unread=true", Some(&bob.access_token), None).await;
    assert_eq!(unread.body["items"], json!([]), "declined, so read");

    // Grace signs up after the announcement: her invitation waits in GET /invitations.
    let grace = app.sign_up("grace@example.com").await;
    let waiting = app.call(Method::GET, "/invitations", Some(&grace.access_token), None).await;
    assert_eq!(waiting.body["items"].as_array().unwrap().len(), 1, "{:#}", waiting.body);
    assert!(feed_of(&app, &grace).await.body["items"].as_array().unwrap().is_empty());
}
