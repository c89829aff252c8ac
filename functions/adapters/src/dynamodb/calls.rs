//! Counts DynamoDB calls by operation name, records the IAM actions they need, and refuses
//! `Scan` outright.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::Input;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

/// An SDK interceptor that records every operation a client sends. Tests and the
/// benchmark attach it to count calls per request; any `Scan` fails before it is sent,
/// because no request path may read the whole table.
#[derive(Clone, Debug, Default)]
pub struct CallLog {
    calls: Arc<Mutex<Vec<String>>>,
    /// The IAM actions the calls need (`dynamodb:GetItem`…): a transaction's items each need
    /// their own, not the call's name.
    actions: Arc<Mutex<BTreeSet<String>>>,
    /// Items Queries read (`ScannedCount`: before any filter), what their read units grow with.
    items_read: Arc<std::sync::atomic::AtomicU64>,
}

impl CallLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Operation names in call order since the last `take`.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The IAM actions of the calls since the last `take_actions`.
    pub fn take_actions(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.actions.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Items read by Queries since the last `take_items_read` (filtered-out ones included).
    pub fn take_items_read(&self) -> u64 {
        self.items_read.swap(0, std::sync::atomic::Ordering::Relaxed)
    }

    /// Counts by operation since the last `take`.
    pub fn take_counts(&self) -> BTreeMap<String, usize> {
        self.take().into_iter().fold(BTreeMap::new(), |mut counts, name| {
            *counts.entry(name).or_default() += 1;
            counts
        })
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "CallLog"
    }

    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Operation metadata is in the bag once operation config applies, i.e. from here on.
        let name = cfg.load::<Metadata>().map_or_else(|| "unknown".to_owned(), |metadata| metadata.name().to_owned());
        if name == "Scan" {
            return Err("Scan is not allowed: every access pattern is a key lookup or a Query".into());
        }
        let actions = iam_actions(&name, context.input());
        self.actions.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(actions);
        self.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(name);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation::query::QueryOutput;
        if let Ok(output) = context.output_or_error()
            && let Some(query) = output.downcast_ref::<QueryOutput>()
        {
            let scanned = u64::try_from(query.scanned_count()).unwrap_or(0);
            self.items_read.fetch_add(scanned, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }
}

/// What IAM authorises a call as: each item of a `TransactWriteItems` as its own write (or
/// `ConditionCheckItem`), a `TransactGetItems` as `GetItem`, anything else (`BatchWriteItem`
/// too) as the operation itself.
fn iam_actions(operation: &str, input: &Input) -> Vec<String> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
    let names: Vec<&str> = if let Some(transaction) = input.downcast_ref::<TransactWriteItemsInput>() {
        transaction
            .transact_items()
            .iter()
            .map(|item| match (item.condition_check(), item.put(), item.update()) {
                (Some(_), _, _) => "ConditionCheckItem",
                (_, Some(_), _) => "PutItem",
                (_, _, Some(_)) => "UpdateItem",
                _ => "DeleteItem",
            })
            .collect()
    } else if operation == "TransactGetItems" {
        vec!["GetItem"]
    } else {
        vec![operation]
    };
    names.into_iter().map(|name| format!("dynamodb:{name}")).collect()
}
