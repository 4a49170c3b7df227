//! Stopping an execution while its steps run.

use super::common::{
    failed, process_gone, request, shell_step, wait_for_pid, wait_gone, wait_until, with, Fixture, TIMEOUT, WRITE_PID,
};
use sagepipe_core::store::{ExecutionStatus, StepStatus};
use serde_json::json;

use sagepipe_core::engine;

/// Two long steps run side by side: a job (a real process that would sleep for a minute) and a
/// function step that runs until the engine interrupts it through the host. The step after
/// them waits for both. Stopping the execution kills the job's process and interrupts the
/// function: both end Stopped, the step after them never starts, and the execution is Stopped.
#[test]
fn stopping_ends_running_steps_stopped_and_starts_nothing_new() {
    let fx = Fixture::new();
    let pid_file = fx.scratch("sleeper.pid");
    let sleeper = shell_step(
        "Sleeper",
        &format!("{WRITE_PID}; exec sleep 60"),
        json!({"PID_FILE": pid_file}),
    );
    let waiter = fx.function_step("Waiter", "waiter");
    let after = with(
        fx.function_step("After", "after"),
        "DependsOn",
        json!(["Sleeper", "Waiter"]),
    );
    fx.put_pipeline("stoppable", &[sleeper, waiter, after]);
    fx.host.script("Waiter", |call| {
        if call.wait_for_interrupt(TIMEOUT) {
            failed("KeyboardInterrupt", "job")
        } else {
            failed("never interrupted", "job")
        }
    });

    let handle = fx.start(request("stoppable"));
    let pid = wait_for_pid(&pid_file);
    wait_until("Waiter starting", || fx.host.calls_of("Waiter") == 1);
    assert!(!process_gone(pid), "the job runs before the stop");
    assert!(!handle.is_done());

    handle.stop();
    assert!(handle.wait(Some(TIMEOUT)), "the execution did not end after the stop");

    let run = fx.load(&handle.arn);
    assert_eq!(run.status(), ExecutionStatus::Stopped);
    assert_eq!(run.record.failure_reason, None);
    for name in ["Sleeper", "Waiter"] {
        let step = run.step(name);
        assert_eq!(step.step_status, StepStatus::Stopped, "{name}");
        assert_eq!(step.failure_reason.as_deref(), Some("Stopped by request"), "{name}");
        assert_eq!(step.attempt_count, 1, "{name}");
    }
    assert!(!run.steps.contains_key("After"), "{:?}", run.statuses());
    assert_eq!(fx.host.calls_of("After"), 0);
    assert!(wait_gone(pid), "the job's process outlived the stop");
}

/// A stop asked from elsewhere (`engine::request_stop`, as another process does it) reaches the
/// owner through the store: a retrying step stops waiting for its next attempt, and the
/// execution ends Stopped.
#[test]
fn a_stop_requested_through_the_store_ends_a_retrying_step() {
    let fx = Fixture::new();
    let policy = json!([{"ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR"], "IntervalSeconds": 60,
                         "MaxAttempts": 3}]);
    let flaky = with(fx.function_step("Flaky", "flaky"), "RetryPolicies", policy);
    fx.put_pipeline("stop-requested", &[flaky]);
    fx.host.script("Flaky", |_| failed("try again later", "job"));

    let handle = fx.start(request("stop-requested"));
    wait_until("Flaky's first attempt", || fx.host.calls_of("Flaky") == 1);
    let asked = engine::request_stop(&fx.store, &handle.arn).expect("request stop");
    assert_eq!(asked.pipeline_execution_status, ExecutionStatus::Executing);
    assert!(
        handle.wait(Some(TIMEOUT)),
        "the execution did not end after the stop request"
    );

    let run = fx.load(&handle.arn);
    assert_eq!(run.status(), ExecutionStatus::Stopped);
    let step = run.step("Flaky");
    assert_eq!(step.step_status, StepStatus::Stopped);
    assert_eq!(step.attempt_count, 1, "no attempt after the stop");
    assert_eq!(fx.host.calls_of("Flaky"), 1);
}
