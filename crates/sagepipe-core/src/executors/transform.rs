//! Transform steps (CreateTransformJob): batch transform of every input file with a model
//! recorded by a CreateModel step, written as `<input file>.out` under
//! `TransformOutput.S3OutputPath`. Models it can serve: the built-in XGBoost algorithm's, and
//! script-mode models (`SAGEMAKER_PROGRAM` with `model_fn`/`input_fn`/`predict_fn`/`output_fn`).
//! The serving itself is the Python runtime's batch-transform module (`RuntimeModules`), run as a job.

use regex::Regex;
use serde_json::{json, Map, Value};
use std::fs;

use super::job::{self, job_error, permanent, Job, JobSettings, XGBOOST_IMAGE_PATTERN};
use super::processing::{environment, required};
use super::{artifact_record, Outcome, StepContext, StepFailure, StepSuccess};
use crate::definition::FlatStep;
use crate::expr::render_text;
use crate::util;
use crate::validate::CompiledPipeline;

pub fn run(step: &FlatStep, args: &Value, ctx: &StepContext) -> Outcome {
    match run_job(step, args, ctx) {
        Ok(s) => Outcome::Succeeded(s),
        Err(f) => Outcome::Failed(f),
    }
}

/// Data processing locally: no JSONPath filters; `JoinSource` `Input` joins CSV lines.
fn check_data_processing(step: &str, args: &Value) -> Result<(), StepFailure> {
    let Some(dp) = args.get("DataProcessing") else {
        return Ok(());
    };
    for (key, allowed) in [
        ("InputFilter", &["$"][..]),
        ("OutputFilter", &["$"][..]),
        ("JoinSource", &["None", "Input"][..]),
    ] {
        if let Some(v) = dp.get(key).map(render_text) {
            if !allowed.contains(&v.as_str()) {
                return Err(permanent(format!(
                    "step '{step}': DataProcessing.{key} = {v:?} is not supported locally (only {})",
                    allowed.join(" or ")
                )));
            }
        }
    }
    Ok(())
}

/// How many containers a CreateModel request (or recorded model) lists in `Containers`.
fn container_count(model: &Value) -> Option<usize> {
    model.get("Containers").and_then(Value::as_array).map(Vec::len)
}

fn multi_container_reason(step: &str, model: &str, containers: usize) -> String {
    format!(
        "step '{step}': {model} is an inference pipeline of {containers} containers (PipelineModel); locally a \
         transform serves a model of one container"
    )
}

/// The serving mode of a model container: `script` (SAGEMAKER_PROGRAM), `xgboost` (the
/// built-in algorithm's image), or None when sagepipe cannot serve it.
fn serving_mode(image: &str, has_program: bool) -> Option<&'static str> {
    if has_program {
        Some("script")
    } else if Regex::new(XGBOOST_IMAGE_PATTERN).is_ok_and(|re| re.is_match(image)) {
        Some("xgboost")
    } else {
        None
    }
}

/// The runtime module that serves batch transforms.
fn serving_module<'a>(step: &str, jobs: &'a JobSettings) -> Result<&'a str, String> {
    jobs.batch_transform.as_deref().ok_or_else(|| {
        format!("step '{step}': transform jobs are served by the Python runtime, which this engine was not given")
    })
}

fn unservable_reason(step: &str, model: &str, image: &str) -> String {
    format!(
        "step '{step}': {model} (image '{image}') cannot be served locally: batch transform runs models of the \
         built-in XGBoost algorithm and script-mode models (SAGEMAKER_PROGRAM with model_fn/input_fn/predict_fn/\
         output_fn)"
    )
}

/// Before the run: transforms need the runtime's batch-transform module, and a transform whose
/// model comes from a CreateModel step of this pipeline must be one sagepipe can serve (one
/// container, script mode or the XGBoost algorithm). Containers whose image or environment are
/// only known at run time are checked when the step runs.
pub fn check(step: &FlatStep, jobs: &JobSettings, pipeline: &CompiledPipeline) -> Result<(), String> {
    serving_module(step.name(), jobs)?;
    let Some(source) = step
        .def
        .arguments
        .pointer("/ModelName/Get")
        .and_then(Value::as_str)
        .and_then(|g| g.strip_prefix("Steps."))
        .and_then(|g| g.strip_suffix(".ModelName"))
    else {
        return Ok(());
    };
    let Some(model) = pipeline.step(source).map(|s| &s.def.arguments) else {
        return Ok(());
    };
    let described = format!("the model of step '{source}'");
    if let Some(n) = container_count(model).filter(|n| *n > 1) {
        return Err(multi_container_reason(step.name(), &described, n));
    }
    let container = model.get("PrimaryContainer").or_else(|| model.pointer("/Containers/0"));
    let Some(Value::String(image)) = container.and_then(|c| c.get("Image")) else {
        return Ok(());
    };
    let has_program = container
        .and_then(|c| c.pointer("/Environment/SAGEMAKER_PROGRAM"))
        .is_some_and(|p| p != &json!(""));
    match serving_mode(image, has_program) {
        Some(_) => Ok(()),
        None => Err(unservable_reason(step.name(), &described, image)),
    }
}

fn run_job(step: &FlatStep, args: &Value, ctx: &StepContext) -> Result<StepSuccess, StepFailure> {
    let name = step.name();
    check_data_processing(name, args)?;
    let model_name = required(name, args, "/ModelName")?;
    let model = ctx.store.load_model(&model_name).map_err(|_| {
        permanent(format!(
            "step '{name}': model '{model_name}' is not in this store; a CreateModel step (ModelStep) of a local run \
             records the models a TransformStep can serve"
        ))
    })?;
    if let Some(n) = container_count(&model).filter(|n| *n > 1) {
        return Err(permanent(multi_container_reason(
            name,
            &format!("model '{model_name}'"),
            n,
        )));
    }
    let container = model
        .get("PrimaryContainer")
        .or_else(|| model.pointer("/Containers/0"))
        .cloned()
        .unwrap_or(Value::Null);
    let image = container.get("Image").map(render_text).unwrap_or_default();
    let model_env = environment(container.get("Environment"));
    let env_of = |k: &str| model_env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let program = env_of("SAGEMAKER_PROGRAM").filter(|p| !p.is_empty());
    let Some(mode) = serving_mode(&image, program.is_some()) else {
        return Err(permanent(unservable_reason(
            name,
            &format!("model '{model_name}'"),
            &image,
        )));
    };

    let job = Job::create(name, ctx, &ctx.jobs)?;
    let created = util::now();
    let ml = job.ml_root();
    let model_dir = job.dirs.ml.join("model");
    if let Some(url) = container.get("ModelDataUrl").map(render_text).filter(|u| !u.is_empty()) {
        ctx.store
            .uri_to_path(&url)
            .map_err(|e| permanent(format!("step '{name}': ModelDataUrl: {e}")))?;
        job::copy_dir_or_unpack(&ctx.store, &url, &model_dir)
            .map_err(|e| job_error(format!("step '{name}': cannot unpack the model {url}: {e}")))?;
    }
    fs::create_dir_all(&model_dir).map_err(|e| permanent(format!("step '{name}': {e}")))?;
    let code_dir = match env_of("SAGEMAKER_SUBMIT_DIRECTORY").filter(|d| !d.is_empty()) {
        Some(dir) if dir.starts_with("/opt/ml/") => dir,
        Some(uri) => {
            ctx.store
                .uri_to_path(&uri)
                .map_err(|e| permanent(format!("step '{name}': SAGEMAKER_SUBMIT_DIRECTORY: {e}")))?;
            let code = job.dirs.ml.join("code");
            job::copy_dir_or_unpack(&ctx.store, &uri, &code)
                .map_err(|e| job_error(format!("step '{name}': cannot unpack the source directory {uri}: {e}")))?;
            "/opt/ml/code".to_string()
        }
        None => "/opt/ml/model/code".to_string(),
    };

    let input_uri = required(name, args, "/TransformInput/DataSource/S3DataSource/S3Uri")?;
    let input_dir = job.host("input", "/opt/ml/transform/input")?;
    let output_dir = job.host("output", "/opt/ml/transform/output")?;
    job.stage("transform input", &input_uri, &input_dir)?;
    fs::create_dir_all(&output_dir).map_err(|e| permanent(format!("step '{name}': {e}")))?;
    let output_uri = required(name, args, "/TransformOutput/S3OutputPath")?;
    let text = |p: &str| args.pointer(p).map(render_text);
    let config = json!({
        "mode": mode,
        "image": image,
        "program": program,
        "model_dir": "/opt/ml/model",
        "code_dir": code_dir,
        "input_dir": "/opt/ml/transform/input",
        "output_dir": "/opt/ml/transform/output",
        "content_type": text("/TransformInput/ContentType"),
        "split_type": text("/TransformInput/SplitType").unwrap_or_else(|| "None".into()),
        "compression_type": text("/TransformInput/CompressionType").unwrap_or_else(|| "None".into()),
        "accept": text("/TransformOutput/Accept"),
        "assemble_with": text("/TransformOutput/AssembleWith").unwrap_or_else(|| "None".into()),
        "batch_strategy": text("/BatchStrategy").unwrap_or_else(|| "MultiRecord".into()),
        "join_source": text("/DataProcessing/JoinSource").unwrap_or_else(|| "None".into()),
    });
    let mut env = model_env.clone();
    env.extend(environment(args.get("Environment")));
    env.push(("SAGEPIPE_TRANSFORM".into(), config.to_string()));
    env.push(("SM_MODEL_DIR".into(), ml.join("model").to_string_lossy().into_owned()));
    env.push(("SAGEPIPE_IMAGE_URI".into(), image));
    let module = serving_module(name, &ctx.jobs).map_err(permanent)?;
    let argv: Vec<String> = vec!["python3".into(), "-m".into(), module.to_string()];
    let started = util::now();
    job.run(&argv, &env, &job.dirs.work.to_string_lossy(), None)?;
    job.collect("transform output", &output_dir, &output_uri)?;
    let ended = util::now();

    let arn = util::job_arn("transform-job", &ctx.job_name);
    let mut props: Map<String, Value> = args.as_object().cloned().unwrap_or_default();
    props.insert("TransformJobName".into(), json!(ctx.job_name));
    props.insert("TransformJobArn".into(), json!(arn));
    props.insert("TransformJobStatus".into(), json!("Completed"));
    props.insert("CreationTime".into(), json!(util::iso8601(created)));
    props.insert("TransformStartTime".into(), json!(util::iso8601(started)));
    props.insert("TransformEndTime".into(), json!(util::iso8601(ended)));
    let mut metadata = Map::new();
    metadata.insert("TransformJob".into(), json!({"Arn": arn}));
    Ok(StepSuccess {
        properties: Value::Object(props),
        metadata,
        artifacts: artifact_record(ctx, &output_uri).into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executors::RuntimeModules;

    #[test]
    fn transforms_need_the_runtimes_serving_module() {
        let c = crate::validate::compile(
            r#"{"Version": "2020-12-01", "Steps": [{"Name": "T", "Type": "Transform",
                "Arguments": {"ModelName": "m", "TransformInput": {}, "TransformOutput": {}}}]}"#,
            "p",
        )
        .expect("compile");
        let step = c.step("T").expect("step");
        let err = check(step, &JobSettings::default(), &c).expect_err("no runtime");
        assert!(err.contains("step 'T'") && err.contains("Python runtime"), "{err}");
        let jobs = JobSettings::default().with_runtime(&RuntimeModules::for_tests());
        assert_eq!(check(step, &jobs, &c), Ok(()));
        assert_eq!(serving_module("T", &jobs), Ok("runtime_under_test.batch_transform"));
    }
}
