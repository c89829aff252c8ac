use todo_domain::model::{ContentType, FileId, FileName, FileRecord, FileStatus, TaskId, UserId};
use todo_domain::ports::{ObjectInfo, PageRequest, StoreError, UploadOutcome};

use crate::support::{Backend, now, user};

fn file(owner: UserId, task: TaskId, name: &str) -> FileRecord {
    let now = now();
    FileRecord {
        id: FileId::generate(),
        owner,
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
    backend.stores.users.insert_user(&owner).await.unwrap();
    let task = crate::tasks::task(owner.id, "with files");
    backend.stores.tasks.create_task(&task, None, now()).await.unwrap();
    (owner.id, task.id)
}

pub async fn files_need_their_task_and_respect_the_limit(backend: Backend) {
    let files = &backend.stores.files;
    let (owner, task) = task(&backend).await;
    assert!(matches!(files.create_file(&file(owner, TaskId::generate(), "a.pdf"), 3).await, Err(StoreError::NotFound)));
    for n in 0..3 {
        files.create_file(&file(owner, task, &format!("{n}.pdf")), 3).await.unwrap();
    }
    assert!(matches!(files.create_file(&file(owner, task, "over.pdf"), 3).await, Err(StoreError::LimitReached)));
    // Deleting one frees a place.
    let first = files.list_files(owner, task, PageRequest { limit: 1, after: None }).await.unwrap().items.remove(0);
    files.delete_file(owner, task, first.id).await.unwrap();
    assert!(matches!(files.delete_file(owner, task, first.id).await, Err(StoreError::NotFound)));
    files.create_file(&file(owner, task, "again.pdf"), 3).await.unwrap();
}

pub async fn files_are_isolated_and_paged_exactly_once(backend: Backend) {
    let files = &backend.stores.files;
    let (owner, task) = task(&backend).await;
    let (other_owner, other_task) = self::task(&backend).await;
    let mut ids = Vec::new();
    for n in 0..7 {
        let record = file(owner, task, &format!("{n}.pdf"));
        files.create_file(&record, 20).await.unwrap();
        ids.push(record.id);
    }
    files.create_file(&file(other_owner, other_task, "theirs.pdf"), 20).await.unwrap();
    assert_eq!(files.get_file(other_owner, task, ids[0]).await.unwrap(), None);
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = files.list_files(owner, task, PageRequest { limit: 3, after }).await.unwrap();
        seen.extend(page.items.iter().map(|file| file.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    assert!(files.list_files(other_owner, task, PageRequest { limit: 100, after: None }).await.unwrap().items.is_empty());
}

pub async fn an_upload_is_recorded_once(backend: Backend) {
    let files = &backend.stores.files;
    let (owner, task) = task(&backend).await;
    let record = file(owner, task, "a.pdf");
    files.create_file(&record, 20).await.unwrap();
    let info = ObjectInfo { size: 10, etag: "\"abc\"".to_owned(), content_type: Some("application/pdf".to_owned()) };
    let at = now();
    let UploadOutcome::Completed(done) = files.mark_uploaded(owner, task, record.id, &info, at).await.unwrap() else {
        panic!("first arrival completes")
    };
    assert_eq!(
        (done.status, done.size, done.etag.as_deref(), done.uploaded_at),
        (FileStatus::Available, Some(10), Some("\"abc\""), Some(at))
    );
    assert_eq!(files.get_file(owner, task, record.id).await.unwrap(), Some(done.clone()));
    let later = ObjectInfo { size: 99, etag: "\"other\"".to_owned(), content_type: None };
    assert_eq!(files.mark_uploaded(owner, task, record.id, &later, now()).await.unwrap(), UploadOutcome::AlreadyAvailable(done.clone()));
    assert_eq!(files.get_file(owner, task, record.id).await.unwrap(), Some(done), "a duplicate changes nothing");
    assert!(matches!(files.mark_uploaded(owner, task, FileId::generate(), &info, now()).await, Err(StoreError::NotFound)));
}

pub async fn deleting_the_account_removes_file_records(backend: Backend) {
    let (owner, task) = task(&backend).await;
    backend.stores.files.create_file(&file(owner, task, "a.pdf"), 20).await.unwrap();
    let profile = backend.stores.users.get_user(owner).await.unwrap().unwrap();
    backend.stores.users.delete_user(&profile, now()).await.unwrap();
    backend.stores.tasks.delete_user_tasks(owner).await.unwrap();
    backend.stores.users.finish_deletion(owner).await.unwrap();
    assert_eq!(backend.items_of(owner).await, 0, "no task, file or counter left");
}

pub async fn a_task_with_files_is_not_deleted(backend: Backend) {
    let (owner, task) = task(&backend).await;
    let with_task = backend.items_of(owner).await;
    let record = file(owner, task, "late upload.pdf");
    backend.stores.files.create_file(&record, 20).await.unwrap();
    assert!(matches!(backend.stores.tasks.delete_task(owner, task, None).await, Err(StoreError::NotEmpty)));
    assert!(backend.stores.tasks.get_task(owner, task).await.unwrap().is_some(), "the task stays with its file");
    assert!(
        matches!(backend.stores.tasks.delete_task(owner, task, Some(99)).await, Err(StoreError::VersionMismatch)),
        "the version is checked first"
    );
    backend.stores.files.delete_file(owner, task, record.id).await.unwrap();
    backend.stores.tasks.delete_task(owner, task, Some(1)).await.unwrap();
    assert_eq!(backend.stores.tasks.get_task(owner, task).await.unwrap(), None);
    assert_eq!(backend.items_of(owner).await, with_task - 1, "the task went, and no file or counter is left");
}
