use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use serde::{Deserialize, Serialize};
use todo_domain::model::{Email, SessionId, TaskList, Timestamp, User, UserId};
use todo_domain::ports::{StoreError, StoreResult, UserStore};

use super::{DynamoStore, Item, backend, from_item, key, n, s, to_item, user_pk};

const PROFILE: &str = "PROFILE";
const EMAIL: &str = "EMAIL";
/// The partition of deletion markers, of accounts (`USER#<uid>`) and lists (`LIST#<lid>`):
/// few items, one per deletion in progress.
/// The `account-purge` function's stream filter in `template.yaml` names it too (a test checks).
pub const DELETIONS: &str = "DELETIONS";

#[derive(Serialize, Deserialize)]
struct DeletionMarker {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    user_id: UserId,
    deleted_at: Timestamp,
}

fn deletion_sk(user: UserId) -> String {
    format!("USER#{user}")
}

/// The account a deletion marker's keys name, if these are a marker's keys.
pub(crate) fn deleted_account(pk: &str, sk: &str) -> Option<UserId> {
    (pk == DELETIONS).then(|| sk.strip_prefix("USER#").and_then(|id| UserId::parse(id).ok())).flatten()
}

#[derive(Serialize, Deserialize)]
struct ProfileItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(flatten)]
    user: User,
}

#[derive(Serialize, Deserialize)]
struct EmailGuardItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    user_id: UserId,
}

/// For a write on behalf of `user`: a `ConditionCheck` that the account still exists (not
/// deleted while one of its access tokens still verifies), to put in the write's transaction.
pub(crate) fn account_check(table: &str, user: UserId) -> StoreResult<TransactWriteItem> {
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key(user_pk(user), PROFILE.to_owned())))
        .condition_expression("attribute_exists(PK)")
        .build()
        .map_err(StoreError::backend)?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

fn email_pk(email: &Email) -> String {
    format!("EMAIL#{}", email.as_str())
}

fn profile_item(user: &User) -> StoreResult<Item> {
    to_item(&ProfileItem { pk: user_pk(user.id), sk: PROFILE.to_owned(), user: user.clone() })
}

fn guard_item(user: &User) -> StoreResult<Item> {
    to_item(&EmailGuardItem { pk: email_pk(&user.email), sk: EMAIL.to_owned(), user_id: user.id })
}

fn put(table: &str, item: Item, condition: &str) -> StoreResult<TransactWriteItem> {
    Ok(TransactWriteItem::builder()
        .put(Put::builder().table_name(table).set_item(Some(item)).condition_expression(condition).build().map_err(StoreError::backend)?)
        .build())
}

impl DynamoStore {
    async fn get_profile(&self, id: UserId) -> StoreResult<Option<User>> {
        Ok(self.get::<ProfileItem>(user_pk(id), PROFILE.to_owned()).await?.map(|profile| profile.user))
    }
}

#[async_trait]
impl UserStore for DynamoStore {
    /// One `TransactWriteItems`: the profile and the email guard, both conditional on not
    /// existing, so one email can never belong to two accounts; and the Inbox (list, member,
    /// membership index entry).
    async fn insert_user(&self, user: &User, inbox: &TaskList) -> StoreResult<()> {
        let mut items = vec![
            put(&self.table, profile_item(user)?, "attribute_not_exists(PK)")?,
            put(&self.table, guard_item(user)?, "attribute_not_exists(PK)")?,
        ];
        items.extend(super::lists::new_list_items(&self.table, inbox)?);
        match self.transact(items, "sign-up").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed_at(0) || cancelled.failed_at(1) => Err(StoreError::AlreadyExists),
            Err(cancelled) => Err(cancelled.unexpected("sign-up")),
        }
    }

    /// One `GetItem`.
    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>> {
        self.get_profile(id).await
    }

    /// Two `GetItem`s: the email guard, then the profile it points to.
    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
        let Some(guard) = self.get::<EmailGuardItem>(email_pk(email), EMAIL.to_owned()).await? else {
            return Ok(None);
        };
        Ok(self.get_profile(guard.user_id).await?.filter(|user| user.email == *email))
    }

    /// A conditional `PutItem`; an email change or a kept session: one `TransactWriteItems`
    /// (profile, the old and new email guards, the session's `credentials_version`). A
    /// session gone or revoked meanwhile is left out and the write tried again without it.
    async fn replace_user(&self, current: &User, user: &User, keep: Option<SessionId>) -> StoreResult<()> {
        let expected_version = current.version;
        let version_condition = "attribute_exists(PK) AND version = :expected";
        if current.email == user.email && keep.is_none() {
            return self.put_if(profile_item(user)?, version_condition, &[(":expected", n(expected_version))]).await;
        }
        let profile = Put::builder()
            .table_name(&self.table)
            .set_item(Some(profile_item(user)?))
            .condition_expression(version_condition)
            .expression_attribute_values(":expected", n(expected_version))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(StoreError::backend)?;
        let mut items = vec![TransactWriteItem::builder().put(profile).build()];
        let email_changed = current.email != user.email;
        if email_changed {
            let old_guard = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(email_pk(&current.email), EMAIL.to_owned())))
                .condition_expression("user_id = :user")
                .expression_attribute_values(":user", s(user.id.to_string()))
                .build()
                .map_err(StoreError::backend)?;
            items.push(TransactWriteItem::builder().delete(old_guard).build());
            items.push(put(&self.table, guard_item(user)?, "attribute_not_exists(PK)")?);
        }
        let kept_at = items.len();
        if let Some(session) = keep {
            items.push(super::sessions::move_to_credentials(&self.table, user.id, session, user.credentials_version)?);
        }
        match self.transact(items, "profile change").await? {
            Ok(()) => Ok(()),
            // Gone (deleted while the password was checked) is not the same as changed.
            Err(cancelled) if cancelled.failed_at(0) && !cancelled.existed_at(0) => Err(StoreError::NotFound),
            Err(cancelled) if cancelled.failed_at(0) || (email_changed && cancelled.failed_at(1)) => Err(StoreError::VersionMismatch),
            Err(cancelled) if email_changed && cancelled.failed_at(2) => Err(StoreError::AlreadyExists),
            Err(cancelled) if keep.is_some() && cancelled.failed_at(kept_at) => Box::pin(self.replace_user(current, user, None)).await,
            Err(cancelled) => Err(cancelled.unexpected("profile change")),
        }
    }

    /// One `TransactWriteItems`: the profile and its email guard go, the deletion marker
    /// appears.
    async fn delete_user(&self, user: &User, at: Timestamp) -> StoreResult<()> {
        let profile = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user.id), PROFILE.to_owned())))
            .build()
            .map_err(StoreError::backend)?;
        // Only this user's guard: never free an email someone else has taken since.
        let guard = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(email_pk(&user.email), EMAIL.to_owned())))
            .condition_expression("attribute_not_exists(PK) OR user_id = :user")
            .expression_attribute_values(":user", s(user.id.to_string()))
            .build()
            .map_err(StoreError::backend)?;
        let marker = to_item(&DeletionMarker { pk: DELETIONS.to_owned(), sk: deletion_sk(user.id), user_id: user.id, deleted_at: at })?;
        let marker = Put::builder().table_name(&self.table).set_item(Some(marker)).build().map_err(StoreError::backend)?;
        let items = vec![
            TransactWriteItem::builder().delete(profile.clone()).build(),
            TransactWriteItem::builder().put(marker.clone()).build(),
            TransactWriteItem::builder().delete(guard).build(),
        ];
        match self.transact(items, "account deletion").await? {
            Ok(()) => Ok(()),
            // The email already belongs to a newer account: leave its guard alone.
            Err(cancelled) if cancelled.failed_at(2) => {
                let items = vec![TransactWriteItem::builder().delete(profile).build(), TransactWriteItem::builder().put(marker).build()];
                self.transact(items, "account deletion").await?.map_err(|cancelled| cancelled.unexpected("account deletion"))
            }
            Err(cancelled) => Err(cancelled.unexpected("account deletion")),
        }
    }

    /// Two `DeleteItem`s: the list counter, then the marker (last: it is what says work remains).
    async fn finish_deletion(&self, user: UserId) -> StoreResult<()> {
        for item_key in [key(user_pk(user), super::lists::LIST_COUNT_SK.to_owned()), key(DELETIONS.to_owned(), deletion_sk(user))] {
            self.client.delete_item().table_name(&self.table).set_key(Some(item_key)).send().await.map_err(backend)?;
        }
        Ok(())
    }

    /// One `Query` of the (small) deletion-marker partition's accounts.
    async fn pending_deletions(&self, limit: u32) -> StoreResult<Vec<UserId>> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :accounts)")
            .expression_attribute_values(":pk", s(DELETIONS))
            .expression_attribute_values(":accounts", s("USER#"))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        output.items.unwrap_or_default().into_iter().map(|item| from_item::<DeletionMarker>(item).map(|marker| marker.user_id)).collect()
    }

    /// One `BatchGetItem` of the profiles.
    async fn get_users(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        let keys = ids.iter().map(|id| key(user_pk(*id), PROFILE.to_owned())).collect();
        self.batch_get(keys).await?.into_iter().map(|item| from_item::<ProfileItem>(item).map(|profile| profile.user)).collect()
    }
}
