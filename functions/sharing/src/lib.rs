//! The sharing service: a list's members and the invitations that make new ones, over
//! `todo_domain::usecases::sharing`. One `Operation` per route; each has its own Lambda
//! binary in `src/bin/`, and the local server mounts them all. `announce` is the table
//! stream's function: new invitations told to their invitees.

pub mod announce;
mod handlers;
mod representation;

use axum::routing::{delete, get, patch, post};
use http::Method;
use todo_http::{Access, Operation};

pub static LIST_MEMBERS: Operation = Operation {
    binary: "member-list",
    method: Method::GET,
    path: "/lists/{list_id}/members",
    access: Access::Read,
    route: || get(handlers::list_members),
};
pub static UPDATE_MEMBER: Operation = Operation {
    binary: "member-update",
    method: Method::PATCH,
    path: "/lists/{list_id}/members/{user_id}",
    access: Access::Write,
    route: || patch(handlers::update_member),
};
pub static REMOVE_MEMBER: Operation = Operation {
    binary: "member-remove",
    method: Method::DELETE,
    path: "/lists/{list_id}/members/{user_id}",
    access: Access::Write,
    route: || delete(handlers::remove_member),
};
pub static CREATE_INVITATION: Operation = Operation {
    binary: "invitation-create",
    method: Method::POST,
    path: "/lists/{list_id}/invitations",
    access: Access::Write,
    route: || post(handlers::create_invitation),
};
pub static LIST_INVITATIONS: Operation = Operation {
    binary: "invitation-list",
    method: Method::GET,
    path: "/lists/{list_id}/invitations",
    access: Access::Read,
    route: || get(handlers::list_invitations),
};
pub static REVOKE_INVITATION: Operation = Operation {
    binary: "invitation-revoke",
    method: Method::DELETE,
    path: "/lists/{list_id}/invitations/{invitation_id}",
    access: Access::Write,
    route: || delete(handlers::revoke_invitation),
};
pub static RECEIVED_INVITATIONS: Operation = Operation {
    binary: "invitation-received",
    method: Method::GET,
    path: "/invitations",
    access: Access::Read,
    route: || get(handlers::received_invitations),
};
pub static ACCEPT_INVITATION: Operation = Operation {
    binary: "invitation-accept",
    method: Method::POST,
    path: "/invitations/{invitation_id}/accept",
    access: Access::Write,
    route: || post(handlers::accept_invitation),
};
pub static DECLINE_INVITATION: Operation = Operation {
    binary: "invitation-decline",
    method: Method::POST,
    path: "/invitations/{invitation_id}/decline",
    access: Access::Write,
    route: || post(handlers::decline_invitation),
};

/// This service's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(
        handlers::list_members,
        handlers::update_member,
        handlers::remove_member,
        handlers::create_invitation,
        handlers::list_invitations,
        handlers::revoke_invitation,
        handlers::received_invitations,
        handlers::accept_invitation,
        handlers::decline_invitation
    ))]
    struct Doc;
    <Doc as utoipa::OpenApi>::openapi()
}

/// Every operation of this service.
pub static OPERATIONS: [&Operation; 9] = [
    &LIST_MEMBERS,
    &UPDATE_MEMBER,
    &REMOVE_MEMBER,
    &CREATE_INVITATION,
    &LIST_INVITATIONS,
    &REVOKE_INVITATION,
    &RECEIVED_INVITATIONS,
    &ACCEPT_INVITATION,
    &DECLINE_INVITATION,
];
