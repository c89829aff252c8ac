//! The JSON the notifications service reads and writes.

use serde::{Deserialize, Serialize};
use todo_domain::Error;
use todo_domain::error::Collector;
use todo_domain::model::{About, AlarmKind, Invited, Notification, Timestamp};
use todo_domain::usecases::notifications::ListNotifications;
use todo_domain::usecases::tasks::MAX_PAGE_SIZE;

/// `GET /notifications` query parameters, all raw; parsed (and named on error) below.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    unread: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

impl TryFrom<ListQuery> for ListNotifications {
    type Error = Error;
    fn try_from(query: ListQuery) -> Result<Self, Error> {
        let mut errors = Collector::new();
        let unread_only = match query.unread.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                errors.push("unread", "must be true or false");
                false
            }
        };
        let limit = query.limit.and_then(|raw| {
            let parsed = raw.parse::<u32>().ok().filter(|limit| (1..=MAX_PAGE_SIZE).contains(limit));
            errors.take("limit", parsed.ok_or_else(|| format!("must be an integer from 1 to {MAX_PAGE_SIZE}")))
        });
        errors.finish()?;
        Ok(Self { unread_only, limit, cursor: query.cursor })
    }
}

/// `PATCH /notifications/{id}`: `{"read": true}` (or `false` to mark it unread again).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationPatchBody {
    read: Option<serde_json::Value>,
}

impl NotificationPatchBody {
    pub fn read(self) -> Result<bool, Error> {
        match self.read {
            Some(serde_json::Value::Bool(read)) => Ok(read),
            Some(_) => Err(Error::field("read", "must be true or false")),
            None => Err(Error::field("read", "is required")),
        }
    }
}

/// A notification as the API shows it: the common fields, then what it is about.
#[derive(Debug, Serialize)]
pub struct NotificationView {
    id: String,
    #[serde(flatten)]
    about: AboutView,
    created_at: Timestamp,
    read: bool,
    read_at: Option<Timestamp>,
    expires_at: Timestamp,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum AboutView {
    /// `kind`: `reminder` or `overdue`.
    Alarm {
        kind: AlarmKind,
        /// Where the task was when the notification was sent: `/lists/{list_id}/tasks/{task_id}`.
        list_id: String,
        task_id: String,
        task_title: String,
        /// When the alarm was set for: the task's reminder time or due date.
        at: Timestamp,
    },
    /// `kind`: `invited`. Answered with `POST /invitations/{invitation_id}/accept` or `decline`
    /// while it lasts (`GET /invitations` lists the live ones).
    Invitation {
        kind: Invited,
        invitation_id: String,
        list_id: String,
        list_name: String,
        role: &'static str,
        invited_by_name: Option<String>,
        /// When the invitation was sent.
        at: Timestamp,
    },
}

impl From<&Notification> for NotificationView {
    fn from(notification: &Notification) -> Self {
        let about = match &notification.about {
            About::Alarm(alarm) => AboutView::Alarm {
                kind: alarm.kind,
                list_id: alarm.list_id.to_string(),
                task_id: alarm.task_id.to_string(),
                task_title: alarm.task_title.as_str().to_owned(),
                at: alarm.at,
            },
            About::Invitation(invitation) => AboutView::Invitation {
                kind: invitation.kind,
                invitation_id: invitation.invitation_id.to_string(),
                list_id: invitation.list_id.to_string(),
                list_name: invitation.list_name.as_str().to_owned(),
                role: invitation.role.as_str(),
                invited_by_name: invitation.invited_by_name.as_ref().map(|name| name.as_str().to_owned()),
                at: invitation.at,
            },
        };
        Self {
            id: notification.id.to_string(),
            about,
            created_at: notification.created_at,
            read: notification.read_at.is_some(),
            read_at: notification.read_at,
            expires_at: notification.expires_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct NotificationListView {
    pub items: Vec<NotificationView>,
    pub next_cursor: Option<String>,
}
