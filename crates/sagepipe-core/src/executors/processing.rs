//! Processing steps (CreateProcessingJob): inputs staged at their `LocalPath`, the container
//! entry point run with its arguments and environment, each output's `LocalPath` collected
//! into the store at its `S3Uri`; properties shaped like DescribeProcessingJob.

use serde_json::{json, Map, Value};
use std::fs;
use std::path::PathBuf;

use super::job::{entrypoint_check, permanent, Job, JobSettings};
use super::{artifact_record, Outcome, StepContext, StepFailure, StepSuccess};
use crate::definition::FlatStep;
use crate::expr::render_text;
use crate::util;

/// Where the service writes the processing job's configuration inside the container.
const CONFIG_DIR: &str = "/opt/ml/config";

/// Script file kinds checked for hard-coded `/opt/ml` paths when jobs run without namespaces.
const SCRIPT_EXTENSIONS: &[&str] = &["py", "sh", "bash", "r", "R", "pl", "rb", "js"];

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

/// Script files named on a command line (as host paths), for the fallback check.
pub fn scripts_in(job: &Job, argv: &[String]) -> Vec<PathBuf> {
    argv.iter()
        .filter(|a| {
            std::path::Path::new(a.as_str())
                .extension()
                .is_some_and(|e| SCRIPT_EXTENSIONS.iter().any(|x| e == *x))
        })
        .map(|a| job.dirs.host_path(a).unwrap_or_else(|| PathBuf::from(a)))
        .filter(|p| p.is_file())
        .collect()
}

fn run_job(step: &FlatStep, args: &Value, ctx: &StepContext) -> Result<StepSuccess, StepFailure> {
    let name = step.name();
    let job = Job::create(name, ctx, &ctx.jobs)?;
    let created = util::now();
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
        let uri = required(name, s3, "/S3Uri")?;
        let local = required(name, s3, "/LocalPath")?;
        let host = job.host(&what, &local)?;
        job.stage(&what, &uri, &host)?;
    }
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
        let local = required(name, s3, "/LocalPath")?;
        let host = job.host(&what, &local)?;
        fs::create_dir_all(&host).map_err(|e| permanent(format!("step '{name}': cannot create {local}: {e}")))?;
        outputs.push((what, uri, host));
    }
    write_config(&job, args)?;

    let app = args.get("AppSpecification").cloned().unwrap_or(Value::Null);
    let image = app.get("ImageUri").map(render_text).unwrap_or_default();
    let mut argv: Vec<String> = match app.get("ContainerEntrypoint").and_then(Value::as_array) {
        Some(e) if !e.is_empty() => e.iter().map(render_text).collect(),
        _ => {
            image_check(name, &image, &ctx.jobs).map_err(permanent)?;
            ctx.jobs
                .runner_for(&image)
                .map(|r| r.command.clone())
                .unwrap_or_default()
        }
    };
    argv.extend(
        app.get("ContainerArguments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(render_text),
    );
    job.refuse_hardcoded_paths(&scripts_in(&job, &argv))?;
    let mut env = environment(args.get("Environment"));
    env.push(("SAGEPIPE_IMAGE_URI".into(), image));
    let started = util::now();
    job.run(&argv, &env, &job.dirs.work.to_string_lossy(), max_runtime(args))?;

    let mut artifacts = Vec::new();
    for (what, uri, host) in &outputs {
        job.collect(what, host, uri)?;
        artifacts.extend(artifact_record(ctx, uri));
    }
    let ended = util::now();
    let arn = util::job_arn("processing-job", &ctx.job_name);
    let mut props: Map<String, Value> = args.as_object().cloned().unwrap_or_default();
    props.insert("ProcessingJobName".into(), json!(ctx.job_name));
    props.insert("ProcessingJobArn".into(), json!(arn));
    props.insert("ProcessingJobStatus".into(), json!("Completed"));
    props.insert("ExitMessage".into(), json!(""));
    props.insert("CreationTime".into(), json!(util::iso8601(created)));
    props.insert("ProcessingStartTime".into(), json!(util::iso8601(started)));
    props.insert("ProcessingEndTime".into(), json!(util::iso8601(ended)));
    props.insert("LastModifiedTime".into(), json!(util::iso8601(ended)));
    let mut metadata = Map::new();
    metadata.insert("ProcessingJob".into(), json!({"Arn": arn}));
    Ok(StepSuccess {
        properties: Value::Object(props),
        metadata,
        artifacts,
    })
}

/// `/opt/ml/config/processingjobconfig.json` and `resourceconfig.json`, as the service writes.
fn write_config(job: &Job, args: &Value) -> Result<(), StepFailure> {
    let dir = job.host("config", CONFIG_DIR)?;
    let mut request = args.as_object().cloned().unwrap_or_default();
    request.insert("ProcessingJobName".into(), json!(job.ctx.job_name));
    let resource = json!({"current_host": "algo-1", "hosts": ["algo-1"]});
    fs::create_dir_all(&dir)
        .and_then(|_| fs::write(dir.join("processingjobconfig.json"), Value::Object(request).to_string()))
        .and_then(|_| fs::write(dir.join("resourceconfig.json"), resource.to_string()))
        .map_err(|e| permanent(format!("step '{}': cannot write the job configuration: {e}", job.step)))
}
