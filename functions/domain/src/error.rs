//! The domain's one error type. `todo_http` (functions/http/src/problem.rs) maps it to
//! `application/problem+json`, once.

use serde::Serialize;

/// One rejected input, named so a client can show it next to the right field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request was understood but some of its fields are invalid.
    #[error("invalid input: {0:?}")]
    Validation(Vec<FieldError>),
    /// The request could not be read at all (syntax, encoding).
    #[error("malformed request: {detail}")]
    Malformed { detail: String, field: Option<String> },
    #[error("missing or invalid credentials: {0}")]
    Unauthenticated(&'static str),
    /// Log-in failed. One variant for unknown email and wrong password, by design.
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller can see the resource but their role does not allow this (a viewer's write).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many failed password checks for this email: try again after the lock.
    #[error("too many failed attempts: retry in {retry_after_seconds} s")]
    TooManyAttempts { retry_after_seconds: i64 },
    #[error("the resource changed since the version given in If-Match")]
    PreconditionFailed,
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The client did not send its request in time (the local server's front; API Gateway's
    /// own on AWS).
    #[error("request timeout: {0}")]
    RequestTimeout(String),
    #[error("no route for this path")]
    RouteNotFound,
    /// A store was unavailable (`StoreError::Unavailable`): the client should retry after
    /// `UNAVAILABLE_RETRY_AFTER_SECONDS` (with the same `Idempotency-Key`, for a create).
    #[error("a store did not answer in time; retry shortly")]
    Unavailable(#[source] anyhow::Error),
    /// A bug. Logged in full, answered opaquely.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What `Retry-After` says with a 503: the clients' retries already spent a few seconds.
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: u32 = 1;

impl Error {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }
}

impl From<crate::ports::StoreError> for Error {
    fn from(error: crate::ports::StoreError) -> Self {
        // Use cases translate the conditions they expect; anything reaching this
        // conversion is unexpected at that call site, unless the store was merely unavailable.
        match error {
            crate::ports::StoreError::Unavailable(cause) => Self::Unavailable(cause),
            other => Self::Internal(anyhow::Error::new(other)),
        }
    }
}

/// Collects field errors while parsing a request, so a client sees all of them at once.
#[derive(Debug, Default)]
pub struct Collector {
    errors: Vec<FieldError>,
}

impl Collector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value of a successful parse, records the message of a failed one.
    pub fn take<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors.push(FieldError::new(field, message));
                None
            }
        }
    }

    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(self) -> Result<(), Error> {
        if self.errors.is_empty() { Ok(()) } else { Err(Error::Validation(self.errors)) }
    }
}
