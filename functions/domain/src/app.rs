//! The application: stores, clock and credentials, built once per cold start (or once per
//! local server) and shared by every request.

use std::sync::Arc;

use crate::auth::{AccessTokens, PasswordHasher, RefreshKey, Secret, SigningKeys};
use crate::clock::Clock;
use crate::cursor::CursorCodec;
use crate::ports::{BlobStore, FileStore, ListStore, NotificationStore, SessionStore, SharingStore, TaskStore, ThrottleStore, UserStore};

/// Settings every deployment shares, parsed once from its environment.
#[derive(Clone, Debug)]
pub struct Settings {
    pub token_keys: SigningKeys,
    pub token_issuer: String,
    pub token_audience: String,
    /// Access tokens are short-lived: they are checked without a store lookup.
    pub access_token_seconds: i64,
    pub refresh_token_seconds: i64,
    /// How long an `Idempotency-Key` is remembered.
    pub idempotency_seconds: i64,
    /// How long a notification stays in its owner's feed.
    pub notification_seconds: i64,
    pub files: FileLimits,
    pub reminders: crate::usecases::reminders::Fairness,
}

/// Limits on attachments, with defaults a To-Do app can live with.
#[derive(Clone, Debug)]
pub struct FileLimits {
    pub max_file_bytes: u64,
    pub max_files_per_task: u32,
    pub upload_url_seconds: u64,
    /// How long after its URL expired a pending upload is given up on (S3 events can
    /// arrive late: Lambda retries asynchronous invocations for up to six hours).
    pub stale_upload_grace_seconds: u64,
    pub download_url_seconds: u64,
    /// Media types refused outright: ones a browser would run if opened in place.
    pub denied_types: Vec<String>,
}

impl Default for FileLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 25 * 1024 * 1024,
            max_files_per_task: 20,
            upload_url_seconds: 15 * 60,
            stale_upload_grace_seconds: 24 * 3600,
            download_url_seconds: 5 * 60,
            denied_types: [
                "text/html",
                "application/xhtml+xml",
                "image/svg+xml",
                "text/javascript",
                "application/javascript",
                "application/x-msdownload",
                "application/x-sh",
            ]
            .map(str::to_owned)
            .to_vec(),
        }
    }
}

impl Settings {
    pub const DEFAULT_ISSUER: &'static str = "todo-api";
    pub const DEFAULT_AUDIENCE: &'static str = "todo-api";
    pub const DEFAULT_ACCESS_TOKEN_SECONDS: i64 = 15 * 60;
    pub const DEFAULT_REFRESH_TOKEN_SECONDS: i64 = 30 * 24 * 3600;
    pub const DEFAULT_IDEMPOTENCY_SECONDS: i64 = 24 * 3600;
    pub const DEFAULT_NOTIFICATION_SECONDS: i64 = 30 * 24 * 3600;

    /// With one signing key (id `k0`).
    pub fn with_secret(token_secret: Secret) -> Self {
        Self::with_keys(SigningKeys::single(token_secret))
    }

    pub fn with_keys(token_keys: SigningKeys) -> Self {
        Self {
            token_keys,
            token_issuer: Self::DEFAULT_ISSUER.to_owned(),
            token_audience: Self::DEFAULT_AUDIENCE.to_owned(),
            access_token_seconds: Self::DEFAULT_ACCESS_TOKEN_SECONDS,
            refresh_token_seconds: Self::DEFAULT_REFRESH_TOKEN_SECONDS,
            idempotency_seconds: Self::DEFAULT_IDEMPOTENCY_SECONDS,
            notification_seconds: Self::DEFAULT_NOTIFICATION_SECONDS,
            files: FileLimits::default(),
            reminders: crate::usecases::reminders::Fairness::default(),
        }
    }
}

/// The ports an adapter provides.
#[derive(Clone, Debug)]
pub struct Stores {
    pub users: Arc<dyn UserStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub lists: Arc<dyn ListStore>,
    pub sharing: Arc<dyn SharingStore>,
    pub tasks: Arc<dyn TaskStore>,
    pub files: Arc<dyn FileStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub notifications: Arc<dyn NotificationStore>,
    pub throttle: Arc<dyn ThrottleStore>,
}

impl Stores {
    /// Every port from one adapter that implements them all, beside a blob store.
    pub fn from_one<S>(store: &Arc<S>, blobs: Arc<dyn BlobStore>) -> Self
    where
        S: UserStore + SessionStore + ListStore + SharingStore + TaskStore + FileStore + NotificationStore + ThrottleStore + 'static,
    {
        Self {
            users: store.clone(),
            sessions: store.clone(),
            lists: store.clone(),
            sharing: store.clone(),
            tasks: store.clone(),
            files: store.clone(),
            notifications: store.clone(),
            throttle: store.clone(),
            blobs,
        }
    }
}

/// Everything a request needs. Cheap to clone (one `Arc`).
#[derive(Clone, Debug)]
pub struct App(Arc<AppInner>);

#[derive(Debug)]
pub struct AppInner {
    pub stores: Stores,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
    pub access_tokens: AccessTokens,
    pub passwords: PasswordHasher,
    pub cursors: CursorCodec,
    pub refresh_key: RefreshKey,
}

impl App {
    pub fn new(stores: Stores, clock: Arc<dyn Clock>, settings: Settings) -> Self {
        let access_tokens =
            AccessTokens::new(&settings.token_keys, &settings.token_issuer, &settings.token_audience, settings.access_token_seconds);
        let cursors = CursorCodec::new(&settings.token_keys);
        let refresh_key = RefreshKey::new(&settings.token_keys);
        Self(Arc::new(AppInner { stores, clock, settings, access_tokens, passwords: PasswordHasher::new(), cursors, refresh_key }))
    }
}

impl std::ops::Deref for App {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}
