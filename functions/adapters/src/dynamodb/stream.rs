//! The table's stream as the `account-purge` function receives it (Lambda's event source
//! mapping, `KEYS_ONLY` records filtered to new deletion markers in `template.yaml`).
//! Only this adapter knows the key layout, so only it reads which account a record names.

use std::collections::HashMap;

use serde::Deserialize;
use todo_domain::model::UserId;

/// A batch of stream records. Lenient about everything but the keys: a new field or another
/// record type must not fail a batch (the filter should keep other records out anyway).
#[derive(Debug, Clone, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    records: Vec<StreamRecord>,
}

#[derive(Debug, Clone, Deserialize)]
struct StreamRecord {
    #[serde(rename = "eventName", default)]
    event_name: Option<String>,
    #[serde(default)]
    dynamodb: Option<StreamData>,
}

#[derive(Debug, Clone, Deserialize)]
struct StreamData {
    #[serde(rename = "Keys", default)]
    keys: HashMap<String, StringValue>,
}

/// A string attribute in the stream's JSON (`{"S": "..."}`); other types read as absent.
#[derive(Debug, Clone, Deserialize)]
struct StringValue {
    #[serde(rename = "S", default)]
    s: Option<String>,
}

impl StreamEvent {
    /// The accounts whose deletion markers these records insert, in order, and how many
    /// records name none (logged by the caller).
    pub fn deleted_accounts(&self) -> (Vec<UserId>, usize) {
        let mut accounts = Vec::new();
        let mut ignored = 0;
        for record in &self.records {
            let key = |name: &str| record.dynamodb.as_ref().and_then(|data| data.keys.get(name)).and_then(|value| value.s.as_deref());
            let account = match (record.event_name.as_deref(), key("PK"), key("SK")) {
                (Some("INSERT"), Some(pk), Some(sk)) => super::users::deleted_account(pk, sk),
                _ => None,
            };
            match account {
                Some(account) => accounts.push(account),
                None => ignored += 1,
            }
        }
        (accounts, ignored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(event_name: &str, pk: &str, sk: &str) -> serde_json::Value {
        serde_json::json!({
            "eventID": "1", "eventName": event_name, "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "dynamodb": {"ApproximateCreationDateTime": 1_795_316_400, "Keys": {"PK": {"S": pk}, "SK": {"S": sk}},
                         "SequenceNumber": "1", "SizeBytes": 60, "StreamViewType": "KEYS_ONLY"},
        })
    }

    #[test]
    fn only_inserted_deletion_markers_name_accounts() {
        let user = UserId::parse("01JCCCCCCCCCCCCCCCCCCCCCCC").unwrap();
        let event: StreamEvent = serde_json::from_value(serde_json::json!({"Records": [
            record("INSERT", "DELETIONS", "USER#01JCCCCCCCCCCCCCCCCCCCCCCC"),
            record("REMOVE", "DELETIONS", "USER#01JCCCCCCCCCCCCCCCCCCCCCCC"),
            record("INSERT", "USER#01JCCCCCCCCCCCCCCCCCCCCCCC", "PROFILE"),
            record("INSERT", "DELETIONS", "USER#not-an-id"),
        ]}))
        .unwrap();
        assert_eq!(event.deleted_accounts(), (vec![user], 3));
    }

    #[test]
    fn the_sample_event_names_one_account() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/events/account-purge.json")).unwrap();
        let event: StreamEvent = serde_json::from_str(&text).unwrap();
        assert_eq!(event.deleted_accounts(), (vec![UserId::parse("01JCCCCCCCCCCCCCCCCCCCCCCC").unwrap()], 0));
    }
}
