//! A limit on the write requests one set of clients may send: how tests stop apply as if the
//! process had died after exactly N writes. Enforced here, in one SDK interceptor on every
//! client, so that no step can forget to count a write.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_organizations::config::ConfigBag;
use aws_sdk_organizations::config::RuntimeComponents;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

use super::is_write;

/// Refuses every write request after the first `limit`, before it is sent. Counted per
/// operation, not per attempt: a write the SDK retries is one write.
#[derive(Debug, Clone)]
pub(crate) struct WriteBudget {
    limit: usize,
    sent: Arc<AtomicUsize>,
}

/// The error a refused write fails with; apply reports it as an interruption.
#[derive(Debug, thiserror::Error)]
#[error("the write budget of {limit} request(s) is spent; {operation} was not sent")]
pub struct BudgetSpent {
    /// How many writes were allowed.
    pub limit: usize,
    /// The operation refused.
    pub operation: String,
}

impl WriteBudget {
    pub(crate) fn new(limit: usize) -> WriteBudget {
        WriteBudget {
            limit,
            sent: Arc::default(),
        }
    }
}

impl Intercept for WriteBudget {
    fn name(&self) -> &'static str {
        "lz-write-budget"
    }

    // Once per operation, after the operation's configuration (its name) is known and before
    // the SDK's retry loop.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(metadata) = cfg.load::<Metadata>() else {
            return Ok(());
        };
        let operation = format!("{}.{}", metadata.service(), metadata.name());
        if !is_write(&operation) {
            return Ok(());
        }
        if self.sent.fetch_add(1, Ordering::SeqCst) >= self.limit {
            return Err(Box::new(BudgetSpent {
                limit: self.limit,
                operation,
            }));
        }
        Ok(())
    }
}

/// Whether an error, or one of its causes, is a write refused by the budget.
pub(crate) fn is_budget_spent(error: &(dyn std::error::Error + 'static)) -> Option<usize> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(spent) = e.downcast_ref::<BudgetSpent>() {
            return Some(spent.limit);
        }
        current = e.source();
    }
    None
}
