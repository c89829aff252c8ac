use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem};
use serde::{Deserialize, Serialize};
use todo_domain::model::{ListId, Membership, Role, TaskList, UserId};
use todo_domain::ports::{ListStore, StoreError, StoreResult, Writer};

use super::{DynamoStore, Item, from_item, key, list_pk, put_if_absent, s, to_item, user_pk};

const LIST_SK: &str = "LIST";
const MEMBER_PREFIX: &str = "MEMBER#";
const MEMBERSHIP_PREFIX: &str = "MEMBERSHIP#";

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
struct MembershipItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(flatten)]
    membership: Membership,
}

fn member_key(list: ListId, user: UserId) -> Item {
    key(list_pk(list), format!("{MEMBER_PREFIX}{user}"))
}

fn membership_key(user: UserId, list: ListId) -> Item {
    key(user_pk(user), format!("{MEMBERSHIP_PREFIX}{list}"))
}

fn membership_items(membership: Membership) -> StoreResult<[Item; 2]> {
    let Membership { list_id, user_id, .. } = membership;
    Ok([
        to_item(&MembershipItem { pk: list_pk(list_id), sk: format!("{MEMBER_PREFIX}{user_id}"), membership })?,
        to_item(&MembershipItem { pk: user_pk(user_id), sk: format!("{MEMBERSHIP_PREFIX}{list_id}"), membership })?,
    ])
}

/// The transaction items that create a list with its owner's membership (three puts).
pub(crate) fn new_list_items(table: &str, list: &TaskList) -> StoreResult<Vec<TransactWriteItem>> {
    let owner = Membership { list_id: list.id, user_id: list.owner, role: Role::Owner };
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

#[async_trait]
impl ListStore for DynamoStore {
    /// One `GetItem`.
    async fn get_list(&self, id: ListId) -> StoreResult<Option<TaskList>> {
        Ok(self.get::<ListItem>(list_pk(id), LIST_SK.to_owned()).await?.map(|item| item.list))
    }

    /// One `GetItem` of the member item.
    async fn member_role(&self, list: ListId, user: UserId) -> StoreResult<Option<Role>> {
        Ok(self.get::<MembershipItem>(list_pk(list), format!("{MEMBER_PREFIX}{user}")).await?.map(|item| item.membership.role))
    }

    /// One `Query` per 1 MB of the user's membership index.
    async fn memberships(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        let items = self.partition_items(&user_pk(user), MEMBERSHIP_PREFIX).await?;
        items.into_iter().map(|item| from_item::<MembershipItem>(item).map(|item| item.membership)).collect()
    }

    /// One `Query` of the list's members, then batched deletes of their member items and
    /// (but the keeper's) membership index entries.
    async fn delete_list_members(&self, list: ListId, keeper: UserId) -> StoreResult<()> {
        let members = self.partition_items(&list_pk(list), MEMBER_PREFIX).await?;
        let mut keys = Vec::with_capacity(members.len() * 2);
        for item in members {
            let member = from_item::<MembershipItem>(item)?.membership;
            keys.push(member_key(list, member.user_id));
            if member.user_id != keeper {
                keys.push(membership_key(member.user_id, list));
            }
        }
        self.delete_keys(keys).await
    }

    /// One `BatchWriteItem`: the list item and the keeper's membership index entry.
    async fn delete_list(&self, list: ListId, keeper: UserId) -> StoreResult<()> {
        self.delete_keys(vec![key(list_pk(list), LIST_SK.to_owned()), membership_key(keeper, list)]).await
    }
}
