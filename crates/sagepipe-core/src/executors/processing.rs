//! Processing steps (CreateProcessingJob): inputs staged at their `LocalPath`, the container
//! entry point run with its arguments and environment, each output's `LocalPath` collected
//! into the store at its `S3Uri`; properties shaped like DescribeProcessingJob.

use serde_json::{json, Value};

use super::container_job::{self, describe, time, Command, Input, JobKind, JobSpec, Output, Staging};
use super::job::{entrypoint_check, permanent, JobSettings};
use super::toolkit::HOST;
use super::{Outcome, StepContext, StepFailure, StepSuccess};
use crate::definition::FlatStep;
use crate::expr::render_text;

/// Where the service writes the processing job's configuration inside the container.
const CONFIG_DIR: &str = "/opt/ml/config";

pub fn check(step: &FlatStep, jobs: &JobSettings) -> Result<(), String> {
    let app = step.def.arguments.get("AppSpecification");
    let entrypoint = app
        .and_then(|a| a.get("ContainerEntrypoint"))
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty());
    match (entrypoint, app.and_then(|a| a.get("ImageUri"))) {
        // Only a literal program name can be checked now; an expression is resolved at run time.
        (Some(entrypoint), _) => match entrypoint.first() {
            Some(Value::String(program)) => entrypoint_check(step.name(), program),
            _ => Ok(()),
        },
        (None, Some(Value::String(image))) => image_check(step.name(), image, jobs),
        _ => Ok(()),
    }
}

/// An image run without an entry point or script needs a local runner.
pub fn image_check(step: &str, image: &str, jobs: &JobSettings) -> Result<(), String> {
    if jobs.runner_for(image).is_some() {
        return Ok(());
    }
    Err(format!(
        "step '{step}' runs image '{image}' without a script or ContainerEntrypoint, and no local runner is \
         registered for that image; register one with sagepipe.local_runners.register_image(<regex>, \
         command=[...]) (see the README, \"Local runners\")"
    ))
}

pub fn run(step: &FlatStep, args: &Value, ctx: &StepContext) -> Outcome {
    match run_job(step, args, ctx) {
        Ok(s) => Outcome::Succeeded(s),
        Err(f) => Outcome::Failed(f),
    }
}

/// A resolved string field, or an error naming the step and the field.
pub fn required(step: &str, v: &Value, pointer: &str) -> Result<String, StepFailure> {
    match v.pointer(pointer) {
        Some(Value::Null) | None => Err(permanent(format!(
            "step '{step}': the arguments have no {}",
            pointer.trim_start_matches('/').replace('/', ".")
        ))),
        Some(x) => Ok(render_text(x)),
    }
}

/// `Environment` as string pairs.
pub fn environment(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), render_text(v))).collect())
        .unwrap_or_default()
}

pub fn max_runtime(args: &Value) -> Option<f64> {
    args.pointer("/StoppingCondition/MaxRuntimeInSeconds")
        .and_then(|v| v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
}

fn run_job(step: &FlatStep, args: &Value, ctx: &StepContext) -> Result<StepSuccess, StepFailure> {
    let spec = job_spec(step.name(), args, &ctx.job_name, &ctx.jobs)?;
    let done = container_job::run(step.name(), ctx, &spec)?;
    let details = vec![
        ("ExitMessage", json!("")),
        ("CreationTime", time(done.created)),
        ("ProcessingStartTime", time(done.started)),
        ("ProcessingEndTime", time(done.stored)),
        ("LastModifiedTime", time(done.stored)),
    ];
    Ok(describe(
        JobKind::Processing,
        args,
        &ctx.job_name,
        details,
        done.artifacts,
    ))
}

/// The job a CreateProcessingJob request runs: its inputs staged at their `LocalPath`, its
/// entry point (or the image's runner) with its arguments, its outputs collected from theirs.
fn job_spec(name: &str, args: &Value, job_name: &str, jobs: &JobSettings) -> Result<JobSpec, StepFailure> {
    let inputs = inputs(name, args)?;
    let outputs = outputs(name, args)?;
    let app = args.get("AppSpecification").cloned().unwrap_or(Value::Null);
    let image = app.get("ImageUri").map(render_text).unwrap_or_default();
    let mut argv: Vec<String> = match app.get("ContainerEntrypoint").and_then(Value::as_array) {
        Some(e) if !e.is_empty() => e.iter().map(render_text).collect(),
        _ => {
            image_check(name, &image, jobs).map_err(permanent)?;
            jobs.runner_for(&image).map(|r| r.command.clone()).unwrap_or_default()
        }
    };
    argv.extend(
        app.get("ContainerArguments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(render_text),
    );
    let mut env = environment(args.get("Environment"));
    env.push(("SAGEPIPE_IMAGE_URI".into(), image));
    Ok(JobSpec {
        inputs,
        dirs: vec![],
        config_files: config_files(args, job_name),
        command: Command::Argv {
            argv,
            check_scripts: true,
        },
        env,
        max_runtime: max_runtime(args),
        failure_file: None,
        outputs,
    })
}

/// `ProcessingInputs`, each staged at its `LocalPath`.
fn inputs(name: &str, args: &Value) -> Result<Vec<Input>, StepFailure> {
    let mut inputs = Vec::new();
    for (i, input) in args
        .get("ProcessingInputs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let input_name = input
            .get("InputName")
            .map(render_text)
            .unwrap_or_else(|| format!("input-{}", i + 1));
        let what = format!("input '{input_name}'");
        let Some(s3) = input.get("S3Input") else {
            return Err(permanent(format!(
                "step '{name}': {what} has no S3Input; DatasetDefinition inputs (Athena, Redshift) need AWS and \
                 cannot be staged locally"
            )));
        };
        if s3.get("S3DataType").and_then(Value::as_str) == Some("ManifestFile") {
            return Err(permanent(format!(
                "step '{name}': {what} uses S3DataType ManifestFile, which is not supported locally; use S3Prefix"
            )));
        }
        inputs.push(Input {
            uri: required(name, s3, "/S3Uri")?,
            dir: required(name, s3, "/LocalPath")?,
            dir_what: what.clone(),
            what,
            staging: Staging::Copy,
        });
    }
    Ok(inputs)
}

/// `ProcessingOutputConfig.Outputs`, each collected from its `LocalPath`.
fn outputs(name: &str, args: &Value) -> Result<Vec<Output>, StepFailure> {
    let mut outputs = Vec::new();
    for output in args
        .pointer("/ProcessingOutputConfig/Outputs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let output_name = output.get("OutputName").map(render_text).unwrap_or_default();
        let what = format!("output '{output_name}'");
        let Some(s3) = output.get("S3Output") else {
            return Err(permanent(format!(
                "step '{name}': {what} has no S3Output; FeatureStoreOutput needs AWS"
            )));
        };
        let uri = required(name, s3, "/S3Uri")?;
        let dir = required(name, s3, "/LocalPath")?;
        outputs.push(Output::Collect { what, dir, uri });
    }
    Ok(outputs)
}

/// `/opt/ml/config/processingjobconfig.json` and `resourceconfig.json`, as the service writes.
fn config_files(args: &Value, job_name: &str) -> Vec<(String, String)> {
    let mut request = args.as_object().cloned().unwrap_or_default();
    request.insert("ProcessingJobName".into(), json!(job_name));
    let resource = json!({"current_host": HOST, "hosts": [HOST]});
    vec![
        (
            format!("{CONFIG_DIR}/processingjobconfig.json"),
            Value::Object(request).to_string(),
        ),
        (format!("{CONFIG_DIR}/resourceconfig.json"), resource.to_string()),
    ]
}
