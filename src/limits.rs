//! The harness's limits on the numbers a user writes, checked where they are parsed.
//!
//! A scenario's cost on a cluster (and on the simulated one) follows the replica counts and
//! waits it asks for, not the size of its file; these bounds keep a typo such as
//! `replicas: 2147483647` or `settle: 1000000h` from becoming hours of work or gigabytes of
//! memory. Beyond them the input is refused (exit 2) with the file, line and column that wrote
//! the number. Checks and `analyze` need no such bound: their cost follows the history they are
//! given, whatever ordinals or counts it names.

use std::time::Duration;

/// The most replicas a scenario may give a StatefulSet or a Deployment (in a manifest, a
/// `scale` step or a `patch`).
pub const MAX_REPLICAS: u32 = 10_000;

/// The longest a step may wait: its `timeout`, and its `settle`.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// A replica count beyond [`MAX_REPLICAS`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("replicas {0} is more than the {MAX_REPLICAS} a scenario may ask for")]
pub struct TooManyReplicas(pub i64);

/// `Err` when `replicas` is beyond [`MAX_REPLICAS`].
///
/// # Errors
/// `replicas` is larger than [`MAX_REPLICAS`].
pub fn check_replicas(replicas: i64) -> Result<(), TooManyReplicas> {
    if replicas > i64::from(MAX_REPLICAS) {
        return Err(TooManyReplicas(replicas));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_up_to_the_limit_are_accepted() {
        assert!(check_replicas(0).is_ok());
        assert!(check_replicas(i64::from(MAX_REPLICAS)).is_ok());
        let error = check_replicas(i64::from(MAX_REPLICAS) + 1).unwrap_err();
        assert!(error.to_string().contains("10001"), "{error}");
        assert!(check_replicas(i64::from(i32::MAX)).is_err());
    }
}
