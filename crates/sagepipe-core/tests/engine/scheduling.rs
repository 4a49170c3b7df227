//! Dispatch: independent steps run at once, up to the execution's parallelism limit.

use serde_json::json;
use std::time::{Duration, Instant};

use super::common::{ok, request, Fixture};

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

    assert_eq!(run.status(), "Succeeded");
    assert_eq!(fx.host.most_running(), 2, "steps in progress at once");
    let mut called = fx.host.calls();
    called.sort();
    assert_eq!(called, names, "each step ran once");
    for name in &names {
        let step = run.step(name);
        assert_eq!(step.step_status, "Succeeded", "{name}");
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
    let c = super::common::with(steps[2].clone(), "DependsOn", json!(["A"]));
    let definition = json!({"Version": "2020-12-01", "Steps": [steps[0], steps[1], c]});
    fx.store
        .put_pipeline(
            "serial",
            &definition.to_string(),
            "create",
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

    assert_eq!(run.status(), "Succeeded");
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
