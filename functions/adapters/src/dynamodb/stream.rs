//! The table's stream as its functions receive it (Lambda's event source mappings,
//! `KEYS_ONLY` records filtered in `template.yaml`: new deletion markers to `account-purge`,
//! new invitations to `invitation-announce`). Only this adapter knows the key layout, so only
//! it reads which account, list or invitation a record names.

use std::collections::HashMap;

use serde::Deserialize;
use todo_domain::model::{Email, InvitationId, ListId, UserId};

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

/// What the records' new deletion markers name, in order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Deletions {
    pub accounts: Vec<UserId>,
    pub lists: Vec<ListId>,
    /// Records that name no new marker (logged by the caller).
    pub ignored: usize,
}

/// The invitations the records insert (their invitee's copies), in order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NewInvitations {
    pub invitations: Vec<(Email, InvitationId)>,
    /// Records that name no new invitation (logged by the caller).
    pub ignored: usize,
}

impl StreamEvent {
    /// The keys of each record, `None` for anything but an insert.
    fn inserted_keys(&self) -> impl Iterator<Item = Option<(&str, &str)>> {
        self.records.iter().map(|record| {
            let key = |name: &str| record.dynamodb.as_ref().and_then(|data| data.keys.get(name)).and_then(|value| value.s.as_deref());
            match (record.event_name.as_deref(), key("PK"), key("SK")) {
                (Some("INSERT"), Some(pk), Some(sk)) => Some((pk, sk)),
                _ => None,
            }
        })
    }

    /// The accounts and lists whose deletion markers these records insert.
    pub fn deletions(&self) -> Deletions {
        let mut deletions = Deletions::default();
        for keys in self.inserted_keys() {
            let Some((pk, sk)) = keys else {
                deletions.ignored += 1;
                continue;
            };
            if let Some(account) = super::users::deleted_account(pk, sk) {
                deletions.accounts.push(account);
            } else if let Some(list) = super::lists::deleted_list(pk, sk) {
                deletions.lists.push(list);
            } else {
                deletions.ignored += 1;
            }
        }
        deletions
    }

    /// The invitations these records insert (the `INVITEE#` copies).
    pub fn new_invitations(&self) -> NewInvitations {
        let mut new = NewInvitations::default();
        for keys in self.inserted_keys() {
            match keys.and_then(|(pk, sk)| super::sharing::invitee_copy(pk, sk)) {
                Some(invitation) => new.invitations.push(invitation),
                None => new.ignored += 1,
            }
        }
        new
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
    fn only_inserted_deletion_markers_name_accounts_and_lists() {
        let user = UserId::parse("01JCCCCCCCCCCCCCCCCCCCCCCC").unwrap();
        let list = ListId::parse("01JHHHHHHHHHHHHHHHHHHHHHHH").unwrap();
        let event: StreamEvent = serde_json::from_value(serde_json::json!({"Records": [
            record("INSERT", "DELETIONS", "USER#01JCCCCCCCCCCCCCCCCCCCCCCC"),
            record("INSERT", "DELETIONS", "LIST#01JHHHHHHHHHHHHHHHHHHHHHHH"),
            record("REMOVE", "DELETIONS", "USER#01JCCCCCCCCCCCCCCCCCCCCCCC"),
            record("INSERT", "USER#01JCCCCCCCCCCCCCCCCCCCCCCC", "PROFILE"),
            record("INSERT", "LIST#01JHHHHHHHHHHHHHHHHHHHHHHH", "LIST"),
            record("INSERT", "DELETIONS", "USER#not-an-id"),
        ]}))
        .unwrap();
        assert_eq!(event.deletions(), Deletions { accounts: vec![user], lists: vec![list], ignored: 4 });
    }

    #[test]
    fn only_inserted_invitee_copies_name_new_invitations() {
        let event: StreamEvent = serde_json::from_value(serde_json::json!({"Records": [
            record("INSERT", "INVITEE#bob@example.com", "INVITE#01JGGGGGGGGGGGGGGGGGGGGGGG"),
            record("REMOVE", "INVITEE#bob@example.com", "INVITE#01JGGGGGGGGGGGGGGGGGGGGGGG"),
            record("MODIFY", "INVITEE#bob@example.com", "INVITE#01JGGGGGGGGGGGGGGGGGGGGGGG"),
            record("INSERT", "LIST#01JHHHHHHHHHHHHHHHHHHHHHHH", "INVITE#01JGGGGGGGGGGGGGGGGGGGGGGG"),
            record("INSERT", "INVITEE#", "INVITE#01JGGGGGGGGGGGGGGGGGGGGGGG"),
            record("INSERT", "INVITEE#bob@example.com", "INVITE#not-an-id"),
            // Written before emails refused compatibility forms: still an invitation.
            record("INSERT", "INVITEE#ｂob@example.com", "INVITE#01JGGGGGGGGGGGGGGGGGGGGGGG"),
        ]}))
        .unwrap();
        let bob = Email::parse("bob@example.com").unwrap();
        let old_bob = Email::try_from("ｂob@example.com".to_owned()).unwrap();
        let invitation = InvitationId::parse("01JGGGGGGGGGGGGGGGGGGGGGGG").unwrap();
        assert_eq!(event.new_invitations(), NewInvitations { invitations: vec![(bob, invitation), (old_bob, invitation)], ignored: 5 });
    }

    #[test]
    fn the_sample_invitation_event_names_one_invitation() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/events/invitation-announce.json")).unwrap();
        let event: StreamEvent = serde_json::from_str(&text).unwrap();
        let new = event.new_invitations();
        assert_eq!((new.invitations.len(), new.ignored), (1, 0), "{new:?}");
    }

    #[test]
    fn the_sample_event_names_one_account() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/events/account-purge.json")).unwrap();
        let event: StreamEvent = serde_json::from_str(&text).unwrap();
        let deletions = event.deletions();
        assert_eq!(deletions.accounts, [UserId::parse("01JCCCCCCCCCCCCCCCCCCCCCCC").unwrap()]);
        assert_eq!((deletions.lists.len(), deletions.ignored), (0, 0));
    }
}
