//! The JSON the notifications service reads and writes.

use serde::{Deserialize, Serialize};
use todo_domain::Error;
use todo_domain::error::Collector;
use todo_domain::model::{About, AlarmKind, Invited, Notification, Timestamp};
use todo_domain::usecases::notifications::ListNotifications;
use todo_domain::usecases::tasks::MAX_PAGE_SIZE;
use todo_http::openapi::enumeration;
use utoipa::openapi::schema::ObjectBuilder;
use utoipa::{IntoParams, ToSchema};

fn unread_filter() -> ObjectBuilder {
    enumeration(&["true", "false"]).description(Some("`true`: only unread notifications; `false` (the default): all."))
}

fn alarm_kind() -> ObjectBuilder {
    enumeration(&["reminder", "overdue"])
        .description(Some("`reminder`: the task's `reminder_at` came; `overdue`: its `due` passed while open."))
}

fn invited_kind() -> ObjectBuilder {
    enumeration(&["invited"])
}

fn shared_role() -> ObjectBuilder {
    enumeration(&["editor", "viewer"]).description(Some("The role the invitation gives."))
}

/// `GET /notifications` query parameters, all raw; parsed (and named on error) below.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[param(schema_with = unread_filter)]
    unread: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// The `next_cursor` of the page before (from the same `unread` filter); only this API's own cursors are valid.
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
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NotificationPatch)]
pub struct NotificationPatchBody {
    /// Required: `true` marks the notification read (one already read keeps its time), `false` unread.
    #[schema(value_type = bool, required = true)]
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

/// A notification as the API shows it: the common fields, then what it is about (by `kind`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Notification)]
pub struct NotificationView {
    id: String,
    #[serde(flatten)]
    about: AboutView,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    read: bool,
    /// When it was marked read (`null`: unread).
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    read_at: Option<Timestamp>,
    /// When it leaves the feed.
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

/// What a notification is about: a task's alarm, or an invitation to a list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = NotificationAbout)]
enum AboutView {
    /// `kind`: `reminder` or `overdue`.
    Alarm {
        #[schema(schema_with = alarm_kind)]
        kind: AlarmKind,
        /// Where the task was when the notification was sent: `/lists/{list_id}/tasks/{task_id}`.
        list_id: String,
        task_id: String,
        /// The task's title when the notification was sent.
        task_title: String,
        /// When the alarm was set for: the task's reminder time or due date.
        #[schema(value_type = String, format = DateTime)]
        at: Timestamp,
    },
    /// `kind`: `invited`. Answered with `POST /invitations/{invitation_id}/accept` or `decline`
    /// while it lasts (`GET /invitations` lists the live ones).
    Invitation {
        #[schema(schema_with = invited_kind)]
        kind: Invited,
        invitation_id: String,
        list_id: String,
        /// The list's name when the invitation was sent.
        list_name: String,
        #[schema(schema_with = shared_role)]
        role: &'static str,
        /// The inviter's display name then (`null`: they had none).
        #[schema(required = true)]
        invited_by_name: Option<String>,
        /// When the invitation was sent.
        #[schema(value_type = String, format = DateTime)]
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

/// A page of notifications, newest first; `next_cursor` fetches the next (`null` on the last page).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NotificationPage)]
pub struct NotificationListView {
    pub items: Vec<NotificationView>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}
