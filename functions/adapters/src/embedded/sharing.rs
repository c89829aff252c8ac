use async_trait::async_trait;
use rusqlite::{OptionalExtension as _, params};
use todo_domain::model::{Email, Invitation, InvitationId, ListId, Membership, Role, SharedRole, Timestamp, UserId};
use todo_domain::ports::{Page, PageRequest, SharingStore, StoreError, StoreResult};

use super::lists::{role_of, stored_membership};
use super::{EmbeddedStore, backend, from_doc, page_of, query_doc, stored_id, to_doc};

/// Refuses a manager who does not own the list (inside the write's transaction).
fn check_owner(tx: &rusqlite::Transaction<'_>, list: &str, user: UserId) -> StoreResult<()> {
    match role_of(tx, list, &user.to_string())? {
        Some(Role::Owner) => Ok(()),
        _ => Err(StoreError::AccessDenied),
    }
}

/// Members besides the owner plus invitations: what `max_seats` bounds.
fn seats_taken(tx: &rusqlite::Transaction<'_>, list: &str) -> StoreResult<u32> {
    tx.query_row(
        "SELECT (SELECT count(*) FROM members WHERE list_id = ?1 AND role <> 'owner' AND revoked = 0)
              + (SELECT count(*) FROM invitations WHERE list_id = ?1)",
        [list],
        |row| row.get(0),
    )
    .map_err(backend)
}

impl EmbeddedStore {
    /// Up to `limit` invitations not yet announced to their invitee, oldest first, after
    /// `after`: what the local server hands `usecases::sharing::announce_invitation`, as the
    /// table stream hands new invitations to `invitation-announce` on AWS.
    pub async fn unannounced_invitations(&self, after: Option<InvitationId>, limit: u32) -> StoreResult<Vec<(Email, InvitationId)>> {
        let after = after.map(|id| id.to_string()).unwrap_or_default();
        let rows = self
            .read(move |c| {
                let mut statement =
                    c.prepare_cached("SELECT email, id FROM invitations WHERE announced = 0 AND id > ?1 ORDER BY id LIMIT ?2")?;
                let rows = statement.query_map(params![after, limit], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        rows.iter()
            .map(|(email, id)| Ok((stored_id(email, |stored| Email::try_from(stored.to_owned()))?, stored_id(id, InvitationId::parse)?)))
            .collect()
    }

    /// Records that an invitation was announced (or needed no announcement).
    pub async fn mark_announced(&self, id: InvitationId) -> StoreResult<()> {
        let id = id.to_string();
        self.transaction(move |tx| tx.execute("UPDATE invitations SET announced = 1 WHERE id = ?1", [id]).map(drop).map_err(backend)).await
    }
}

fn insert_invitation(tx: &rusqlite::Transaction<'_>, invitation: &Invitation) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO invitations (id, list_id, email, expires_ms, doc) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            invitation.id.to_string(),
            invitation.list_id.to_string(),
            invitation.email.as_str(),
            invitation.expires_at.unix_millis(),
            to_doc(invitation)?
        ],
    )
    .map(drop)
    .map_err(backend)
}

#[async_trait]
impl SharingStore for EmbeddedStore {
    async fn list_members(&self, list: ListId, page: PageRequest<UserId>) -> StoreResult<Page<Membership, UserId>> {
        let list_text = list.to_string();
        let after = page.after.map(|id| id.to_string()).unwrap_or_default();
        let limit = page.limit;
        let rows = self
            .read(move |c| {
                let mut statement = c.prepare_cached(
                    "SELECT user_id, role, position FROM members WHERE list_id = ?1 AND revoked = 0 AND user_id > ?2
                     ORDER BY user_id LIMIT ?3",
                )?;
                let rows = statement.query_map(params![list_text, after, limit + 1], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, Option<u32>>(2)?))
                })?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        let members = rows
            .iter()
            .map(|(user, role, position)| stored_membership(list, stored_id(user, UserId::parse)?, role, *position))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(super::page_from(members, limit, |member| member.user_id))
    }

    async fn set_member_role(&self, owner: UserId, list: ListId, member: UserId, role: SharedRole) -> StoreResult<()> {
        let (list, member) = (list.to_string(), member.to_string());
        self.transaction(move |tx| {
            check_owner(tx, &list, owner)?;
            let changed = tx
                .execute(
                    "UPDATE members SET role = ?3 WHERE list_id = ?1 AND user_id = ?2 AND role <> 'owner' AND revoked = 0",
                    params![list, member, role.as_str()],
                )
                .map_err(backend)?;
            if changed == 1 { Ok(()) } else { Err(StoreError::NotFound) }
        })
        .await
    }

    async fn remove_member(&self, by: UserId, list: ListId, member: UserId) -> StoreResult<()> {
        let (list, member_text) = (list.to_string(), member.to_string());
        self.transaction(move |tx| {
            if by != member {
                check_owner(tx, &list, by)?;
            }
            let removed = tx
                .execute(
                    "DELETE FROM members WHERE list_id = ?1 AND user_id = ?2 AND role <> 'owner' AND revoked = 0",
                    [&list, &member_text],
                )
                .map_err(backend)?;
            if removed == 1 { Ok(()) } else { Err(StoreError::NotFound) }
        })
        .await
    }

    async fn create_invitation(&self, invitation: &Invitation, replaces: Option<&Invitation>, max_seats: u32) -> StoreResult<()> {
        let invitation = invitation.clone();
        let replaces = replaces.map(|replaced| replaced.id.to_string());
        self.transaction(move |tx| {
            let list = invitation.list_id.to_string();
            check_owner(tx, &list, invitation.invited_by)?;
            match replaces {
                Some(earlier) => {
                    let removed =
                        tx.execute("DELETE FROM invitations WHERE id = ?1 AND list_id = ?2", [&earlier, &list]).map_err(backend)?;
                    if removed != 1 {
                        return Err(StoreError::NotFound);
                    }
                }
                None if seats_taken(tx, &list)? >= max_seats => return Err(StoreError::LimitReached),
                None => {}
            }
            insert_invitation(tx, &invitation)
        })
        .await
    }

    async fn list_invitations(&self, list: ListId) -> StoreResult<Vec<Invitation>> {
        let list = list.to_string();
        let docs = self
            .read(move |c| {
                let mut statement = c.prepare_cached("SELECT doc FROM invitations WHERE list_id = ?1 ORDER BY id")?;
                let rows = statement.query_map([list], |row| row.get::<_, String>(0))?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        docs.iter().map(|doc| from_doc(doc)).collect()
    }

    async fn get_list_invitation(&self, list: ListId, id: InvitationId) -> StoreResult<Option<Invitation>> {
        let (list, id) = (list.to_string(), id.to_string());
        self.read_parsed(move |connection| query_doc(connection, "SELECT doc FROM invitations WHERE list_id = ?1 AND id = ?2", [list, id]))
            .await
    }

    async fn get_invitation(&self, email: &Email, id: InvitationId) -> StoreResult<Option<Invitation>> {
        let (email, id) = (email.as_str().to_owned(), id.to_string());
        self.read_parsed(move |connection| query_doc(connection, "SELECT doc FROM invitations WHERE email = ?1 AND id = ?2", [email, id]))
            .await
    }

    async fn invitations_for(
        &self,
        email: &Email,
        now: Timestamp,
        page: PageRequest<InvitationId>,
    ) -> StoreResult<Page<Invitation, InvitationId>> {
        let email = email.as_str().to_owned();
        let after = page.after.map(|id| id.to_string()).unwrap_or_default();
        let limit = page.limit;
        let docs = self
            .read(move |c| {
                let mut statement =
                    c.prepare_cached("SELECT doc FROM invitations WHERE email = ?1 AND id > ?2 AND expires_ms > ?3 ORDER BY id LIMIT ?4")?;
                let rows = statement.query_map(params![email, after, now.unix_millis(), limit + 1], |row| row.get::<_, String>(0))?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        page_of(&docs, limit, |invitation: &Invitation| invitation.id)
    }

    async fn delete_invitation(&self, by: Option<UserId>, invitation: &Invitation) -> StoreResult<()> {
        let (list, id) = (invitation.list_id.to_string(), invitation.id.to_string());
        self.transaction(move |tx| {
            if let Some(owner) = by {
                check_owner(tx, &list, owner)?;
            }
            let removed = tx.execute("DELETE FROM invitations WHERE id = ?1 AND list_id = ?2", [&id, &list]).map_err(backend)?;
            if removed == 1 { Ok(()) } else { Err(StoreError::NotFound) }
        })
        .await
    }

    async fn accept_invitation(&self, invitation: &Invitation, user: UserId, now: Timestamp) -> StoreResult<()> {
        let joining = user;
        let (list, id, user, role) =
            (invitation.list_id.to_string(), invitation.id.to_string(), user.to_string(), Role::from(invitation.role).as_str());
        let invited_by = invitation.invited_by.to_string();
        self.transaction(move |tx| {
            let pending = tx
                .query_row(
                    "SELECT 1 FROM invitations WHERE id = ?1 AND list_id = ?2 AND expires_ms > ?3",
                    params![id, list, now.unix_millis()],
                    |_| Ok(()),
                )
                .optional()
                .map_err(backend)?;
            // The inviter still owns the list: a list being deleted has lost its owner's membership.
            if pending.is_none() || role_of(tx, &list, &invited_by)? != Some(Role::Owner) {
                return Err(StoreError::NotFound);
            }
            super::users::check_account(tx, joining)?;
            let member = tx
                .query_row("SELECT 1 FROM members WHERE list_id = ?1 AND user_id = ?2", [&list, &user], |_| Ok(()))
                .optional()
                .map_err(backend)?;
            if member.is_some() {
                return Err(StoreError::AlreadyExists);
            }
            tx.execute("DELETE FROM invitations WHERE id = ?1", [&id]).map_err(backend)?;
            tx.execute("INSERT INTO members (list_id, user_id, role) VALUES (?1, ?2, ?3)", params![list, user, role]).map_err(backend)?;
            Ok(())
        })
        .await
    }
}
