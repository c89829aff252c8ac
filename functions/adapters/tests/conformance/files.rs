use todo_domain::model::{ContentType, FileId, FileName, FileRecord, FileStatus, TaskId, TaskList, UserId};
use todo_domain::ports::{ObjectInfo, PageRequest, StoreError, StoreResult, UploadOutcome, Writer};

use crate::support::{Backend, inbox, member, now, user};

/// Records a file its uploader attaches to a task in their Inbox.
async fn create(backend: &Backend, record: &FileRecord, max_per_task: u32) -> StoreResult<()> {
    backend.stores.files.create_file(inbox(record.uploaded_by), record, max_per_task).await
}

pub fn file(owner: UserId, task: TaskId, name: &str) -> FileRecord {
    let now = now();
    FileRecord {
        id: FileId::generate(),
        uploaded_by: owner,
        task_id: task,
        name: FileName::parse(name).unwrap(),
        content_type: ContentType::parse("application/pdf").unwrap(),
        declared_size: 10,
        size: None,
        etag: None,
        status: FileStatus::Pending,
        created_at: now,
        upload_expires_at: now.plus(chrono::Duration::minutes(15)),
        uploaded_at: None,
    }
}

async fn task(backend: &Backend) -> (UserId, TaskId) {
    let owner = user(&format!("{}@example.com", ulid::Ulid::new().to_string().to_lowercase()));
    backend.stores.users.insert_user(&owner, &TaskList::inbox_of(owner.id, now())).await.unwrap();
    let task = crate::tasks::task(owner.id, "with files");
    backend.stores.tasks.create_task(&task, None, now()).await.unwrap();
    (owner.id, task.id)
}

/// Between an account's deletion and its purge (seconds), its access token still verifies:
/// starting an upload then must fail, or its bytes could land after the purge looked.
pub async fn a_deleted_account_starts_no_upload(backend: Backend) {
    let (owner, task) = task(&backend).await;
    let profile = backend.stores.users.get_user(owner).await.unwrap().unwrap();
    backend.stores.users.delete_user(&profile, now()).await.unwrap();
    let late = file(owner, task, "late.pdf");
    assert!(matches!(create(&backend, &late, 20).await, Err(StoreError::OwnerMissing)));
    assert_eq!(backend.stores.files.get_file(task, late.id).await.unwrap(), None);
    assert!(backend.stores.files.list_files(task, PageRequest { limit: 10, after: None }).await.unwrap().items.is_empty());
}

pub async fn files_need_their_task_and_respect_the_limit(backend: Backend) {
    let files = &backend.stores.files;
    let (owner, task) = task(&backend).await;
    assert!(matches!(create(&backend, &file(owner, TaskId::generate(), "a.pdf"), 3).await, Err(StoreError::NotFound)));
    for n in 0..3 {
        create(&backend, &file(owner, task, &format!("{n}.pdf")), 3).await.unwrap();
    }
    assert!(matches!(create(&backend, &file(owner, task, "over.pdf"), 3).await, Err(StoreError::LimitReached)));
    // Deleting one frees a place.
    let first = files.list_files(task, PageRequest { limit: 1, after: None }).await.unwrap().items.remove(0);
    files.delete_file(member(owner), task, first.id).await.unwrap();
    assert!(matches!(files.delete_file(member(owner), task, first.id).await, Err(StoreError::NotFound)));
    create(&backend, &file(owner, task, "again.pdf"), 3).await.unwrap();
}

pub async fn files_are_isolated_and_paged_exactly_once(backend: Backend) {
    let files = &backend.stores.files;
    let (owner, task) = task(&backend).await;
    let (other_owner, other_task) = self::task(&backend).await;
    let mut ids = Vec::new();
    for n in 0..7 {
        let record = file(owner, task, &format!("{n}.pdf"));
        create(&backend, &record, 20).await.unwrap();
        ids.push(record.id);
    }
    create(&backend, &file(other_owner, other_task, "theirs.pdf"), 20).await.unwrap();
    // Files are keyed by their task (isolation is the list's membership, checked above the
    // store): another task's id names none of these.
    assert_eq!(files.get_file(other_task, ids[0]).await.unwrap(), None);
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = files.list_files(task, PageRequest { limit: 3, after }).await.unwrap();
        seen.extend(page.items.iter().map(|file| file.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    assert_eq!(files.list_files(other_task, PageRequest { limit: 100, after: None }).await.unwrap().items.len(), 1);
}

pub async fn an_upload_is_recorded_once(backend: Backend) {
    let files = &backend.stores.files;
    let (owner, task) = task(&backend).await;
    let record = file(owner, task, "a.pdf");
    create(&backend, &record, 20).await.unwrap();
    let info = ObjectInfo { size: 10, etag: "\"abc\"".to_owned(), content_type: Some("application/pdf".to_owned()) };
    let at = now();
    let UploadOutcome::Completed(done) = files.mark_uploaded(task, record.id, &info, at).await.unwrap() else {
        panic!("first arrival completes")
    };
    assert_eq!(
        (done.status, done.size, done.etag.as_deref(), done.uploaded_at),
        (FileStatus::Available, Some(10), Some("\"abc\""), Some(at))
    );
    assert_eq!(files.get_file(task, record.id).await.unwrap(), Some(done.clone()));
    let later = ObjectInfo { size: 99, etag: "\"other\"".to_owned(), content_type: None };
    assert_eq!(files.mark_uploaded(task, record.id, &later, now()).await.unwrap(), UploadOutcome::AlreadyAvailable(done.clone()));
    assert_eq!(files.get_file(task, record.id).await.unwrap(), Some(done), "a duplicate changes nothing");
    assert!(matches!(files.mark_uploaded(task, FileId::generate(), &info, now()).await, Err(StoreError::NotFound)));
}

/// The last net for abandoned uploads: what an upload URL uploads is marked pending (on
/// S3, the tag the bucket's lifecycle rule expires) until its arrival is recorded, and
/// marked again by a second upload of the same bytes until that arrival is seen too.
pub async fn a_recorded_upload_leaves_the_abandoned_upload_net(backend: Backend) {
    use todo_domain::usecases::files::{Arrival, complete_upload};
    let app = backend.app();
    let pending = || Some(vec![format!("{}={}", todo_adapters::s3::PENDING_UPLOAD_TAG.0, todo_adapters::s3::PENDING_UPLOAD_TAG.1)]);
    let kept = if backend.is_dynamodb() { Some(Vec::new()) } else { None };
    let (owner, task) = task(&backend).await;
    let record = file(owner, task, "a.pdf");
    create(&backend, &record, 20).await.unwrap();
    let key = record.object_key();
    let spec = todo_domain::ports::UploadSpec { content_type: "application/pdf".to_owned(), content_length: 10 };
    let upload = backend.stores.blobs.presign_put(&key, &spec, std::time::Duration::from_secs(60), now()).await.unwrap();
    assert_eq!(backend.execute(&upload, b"0123456789").0, 200);
    if backend.is_dynamodb() {
        assert_eq!(backend.object_tags(&key).await, pending(), "uploaded, not yet recorded");
    }
    assert_eq!(complete_upload(&app, &key).await.unwrap(), Arrival::Completed);
    assert_eq!(backend.object_tags(&key).await, kept, "recorded: the rule must leave it");
    assert_eq!(backend.execute(&upload, b"0123456789").0, 200, "the URL lives on");
    if backend.is_dynamodb() {
        assert_eq!(backend.object_tags(&key).await, pending());
    }
    assert_eq!(complete_upload(&app, &key).await.unwrap(), Arrival::Duplicate);
    assert_eq!(backend.object_tags(&key).await, kept, "the same bytes again are kept again");
    assert!(backend.stores.blobs.head(&key).await.unwrap().is_some());
}

/// A file is created only for a member who writes the list, and only on a task of that
/// list: someone else's list, or a task of another list named through one's own, is refused.
pub async fn files_are_created_only_by_members_on_tasks_of_the_list(backend: Backend) {
    let (owner, task) = task(&backend).await;
    let (stranger, strangers_task) = self::task(&backend).await;
    let in_owners_list = |uploader| FileRecord { uploaded_by: uploader, ..file(owner, task, "x.pdf") };
    let refused = backend.stores.files.create_file(inbox(owner), &in_owners_list(stranger), 20).await;
    assert!(matches!(refused, Err(StoreError::AccessDenied)), "{refused:?}");
    let through_own_list = backend.stores.files.create_file(inbox(stranger), &file(stranger, task, "x.pdf"), 20).await;
    assert!(matches!(through_own_list, Err(StoreError::NotFound)), "{through_own_list:?}");
    assert!(backend.stores.files.list_files(task, PageRequest { limit: 10, after: None }).await.unwrap().items.is_empty());
    create(&backend, &file(stranger, strangers_task, "mine.pdf"), 20).await.unwrap();
    let record = file(owner, task, "kept.pdf");
    create(&backend, &record, 20).await.unwrap();
    let denied = backend.stores.files.delete_file(Writer::Member { user: stranger, list: inbox(owner) }, task, record.id).await;
    assert!(matches!(denied, Err(StoreError::AccessDenied)), "{denied:?}");
    // Through a list one does write, a task of another list (as after a move) is refused.
    let elsewhere = backend.stores.files.delete_file(member(stranger), task, record.id).await;
    assert!(matches!(elsewhere, Err(StoreError::Moved)), "{elsewhere:?}");
    assert!(backend.stores.files.get_file(task, record.id).await.unwrap().is_some(), "a refused delete changes nothing");
    backend.stores.files.delete_file(member(owner), task, record.id).await.unwrap();
}

pub async fn a_task_with_files_is_not_deleted(backend: Backend) {
    let (owner, task) = task(&backend).await;
    let with_task = backend.items_of(owner).await;
    let record = file(owner, task, "late upload.pdf");
    create(&backend, &record, 20).await.unwrap();
    assert!(matches!(backend.stores.tasks.delete_task(member(owner), inbox(owner), task, None).await, Err(StoreError::NotEmpty)));
    assert!(backend.stores.tasks.get_task(inbox(owner), task).await.unwrap().is_some(), "the task stays with its file");
    assert!(
        matches!(backend.stores.tasks.delete_task(member(owner), inbox(owner), task, Some(99)).await, Err(StoreError::VersionMismatch)),
        "the version is checked first"
    );
    backend.stores.files.delete_file(member(owner), task, record.id).await.unwrap();
    backend.stores.tasks.delete_task(member(owner), inbox(owner), task, Some(1)).await.unwrap();
    assert_eq!(backend.stores.tasks.get_task(inbox(owner), task).await.unwrap(), None);
    assert_eq!(backend.items_of(owner).await, with_task - 1, "the task went, and no file or counter is left");
}

/// Housekeeping gives up on uploads whose URL expired more than the grace period ago —
/// removing their metadata and any object — completes the one whose bytes did arrive, and
/// leaves every live file alone. The store and the bucket are checked, not just the counts.
pub async fn housekeeping_gives_up_stale_uploads_and_nothing_else(backend: Backend) {
    let app = backend.app();
    let files = &backend.stores.files;
    let (owner, task) = task(&backend).await;
    let grace = chrono::Duration::seconds(i64::try_from(app.settings.files.stale_upload_grace_seconds).unwrap());
    let expired_long_ago = now().plus(-grace - chrono::Duration::hours(1));
    let stale = |name: &str| FileRecord { upload_expires_at: expired_long_ago, ..file(owner, task, name) };
    let never_arrived = stale("never.pdf");
    let arrived_unnoticed = stale("unnoticed.pdf");
    let within_grace = FileRecord { upload_expires_at: now().plus(chrono::Duration::hours(-1)), ..file(owner, task, "late.pdf") };
    let still_open = file(owner, task, "open.pdf");
    let available = file(owner, task, "done.pdf");
    for record in [&never_arrived, &arrived_unnoticed, &within_grace, &still_open, &available] {
        create(&backend, record, 20).await.unwrap();
    }
    // Bytes for two of them, put with a fresh URL (a stale one would be refused).
    let spec = todo_domain::ports::UploadSpec { content_type: "application/pdf".to_owned(), content_length: 10 };
    for record in [&arrived_unnoticed, &available] {
        let url = backend.stores.blobs.presign_put(&record.object_key(), &spec, std::time::Duration::from_secs(60), now()).await.unwrap();
        assert_eq!(backend.execute(&url, b"0123456789").0, 200);
    }
    let info = backend.stores.blobs.head(&available.object_key()).await.unwrap().unwrap();
    files.mark_uploaded(task, available.id, &info, now()).await.unwrap();

    let outcome = todo_domain::usecases::housekeeping::run_once(&app, now()).await.unwrap();
    assert_eq!((outcome.stale_uploads_removed, outcome.late_uploads_completed), (1, 1), "{outcome:?}");
    assert_eq!(files.get_file(task, never_arrived.id).await.unwrap(), None);
    let completed = files.get_file(task, arrived_unnoticed.id).await.unwrap().unwrap();
    assert_eq!((completed.status, completed.size), (FileStatus::Available, Some(10)));
    for live in [&within_grace, &still_open] {
        assert_eq!(files.get_file(task, live.id).await.unwrap().unwrap().status, FileStatus::Pending, "{}", live.name.as_str());
    }
    assert_eq!(files.get_file(task, available.id).await.unwrap().unwrap().status, FileStatus::Available);
    assert!(backend.stores.blobs.head(&available.object_key()).await.unwrap().is_some(), "live objects stay");
    assert!(backend.stores.blobs.head(&arrived_unnoticed.object_key()).await.unwrap().is_some());
    let listed = files.list_files(task, PageRequest { limit: 20, after: None }).await.unwrap();
    assert_eq!(listed.items.len(), 4, "exactly one record went");

    let again = todo_domain::usecases::housekeeping::run_once(&app, now()).await.unwrap();
    assert_eq!((again.stale_uploads_removed, again.late_uploads_completed), (0, 0), "the index no longer names them");
    // The freed place counts: the task holds 4 files, and the limit counter agrees.
    for n in 0..16 {
        create(&backend, &file(owner, task, &format!("more-{n}.pdf")), 20).await.unwrap();
    }
    assert!(matches!(create(&backend, &file(owner, task, "over.pdf"), 20).await, Err(StoreError::LimitReached)));
}
