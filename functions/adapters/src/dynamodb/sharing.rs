//! Members and invitations. A list's partition holds its invitations (`INVITE#<iid>`) and
//! its seat count (`SEATS`: members besides the owner plus invitations); each invitation is
//! also kept under its email (`INVITEE#<email>` / `INVITE#<iid>`, with a TTL), so an invitee
//! finds theirs in one query. Every write is one `TransactWriteItems` holding its
//! conditions: the manager still owns the list, the seat count stays under its limit.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use todo_domain::model::{Email, Invitation, InvitationId, ListId, Membership, Role, SharedRole, Timestamp, UserId};
use todo_domain::ports::{ListStore as _, Page, PageRequest, SharingStore, StoreError, StoreResult};

use super::lists::{MEMBER_PREFIX, MembershipItem, member_key, membership_items, membership_key};
use super::{DynamoStore, Item, from_item, key, list_pk, n, put_if_absent, s, to_item};

const INVITE_PREFIX: &str = "INVITE#";
/// The invitee copies' partition prefix: `invitation-announce`'s stream filter in `template.yaml`
/// names it too (a test checks).
pub const INVITEE_PREFIX: &str = "INVITEE#";
const SEATS_SK: &str = "SEATS";

/// An invitation, stored under its list and under its email.
#[derive(Serialize, Deserialize)]
struct InvitationItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    /// The expiry as a number, for the acceptance's condition.
    expires_ms: i64,
    /// Only on the email's copy: the table's TTL removes it some time after it expired. The
    /// list's copy holds its seat until an invitation or the list's deletion removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ttl: Option<i64>,
    #[serde(flatten)]
    invitation: Invitation,
}

/// The invitation an item's keys name, if they are an invitee's copy's (what the table
/// stream's `invitation-announce` is given).
pub(crate) fn invitee_copy(pk: &str, sk: &str) -> Option<(Email, InvitationId)> {
    // Read back as stored (not re-parsed): a rule tightened since must not lose invitations.
    let email = Email::try_from(pk.strip_prefix(INVITEE_PREFIX)?.to_owned()).ok()?;
    let id = InvitationId::parse(sk.strip_prefix(INVITE_PREFIX)?).ok()?;
    Some((email, id))
}

fn invitee_pk(email: &Email) -> String {
    format!("{INVITEE_PREFIX}{}", email.as_str())
}

fn list_copy_key(invitation: &Invitation) -> Item {
    key(list_pk(invitation.list_id), format!("{INVITE_PREFIX}{}", invitation.id))
}

fn email_copy_key(invitation: &Invitation) -> Item {
    key(invitee_pk(&invitation.email), format!("{INVITE_PREFIX}{}", invitation.id))
}

pub(super) fn seats_key(list: ListId) -> Item {
    key(list_pk(list), SEATS_SK.to_owned())
}

/// The keys of a list's invitations: the emails' copies, then the list's (one query of the
/// list's). Deleted in that order, an interrupted deletion still finds what is left.
pub(super) async fn invitation_keys(store: &DynamoStore, list: ListId) -> StoreResult<(Vec<Item>, Vec<Item>)> {
    let invitations = store
        .partition_items(&list_pk(list), INVITE_PREFIX)
        .await?
        .into_iter()
        .map(|item| from_item::<InvitationItem>(item).map(|item| item.invitation))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((invitations.iter().map(email_copy_key).collect(), invitations.iter().map(list_copy_key).collect()))
}

/// A `ConditionCheck` that `user` owns `list`.
fn owner_check(table: &str, list: ListId, user: UserId) -> StoreResult<TransactWriteItem> {
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(member_key(list, user)))
        .condition_expression("#role = :owner")
        .expression_attribute_names("#role", "role")
        .expression_attribute_values(":owner", s(Role::Owner.as_str()))
        .build()
        .map_err(StoreError::backend)?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

/// Takes (`+1`, only while fewer than `max` are taken) or frees (`-1`) a seat.
fn seat_change(table: &str, list: ListId, delta: i32, max: Option<u32>) -> StoreResult<TransactWriteItem> {
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(seats_key(list)))
        .update_expression("ADD #count :delta")
        .expression_attribute_names("#count", "count")
        .expression_attribute_values(":delta", n(delta));
    if let Some(max) = max {
        update = update.condition_expression("attribute_not_exists(#count) OR #count < :max").expression_attribute_values(":max", n(max));
    }
    Ok(TransactWriteItem::builder().update(update.build().map_err(StoreError::backend)?).build())
}

fn delete(table: &str, key: Item, condition: Option<&str>) -> StoreResult<TransactWriteItem> {
    let delete = Delete::builder().table_name(table).set_key(Some(key)).set_condition_expression(condition.map(str::to_owned));
    Ok(TransactWriteItem::builder().delete(delete.build().map_err(StoreError::backend)?).build())
}

/// Both copies of `invitation`, new.
fn put_invitation(table: &str, invitation: &Invitation) -> StoreResult<[TransactWriteItem; 2]> {
    let expires_ms = invitation.expires_at.unix_millis();
    let list_copy = InvitationItem {
        pk: list_pk(invitation.list_id),
        sk: format!("{INVITE_PREFIX}{}", invitation.id),
        expires_ms,
        ttl: None,
        invitation: invitation.clone(),
    };
    let email_copy = InvitationItem {
        pk: invitee_pk(&invitation.email),
        sk: format!("{INVITE_PREFIX}{}", invitation.id),
        expires_ms,
        ttl: Some(invitation.expires_at.unix_seconds()),
        invitation: invitation.clone(),
    };
    Ok([put_if_absent(table, to_item(&list_copy)?)?, put_if_absent(table, to_item(&email_copy)?)?])
}

/// Items before `first` in a transaction are the optional owner check: where it failed.
fn owner_refused(cancelled: &super::Cancelled, checked: bool) -> bool {
    checked && cancelled.failed_at(0)
}

#[async_trait]
impl SharingStore for DynamoStore {
    /// One `Query` of the list's member items (a page).
    async fn list_members(&self, list: ListId, page: PageRequest<UserId>) -> StoreResult<Page<Membership, UserId>> {
        let (items, next) = self.prefix_page(&list_pk(list), MEMBER_PREFIX, page.limit, page.after, UserId::parse).await?;
        let items =
            items.into_iter().map(|item| from_item::<MembershipItem>(item).map(|item| item.membership)).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page { items, next })
    }

    /// One `TransactWriteItems`: the owner check, both copies of the membership.
    async fn set_member_role(&self, owner: UserId, list: ListId, member: UserId, role: SharedRole) -> StoreResult<()> {
        if owner == member {
            // One transaction cannot check and change one item; the owner's role never changes.
            return Err(match self.member_role(list, owner).await? {
                Some(Role::Owner) => StoreError::NotFound,
                _ => StoreError::AccessDenied,
            });
        }
        let update = |key: Item, condition: &str| -> StoreResult<TransactWriteItem> {
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key))
                .update_expression("SET #role = :role")
                .condition_expression(condition)
                .expression_attribute_names("#role", "role")
                .expression_attribute_values(":role", s(role.as_str()));
            let update =
                if condition.contains(":owner") { update.expression_attribute_values(":owner", s(Role::Owner.as_str())) } else { update };
            Ok(TransactWriteItem::builder().update(update.build().map_err(StoreError::backend)?).build())
        };
        let items = vec![
            owner_check(&self.table, list, owner)?,
            update(member_key(list, member), "attribute_exists(PK) AND #role <> :owner")?,
            update(membership_key(member, list), "attribute_exists(PK)")?,
        ];
        match self.transact(items, "member role change").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed_at(0) => Err(StoreError::AccessDenied),
            Err(cancelled) if cancelled.failed_at(1) || cancelled.failed_at(2) => Err(StoreError::NotFound),
            Err(cancelled) => Err(cancelled.unexpected("member role change")),
        }
    }

    /// One `TransactWriteItems`: the owner check (unless leaving), both copies of the
    /// membership, a seat freed.
    async fn remove_member(&self, by: UserId, list: ListId, member: UserId) -> StoreResult<()> {
        let checked = by != member;
        let mut items = Vec::with_capacity(4);
        if checked {
            items.push(owner_check(&self.table, list, by)?);
        }
        let member_delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(member_key(list, member)))
            .condition_expression("attribute_exists(PK) AND #role <> :owner")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":owner", s(Role::Owner.as_str()))
            .build()
            .map_err(StoreError::backend)?;
        items.push(TransactWriteItem::builder().delete(member_delete).build());
        items.push(delete(&self.table, membership_key(member, list), None)?);
        items.push(seat_change(&self.table, list, -1, None)?);
        match self.transact(items, "member removal").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if owner_refused(&cancelled, checked) => Err(StoreError::AccessDenied),
            Err(cancelled) if cancelled.failed_at(usize::from(checked)) => Err(StoreError::NotFound),
            Err(cancelled) => Err(cancelled.unexpected("member removal")),
        }
    }

    /// One `TransactWriteItems`: the owner check; the replaced invitation's copies deleted,
    /// or a seat taken; the new invitation's copies.
    async fn create_invitation(&self, invitation: &Invitation, replaces: Option<&Invitation>, max_seats: u32) -> StoreResult<()> {
        let list = invitation.list_id;
        let mut items = vec![owner_check(&self.table, list, invitation.invited_by)?];
        match replaces {
            Some(earlier) => {
                items.push(delete(&self.table, list_copy_key(earlier), Some("attribute_exists(PK)"))?);
                items.push(delete(&self.table, email_copy_key(earlier), None)?);
            }
            None => items.push(seat_change(&self.table, list, 1, Some(max_seats))?),
        }
        items.extend(put_invitation(&self.table, invitation)?);
        match self.transact(items, "invitation").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed_at(0) => Err(StoreError::AccessDenied),
            Err(cancelled) if cancelled.failed_at(1) => {
                Err(if replaces.is_some() { StoreError::NotFound } else { StoreError::LimitReached })
            }
            Err(cancelled) => Err(cancelled.unexpected("invitation")),
        }
    }

    /// One `Query` per 1 MB of the list's invitations (at most its seats).
    async fn list_invitations(&self, list: ListId) -> StoreResult<Vec<Invitation>> {
        let items = self.partition_items(&list_pk(list), INVITE_PREFIX).await?;
        items.into_iter().map(|item| from_item::<InvitationItem>(item).map(|item| item.invitation)).collect()
    }

    /// One `GetItem` of the list's copy.
    async fn get_list_invitation(&self, list: ListId, id: InvitationId) -> StoreResult<Option<Invitation>> {
        Ok(self.get::<InvitationItem>(list_pk(list), format!("{INVITE_PREFIX}{id}")).await?.map(|item| item.invitation))
    }

    /// One `GetItem` of the email's copy.
    async fn get_invitation(&self, email: &Email, id: InvitationId) -> StoreResult<Option<Invitation>> {
        Ok(self.get::<InvitationItem>(invitee_pk(email), format!("{INVITE_PREFIX}{id}")).await?.map(|item| item.invitation))
    }

    /// One `Query` of the email's copies (a page), expired ones dropped after the read
    /// (the TTL removes them within days).
    async fn invitations_for(
        &self,
        email: &Email,
        now: Timestamp,
        page: PageRequest<InvitationId>,
    ) -> StoreResult<Page<Invitation, InvitationId>> {
        let (found, next) = self.prefix_page(&invitee_pk(email), INVITE_PREFIX, page.limit, page.after, InvitationId::parse).await?;
        let mut items = Vec::new();
        for item in found {
            let invitation = from_item::<InvitationItem>(item)?.invitation;
            if !invitation.is_expired(now) {
                items.push(invitation);
            }
        }
        Ok(Page { items, next })
    }

    /// One `TransactWriteItems`: the owner check (when revoking), both copies, a seat freed.
    async fn delete_invitation(&self, by: Option<UserId>, invitation: &Invitation) -> StoreResult<()> {
        let mut items = Vec::with_capacity(4);
        if let Some(owner) = by {
            items.push(owner_check(&self.table, invitation.list_id, owner)?);
        }
        let checked = by.is_some();
        items.push(delete(&self.table, list_copy_key(invitation), Some("attribute_exists(PK)"))?);
        items.push(delete(&self.table, email_copy_key(invitation), None)?);
        items.push(seat_change(&self.table, invitation.list_id, -1, None)?);
        match self.transact(items, "invitation removal").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if owner_refused(&cancelled, checked) => Err(StoreError::AccessDenied),
            Err(cancelled) if cancelled.failed_at(usize::from(checked)) => Err(StoreError::NotFound),
            Err(cancelled) => Err(cancelled.unexpected("invitation removal")),
        }
    }

    /// One `TransactWriteItems`: the list's copy deleted if unexpired, the email's copy
    /// deleted, both copies of the new membership put, the account checked, and the inviter
    /// still the list's owner (a list being deleted loses its owner's member item first, so
    /// nobody joins it after its members were removed).
    async fn accept_invitation(&self, invitation: &Invitation, user: UserId, now: Timestamp) -> StoreResult<()> {
        if user == invitation.invited_by {
            // One transaction cannot both check the owner's member item and put it: the same
            // answers from reads (the owner is already a member of their list).
            let live = self
                .get::<InvitationItem>(list_pk(invitation.list_id), format!("{INVITE_PREFIX}{}", invitation.id))
                .await?
                .is_some_and(|item| item.expires_ms > now.unix_millis());
            let owner = self.member_role(invitation.list_id, user).await? == Some(Role::Owner);
            return Err(if live && owner { StoreError::AlreadyExists } else { StoreError::NotFound });
        }
        let list_copy = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(list_copy_key(invitation)))
            .condition_expression("attribute_exists(PK) AND expires_ms > :now")
            .expression_attribute_values(":now", n(now.unix_millis()))
            .build()
            .map_err(StoreError::backend)?;
        let profile = super::users::account_check(&self.table, user)?;
        let [member, membership] = membership_items(Membership::new(invitation.list_id, user, invitation.role.into()))?;
        let items = vec![
            TransactWriteItem::builder().delete(list_copy).build(),
            delete(&self.table, email_copy_key(invitation), None)?,
            put_if_absent(&self.table, member)?,
            put_if_absent(&self.table, membership)?,
            profile,
            owner_check(&self.table, invitation.list_id, invitation.invited_by)?,
        ];
        match self.transact(items, "invitation acceptance").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed_at(0) || cancelled.failed_at(5) => Err(StoreError::NotFound),
            Err(cancelled) if cancelled.failed_at(4) => Err(StoreError::OwnerMissing),
            Err(cancelled) if cancelled.failed_at(2) || cancelled.failed_at(3) => Err(StoreError::AlreadyExists),
            Err(cancelled) => Err(cancelled.unexpected("invitation acceptance")),
        }
    }
}
