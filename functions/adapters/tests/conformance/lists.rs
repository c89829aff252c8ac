//! Lists and memberships: the Inbox made with the account, the membership every write is
//! conditional on, a list's deletion (memberships first, resumable), and the calls a read
//! through the access check costs.

use todo_domain::auth::Principal;
use todo_domain::model::{
    FileId, IdempotencyKey, ListColor, ListId, ListName, ListPatch, ListPosition, Membership, NewList, Role, SessionId, TaskId, TaskList,
    TaskPatch, Title, UserId,
};
use todo_domain::ports::{CreateOutcome, IdempotencyRecord, Made, PageRequest, StoreError, TaskFilter, Writer};
use todo_domain::usecases::{files, lists, tasks};

use crate::support::{Backend, inbox, member, now, user, writer};

pub async fn account(backend: &Backend) -> UserId {
    let user = user(&format!("{}@example.com", ulid::Ulid::new().to_string().to_lowercase()));
    backend.stores.users.insert_user(&user, &TaskList::inbox_of(user.id, now())).await.unwrap();
    user.id
}

pub async fn sign_up_makes_the_inbox_with_its_owner(backend: Backend) {
    let user = user("ada@example.com");
    let inbox_list = TaskList::inbox_of(user.id, now());
    backend.calls();
    backend.stores.users.insert_user(&user, &inbox_list).await.unwrap();
    if backend.is_dynamodb() {
        assert_eq!(backend.calls().values().sum::<usize>(), 1, "account and Inbox are one write");
    }
    assert_eq!(backend.stores.lists.get_list(inbox(user.id)).await.unwrap(), Some(inbox_list));
    assert_eq!(backend.stores.lists.member_role(inbox(user.id), user.id).await.unwrap(), Some(Role::Owner));
    assert_eq!(backend.stores.lists.memberships(user.id).await.unwrap(), [Membership::new(inbox(user.id), user.id, Role::Owner)]);
    // A second sign-up with the email makes no second Inbox either.
    let twin = crate::support::user("ada@example.com");
    let refused = backend.stores.users.insert_user(&twin, &TaskList::inbox_of(twin.id, now())).await;
    assert!(matches!(refused, Err(StoreError::AlreadyExists)), "{refused:?}");
    assert_eq!(backend.stores.lists.get_list(inbox(twin.id)).await.unwrap(), None);
    assert_eq!(backend.items_of(twin.id).await, 0);
}

/// Every write a member makes is conditional on their membership, in the same transaction:
/// someone who is not a member of the list changes nothing, whatever they name.
pub async fn a_non_member_can_write_nothing(backend: Backend) {
    let (ada, bob) = (account(&backend).await, account(&backend).await);
    assert_eq!(backend.stores.lists.member_role(inbox(ada), bob).await.unwrap(), None);
    let adas = crate::tasks::task(ada, "Ada's");
    backend.stores.tasks.create_task(&adas, None, now()).await.unwrap();
    let before = backend.items_of(ada).await;

    let mut planted = crate::tasks::task(bob, "planted");
    planted.list_id = inbox(ada);
    assert!(matches!(backend.stores.tasks.create_task(&planted, None, now()).await, Err(StoreError::AccessDenied)));
    let bobs_pen = Writer::Member { user: bob, list: inbox(ada) };
    let (renamed, _) = adas
        .apply(TaskPatch { title: Some(Title::parse("Bob was here").unwrap()), ..TaskPatch::default() }, now(), TaskId::generate())
        .unwrap();
    assert!(matches!(backend.stores.tasks.update_task(bobs_pen, &renamed, 1, None).await, Err(StoreError::AccessDenied)));
    let spawned = crate::tasks::task(ada, "spawned");
    assert!(matches!(backend.stores.tasks.update_task(bobs_pen, &renamed, 1, Some(&spawned)).await, Err(StoreError::AccessDenied)));
    assert!(matches!(backend.stores.tasks.delete_task(bobs_pen, inbox(ada), adas.id, None).await, Err(StoreError::AccessDenied)));

    assert_eq!(backend.stores.tasks.get_task(inbox(ada), adas.id).await.unwrap(), Some(adas.clone()), "unchanged");
    assert_eq!(backend.stores.tasks.get_task(inbox(ada), spawned.id).await.unwrap(), None);
    assert_eq!(backend.stores.tasks.get_task(inbox(ada), planted.id).await.unwrap(), None);
    assert_eq!(backend.items_of(ada).await, before, "nothing of Ada's changed");
    // Ada herself still writes.
    backend.stores.tasks.update_task(writer(&adas), &renamed, 1, None).await.unwrap();
}

/// Deleting a list: its memberships go first (no member can write from then on, and reads
/// find no role), the keeper's index entry stays to resume from, and the last step leaves
/// nothing of the list.
pub async fn deleting_a_list_stops_every_write_first_and_resumes(backend: Backend) {
    let principal = |user_id| Principal { user_id, session_id: SessionId::generate() };
    let ada = account(&backend).await;
    let task = crate::tasks::task(ada, "in a doomed list");
    backend.stores.tasks.create_task(&task, None, now()).await.unwrap();

    backend.stores.lists.delete_list_members(inbox(ada), ada).await.unwrap();
    backend.stores.lists.delete_list_members(inbox(ada), ada).await.unwrap();
    assert_eq!(backend.stores.lists.member_role(inbox(ada), ada).await.unwrap(), None, "no access once the members go");
    assert_eq!(
        backend.stores.lists.memberships(ada).await.unwrap(),
        [Membership::new(inbox(ada), ada, Role::Owner)],
        "the keeper's entry says what is left to delete"
    );
    assert!(backend.stores.lists.readable_lists(ada).await.unwrap().is_empty(), "but it is not a list to read");
    let shown = lists::list_lists(&backend.app(), principal(ada), None, None).await.unwrap();
    assert!(shown.items.is_empty(), "nor to show: {shown:?}");
    let late = crate::tasks::task(ada, "too late");
    assert!(matches!(backend.stores.tasks.create_task(&late, None, now()).await, Err(StoreError::AccessDenied)));
    let (done, _) = task.apply(TaskPatch { completed: Some(true), ..TaskPatch::default() }, now(), TaskId::generate()).unwrap();
    assert!(matches!(backend.stores.tasks.update_task(member(ada), &done, 1, None).await, Err(StoreError::AccessDenied)));

    // The system (the purge) still removes what is left, then the list.
    backend.stores.tasks.delete_task(Writer::System, inbox(ada), task.id, None).await.unwrap();
    backend.stores.lists.delete_list(inbox(ada), ada).await.unwrap();
    backend.stores.lists.delete_list(inbox(ada), ada).await.unwrap();
    assert_eq!(backend.stores.lists.get_list(inbox(ada)).await.unwrap(), None);
    assert!(backend.stores.lists.memberships(ada).await.unwrap().is_empty());
    let profile = backend.stores.users.get_user(ada).await.unwrap().unwrap();
    backend.stores.users.delete_user(&profile, now()).await.unwrap();
    backend.stores.users.finish_deletion(ada).await.unwrap();
    assert_eq!(backend.items_of(ada).await, 0, "nothing of the list or the account is left");
}

/// Reads go through the access check: the membership is read beside the item (one round
/// trip: the calls are issued together), and a stranger gets `NotFound` for a list they
/// are not in, even when the item exists.
pub async fn reads_check_membership_in_one_round_trip(backend: Backend) {
    let app = backend.app();
    let (ada, bob) = (account(&backend).await, account(&backend).await);
    let principal = |user_id| Principal { user_id, session_id: SessionId::generate() };
    let task = crate::tasks::task(ada, "read me");
    backend.stores.tasks.create_task(&task, None, now()).await.unwrap();

    backend.calls();
    assert_eq!(tasks::get_task(&app, principal(ada), inbox(ada), task.id).await.unwrap(), task);
    if backend.is_dynamodb() {
        assert_eq!(backend.calls(), [("GetItem".to_owned(), 2)].into(), "the task and the member, together");
    }
    let page = tasks::list_tasks(&app, principal(ada), inbox(ada), tasks::ListTasks::default()).await.unwrap();
    assert_eq!(page.items, std::slice::from_ref(&task));
    if backend.is_dynamodb() {
        assert_eq!(backend.calls(), [("GetItem".to_owned(), 1), ("Query".to_owned(), 1)].into(), "the page and the member, together");
    }
    let listed = files::list_files(&app, principal(ada), inbox(ada), task.id, None, None).await.unwrap();
    assert!(listed.items.is_empty());
    if backend.is_dynamodb() {
        assert_eq!(backend.calls(), [("GetItem".to_owned(), 2), ("Query".to_owned(), 1)].into(), "member, task and files together");
    }

    for (list, what) in [(inbox(ada), "Ada's list"), (inbox(bob), "his own list, naming Ada's task")] {
        let error = tasks::get_task(&app, principal(bob), list, task.id).await.unwrap_err();
        assert!(matches!(error, todo_domain::Error::NotFound(_)), "{what}: {error:?}");
    }
    let error = tasks::list_tasks(&app, principal(bob), inbox(ada), tasks::ListTasks::default()).await.unwrap_err();
    assert!(matches!(error, todo_domain::Error::NotFound(_)), "{error:?}");
    let error = files::get_file(&app, principal(bob), inbox(ada), task.id, FileId::generate()).await.unwrap_err();
    assert!(matches!(error, todo_domain::Error::NotFound(_)), "{error:?}");
    let error = tasks::create_task(&app, principal(bob), inbox(ada), crate::tasks::new_task("planted"), None).await.unwrap_err();
    assert!(matches!(error, todo_domain::Error::NotFound(_)), "a stranger's create is a 404: {error:?}");
    let everything = TaskFilter::default();
    let all = backend.stores.tasks.list_tasks(inbox(ada), &everything, todo_domain::ports::PageRequest { limit: 10, after: None });
    assert_eq!(all.await.unwrap().items, [task], "nothing was planted");
}

pub fn new_list(owner: UserId, name: &str) -> TaskList {
    TaskList::create(ListId::generate(), owner, NewList { name: ListName::parse(name).unwrap(), color: None }, now())
}

/// Creating a list is one write, conditional on the owner's account and their list count;
/// a user's lists page in creation order, each with their role, in two calls per page.
pub async fn lists_are_created_within_the_limit_and_paged_with_roles(backend: Backend) {
    let principal = |user_id| Principal { user_id, session_id: SessionId::generate() };
    let (ada, bob) = (account(&backend).await, account(&backend).await);
    let lists = &backend.stores.lists;
    let mut created = vec![lists.get_list(inbox(ada)).await.unwrap().unwrap()];
    backend.calls();
    for n in 0..5 {
        let list = new_list(ada, &format!("List {n}"));
        lists.create_list(&list, 5, None, now()).await.unwrap();
        created.push(list);
    }
    if backend.is_dynamodb() {
        assert_eq!(backend.calls(), [("TransactWriteItems".to_owned(), 5)].into(), "a create is one call");
    }
    let refused = lists.create_list(&new_list(ada, "one too many"), 5, None, now()).await;
    assert!(matches!(refused, Err(StoreError::LimitReached)), "{refused:?}");
    lists.create_list(&new_list(bob, "Bob's own count"), 5, None, now()).await.unwrap();
    let ghost = lists.create_list(&new_list(UserId::generate(), "nobody's"), 5, None, now()).await;
    assert!(matches!(ghost, Err(StoreError::OwnerMissing)), "{ghost:?}");

    let app = backend.app();
    let app = &app;
    let pages = |user, limit| async move {
        let (mut seen, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
        loop {
            let page = lists::list_lists(app, principal(user), Some(limit), cursor.as_deref()).await.unwrap();
            assert!(page.items.len() <= limit as usize);
            seen.extend(page.items.into_iter().map(|access| (access.role, access.position, access.list)));
            pages += 1;
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return (seen, pages),
            }
        }
    };
    backend.calls();
    let (seen, pages_read) = pages(ada, 4).await;
    if backend.is_dynamodb() {
        assert_eq!(
            backend.calls(),
            [("Query".to_owned(), pages_read), ("BatchGetItem".to_owned(), pages_read)].into(),
            "a Query of the membership index and a BatchGetItem of the page's lists, per page"
        );
    }
    let in_creation_order: Vec<_> = created.iter().map(|list| (Role::Owner, None, list.clone())).collect();
    assert_eq!(seen, in_creation_order, "every list once, in creation order");
    assert_eq!(pages(bob, 100).await.0.len(), 2, "Bob's Inbox and list only");

    // Placed lists come first, by position (ties by age), then the unplaced, oldest first;
    // the cursor resumes after a list's place, so each list shows once across pages.
    let place =
        |index: usize, position: u32| lists.set_position(created[index].id, ada, Some(ListPosition::parse(position.into()).unwrap()));
    place(3, 5).await.unwrap();
    place(1, 7).await.unwrap();
    place(5, 5).await.unwrap();
    backend.calls();
    lists.set_position(created[0].id, ada, None).await.unwrap();
    if backend.is_dynamodb() {
        assert_eq!(backend.calls(), [("TransactWriteItems".to_owned(), 1)].into(), "a position is one write");
    }
    let expected: Vec<(Option<u32>, ListId)> = [(Some(5), 3), (Some(5), 5), (Some(7), 1), (None, 0), (None, 2), (None, 4)]
        .into_iter()
        .map(|(position, index)| (position, created[index].id))
        .collect();
    for limit in [1, 2, 4, 100] {
        let shown: Vec<_> =
            pages(ada, limit).await.0.into_iter().map(|(_, position, list)| (position.map(ListPosition::get), list.id)).collect();
        assert_eq!(shown, expected, "pages of {limit}");
    }
    let placed = lists.membership(created[1].id, ada).await.unwrap().unwrap();
    assert_eq!(placed.position.map(ListPosition::get), Some(7), "the access check's read sees the position too");
    // A position is only the member's own: Bob is no member of Ada's list.
    let refused = lists.set_position(created[1].id, bob, Some(ListPosition::parse(1).unwrap())).await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
    assert_eq!(lists.membership(created[1].id, bob).await.unwrap(), None, "and no membership was made");
}

/// A list changes only at the version it was read at, and only by a member who writes it.
pub async fn list_updates_are_conditional_on_version_and_membership(backend: Backend) {
    let (ada, bob) = (account(&backend).await, account(&backend).await);
    let lists = &backend.stores.lists;
    let list = new_list(ada, "Groceries");
    lists.create_list(&list, 10, None, now()).await.unwrap();
    let recoloured = list.apply(ListPatch { color: Some(Some(ListColor::Green)), ..ListPatch::default() }, now()).unwrap();
    let as_bob = lists.update_list(Writer::Member { user: bob, list: list.id }, &recoloured, 1).await;
    assert!(matches!(as_bob, Err(StoreError::AccessDenied)), "{as_bob:?}");
    backend.calls();
    lists.update_list(Writer::Member { user: ada, list: list.id }, &recoloured, 1).await.unwrap();
    if backend.is_dynamodb() {
        assert_eq!(backend.calls().values().sum::<usize>(), 1, "an update is one call");
    }
    let again = lists.update_list(Writer::Member { user: ada, list: list.id }, &recoloured, 1).await;
    assert!(matches!(again, Err(StoreError::VersionMismatch)), "{again:?}");
    let gone = new_list(ada, "never created");
    let missing = lists.update_list(Writer::Member { user: ada, list: gone.id }, &gone, 1).await;
    assert!(matches!(missing, Err(StoreError::AccessDenied | StoreError::NotFound)), "{missing:?}");
    assert_eq!(lists.get_list(list.id).await.unwrap(), Some(recoloured));
}

/// A list's deletion: a marker only its owner can set (separate from account markers), and
/// the last step removes it and gives the owner's place under the list limit back, once.
pub async fn a_deleted_list_is_marked_then_frees_its_place_once(backend: Backend) {
    let (ada, bob) = (account(&backend).await, account(&backend).await);
    let lists = &backend.stores.lists;
    let (first, second) = (new_list(ada, "First"), new_list(ada, "Second"));
    lists.create_list(&first, 2, None, now()).await.unwrap();
    lists.create_list(&second, 2, None, now()).await.unwrap();
    assert!(matches!(lists.create_list(&new_list(ada, "Third"), 2, None, now()).await, Err(StoreError::LimitReached)));

    let forged = TaskList { owner: bob, ..first.clone() };
    assert!(matches!(lists.mark_list_deleted(&forged, now()).await, Err(StoreError::AccessDenied)), "only the owner marks it");
    assert!(lists.pending_list_deletions(10).await.unwrap().is_empty());
    lists.mark_list_deleted(&first, now()).await.unwrap();
    lists.mark_list_deleted(&first, now()).await.unwrap();
    assert_eq!(lists.pending_list_deletions(10).await.unwrap(), [first.id]);
    assert!(backend.stores.users.pending_deletions(10).await.unwrap().is_empty(), "not an account's deletion");

    lists.delete_list_members(first.id, ada).await.unwrap();
    assert!(matches!(lists.mark_list_deleted(&first, now()).await, Err(StoreError::AccessDenied)), "the owner's membership went first");
    lists.delete_list(first.id, ada).await.unwrap();
    lists.delete_list(first.id, ada).await.unwrap();
    assert!(lists.pending_list_deletions(10).await.unwrap().is_empty());
    assert_eq!(lists.get_list(first.id).await.unwrap(), None);
    lists.create_list(&new_list(ada, "Third"), 2, None, now()).await.unwrap();
    assert!(
        matches!(lists.create_list(&new_list(ada, "Fourth"), 2, None, now()).await, Err(StoreError::LimitReached)),
        "the place came back once, however often the last step ran"
    );
}

/// A move is one write, conditional on the mover writing tasks in both lists; the task keeps
/// its id and files, and its alarm follows it to the new list.
pub async fn a_task_moves_with_its_files_for_writers_of_both_lists(backend: Backend) {
    let (ada, bob) = (account(&backend).await, account(&backend).await);
    let errands = new_list(ada, "Errands");
    backend.stores.lists.create_list(&errands, 10, None, now()).await.unwrap();
    let mut task = crate::tasks::task(ada, "Post office");
    task.reminder_at = Some(now().plus(chrono::Duration::minutes(-1)));
    backend.stores.tasks.create_task(&task, None, now()).await.unwrap();
    let attachment = crate::files::file(ada, task.id, "form.pdf");
    backend.stores.files.create_file(inbox(ada), &attachment, 10).await.unwrap();

    let patch = |list| TaskPatch { list_id: Some(list), ..TaskPatch::default() };
    let (to_bob, _) = task.apply(patch(inbox(bob)), now(), TaskId::generate()).unwrap();
    let refused = backend.stores.tasks.move_task(member(ada), &to_bob, inbox(ada), 1, None).await;
    assert!(matches!(refused, Err(StoreError::AccessDenied)), "Ada cannot write Bob's Inbox: {refused:?}");
    let bobs_pen = Writer::Member { user: bob, list: inbox(ada) };
    let (moved, _) = task.apply(patch(errands.id), now(), TaskId::generate()).unwrap();
    assert!(matches!(backend.stores.tasks.move_task(bobs_pen, &moved, inbox(ada), 1, None).await, Err(StoreError::AccessDenied)));

    backend.calls();
    backend.stores.tasks.move_task(member(ada), &moved, inbox(ada), 1, None).await.unwrap();
    if backend.is_dynamodb() {
        assert_eq!(backend.calls(), [("TransactWriteItems".to_owned(), 1)].into(), "a move is one write");
    }
    assert_eq!(backend.stores.tasks.get_task(inbox(ada), task.id).await.unwrap(), None);
    assert_eq!(backend.stores.tasks.get_task(errands.id, task.id).await.unwrap(), Some(moved.clone()));
    let files = backend.stores.files.list_files(task.id, PageRequest { limit: 10, after: None }).await.unwrap();
    assert_eq!(files.items, [attachment], "its files stay with it");
    let due = crate::support::due_tasks(&backend, now()).await;
    assert!(due.contains(&(errands.id, task.id)) && !due.contains(&(inbox(ada), task.id)), "{due:?}");

    let again = backend.stores.tasks.move_task(member(ada), &moved, inbox(ada), 1, None).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "no longer in the Inbox: {again:?}");
    let (back, _) = moved.apply(patch(inbox(ada)), now(), TaskId::generate()).unwrap();
    let writer = Writer::Member { user: ada, list: errands.id };
    assert!(matches!(backend.stores.tasks.move_task(writer, &back, errands.id, 1, None).await, Err(StoreError::VersionMismatch)));
    backend.stores.tasks.move_task(writer, &back, errands.id, moved.version, None).await.unwrap();
    assert_eq!(backend.stores.tasks.get_task(inbox(ada), task.id).await.unwrap(), Some(back));
}

/// `GET /tasks`: every readable list's tasks, in id order, each exactly once across pages,
/// filters applied; one query of the memberships and one per list per page. A list being
/// deleted is not read.
pub async fn the_cross_list_view_pages_every_list_once_in_order(backend: Backend) {
    let app = backend.app();
    let (ada, bob) = (account(&backend).await, account(&backend).await);
    let principal = Principal { user_id: ada, session_id: SessionId::generate() };
    let (errands, doomed) = (new_list(ada, "Errands"), new_list(ada, "Doomed"));
    backend.stores.lists.create_list(&errands, 10, None, now()).await.unwrap();
    backend.stores.lists.create_list(&doomed, 10, None, now()).await.unwrap();
    let mut open = Vec::new();
    for n in 0..12 {
        let list = [inbox(ada), errands.id, inbox(bob)][n % 3];
        let creator = if list == inbox(bob) { bob } else { ada };
        let mut task = crate::tasks::task(creator, &format!("task {n}"));
        task.list_id = list;
        // Completed ones in between: a filter applied after a page is read leaves it short.
        if n % 2 == 0 {
            task.completion = todo_domain::model::Completion::Completed(now());
        }
        backend.stores.tasks.create_task(&task, None, now()).await.unwrap();
        if list != inbox(bob) && n % 2 == 1 {
            open.push(task.id);
        }
    }
    let mut gone = crate::tasks::task(ada, "in a list being deleted");
    gone.list_id = doomed.id;
    backend.stores.tasks.create_task(&gone, None, now()).await.unwrap();
    backend.stores.lists.delete_list_members(doomed.id, ada).await.unwrap();

    let query =
        |cursor| tasks::ListTasks { filter: TaskFilter { completed: Some(false), ..TaskFilter::default() }, limit: Some(2), cursor };
    let (mut seen, mut cursor, mut pages) = (Vec::new(), None, 0);
    backend.calls();
    loop {
        let page = tasks::list_all_tasks(&app, principal, query(cursor)).await.unwrap();
        pages += 1;
        if backend.is_dynamodb() {
            assert_eq!(backend.calls(), [("Query".to_owned(), 3)].into(), "the memberships, then the Inbox and Errands");
        }
        seen.extend(page.items.iter().map(|task| task.id));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
        assert!(pages < 20, "the cursor always moves on");
    }
    assert_eq!(seen, open, "every open task of Ada's lists, in id order, once; not Bob's, not the deleted list's");
    let first = tasks::list_all_tasks(&app, principal, query(None)).await.unwrap().next_cursor.unwrap();
    let bobs = Principal { user_id: bob, session_id: SessionId::generate() };
    let error = tasks::list_all_tasks(&app, bobs, query(Some(first))).await.unwrap_err();
    assert!(matches!(error, todo_domain::Error::Validation(_)), "a cursor is its user's: {error:?}");
}

/// A keyed list creation stores its record in the same write: the same key again creates
/// nothing (one write refused, one read of the record) and counts nothing against the limit;
/// a key used for a task answers with the task.
pub async fn a_keyed_list_creation_happens_once(backend: Backend) {
    let ada = account(&backend).await;
    let lists = &backend.stores.lists;
    let first = new_list(ada, "Groceries");
    let record = list_idempotency(&first, "list-1");
    backend.calls();
    assert_eq!(lists.create_list(&first, 2, Some(&record), now()).await.unwrap(), CreateOutcome::Created);
    if backend.is_dynamodb() {
        assert_eq!(backend.calls(), [("TransactWriteItems".to_owned(), 1)].into(), "list and record are one write");
    }
    let retry = new_list(ada, "Groceries");
    let outcome = lists.create_list(&retry, 2, Some(&list_idempotency(&retry, "list-1")), now()).await.unwrap();
    assert_eq!(outcome, CreateOutcome::Replayed(Box::new(record)), "the first request's record, with its list");
    if backend.is_dynamodb() {
        assert_eq!(backend.calls(), [("TransactWriteItems".to_owned(), 1), ("GetItem".to_owned(), 1)].into());
    }
    assert_eq!(lists.get_list(retry.id).await.unwrap(), None, "the retry made nothing");
    // The replay took no place: one more list still fits under a limit of two.
    let second = new_list(ada, "Errands");
    assert_eq!(lists.create_list(&second, 2, None, now()).await.unwrap(), CreateOutcome::Created);
    assert!(matches!(lists.create_list(&new_list(ada, "Third"), 2, None, now()).await, Err(StoreError::LimitReached)));
    // At the limit, a retry of a request that made a list is still answered.
    let late_retry = new_list(ada, "Groceries");
    let outcome = lists.create_list(&late_retry, 2, Some(&list_idempotency(&late_retry, "list-1")), now()).await.unwrap();
    assert!(matches!(outcome, CreateOutcome::Replayed(_)), "{outcome:?}");

    let task = crate::tasks::task(ada, "keyed");
    let task_record = crate::tasks::idempotency(&task, "shared-key", now());
    backend.stores.tasks.create_task(&task, Some(&task_record), now()).await.unwrap();
    let reused = new_list(ada, "Reused key");
    let outcome = lists.create_list(&reused, 10, Some(&list_idempotency(&reused, "shared-key")), now()).await.unwrap();
    assert_eq!(outcome, CreateOutcome::Replayed(Box::new(task_record)), "one key space for tasks and lists");
    assert_eq!(lists.get_list(reused.id).await.unwrap(), None);
}

fn list_idempotency(list: &TaskList, key: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        owner: list.owner,
        key: IdempotencyKey::parse(key).unwrap(),
        fingerprint: format!("fingerprint of {}", list.name.as_str()),
        made: Made::List(list.clone()),
        expires_at: now().plus(chrono::Duration::hours(24)),
    }
}
