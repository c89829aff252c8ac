use chrono::{Duration, Months};
use serde::{Deserialize, Serialize};

use super::ids::{ListId, TaskId, UserId};
use super::notification::Notified;
use super::text::{check_text, lowercase, stored_string_conversions, string_conversions, trimmed_line};
use super::time::Timestamp;
use crate::error::FieldError;

/// A task title: 1 to 200 characters after trimming, single line.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Title(String);

impl Title {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, String> {
        trimmed_line(raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free-form notes: up to 10,000 characters; newlines and tabs allowed.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Notes(String);

impl Notes {
    pub const MAX_CHARS: usize = 10_000;

    pub fn parse(raw: &str) -> Result<Self, String> {
        check_text(raw, 0, Self::MAX_CHARS, true)?;
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Priority 1 (highest) to 4 (lowest).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u8")]
pub struct Priority(u8);

impl Priority {
    pub fn parse(raw: i64) -> Result<Self, String> {
        match u8::try_from(raw) {
            Ok(value @ 1..=4) => Ok(Self(value)),
            _ => Err("must be an integer from 1 to 4".to_owned()),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// A tag: 1 to 32 characters, no spaces, commas or control characters; kept lower-cased.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

impl Tag {
    pub const MAX_CHARS: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, String> {
        check_text(raw, 1, Self::MAX_CHARS, false)?;
        if raw.chars().any(|c| c.is_whitespace() || c == ',') {
            return Err("must not contain spaces or commas".to_owned());
        }
        Ok(Self(lowercase(raw)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// At most 20 tags as sent (repeats are kept once), in the order first given.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<Tag>", into = "Vec<Tag>")]
pub struct Tags(Vec<Tag>);

impl Tags {
    pub const MAX: usize = 20;

    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, String> {
        if raw.len() > Self::MAX {
            return Err(format!("must hold at most {} tags", Self::MAX));
        }
        let tags = raw
            .iter()
            .enumerate()
            .map(|(index, tag)| Tag::parse(tag.as_ref()).map_err(|message| format!("tag {index} {message}")))
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_tags(tags)
    }

    fn from_tags(tags: Vec<Tag>) -> Result<Self, String> {
        let mut distinct: Vec<Tag> = Vec::with_capacity(tags.len());
        for tag in tags {
            if !distinct.contains(&tag) {
                distinct.push(tag);
            }
        }
        if distinct.len() > Self::MAX {
            return Err(format!("must hold at most {} tags", Self::MAX));
        }
        Ok(Self(distinct))
    }

    pub fn contains(&self, tag: &Tag) -> bool {
        self.0.contains(tag)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Tag> {
        self.0.iter()
    }
}

string_conversions!(Notes);
stored_string_conversions!(Title, Tag);

impl TryFrom<i64> for Priority {
    type Error = String;
    fn try_from(raw: i64) -> Result<Self, String> {
        Self::parse(raw)
    }
}

impl From<Priority> for u8 {
    fn from(priority: Priority) -> Self {
        priority.0
    }
}

impl TryFrom<Vec<Tag>> for Tags {
    type Error = String;
    fn try_from(tags: Vec<Tag>) -> Result<Self, String> {
        Self::from_tags(tags)
    }
}

impl From<Tags> for Vec<Tag> {
    fn from(tags: Tags) -> Self {
        tags.0
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl Frequency {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "daily" => Ok(Self::Daily),
            "weekly" => Ok(Self::Weekly),
            "monthly" => Ok(Self::Monthly),
            "yearly" => Ok(Self::Yearly),
            _ => Err("must be one of daily, weekly, monthly, yearly".to_owned()),
        }
    }
}

/// "Every `interval` `freq`", e.g. every 2 weeks.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Recurrence {
    freq: Frequency,
    interval: u16,
}

impl Recurrence {
    pub const MAX_INTERVAL: u16 = 365;

    pub fn new(freq: Frequency, interval: i64) -> Result<Self, String> {
        match u16::try_from(interval) {
            Ok(interval @ 1..=Self::MAX_INTERVAL) => Ok(Self { freq, interval }),
            _ => Err(format!("interval must be an integer from 1 to {}", Self::MAX_INTERVAL)),
        }
    }

    pub fn freq(&self) -> Frequency {
        self.freq
    }

    pub fn interval(&self) -> u16 {
        self.interval
    }

    /// The occurrence after `from`. Months and years keep the day of the month where it
    /// exists and clamp to the month's last day where it does not (Jan 31 → Feb 28).
    pub fn next_after(&self, from: Timestamp) -> Option<Timestamp> {
        let at = from.as_datetime();
        let interval = u32::from(self.interval);
        let next = match self.freq {
            Frequency::Daily => at.checked_add_signed(Duration::days(i64::from(interval))),
            Frequency::Weekly => at.checked_add_signed(Duration::weeks(i64::from(interval))),
            Frequency::Monthly => at.checked_add_months(Months::new(interval)),
            Frequency::Yearly => at.checked_add_months(Months::new(interval * 12)),
        }?;
        Some(Timestamp::from_datetime(next)).filter(Timestamp::is_writable)
    }
}

/// Whether a task is done, and since when. Completed-ness and its time cannot disagree.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "state", content = "at", rename_all = "lowercase")]
pub enum Completion {
    Open,
    Completed(Timestamp),
}

impl Completion {
    pub fn is_completed(&self) -> bool {
        matches!(self, Self::Completed(_))
    }

    pub fn completed_at(&self) -> Option<Timestamp> {
        match self {
            Self::Open => None,
            Self::Completed(at) => Some(*at),
        }
    }
}

/// The fields a client sets when creating a task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTask {
    pub title: Title,
    pub notes: Option<Notes>,
    pub due: Option<Timestamp>,
    pub priority: Option<Priority>,
    pub tags: Tags,
    pub recurrence: Option<Recurrence>,
    pub reminder_at: Option<Timestamp>,
}

/// A JSON merge patch, parsed: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskPatch {
    /// Moves the task to this list (its id, files and history kept).
    pub list_id: Option<ListId>,
    pub title: Option<Title>,
    pub notes: Option<Option<Notes>>,
    pub completed: Option<bool>,
    pub due: Option<Option<Timestamp>>,
    pub priority: Option<Option<Priority>>,
    pub tags: Option<Tags>,
    pub recurrence: Option<Option<Recurrence>>,
    pub reminder_at: Option<Option<Timestamp>>,
}

/// A task as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    /// The list holding the task: who may see and change it follows from the list.
    pub list_id: ListId,
    /// Who created it: reminders go to them.
    pub created_by: UserId,
    pub title: Title,
    pub notes: Option<Notes>,
    pub completion: Completion,
    pub due: Option<Timestamp>,
    pub priority: Option<Priority>,
    pub tags: Tags,
    pub recurrence: Option<Recurrence>,
    pub reminder_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Starts at 1, bumped on every change; the `ETag` and `If-Match` compare it.
    pub version: u64,
    /// The occurrence completing this one created: completing it again (after reopening)
    /// creates no second one.
    #[serde(default)]
    pub next_occurrence: Option<TaskId>,
    /// Which alarms were already notified (kept by the reminders job, not by clients).
    #[serde(default)]
    pub notified: Notified,
}

impl Task {
    pub fn create(id: TaskId, list_id: ListId, created_by: UserId, new: NewTask, now: Timestamp) -> Result<Self, FieldError> {
        let task = Self {
            id,
            list_id,
            created_by,
            title: new.title,
            notes: new.notes,
            completion: Completion::Open,
            due: new.due,
            priority: new.priority,
            tags: new.tags,
            recurrence: new.recurrence,
            reminder_at: new.reminder_at,
            created_at: now,
            updated_at: now,
            version: 1,
            next_occurrence: None,
            notified: Notified::default(),
        };
        task.check_invariants()?;
        Ok(task)
    }

    /// Rules that span fields; every constructor and change goes through here.
    fn check_invariants(&self) -> Result<(), FieldError> {
        if self.recurrence.is_some() && self.due.is_none() {
            return Err(FieldError::new("recurrence", "a recurring task needs a due date"));
        }
        Ok(())
    }

    /// Applies a patch at `now`. Completing a recurring task also yields its next
    /// occurrence (a new task, due one period after this one's due date).
    pub fn apply(&self, patch: TaskPatch, now: Timestamp, next_id: TaskId) -> Result<(Self, Option<Self>), FieldError> {
        let mut updated = self.clone();
        if let Some(list_id) = patch.list_id {
            updated.list_id = list_id;
        }
        if let Some(title) = patch.title {
            updated.title = title;
        }
        if let Some(notes) = patch.notes {
            updated.notes = notes;
        }
        if let Some(due) = patch.due {
            updated.due = due;
        }
        if let Some(priority) = patch.priority {
            updated.priority = priority;
        }
        if let Some(tags) = patch.tags {
            updated.tags = tags;
        }
        if let Some(recurrence) = patch.recurrence {
            updated.recurrence = recurrence;
        }
        if let Some(reminder_at) = patch.reminder_at {
            updated.reminder_at = reminder_at;
        }
        let mut next_occurrence = None;
        match (patch.completed, self.completion) {
            (Some(true), Completion::Open) => {
                updated.completion = Completion::Completed(now);
                if self.next_occurrence.is_none() {
                    next_occurrence = updated.spawn_next(next_id, now)?;
                    updated.next_occurrence = next_occurrence.as_ref().map(|next| next.id);
                }
            }
            (Some(false), Completion::Completed(_)) => updated.completion = Completion::Open,
            _ => {}
        }
        updated.check_invariants()?;
        if updated == *self {
            // Nothing changed: no new version, nothing spawned.
            return Ok((updated, None));
        }
        updated.version = self.version + 1;
        updated.updated_at = now;
        Ok((updated, next_occurrence))
    }

    fn spawn_next(&self, id: TaskId, now: Timestamp) -> Result<Option<Self>, FieldError> {
        let (Some(recurrence), Some(due)) = (self.recurrence, self.due) else {
            return Ok(None);
        };
        let next_due = recurrence
            .next_after(due)
            .ok_or_else(|| FieldError::new("due", "the next occurrence falls outside the supported date range"))?;
        // The reminder keeps its distance from the due date.
        let reminder_at = self.reminder_at.map(|reminder| reminder.plus(next_due.as_datetime() - due.as_datetime()));
        if reminder_at.is_some_and(|reminder| !reminder.is_writable()) {
            return Err(FieldError::new("reminder_at", "the next occurrence's reminder falls outside the supported date range"));
        }
        Ok(Some(Self {
            id,
            list_id: self.list_id,
            created_by: self.created_by,
            title: self.title.clone(),
            notes: self.notes.clone(),
            completion: Completion::Open,
            due: Some(next_due),
            priority: self.priority,
            tags: self.tags.clone(),
            recurrence: self.recurrence,
            reminder_at,
            created_at: now,
            updated_at: now,
            version: 1,
            next_occurrence: None,
            notified: Notified::default(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(raw: &str) -> Timestamp {
        Timestamp::parse(raw).unwrap()
    }

    fn new_task(due: Option<&str>, recurrence: Option<Recurrence>) -> NewTask {
        NewTask {
            title: Title::parse("Water the plants").unwrap(),
            notes: None,
            due: due.map(at),
            priority: None,
            tags: Tags::default(),
            recurrence,
            reminder_at: due.map(|d| at(d).plus(Duration::hours(-1))),
        }
    }

    #[test]
    fn titles_are_trimmed_bounded_and_single_line() {
        assert_eq!(Title::parse("  Buy milk ").unwrap().as_str(), "Buy milk");
        assert!(Title::parse(" ").is_err());
        assert!(Title::parse(&"t".repeat(201)).is_err());
        assert!(Title::parse("two\nlines").is_err());
        assert!(Notes::parse("two\nlines\tok").is_ok());
        assert!(Notes::parse("nul\u{0}").is_err());
    }

    #[test]
    fn priorities_are_one_to_four() {
        assert!(Priority::parse(0).is_err());
        assert!(Priority::parse(5).is_err());
        assert!(Priority::parse(-1).is_err());
        assert_eq!(Priority::parse(4).unwrap().get(), 4);
    }

    #[test]
    fn tags_are_normalised_deduplicated_and_bounded() {
        let tags = Tags::parse(&["Home", "home", "errand"]).unwrap();
        assert_eq!(tags.iter().map(Tag::as_str).collect::<Vec<_>>(), ["home", "errand"]);
        assert!(Tags::parse(&["has space"]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(Tags::parse(&many).is_err());
    }

    #[test]
    fn occurrences_past_year_9999_are_refused() {
        let yearly = Recurrence::new(Frequency::Yearly, 1).unwrap();
        assert_eq!(yearly.next_after(at("9999-06-01T00:00:00Z")), None);
    }

    #[test]
    fn monthly_recurrence_clamps_to_month_end() {
        let monthly = Recurrence::new(Frequency::Monthly, 1).unwrap();
        assert_eq!(monthly.next_after(at("2027-01-31T09:00:00Z")).unwrap(), at("2027-02-28T09:00:00Z"));
        let yearly = Recurrence::new(Frequency::Yearly, 1).unwrap();
        assert_eq!(yearly.next_after(at("2028-02-29T09:00:00Z")).unwrap(), at("2029-02-28T09:00:00Z"));
        let fortnightly = Recurrence::new(Frequency::Weekly, 2).unwrap();
        assert_eq!(fortnightly.next_after(at("2027-01-01T09:00:00Z")).unwrap(), at("2027-01-15T09:00:00Z"));
    }

    #[test]
    fn recurrence_interval_is_bounded() {
        assert!(Recurrence::new(Frequency::Daily, 0).is_err());
        assert!(Recurrence::new(Frequency::Daily, 366).is_err());
    }

    #[test]
    fn a_recurring_task_needs_a_due_date() {
        let daily = Recurrence::new(Frequency::Daily, 1).unwrap();
        let error = Task::create(
            TaskId::generate(),
            ListId::generate(),
            UserId::generate(),
            new_task(None, Some(daily)),
            at("2027-01-01T00:00:00Z"),
        )
        .unwrap_err();
        assert_eq!(error.field, "recurrence");
    }

    #[test]
    fn completing_a_recurring_task_spawns_the_next_occurrence_once() {
        let now = at("2027-01-01T12:00:00Z");
        let weekly = Recurrence::new(Frequency::Weekly, 1).unwrap();
        let task = Task::create(
            TaskId::generate(),
            ListId::generate(),
            UserId::generate(),
            new_task(Some("2027-01-02T09:00:00Z"), Some(weekly)),
            now,
        )
        .unwrap();
        let complete = TaskPatch { completed: Some(true), ..TaskPatch::default() };
        let (done, next) = task.apply(complete.clone(), now, TaskId::generate()).unwrap();
        assert_eq!(done.completion, Completion::Completed(now));
        assert_eq!(done.version, 2);
        let next = next.expect("next occurrence");
        assert_eq!(next.due, Some(at("2027-01-09T09:00:00Z")));
        assert_eq!(next.reminder_at, Some(at("2027-01-09T08:00:00Z")));
        assert_eq!(next.completion, Completion::Open);
        // Completing an already completed task changes nothing and spawns nothing.
        let (again, none) = done.apply(complete.clone(), now, TaskId::generate()).unwrap();
        assert_eq!(again.completion, done.completion);
        assert!(none.is_none());
        // Nor does reopening and completing again.
        let (reopened, _) = done.apply(TaskPatch { completed: Some(false), ..TaskPatch::default() }, now, TaskId::generate()).unwrap();
        let (_, none) = reopened.apply(complete, now, TaskId::generate()).unwrap();
        assert!(none.is_none(), "one next occurrence per task");
    }

    #[test]
    fn reopening_clears_completed_at_and_null_clears_fields() {
        let now = at("2027-01-01T12:00:00Z");
        let task =
            Task::create(TaskId::generate(), ListId::generate(), UserId::generate(), new_task(Some("2027-01-02T09:00:00Z"), None), now)
                .unwrap();
        let (done, _) = task.apply(TaskPatch { completed: Some(true), ..TaskPatch::default() }, now, TaskId::generate()).unwrap();
        let patch = TaskPatch { completed: Some(false), due: Some(None), ..TaskPatch::default() };
        let (reopened, _) = done.apply(patch, now, TaskId::generate()).unwrap();
        assert_eq!(reopened.completion, Completion::Open);
        assert_eq!(reopened.due, None);
    }

    #[test]
    fn clearing_the_due_date_of_a_recurring_task_is_refused() {
        let now = at("2027-01-01T12:00:00Z");
        let daily = Recurrence::new(Frequency::Daily, 1).unwrap();
        let task = Task::create(
            TaskId::generate(),
            ListId::generate(),
            UserId::generate(),
            new_task(Some("2027-01-02T09:00:00Z"), Some(daily)),
            now,
        )
        .unwrap();
        let patch = TaskPatch { due: Some(None), ..TaskPatch::default() };
        assert_eq!(task.apply(patch, now, TaskId::generate()).unwrap_err().field, "recurrence");
    }

    fn frequency() -> impl Strategy<Value = Frequency> {
        prop_oneof![Just(Frequency::Daily), Just(Frequency::Weekly), Just(Frequency::Monthly), Just(Frequency::Yearly)]
    }

    proptest! {
        #[test]
        fn next_occurrence_is_later_and_within_one_period(
            freq in frequency(),
            interval in 1i64..=365,
            millis in 0i64..4_000_000_000_000,
        ) {
            let recurrence = Recurrence::new(freq, interval).unwrap();
            let from = Timestamp::from_unix_millis(millis).unwrap();
            let next = recurrence.next_after(from).unwrap();
            prop_assert!(next > from);
            let gap = next.as_datetime() - from.as_datetime();
            let (min_days, max_days) = match freq {
                Frequency::Daily => (interval, interval),
                Frequency::Weekly => (7 * interval, 7 * interval),
                Frequency::Monthly => (28 * interval - 3, 31 * interval),
                Frequency::Yearly => (365 * interval - 1, 366 * interval + 1),
            };
            prop_assert!(gap >= Duration::days(min_days), "gap {gap} under {min_days} days");
            prop_assert!(gap <= Duration::days(max_days), "gap {gap} over {max_days} days");
            // Time of day never drifts.
            prop_assert_eq!(next.as_datetime().time(), from.as_datetime().time());
        }
    }
}
