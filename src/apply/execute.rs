//! The executor: performs one planned change as its kind decides. It re-reads, asks the kind's
//! pure decision for the writes, and sends them in order. A create refused because the
//! resource exists (a retry whose first try went through, or a run that stopped before
//! discovery could see it) is handled here, once for every kind: re-read, and decide again
//! with the resource brought in line in full. Counting writes and the write budget are the SDK
//! interceptors' business ([`crate::aws`]), so no write can go uncounted.

use super::{Ctx, StepError};
use crate::kinds::{ResourceKind, Step};
use crate::plan::Change;

/// AWS's error codes for "it already exists", across the services lz writes to.
const ALREADY_EXISTS: [&str; 7] = [
    "EntityAlreadyExists",
    "DuplicateOrganizationalUnitException",
    "AlreadyInOrganizationException",
    "AlreadyExistsException",
    "BucketAlreadyOwnedByYou",
    "TrailAlreadyExistsException",
    "DuplicatePolicyException",
];

/// Performs `change` to a resource of kind `K`.
pub(crate) async fn execute<K: ResourceKind>(
    ctx: &Ctx<'_>,
    change: &Change,
) -> Result<(), StepError> {
    let mut step = Step {
        change,
        want: change.after.as_deref().and_then(K::of),
        before: change.before.as_deref().and_then(K::of),
        recovered: false,
    };
    loop {
        let mut seen = K::read(ctx, &step).await?;
        let ops = K::decide(&step, &seen)?;
        tracing::debug!(?ops, recovered = step.recovered, "decided");
        let mut exists = false;
        for op in &ops {
            match K::send(ctx, &step, &mut seen, op).await {
                Ok(()) => {}
                Err(StepError::Aws(e))
                    if !step.recovered
                        && e.code
                            .as_deref()
                            .is_some_and(|c| ALREADY_EXISTS.contains(&c)) =>
                {
                    tracing::info!(?op, code = ?e.code, "exists after all; bringing it in line");
                    exists = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if !exists {
            return Ok(());
        }
        step.recovered = true;
    }
}
