//! Request → use case → response, for each sharing route.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use todo_domain::App;
use todo_domain::usecases::sharing;
use todo_http::openapi::{InvitationParams, ListInvitationParams, ListParams, MemberParams, PageParams};
use todo_http::{Authenticated, HttpError, InvitationPath, JsonBody, ListInvitationPath, ListPath, MemberPath, PageQuery, QueryParams};

use crate::representation::{InvitationBody, InvitationListView, InvitationView, MemberListView, MemberPatchBody, MemberView};

#[utoipa::path(get, path = "/lists/{list_id}/members", operation_id = "member-list", tag = "sharing",
    summary = "A list's members, paged",
    params(ListParams, PageParams), security(("bearer" = [])),
    responses((status = 200, description = "A page of members (the owner among them).", body = MemberListView)))]
pub async fn list_members(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    ListPath(list): ListPath,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<MemberListView>, HttpError> {
    let page = sharing::list_members(&app, principal, list, query.limit()?, query.cursor.as_deref()).await?;
    Ok(Json(MemberListView { items: page.items.iter().map(MemberView::from).collect(), next_cursor: page.next_cursor }))
}

#[utoipa::path(patch, path = "/lists/{list_id}/members/{user_id}", operation_id = "member-update", tag = "sharing",
    summary = "Give a member another role (owner only)",
    params(MemberParams), request_body(content = MemberPatchBody, content_type = "application/merge-patch+json"), security(("bearer" = [])),
    responses(
        (status = 200, description = "The member with their new role.", body = MemberView),
        (status = 403, description = "Only the list's owner manages its members and invitations."),
        (status = 409, description = "The owner's own role does not change."),
    ))]
pub async fn update_member(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    MemberPath { list, user }: MemberPath,
    body: JsonBody<MemberPatchBody>,
) -> Result<Json<MemberView>, HttpError> {
    let member = sharing::update_member(&app, principal, list, user, body.value.role()?).await?;
    Ok(Json(MemberView::from(&member)))
}

#[utoipa::path(delete, path = "/lists/{list_id}/members/{user_id}", operation_id = "member-remove", tag = "sharing",
    summary = "Remove a member (owner), or leave the list (the caller's own id)",
    params(MemberParams), security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed; the list is a 404 to them from now on."),
        (status = 403, description = "Only the list's owner removes others."),
        (status = 409, description = "The owner cannot leave their own list (delete it instead)."),
    ))]
pub async fn remove_member(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    MemberPath { list, user }: MemberPath,
) -> Result<StatusCode, HttpError> {
    sharing::remove_member(&app, principal, list, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 202 whether or not the email has an account: the invitation waits for its invitee.
#[utoipa::path(post, path = "/lists/{list_id}/invitations", operation_id = "invitation-create", tag = "sharing",
    summary = "Invite an email address to a list (owner only)",
    params(ListParams), request_body = InvitationBody, security(("bearer" = [])),
    responses(
        (status = 202, description = "Invited, whether or not the address has an account; a pending invitation to the same address is replaced.", body = InvitationView,
            links(("RevokeInvitation" = (operation_id = "invitation-revoke", parameters(("list_id" = "$request.path.list_id"), ("invitation_id" = "$response.body#/id")))))),
        (status = 403, description = "Only the list's owner manages its members and invitations."),
        (status = 409, description = "The list has no seat left (49 members and pending invitations besides its owner), the address is the owner's own, or the address's invitation changed concurrently."),
    ))]
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
#[utoipa::path(get, path = "/lists/{list_id}/invitations", operation_id = "invitation-list", tag = "sharing",
    summary = "A list's pending invitations (owner only)",
    params(ListParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "Every pending invitation, oldest first, in one page (`next_cursor` is `null`).", body = InvitationListView),
        (status = 403, description = "Only the list's owner manages its members and invitations."),
    ))]
pub async fn list_invitations(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    ListPath(list): ListPath,
) -> Result<Json<InvitationListView>, HttpError> {
    let invitations = sharing::list_invitations(&app, principal, list).await?;
    Ok(Json(InvitationListView { items: invitations.iter().map(InvitationView::from).collect(), next_cursor: None }))
}

#[utoipa::path(delete, path = "/lists/{list_id}/invitations/{invitation_id}", operation_id = "invitation-revoke", tag = "sharing",
    summary = "Withdraw an invitation (owner only)",
    params(ListInvitationParams), security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked; it can no longer be accepted."),
        (status = 403, description = "Only the list's owner manages its members and invitations."),
    ))]
pub async fn revoke_invitation(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    ListInvitationPath { list, invitation }: ListInvitationPath,
) -> Result<StatusCode, HttpError> {
    sharing::revoke_invitation(&app, principal, list, invitation).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/invitations", operation_id = "invitation-received", tag = "sharing",
    summary = "The pending invitations to the caller's email address, paged",
    params(PageParams), security(("bearer" = [])),
    responses((status = 200, description = "A page of invitations.", body = InvitationListView,
        links(("AcceptFirst" = (operation_id = "invitation-accept", parameters(("invitation_id" = "$response.body#/items/0/id")))),
            ("DeclineFirst" = (operation_id = "invitation-decline", parameters(("invitation_id" = "$response.body#/items/0/id"))))))))]
pub async fn received_invitations(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<InvitationListView>, HttpError> {
    let page = sharing::received_invitations(&app, principal, query.limit()?, query.cursor.as_deref()).await?;
    Ok(Json(InvitationListView { items: page.items.iter().map(InvitationView::from).collect(), next_cursor: page.next_cursor }))
}

/// 200 with the list just joined, as the caller now sees it.
#[utoipa::path(post, path = "/invitations/{invitation_id}/accept", operation_id = "invitation-accept", tag = "sharing",
    summary = "Accept an invitation: join the list",
    params(InvitationParams), security(("bearer" = [])),
    responses((status = 200, description = "The list joined, as the caller now sees it (already a member: the invitation is used up, nothing else changes).",
        body = ref("#/components/schemas/List"), content_type = "application/json",
        headers(("ETag" = String, description = "The list's version")))))]
pub async fn accept_invitation(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    InvitationPath(id): InvitationPath,
) -> Result<Response, HttpError> {
    let joined = sharing::accept_invitation(&app, principal, id).await?;
    Ok(todo_lists::list_response(StatusCode::OK, &joined))
}

#[utoipa::path(post, path = "/invitations/{invitation_id}/decline", operation_id = "invitation-decline", tag = "sharing",
    summary = "Decline an invitation",
    params(InvitationParams), security(("bearer" = [])),
    responses((status = 204, description = "Declined; the invitation is gone for the owner too.")))]
pub async fn decline_invitation(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    InvitationPath(id): InvitationPath,
) -> Result<StatusCode, HttpError> {
    sharing::decline_invitation(&app, principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
