//! Counts DynamoDB calls by operation name, and refuses `Scan` outright.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

/// An SDK interceptor that records every operation a client sends. Tests and the
/// benchmark attach it to count calls per request; any `Scan` fails before it is sent,
/// because no request path may read the whole table.
#[derive(Clone, Debug, Default)]
pub struct CallLog {
    calls: Arc<Mutex<Vec<String>>>,
}

impl CallLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Operation names in call order since the last `take`.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
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
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Operation metadata is in the bag once operation config applies, i.e. from here on.
        let name = cfg.load::<Metadata>().map_or_else(|| "unknown".to_owned(), |metadata| metadata.name().to_owned());
        if name == "Scan" {
            return Err("Scan is not allowed: every access pattern is a key lookup or a Query".into());
        }
        self.calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(name);
        Ok(())
    }
}
