//! Storage ports, shaped by DynamoDB's access patterns: gets by key, one query per list
//! page resumed from an exclusive start key, conditional writes for uniqueness and versions,
//! and transactions where two items must change together. Every adapter (embedded SQLite,
//! DynamoDB) implements them and passes the same conformance suite.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::model::{IdempotencyKey, SessionId, Tag, Task, TaskId, Timestamp, User, UserId};

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
    #[error("storage backend failed: {0}")]
    Backend(#[source] anyhow::Error),
}

impl StoreError {
    pub fn backend(error: impl Into<anyhow::Error>) -> Self {
        Self::Backend(error.into())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

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

#[async_trait]
pub trait UserStore: Send + Sync + std::fmt::Debug {
    /// Stores a new user; `AlreadyExists` when the email is taken (atomically with the
    /// insert, so concurrent sign-ups with one email yield exactly one account).
    async fn insert_user(&self, user: &User) -> StoreResult<()>;
    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn find_user_by_email(&self, email: &crate::model::Email) -> StoreResult<Option<User>>;
    /// Replaces `current` by `updated` if it is still at `current.version`:
    /// `VersionMismatch` otherwise, `AlreadyExists` if a changed email is taken, `NotFound`
    /// if the user is gone. Passing `current` lets an adapter free the old email without
    /// reading it first.
    async fn replace_user(&self, current: &User, updated: &User) -> StoreResult<()>;
    /// Deletes the user and frees its email. Idempotent.
    async fn delete_user(&self, user: &User) -> StoreResult<()>;
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
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
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
    /// Revokes every session of a user but `keep` (used when the password changes).
    async fn revoke_user_sessions(&self, user_id: UserId, keep: Option<SessionId>, at: Timestamp) -> StoreResult<u64>;
    /// Removes every session of a user (account deletion). Returns how many went.
    async fn delete_user_sessions(&self, user_id: UserId) -> StoreResult<u64>;
}

/// What a create with an `Idempotency-Key` remembers: the request's fingerprint and the
/// task it produced, so a retry gets the very same answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub owner: UserId,
    pub key: IdempotencyKey,
    /// SHA-256 of the canonical request body.
    pub fingerprint: String,
    pub task: Task,
    pub expires_at: Timestamp,
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

#[async_trait]
pub trait TaskStore: Send + Sync + std::fmt::Debug {
    /// Creates a task, conditional on its owner existing (`OwnerMissing`) and, with an
    /// idempotency record, on the key being unused — atomically: a concurrent retry either
    /// creates nothing and gets `Replayed`, or is the one that created.
    async fn create_task(&self, task: &Task, idempotency: Option<&IdempotencyRecord>, now: Timestamp) -> StoreResult<CreateOutcome>;
    async fn get_task(&self, owner: UserId, id: TaskId) -> StoreResult<Option<Task>>;
    /// Replaces a task still at `expected_version` and, in the same transaction, creates
    /// `spawned` (the next occurrence of a completed recurring task).
    async fn update_task(&self, task: &Task, expected_version: u64, spawned: Option<&Task>) -> StoreResult<()>;
    /// Deletes a task (if at `expected_version`, when given).
    async fn delete_task(&self, owner: UserId, id: TaskId, expected_version: Option<u64>) -> StoreResult<()>;
    /// One page of an owner's tasks in id (creation) order.
    async fn list_tasks(&self, owner: UserId, filter: &TaskFilter, page: PageRequest<TaskId>) -> StoreResult<Page<Task, TaskId>>;
    /// Removes every task and idempotency record of an owner. Returns how many tasks went.
    async fn delete_user_tasks(&self, owner: UserId) -> StoreResult<u64>;
}
