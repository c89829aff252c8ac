//! The one place a domain `Error` becomes an HTTP response (`application/problem+json`,
//! RFC 9457). 5xx causes are logged here and answered opaquely.
//!
//! `HttpError` is the error type of every handler: the domain's `Error` (or a store's, through
//! it) converts with `?`.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use todo_domain::{Error, FieldError};

/// A domain error on its way out as a problem+json response.
#[derive(Debug)]
pub struct HttpError(pub Error);

impl From<Error> for HttpError {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

impl From<todo_domain::ports::StoreError> for HttpError {
    fn from(error: todo_domain::ports::StoreError) -> Self {
        Self(error.into())
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let Self(error) = self;
        let (status, kind, title) = match &error {
            Error::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation", "Invalid input"),
            Error::Malformed { .. } => (StatusCode::BAD_REQUEST, "malformed-request", "Malformed request"),
            Error::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated", "Authentication required"),
            Error::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid-credentials", "Invalid credentials"),
            Error::NotFound(_) | Error::RouteNotFound => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            Error::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            Error::PreconditionFailed => (StatusCode::PRECONDITION_FAILED, "precondition-failed", "Precondition failed"),
            Error::TooManyAttempts { .. } => (StatusCode::TOO_MANY_REQUESTS, "too-many-attempts", "Too many attempts"),
            Error::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "Payload too large"),
            Error::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type"),
            Error::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed"),
            Error::RequestTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "request-timeout", "Request timeout"),
            Error::Unavailable(cause) => {
                tracing::warn!(error = format!("{cause:#}"), "a store was unavailable");
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable")
            }
            Error::Internal(cause) => {
                tracing::error!(error = ?cause, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error")
            }
        };
        let single;
        let (detail, errors): (String, &[FieldError]) = match &error {
            Error::Validation(errors) => (summarise(errors), errors),
            Error::Malformed { detail, field: Some(field) } => {
                single = [FieldError::new(field.clone(), detail.clone())];
                (detail.clone(), &single)
            }
            Error::Internal(_) => ("the request could not be completed; it has been logged".to_owned(), &[]),
            // The title already says "Conflict": the detail is the reason alone (people read it).
            Error::Conflict(reason) => (reason.clone(), &[]),
            other => (other.to_string(), &[]),
        };
        let problem = Problem { kind: &format!("/problems/{kind}"), title, status: status.as_u16(), detail, errors };
        let body = serde_json::to_vec(&problem).expect("problems serialise");
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Bearer realm="todo-api""#));
        }
        match error {
            Error::TooManyAttempts { retry_after_seconds } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds.max(1)));
            }
            Error::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(todo_domain::error::UNAVAILABLE_RETRY_AFTER_SECONDS));
            }
            _ => {}
        }
        response
    }
}

fn summarise(errors: &[FieldError]) -> String {
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    format!("invalid value for {}", fields.join(", "))
}
