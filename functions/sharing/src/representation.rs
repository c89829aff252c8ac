//! What the sharing routes read and write: request bodies parsed into domain values (every
//! field's error collected), and the JSON views of members and invitations.

use serde::{Deserialize, Serialize};
use todo_domain::Error;
use todo_domain::error::Collector;
use todo_domain::model::{Email, Invitation, SharedRole, Timestamp};
use todo_domain::usecases::sharing::Member;
use todo_http::openapi;
use utoipa::ToSchema;
use utoipa::openapi::schema::ObjectBuilder;

fn enumeration(values: &[&str], description: &str) -> ObjectBuilder {
    openapi::enumeration(values).description(Some(description))
}

/// A role the owner gives (`SharedRole::parse`): a list has one owner.
fn shared_role() -> ObjectBuilder {
    enumeration(&["editor", "viewer"], "`editor` changes tasks and files; `viewer` reads.")
}

/// A member's role (`Role`).
fn role() -> ObjectBuilder {
    enumeration(
        &["owner", "editor", "viewer"],
        "The owner manages the list and its members; an editor changes tasks and files; a viewer reads.",
    )
}

/// `PATCH /lists/{list_id}/members/{user_id}`: the member's new role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MemberPatch)]
pub struct MemberPatchBody {
    #[schema(schema_with = shared_role)]
    role: String,
}

impl MemberPatchBody {
    pub fn role(&self) -> Result<SharedRole, Error> {
        SharedRole::parse(&self.role).map_err(|message| Error::field("role", message))
    }
}

/// `POST /lists/{list_id}/invitations`: whom to invite, as what.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewInvitation)]
pub struct InvitationBody {
    /// The invitee's address, with or without an account yet (not the owner's own).
    #[schema(schema_with = openapi::email)]
    email: String,
    #[schema(schema_with = shared_role)]
    role: String,
}

impl InvitationBody {
    pub fn parse(self) -> Result<(Email, SharedRole), Error> {
        let mut errors = Collector::new();
        let email = errors.take("email", Email::parse(&self.email));
        let role = errors.take("role", SharedRole::parse(&self.role));
        errors.finish()?;
        Ok((email.expect("checked"), role.expect("checked")))
    }
}

/// A member of a list, as the other members see them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Member)]
pub struct MemberView {
    user_id: String,
    #[schema(schema_with = role)]
    role: &'static str,
    /// Their display name (`null` if they set none).
    #[schema(required = true)]
    name: Option<String>,
    email: String,
}

impl From<&Member> for MemberView {
    fn from(member: &Member) -> Self {
        Self {
            user_id: member.user_id.to_string(),
            role: member.role.as_str(),
            name: member.name.as_ref().map(|name| name.as_str().to_owned()),
            email: member.email.as_str().to_owned(),
        }
    }
}

/// A page of a list's members; `next_cursor` fetches the next (`null` on the last page).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MemberPage)]
pub struct MemberListView {
    pub items: Vec<MemberView>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A pending invitation to a list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Invitation)]
pub struct InvitationView {
    id: String,
    list_id: String,
    /// The list's name when the invitation was sent.
    list_name: String,
    /// The invitee's address.
    email: String,
    #[schema(schema_with = shared_role)]
    role: &'static str,
    /// The inviter's id (the list's owner).
    invited_by: String,
    /// The inviter's display name then (`null` if they had none).
    #[schema(required = true)]
    invited_by_name: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    /// It can no longer be accepted then.
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

impl From<&Invitation> for InvitationView {
    fn from(invitation: &Invitation) -> Self {
        Self {
            id: invitation.id.to_string(),
            list_id: invitation.list_id.to_string(),
            list_name: invitation.list_name.as_str().to_owned(),
            email: invitation.email.as_str().to_owned(),
            role: invitation.role.as_str(),
            invited_by: invitation.invited_by.to_string(),
            invited_by_name: invitation.invited_by_name.as_ref().map(|name| name.as_str().to_owned()),
            created_at: invitation.created_at,
            expires_at: invitation.expires_at,
        }
    }
}

/// A page of invitations; `next_cursor` fetches the next (`null` on the last page).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InvitationPage)]
pub struct InvitationListView {
    pub items: Vec<InvitationView>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}
