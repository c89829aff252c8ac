//! The JSON the task service reads and writes. Request structs hold raw values and are
//! parsed into domain types once, here; `TaskView` renders a task.

use serde::{Deserialize, Serialize};
use todo_domain::Error;
use todo_domain::error::Collector;
use todo_domain::model::{Frequency, ListId, NewTask, Notes, Priority, Recurrence, Tag, Tags, Task, TaskPatch, Timestamp, Title};
use todo_domain::ports::TaskFilter;
use todo_domain::usecases::tasks::{ListTasks, MAX_PAGE_SIZE};
use todo_http::nullable;
use todo_http::openapi;
use todo_http::openapi::enumeration;
use utoipa::openapi::schema::ObjectBuilder;
use utoipa::{IntoParams, ToSchema};

/// A recurrence's frequency (`Frequency::parse`).
fn frequency() -> ObjectBuilder {
    enumeration(&["daily", "weekly", "monthly", "yearly"])
}

fn task_status() -> ObjectBuilder {
    enumeration(&["open", "completed"])
}

fn status_filter() -> ObjectBuilder {
    enumeration(&["open", "completed", "all"]).description(Some(
        "Which tasks: open, completed or all (the default). `open` pages come from an index of open tasks, so they cost about a page \
         however many tasks were completed; a write shows there within about a second.",
    ))
}

/// "Every `interval` `freq`s", e.g. every 2 weeks.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Recurrence)]
pub struct RecurrenceBody {
    #[schema(schema_with = frequency)]
    freq: String,
    /// 1 (the default) to 365.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 365)]
    interval: Option<i64>,
}

fn recurrence(field: &str, body: &RecurrenceBody, errors: &mut Collector) -> Option<Recurrence> {
    let freq = errors.take(&format!("{field}.freq"), Frequency::parse(&body.freq))?;
    errors.take(&format!("{field}.interval"), Recurrence::new(freq, body.interval.unwrap_or(1)))
}

/// A new task. Only `title` is required; `null` is the same as absent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewTask)]
pub struct CreateTaskBody {
    #[schema(schema_with = openapi::title)]
    title: String,
    #[serde(default)]
    #[schema(schema_with = openapi::notes_or_null)]
    notes: Option<String>,
    #[serde(default)]
    #[schema(schema_with = openapi::timestamp_or_null)]
    due: Option<String>,
    /// 1 (highest) to 4.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 4)]
    priority: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = openapi::tags_or_null)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    recurrence: Option<RecurrenceBody>,
    /// When to remind (a notification, at most a minute late).
    #[serde(default)]
    #[schema(schema_with = openapi::timestamp_or_null)]
    reminder_at: Option<String>,
}

/// The `NewTask` schema: `CreateTaskBody`'s, and that a `recurrence` comes with a `due` (the
/// occurrences are counted from it), which the derive cannot state: JSON Schema's `if`/`then`.
pub struct NewTaskSchema;

impl utoipa::PartialSchema for NewTaskSchema {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        openapi::with_keywords::<CreateTaskBody>(serde_json::json!({
            "if": {"properties": {"recurrence": {"type": "object"}}, "required": ["recurrence"]},
            "then": {"properties": {"due": {"type": "string"}}, "required": ["due"]}
        }))
    }
}

impl ToSchema for NewTaskSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("NewTask")
    }
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

/// A JSON merge patch (RFC 7396) of a task: absent leaves a field, `null` clears it
/// (`title`, `list_id` and `status` cannot be cleared).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TaskPatch)]
pub struct TaskPatchBody {
    /// Moves the task to another of the caller's lists (an editor or owner of both).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = openapi::id)]
    list_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = openapi::title)]
    title: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = openapi::notes_or_null)]
    notes: Option<Option<String>>,
    /// Completing a recurring task moves it to its next occurrence instead.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = task_status)]
    status: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = openapi::timestamp_or_null)]
    due: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 4)]
    priority: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = openapi::tags_or_null)]
    tags: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<RecurrenceBody>)]
    recurrence: Option<Option<RecurrenceBody>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = openapi::timestamp_or_null)]
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
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[param(schema_with = status_filter)]
    status: Option<String>,
    /// Only tasks with this tag.
    #[param(schema_with = openapi::tag)]
    tag: Option<String>,
    /// Only tasks due before this time.
    #[param(schema_with = openapi::timestamp)]
    due_before: Option<String>,
    /// Only tasks due at or after this time.
    #[param(schema_with = openapi::timestamp)]
    due_after: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// The `next_cursor` of the page before; only this API's own cursors are valid.
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

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RecurrenceRule)]
pub struct RecurrenceView {
    #[schema(schema_with = frequency)]
    freq: Frequency,
    interval: u16,
}

/// A task as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Task)]
pub struct TaskView {
    id: String,
    /// The list holding the task (the caller's Inbox unless it was put elsewhere).
    list_id: String,
    created_by: String,
    title: String,
    #[schema(required = true)]
    notes: Option<String>,
    #[schema(schema_with = task_status)]
    status: &'static str,
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    completed_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    due: Option<Timestamp>,
    #[schema(required = true)]
    priority: Option<u8>,
    tags: Vec<String>,
    #[schema(required = true)]
    recurrence: Option<RecurrenceView>,
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    reminder_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
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

/// A page of tasks; `next_cursor` fetches the next (`null` on the last page).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TaskPage)]
pub struct TaskListView {
    pub items: Vec<TaskView>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}
