use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use todo_domain::model::{SessionId, Timestamp, UserId};
use todo_domain::ports::{Session, SessionStore, StoreError, StoreResult};

use super::{DynamoStore, from_item, key, n, s, to_item, user_pk};

const PREFIX: &str = "SESSION#";

#[derive(Serialize, Deserialize)]
struct SessionItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    /// Epoch seconds; DynamoDB's TTL removes expired sessions.
    ttl: i64,
    #[serde(flatten)]
    session: Session,
}

/// For a password change's transaction: the session moves to `credentials_version` if it
/// exists unrevoked (`SET` of that one attribute: a refresh racing it writes the whole item
/// back with the old version, and that session then ends like the others — safe).
pub(crate) fn move_to_credentials(table: &str, user: UserId, id: SessionId, credentials_version: u64) -> StoreResult<TransactWriteItem> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key(user_pk(user), session_sk(id))))
        .update_expression("SET credentials_version = :version")
        .condition_expression("attribute_exists(PK) AND (attribute_not_exists(revoked_at) OR attribute_type(revoked_at, :null))")
        .expression_attribute_values(":version", n(credentials_version))
        .expression_attribute_values(":null", s("NULL"))
        .build()
        .map_err(StoreError::backend)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

fn session_sk(id: SessionId) -> String {
    format!("{PREFIX}{id}")
}

impl SessionItem {
    fn of(session: &Session) -> Self {
        Self { pk: user_pk(session.user_id), sk: session_sk(session.id), ttl: session.expires_at.unix_seconds(), session: session.clone() }
    }
}

#[async_trait]
impl SessionStore for DynamoStore {
    /// One `PutItem`.
    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&SessionItem::of(session))?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match super::expected_error(error, PutItemError::is_conditional_check_failed_exception)? {
                PutItemError::ConditionalCheckFailedException(_) => Err(StoreError::AlreadyExists),
                other => Err(StoreError::backend(other)),
            },
        }
    }

    /// One `GetItem`.
    async fn get_session(&self, user_id: UserId, id: SessionId) -> StoreResult<Option<Session>> {
        Ok(self.get::<SessionItem>(user_pk(user_id), session_sk(id)).await?.map(|item| item.session))
    }

    /// One conditional `PutItem`.
    async fn rotate_session(&self, rotated: &Session, expected_generation: u64) -> StoreResult<()> {
        self.put_if(
            to_item(&SessionItem::of(rotated))?,
            "attribute_exists(PK) AND generation = :expected AND (attribute_not_exists(revoked_at) OR attribute_type(revoked_at, :null))",
            &[(":expected", n(expected_generation)), (":null", s("NULL"))],
        )
        .await
    }

    /// One conditional `UpdateItem`; the first revocation time is kept.
    async fn revoke_session(&self, user_id: UserId, id: SessionId, at: Timestamp) -> StoreResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user_id), session_sk(id))))
            .update_expression("SET revoked_at = :at")
            .condition_expression("attribute_exists(PK) AND (attribute_not_exists(revoked_at) OR attribute_type(revoked_at, :null))")
            .expression_attribute_values(":at", s(at.to_string()))
            .expression_attribute_values(":null", s("NULL"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => match super::expected_error(error, UpdateItemError::is_conditional_check_failed_exception)? {
                // Present but already revoked: done. Absent: not found.
                UpdateItemError::ConditionalCheckFailedException(failed) => {
                    if failed.item.is_some() {
                        Ok(())
                    } else {
                        Err(StoreError::NotFound)
                    }
                }
                other => Err(StoreError::backend(other)),
            },
        }
    }

    /// One `Query` of the user's sessions (their partition's `SESSION#` items).
    async fn user_sessions(&self, user_id: UserId) -> StoreResult<Vec<Session>> {
        let mut sessions = Vec::new();
        for item in self.partition_items(&user_pk(user_id), PREFIX).await? {
            sessions.push(from_item::<SessionItem>(item)?.session);
        }
        sessions.sort_by_key(|session| (session.created_at, session.id));
        Ok(sessions)
    }

    /// `BatchWriteItem`s of up to 25 deletes.
    async fn delete_sessions(&self, user_id: UserId, ids: &[SessionId]) -> StoreResult<()> {
        self.delete_keys(ids.iter().map(|id| key(user_pk(user_id), session_sk(*id))).collect()).await
    }

    /// Nothing to do: the table's TTL on `ttl` removes expired sessions.
    async fn purge_expired_sessions(&self, _now: Timestamp, _limit: u32) -> StoreResult<u64> {
        Ok(0)
    }

    /// One keys-only `Query`, then `BatchWriteItem`s of up to 25 deletes.
    async fn delete_user_sessions(&self, user_id: UserId) -> StoreResult<u64> {
        let keys = self.partition_keys(&user_pk(user_id), PREFIX).await?;
        let count = keys.len() as u64;
        self.delete_keys(keys).await?;
        Ok(count)
    }
}
