//! Request → use case → response, for each user-service route.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use todo_domain::App;
use todo_domain::usecases::users;
use todo_http::{Authenticated, HttpError, JsonBody};

use crate::representation::{DeleteAccountBody, LogInBody, ProfilePatchBody, RefreshBody, SignUpBody, TokensView, UserView, refresh_token};

/// Token responses must not be cached by anything in between.
fn no_store(status: StatusCode, body: TokensView) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub async fn sign_up(State(app): State<App>, body: JsonBody<SignUpBody>) -> Result<Response, HttpError> {
    let (user, tokens) = users::sign_up(&app, body.value.try_into()?).await?;
    let mut response = no_store(StatusCode::CREATED, TokensView::new(Some(&user), tokens));
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/users/me"));
    Ok(response)
}

pub async fn log_in(State(app): State<App>, body: JsonBody<LogInBody>) -> Result<Response, HttpError> {
    let (user, tokens) = users::log_in(&app, body.value.try_into()?).await?;
    Ok(no_store(StatusCode::OK, TokensView::new(Some(&user), tokens)))
}

pub async fn refresh(State(app): State<App>, body: JsonBody<RefreshBody>) -> Result<Response, HttpError> {
    let tokens = users::refresh(&app, refresh_token(&body.value)?).await?;
    Ok(no_store(StatusCode::OK, TokensView::new(None, tokens)))
}

pub async fn log_out(State(app): State<App>, Authenticated(principal): Authenticated) -> Result<StatusCode, HttpError> {
    users::log_out(&app, principal).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn get_me(State(app): State<App>, Authenticated(principal): Authenticated) -> Result<Json<UserView>, HttpError> {
    let user = users::current_user(&app, principal).await?;
    Ok(Json(UserView::from(&user)))
}

pub async fn update_me(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    body: JsonBody<ProfilePatchBody>,
) -> Result<Json<UserView>, HttpError> {
    let user = users::update_profile(&app, principal, body.value.try_into()?).await?;
    Ok(Json(UserView::from(&user)))
}

pub async fn delete_me(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    body: JsonBody<DeleteAccountBody>,
) -> Result<StatusCode, HttpError> {
    users::delete_account(&app, principal, body.value.password()?).await?;
    // Accepted: the account and its sessions are gone; its tasks and files follow shortly.
    Ok(StatusCode::ACCEPTED)
}
