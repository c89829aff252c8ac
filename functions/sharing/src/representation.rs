//! What the sharing routes read and write: request bodies parsed into domain values (every
//! field's error collected), and the JSON views of members and invitations.

use serde::{Deserialize, Serialize};
use todo_domain::Error;
use todo_domain::error::Collector;
use todo_domain::model::{Email, Invitation, SharedRole, Timestamp};
use todo_domain::usecases::sharing::Member;

/// `PATCH /lists/{list_id}/members/{user_id}`: the member's new role.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberPatchBody {
    role: String,
}

impl MemberPatchBody {
    pub fn role(&self) -> Result<SharedRole, Error> {
        SharedRole::parse(&self.role).map_err(|message| Error::field("role", message))
    }
}

/// `POST /lists/{list_id}/invitations`: whom to invite, as what.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvitationBody {
    email: String,
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

#[derive(Debug, Serialize)]
pub struct MemberView {
    user_id: String,
    role: &'static str,
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

#[derive(Debug, Serialize)]
pub struct MemberListView {
    pub items: Vec<MemberView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct InvitationView {
    id: String,
    list_id: String,
    /// The list's name when the invitation was sent.
    list_name: String,
    email: String,
    role: &'static str,
    invited_by: String,
    invited_by_name: Option<String>,
    created_at: Timestamp,
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

#[derive(Debug, Serialize)]
pub struct InvitationListView {
    pub items: Vec<InvitationView>,
    pub next_cursor: Option<String>,
}
