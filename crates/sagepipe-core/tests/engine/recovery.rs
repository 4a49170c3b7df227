//! The verdict on an execution whose owning process died, and resuming it.
//!
//! An execution belongs to the process holding its lock; a reader that can take the lock knows
//! the owner is gone and settles the record (`engine::recovery::load_execution`). The first test kills a
//! real owner: this test binary, run again as a child process that starts the execution.

use serde_json::json;
use std::process::Command;

use super::common::{
    load, request, shell_step, wait_for_pid, wait_gone, wait_until, with, Fixture, TIMEOUT, WRITE_PID,
};
use sagepipe_core::engine::{self, RunConfig};
use sagepipe_core::store::{ExecutionStatus, FileLock, StepStatus, Store};

/// Where the child process finds the store of the execution it owns.
const OWNER_STORE: &str = "SAGEPIPE_ENGINE_TEST_OWNER_STORE";
const OWNER_TEST: &str = "recovery::owner_process";

/// The owner process of `a_killed_owner_leaves_a_failed_execution_that_resumes`, which starts
/// this binary again with only this test selected; not a test on its own.
#[test]
#[ignore = "the child process of a_killed_owner_leaves_a_failed_execution_that_resumes"]
fn owner_process() {
    let root = std::env::var(OWNER_STORE).unwrap_or_else(|_| {
        panic!("{OWNER_TEST} runs only as the child process of a_killed_owner_leaves_a_failed_execution_that_resumes")
    });
    let store = Store::open(root).expect("store");
    let handle = engine::start(&store, request("owned"), RunConfig::default()).expect("start");
    // Killed while it waits.
    handle.wait(Some(TIMEOUT));
}

/// The owner process, killed when the test ends whatever happened.
struct Owner(std::process::Child);

impl Drop for Owner {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `First -> Long -> Last`, all jobs. The owner is killed (SIGKILL) while `Long`'s process runs.
/// While the owner lives, readers leave its execution alone; once it is dead, the first read
/// settles it: Failed, naming the dead pid, with `Long` Failed the same way, `First` still
/// Succeeded and `Last` never started. The job the owner left running dies with it. Resuming
/// (the engine's resume selection, as a selective run) reuses `First` and runs the rest.
#[test]
fn a_killed_owner_leaves_a_failed_execution_that_resumes() {
    let fx = Fixture::new();
    let pid_file = fx.scratch("long.pid");
    let hold = fx.scratch("hold");
    std::fs::write(&hold, "").expect("hold");
    let first = shell_step("First", "true", json!({}));
    let long = shell_step(
        "Long",
        &format!(r#"{WRITE_PID}; if [ -e "$HOLD" ]; then exec sleep 60; fi"#),
        json!({"PID_FILE": pid_file, "HOLD": hold}),
    );
    let last = shell_step("Last", "true", json!({}));
    fx.put_pipeline(
        "owned",
        &[
            first,
            with(long, "DependsOn", json!(["First"])),
            with(last, "DependsOn", json!(["Long"])),
        ],
    );

    let mut owner = Owner(
        Command::new(std::env::current_exe().expect("test binary"))
            .args([OWNER_TEST, "--exact", "--ignored", "--nocapture"])
            .env(OWNER_STORE, fx.store.root())
            .stdout(std::process::Stdio::null()) // the child's harness output; its panics go to stderr
            .spawn()
            .expect("owner process"),
    );
    let job = wait_for_pid(&pid_file);
    let ids = fx.store.execution_ids("owned");
    assert_eq!(ids.len(), 1, "{ids:?}");
    let arn = sagepipe_core::util::execution_arn("owned", &ids[0]);

    // Killed once `Long`'s running record is written (it is held back briefly at first).
    wait_until("Long's running record", || {
        fx.store.load_step(&arn, "Long").expect("step record").is_some()
    });
    let alive = load(&fx.store, &arn);
    assert_eq!(
        alive.status(),
        ExecutionStatus::Executing,
        "a live owner's execution is left alone"
    );
    assert_eq!(alive.record.owner_pid, owner.0.id());
    assert_eq!(alive.step("Long").step_status, StepStatus::Executing);

    owner.0.kill().expect("kill the owner");
    owner.0.wait().expect("reap the owner");
    assert!(wait_gone(job), "the owner's job outlived it");

    let dead = load(&fx.store, &arn);
    let interrupted = format!(
        "Execution interrupted: the process that ran it (pid {}) exited before the execution finished.",
        owner.0.id()
    );
    assert_eq!(dead.status(), ExecutionStatus::Failed);
    assert_eq!(dead.record.failure_reason.as_deref(), Some(interrupted.as_str()));
    assert!(dead.record.end_time.is_some());
    assert_eq!(dead.step("First").step_status, StepStatus::Succeeded);
    let long = dead.step("Long");
    assert_eq!(long.step_status, StepStatus::Failed);
    assert_eq!(long.failure_reason.as_deref(), Some(interrupted.as_str()));
    assert!(!dead.steps.contains_key("Last"), "{:?}", dead.statuses());

    let selected = engine::resume_selection(&fx.store, &arn).expect("resume selection");
    assert_eq!(selected, ["Long", "Last"]);
    std::fs::remove_file(&hold).expect("release Long");
    let mut req = request("owned");
    req.selective_execution_config = Some(json!({
        "SourcePipelineExecutionArn": arn,
        "SelectedSteps": selected.iter().map(|s| json!({"StepName": s})).collect::<Vec<_>>(),
    }));
    let resumed = fx.run(req);
    assert_eq!(resumed.status(), ExecutionStatus::Succeeded);
    assert_eq!(
        resumed.step("First").selective_execution_result,
        Some(json!({"SourcePipelineExecutionArn": arn}))
    );
    for name in ["Long", "Last"] {
        let step = resumed.step(name);
        assert_eq!(step.step_status, StepStatus::Succeeded, "{name}");
        assert_eq!(step.selective_execution_result, None, "{name}");
    }
}

/// Put an ended execution's record back to what it said before its owner's final write, as if
/// the owner died just before that write (a window too short to hit on purpose).
fn reopen_as_if_owner_died(store: &Store, arn: &str) {
    let mut rec = engine::recovery::load_execution(store, arn).expect("record");
    let dir = store.execution_dir(&rec.pipeline_name, &rec.execution_id);
    // The owner released the lock when the run ended, but a process forked at that moment by
    // another test (a job) holds a copy of it until its fork handler drops it (see `proc`).
    wait_until("the execution's lock being free", || {
        FileLock::try_acquire_existing(&dir.join("lock"))
            .expect("lock")
            .is_some()
    });
    rec.pipeline_execution_status = ExecutionStatus::Executing;
    rec.end_time = None;
    rec.failure_reason = None;
    store.write_execution(&rec).expect("rewrite");
}

/// The owner died after its last step ended but before its final record: nothing was left to
/// do, so the execution reads Succeeded (the branch not taken is not work left). With one step
/// record missing, the same state is work left: Failed, and resuming selects that step only.
#[test]
fn a_dead_owner_with_no_work_left_reads_succeeded_and_with_work_left_failed() {
    let fx = Fixture::new();
    let make = fx.function_step("Make", "make");
    let big = fx.function_step("Big", "big");
    let small = fx.function_step("Small", "small");
    let is_big = json!({
        "Name": "IsBig",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [{"Type": "GreaterThan", "LeftValue": 3, "RightValue": 1}],
            "IfSteps": [big],
            "ElseSteps": [small],
        },
        "DependsOn": ["Make"],
    });
    let after = with(fx.function_step("After", "after"), "DependsOn", json!(["Make"]));
    fx.put_pipeline("owner-died", &[make, is_big, after]);

    let done = fx.run(request("owner-died"));
    assert_eq!(done.status(), ExecutionStatus::Succeeded);
    assert!(!done.steps.contains_key("Small"), "{:?}", done.statuses());
    reopen_as_if_owner_died(&fx.store, done.arn());
    let settled = fx.load(done.arn());
    assert_eq!(settled.status(), ExecutionStatus::Succeeded);
    assert_eq!(settled.record.failure_reason, None);
    assert!(settled.record.end_time.is_some());

    let unfinished = fx.run(request("owner-died"));
    // Another process's connection to the store's database, as a repair tool would open it.
    let db = rusqlite::Connection::open(fx.store.root().join("store.db")).expect("database");
    let after = format!(
        "pipelines/owner-died/executions/{}/steps/After.json",
        unfinished.record.execution_id
    );
    let removed = db
        .execute("DELETE FROM records WHERE path = ?1", [&after])
        .expect("remove After's record");
    assert_eq!(removed, 1);
    reopen_as_if_owner_died(&fx.store, unfinished.arn());
    let failed = fx.load(unfinished.arn());
    assert_eq!(failed.status(), ExecutionStatus::Failed);
    let reason = failed.record.failure_reason.as_deref().unwrap_or_default();
    assert!(
        reason.starts_with("Execution interrupted: the process that ran it"),
        "{reason}"
    );
    assert_eq!(
        engine::resume_selection(&fx.store, unfinished.arn()).expect("resume selection"),
        ["After"]
    );
}
