//! `@step` function steps. In the definition they are Training steps shaped like the SDK's
//! (remote-function entry point and `--property_references`); locally the pickled function is
//! run by a Python worker process, or in-process when asked.

use serde_json::{json, Value};

use super::{from_answer, FailureKind, Outcome, StepContext, StepFailure};
use crate::definition::FlatStep;
use crate::expr::render_text;
use crate::function_args;
use crate::util;

/// The SDK's remote-function entry point ends with this script.
const JOB_DRIVER: &str = "job_driver.sh";

pub fn is_function_step(arguments: &Value) -> bool {
    arguments
        .pointer("/AlgorithmSpecification/ContainerEntrypoint")
        .and_then(Value::as_array)
        .and_then(|e| e.last())
        .and_then(Value::as_str)
        .is_some_and(|s| s.ends_with(JOB_DRIVER))
}

/// Where a function step puts its results: its resolved `OutputDataConfig.S3OutputPath` (the
/// step record keeps it for `execution.result()`).
pub fn results_uri(resolved_arguments: &Value) -> Option<String> {
    resolved_arguments
        .pointer("/OutputDataConfig/S3OutputPath")
        .map(render_text)
}

pub fn run(step: &FlatStep, args: &Value, ctx: &StepContext) -> Outcome {
    let fa = match function_args::parse(args) {
        Ok(f) => f,
        Err(e) => return Outcome::Failed(StepFailure::new(e, FailureKind::Permanent)),
    };
    let payload_uri = fa.payload_uri();
    let results_uri = match results_uri(args) {
        Some(uri) => uri,
        None => {
            return Outcome::Failed(StepFailure::new(
                "function step has no OutputDataConfig.S3OutputPath",
                FailureKind::Permanent,
            ))
        }
    };
    let (payload_dir, results_dir) = match (ctx.store.uri_to_path(&payload_uri), ctx.store.uri_to_path(&results_uri)) {
        (Ok(p), Ok(r)) => (p, r),
        (Err(e), _) | (_, Err(e)) => return Outcome::Failed(StepFailure::new(e.to_string(), FailureKind::Permanent)),
    };
    if payload_dir.join(SDK_FUNCTION_METADATA).is_file() {
        return run_sdk_job(step, args, ctx);
    }
    if !payload_dir.is_dir() {
        return Outcome::Failed(StepFailure::new(
            format!(
                "the serialized function of step '{}' is missing at {payload_uri} ({}); the definition was built \
                 against another store or by the SageMaker SDK, so rebuild the pipeline with sagepipe in this store",
                step.name(),
                payload_dir.display()
            ),
            FailureKind::Permanent,
        ));
    }
    let task = json!({
        "kind": "function",
        "step_name": step.name(),
        "payload_dir": payload_dir,
        "results_dir": results_dir,
        "results_uri": results_uri,
        "property_references": fa.property_references,
        "serialize_output_to_json": fa.serialize_output_to_json,
        "environment": args.get("Environment").cloned().unwrap_or(Value::Null),
        "execution_id": ctx.execution_id,
        "store_root": ctx.store.root(),
        "log_path": ctx.log_path,
    });
    let answer = match ctx.run_function(&task) {
        Ok(a) => a,
        Err(f) => return Outcome::Failed(f),
    };
    match from_answer(answer, ctx) {
        Outcome::Succeeded(mut s) => {
            s.properties = job_properties(args, ctx, &results_uri);
            s.metadata.insert(
                "TrainingJob".into(),
                json!({"Arn": util::job_arn("training-job", &ctx.job_name)}),
            );
            Outcome::Succeeded(s)
        }
        other => other,
    }
}

/// The SageMaker SDK's own serialized function (its `@step` payload layout), as opposed to
/// sagepipe's: such a step runs the SDK's job driver, as its container would.
const SDK_FUNCTION_METADATA: &str = "function/metadata.json";

/// A `@step` the real SageMaker SDK built: a training job that runs the request's own entry point
/// (the SDK's `job_driver.sh`, its runtime bootstrap, then its `invoke_function`) on the SDK's
/// payload, with the job's boto3 answered from the store (the routing this process exports).
/// The bootstrap `pip install -U`s the step's requirements; pip may not reach an index, so what
/// the environment already satisfies installs nothing and anything else fails the step, naming
/// the requirement.
fn run_sdk_job(step: &FlatStep, args: &Value, ctx: &StepContext) -> Outcome {
    let mut request = args.clone();
    if let Some(map) = request.as_object_mut() {
        let env = map.entry("Environment").or_insert_with(|| json!({}));
        if let Some(env) = env.as_object_mut() {
            env.insert("PIP_NO_INDEX".into(), json!("1"));
            env.insert("PIP_DISABLE_PIP_VERSION_CHECK".into(), json!("1"));
            // For a user other than root the bootstrap runs `sudo chmod -R 777` on the job's
            // directories and /tmp. Here they already belong to the user, and /tmp is the host's.
            env.insert("LOGNAME".into(), json!("root"));
        }
    }
    match super::training::run_job(step.name(), &request, ctx) {
        Ok(success) => Outcome::Succeeded(success),
        Err(failure) => Outcome::Failed(failure),
    }
}

/// DescribeTrainingJob-shaped properties: the resolved request plus what the job produced.
fn job_properties(args: &Value, ctx: &StepContext, results_uri: &str) -> Value {
    let mut p = args.as_object().cloned().unwrap_or_default();
    p.insert("TrainingJobName".into(), json!(ctx.job_name));
    p.insert(
        "TrainingJobArn".into(),
        json!(util::job_arn("training-job", &ctx.job_name)),
    );
    p.insert("TrainingJobStatus".into(), json!("Completed"));
    p.insert("SecondaryStatus".into(), json!("Completed"));
    p.insert(
        "ModelArtifacts".into(),
        json!({"S3ModelArtifacts": format!("{results_uri}/model.tar.gz")}),
    );
    Value::Object(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_job_driver_marks_a_function_step() {
        let args = json!({"AlgorithmSpecification": {"ContainerEntrypoint": ["/bin/bash", "/opt/ml/input/data/x/job_driver.sh"]}});
        assert!(is_function_step(&args));
        let args = json!({"AlgorithmSpecification": {"ContainerEntrypoint": ["python", "train.py"]}});
        assert!(!is_function_step(&args));
    }
}
