//! Request → use case → response, for each sharing route.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use todo_domain::App;
use todo_domain::usecases::sharing;
use todo_http::{Authenticated, HttpError, InvitationPath, JsonBody, ListInvitationPath, ListPath, MemberPath, PageQuery, QueryParams};

use crate::representation::{InvitationBody, InvitationListView, InvitationView, MemberListView, MemberPatchBody, MemberView};

pub async fn list_members(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    ListPath(list): ListPath,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<MemberListView>, HttpError> {
    let page = sharing::list_members(&app, principal, list, query.limit()?, query.cursor.as_deref()).await?;
    Ok(Json(MemberListView { items: page.items.iter().map(MemberView::from).collect(), next_cursor: page.next_cursor }))
}

pub async fn update_member(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    MemberPath { list, user }: MemberPath,
    body: JsonBody<MemberPatchBody>,
) -> Result<Json<MemberView>, HttpError> {
    let member = sharing::update_member(&app, principal, list, user, body.value.role()?).await?;
    Ok(Json(MemberView::from(&member)))
}

pub async fn remove_member(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    MemberPath { list, user }: MemberPath,
) -> Result<StatusCode, HttpError> {
    sharing::remove_member(&app, principal, list, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 202 whether or not the email has an account: the invitation waits for its invitee.
pub async fn create_invitation(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    ListPath(list): ListPath,
    body: JsonBody<InvitationBody>,
) -> Result<Response, HttpError> {
    let (email, role) = body.value.parse()?;
    let invitation = sharing::invite(&app, principal, list, email, role).await?;
    Ok((StatusCode::ACCEPTED, Json(InvitationView::from(&invitation))).into_response())
}

/// A list's pending invitations: at most its seats, so one page.
pub async fn list_invitations(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    ListPath(list): ListPath,
) -> Result<Json<InvitationListView>, HttpError> {
    let invitations = sharing::list_invitations(&app, principal, list).await?;
    Ok(Json(InvitationListView { items: invitations.iter().map(InvitationView::from).collect(), next_cursor: None }))
}

pub async fn revoke_invitation(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    ListInvitationPath { list, invitation }: ListInvitationPath,
) -> Result<StatusCode, HttpError> {
    sharing::revoke_invitation(&app, principal, list, invitation).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn received_invitations(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<InvitationListView>, HttpError> {
    let page = sharing::received_invitations(&app, principal, query.limit()?, query.cursor.as_deref()).await?;
    Ok(Json(InvitationListView { items: page.items.iter().map(InvitationView::from).collect(), next_cursor: page.next_cursor }))
}

/// 200 with the list just joined, as the caller now sees it.
pub async fn accept_invitation(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    InvitationPath(id): InvitationPath,
) -> Result<Response, HttpError> {
    let joined = sharing::accept_invitation(&app, principal, id).await?;
    Ok(todo_lists::list_response(StatusCode::OK, &joined))
}

pub async fn decline_invitation(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    InvitationPath(id): InvitationPath,
) -> Result<StatusCode, HttpError> {
    sharing::decline_invitation(&app, principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
