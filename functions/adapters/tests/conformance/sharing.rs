//! Members and invitations: only the owner manages them, every change is one conditional
//! write, seats bound members plus invitations, and a list's deletion leaves nobody able
//! to join it.

use todo_domain::auth::Principal;
use todo_domain::model::{
    About, Email, Invitation, InvitationId, ListId, Membership, Notification, NotificationId, Role, SessionId, SharedRole, TaskId,
    TaskPatch, Timestamp, Title, UserId,
};
use todo_domain::ports::{PageRequest, StoreError, TaskFilter, Writer};
use todo_domain::usecases::sharing::{self, Announced};
use todo_domain::usecases::{lists, tasks};

use crate::lists::{account, new_list};
use crate::support::{Backend, inbox, now};

async fn email_of(backend: &Backend, user: UserId) -> Email {
    backend.stores.users.get_user(user).await.unwrap().unwrap().email
}

fn invitation(list: ListId, owner: UserId, email: &Email, role: SharedRole, expires_at: Timestamp) -> Invitation {
    Invitation {
        id: InvitationId::generate(),
        list_id: list,
        list_name: todo_domain::model::ListName::parse("Shared").unwrap(),
        email: email.clone(),
        role,
        invited_by: owner,
        invited_by_name: None,
        created_at: now(),
        expires_at,
    }
}

fn in_a_week() -> Timestamp {
    now().plus(chrono::Duration::days(7))
}

fn stranger_email() -> Email {
    Email::parse(&format!("{}@example.org", ulid::Ulid::new().to_string().to_lowercase())).unwrap()
}

/// Ada owns a list and invites Bob: he joins through the invitation (one write), changes
/// role, leaves, re-joins and is removed; nobody but Ada manages anything.
pub async fn members_join_by_invitation_change_role_leave_and_are_removed(backend: Backend) {
    let sharing = &backend.stores.sharing;
    let (ada, bob, eve) = (account(&backend).await, account(&backend).await, account(&backend).await);
    let list = new_list(ada, "Shared");
    backend.stores.lists.create_list(&list, 10, None, now()).await.unwrap();
    let bobs_email = email_of(&backend, bob).await;

    let invite = invitation(list.id, ada, &bobs_email, SharedRole::Viewer, in_a_week());
    let forged = Invitation { invited_by: eve, ..invitation(list.id, eve, &stranger_email(), SharedRole::Editor, in_a_week()) };
    assert!(matches!(sharing.create_invitation(&forged, None, 10).await, Err(StoreError::AccessDenied)), "only the owner invites");
    sharing.create_invitation(&invite, None, 10).await.unwrap();
    assert_eq!(sharing.list_invitations(list.id).await.unwrap(), std::slice::from_ref(&invite));
    assert_eq!(sharing.get_list_invitation(list.id, invite.id).await.unwrap(), Some(invite.clone()));
    assert_eq!(sharing.get_invitation(&bobs_email, invite.id).await.unwrap(), Some(invite.clone()));
    assert_eq!(sharing.get_invitation(&stranger_email(), invite.id).await.unwrap(), None, "addressed to Bob's email only");
    let received = sharing.invitations_for(&bobs_email, now(), PageRequest { limit: 10, after: None }).await.unwrap();
    assert_eq!((received.items, received.next), (vec![invite.clone()], None));
    assert_eq!(backend.stores.lists.member_role(list.id, bob).await.unwrap(), None, "invited is not a member");

    backend.calls();
    sharing.accept_invitation(&invite, bob, now()).await.unwrap();
    if backend.is_dynamodb() {
        assert_eq!(backend.calls(), [("TransactWriteItems".to_owned(), 1)].into(), "joining is one write");
    }
    assert_eq!(backend.stores.lists.member_role(list.id, bob).await.unwrap(), Some(Role::Viewer));
    assert!(backend.stores.lists.memberships(bob).await.unwrap().contains(&Membership::new(list.id, bob, Role::Viewer)));
    assert_eq!(sharing.get_invitation(&bobs_email, invite.id).await.unwrap(), None, "used up");
    assert!(sharing.list_invitations(list.id).await.unwrap().is_empty());
    assert!(matches!(sharing.accept_invitation(&invite, bob, now()).await, Err(StoreError::NotFound)), "an invitation is used once");

    let members = sharing.list_members(list.id, PageRequest { limit: 1, after: None }).await.unwrap();
    let rest = sharing.list_members(list.id, PageRequest { limit: 1, after: members.next }).await.unwrap();
    let mut everyone: Vec<Membership> = members.items.into_iter().chain(rest.items).collect();
    everyone.sort_by_key(|member| member.user_id);
    let mut expected = vec![Membership::new(list.id, ada, Role::Owner), Membership::new(list.id, bob, Role::Viewer)];
    expected.sort_by_key(|member| member.user_id);
    assert_eq!(everyone, expected, "paged one by one, each once");

    assert!(matches!(sharing.set_member_role(bob, list.id, bob, SharedRole::Editor).await, Err(StoreError::AccessDenied)));
    assert!(matches!(sharing.set_member_role(ada, list.id, ada, SharedRole::Viewer).await, Err(StoreError::NotFound)), "the owner stays");
    assert!(matches!(sharing.set_member_role(ada, list.id, eve, SharedRole::Viewer).await, Err(StoreError::NotFound)));
    sharing.set_member_role(ada, list.id, bob, SharedRole::Editor).await.unwrap();
    assert_eq!(backend.stores.lists.member_role(list.id, bob).await.unwrap(), Some(Role::Editor));
    assert!(backend.stores.lists.memberships(bob).await.unwrap().contains(&Membership::new(list.id, bob, Role::Editor)));

    assert!(matches!(sharing.remove_member(bob, list.id, ada).await, Err(StoreError::AccessDenied)), "a member removes nobody else");
    assert!(matches!(sharing.remove_member(ada, list.id, ada).await, Err(StoreError::NotFound)), "the owner is not removed");
    sharing.remove_member(bob, list.id, bob).await.unwrap();
    assert_eq!(backend.stores.lists.member_role(list.id, bob).await.unwrap(), None, "left");
    assert!(!backend.stores.lists.memberships(bob).await.unwrap().iter().any(|membership| membership.list_id == list.id));
    assert!(matches!(sharing.remove_member(bob, list.id, bob).await, Err(StoreError::NotFound)));

    let again = invitation(list.id, ada, &bobs_email, SharedRole::Editor, in_a_week());
    sharing.create_invitation(&again, None, 10).await.unwrap();
    sharing.accept_invitation(&again, bob, now()).await.unwrap();
    assert_eq!(backend.stores.lists.member_role(list.id, bob).await.unwrap(), Some(Role::Editor), "re-joined");
    // Bob creates a task with a key, then is removed: his retry is refused, not answered
    // with the task (someone who lost the list learns nothing more of it).
    let keyed = todo_domain::model::Task::create(TaskId::generate(), list.id, bob, crate::tasks::new_task("keyed"), now()).unwrap();
    let record = crate::tasks::idempotency(&keyed, "bobs-key", now());
    backend.stores.tasks.create_task(&keyed, Some(&record), now()).await.unwrap();
    sharing.remove_member(ada, list.id, bob).await.unwrap();
    assert_eq!(backend.stores.lists.member_role(list.id, bob).await.unwrap(), None, "removed by the owner");
    let retried = backend.stores.tasks.create_task(&keyed, Some(&record), now()).await;
    assert!(matches!(retried, Err(StoreError::AccessDenied)), "{retried:?}");
}

/// Seats: members besides the owner plus invitations, at most `max_seats`. Replacing an
/// invitation keeps its seat; accepting passes it on; revoking, declining and leaving free it.
pub async fn seats_bound_members_and_invitations(backend: Backend) {
    let sharing = &backend.stores.sharing;
    let (ada, bob) = (account(&backend).await, account(&backend).await);
    let list = new_list(ada, "Small");
    backend.stores.lists.create_list(&list, 10, None, now()).await.unwrap();
    let max = 2;
    let first = invitation(list.id, ada, &email_of(&backend, bob).await, SharedRole::Viewer, in_a_week());
    let second = invitation(list.id, ada, &stranger_email(), SharedRole::Viewer, in_a_week());
    sharing.create_invitation(&first, None, max).await.unwrap();
    sharing.create_invitation(&second, None, max).await.unwrap();
    let third = invitation(list.id, ada, &stranger_email(), SharedRole::Viewer, in_a_week());
    assert!(matches!(sharing.create_invitation(&third, None, max).await, Err(StoreError::LimitReached)));
    let renewed = Invitation { id: InvitationId::generate(), role: SharedRole::Editor, ..second.clone() };
    sharing.create_invitation(&renewed, Some(&second), max).await.unwrap();
    assert!(matches!(sharing.create_invitation(&renewed, Some(&second), max).await, Err(StoreError::NotFound)), "replaced once");
    let ids: Vec<InvitationId> = sharing.list_invitations(list.id).await.unwrap().iter().map(|invitation| invitation.id).collect();
    assert_eq!(ids, [first.id, renewed.id], "the replaced one is gone");

    sharing.accept_invitation(&first, bob, now()).await.unwrap();
    assert!(matches!(sharing.create_invitation(&third, None, max).await, Err(StoreError::LimitReached)), "Bob took the seat");
    assert!(matches!(sharing.delete_invitation(Some(bob), &renewed).await, Err(StoreError::AccessDenied)), "only the owner revokes");
    sharing.delete_invitation(Some(ada), &renewed).await.unwrap();
    assert!(matches!(sharing.delete_invitation(None, &renewed).await, Err(StoreError::NotFound)));
    sharing.create_invitation(&third, None, max).await.unwrap();
    sharing.delete_invitation(None, &third).await.unwrap();
    let fourth = invitation(list.id, ada, &stranger_email(), SharedRole::Viewer, in_a_week());
    sharing.create_invitation(&fourth, None, max).await.unwrap();
    let fifth = invitation(list.id, ada, &stranger_email(), SharedRole::Viewer, in_a_week());
    assert!(matches!(sharing.create_invitation(&fifth, None, max).await, Err(StoreError::LimitReached)));
    sharing.remove_member(bob, list.id, bob).await.unwrap();
    sharing.create_invitation(&fifth, None, max).await.unwrap();
}

/// Accepting is conditional on everything it depends on, and changes nothing when refused.
pub async fn accepting_needs_a_live_invitation_an_account_and_a_live_list(backend: Backend) {
    let sharing = &backend.stores.sharing;
    let (ada, bob) = (account(&backend).await, account(&backend).await);
    let bobs_email = email_of(&backend, bob).await;

    let expired = invitation(inbox(ada), ada, &bobs_email, SharedRole::Viewer, now().plus(chrono::Duration::seconds(-1)));
    sharing.create_invitation(&expired, None, 10).await.unwrap();
    assert!(matches!(sharing.accept_invitation(&expired, bob, now()).await, Err(StoreError::NotFound)));
    let received = sharing.invitations_for(&bobs_email, now(), PageRequest { limit: 10, after: None }).await.unwrap();
    assert!(received.items.is_empty(), "expired ones are not offered");
    sharing.delete_invitation(None, &expired).await.unwrap();

    // Already a member: refused, and the invitation is still there to remove.
    let to_self = invitation(inbox(ada), ada, &email_of(&backend, ada).await, SharedRole::Viewer, in_a_week());
    sharing.create_invitation(&to_self, None, 10).await.unwrap();
    assert!(matches!(sharing.accept_invitation(&to_self, ada, now()).await, Err(StoreError::AlreadyExists)));
    assert_eq!(backend.stores.lists.member_role(inbox(ada), ada).await.unwrap(), Some(Role::Owner), "unchanged");
    assert!(sharing.get_list_invitation(inbox(ada), to_self.id).await.unwrap().is_some());

    // Paged over several lists' invitations, each once.
    let mut sent = Vec::new();
    for _ in 0..3 {
        let owner = account(&backend).await;
        let invite = invitation(inbox(owner), owner, &bobs_email, SharedRole::Editor, in_a_week());
        sharing.create_invitation(&invite, None, 10).await.unwrap();
        sent.push(invite);
    }
    let (mut seen, mut after) = (Vec::new(), None);
    loop {
        let page = sharing.invitations_for(&bobs_email, now(), PageRequest { limit: 2, after }).await.unwrap();
        seen.extend(page.items.iter().map(|invitation| invitation.id));
        after = page.next;
        if after.is_none() {
            break;
        }
    }
    assert_eq!(seen, sent.iter().map(|invitation| invitation.id).collect::<Vec<_>>());

    // An account gone: refused.
    let gone = account(&backend).await;
    let profile = backend.stores.users.get_user(gone).await.unwrap().unwrap();
    let invite = invitation(inbox(ada), ada, &profile.email, SharedRole::Viewer, in_a_week());
    sharing.create_invitation(&invite, None, 10).await.unwrap();
    backend.stores.users.delete_user(&profile, now()).await.unwrap();
    assert!(matches!(sharing.accept_invitation(&invite, gone, now()).await, Err(StoreError::OwnerMissing)));

    // A list being deleted: its invitations go with its members, and nobody joins it.
    backend.stores.lists.delete_list_members(sent[0].list_id, sent[0].invited_by).await.unwrap();
    assert!(matches!(sharing.accept_invitation(&sent[0], bob, now()).await, Err(StoreError::NotFound)));
    assert_eq!(sharing.get_invitation(&bobs_email, sent[0].id).await.unwrap(), None);
    assert_eq!(backend.stores.lists.member_role(sent[0].list_id, bob).await.unwrap(), None);
    assert!(
        matches!(
            sharing
                .create_invitation(
                    &invitation(sent[0].list_id, sent[0].invited_by, &stranger_email(), SharedRole::Viewer, in_a_week()),
                    None,
                    10
                )
                .await,
            Err(StoreError::AccessDenied)
        ),
        "nobody invites to a list being deleted"
    );
}

/// Deleting a shared list leaves nothing of its members, invitations or seats.
pub async fn deleting_a_shared_list_leaves_no_member_or_invitation(backend: Backend) {
    let sharing = &backend.stores.sharing;
    let (ada, bob) = (account(&backend).await, account(&backend).await);
    let joined = invitation(inbox(ada), ada, &email_of(&backend, bob).await, SharedRole::Editor, in_a_week());
    sharing.create_invitation(&joined, None, 10).await.unwrap();
    sharing.accept_invitation(&joined, bob, now()).await.unwrap();
    let pending = invitation(inbox(ada), ada, &stranger_email(), SharedRole::Viewer, in_a_week());
    sharing.create_invitation(&pending, None, 10).await.unwrap();

    backend.stores.lists.delete_list_members(inbox(ada), ada).await.unwrap();
    assert_eq!(backend.stores.lists.member_role(inbox(ada), bob).await.unwrap(), None);
    assert!(!backend.stores.lists.memberships(bob).await.unwrap().iter().any(|membership| membership.list_id == inbox(ada)));
    assert_eq!(sharing.get_invitation(&pending.email, pending.id).await.unwrap(), None);
    backend.stores.lists.delete_list(inbox(ada), ada).await.unwrap();
    let profile = backend.stores.users.get_user(ada).await.unwrap().unwrap();
    backend.stores.users.delete_user(&profile, now()).await.unwrap();
    backend.stores.users.finish_deletion(ada).await.unwrap();
    assert_eq!(backend.items_of(ada).await, 0, "no member, invitation or seat count of the list is left");
}

/// Bob (an editor) writes as fast as he can while Ada demotes him: once the demotion has
/// answered, not one more of his writes lands — the role is checked inside each write's
/// transaction, not only when the request began.
pub async fn no_write_lands_after_the_right_is_lost(backend: Backend) {
    let app = backend.app();
    let (ada, bob) = (account(&backend).await, account(&backend).await);
    let list = new_list(ada, "Contested");
    backend.stores.lists.create_list(&list, 10, None, now()).await.unwrap();
    let invite = invitation(list.id, ada, &email_of(&backend, bob).await, SharedRole::Editor, in_a_week());
    backend.stores.sharing.create_invitation(&invite, None, 10).await.unwrap();
    backend.stores.sharing.accept_invitation(&invite, bob, now()).await.unwrap();
    let bobs = Principal { user_id: bob, session_id: SessionId::generate() };
    let task = tasks::create_task(&app, bobs, list.id, crate::tasks::new_task("shared"), None).await.unwrap().task;

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|n| {
            let (app, stop) = (app.clone(), stop.clone());
            tokio::spawn(async move {
                let mut landed = 0;
                for round in 0.. {
                    if stop.load(std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    let patch =
                        TaskPatch { title: Some(Title::parse(&format!("Bob's edit {n}.{round}")).unwrap()), ..TaskPatch::default() };
                    landed += usize::from(tasks::update_task(&app, bobs, list.id, task.id, patch, None).await.is_ok());
                }
                landed
            })
        })
        .collect();
    // Demoted in the middle of the stream of writes.
    while backend.stores.tasks.get_task(list.id, task.id).await.unwrap().unwrap().version < 5 {
        tokio::task::yield_now().await;
    }
    backend.stores.sharing.set_member_role(ada, list.id, bob, SharedRole::Viewer).await.unwrap();
    let at_demotion = backend.stores.tasks.get_task(list.id, task.id).await.unwrap().unwrap().version;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut landed = 0;
    for writer in writers {
        landed += writer.await.unwrap();
    }
    let after = backend.stores.tasks.get_task(list.id, task.id).await.unwrap().unwrap().version;
    assert_eq!(after, at_demotion, "a write landed after the demotion answered ({landed} landed in all)");
    let refused = tasks::update_task(&app, bobs, list.id, task.id, TaskPatch { completed: Some(true), ..TaskPatch::default() }, None).await;
    assert!(matches!(refused, Err(todo_domain::Error::Forbidden(_))), "{refused:?}");
    // Deterministically: a write Bob prepared while he was an editor, arriving now.
    let current = backend.stores.tasks.get_task(list.id, task.id).await.unwrap().unwrap();
    let (prepared, _) = current
        .apply(TaskPatch { title: Some(Title::parse("prepared earlier").unwrap()), ..TaskPatch::default() }, now(), TaskId::generate())
        .unwrap();
    let stale = backend.stores.tasks.update_task(Writer::Member { user: bob, list: list.id }, &prepared, current.version, None).await;
    assert!(matches!(stale, Err(StoreError::AccessDenied)), "the role is checked in the write itself: {stale:?}");
}

/// Bob keeps adding tasks while Ada deletes the list: once the deletion has answered none
/// of his creates succeeds, and once it has finished nothing of the list is left.
pub async fn a_list_deleted_under_a_writer_leaves_nothing(backend: Backend) {
    let app = backend.app();
    let (ada, bob) = (account(&backend).await, account(&backend).await);
    let list = new_list(ada, "Doomed");
    backend.stores.lists.create_list(&list, 10, None, now()).await.unwrap();
    let invite = invitation(list.id, ada, &email_of(&backend, bob).await, SharedRole::Editor, in_a_week());
    backend.stores.sharing.create_invitation(&invite, None, 10).await.unwrap();
    backend.stores.sharing.accept_invitation(&invite, bob, now()).await.unwrap();
    let (adas, bobs) =
        (Principal { user_id: ada, session_id: SessionId::generate() }, Principal { user_id: bob, session_id: SessionId::generate() });

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let created = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writer = {
        let (app, stop, created) = (app.clone(), stop.clone(), created.clone());
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                if tasks::create_task(&app, bobs, list.id, crate::tasks::new_task("one more"), None).await.is_ok() {
                    created.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            }
        })
    };
    // Deleted while Bob is writing.
    while created.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    lists::delete_list(&app, adas, list.id).await.unwrap();
    let late = tasks::create_task(&app, bobs, list.id, crate::tasks::new_task("too late"), None).await;
    assert!(matches!(late, Err(todo_domain::Error::NotFound(_))), "{late:?}");
    assert_eq!(lists::finish_pending_list_deletions(&app, 10).await.unwrap(), (1, false));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    writer.await.unwrap();
    let created = created.load(std::sync::atomic::Ordering::SeqCst);
    let left = backend.stores.tasks.list_tasks(list.id, &TaskFilter::default(), PageRequest { limit: 100, after: None }).await.unwrap();
    assert!(left.items.is_empty(), "{} of Bob's {created} tasks outlived the list", left.items.len());
    assert_eq!(backend.stores.lists.get_list(list.id).await.unwrap(), None);
}

/// An invitation is announced in its invitee's feed once, whatever the redeliveries; an
/// address nobody holds, an answered invitation and a deleted account get nothing.
pub async fn an_invitation_is_announced_once_to_whoever_holds_the_address(backend: Backend) {
    let app = backend.app();
    let sharing = &backend.stores.sharing;
    let (ada, bob) = (account(&backend).await, account(&backend).await);
    let list = new_list(ada, "Shared");
    backend.stores.lists.create_list(&list, 10, None, now()).await.unwrap();
    let bobs_email = email_of(&backend, bob).await;
    let invite = invitation(list.id, ada, &bobs_email, SharedRole::Editor, in_a_week());
    sharing.create_invitation(&invite, None, 10).await.unwrap();

    backend.calls();
    assert_eq!(sharing::announce_invitation(&app, &bobs_email, invite.id).await.unwrap(), Announced::Sent);
    if backend.is_dynamodb() {
        assert_eq!(
            backend.calls(),
            [("GetItem".to_owned(), 3), ("TransactWriteItems".to_owned(), 1)].into(),
            "the invitation and the address's holder (guard, profile) read, the notification written"
        );
    }
    assert_eq!(sharing::announce_invitation(&app, &bobs_email, invite.id).await.unwrap(), Announced::AlreadySent, "a redelivery");
    let feed = backend.stores.notifications.list_notifications(bob, false, now(), PageRequest { limit: 10, after: None }).await.unwrap();
    assert_eq!(feed.items.len(), 1, "{feed:?}");
    let About::Invitation(notice) = &feed.items[0].about else { panic!("an invitation's notification: {feed:?}") };
    assert_eq!((notice.invitation_id, notice.list_id, notice.role), (invite.id, list.id, SharedRole::Editor));
    assert_eq!((notice.list_name.as_str(), feed.items[0].expires_at), ("Shared", invite.expires_at), "kept while it can be accepted");
    let adas = backend.stores.notifications.list_notifications(ada, false, now(), PageRequest { limit: 10, after: None }).await.unwrap();
    assert!(adas.items.is_empty(), "the inviter is told nothing");

    // Answering reads it: once, keeping the first time; a notification that is gone is no error.
    let id = feed.items[0].id;
    let first = now();
    backend.stores.notifications.read_if_unread(bob, id, first).await.unwrap();
    backend.stores.notifications.read_if_unread(bob, id, first.plus(chrono::Duration::hours(1))).await.unwrap();
    assert_eq!(backend.stores.notifications.get_notification(bob, id).await.unwrap().unwrap().read_at, Some(first));
    backend.stores.notifications.read_if_unread(bob, NotificationId::generate(), first).await.unwrap();

    let nobody = invitation(list.id, ada, &stranger_email(), SharedRole::Viewer, in_a_week());
    sharing.create_invitation(&nobody, None, 10).await.unwrap();
    assert_eq!(sharing::announce_invitation(&app, &nobody.email, nobody.id).await.unwrap(), Announced::NoAccount);
    let answered = invitation(list.id, ada, &bobs_email, SharedRole::Viewer, in_a_week());
    sharing.create_invitation(&answered, Some(&invite), 10).await.unwrap();
    sharing.delete_invitation(None, &answered).await.unwrap();
    assert_eq!(sharing::announce_invitation(&app, &bobs_email, answered.id).await.unwrap(), Announced::Gone, "declined first");
    let expired = invitation(list.id, ada, &bobs_email, SharedRole::Viewer, now().plus(chrono::Duration::seconds(-1)));
    sharing.create_invitation(&expired, None, 10).await.unwrap();
    assert_eq!(sharing::announce_invitation(&app, &bobs_email, expired.id).await.unwrap(), Announced::Gone, "expired first");

    // A notification for an account deleted in between is refused, not left behind.
    let late = Notification::for_invitation(&invite, bob, now());
    let profile = backend.stores.users.get_user(bob).await.unwrap().unwrap();
    backend.stores.users.delete_user(&profile, now()).await.unwrap();
    backend.stores.notifications.delete_user_notifications(bob).await.unwrap();
    let refused = backend.stores.notifications.add_notification(&Notification { id: NotificationId::generate(), ..late }).await;
    assert!(matches!(refused, Err(StoreError::OwnerMissing)), "{refused:?}");
}
