//! Retry policies: which failures they cover, and how many attempts they allow.

use serde_json::json;

use super::common::{failed, request, shell_step, with, Fixture};
use sagepipe_core::store::{ExecutionStatus, StepStatus};

/// A policy for job failures allowing `max_attempts` attempts, with no delay between them.
fn job_policy(max_attempts: u32) -> serde_json::Value {
    json!([{"ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR"], "IntervalSeconds": 0, "BackoffRate": 1.0,
            "MaxAttempts": max_attempts}])
}

/// A job (a real process) that exits non-zero twice and then succeeds, under a policy for job
/// failures that allows three attempts: it runs three times and is recorded Succeeded with
/// three attempts; the log says why each retry happened.
#[test]
fn a_job_failure_is_retried_by_a_matching_policy_until_it_succeeds() {
    let fx = Fixture::new();
    let runs = fx.scratch("runs");
    let flaky = shell_step(
        "Flaky",
        r#"n=$(cat "$RUNS" 2>/dev/null | wc -l); echo run >> "$RUNS"; [ "$n" -ge 2 ]"#,
        json!({"RUNS": runs}),
    );
    fx.put_pipeline("retrying", &[with(flaky, "RetryPolicies", job_policy(3))]);

    let run = fx.run(request("retrying"));

    assert_eq!(run.status(), ExecutionStatus::Succeeded);
    let step = run.step("Flaky");
    assert_eq!(step.step_status, StepStatus::Succeeded);
    assert_eq!(step.attempt_count, 3);
    assert_eq!(std::fs::read_to_string(&runs).expect("runs").lines().count(), 3);
    let log = std::fs::read_to_string(fx.store.log_path("retrying", &run.record.execution_id, "Flaky")).expect("log");
    assert!(log.contains("[sagepipe] attempt 1 failed"), "{log}");
    assert!(log.contains("[sagepipe] attempt 2 failed"), "{log}");
    assert!(!log.contains("attempt 3 failed"), "{log}");
}

/// A policy that covers only service faults does not retry the job's own failure: one attempt,
/// the step and the execution Failed, and the step after it never starts.
#[test]
fn a_policy_that_does_not_match_the_failure_is_not_applied() {
    let fx = Fixture::new();
    let runs = fx.scratch("runs");
    let failing = shell_step(
        "Failing",
        r#"echo run >> "$RUNS"; echo broken >&2; exit 3"#,
        json!({"RUNS": runs}),
    );
    let policy = json!([{"ExceptionType": ["Step.SERVICE_FAULT"], "IntervalSeconds": 0, "MaxAttempts": 5}]);
    let after = with(fx.function_step("After", "after"), "DependsOn", json!(["Failing"]));
    fx.put_pipeline("not-retried", &[with(failing, "RetryPolicies", policy), after]);

    let run = fx.run(request("not-retried"));

    assert_eq!(run.status(), ExecutionStatus::Failed);
    assert_eq!(
        run.record.failure_reason.as_deref(),
        Some("Step failure: One or multiple steps failed.")
    );
    let step = run.step("Failing");
    assert_eq!(step.step_status, StepStatus::Failed);
    assert_eq!(step.attempt_count, 1);
    let reason = step.failure_reason.as_deref().unwrap_or_default();
    assert!(reason.contains("broken"), "the reason shows the job's output: {reason}");
    assert_eq!(std::fs::read_to_string(&runs).expect("runs").lines().count(), 1);
    assert!(!run.steps.contains_key("After"), "{:?}", run.statuses());
    assert_eq!(fx.host.calls_of("After"), 0);
}

/// Through the host: a step that always fails stops at the policy's `MaxAttempts`, and a
/// permanent failure (the step cannot succeed as defined) is never retried, whatever the policy.
#[test]
fn retries_end_at_max_attempts_and_never_follow_a_permanent_failure() {
    let fx = Fixture::new();
    let always = with(fx.function_step("Always", "always"), "RetryPolicies", job_policy(2));
    let permanent = with(
        fx.function_step("Permanent", "permanent"),
        "RetryPolicies",
        job_policy(5),
    );
    fx.put_pipeline("exhausted", &[always, permanent]);
    fx.host.script("Always", |call| {
        failed(&format!("attempt {} failed", call.attempt), "job")
    });
    fx.host
        .script("Permanent", |_| failed("the input is malformed", "permanent"));

    let run = fx.run(request("exhausted"));

    assert_eq!(run.status(), ExecutionStatus::Failed);
    let always = run.step("Always");
    assert_eq!((always.step_status.as_str(), always.attempt_count), ("Failed", 2));
    assert_eq!(always.failure_reason.as_deref(), Some("attempt 2 failed"));
    assert_eq!(fx.host.calls_of("Always"), 2);
    let permanent = run.step("Permanent");
    assert_eq!((permanent.step_status.as_str(), permanent.attempt_count), ("Failed", 1));
    assert_eq!(fx.host.calls_of("Permanent"), 1);
}
