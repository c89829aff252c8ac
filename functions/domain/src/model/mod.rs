//! Newtypes that parse once at the edge: once a value of these types exists, it is valid.

mod file;
mod ids;
mod list;
mod notification;
mod task;
pub mod text;
mod time;
mod user;

pub use file::{ContentType, FileName, FileRecord, FileStatus};
pub use ids::{FileId, IdempotencyKey, InvitationId, ListId, NotificationId, SessionId, TaskId, UserId};
pub use list::{Invitation, ListColor, ListName, ListOrder, ListPatch, ListPosition, Membership, NewList, Role, SharedRole, TaskList};
pub use notification::{About, Alarm, AlarmKind, AlarmNotice, InvitationNotice, Invited, Notification, Notified};
pub use task::{Completion, Frequency, NewTask, Notes, Priority, Recurrence, Tag, Tags, Task, TaskPatch, Title};
pub(crate) use text::string_conversions;
pub use time::Timestamp;
pub use user::{DisplayName, Email, Password, PasswordHash, User};
