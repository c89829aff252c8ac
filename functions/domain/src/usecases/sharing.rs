//! Sharing a list: its members and the invitations that make new ones. Only the owner
//! invites, changes roles and removes others; any member may read who else is in the list
//! and may leave it. Invitations are addressed to an email, whether or not an account has
//! it, and answer the same either way: nothing on a request path looks an email up (the
//! announcement in the invitee's feed is made off it, `announce_invitation`).

use tracing::instrument;

use crate::app::App;
use crate::auth::Principal;
use crate::error::Error;
use crate::model::{
    DisplayName, Email, Invitation, InvitationId, ListId, Membership, Notification, NotificationId, Role, SharedRole, Timestamp, User,
    UserId,
};
use crate::ports::{PageRequest, StoreError};
use crate::usecases::access;
use crate::usecases::lists::{self, ListAccess};
use crate::usecases::tasks::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::usecases::users::current_user;

/// Members besides the owner plus pending invitations: 50 people in a list at most.
pub const MAX_SEATS: u32 = 49;

/// The name cursors of `GET /invitations` are bound to (with the caller's id).
const RECEIVED_INVITATION_PAGES: &str = "invitations";

fn member_pages(list: ListId) -> String {
    format!("members:{list}")
}

/// Refuses a member who is not the owner: they can see the list, so a 403.
fn require_owner(role: Role) -> Result<(), Error> {
    if role == Role::Owner { Ok(()) } else { Err(Error::Forbidden("only the list's owner manages its members and invitations")) }
}

/// A member as other members see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: UserId,
    pub role: Role,
    pub name: Option<DisplayName>,
    pub email: Email,
}

impl Member {
    fn of(membership: Membership, user: &User) -> Self {
        Self { user_id: membership.user_id, role: membership.role, name: user.name.clone(), email: user.email.clone() }
    }
}

#[derive(Debug)]
pub struct MemberPage {
    pub items: Vec<Member>,
    pub next_cursor: Option<String>,
}

/// One page of a list's members with their names: the page and the caller's membership in
/// one round trip, then the members' profiles in one batch read.
pub async fn list_members(
    app: &App,
    principal: Principal,
    list: ListId,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<MemberPage, Error> {
    let pages = member_pages(list);
    let after = cursor
        .map(|cursor| app.cursors.decode::<UserId>(principal.user_id, &pages, cursor).map_err(|message| Error::field("cursor", message)))
        .transpose()?;
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    let (_, page) = access::read(app, principal, list, "list", app.stores.sharing.list_members(list, PageRequest { limit, after })).await?;
    let ids: Vec<UserId> = page.items.iter().map(|membership| membership.user_id).collect();
    let users = app.stores.users.get_users(&ids).await?;
    // A member whose account is being deleted (their membership goes in seconds) is left out.
    let items = page
        .items
        .into_iter()
        .filter_map(|membership| users.iter().find(|user| user.id == membership.user_id).map(|user| Member::of(membership, user)))
        .collect();
    Ok(MemberPage { items, next_cursor: page.next.map(|last| app.cursors.encode(principal.user_id, &pages, &last)) })
}

/// Gives a member (not the owner) another role.
#[instrument(skip_all, fields(user_id = %principal.user_id, list_id = %list))]
pub async fn update_member(app: &App, principal: Principal, list: ListId, member: UserId, role: SharedRole) -> Result<Member, Error> {
    require_owner(access::read(app, principal, list, "list", async { Ok(()) }).await?.0)?;
    if member == principal.user_id {
        return Err(Error::Conflict("the owner's role does not change".to_owned()));
    }
    match app.stores.sharing.set_member_role(principal.user_id, list, member, role).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(Error::NotFound("member")),
        // An owner stays the owner while the list lives: the list is being deleted.
        Err(StoreError::AccessDenied) => return Err(Error::NotFound("list")),
        Err(other) => return Err(other.into()),
    }
    let user = app.stores.users.get_users(&[member]).await?.pop().ok_or(Error::NotFound("member"))?;
    Ok(Member::of(Membership::new(list, member, role.into()), &user))
}

/// Removes a member: the owner removes anyone else; any other member may remove
/// themself (leave). From their next request on, the list is a 404 to them.
#[instrument(skip_all, fields(user_id = %principal.user_id, list_id = %list))]
pub async fn remove_member(app: &App, principal: Principal, list: ListId, member: UserId) -> Result<(), Error> {
    let (role, ()) = access::read(app, principal, list, "list", async { Ok(()) }).await?;
    if member == principal.user_id {
        if role == Role::Owner {
            return Err(Error::Conflict("the owner cannot leave their own list; delete it instead".to_owned()));
        }
    } else {
        require_owner(role)?;
    }
    match app.stores.sharing.remove_member(principal.user_id, list, member).await {
        Ok(()) => Ok(()),
        Err(StoreError::NotFound) => Err(Error::NotFound("member")),
        Err(StoreError::AccessDenied) => Err(Error::NotFound("list")),
        Err(other) => Err(other.into()),
    }
}

/// Invites `email` to the list as `role`, for `Invitation::LIFETIME_DAYS`. The answer is the
/// same whether or not the email has an account. Inviting an email again replaces its
/// pending invitation (new role, new expiry, same seat); expired invitations give their
/// seats back here.
#[instrument(skip_all, fields(user_id = %principal.user_id, list_id = %list))]
pub async fn invite(app: &App, principal: Principal, list: ListId, email: Email, role: SharedRole) -> Result<Invitation, Error> {
    let reads = async {
        let (list, invitations, inviter) = tokio::join!(
            app.stores.lists.get_list(list),
            app.stores.sharing.list_invitations(list),
            app.stores.users.get_user(principal.user_id)
        );
        Ok((list?, invitations?, inviter?))
    };
    let (caller_role, (stored_list, invitations, inviter)) = access::read(app, principal, list, "list", reads).await?;
    require_owner(caller_role)?;
    let stored_list = stored_list.ok_or(Error::NotFound("list"))?;
    let inviter = inviter.ok_or(Error::Unauthenticated("the account no longer exists"))?;
    if inviter.email == email {
        return Err(Error::Conflict("that is your own address: you are this list's owner".to_owned()));
    }
    let now = app.clock.now();
    let mut replaces = None;
    for invitation in invitations {
        if invitation.is_expired(now) {
            match app.stores.sharing.delete_invitation(None, &invitation).await {
                Ok(()) | Err(StoreError::NotFound) => {}
                Err(other) => return Err(other.into()),
            }
        } else if invitation.email == email {
            replaces = Some(invitation);
        }
    }
    let invitation = Invitation {
        id: InvitationId::generate(),
        list_id: list,
        list_name: stored_list.name,
        email,
        role,
        invited_by: principal.user_id,
        invited_by_name: inviter.name,
        created_at: now,
        expires_at: now.plus(chrono::Duration::days(Invitation::LIFETIME_DAYS)),
    };
    match app.stores.sharing.create_invitation(&invitation, replaces.as_ref(), MAX_SEATS).await {
        Ok(()) => Ok(invitation),
        Err(StoreError::LimitReached) => Err(Error::Conflict(format!(
            "the list has {MAX_SEATS} members and pending invitations besides its owner: remove one or revoke an invitation first"
        ))),
        Err(StoreError::AccessDenied) => Err(Error::NotFound("list")),
        Err(StoreError::NotFound) => Err(Error::Conflict("this email's invitation changed concurrently; retry".to_owned())),
        Err(other) => Err(other.into()),
    }
}

/// A list's pending invitations, oldest first (owner only). Expired ones are left out.
pub async fn list_invitations(app: &App, principal: Principal, list: ListId) -> Result<Vec<Invitation>, Error> {
    let (role, invitations) = access::read(app, principal, list, "list", app.stores.sharing.list_invitations(list)).await?;
    require_owner(role)?;
    let now = app.clock.now();
    Ok(invitations.into_iter().filter(|invitation| !invitation.is_expired(now)).collect())
}

/// Withdraws an invitation (owner only); it can no longer be accepted.
#[instrument(skip_all, fields(user_id = %principal.user_id, list_id = %list))]
pub async fn revoke_invitation(app: &App, principal: Principal, list: ListId, id: InvitationId) -> Result<(), Error> {
    let (role, invitation) = access::read(app, principal, list, "list", app.stores.sharing.get_list_invitation(list, id)).await?;
    require_owner(role)?;
    let invitation = invitation.ok_or(Error::NotFound("invitation"))?;
    match app.stores.sharing.delete_invitation(Some(principal.user_id), &invitation).await {
        Ok(()) => Ok(()),
        Err(StoreError::NotFound) => Err(Error::NotFound("invitation")),
        Err(StoreError::AccessDenied) => Err(Error::NotFound("list")),
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug)]
pub struct InvitationPage {
    pub items: Vec<Invitation>,
    pub next_cursor: Option<String>,
}

/// The invitations waiting for the caller's email (including any sent before they signed up).
pub async fn received_invitations(
    app: &App,
    principal: Principal,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<InvitationPage, Error> {
    let after = cursor
        .map(|cursor| {
            app.cursors
                .decode::<InvitationId>(principal.user_id, RECEIVED_INVITATION_PAGES, cursor)
                .map_err(|message| Error::field("cursor", message))
        })
        .transpose()?;
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    let user = current_user(app, principal).await?;
    let page = app.stores.sharing.invitations_for(&user.email, app.clock.now(), PageRequest { limit, after }).await?;
    Ok(InvitationPage {
        items: page.items,
        next_cursor: page.next.map(|last| app.cursors.encode(principal.user_id, RECEIVED_INVITATION_PAGES, &last)),
    })
}

/// The caller's own pending invitation `id`, or 404 (someone else's invitation included).
async fn own_invitation(app: &App, principal: Principal, id: InvitationId, now: Timestamp) -> Result<Invitation, Error> {
    let user = current_user(app, principal).await?;
    let invitation = app.stores.sharing.get_invitation(&user.email, id).await?;
    invitation.filter(|invitation| !invitation.is_expired(now)).ok_or(Error::NotFound("invitation"))
}

/// Joins the list as the invitation says; the list, as the caller now sees it. Accepting an
/// invitation to a list one is already in uses it up and changes nothing.
#[instrument(skip_all, fields(user_id = %principal.user_id, invitation_id = %id))]
pub async fn accept_invitation(app: &App, principal: Principal, id: InvitationId) -> Result<ListAccess, Error> {
    let now = app.clock.now();
    let invitation = own_invitation(app, principal, id, now).await?;
    match app.stores.sharing.accept_invitation(&invitation, principal.user_id, now).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists) => match app.stores.sharing.delete_invitation(None, &invitation).await {
            Ok(()) | Err(StoreError::NotFound) => {}
            Err(other) => return Err(other.into()),
        },
        Err(StoreError::NotFound) => return Err(Error::NotFound("invitation")),
        Err(StoreError::OwnerMissing) => return Err(Error::Unauthenticated("the account no longer exists")),
        Err(other) => return Err(other.into()),
    }
    let ((), joined) =
        tokio::join!(mark_announcement_read(app, principal, &invitation), lists::get_list(app, principal, invitation.list_id));
    joined
}

/// Answering an invitation reads its notification (if it was announced and is unread: one
/// conditional write), so the bell stops counting it. Best effort: the answer stands either way.
async fn mark_announcement_read(app: &App, principal: Principal, invitation: &Invitation) {
    let id = NotificationId::for_invitation(invitation.id, invitation.created_at.unix_millis());
    if let Err(error) = app.stores.notifications.read_if_unread(principal.user_id, id, app.clock.now()).await {
        tracing::warn!(error = %error, "marking the invitation's notification read failed");
    }
}

/// Turns an invitation down; it is gone for the owner too.
#[instrument(skip_all, fields(user_id = %principal.user_id, invitation_id = %id))]
pub async fn decline_invitation(app: &App, principal: Principal, id: InvitationId) -> Result<(), Error> {
    let invitation = own_invitation(app, principal, id, app.clock.now()).await?;
    match app.stores.sharing.delete_invitation(None, &invitation).await {
        Ok(()) | Err(StoreError::NotFound) => {}
        Err(other) => return Err(other.into()),
    }
    mark_announcement_read(app, principal, &invitation).await;
    Ok(())
}

/// What announcing an invitation came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Announced {
    /// The invitee's feed has it now.
    Sent,
    /// It was there already (a redelivery).
    AlreadySent,
    /// No account has the address (yet): `GET /invitations` shows it once one does.
    NoAccount,
    /// Answered, revoked, replaced or expired before its turn came.
    Gone,
}

/// Tells whoever holds the address an invitation names about it, in their notification feed.
/// Runs off the request path for each new invitation — on AWS the table stream's
/// `invitation-announce`, locally the server's loop — so the inviter's answer never waits on
/// (or times) the lookup of the address. Idempotent: the notification's id is the invitation's.
#[instrument(skip_all, fields(invitation_id = %id))]
pub async fn announce_invitation(app: &App, email: &Email, id: InvitationId) -> Result<Announced, Error> {
    let now = app.clock.now();
    let (invitation, invitee) = tokio::join!(app.stores.sharing.get_invitation(email, id), app.stores.users.find_user_by_email(email));
    let Some(invitation) = invitation?.filter(|invitation| !invitation.is_expired(now)) else {
        return Ok(Announced::Gone);
    };
    let Some(invitee) = invitee? else { return Ok(Announced::NoAccount) };
    match app.stores.notifications.add_notification(&Notification::for_invitation(&invitation, invitee.id, now)).await {
        Ok(true) => Ok(Announced::Sent),
        Ok(false) => Ok(Announced::AlreadySent),
        // The account was deleted in between: nobody to tell.
        Err(StoreError::OwnerMissing) => Ok(Announced::NoAccount),
        Err(other) => Err(other.into()),
    }
}
