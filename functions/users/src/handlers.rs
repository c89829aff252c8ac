//! Request → use case → response, for each user-service route.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use todo_domain::App;
use todo_domain::usecases::users;
use todo_http::{Authenticated, HttpError, JsonBody};

use crate::representation::{
    DeleteAccountBody, LogInBody, ProfilePatchBody, ProfilePatchSchema, RefreshBody, SignUpBody, TokensView, UserView, refresh_token,
};

/// Token responses must not be cached by anything in between.
fn no_store(status: StatusCode, body: TokensView) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[utoipa::path(post, path = "/users", operation_id = "user-signup", tag = "users",
    summary = "Create an account (and its Inbox), and log in",
    request_body = SignUpBody,
    responses(
        (status = 201, description = "Created and logged in.", body = TokensView,
            headers(("Location" = String, description = "`/users/me`"), ("Cache-Control" = String, description = "`no-store`"))),
        (status = 409, description = "An account with this email already exists."),
    ))]
pub async fn sign_up(State(app): State<App>, body: JsonBody<SignUpBody>) -> Result<Response, HttpError> {
    let (user, tokens) = users::sign_up(&app, body.value.try_into()?).await?;
    let mut response = no_store(StatusCode::CREATED, TokensView::new(Some(&user), tokens));
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/users/me"));
    Ok(response)
}

#[utoipa::path(post, path = "/sessions", operation_id = "session-create", tag = "users",
    summary = "Log in: a new session's token pair",
    request_body = LogInBody,
    responses(
        (status = 200, description = "Logged in.", body = TokensView, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, description = "No account with this email and password (which of the two is not told)."),
        (status = 429, description = "Too many wrong passwords for this email: password checks are locked for a while.",
            headers(("Retry-After" = u32, description = "Seconds until the lock ends"))),
    ))]
pub async fn log_in(State(app): State<App>, body: JsonBody<LogInBody>) -> Result<Response, HttpError> {
    let (user, tokens) = users::log_in(&app, body.value.try_into()?).await?;
    Ok(no_store(StatusCode::OK, TokensView::new(Some(&user), tokens)))
}

#[utoipa::path(post, path = "/sessions/refresh", operation_id = "session-refresh", tag = "users",
    summary = "Trade a refresh token for a new token pair",
    request_body = RefreshBody,
    responses(
        (status = 200, description = "The session's next token pair (without `user`); the refresh token sent is spent.", body = TokensView,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, description = "The refresh token is invalid, expired or revoked; one used twice revokes its session."),
    ))]
pub async fn refresh(State(app): State<App>, body: JsonBody<RefreshBody>) -> Result<Response, HttpError> {
    let tokens = users::refresh(&app, refresh_token(&body.value)?).await?;
    Ok(no_store(StatusCode::OK, TokensView::new(None, tokens)))
}

#[utoipa::path(delete, path = "/sessions/current", operation_id = "session-delete", tag = "users",
    summary = "Log out: end the access token's session",
    security(("bearer" = [])),
    responses((status = 204, description = "Logged out; the session's refresh token no longer works.")))]
pub async fn log_out(State(app): State<App>, Authenticated(principal): Authenticated) -> Result<StatusCode, HttpError> {
    users::log_out(&app, principal).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/users/me", operation_id = "user-me-get", tag = "users",
    summary = "The caller's account",
    security(("bearer" = [])),
    responses((status = 200, description = "The account.", body = UserView)))]
pub async fn get_me(State(app): State<App>, Authenticated(principal): Authenticated) -> Result<Json<UserView>, HttpError> {
    let user = users::current_user(&app, principal).await?;
    Ok(Json(UserView::from(&user)))
}

#[utoipa::path(patch, path = "/users/me", operation_id = "user-me-update", tag = "users",
    summary = "Change the caller's name, email or password (JSON merge patch)",
    request_body(content = ProfilePatchSchema, content_type = "application/merge-patch+json"), security(("bearer" = [])),
    responses(
        (status = 200, description = "The account as changed. A new password ends the account's other sessions.", body = UserView),
        (status = 409, description = "Another account has this email, or the account changed concurrently."),
        (status = 429, description = "Too many wrong passwords for this email: password checks are locked for a while.",
            headers(("Retry-After" = u32, description = "Seconds until the lock ends"))),
    ))]
pub async fn update_me(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    body: JsonBody<ProfilePatchBody>,
) -> Result<Json<UserView>, HttpError> {
    let user = users::update_profile(&app, principal, body.value.try_into()?).await?;
    Ok(Json(UserView::from(&user)))
}

#[utoipa::path(delete, path = "/users/me", operation_id = "user-me-delete", tag = "users",
    summary = "Delete the caller's account and everything it owns",
    request_body = DeleteAccountBody, security(("bearer" = [])),
    responses(
        (status = 202, description = "The account and its sessions are gone; its lists, tasks, files and notifications follow shortly."),
        (status = 429, description = "Too many wrong passwords for this email: password checks are locked for a while.",
            headers(("Retry-After" = u32, description = "Seconds until the lock ends"))),
    ))]
pub async fn delete_me(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    body: JsonBody<DeleteAccountBody>,
) -> Result<StatusCode, HttpError> {
    users::delete_account(&app, principal, body.value.password()?).await?;
    // Accepted: the account and its sessions are gone; its tasks and files follow shortly.
    Ok(StatusCode::ACCEPTED)
}
