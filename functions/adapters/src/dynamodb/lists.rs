use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use serde::{Deserialize, Serialize};
use todo_domain::model::{ListId, ListPosition, Membership, Role, TaskList, Timestamp, UserId};
use todo_domain::ports::{CreateOutcome, IdempotencyRecord, ListStore, StoreError, StoreResult, Writer};

use super::{Cancelled, DynamoStore, Item, backend, from_item, key, list_pk, n, put_if_absent, s, to_item, user_pk};

const LIST_SK: &str = "LIST";
/// How many lists a user owns besides the Inbox, under their user partition.
pub(crate) const LIST_COUNT_SK: &str = "LISTCOUNT";
pub(super) const MEMBER_PREFIX: &str = "MEMBER#";
/// A list deletion marker's sort key prefix, in the `DELETIONS` partition.
const DELETED_LIST_PREFIX: &str = "LIST#";

#[derive(Serialize, Deserialize)]
struct ListDeletionMarker {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    list_id: ListId,
    owner: UserId,
    deleted_at: Timestamp,
}

fn deletion_key(list: ListId) -> Item {
    key(super::DELETIONS.to_owned(), format!("{DELETED_LIST_PREFIX}{list}"))
}

/// The list a deletion marker's keys name, if these are a list marker's keys.
pub(crate) fn deleted_list(pk: &str, sk: &str) -> Option<ListId> {
    (pk == super::DELETIONS).then(|| sk.strip_prefix(DELETED_LIST_PREFIX).and_then(|id| ListId::parse(id).ok())).flatten()
}
pub(super) const MEMBERSHIP_PREFIX: &str = "MEMBERSHIP#";

#[derive(Serialize, Deserialize)]
struct ListItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(flatten)]
    list: TaskList,
}

/// A membership, stored twice: under the list (`MEMBER#<uid>`: the access check) and under
/// the user (`MEMBERSHIP#<lid>`: their lists in one query).
#[derive(Serialize, Deserialize)]
pub(super) struct MembershipItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    /// On the keeper's index entry of a list being deleted: kept to resume the deletion,
    /// no longer a list of theirs to show.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    deleting: bool,
    #[serde(flatten)]
    pub(super) membership: Membership,
}

pub(super) fn member_key(list: ListId, user: UserId) -> Item {
    key(list_pk(list), format!("{MEMBER_PREFIX}{user}"))
}

pub(super) fn membership_key(user: UserId, list: ListId) -> Item {
    key(user_pk(user), format!("{MEMBERSHIP_PREFIX}{list}"))
}

pub(super) fn membership_items(membership: Membership) -> StoreResult<[Item; 2]> {
    let Membership { list_id, user_id, .. } = membership;
    Ok([
        to_item(&MembershipItem { pk: list_pk(list_id), sk: format!("{MEMBER_PREFIX}{user_id}"), deleting: false, membership })?,
        to_item(&MembershipItem { pk: user_pk(user_id), sk: format!("{MEMBERSHIP_PREFIX}{list_id}"), deleting: false, membership })?,
    ])
}

/// The transaction items that create a list with its owner's membership (three puts).
pub(crate) fn new_list_items(table: &str, list: &TaskList) -> StoreResult<Vec<TransactWriteItem>> {
    let owner = Membership::new(list.id, list.owner, Role::Owner);
    let [member, membership] = membership_items(owner)?;
    Ok(vec![
        put_if_absent(table, to_item(&ListItem { pk: list_pk(list.id), sk: LIST_SK.to_owned(), list: list.clone() })?)?,
        put_if_absent(table, member)?,
        put_if_absent(table, membership)?,
    ])
}

/// For a member's write: a `ConditionCheck` that they are (still) a member whose role
/// writes tasks, to put in the write's transaction. `None` for the system.
pub(crate) fn writer_check(table: &str, writer: Writer) -> StoreResult<Option<TransactWriteItem>> {
    let Writer::Member { user, list } = writer else { return Ok(None) };
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(member_key(list, user)))
        .condition_expression("#role IN (:owner, :editor)")
        .expression_attribute_names("#role", "role")
        .expression_attribute_values(":owner", s(Role::Owner.as_str()))
        .expression_attribute_values(":editor", s(Role::Editor.as_str()))
        .build()
        .map_err(StoreError::backend)?;
    Ok(Some(TransactWriteItem::builder().condition_check(check).build()))
}

impl DynamoStore {
    /// One strongly consistent `BatchGetItem` per 100 keys (unprocessed keys retried).
    pub(super) async fn batch_get(&self, keys: Vec<Item>) -> StoreResult<Vec<Item>> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder().set_keys(Some(chunk.to_vec())).consistent_read(true).build().map_err(StoreError::backend)?,
            );
            // Bounded well inside a function's 10 s: 5 attempts, 0.75 s of backoff in all.
            for attempt in 0..5u32 {
                let Some(request) = pending.take() else { break };
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(50 << (attempt - 1))).await;
                }
                let output = self.client.batch_get_item().request_items(&self.table, request).send().await.map_err(backend)?;
                found.extend(output.responses.and_then(|mut responses| responses.remove(&self.table)).unwrap_or_default());
                pending = output
                    .unprocessed_keys
                    .and_then(|mut unprocessed| unprocessed.remove(&self.table))
                    .filter(|keys| !keys.keys.is_empty());
            }
            if pending.is_some() {
                return Err(StoreError::unavailable(anyhow::anyhow!("list reads still unprocessed after retries")));
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl ListStore for DynamoStore {
    /// One `TransactWriteItems`: the owner's profile exists, their list count is under the
    /// limit (and goes up by one), the list, member and membership items are new; with a
    /// key, its record is new (or expired).
    async fn create_list(
        &self,
        list: &TaskList,
        max_owned: u32,
        idempotency: Option<&IdempotencyRecord>,
        now: Timestamp,
    ) -> StoreResult<CreateOutcome> {
        let profile = super::users::account_check(&self.table, list.owner)?;
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(list.owner), LIST_COUNT_SK.to_owned())))
            .update_expression("ADD #count :one")
            .condition_expression("attribute_not_exists(#count) OR #count < :max")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max_owned))
            .build()
            .map_err(StoreError::backend)?;
        let mut items = vec![profile, TransactWriteItem::builder().update(count).build()];
        items.extend(new_list_items(&self.table, list)?);
        let refused = |cancelled: &Cancelled| cancelled.failed_at(0).then_some(StoreError::OwnerMissing);
        let conflict = |cancelled: &Cancelled| {
            if cancelled.failed_at(1) {
                StoreError::LimitReached
            } else if (2..5).any(|index| cancelled.failed_at(index)) {
                StoreError::AlreadyExists
            } else {
                cancelled.unexpected("list creation")
            }
        };
        self.create_idempotently(items, idempotency, now, "list creation", refused, conflict).await
    }

    /// One `TransactWriteItems`: the member check and the list if still at its version.
    async fn update_list(&self, writer: Writer, list: &TaskList, expected_version: u64) -> StoreResult<()> {
        writer.check_list(list.id)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&ListItem { pk: list_pk(list.id), sk: LIST_SK.to_owned(), list: list.clone() })?))
            .condition_expression("version = :expected")
            .expression_attribute_values(":expected", n(expected_version))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(StoreError::backend)?;
        let mut items: Vec<TransactWriteItem> = writer_check(&self.table, writer)?.into_iter().collect();
        let checked = items.len();
        items.push(TransactWriteItem::builder().put(put).build());
        match self.transact(items, "list update").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if checked == 1 && cancelled.failed_at(0) => Err(StoreError::AccessDenied),
            Err(cancelled) if cancelled.failed_at(checked) => {
                Err(if cancelled.existed_at(checked) { StoreError::VersionMismatch } else { StoreError::NotFound })
            }
            Err(cancelled) => Err(cancelled.unexpected("list update")),
        }
    }

    /// One `BatchGetItem` (≤ 100 ids; more take one per 100).
    async fn get_lists(&self, ids: &[ListId]) -> StoreResult<Vec<TaskList>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys = ids.iter().map(|id| key(list_pk(*id), LIST_SK.to_owned())).collect();
        self.batch_get(keys).await?.into_iter().map(|item| from_item::<ListItem>(item).map(|item| item.list)).collect()
    }

    /// One `GetItem`.
    async fn get_list(&self, id: ListId) -> StoreResult<Option<TaskList>> {
        Ok(self.get::<ListItem>(list_pk(id), LIST_SK.to_owned()).await?.map(|item| item.list))
    }

    /// One `GetItem` of the member item.
    async fn membership(&self, list: ListId, user: UserId) -> StoreResult<Option<Membership>> {
        Ok(self.get::<MembershipItem>(list_pk(list), format!("{MEMBER_PREFIX}{user}")).await?.map(|item| item.membership))
    }

    /// One `TransactWriteItems`: the position on both copies of the membership (the member
    /// item answers `GET /lists/{id}`, the index entry `GET /lists`), each conditional on
    /// existing, so a removed member's position is never written back.
    async fn set_position(&self, list: ListId, user: UserId, position: Option<ListPosition>) -> StoreResult<()> {
        let update = |key: Item| {
            let builder = Update::builder().table_name(&self.table).set_key(Some(key)).condition_expression("attribute_exists(PK)");
            match position {
                Some(position) => {
                    builder.update_expression("SET #position = :position").expression_attribute_values(":position", n(position.get()))
                }
                None => builder.update_expression("REMOVE #position"),
            }
            .expression_attribute_names("#position", "position")
            .build()
            .map(|update| TransactWriteItem::builder().update(update).build())
            .map_err(StoreError::backend)
        };
        let items = vec![update(member_key(list, user))?, update(membership_key(user, list))?];
        match self.transact(items, "list position change").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed_at(0) || cancelled.failed_at(1) => Err(StoreError::NotFound),
            Err(cancelled) => Err(cancelled.unexpected("list position change")),
        }
    }

    /// One `Query` per 1 MB of the user's membership index.
    async fn memberships(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        let items = self.partition_items(&user_pk(user), MEMBERSHIP_PREFIX).await?;
        items.into_iter().map(|item| from_item::<MembershipItem>(item).map(|item| item.membership)).collect()
    }

    /// The same query, lists being deleted left out.
    async fn readable_lists(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        let mut readable = Vec::new();
        for item in self.partition_items(&user_pk(user), MEMBERSHIP_PREFIX).await? {
            let item = from_item::<MembershipItem>(item)?;
            if !item.deleting {
                readable.push(item.membership);
            }
        }
        Ok(readable)
    }

    /// The keeper's (the owner's) member item first: from then on nobody is invited or joins
    /// (both are conditional on it). Then one `Query` of the other members and one of the
    /// invitations, and batched deletes in an order a retry can resume from: the emails'
    /// copies of the invitations, the list's copies, the members' membership index entries
    /// (but the keeper's), their member items, and last the seat count (every change to it
    /// is conditional on one of those items, so nothing writes it again).
    async fn delete_list_members(&self, list: ListId, keeper: UserId) -> StoreResult<()> {
        self.delete_keys(vec![member_key(list, keeper)]).await?;
        // The keeper's index entry stays to resume from, marked: no longer a list to show.
        let flagged = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(membership_key(keeper, list)))
            .update_expression("SET deleting = :yes")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await;
        if let Err(error) = flagged {
            // Already gone: the deletion's last step ran.
            if !error
                .as_service_error()
                .is_some_and(aws_sdk_dynamodb::operation::update_item::UpdateItemError::is_conditional_check_failed_exception)
            {
                return Err(backend(error));
            }
        }
        let members = self
            .partition_items(&list_pk(list), MEMBER_PREFIX)
            .await?
            .into_iter()
            .map(|item| from_item::<MembershipItem>(item).map(|item| item.membership.user_id))
            .collect::<StoreResult<Vec<_>>>()?;
        let (email_copies, list_copies) = super::sharing::invitation_keys(self, list).await?;
        let index_entries = members.iter().filter(|member| **member != keeper).map(|member| membership_key(*member, list)).collect();
        let member_items = members.iter().map(|member| member_key(list, *member)).collect();
        for keys in [email_copies, list_copies, index_entries, member_items, vec![super::sharing::seats_key(list)]] {
            self.delete_keys(keys).await?;
        }
        Ok(())
    }

    /// One `TransactWriteItems`: the list item (if still there), the keeper's membership
    /// index entry, the list's deletion marker and, for a list other than the Inbox, one off
    /// its owner's list count. A retry after the list went deletes the other two only.
    async fn delete_list(&self, list: ListId, keeper: UserId) -> StoreResult<()> {
        let delete = |key: Item, condition: Option<&str>| -> StoreResult<TransactWriteItem> {
            let delete =
                Delete::builder().table_name(&self.table).set_key(Some(key)).set_condition_expression(condition.map(str::to_owned));
            Ok(TransactWriteItem::builder().delete(delete.build().map_err(StoreError::backend)?).build())
        };
        let mut items = vec![
            delete(key(list_pk(list), LIST_SK.to_owned()), Some("attribute_exists(PK)"))?,
            delete(membership_key(keeper, list), None)?,
            delete(deletion_key(list), None)?,
        ];
        if list != ListId::inbox_of(keeper) {
            let count = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(user_pk(keeper), LIST_COUNT_SK.to_owned())))
                .update_expression("ADD #count :minus_one")
                .expression_attribute_names("#count", "count")
                .expression_attribute_values(":minus_one", n(-1))
                .build()
                .map_err(StoreError::backend)?;
            items.push(TransactWriteItem::builder().update(count).build());
        }
        match self.transact(items, "list deletion").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed_at(0) => self.delete_keys(vec![membership_key(keeper, list), deletion_key(list)]).await,
            Err(cancelled) => Err(cancelled.unexpected("list deletion")),
        }
    }

    /// One `TransactWriteItems`: the owner's member item still says owner, and the marker.
    async fn mark_list_deleted(&self, list: &TaskList, at: Timestamp) -> StoreResult<()> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(member_key(list.id, list.owner)))
            .condition_expression("#role = :owner")
            .expression_attribute_names("#role", "role")
            .expression_attribute_values(":owner", s(Role::Owner.as_str()))
            .build()
            .map_err(StoreError::backend)?;
        let marker = ListDeletionMarker {
            pk: super::DELETIONS.to_owned(),
            sk: format!("{DELETED_LIST_PREFIX}{}", list.id),
            list_id: list.id,
            owner: list.owner,
            deleted_at: at,
        };
        let put = Put::builder().table_name(&self.table).set_item(Some(to_item(&marker)?)).build().map_err(StoreError::backend)?;
        let items = vec![TransactWriteItem::builder().condition_check(check).build(), TransactWriteItem::builder().put(put).build()];
        match self.transact(items, "list deletion marker").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed_at(0) => Err(StoreError::AccessDenied),
            Err(cancelled) => Err(cancelled.unexpected("list deletion marker")),
        }
    }

    /// One `Query` of the deletion-marker partition's lists.
    async fn pending_list_deletions(&self, limit: u32) -> StoreResult<Vec<ListId>> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :lists)")
            .expression_attribute_values(":pk", s(super::DELETIONS))
            .expression_attribute_values(":lists", s(DELETED_LIST_PREFIX))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<ListDeletionMarker>(item).map(|marker| marker.list_id))
            .collect()
    }
}
