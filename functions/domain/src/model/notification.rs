//! Alarms a task sets off (its reminder time, its due date passing) and the notifications
//! they leave in their owner's feed.

use serde::{Deserialize, Serialize};

use super::ids::{InvitationId, ListId, NotificationId, TaskId, UserId};
use super::list::{Invitation, ListName, SharedRole};
use super::task::{Task, Title};
use super::time::Timestamp;
use super::user::DisplayName;

/// What an alarm is about. Ordered so that a reminder and a due date at the same instant
/// fire reminder first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlarmKind {
    /// The task's `reminder_at` has passed.
    Reminder,
    /// The task's `due` has passed while it is still open.
    Overdue,
}

impl AlarmKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reminder => "reminder",
            Self::Overdue => "overdue",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "reminder" => Ok(Self::Reminder),
            "overdue" => Ok(Self::Overdue),
            _ => Err("must be reminder or overdue".to_owned()),
        }
    }
}

/// One moment an open task asks to be notified of. Ordered by time, then kind.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Alarm {
    pub at: Timestamp,
    pub kind: AlarmKind,
}

/// The alarms of a task already notified, by the time each was set for: a reminder moved
/// to another time is a new alarm, the same time again is not.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Notified {
    pub reminder: Option<Timestamp>,
    pub overdue: Option<Timestamp>,
}

impl Notified {
    pub fn get(&self, kind: AlarmKind) -> Option<Timestamp> {
        match kind {
            AlarmKind::Reminder => self.reminder,
            AlarmKind::Overdue => self.overdue,
        }
    }

    fn set(&mut self, kind: AlarmKind, at: Timestamp) {
        match kind {
            AlarmKind::Reminder => self.reminder = Some(at),
            AlarmKind::Overdue => self.overdue = Some(at),
        }
    }
}

impl Task {
    /// The alarms still to notify: none once the task is completed.
    pub fn pending_alarms(&self) -> impl Iterator<Item = Alarm> + '_ {
        let open = !self.completion.is_completed();
        [(AlarmKind::Reminder, self.reminder_at), (AlarmKind::Overdue, self.due)]
            .into_iter()
            .filter_map(move |(kind, at)| Some(Alarm { at: at?, kind }).filter(|_| open))
            .filter(|alarm| self.notified.get(alarm.kind) != Some(alarm.at))
    }

    /// The earliest pending alarm: what the due-alarm index holds for this task.
    pub fn next_alarm(&self) -> Option<Alarm> {
        self.pending_alarms().min()
    }

    /// This task with `alarm` recorded as notified. Not a change a client made: the
    /// version stays, so no client's `If-Match` is broken by a background job.
    #[must_use]
    pub fn with_notified(&self, alarm: Alarm) -> Self {
        let mut task = self.clone();
        task.notified.set(alarm.kind, alarm.at);
        task
    }
}

/// A notification in its owner's feed: about a task's alarm, or an invitation to a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: NotificationId,
    pub owner: UserId,
    /// Stored beside the fields above (notifications written before invitations had any
    /// are alarms).
    #[serde(flatten)]
    pub about: About,
    pub created_at: Timestamp,
    pub read_at: Option<Timestamp>,
    pub expires_at: Timestamp,
}

/// What a notification is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum About {
    Alarm(AlarmNotice),
    Invitation(InvitationNotice),
}

/// A task's alarm went off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmNotice {
    /// Where the task was when the notification was sent.
    pub list_id: ListId,
    pub task_id: TaskId,
    pub kind: AlarmKind,
    /// The time the alarm was set for (the reminder time, or the due date).
    pub at: Timestamp,
    /// The task's title when the notification was sent.
    pub task_title: Title,
}

/// Someone invited the owner's email to a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationNotice {
    pub kind: Invited,
    pub invitation_id: InvitationId,
    pub list_id: ListId,
    /// The list's name when the invitation was sent.
    pub list_name: ListName,
    pub role: SharedRole,
    /// The inviter's display name then, if they had one.
    pub invited_by_name: Option<DisplayName>,
    /// When the invitation was sent.
    pub at: Timestamp,
}

/// The `kind` of an invitation's notification: always `invited`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Invited {
    Invited,
}

impl Notification {
    /// The notification for `task`'s `alarm`, sent at `now`. Its id depends on the task and
    /// alarm only, so every run that sends it names the same one.
    pub fn for_alarm(task: &Task, alarm: Alarm, now: Timestamp, lifetime: chrono::Duration) -> Self {
        Self {
            id: NotificationId::for_alarm(task.id, alarm.kind.as_str(), alarm.at.unix_millis()),
            owner: task.created_by,
            about: About::Alarm(AlarmNotice {
                list_id: task.list_id,
                task_id: task.id,
                kind: alarm.kind,
                at: alarm.at,
                task_title: task.title.clone(),
            }),
            created_at: now,
            read_at: None,
            expires_at: now.plus(lifetime),
        }
    }

    /// The notification telling `invitee` (whose address the invitation names) about it,
    /// kept as long as the invitation can be accepted. Its id depends on the invitation only:
    /// a redelivered announcement names the same one.
    pub fn for_invitation(invitation: &Invitation, invitee: UserId, now: Timestamp) -> Self {
        Self {
            id: NotificationId::for_invitation(invitation.id, invitation.created_at.unix_millis()),
            owner: invitee,
            about: About::Invitation(InvitationNotice {
                kind: Invited::Invited,
                invitation_id: invitation.id,
                list_id: invitation.list_id,
                list_name: invitation.list_name.clone(),
                role: invitation.role,
                invited_by_name: invitation.invited_by_name.clone(),
                at: invitation.created_at,
            }),
            created_at: now,
            read_at: None,
            expires_at: invitation.expires_at,
        }
    }

    /// The alarm notice, if it is one.
    pub fn alarm(&self) -> Option<&AlarmNotice> {
        match &self.about {
            About::Alarm(alarm) => Some(alarm),
            About::Invitation(_) => None,
        }
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at <= now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NewTask, Tags, TaskPatch};

    fn at(raw: &str) -> Timestamp {
        Timestamp::parse(raw).unwrap()
    }

    fn task(reminder: Option<&str>, due: Option<&str>) -> Task {
        let new = NewTask {
            title: Title::parse("Call the plumber").unwrap(),
            notes: None,
            due: due.map(at),
            priority: None,
            tags: Tags::default(),
            recurrence: None,
            reminder_at: reminder.map(at),
        };
        Task::create(TaskId::generate(), ListId::generate(), UserId::generate(), new, at("2027-01-01T00:00:00Z")).unwrap()
    }

    #[test]
    fn the_next_alarm_is_the_earliest_pending_one() {
        let task = task(Some("2027-01-02T08:00:00Z"), Some("2027-01-02T09:00:00Z"));
        let reminder = Alarm { at: at("2027-01-02T08:00:00Z"), kind: AlarmKind::Reminder };
        assert_eq!(task.next_alarm(), Some(reminder));
        let after_reminder = task.with_notified(reminder);
        assert_eq!(after_reminder.version, task.version, "a background job does not bump the version");
        assert_eq!(after_reminder.next_alarm(), Some(Alarm { at: at("2027-01-02T09:00:00Z"), kind: AlarmKind::Overdue }));
        let both = after_reminder.with_notified(after_reminder.next_alarm().unwrap());
        assert_eq!(both.next_alarm(), None);
    }

    #[test]
    fn completing_silences_and_moving_the_reminder_re_arms() {
        let now = at("2027-01-01T12:00:00Z");
        let task = task(Some("2027-01-02T08:00:00Z"), None);
        let (done, _) = task.apply(TaskPatch { completed: Some(true), ..TaskPatch::default() }, now, TaskId::generate()).unwrap();
        assert_eq!(done.next_alarm(), None);
        let reminded = task.with_notified(task.next_alarm().unwrap());
        assert_eq!(reminded.next_alarm(), None);
        let later = TaskPatch { reminder_at: Some(Some(at("2027-01-03T08:00:00Z"))), ..TaskPatch::default() };
        let (moved, _) = reminded.apply(later, now, TaskId::generate()).unwrap();
        assert_eq!(moved.next_alarm(), Some(Alarm { at: at("2027-01-03T08:00:00Z"), kind: AlarmKind::Reminder }));
    }

    #[test]
    fn a_notification_id_names_the_task_kind_and_time() {
        let task = task(Some("2027-01-02T08:00:00Z"), Some("2027-01-02T08:00:00Z"));
        let now = at("2027-01-02T08:01:00Z");
        let reminder = Alarm { at: at("2027-01-02T08:00:00Z"), kind: AlarmKind::Reminder };
        let overdue = Alarm { kind: AlarmKind::Overdue, ..reminder };
        let once = Notification::for_alarm(&task, reminder, now, chrono::Duration::days(30));
        let again = Notification::for_alarm(&task, reminder, now.plus(chrono::Duration::minutes(5)), chrono::Duration::days(30));
        assert_eq!(once.id, again.id, "the same alarm sent twice is one notification");
        assert_ne!(once.id, Notification::for_alarm(&task, overdue, now, chrono::Duration::days(30)).id);
        let moved = Alarm { at: at("2027-01-02T08:30:00Z"), ..reminder };
        let later = Notification::for_alarm(&task, moved, now, chrono::Duration::days(30));
        assert!(later.id > once.id, "ids sort by the alarm's time");
        // Alarms before 1970 still get distinct ids.
        let ancient = |raw| NotificationId::for_alarm(task.id, "reminder", at(raw).unix_millis());
        assert_ne!(ancient("1900-01-01T00:00:00Z"), ancient("1901-01-01T00:00:00Z"));
    }
}
