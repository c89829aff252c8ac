//! `scale-bench purge`: one account with many tasks, each with a file, deleted as
//! production deletes it (`users::remove_leftovers`, what `account-purge` and housekeeping
//! run), on the embedded store and on DynamoDB (moto): the time it takes, and the DynamoDB
//! calls per task. `--tasks N` (20,000; a hundredth on moto, which copies the whole table
//! for every item of a TransactWriteItems).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use futures::StreamExt as _;
use todo_adapters::dynamodb::{CallLog, DynamoStore, create_table, emulator_client};
use todo_adapters::embedded::{EmbeddedStore, LocalBlobs};
use todo_domain::app::Stores;
use todo_domain::clock::SystemClock;
use todo_domain::model::{
    ContentType, FileId, FileName, FileRecord, FileStatus, ListId, NewTask, Tags, Task, TaskId, TaskList, Timestamp, Title,
};
use todo_domain::usecases::users;
use todo_domain::{App, Settings};

use crate::common::{cpu_seconds, secret, user};

pub async fn run() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let value = |flag: &str| args.iter().position(|arg| arg == flag).and_then(|at| args.get(at + 1)).cloned();
    let tasks: usize = value("--tasks").map_or(Ok(20_000), |raw| raw.parse()).context("--tasks needs a number")?;
    let endpoint = value("--endpoint");
    let mut results = vec![purge(None, tasks).await?];
    if let Some(endpoint) = &endpoint {
        results.push(purge(Some(endpoint), (tasks / 100).max(1)).await?);
    }
    if let Some(out) = value("--out") {
        std::fs::write(&out, serde_json::to_string_pretty(&results)?)?;
    }
    Ok(())
}

async fn purge(endpoint: Option<&str>, tasks: usize) -> anyhow::Result<serde_json::Value> {
    let dir = tempfile::tempdir()?;
    let blobs = Arc::new(LocalBlobs::new(dir.path().join("blobs"), "http://127.0.0.1:1", &secret()));
    let (stores, calls) = match endpoint {
        None => (Stores::from_one(&Arc::new(EmbeddedStore::open(dir.path())?), blobs), None),
        Some(endpoint) => {
            let calls = CallLog::new();
            let table = format!("purge-bench-{}", TaskId::generate().to_string().to_lowercase());
            create_table(&emulator_client(endpoint, None), &table).await?;
            let store = Arc::new(DynamoStore::new(emulator_client(endpoint, Some(&calls)), &table));
            (Stores::from_one(&store, blobs), Some(calls))
        }
    };
    let app = App::new(stores.clone(), Arc::new(SystemClock), Settings::with_secret(secret()));
    let now = Timestamp::from_datetime(chrono::Utc::now());
    let owner = user(0, now);
    stores.users.insert_user(&owner, &TaskList::inbox_of(owner.id, now)).await?;
    let loading = Instant::now();
    let creates = futures::stream::iter(0..tasks).map(|n| {
        let stores = &stores;
        async move {
            let new = NewTask {
                title: Title::parse(&format!("task {n}")).expect("a title"),
                notes: None,
                due: None,
                priority: None,
                tags: Tags::default(),
                recurrence: None,
                reminder_at: None,
            };
            let task =
                Task::create(TaskId::generate(), ListId::inbox_of(owner.id), owner.id, new, now).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            stores.tasks.create_task(&task, None, now).await?;
            let file = FileRecord {
                id: FileId::generate(),
                uploaded_by: owner.id,
                task_id: task.id,
                name: FileName::parse("scan.pdf").expect("a name"),
                content_type: ContentType::parse("application/pdf").expect("a type"),
                declared_size: 10,
                size: None,
                etag: None,
                status: FileStatus::Pending,
                created_at: now,
                upload_expires_at: now.plus(chrono::Duration::minutes(15)),
                uploaded_at: None,
            };
            stores.files.create_file(task.list_id, &file, 20).await?;
            anyhow::Ok(())
        }
    });
    for result in creates.buffer_unordered(crate::reminders::LOADING_AT_ONCE).collect::<Vec<_>>().await {
        result?;
    }
    let loaded_in = loading.elapsed();
    stores.users.delete_user(&owner, now).await?;
    if let Some(calls) = &calls {
        calls.take();
    }
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    users::remove_leftovers(&app, owner.id).await?;
    let elapsed = started.elapsed();
    let cpu = cpu_seconds() - cpu_before;
    anyhow::ensure!(stores.users.pending_deletions(10).await?.is_empty(), "the deletion finished");
    anyhow::ensure!(stores.lists.get_list(ListId::inbox_of(owner.id)).await?.is_none(), "the Inbox is gone");
    let counts = calls.as_ref().map(CallLog::take_counts).unwrap_or_default();
    let per_task: std::collections::BTreeMap<&String, f64> =
        counts.iter().map(|(name, count)| (name, *count as f64 / tasks as f64)).collect();
    let figures = serde_json::json!({
        "store": if endpoint.is_some() { "dynamodb (moto)" } else { "embedded (SQLite)" },
        "tasks": tasks,
        "files": tasks,
        "load_s": loaded_in.as_secs_f64(),
        "purge_s": elapsed.as_secs_f64(),
        "tasks_per_s": tasks as f64 / elapsed.as_secs_f64(),
        "cpu_ms_per_task": cpu * 1000.0 / tasks as f64,
        "dynamodb_calls": counts,
        "dynamodb_calls_per_task": per_task,
    });
    println!("{}", serde_json::to_string(&figures)?);
    Ok(figures)
}
