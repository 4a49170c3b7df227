//! Step caching: a hit reuses an earlier run's record without running the step; a miss says why.

use serde_json::{json, Map, Value};

use super::common::{request, shell_step, with, Fixture};
use sagepipe_core::engine::plan::plan_request;
use sagepipe_core::executors::JobSettings;
use sagepipe_core::selection::Action;
use sagepipe_core::store::{ExecutionStatus, StepStatus};

fn cache_on() -> Value {
    json!({"Enabled": true, "ExpireAfter": "PT1H"})
}

fn start_with_mode(mode: &str) -> sagepipe_core::engine::StartRequest {
    let mut req = request("cached");
    req.parameters.insert("Mode".into(), json!(mode));
    req
}

/// A cached job (a real process, whose environment takes a parameter): the first run misses
/// (nothing earlier), the second hits (the step does not run; its record names the first run
/// and carries its properties), the plan of a third start predicts that hit, and a start with
/// another parameter value misses, naming the field that changed and the run it compared with.
#[test]
fn a_second_run_hits_the_cache_and_a_changed_parameter_misses_with_its_reason() {
    let fx = Fixture::new();
    let runs = fx.scratch("runs");
    let job = shell_step(
        "Prepare",
        r#"echo "$MODE" >> "$RUNS""#,
        json!({"RUNS": runs, "MODE": {"Get": "Parameters.Mode"}}),
    );
    let parameters = [json!({"Name": "Mode", "Type": "String", "DefaultValue": "a"})];
    fx.put_pipeline_with("cached", &parameters, &[with(job, "CacheConfig", cache_on())]);
    let ran = || std::fs::read_to_string(&runs).unwrap_or_default();

    let first = fx.run(start_with_mode("a"));
    assert_eq!(first.status(), ExecutionStatus::Succeeded);
    let prepared = first.step("Prepare");
    assert_eq!(prepared.cache_hit_result, None);
    assert_eq!(
        prepared.cache_miss_reason.as_deref(),
        Some("no earlier successful run of this step with caching on")
    );
    assert_eq!(ran(), "a\n");

    let second = fx.run(start_with_mode("a"));
    assert_eq!(second.status(), ExecutionStatus::Succeeded);
    let hit = second.step("Prepare");
    assert_eq!(hit.step_status, StepStatus::Succeeded);
    assert_eq!(
        hit.cache_hit_result,
        Some(json!({"SourcePipelineExecutionArn": first.arn()}))
    );
    assert_eq!(hit.cache_miss_reason, None);
    assert_eq!(
        hit.properties, prepared.properties,
        "the hit carries the first run's properties"
    );
    assert_eq!(ran(), "a\n", "a hit does not run the job");

    let mut parameters = Map::new();
    parameters.insert("Mode".into(), json!("a"));
    let plan = plan_request(
        &fx.store,
        "cached",
        None,
        &parameters,
        None,
        &[],
        &JobSettings::default(),
    )
    .expect("plan");
    let entry = &plan.entries[0];
    assert_eq!((entry.step.as_str(), entry.action), ("Prepare", Action::CacheHit));
    assert_eq!(entry.source_execution_arn.as_deref(), Some(first.arn()));

    let third = fx.run(start_with_mode("b"));
    assert_eq!(third.status(), ExecutionStatus::Succeeded);
    let missed = third.step("Prepare");
    assert_eq!(missed.cache_hit_result, None);
    assert_eq!(
        missed.cache_miss_reason.as_deref(),
        Some(format!(r#"since {}: Environment.MODE changed "a" -> "b""#, first.arn()).as_str())
    );
    assert_eq!(ran(), "a\nb\n");
}

/// A cached function step whose serialized function changed (the pipeline rebuilt with new
/// code) misses, and the reason names the code, not the argument that points at it.
#[test]
fn changed_code_misses_the_cache_and_says_so() {
    let fx = Fixture::new();
    let v1 = with(
        fx.function_step("Train", "def train(): return 1"),
        "CacheConfig",
        cache_on(),
    );
    fx.put_pipeline("code", &[v1]);
    let first = fx.run(request("code"));
    assert_eq!(first.status(), ExecutionStatus::Succeeded);
    assert_eq!(
        fx.run(request("code"))
            .step("Train")
            .cache_hit_result
            .as_ref()
            .map(|h| h["SourcePipelineExecutionArn"].clone()),
        Some(json!(first.arn()))
    );
    assert_eq!(fx.host.calls_of("Train"), 1);

    let v2 = with(
        fx.function_step("Train", "def train(): return 2"),
        "CacheConfig",
        cache_on(),
    );
    fx.put_pipeline("code", &[v2]);
    let changed = fx.run(request("code"));

    let train = changed.step("Train");
    assert_eq!(train.step_status, StepStatus::Succeeded);
    assert_eq!(train.cache_hit_result, None);
    assert_eq!(
        train.cache_miss_reason.as_deref(),
        Some(format!("since {}: function function.pkl changed", first.arn()).as_str())
    );
    assert_eq!(fx.host.calls_of("Train"), 2);
}
