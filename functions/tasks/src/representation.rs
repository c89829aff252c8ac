//! The JSON the task service reads and writes. Request structs hold raw values and are
//! parsed into domain types once, here; `TaskView` renders a task.

use serde::{Deserialize, Serialize};
use todo_domain::Error;
use todo_domain::error::Collector;
use todo_domain::model::{Frequency, ListId, NewTask, Notes, Priority, Recurrence, Tag, Tags, Task, TaskPatch, Timestamp, Title};
use todo_domain::ports::TaskFilter;
use todo_domain::usecases::tasks::{ListTasks, MAX_PAGE_SIZE};
use todo_http::nullable;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurrenceBody {
    freq: String,
    #[serde(default)]
    interval: Option<i64>,
}

fn recurrence(field: &str, body: &RecurrenceBody, errors: &mut Collector) -> Option<Recurrence> {
    let freq = errors.take(&format!("{field}.freq"), Frequency::parse(&body.freq))?;
    errors.take(&format!("{field}.interval"), Recurrence::new(freq, body.interval.unwrap_or(1)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTaskBody {
    title: String,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    due: Option<String>,
    #[serde(default)]
    priority: Option<i64>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    recurrence: Option<RecurrenceBody>,
    #[serde(default)]
    reminder_at: Option<String>,
}

impl TryFrom<CreateTaskBody> for NewTask {
    type Error = Error;
    fn try_from(body: CreateTaskBody) -> Result<Self, Error> {
        let mut errors = Collector::new();
        let title = errors.take("title", Title::parse(&body.title));
        let notes = body.notes.and_then(|raw| errors.take("notes", Notes::parse(&raw)));
        let due = body.due.and_then(|raw| errors.take("due", Timestamp::parse(&raw)));
        let priority = body.priority.and_then(|raw| errors.take("priority", Priority::parse(raw)));
        let tags = errors.take("tags", Tags::parse(&body.tags.unwrap_or_default()));
        let recurrence = body.recurrence.and_then(|raw| recurrence("recurrence", &raw, &mut errors));
        let reminder_at = body.reminder_at.and_then(|raw| errors.take("reminder_at", Timestamp::parse(&raw)));
        errors.finish()?;
        Ok(Self { title: title.expect("checked"), notes, due, priority, tags: tags.expect("checked"), recurrence, reminder_at })
    }
}

/// A JSON merge patch (RFC 7396) of a task: absent leaves a field, `null` clears it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskPatchBody {
    #[serde(default, deserialize_with = "nullable")]
    list_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    title: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    status: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    due: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    priority: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    tags: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "nullable")]
    recurrence: Option<Option<RecurrenceBody>>,
    #[serde(default, deserialize_with = "nullable")]
    reminder_at: Option<Option<String>>,
}

/// Parses a nullable patch field: `Some(None)` clears, `Some(Some(_))` sets.
fn clearable<R, T>(value: Option<Option<R>>, parse: impl FnOnce(R) -> Option<T>) -> Option<Option<T>> {
    match value {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => parse(raw).map(Some),
    }
}

impl TryFrom<TaskPatchBody> for TaskPatch {
    type Error = Error;
    fn try_from(body: TaskPatchBody) -> Result<Self, Error> {
        let mut errors = Collector::new();
        let list_id = match body.list_id {
            Some(None) => {
                errors.push("list_id", "cannot be null: a task is always in a list");
                None
            }
            Some(Some(raw)) => errors.take("list_id", ListId::parse(&raw)),
            None => None,
        };
        let title = match body.title {
            Some(None) => {
                errors.push("title", "cannot be null");
                None
            }
            Some(Some(raw)) => errors.take("title", Title::parse(&raw)),
            None => None,
        };
        let completed = match body.status.as_ref().map(|s| s.as_deref()) {
            None => None,
            Some(Some("open")) => Some(false),
            Some(Some("completed")) => Some(true),
            Some(_) => {
                errors.push("status", "must be \"open\" or \"completed\"");
                None
            }
        };
        let notes = clearable(body.notes, |raw| errors.take("notes", Notes::parse(&raw)));
        let due = clearable(body.due, |raw| errors.take("due", Timestamp::parse(&raw)));
        let priority = clearable(body.priority, |raw| errors.take("priority", Priority::parse(raw)));
        // `null` tags clear the list.
        let tags = body.tags.map(|raw| errors.take("tags", Tags::parse(&raw.unwrap_or_default())));
        let recurrence = clearable(body.recurrence, |raw| recurrence("recurrence", &raw, &mut errors));
        let reminder_at = clearable(body.reminder_at, |raw| errors.take("reminder_at", Timestamp::parse(&raw)));
        errors.finish()?;
        Ok(Self { list_id, title, notes, completed, due, priority, tags: tags.map(|tags| tags.expect("checked")), recurrence, reminder_at })
    }
}

/// `GET /lists/{list_id}/tasks` query parameters, all raw; parsed (and named on error) below.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    tag: Option<String>,
    due_before: Option<String>,
    due_after: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

impl TryFrom<ListQuery> for ListTasks {
    type Error = Error;
    fn try_from(query: ListQuery) -> Result<Self, Error> {
        let mut errors = Collector::new();
        let completed = match query.status.as_deref() {
            None | Some("all") => None,
            Some("open") => Some(false),
            Some("completed") => Some(true),
            Some(_) => {
                errors.push("status", "must be one of open, completed, all");
                None
            }
        };
        let tag = query.tag.and_then(|raw| errors.take("tag", Tag::parse(&raw)));
        let due_before = query.due_before.and_then(|raw| errors.take("due_before", Timestamp::parse(&raw)));
        let due_after = query.due_after.and_then(|raw| errors.take("due_after", Timestamp::parse(&raw)));
        let limit = query.limit.and_then(|raw| {
            let parsed = raw.parse::<u32>().ok().filter(|limit| (1..=MAX_PAGE_SIZE).contains(limit));
            errors.take("limit", parsed.ok_or_else(|| format!("must be an integer from 1 to {MAX_PAGE_SIZE}")))
        });
        errors.finish()?;
        Ok(Self { filter: TaskFilter { completed, tag, due_before, due_after }, limit, cursor: query.cursor })
    }
}

#[derive(Debug, Serialize)]
pub struct RecurrenceView {
    freq: Frequency,
    interval: u16,
}

/// A task as the API shows it.
#[derive(Debug, Serialize)]
pub struct TaskView {
    id: String,
    /// The list holding the task (the caller's Inbox unless it was put elsewhere).
    list_id: String,
    created_by: String,
    title: String,
    notes: Option<String>,
    status: &'static str,
    completed_at: Option<Timestamp>,
    due: Option<Timestamp>,
    priority: Option<u8>,
    tags: Vec<String>,
    recurrence: Option<RecurrenceView>,
    reminder_at: Option<Timestamp>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<&Task> for TaskView {
    fn from(task: &Task) -> Self {
        Self {
            id: task.id.to_string(),
            list_id: task.list_id.to_string(),
            created_by: task.created_by.to_string(),
            title: task.title.as_str().to_owned(),
            notes: task.notes.as_ref().map(|notes| notes.as_str().to_owned()),
            status: if task.completion.is_completed() { "completed" } else { "open" },
            completed_at: task.completion.completed_at(),
            due: task.due,
            priority: task.priority.map(Priority::get),
            tags: task.tags.iter().map(|tag| tag.as_str().to_owned()).collect(),
            recurrence: task.recurrence.map(|r| RecurrenceView { freq: r.freq(), interval: r.interval() }),
            reminder_at: task.reminder_at,
            created_at: task.created_at,
            updated_at: task.updated_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TaskListView {
    pub items: Vec<TaskView>,
    pub next_cursor: Option<String>,
}
