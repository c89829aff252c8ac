//! Storage ports, shaped by DynamoDB's access patterns: gets by key, one query per list
//! page resumed from an exclusive start key, conditional writes for uniqueness and versions,
//! and transactions where two items must change together. Every adapter (embedded SQLite,
//! DynamoDB) implements them and passes the same conformance suite.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::model::{
    Email, FileId, FileRecord, IdempotencyKey, Invitation, InvitationId, ListId, ListPosition, Membership, Notification, NotificationId,
    Role, SessionId, SharedRole, Tag, Task, TaskId, TaskList, Timestamp, User, UserId,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness condition failed (an email already registered, an id already used).
    #[error("an item with this key already exists")]
    AlreadyExists,
    /// The item's version is not the one the write was conditional on.
    #[error("the item changed since it was read")]
    VersionMismatch,
    #[error("no such item")]
    NotFound,
    /// A write for an owner that no longer exists (an account deleted mid-request).
    #[error("the owning user no longer exists")]
    OwnerMissing,
    /// A member's write whose writer is not (or no longer) a member of the list with a
    /// role that allows it: checked in the same transaction as the write.
    #[error("the writer may not write to this list")]
    AccessDenied,
    /// A member's write to a task's file after the task moved to another list.
    #[error("the task is no longer in the list")]
    Moved,
    /// A count limit (files per task) would be exceeded.
    #[error("limit reached")]
    LimitReached,
    /// The item still has dependants (a task with files) and was left in place.
    #[error("the item still has dependants")]
    NotEmpty,
    /// The store did not answer in time, or refused for load (throttling, a timeout, a lost
    /// connection, a 5xx, contention) after the client's own retries: nothing was decided,
    /// and the same request later may well succeed.
    #[error("storage unavailable: {0}")]
    Unavailable(#[source] anyhow::Error),
    #[error("storage backend failed: {0}")]
    Backend(#[source] anyhow::Error),
}

impl StoreError {
    pub fn backend(error: impl Into<anyhow::Error>) -> Self {
        Self::Backend(error.into())
    }

    pub fn unavailable(error: impl Into<anyhow::Error>) -> Self {
        Self::Unavailable(error.into())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// On whose behalf a write to a list's items is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writer {
    /// A user: the write is conditional, in the same transaction, on their membership of
    /// `list` with a role that writes tasks (`AccessDenied` otherwise), so a member
    /// removed or demoted mid-request cannot write.
    Member { user: UserId, list: ListId },
    /// The service itself (jobs, deletion cascades): no membership is involved.
    System,
}

impl Writer {
    /// The same writer, writing to another list (a move needs the right in both).
    pub fn in_list(self, list: ListId) -> Self {
        match self {
            Self::Member { user, .. } => Self::Member { user, list },
            Self::System => Self::System,
        }
    }

    /// Refuses a member's write to an item outside the list their membership is checked in:
    /// a caller's bug, never a client's doing, so a backend error.
    pub fn check_list(self, list: ListId) -> StoreResult<()> {
        match self {
            Self::Member { list: checked, .. } if checked != list => {
                Err(StoreError::backend(anyhow::anyhow!("a writer of list {checked} cannot write an item of list {list}")))
            }
            _ => Ok(()),
        }
    }
}

/// One page of a query: `limit` items after `after` (exclusive), in key order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest<K> {
    pub limit: u32,
    pub after: Option<K>,
}

/// A page of results. `next` is the key to resume after; `None` means this was the last
/// page. A page may hold fewer than `limit` items and still have a `next` (filters apply
/// after the key range is read, as on DynamoDB).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T, K> {
    pub items: Vec<T>,
    pub next: Option<K>,
}

/// Work a background job found in an index, at most the limit it asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch<T> {
    pub items: Vec<T>,
    /// Whether the limit cut the answer short (the next run goes on).
    pub more: bool,
}

#[async_trait]
pub trait UserStore: Send + Sync + std::fmt::Debug {
    /// Stores a new user with their Inbox (the list and its owner's membership);
    /// `AlreadyExists` when the email is taken (atomically with the insert, so concurrent
    /// sign-ups with one email yield exactly one account).
    async fn insert_user(&self, user: &User, inbox: &TaskList) -> StoreResult<()>;
    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn find_user_by_email(&self, email: &crate::model::Email) -> StoreResult<Option<User>>;
    /// Replaces `current` by `updated` if it is still at `current.version`:
    /// `VersionMismatch` otherwise, `AlreadyExists` if a changed email is taken, `NotFound`
    /// if the user is gone. Passing `current` lets an adapter free the old email without
    /// reading it first. With `keep`, that session of the user moves to
    /// `updated.credentials_version` in the same write, if it still exists unrevoked (else
    /// the replacement happens alone): a password change keeps the session making it, with no
    /// moment where the password changed and that session ended.
    async fn replace_user(&self, current: &User, updated: &User, keep: Option<SessionId>) -> StoreResult<()>;
    /// Deletes the user and frees its email, and in the same write leaves a durable
    /// deletion marker: until `finish_deletion`, the account's leftovers (lists, memberships,
    /// sessions) are known to need removing, even if the deleting process dies. Idempotent.
    async fn delete_user(&self, user: &User, at: Timestamp) -> StoreResult<()>;
    /// Removes the deletion marker (and the account's own counters) once nothing of the
    /// account is left. Idempotent.
    async fn finish_deletion(&self, user: UserId) -> StoreResult<()>;
    /// Accounts deleted but not yet cleaned up (for the housekeeping job), in the store's order.
    async fn pending_deletions(&self, limit: u32) -> StoreResult<Vec<UserId>>;
    /// The accounts among `ids` that exist, in no particular order (at most 100 ids: one
    /// batch read).
    async fn get_users(&self, ids: &[UserId]) -> StoreResult<Vec<User>>;
}

/// A log-in session (stored under its user): a family of refresh tokens where only the newest generation is valid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    /// Which rotation of the refresh token is current.
    pub generation: u64,
    /// SHA-256 of the current refresh token's secret, hex encoded. The token itself is
    /// never stored.
    pub secret_hash: String,
    /// Random per-session input to the refresh secrets' derivation.
    #[serde(default)]
    pub salt: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    /// The account's `credentials_version` when the session began (or last kept it across
    /// a password change); refreshing needs it to still be the account's.
    #[serde(default)]
    pub credentials_version: u64,
}

#[async_trait]
pub trait SessionStore: Send + Sync + std::fmt::Debug {
    async fn insert_session(&self, session: &Session) -> StoreResult<()>;
    async fn get_session(&self, user_id: UserId, id: SessionId) -> StoreResult<Option<Session>>;
    /// Moves a live session to its next generation if it is still at `expected_generation`
    /// (`VersionMismatch` otherwise, so two concurrent refreshes cannot both win).
    async fn rotate_session(&self, rotated: &Session, expected_generation: u64) -> StoreResult<()>;
    /// Marks a session revoked. Idempotent; `NotFound` if it never existed.
    async fn revoke_session(&self, user_id: UserId, id: SessionId, at: Timestamp) -> StoreResult<()>;
    /// All of a user's sessions (revoked and expired ones too, until removed), oldest first.
    async fn user_sessions(&self, user_id: UserId) -> StoreResult<Vec<Session>>;
    /// Removes these sessions of a user. Absent ones are skipped.
    async fn delete_sessions(&self, user_id: UserId, ids: &[SessionId]) -> StoreResult<()>;
    /// Removes every session of a user (account deletion). Returns how many went.
    async fn delete_user_sessions(&self, user_id: UserId) -> StoreResult<u64>;
    /// Removes up to `limit` sessions expired before `now`, for stores without a TTL of
    /// their own (DynamoDB's TTL does this for free: it answers 0).
    async fn purge_expired_sessions(&self, now: Timestamp, limit: u32) -> StoreResult<u64>;
}

/// What a create with an `Idempotency-Key` remembers: the request's fingerprint and what
/// it made, so a retry gets the very same answer. One key space per user across the
/// creating routes: a key used for a task and then for a list is a conflict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub owner: UserId,
    pub key: IdempotencyKey,
    /// SHA-256 of the canonical request body.
    pub fingerprint: String,
    /// Stored as a `task` or `list` field beside the others (records written before lists
    /// had keys hold a `task`).
    #[serde(flatten)]
    pub made: Made,
    pub expires_at: Timestamp,
}

/// What an idempotent create made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Made {
    Task(Task),
    List(TaskList),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// The idempotency key was already used (and has not expired): here is its record.
    Replayed(Box<IdempotencyRecord>),
}

/// Which tasks a list wants. Filters never widen the key range: one query per page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskFilter {
    pub completed: Option<bool>,
    pub tag: Option<Tag>,
    /// Due strictly before this instant.
    pub due_before: Option<Timestamp>,
    /// Due at or after this instant.
    pub due_after: Option<Timestamp>,
}

impl TaskFilter {
    pub fn matches(&self, task: &Task) -> bool {
        self.completed.is_none_or(|completed| task.completion.is_completed() == completed)
            && self.tag.as_ref().is_none_or(|tag| task.tags.contains(tag))
            && self.due_before.is_none_or(|before| task.due.is_some_and(|due| due < before))
            && self.due_after.is_none_or(|after| task.due.is_some_and(|due| due >= after))
    }
}

/// Lists and memberships. Who may read a list is asked on every request (never cached in
/// a token): `member_role` is one key read, issued beside the item read it guards.
#[async_trait]
pub trait ListStore: Send + Sync + std::fmt::Debug {
    /// Creates a list with its owner's membership, atomically conditional on the owner's
    /// account existing (`OwnerMissing`) and their owning fewer than `max_owned` lists
    /// besides the Inbox (`LimitReached`).
    /// With an idempotency record, also conditional on its key being unused (or expired): a
    /// used key creates nothing and answers `Replayed` with its record.
    async fn create_list(
        &self,
        list: &TaskList,
        max_owned: u32,
        idempotency: Option<&IdempotencyRecord>,
        now: Timestamp,
    ) -> StoreResult<CreateOutcome>;
    async fn get_list(&self, id: ListId) -> StoreResult<Option<TaskList>>;
    /// Replaces a list still at `expected_version` (`VersionMismatch`; `NotFound` if gone),
    /// conditional on the writer's membership (`AccessDenied`).
    async fn update_list(&self, writer: Writer, list: &TaskList, expected_version: u64) -> StoreResult<()>;
    /// The lists with these ids that exist, in no particular order (≤ 100 ids: one round trip).
    async fn get_lists(&self, ids: &[ListId]) -> StoreResult<Vec<TaskList>>;
    /// The user's membership of the list; `None` when they are not a member (or it does not
    /// exist). One key read.
    async fn membership(&self, list: ListId, user: UserId) -> StoreResult<Option<Membership>>;
    /// The user's role in the list; `None` when they are not a member (or it does not exist).
    async fn member_role(&self, list: ListId, user: UserId) -> StoreResult<Option<Role>> {
        Ok(self.membership(list, user).await?.map(|membership| membership.role))
    }
    /// Sets (or with `None` clears) the member's own place for the list; `NotFound` when
    /// they are not a member.
    async fn set_position(&self, list: ListId, user: UserId, position: Option<ListPosition>) -> StoreResult<()>;
    /// Every list the user belongs to (one query of their membership index, paged to the end),
    /// including lists of theirs being deleted (the purge resumes from these).
    async fn memberships(&self, user: UserId) -> StoreResult<Vec<Membership>>;
    /// The lists the user can read now, with their role: `memberships` without lists being
    /// deleted. At most 200 (the list limit), besides lists shared with them.
    async fn readable_lists(&self, user: UserId) -> StoreResult<Vec<Membership>>;
    /// The first step of deleting a list: removes its invitations and every membership of
    /// it, so from here on nobody reads or writes it or joins it, except `keeper`'s entry in their own membership index,
    /// which marks the list's remaining deletion (its tasks, files and the list item) until
    /// `delete_list`. Idempotent.
    async fn delete_list_members(&self, list: ListId, keeper: UserId) -> StoreResult<()>;
    /// The last step: the list item, `keeper`'s membership index entry and the list's
    /// deletion marker go, and (once, in the same write) the owner's count of lists.
    /// Idempotent.
    async fn delete_list(&self, list: ListId, keeper: UserId) -> StoreResult<()>;
    /// Starts deleting a list its owner asked to delete: a durable marker, conditional on
    /// `list.owner` still owning it (`AccessDenied`), says its deletion must finish even if
    /// the deleting process dies. Idempotent.
    async fn mark_list_deleted(&self, list: &TaskList, at: Timestamp) -> StoreResult<()>;
    /// Lists whose deletion was asked for and has not finished (their markers), in the
    /// store's order (list id on DynamoDB, deletion time on SQLite).
    async fn pending_list_deletions(&self, limit: u32) -> StoreResult<Vec<ListId>>;
}

/// Who else is in a list, and who is invited. Only the owner manages either; every such
/// write is conditional, in its transaction, on the manager still owning the list
/// (`AccessDenied` otherwise). A list's *seats* are its members besides the owner plus its
/// invitations not yet answered or swept (expired ones hold a seat until removed).
#[async_trait]
pub trait SharingStore: Send + Sync + std::fmt::Debug {
    /// One page of a list's members (the owner included), in user id order.
    async fn list_members(&self, list: ListId, page: PageRequest<UserId>) -> StoreResult<Page<Membership, UserId>>;
    /// Gives `member` another role, by `owner`. `NotFound` unless `member` is a member
    /// other than the owner.
    async fn set_member_role(&self, owner: UserId, list: ListId, member: UserId, role: SharedRole) -> StoreResult<()>;
    /// Removes `member` (never the owner: `NotFound`), by the owner or by `member`
    /// themself (leaving: no owner check). Frees a seat.
    async fn remove_member(&self, by: UserId, list: ListId, member: UserId) -> StoreResult<()>;
    /// Records an invitation by `invitation.invited_by`, who must own the list. With
    /// `replaces` (an earlier invitation of the same email), that one goes in the same write
    /// and keeps its seat (`NotFound` if it went meanwhile); otherwise a seat is taken,
    /// `LimitReached` when the list has `max_seats` already.
    async fn create_invitation(&self, invitation: &Invitation, replaces: Option<&Invitation>, max_seats: u32) -> StoreResult<()>;
    /// Every invitation of a list (at most its seats), expired ones included, oldest first.
    async fn list_invitations(&self, list: ListId) -> StoreResult<Vec<Invitation>>;
    /// One of a list's invitations, expired or not.
    async fn get_list_invitation(&self, list: ListId, id: InvitationId) -> StoreResult<Option<Invitation>>;
    /// One invitation addressed to `email`, expired or not.
    async fn get_invitation(&self, email: &Email, id: InvitationId) -> StoreResult<Option<Invitation>>;
    /// One page of the invitations addressed to `email` and unexpired at `now`, oldest
    /// first. The expiry applies after the key range is read: a page may come back short.
    async fn invitations_for(
        &self,
        email: &Email,
        now: Timestamp,
        page: PageRequest<InvitationId>,
    ) -> StoreResult<Page<Invitation, InvitationId>>;
    /// Removes an invitation and frees its seat: revoked by its list's owner (`by`, checked),
    /// or declined or swept (`None`). `NotFound` if it is gone.
    async fn delete_invitation(&self, by: Option<UserId>, invitation: &Invitation) -> StoreResult<()>;
    /// Makes `user` a member with the invitation's role and removes the invitation, in one
    /// write (the seat passes from one to the other): `NotFound` if the invitation is gone
    /// or expired at `now`, `OwnerMissing` if `user`'s account is gone, `AlreadyExists` if
    /// they are a member already (nothing changes).
    async fn accept_invitation(&self, invitation: &Invitation, user: UserId, now: Timestamp) -> StoreResult<()>;
}

#[async_trait]
pub trait TaskStore: Send + Sync + std::fmt::Debug {
    /// Creates a task in its list for its creator, atomically conditional on the creator's
    /// account existing (`OwnerMissing`), on their membership allowing writes
    /// (`AccessDenied`) and, with an idempotency record, on the key being unused: a
    /// concurrent retry either creates nothing and gets `Replayed`, or is the one that created.
    async fn create_task(&self, task: &Task, idempotency: Option<&IdempotencyRecord>, now: Timestamp) -> StoreResult<CreateOutcome>;
    async fn get_task(&self, list: ListId, id: TaskId) -> StoreResult<Option<Task>>;
    /// Replaces a task still at `expected_version` and, in the same transaction, creates
    /// `spawned` (the next occurrence of a completed recurring task). `AccessDenied` for a
    /// member who may not (or no longer) write the list; `OwnerMissing` when a member's
    /// write would spawn a task after their account was deleted (every create checks it).
    async fn update_task(&self, writer: Writer, task: &Task, expected_version: u64, spawned: Option<&Task>) -> StoreResult<()>;
    /// Moves a task from list `from` to `task.list_id` (its id, files and history kept):
    /// replaces it as it was at `expected_version` and creates `spawned` (in the new list),
    /// in one transaction conditional on the writer — a member of `from` — writing tasks in
    /// both lists (`AccessDenied`). `VersionMismatch` / `NotFound` / `OwnerMissing` as for
    /// `update_task`.
    async fn move_task(&self, writer: Writer, task: &Task, from: ListId, expected_version: u64, spawned: Option<&Task>) -> StoreResult<()>;
    /// Deletes a task (if at `expected_version`, when given) that has no files left
    /// (`NotEmpty` otherwise: an upload slipped in after its files were removed);
    /// `AccessDenied` for a member who may not write the list.
    async fn delete_task(&self, writer: Writer, list: ListId, id: TaskId, expected_version: Option<u64>) -> StoreResult<()>;
    /// One page of a list's tasks in id (creation) order.
    async fn list_tasks(&self, list: ListId, filter: &TaskFilter, page: PageRequest<TaskId>) -> StoreResult<Page<Task, TaskId>>;
    /// Removes every idempotency record of a user (account deletion). Returns how many went.
    async fn delete_user_idempotency(&self, user: UserId) -> StoreResult<u64>;
    /// Removes up to `limit` idempotency records expired before `now`, for stores without a
    /// TTL of their own (DynamoDB answers 0).
    async fn purge_expired_idempotency(&self, now: Timestamp, limit: u32) -> StoreResult<u64>;
}

/// Whether a password check may go ahead (see `usecases::throttle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead: the check is already counted as a failure at `at` (take it back with
    /// `forgive_password_check` if it matches); `previous` was the last failure before it,
    /// if one is remembered.
    Admitted { at: Timestamp, previous: Option<Timestamp> },
    /// Earlier failures lock the checks until then; nothing was counted.
    Locked { until: Timestamp },
}

/// The password throttle's memory: failures per email key, forgotten
/// `usecases::throttle::MEMORY_SECONDS` after the last one.
#[async_trait]
pub trait ThrottleStore: Send + Sync + std::fmt::Debug {
    /// Admits a check at `now` unless the failures recorded for `key` still lock it
    /// (`throttle::locked_until`), counting the admitted check as one more failure at `now`
    /// in the same atomic step: simultaneous checks cannot all be admitted on one reading.
    async fn admit_password_check(&self, key: &str, now: Timestamp) -> StoreResult<Admission>;
    /// Takes back the failure an admitted check counted (its password matched): the count
    /// goes down by one and, unless another check came since, the last failure is `previous`
    /// again — a success leaves the lock and the memory as they were before it.
    async fn forgive_password_check(&self, key: &str, admitted: Admission) -> StoreResult<()>;
    /// Removes up to `limit` counts forgotten by `now`, for stores without a TTL of their
    /// own (DynamoDB answers 0).
    async fn purge_forgotten_failures(&self, now: Timestamp, limit: u32) -> StoreResult<u64>;
}

/// What recording an upload did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UploadOutcome {
    /// The file was pending and is now available.
    Completed(FileRecord),
    /// It was already available: a duplicate event, nothing changed.
    AlreadyAvailable(FileRecord),
}

/// A task's files live with the task's id, not its list: moving a task between lists
/// touches none of them, and an arriving object (whose key names task and file) finds its
/// record directly.
#[async_trait]
pub trait FileStore: Send + Sync + std::fmt::Debug {
    /// Records a pending file, atomically conditional on its uploader's account existing
    /// (`OwnerMissing`) and being a member of `list` who writes tasks (`AccessDenied`), its
    /// task being in that list (`NotFound`) and holding fewer than `max_per_task` files
    /// (`LimitReached`).
    async fn create_file(&self, list: ListId, file: &FileRecord, max_per_task: u32) -> StoreResult<()>;
    async fn get_file(&self, task: TaskId, id: FileId) -> StoreResult<Option<FileRecord>>;
    /// One page of a task's files in id (creation) order.
    async fn list_files(&self, task: TaskId, page: PageRequest<FileId>) -> StoreResult<Page<FileRecord, FileId>>;
    /// Marks a pending file available with what actually arrived; idempotent.
    async fn mark_uploaded(&self, task: TaskId, id: FileId, info: &ObjectInfo, at: Timestamp) -> StoreResult<UploadOutcome>;
    /// Deletes a file's metadata; `NotFound` if it is not there, `Moved` if (for a member) its
    /// task is no longer in the member's list, `AccessDenied` for a member who may not write it.
    async fn delete_file(&self, writer: Writer, task: TaskId, id: FileId) -> StoreResult<()>;
    /// Up to `limit` files still pending whose upload URL expired before `before`, from an
    /// index of pending uploads (never the whole table).
    async fn stale_uploads(&self, before: Timestamp, limit: u32) -> StoreResult<Batch<(TaskId, FileId)>>;
}

/// A task's next pending alarm as the due-alarm index holds it: enough to choose fairly
/// which to handle without reading the task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DueAlarm {
    pub list: ListId,
    pub task: TaskId,
    /// Whom the notification goes to (the task's creator).
    pub user: UserId,
    pub alarm: crate::model::Alarm,
}

/// Alarm times from `from` (none: the oldest) to `until`, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DueWindow {
    pub from: Option<Timestamp>,
    pub until: Timestamp,
}

/// What sending one alarm's notification did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// The notification was stored and the task records the alarm as notified.
    Sent,
    /// The notification already existed (an overlapping or repeated run sent it): the task
    /// now records it as notified, and nothing new was stored.
    AlreadySent,
    /// The task changed (or went) since it was read: nothing was written.
    TaskChanged,
}

#[async_trait]
pub trait NotificationStore: Send + Sync + std::fmt::Debug {
    /// How many shards the due-alarm index is split in (each read by its own worker):
    /// shards `0..alarm_shards()`.
    fn alarm_shards(&self) -> u32;
    /// One page of shard `shard` of the due-alarm index: tasks whose next pending alarm is
    /// in `window`, oldest alarm first, resuming after `page.after` (never the whole
    /// table). The index may lag a write slightly: callers re-read each task.
    async fn due_alarms(&self, shard: u32, window: DueWindow, page: PageRequest<DueAlarm>) -> StoreResult<Page<DueAlarm, DueAlarm>>;
    /// In one atomic write: stores `notification` unless one with its id exists, and
    /// replaces `read` (the task as read, still at its version with the same alarms) by
    /// `notified` (the same task with the alarm recorded). `TaskChanged` writes nothing.
    async fn send_notification(&self, read: &Task, notified: &Task, notification: &Notification) -> StoreResult<SendOutcome>;
    /// Stores a notification that no task write goes with (an invitation's) unless one with
    /// its id exists (`false`), atomically conditional on its owner's account existing
    /// (`OwnerMissing`), so none is left behind by an account's deletion.
    async fn add_notification(&self, notification: &Notification) -> StoreResult<bool>;
    async fn get_notification(&self, owner: UserId, id: NotificationId) -> StoreResult<Option<Notification>>;
    /// One page of an owner's notifications, newest (latest alarm) first, leaving out
    /// those expired at `now` and, with `unread_only`, those read. Filters apply after the
    /// key range is read: a page may come back short with a `next`.
    async fn list_notifications(
        &self,
        owner: UserId,
        unread_only: bool,
        now: Timestamp,
        page: PageRequest<NotificationId>,
    ) -> StoreResult<Page<Notification, NotificationId>>;
    /// Sets when a notification was read (`None`: unread again); `NotFound` if it is gone.
    async fn set_notification_read(&self, owner: UserId, id: NotificationId, read_at: Option<Timestamp>) -> StoreResult<()>;
    /// Marks a notification read at `at` unless it is read already or gone (then nothing
    /// changes): one conditional write, for a system that reads it on the person's behalf.
    async fn read_if_unread(&self, owner: UserId, id: NotificationId, at: Timestamp) -> StoreResult<()>;
    /// Removes every notification of a user (account deletion). Returns how many went.
    async fn delete_user_notifications(&self, owner: UserId) -> StoreResult<u64>;
    /// Removes up to `limit` notifications expired before `now`, for stores without a TTL of
    /// their own (DynamoDB answers 0).
    async fn purge_expired_notifications(&self, now: Timestamp, limit: u32) -> StoreResult<u64>;
}

/// Where a file's bytes live: built from ids only (`users/<uploader>/tasks/<tid>/files/<fid>`),
/// never from a user-supplied name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ObjectKey(String);

impl ObjectKey {
    pub fn for_file(user: UserId, task: TaskId, file: &str) -> Self {
        Self(format!("users/{user}/tasks/{task}/files/{file}"))
    }

    /// Accepts only keys of the shape `for_file` builds: id segments of `[0-9A-Za-z]`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let segments: Vec<&str> = raw.split('/').collect();
        let shape_ok = segments.len() == 6
            && segments[0] == "users"
            && segments[2] == "tasks"
            && segments[4] == "files"
            && [segments[1], segments[3], segments[5]]
                .iter()
                .all(|id| !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()));
        if shape_ok { Ok(Self(raw.to_owned())) } else { Err("is not an object key".to_owned()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The uploader, task and file a key names, if it names one.
    pub fn file_ids(&self) -> Option<(UserId, TaskId, FileId)> {
        let segments: Vec<&str> = self.0.split('/').collect();
        Some((UserId::parse(segments.get(1)?).ok()?, TaskId::parse(segments.get(3)?).ok()?, FileId::parse(segments.get(5)?).ok()?))
    }
}

crate::model::string_conversions!(ObjectKey);

/// A request a client makes directly to the object store: the bytes never pass through a
/// function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresignedRequest {
    pub url: String,
    pub method: &'static str,
    /// Headers the client must send exactly as given (they are part of the signature).
    pub headers: Vec<(String, String)>,
    pub expires_at: Timestamp,
}

/// What the store knows of an object that arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub etag: String,
    pub content_type: Option<String>,
}

/// What an upload URL binds: a client can put exactly this many bytes of this type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadSpec {
    pub content_type: String,
    pub content_length: u64,
}

#[async_trait]
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// A URL to PUT exactly `spec` to `key` until `now + expires_in`.
    async fn presign_put(
        &self,
        key: &ObjectKey,
        spec: &UploadSpec,
        expires_in: std::time::Duration,
        now: Timestamp,
    ) -> StoreResult<PresignedRequest>;
    /// A URL to GET `key` until `now + expires_in`, downloading as `file_name` when given.
    async fn presign_get(
        &self,
        key: &ObjectKey,
        file_name: Option<&str>,
        expires_in: std::time::Duration,
        now: Timestamp,
    ) -> StoreResult<PresignedRequest>;
    async fn head(&self, key: &ObjectKey) -> StoreResult<Option<ObjectInfo>>;
    /// Removes the object. Idempotent.
    async fn delete(&self, key: &ObjectKey) -> StoreResult<()>;
    /// The object now holds a file's recorded bytes: the store's net for abandoned uploads
    /// (on S3, a lifecycle rule expiring what upload URLs uploaded and nobody kept) must
    /// leave it. Idempotent; a missing object is not an error.
    async fn keep(&self, key: &ObjectKey) -> StoreResult<()>;
}

/// `Content-Disposition: attachment` for a user-supplied file name, safely encoded
/// (RFC 6266 / 8187): an ASCII fallback with anything unsafe replaced, and the exact name
/// percent-encoded in `filename*`.
pub fn content_disposition(file_name: &str) -> String {
    use std::fmt::Write as _;
    let fallback: String = file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%' | ';' | ',') || c == ' ' { c } else { '_' })
        .collect();
    let mut encoded = String::with_capacity(file_name.len() * 3);
    for byte in file_name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keys_hold_ids_only() {
        let key = ObjectKey::for_file(UserId::generate(), TaskId::generate(), "01ARZ3NDEKTSV4RRFFQ69G5FAV");
        assert_eq!(ObjectKey::parse(key.as_str()).unwrap(), key);
        for bad in
            ["", "users/a/tasks/b/files/../etc", "users/a/tasks/b/files/c/d", "x/a/tasks/b/files/c", "users/a/tasks/b/files/my file.pdf"]
        {
            assert!(ObjectKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn content_disposition_neutralises_quotes_and_keeps_the_exact_name_encoded() {
        let header = content_disposition("résumé \"final\";.pdf");
        assert!(header.starts_with("attachment; filename=\"r_sum_ _final__.pdf\"; filename*=UTF-8''"), "{header}");
        assert!(header.ends_with("r%C3%A9sum%C3%A9%20%22final%22%3B.pdf"), "{header}");
        assert!(header.is_ascii());
    }
}
