//! Transform steps (CreateTransformJob): batch transform of every input file with a model
//! recorded by a CreateModel step, written as `<input file>.out` under
//! `TransformOutput.S3OutputPath`. Models it can serve: the built-in XGBoost algorithm's, and
//! script-mode models (`SAGEMAKER_PROGRAM` with `model_fn`/`input_fn`/`predict_fn`/`output_fn`).
//! The serving itself is the Python runtime's batch-transform module (`RuntimeModules`), run as a job.

use regex::Regex;
use serde_json::{json, Value};

use super::container_job::{self, describe, time, Command, Input, JobKind, JobSpec, Output, Staging, CODE_DIR};
use super::job::{permanent, JobSettings, XGBOOST_IMAGE_PATTERN};
use super::processing::{environment, required};
use super::{Outcome, StepContext, StepFailure, StepSuccess};
use crate::definition::FlatStep;
use crate::expr::render_text;
use crate::validate::CompiledPipeline;

/// Where the job finds its model, its input and its output directory.
const MODEL_DIR: &str = "/opt/ml/model";
const INPUT_DIR: &str = "/opt/ml/transform/input";
const OUTPUT_DIR: &str = "/opt/ml/transform/output";

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
    let module = serving_module(name, &ctx.jobs).map_err(permanent)?;
    let model = served_model(name, args, ctx)?;
    let spec = job_spec(name, args, model, module)?;
    let done = container_job::run(name, ctx, &spec)?;
    let details = vec![
        ("CreationTime", time(done.created)),
        ("TransformStartTime", time(done.started)),
        ("TransformEndTime", time(done.stored)),
    ];
    Ok(describe(
        JobKind::Transform,
        args,
        &ctx.job_name,
        details,
        done.artifacts,
    ))
}

/// The model container a transform serves, from the model recorded in the store.
struct ServedModel {
    container: Value,
    image: String,
    env: Vec<(String, String)>,
    program: Option<String>,
    mode: &'static str,
}

impl ServedModel {
    fn env(&self, key: &str) -> Option<String> {
        self.env.iter().find(|(n, _)| n == key).map(|(_, v)| v.clone())
    }
}

/// The model a transform names, if it is in the store and sagepipe can serve it.
fn served_model(name: &str, args: &Value, ctx: &StepContext) -> Result<ServedModel, StepFailure> {
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
    let env = environment(container.get("Environment"));
    let program = env
        .iter()
        .find(|(n, _)| n == "SAGEMAKER_PROGRAM")
        .map(|(_, v)| v.clone())
        .filter(|p| !p.is_empty());
    let Some(mode) = serving_mode(&image, program.is_some()) else {
        return Err(permanent(unservable_reason(
            name,
            &format!("model '{model_name}'"),
            &image,
        )));
    };
    Ok(ServedModel {
        container,
        image,
        env,
        program,
        mode,
    })
}

/// The job a CreateTransformJob request runs: the runtime's batch-transform `module` serving
/// the model over every input file.
fn job_spec(name: &str, args: &Value, model: ServedModel, module: &str) -> Result<JobSpec, StepFailure> {
    let mut inputs = Vec::new();
    if let Some(url) = model
        .container
        .get("ModelDataUrl")
        .map(render_text)
        .filter(|u| !u.is_empty())
    {
        inputs.push(Input {
            what: "the model".into(),
            dir_what: "model".into(),
            uri: url,
            dir: MODEL_DIR.into(),
            staging: Staging::Unpack {
                field: Some("ModelDataUrl"),
            },
        });
    }
    let code_dir = match model.env("SAGEMAKER_SUBMIT_DIRECTORY").filter(|d| !d.is_empty()) {
        Some(dir) if dir.starts_with("/opt/ml/") => dir,
        Some(uri) => {
            inputs.push(Input {
                what: "the source directory".into(),
                dir_what: "code".into(),
                uri,
                dir: CODE_DIR.into(),
                staging: Staging::Unpack {
                    field: Some("SAGEMAKER_SUBMIT_DIRECTORY"),
                },
            });
            CODE_DIR.to_string()
        }
        None => format!("{MODEL_DIR}/code"),
    };
    inputs.push(Input {
        what: "transform input".into(),
        dir_what: "input".into(),
        uri: required(name, args, "/TransformInput/DataSource/S3DataSource/S3Uri")?,
        dir: INPUT_DIR.into(),
        staging: Staging::Copy,
    });
    let output_uri = required(name, args, "/TransformOutput/S3OutputPath")?;
    let config = serving_config(args, &model, &code_dir);
    let mut env = model.env;
    env.extend(environment(args.get("Environment")));
    env.push(("SAGEPIPE_TRANSFORM".into(), config.to_string()));
    env.push(("SM_MODEL_DIR".into(), MODEL_DIR.into()));
    env.push(("SAGEPIPE_IMAGE_URI".into(), model.image));
    Ok(JobSpec {
        inputs,
        dirs: vec![("model".into(), MODEL_DIR.into())],
        config_files: vec![],
        command: Command::Argv {
            argv: vec!["python3".into(), "-m".into(), module.to_string()],
            check_scripts: false,
        },
        env,
        max_runtime: None,
        failure_file: None,
        outputs: vec![Output::Collect {
            what: "transform output".into(),
            dir: OUTPUT_DIR.into(),
            uri: output_uri,
        }],
    })
}

/// What `batch_transform` is told (`SAGEPIPE_TRANSFORM`): how to serve the model, and how to
/// split, batch, join and assemble the records.
fn serving_config(args: &Value, model: &ServedModel, code_dir: &str) -> Value {
    let text = |p: &str| args.pointer(p).map(render_text);
    json!({
        "mode": model.mode,
        "image": model.image,
        "program": model.program,
        "model_dir": MODEL_DIR,
        "code_dir": code_dir,
        "input_dir": INPUT_DIR,
        "output_dir": OUTPUT_DIR,
        "content_type": text("/TransformInput/ContentType"),
        "split_type": text("/TransformInput/SplitType").unwrap_or_else(|| "None".into()),
        "compression_type": text("/TransformInput/CompressionType").unwrap_or_else(|| "None".into()),
        "accept": text("/TransformOutput/Accept"),
        "assemble_with": text("/TransformOutput/AssembleWith").unwrap_or_else(|| "None".into()),
        "batch_strategy": text("/BatchStrategy").unwrap_or_else(|| "MultiRecord".into()),
        "join_source": text("/DataProcessing/JoinSource").unwrap_or_else(|| "None".into()),
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
