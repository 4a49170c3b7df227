//! Step retry policies (`RetryPolicies`): which failures they cover and when to try again.

use crate::definition::RetryPolicyDef;
use crate::executors::FailureKind;

/// The retry policies' exception type a failure counts as. Locally there are no service faults
/// or throttling; a failure of the step's own code (non-zero exit, raised exception, killed
/// worker) counts as `SageMaker.JOB_INTERNAL_ERROR`, the nearest local analogue of a job that
/// failed and may succeed when started again; problems of the runner itself (spawning a worker,
/// writing the store) count as `Step.SERVICE_FAULT`; a permanent failure as none (never retried).
pub fn exception_type(kind: FailureKind) -> Option<&'static str> {
    match kind {
        FailureKind::Job => Some("SageMaker.JOB_INTERNAL_ERROR"),
        FailureKind::Service => Some("Step.SERVICE_FAULT"),
        FailureKind::Permanent => None,
    }
}

/// Seconds to wait before attempt `attempt + 1`, or `None` if no policy allows another attempt.
/// `attempt` counts from 1; `elapsed_min` is the time since the first attempt started.
pub fn next_delay(policies: &[RetryPolicyDef], kind: FailureKind, attempt: u32, elapsed_min: f64) -> Option<f64> {
    let ty = exception_type(kind)?;
    let policy = policies.iter().find(|p| p.exception_type.iter().any(|t| t == ty))?;
    let within_attempts = policy.max_attempts.is_none_or(|m| i64::from(attempt) < m);
    let within_time = policy.expire_after_min.is_none_or(|m| elapsed_min < m as f64);
    if policy.max_attempts.is_none() && policy.expire_after_min.is_none() {
        // Neither limit set (the SDK accepts that): one retry, so the policy means something but stays bounded.
        return (attempt < 2).then_some(policy.interval_seconds);
    }
    (within_attempts && within_time).then(|| policy.interval_seconds * policy.backoff_rate.powi(attempt as i32 - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(types: &[&str], max: Option<i64>) -> RetryPolicyDef {
        RetryPolicyDef {
            exception_type: types.iter().map(|s| s.to_string()).collect(),
            backoff_rate: 2.0,
            interval_seconds: 1.0,
            max_attempts: max,
            expire_after_min: None,
        }
    }

    #[test]
    fn backoff_and_limits() {
        let p = [policy(&["SageMaker.JOB_INTERNAL_ERROR"], Some(3))];
        assert_eq!(next_delay(&p, FailureKind::Job, 1, 0.0), Some(1.0));
        assert_eq!(next_delay(&p, FailureKind::Job, 2, 0.0), Some(2.0));
        assert_eq!(next_delay(&p, FailureKind::Job, 3, 0.0), None);
        assert_eq!(next_delay(&p, FailureKind::Service, 1, 0.0), None);
        assert_eq!(next_delay(&p, FailureKind::Permanent, 1, 0.0), None);
    }
}
