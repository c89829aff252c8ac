use todo_domain::model::{Email, SessionId, TaskList, User, UserId};
use todo_domain::ports::{PageRequest, Session, StoreError, TaskFilter};

use crate::support::{Backend, inbox, now, sign_up, user};

pub async fn insert_get_and_find_by_email(backend: Backend) {
    let users = &backend.stores.users;
    let ada = user("ada@example.com");
    users.insert_user(&ada, &TaskList::inbox_of(ada.id, now())).await.unwrap();
    assert_eq!(users.get_user(ada.id).await.unwrap(), Some(ada.clone()));
    assert_eq!(users.find_user_by_email(&Email::parse("ADA@example.com").unwrap()).await.unwrap(), Some(ada.clone()));
    assert_eq!(users.find_user_by_email(&Email::parse("bob@example.com").unwrap()).await.unwrap(), None);
    assert_eq!(users.get_user(UserId::generate()).await.unwrap(), None);
    if backend.is_dynamodb() {
        backend.calls();
        users.get_user(ada.id).await.unwrap();
        assert_eq!(backend.calls().values().sum::<usize>(), 1, "a user read is one call");
    }
}

pub async fn one_email_one_account_even_concurrently(backend: Backend) {
    let users = &backend.stores.users;
    sign_up(&**users, user("ada@example.com")).await.unwrap();
    assert!(matches!(sign_up(&**users, user("ada@example.com")).await, Err(StoreError::AlreadyExists)));
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let users = users.clone();
            tokio::spawn(async move { sign_up(&*users, user("race@example.com")).await })
        })
        .collect();
    let mut created = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(()) => created += 1,
            Err(StoreError::AlreadyExists) => {}
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 1);
}

pub async fn replace_is_conditional_on_version(backend: Backend) {
    let users = &backend.stores.users;
    let ada = user("ada@example.com");
    users.insert_user(&ada, &TaskList::inbox_of(ada.id, now())).await.unwrap();
    let mut renamed = ada.clone();
    renamed.name = Some(todo_domain::model::DisplayName::parse("Ada").unwrap());
    renamed.version = 2;
    users.replace_user(&ada, &renamed, None).await.unwrap();
    assert_eq!(users.get_user(ada.id).await.unwrap(), Some(renamed.clone()));
    // `ada` is now stale.
    let mut stale = ada.clone();
    stale.version = 2;
    assert!(matches!(users.replace_user(&ada, &stale, None).await, Err(StoreError::VersionMismatch)));
    let ghost = user("ghost@example.com");
    let mut ghost_v2 = ghost.clone();
    ghost_v2.version = 2;
    assert!(matches!(users.replace_user(&ghost, &ghost_v2, None).await, Err(StoreError::NotFound | StoreError::VersionMismatch)));
    assert!(users.get_user(ghost.id).await.unwrap().is_none(), "a failed replace creates nothing");
}

pub async fn changing_email_moves_the_guard(backend: Backend) {
    let users = &backend.stores.users;
    let ada = user("ada@example.com");
    let bob = user("bob@example.com");
    users.insert_user(&ada, &TaskList::inbox_of(ada.id, now())).await.unwrap();
    users.insert_user(&bob, &TaskList::inbox_of(bob.id, now())).await.unwrap();
    let mut moved = ada.clone();
    moved.email = Email::parse("ada@new.example").unwrap();
    moved.version = 2;
    users.replace_user(&ada, &moved, None).await.unwrap();
    assert_eq!(users.find_user_by_email(&moved.email).await.unwrap(), Some(moved.clone()));
    assert_eq!(users.find_user_by_email(&ada.email).await.unwrap(), None);
    // The old address is free; the new one is taken.
    sign_up(&**users, user("ada@example.com")).await.unwrap();
    let mut bob_steals = bob.clone();
    bob_steals.email = moved.email.clone();
    bob_steals.version = 2;
    assert!(matches!(users.replace_user(&bob, &bob_steals, None).await, Err(StoreError::AlreadyExists)));
    assert_eq!(users.get_user(bob.id).await.unwrap(), Some(bob));
}

fn session(user_id: UserId) -> Session {
    let now = now();
    Session {
        id: SessionId::generate(),
        user_id,
        generation: 1,
        secret_hash: "a".repeat(64),
        salt: "salt".to_owned(),
        created_at: now,
        expires_at: now.plus(chrono::Duration::days(30)),
        revoked_at: None,
        credentials_version: 1,
    }
}

/// A password change moves the session making it to the new credentials version in the same
/// write (one call on DynamoDB): never the new password with that session ended, nor the
/// session moved without the change. A session gone or revoked meanwhile is left alone.
pub async fn a_password_change_keeps_its_session_in_the_same_write(backend: Backend) {
    let (users, sessions) = (&backend.stores.users, &backend.stores.sessions);
    let ada = user("ada@example.com");
    users.insert_user(&ada, &TaskList::inbox_of(ada.id, now())).await.unwrap();
    let (kept, other) = (
        Session { credentials_version: ada.credentials_version, ..session(ada.id) },
        Session { credentials_version: ada.credentials_version, ..session(ada.id) },
    );
    sessions.insert_session(&kept).await.unwrap();
    sessions.insert_session(&other).await.unwrap();
    let changed = User { credentials_version: ada.credentials_version + 1, version: ada.version + 1, ..ada.clone() };

    let stale = User { version: ada.version + 5, ..ada.clone() };
    assert!(matches!(users.replace_user(&stale, &changed, Some(kept.id)).await, Err(StoreError::VersionMismatch)));
    assert_eq!(sessions.get_session(ada.id, kept.id).await.unwrap(), Some(kept.clone()), "a refused change moves nothing");

    backend.calls();
    users.replace_user(&ada, &changed, Some(kept.id)).await.unwrap();
    if backend.is_dynamodb() {
        assert_eq!(backend.calls(), [("TransactWriteItems".to_owned(), 1)].into(), "one write");
    }
    assert_eq!(users.get_user(ada.id).await.unwrap(), Some(changed.clone()));
    let moved = sessions.get_session(ada.id, kept.id).await.unwrap().unwrap();
    assert_eq!(moved, Session { credentials_version: changed.credentials_version, ..kept.clone() });
    assert_eq!(sessions.get_session(ada.id, other.id).await.unwrap(), Some(other.clone()), "other sessions stay behind");

    sessions.revoke_session(ada.id, other.id, now()).await.unwrap();
    let again = User { credentials_version: changed.credentials_version + 1, version: changed.version + 1, ..changed.clone() };
    users.replace_user(&changed, &again, Some(other.id)).await.unwrap();
    assert_eq!(users.get_user(ada.id).await.unwrap(), Some(again.clone()), "a revoked session does not stop the change");
    assert_eq!(sessions.get_session(ada.id, other.id).await.unwrap().unwrap().credentials_version, other.credentials_version);
    let last = User { credentials_version: again.credentials_version + 1, version: again.version + 1, ..again.clone() };
    users.replace_user(&again, &last, Some(SessionId::generate())).await.unwrap();
    assert_eq!(users.get_user(ada.id).await.unwrap(), Some(last.clone()), "nor does a missing one");

    // Deleted while the password was being checked: gone (401), not changed (409).
    users.delete_user(&last, now()).await.unwrap();
    let too_late = User { credentials_version: last.credentials_version + 1, version: last.version + 1, ..last.clone() };
    let refused = users.replace_user(&last, &too_late, Some(kept.id)).await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
}

pub async fn sessions_rotate_conditionally_and_revoke(backend: Backend) {
    let sessions = &backend.stores.sessions;
    let first = session(UserId::generate());
    sessions.insert_session(&first).await.unwrap();
    assert!(matches!(sessions.insert_session(&first).await, Err(StoreError::AlreadyExists)));
    assert_eq!(sessions.get_session(first.user_id, first.id).await.unwrap(), Some(first.clone()));
    let rotated = Session { generation: 2, secret_hash: "b".repeat(64), ..first.clone() };
    sessions.rotate_session(&rotated, 1).await.unwrap();
    assert_eq!(sessions.get_session(first.user_id, first.id).await.unwrap(), Some(rotated.clone()));
    let again = Session { generation: 3, ..rotated.clone() };
    assert!(matches!(sessions.rotate_session(&again, 1).await, Err(StoreError::VersionMismatch)), "a stale generation loses");
    let missing = session(first.user_id);
    assert!(matches!(sessions.rotate_session(&missing, 1).await, Err(StoreError::NotFound)));

    let at = now();
    sessions.revoke_session(first.user_id, first.id, at).await.unwrap();
    sessions.revoke_session(first.user_id, first.id, at.plus(chrono::Duration::seconds(5))).await.unwrap();
    let revoked = sessions.get_session(first.user_id, first.id).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(at), "revocation is idempotent and keeps the first time");
    assert!(matches!(sessions.rotate_session(&again, 2).await, Err(StoreError::VersionMismatch)), "a revoked session never rotates");
    assert!(matches!(sessions.revoke_session(first.user_id, SessionId::generate(), at).await, Err(StoreError::NotFound)));
}

pub async fn sessions_are_isolated_per_user(backend: Backend) {
    let sessions = &backend.stores.sessions;
    let ada = session(UserId::generate());
    sessions.insert_session(&ada).await.unwrap();
    let stranger = UserId::generate();
    assert_eq!(sessions.get_session(stranger, ada.id).await.unwrap(), None);
    assert!(matches!(sessions.revoke_session(stranger, ada.id, now()).await, Err(StoreError::NotFound)));
    assert_eq!(sessions.get_session(ada.user_id, ada.id).await.unwrap().unwrap().revoked_at, None);
}

pub async fn a_users_sessions_list_oldest_first_and_delete_by_id(backend: Backend) {
    let sessions = &backend.stores.sessions;
    let user_id = UserId::generate();
    let all: Vec<Session> =
        (0..4_i64).map(|n| Session { created_at: now().plus(chrono::Duration::seconds(3 - n)), ..session(user_id) }).collect();
    for session in &all {
        sessions.insert_session(session).await.unwrap();
    }
    let strangers = session(UserId::generate());
    sessions.insert_session(&strangers).await.unwrap();
    sessions.revoke_session(user_id, all[1].id, now()).await.unwrap();
    let listed: Vec<_> = sessions.user_sessions(user_id).await.unwrap().into_iter().map(|session| session.id).collect();
    assert_eq!(listed, vec![all[3].id, all[2].id, all[1].id, all[0].id], "oldest first, revoked ones too, not another user's");
    sessions.delete_sessions(user_id, &[all[1].id, all[3].id, SessionId::generate()]).await.unwrap();
    sessions.delete_sessions(user_id, &[strangers.id]).await.unwrap();
    let left: Vec<_> = sessions.user_sessions(user_id).await.unwrap().into_iter().map(|session| session.id).collect();
    assert_eq!(left, vec![all[2].id, all[0].id]);
    assert!(sessions.get_session(strangers.user_id, strangers.id).await.unwrap().is_some(), "only the named user's");
}

pub async fn account_cascade_leaves_nothing(backend: Backend) {
    let stores = &backend.stores;
    let ada = user("ada@example.com");
    let bob = user("bob@example.com");
    stores.users.insert_user(&ada, &TaskList::inbox_of(ada.id, now())).await.unwrap();
    stores.users.insert_user(&bob, &TaskList::inbox_of(bob.id, now())).await.unwrap();
    // More items than one batch write takes (25) and more than one query page would hold.
    for n in 0..30 {
        let mut task = crate::tasks::task(ada.id, &format!("task {n}"));
        // A few have had their reminder sent: notifications go with the account too.
        task.reminder_at = (n < 3).then(|| now().plus(chrono::Duration::hours(-1)));
        let record = crate::tasks::idempotency(&task, &format!("key-{n}"), now());
        stores.tasks.create_task(&task, (n % 3 == 0).then_some(&record), now()).await.unwrap();
    }
    for _ in 0..3 {
        stores.sessions.insert_session(&session(ada.id)).await.unwrap();
    }
    stores.tasks.create_task(&crate::tasks::task(bob.id, "bob's"), None, now()).await.unwrap();
    // A list of her own beside the Inbox, with a task: it goes too (and her list counter).
    let groceries = TaskList::create(
        todo_domain::model::ListId::generate(),
        ada.id,
        todo_domain::model::NewList { name: todo_domain::model::ListName::parse("Groceries").unwrap(), color: None },
        now(),
    );
    stores.lists.create_list(&groceries, 10, None, now()).await.unwrap();
    let mut milk = crate::tasks::task(ada.id, "milk");
    milk.list_id = groceries.id;
    stores.tasks.create_task(&milk, None, now()).await.unwrap();
    stores.sessions.insert_session(&session(bob.id)).await.unwrap();
    let sent = todo_domain::usecases::reminders::run_once(&backend.app(), now()).await.unwrap();
    assert_eq!(sent.sent, 3);
    let bob_items = backend.items_of(bob.id).await;

    stores.users.delete_user(&ada, now()).await.unwrap();
    assert_eq!(stores.users.pending_deletions(10).await.unwrap(), vec![ada.id], "a durable marker until the cascade finishes");
    backend.calls();
    todo_domain::usecases::users::remove_leftovers(&backend.app(), ada.id).await.unwrap();
    if backend.is_dynamodb() {
        let calls = backend.calls();
        assert!(!calls.contains_key("Scan"), "{calls:?}");
        eprintln!("purging an account with 30 tasks: {calls:?}");
    }
    assert!(stores.users.pending_deletions(10).await.unwrap().is_empty());
    assert_eq!(backend.items_of(ada.id).await, 0, "nothing of the deleted user is left in the store");
    assert_eq!(backend.items_of(bob.id).await, bob_items, "nothing of anyone else went");
    assert_eq!(stores.lists.get_list(groceries.id).await.unwrap(), None);
    let left = stores.tasks.list_tasks(inbox(ada.id), &TaskFilter::default(), PageRequest { limit: 100, after: None }).await.unwrap();
    assert!(left.items.is_empty());
    // The email is free again, and re-deleting is harmless.
    sign_up(&*stores.users, user("ada@example.com")).await.unwrap();
    stores.users.delete_user(&ada, now()).await.unwrap();
    stores.users.finish_deletion(ada.id).await.unwrap();
    assert!(
        stores.users.find_user_by_email(&ada.email).await.unwrap().is_some(),
        "deleting the old account again must not free the new one's email"
    );
}

/// An account deletion that died after its first write is finished by the housekeeping job,
/// leaving nothing of the account in the store.
pub async fn housekeeping_finishes_an_interrupted_deletion(backend: Backend) {
    let stores = &backend.stores;
    let ada = user("ada@example.com");
    stores.users.insert_user(&ada, &TaskList::inbox_of(ada.id, now())).await.unwrap();
    for n in 0..3 {
        stores.tasks.create_task(&crate::tasks::task(ada.id, &format!("task {n}")), None, now()).await.unwrap();
    }
    stores.sessions.insert_session(&session(ada.id)).await.unwrap();
    stores.users.delete_user(&ada, now()).await.unwrap();
    assert!(backend.items_of(ada.id).await > 0);
    let app = backend.app();
    let outcome = todo_domain::usecases::housekeeping::run_once(&app, now()).await.unwrap();
    assert_eq!(outcome.accounts_finished, 1);
    assert_eq!(backend.items_of(ada.id).await, 0, "nothing of the deleted account is left");
    assert_eq!(todo_domain::usecases::housekeeping::run_once(&app, now()).await.unwrap().accounts_finished, 0);
}
