//! What running one step means, per step type. The scheduler resolves a step's arguments and
//! calls `execute`; executors never touch other steps' state.

mod archive;
mod container_job;
mod context;
mod function;
mod job;
mod model;
mod processing;
mod runtime;
mod toolkit;
mod training;
mod transform;
mod tuning;

pub use context::{StepContext, StepServices};
pub use function::{is_function_step, results_uri as function_results_uri};
pub use job::{sweep_jobs, ImageRunner, JobSettings};
pub use runtime::RuntimeModules;

use serde_json::{json, Map, Value};

use super::definition::FlatStep;
use super::expr::{evaluate_condition, render_text, Scope};
use super::store::fingerprint::{artifact_at, quick_stat};
use super::store::{ArtifactRecord, InlineObject, Store, INLINE_LIMIT};
use super::validate::CompiledPipeline;

/// How a step will be run, decided before the execution starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    Condition,
    Fail,
    /// A `@step` function (Type Training with the remote-function entry point).
    Function,
    /// Run by a handler registered from Python for this step type.
    External,
    /// Container jobs run locally under the `/opt/ml` contract (`sandbox`).
    Processing,
    Training,
    Transform,
    /// A hyperparameter tuning job: its training jobs run as Training steps do (`tuning`).
    Tuning,
    /// CreateModel and CreateModelPackage: records in the store.
    Model,
    RegisterModel,
    /// Cannot run locally; allowed only where the step does not run (outside a selection).
    Unsupported,
}

pub struct StepSuccess {
    pub properties: Value,
    pub metadata: Map<String, Value>,
    pub artifacts: Vec<ArtifactRecord>,
    /// Artifacts kept inline: written with the step's record (`Store::write_step_with_objects`).
    pub objects: Vec<InlineObject>,
}

/// How a failed attempt came about, by cause; the engine maps it to the retry policies'
/// exception types (`engine::retry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The step's own code failed (non-zero exit, raised exception, killed worker).
    Job,
    /// The local runner failed around the step (spawning a worker, writing the store).
    Service,
    /// The step cannot succeed as defined (bad arguments, missing inputs): never retried.
    Permanent,
}

pub struct StepFailure {
    pub reason: String,
    pub kind: FailureKind,
    pub error: Option<Box<Value>>,
    pub metadata: Box<Map<String, Value>>,
}

impl StepFailure {
    pub fn new(reason: impl Into<String>, kind: FailureKind) -> Self {
        StepFailure {
            reason: reason.into(),
            kind,
            error: None,
            metadata: Box::default(),
        }
    }
}

pub enum Outcome {
    Succeeded(StepSuccess),
    Failed(StepFailure),
    Stopped(String),
}

/// The container entry point of SageMaker notebook jobs (`NotebookJobStep`).
const NOTEBOOK_SCHEDULER: &str = "amazon_sagemaker_scheduler";

/// The type a step is handled as: its definition type, except that a notebook job (a Training
/// step in the definition, running the SageMaker scheduler image) is `NotebookJob`, so it gets
/// its own handler and its own "cannot run locally" error instead of failing as a job.
fn local_type(step: &FlatStep) -> &str {
    let scheduler = step
        .def
        .arguments
        .pointer("/AlgorithmSpecification/ContainerEntrypoint")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
        .and_then(Value::as_str)
        == Some(NOTEBOOK_SCHEDULER);
    if step.def.step_type == "Training" && scheduler {
        "NotebookJob"
    } else {
        &step.def.step_type
    }
}

/// Decide how `step` runs, or say why it cannot run locally.
pub fn classify(step: &FlatStep, external_types: &[String]) -> Result<StepKind, String> {
    let t = local_type(step);
    if external_types.iter().any(|e| e == t) {
        return Ok(StepKind::External);
    }
    match t {
        "Condition" => Ok(StepKind::Condition),
        "Fail" => Ok(StepKind::Fail),
        "Training" if is_function_step(&step.def.arguments) => Ok(StepKind::Function),
        "Processing" => Ok(StepKind::Processing),
        "Training" => Ok(StepKind::Training),
        "Transform" => Ok(StepKind::Transform),
        "Tuning" => Ok(StepKind::Tuning),
        "Model" => Ok(StepKind::Model),
        "RegisterModel" => Ok(StepKind::RegisterModel),
        "Lambda"
        | "Callback"
        | "EMR"
        | "EMRServerless"
        | "ClarifyCheck"
        | "QualityCheck"
        | "AutoML"
        | "NotebookJob"
        | "EndpointConfig"
        | "Endpoint"
        | "InferenceComponent"
        | "Lineage"
        | "BedrockCustomModel"
        | "BedrockCustomModelDeployment"
        | "BedrockModelImport"
        | "BedrockProvisionedModelThroughput" => Err(format!(
            "step '{}' of type {t} has no local meaning (it needs AWS services); register a local handler for \
             type {t} to run it locally",
            step.name()
        )),
        other => Err(format!(
            "step '{}' has type '{other}', which is not a SageMaker step type{}; expected one of {}",
            step.name(),
            super::error::did_you_mean(other, super::validate::KNOWN_STEP_TYPES.iter().copied()),
            super::validate::KNOWN_STEP_TYPES.join(", ")
        )),
    }
}

/// How `step` runs locally, or why it cannot (a reason naming the step): its kind, then what can
/// be checked of its job before the run. The one check both a start (for the steps that run) and
/// a plan apply.
pub fn local_kind(
    step: &FlatStep,
    external_types: &[String],
    jobs: &JobSettings,
    pipeline: &CompiledPipeline,
) -> Result<StepKind, String> {
    classify(step, external_types).and_then(|k| check_runnable(step, &k, jobs, pipeline).map(|_| k))
}

/// What can be checked about a job before the run starts: a container image with neither a
/// script nor an entry point needs a local runner; an entry point program must exist here; a
/// transform needs a model of one container.
pub fn check_runnable(
    step: &FlatStep,
    kind: &StepKind,
    jobs: &JobSettings,
    pipeline: &CompiledPipeline,
) -> Result<(), String> {
    match kind {
        StepKind::Processing => processing::check(step, jobs),
        StepKind::Training => training::check(step, jobs),
        StepKind::Transform => transform::check(step, jobs, pipeline),
        StepKind::Tuning => tuning::check(step, jobs),
        _ => Ok(()),
    }
}

/// Run one attempt of a step whose arguments are already resolved.
pub fn execute(kind: &StepKind, step: &FlatStep, args: &Value, ctx: &StepContext, scope: &dyn Scope) -> Outcome {
    match kind {
        StepKind::Condition => condition(step, scope),
        StepKind::Fail => fail(args),
        StepKind::Function => function::run(step, args, ctx),
        StepKind::External => external(step, args, ctx),
        StepKind::Processing => processing::run(step, args, ctx),
        StepKind::Training => training::run(step, args, ctx),
        StepKind::Transform => transform::run(step, args, ctx),
        StepKind::Tuning => tuning::run(step, args, ctx),
        StepKind::Model => model::create_model(step, args, ctx),
        StepKind::RegisterModel => model::register_model(step, args, ctx),
        StepKind::Unsupported => Outcome::Failed(StepFailure::new(
            format!(
                "step '{}' of type {} cannot run locally",
                step.name(),
                step.def.step_type
            ),
            FailureKind::Permanent,
        )),
    }
}

fn condition(step: &FlatStep, scope: &dyn Scope) -> Outcome {
    let conditions = step
        .def
        .arguments
        .get("Conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut outcome = true;
    for (i, c) in conditions.iter().enumerate() {
        match evaluate_condition(c, scope) {
            Ok(true) => {}
            Ok(false) => {
                outcome = false;
                break;
            }
            Err(e) => {
                return Outcome::Failed(StepFailure::new(format!("Condition {i}: {e}"), FailureKind::Permanent));
            }
        }
    }
    let mut metadata = Map::new();
    metadata.insert(
        "Condition".into(),
        json!({"Outcome": if outcome { "True" } else { "False" }}),
    );
    Outcome::Succeeded(StepSuccess {
        properties: json!({"Outcome": outcome}),
        metadata,
        artifacts: vec![],
        objects: vec![],
    })
}

fn fail(args: &Value) -> Outcome {
    let message = args.get("ErrorMessage").map(render_text).unwrap_or_default();
    let mut f = StepFailure::new(message.clone(), FailureKind::Permanent);
    f.metadata.insert("Fail".into(), json!({"ErrorMessage": message}));
    Outcome::Failed(f)
}

fn external(step: &FlatStep, args: &Value, ctx: &StepContext) -> Outcome {
    let task = json!({
        "kind": "external",
        "step_name": step.name(),
        "step_type": local_type(step),
        "arguments": args,
        "job_name": ctx.job_name,
        "execution_id": ctx.execution_id,
        "store_root": ctx.store.root(),
        "log_path": ctx.log_path,
        "property_files": step.def.property_files,
    });
    match ctx.host_call(&task) {
        Ok(answer) => from_answer(answer, ctx),
        Err(failure) => Outcome::Failed(failure),
    }
}

/// Turn a Python host's JSON answer into an outcome.
pub(crate) fn from_answer(answer: Value, ctx: &StepContext) -> Outcome {
    if answer.get("ok").and_then(Value::as_bool) == Some(true) {
        let mut artifacts = Vec::new();
        let mut objects = Vec::new();
        for item in answer.get("artifacts").and_then(Value::as_array).into_iter().flatten() {
            match inline_artifact(&ctx.store, item) {
                Some(Ok((artifact, object))) => {
                    artifacts.push(artifact);
                    objects.push(object);
                }
                Some(Err(reason)) => return Outcome::Failed(StepFailure::new(reason, FailureKind::Service)),
                None => artifacts.extend(answered_artifact(&ctx.store, item)),
            }
        }
        Outcome::Succeeded(StepSuccess {
            properties: answer.get("properties").cloned().unwrap_or(Value::Null),
            metadata: answer
                .get("metadata")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            artifacts,
            objects,
        })
    } else if ctx.stopping() {
        Outcome::Stopped("Stopped by request".into())
    } else {
        let error = answer.get("error").cloned().map(Box::new);
        let reason = answer
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or("step failed")
            .to_string();
        let kind = match answer.get("failure_kind").and_then(Value::as_str) {
            Some("permanent") => FailureKind::Permanent,
            Some("service") => FailureKind::Service,
            _ => FailureKind::Job,
        };
        Outcome::Failed(StepFailure {
            reason,
            kind,
            error,
            metadata: Box::default(),
        })
    }
}

/// An artifact the host answered with its bytes (`"Inline"`, base64), to be kept inline; `None`
/// for other artifacts.
fn inline_artifact(store: &Store, item: &Value) -> Option<Result<(ArtifactRecord, InlineObject), String>> {
    use base64::Engine as _;
    let encoded = item.get("Inline")?.as_str()?;
    let uri = item.get("Uri").and_then(Value::as_str).unwrap_or_default();
    Some((|| {
        let body = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| format!("the runtime answered artifact {uri} with bytes that do not decode: {e}"))?;
        if body.len() > INLINE_LIMIT {
            return Err(format!(
                "the runtime answered artifact {uri} inline with {} bytes; at most {INLINE_LIMIT} are kept inline",
                body.len()
            ));
        }
        let path = store.object_key(uri).map_err(|e| e.to_string())?;
        let artifact = ArtifactRecord {
            uri: uri.to_string(),
            size: body.len() as u64,
            mtime_ns: 0,
            sha256: crate::util::sha256_hex(&body),
            inline: true,
        };
        Ok((artifact, InlineObject { path, body }))
    })())
}

/// An artifact named in a host's answer: a URI (fingerprinted here), or the record the
/// function-step runtime took while writing the file, which spares reading it back. A record
/// whose file no longer has that size and mtime is fingerprinted again.
fn answered_artifact(store: &Store, item: &Value) -> Option<ArtifactRecord> {
    let uri = match item {
        Value::String(uri) => uri,
        _ => item.get("Uri").and_then(Value::as_str)?,
    };
    let path = store.uri_to_path(uri).ok()?;
    if let Ok(rec) = serde_json::from_value::<ArtifactRecord>(item.clone()) {
        if quick_stat(&path) == Some((rec.size, rec.mtime_ns)) {
            return Some(rec);
        }
    }
    artifact_at(&path, uri)
}

/// Record an artifact's size, mtime and content hash (directories: over all files, in path
/// order), so a later reuse can check it cheaply.
pub fn artifact_record(ctx: &StepContext, uri: &str) -> Option<ArtifactRecord> {
    artifact_at(&ctx.store.uri_to_path(uri).ok()?, uri)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util;

    #[test]
    fn notebook_jobs_and_aws_steps_cannot_run_without_a_handler() {
        let step = |step_type: &str, args: Value| FlatStep {
            def: serde_json::from_value(json!({"Name": "S", "Type": step_type, "Arguments": args})).expect("def"),
            parent: None,
            loc: vec![],
        };
        let notebook = step(
            "Training",
            json!({"AlgorithmSpecification": {"TrainingImage": "i", "ContainerEntrypoint": [NOTEBOOK_SCHEDULER]}}),
        );
        let reason = classify(&notebook, &[]).expect_err("unsupported");
        assert!(reason.contains("step 'S' of type NotebookJob"), "{reason}");
        assert_eq!(classify(&notebook, &["NotebookJob".into()]), Ok(StepKind::External));
        // A Training handler does not take notebook jobs, nor a NotebookJob handler other jobs.
        assert!(classify(&notebook, &["Training".into()]).is_err());
        let training = step("Training", json!({"AlgorithmSpecification": {"TrainingImage": "i"}}));
        assert_eq!(classify(&training, &["NotebookJob".into()]), Ok(StepKind::Training));
        let bedrock = step("BedrockModelImport", json!({}));
        assert!(classify(&bedrock, &[])
            .expect_err("unsupported")
            .contains("has no local meaning"));
    }

    #[test]
    fn answered_artifact_records_are_kept_only_while_the_file_matches() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        let path = store.uri_to_path("s3://b/r/payload.pkl").expect("uri");
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, b"abc").expect("write");
        let (size, mtime_ns) = quick_stat(&path).expect("stat");
        let claimed =
            json!({"Uri": "s3://b/r/payload.pkl", "Size": size, "MtimeNs": mtime_ns, "Sha256": "from-runtime"});
        // The runtime hashed what it wrote: its record is taken as it is.
        let kept = answered_artifact(&store, &claimed).expect("record");
        assert_eq!(kept.sha256, "from-runtime");
        // A file that changed since (other size) is fingerprinted again.
        std::fs::write(&path, b"abcd").expect("rewrite");
        let redone = answered_artifact(&store, &claimed).expect("record");
        assert_eq!(redone.size, 4);
        assert_eq!(redone.sha256, util::sha256_hex(b"abcd"));
        // A plain URI (registered handlers answer these) is fingerprinted here.
        let plain = answered_artifact(&store, &json!("s3://b/r/payload.pkl")).expect("record");
        assert_eq!(plain, redone);
        // A missing file yields no record, whatever the answer claimed.
        std::fs::remove_file(&path).expect("rm");
        assert!(answered_artifact(&store, &claimed).is_none());
    }
}
