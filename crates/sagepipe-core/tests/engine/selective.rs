//! Selective runs: selected steps run, the steps they need are reused from a reference
//! execution, the rest do not run.

use serde_json::{json, Map};

use super::common::{request, with, Fixture};
use sagepipe_core::engine::plan::plan_request;
use sagepipe_core::executors::JobSettings;
use sagepipe_core::selection::Action;
use sagepipe_core::store::{ExecutionStatus, StepStatus};

/// `Load -> Train -> Report`, `Train` reading `Load`'s job name. After a full run, a run that
/// selects `Train` with the full run as reference: the plan says what each step will do; the
/// run reuses `Load`'s record from the reference (without running it, and `Train` reads the
/// reference's value), runs `Train`, and does not run `Report`.
#[test]
fn a_selective_run_reuses_from_its_reference_and_runs_what_it_selects() {
    let fx = Fixture::new();
    let load = fx.function_step("Load", "load");
    let mut train = fx.function_step("Train", "train");
    train["Arguments"]["Environment"] = json!({"LOADED_BY": {"Get": "Steps.Load.TrainingJobName"}});
    let report = with(fx.function_step("Report", "report"), "DependsOn", json!(["Train"]));
    fx.put_pipeline("selective", &[load, train, report]);

    let full = fx.run(request("selective"));
    assert_eq!(full.status(), ExecutionStatus::Succeeded);
    let loaded_by = full.step("Load").properties.as_ref().expect("properties")["TrainingJobName"].clone();
    assert_eq!(
        fx.host.last_task("Train").expect("Train ran")["environment"]["LOADED_BY"],
        loaded_by
    );

    let config = json!({"SourcePipelineExecutionArn": full.arn(), "SelectedSteps": [{"StepName": "Train"}]});
    let plan = plan_request(
        &fx.store,
        "selective",
        Some(&config),
        &Map::new(),
        None,
        &[],
        &JobSettings::default(),
    )
    .expect("plan");
    let actions: Vec<(&str, Action, Option<&str>)> = plan
        .entries
        .iter()
        .map(|e| (e.step.as_str(), e.action, e.source_execution_arn.as_deref()))
        .collect();
    assert_eq!(
        actions,
        [
            ("Load", Action::Reuse, Some(full.arn())),
            ("Train", Action::Run, None),
            ("Report", Action::NotSelected, None)
        ]
    );

    let mut req = request("selective");
    req.selective_execution_config = Some(config.clone());
    let partial = fx.run(req);

    assert_eq!(partial.status(), ExecutionStatus::Succeeded);
    assert_eq!(partial.record.selective_execution_config, Some(config));
    let reused = partial.step("Load");
    assert_eq!(reused.step_status, StepStatus::Succeeded);
    assert_eq!(
        reused.selective_execution_result,
        Some(json!({"SourcePipelineExecutionArn": full.arn()}))
    );
    assert_eq!(reused.properties, full.step("Load").properties);
    assert_eq!(fx.host.calls_of("Load"), 1, "a reused step does not run");

    let ran = partial.step("Train");
    assert_eq!(ran.step_status, StepStatus::Succeeded);
    assert_eq!(ran.selective_execution_result, None);
    assert_ne!(
        ran.properties,
        full.step("Train").properties,
        "Train ran again: a new job"
    );
    assert_eq!(fx.host.calls_of("Train"), 2);
    assert_eq!(
        fx.host.last_task("Train").expect("Train ran")["environment"]["LOADED_BY"],
        loaded_by,
        "the selected step reads the reused step's properties from the reference"
    );

    assert!(!partial.steps.contains_key("Report"), "{:?}", partial.statuses());
    assert_eq!(fx.host.calls_of("Report"), 1);
}
