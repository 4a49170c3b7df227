//! Dispatch: independent steps run at once, up to the execution's parallelism limit.

use serde_json::json;
use std::time::{Duration, Instant};

use super::common::{ok, request, with, Fixture, TIMEOUT};
use sagepipe_core::engine::{self, RunConfig};
use sagepipe_core::error::CoreError;
use sagepipe_core::store::{ExecutionStatus, StepStatus};

/// Six independent function steps with `MaxParallelExecutionSteps` 2. Each call waits (a few
/// seconds at most) for a second call to be in progress, or for the last step to start, and
/// then holds a little longer: an engine that ran steps one at a time would never reach two at
/// once, and one that ignored the limit would show a third while the pair is held.
#[test]
fn independent_steps_run_in_parallel_up_to_the_limit() {
    let fx = Fixture::new();
    let names: Vec<String> = (1..=6).map(|i| format!("S{i}")).collect();
    let steps: Vec<_> = names.iter().map(|n| fx.function_step(n, n)).collect();
    fx.put_pipeline("wide", &steps);
    for name in &names {
        fx.host.script(name, |call| {
            let deadline = Instant::now() + Duration::from_secs(5);
            while call.host.running() < 2 && call.host.calls().len() < 6 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(30));
            ok()
        });
    }

    let mut req = request("wide");
    req.max_parallel = Some(2);
    let run = fx.run(req);

    assert_eq!(run.status(), ExecutionStatus::Succeeded);
    assert_eq!(fx.host.most_running(), 2, "steps in progress at once");
    let mut called = fx.host.calls();
    called.sort();
    assert_eq!(called, names, "each step ran once");
    for name in &names {
        let step = run.step(name);
        assert_eq!(step.step_status, StepStatus::Succeeded, "{name}");
        assert_eq!(step.attempt_count, 1, "{name}");
    }
    assert_eq!(
        run.record.parallelism_configuration,
        Some(json!({"MaxParallelExecutionSteps": 2}))
    );
}

/// The pipeline's own `ParallelismConfiguration` applies when the start gives none: with 1, the
/// steps run one after another, in an order the dependencies allow.
#[test]
fn the_pipelines_parallelism_applies_when_the_start_gives_none() {
    let fx = Fixture::new();
    let steps: Vec<_> = ["A", "B", "C"].iter().map(|n| fx.function_step(n, n)).collect();
    let c = with(steps[2].clone(), "DependsOn", json!(["A"]));
    let definition = json!({"Version": "2020-12-01", "Steps": [steps[0], steps[1], c]});
    fx.store
        .put_pipeline(
            "serial",
            &definition.to_string(),
            sagepipe_core::store::PutMode::Create,
            &json!({"ParallelismConfiguration": {"MaxParallelExecutionSteps": 1}}),
        )
        .expect("put pipeline");
    for name in ["A", "B", "C"] {
        fx.host.script(name, |_| {
            std::thread::sleep(Duration::from_millis(20));
            ok()
        });
    }

    let run = fx.run(request("serial"));

    assert_eq!(run.status(), ExecutionStatus::Succeeded);
    assert_eq!(fx.host.most_running(), 1);
    let calls = fx.host.calls();
    assert_eq!(calls.len(), 3);
    let position = |s: &str| calls.iter().position(|c| c == s).expect("called");
    assert!(position("A") < position("C"), "C depends on A: {calls:?}");
    // The records agree: each step started after the one before it ended.
    let mut spans: Vec<(f64, f64)> = run
        .steps
        .values()
        .map(|s| (s.start_time.expect("start"), s.end_time.expect("end")))
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(
        spans.windows(2).all(|w| w[0].1 <= w[1].0),
        "overlapping steps: {spans:?}"
    );
}

/// A ConditionStep on a parameter runs one branch: the branch not taken is never started. On
/// the else branch a FailStep ends the execution Failed with its (resolved) message.
#[test]
fn a_condition_runs_one_branch_and_a_fail_step_fails_the_execution_with_its_message() {
    let fx = Fixture::new();
    let big = fx.function_step("Big", "big");
    let too_small = json!({
        "Name": "TooSmall",
        "Type": "Fail",
        "Arguments": {"ErrorMessage": {"Std:Join": {"On": "", "Values": ["X is too small: ", {"Get": "Parameters.X"}]}}},
    });
    let is_big = json!({
        "Name": "IsBig",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [{"Type": "GreaterThan", "LeftValue": {"Get": "Parameters.X"}, "RightValue": 1}],
            "IfSteps": [big],
            "ElseSteps": [too_small],
        },
    });
    let parameters = [json!({"Name": "X", "Type": "Integer", "DefaultValue": 3})];
    fx.put_pipeline_with("branching", &parameters, &[is_big]);

    let taken = fx.run(request("branching"));
    assert_eq!(taken.status(), ExecutionStatus::Succeeded);
    assert_eq!(taken.step("IsBig").properties, Some(json!({"Outcome": true})));
    assert_eq!(taken.step("Big").step_status, StepStatus::Succeeded);
    assert!(!taken.steps.contains_key("TooSmall"), "{:?}", taken.statuses());

    let mut req = request("branching");
    req.parameters.insert("X".into(), json!(0));
    let failed = fx.run(req);
    assert_eq!(failed.status(), ExecutionStatus::Failed);
    assert_eq!(failed.record.failure_reason.as_deref(), Some("X is too small: 0"));
    assert_eq!(failed.step("IsBig").properties, Some(json!({"Outcome": false})));
    let fail = failed.step("TooSmall");
    assert_eq!(fail.step_status, StepStatus::Failed);
    assert_eq!(fail.failure_reason.as_deref(), Some("X is too small: 0"));
    assert!(!failed.steps.contains_key("Big"), "{:?}", failed.statuses());
    assert_eq!(fx.host.calls_of("Big"), 1, "only the first run took the if branch");
}

/// A step that cannot run here (a Lambda step, with no handler for its type) refuses the whole
/// start before anything runs or is recorded; with a handler registered for the type, the host
/// runs it (an `external` task) and the execution succeeds.
#[test]
fn a_step_without_a_local_meaning_refuses_the_start_until_a_handler_takes_its_type() {
    let fx = Fixture::new();
    let lambda = json!({"Name": "Notify", "Type": "Lambda", "FunctionArn": "arn:aws:lambda:us-east-1:1:function:f",
                        "Arguments": {"message": "done"}});
    let train = fx.function_step("Train", "train");
    fx.put_pipeline("aws-side", &[train, with(lambda, "DependsOn", json!(["Train"]))]);

    let refused = engine::start(&fx.store, request("aws-side"), fx.config());
    let Err(CoreError::Unsupported { problems }) = refused else {
        panic!("expected the start to be refused as unsupported");
    };
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].msg.contains("step 'Notify' of type Lambda"),
        "{}",
        problems[0].msg
    );
    assert!(
        fx.store.execution_ids("aws-side").is_empty(),
        "a refused start records nothing"
    );
    assert!(fx.host.calls().is_empty());

    let config = RunConfig {
        external_types: vec!["Lambda".into()],
        ..fx.config()
    };
    let handle = engine::start(&fx.store, request("aws-side"), config).expect("start");
    assert!(handle.wait(Some(TIMEOUT)));
    let run = fx.load(&handle.arn);
    assert_eq!(run.status(), ExecutionStatus::Succeeded);
    assert_eq!(run.step("Notify").step_status, StepStatus::Succeeded);
    let task = fx.host.last_task("Notify").expect("the handler ran");
    assert_eq!(task["kind"], "external");
    assert_eq!(task["step_type"], "Lambda");
    assert_eq!(task["arguments"], json!({"message": "done"}));
    assert_eq!(fx.host.calls(), ["Train", "Notify"]);
}
