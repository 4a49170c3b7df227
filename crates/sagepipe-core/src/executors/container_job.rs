//! The life cycle every container job (processing, training, transform) goes through, run from a
//! `JobSpec`: create the job, stage its inputs, create its directories, write its configuration
//! files, check its entry point, run its command, and store its outputs. The job types build the
//! spec from their request and describe the finished job (`describe`). Paths in a spec are
//! container paths (`/opt/ml/...`); they are mapped here to the job's directory.

use serde_json::{json, Map, Value};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::job::{self, dir_has_files, job_error, permanent, Job, JobRun};
use super::toolkit::script_command;
use super::{artifact_record, StepContext, StepFailure, StepSuccess};
use crate::store::{files, ArtifactRecord};
use crate::util;

/// Script file kinds checked for hard-coded `/opt/ml` paths when jobs run without namespaces.
const SCRIPT_EXTENSIONS: &[&str] = &["py", "sh", "bash", "r", "R", "pl", "rb", "js"];

/// Where a script-mode entry point's source directory is staged, and where it runs.
pub const CODE_DIR: &str = "/opt/ml/code";
/// How much of a failed job's failure file goes into its `FailureReason`.
const MAX_FAILURE_FILE: u64 = 64 * 1024;

/// What a job needs to run.
pub struct JobSpec {
    /// Staged in order before anything else.
    pub inputs: Vec<Input>,
    /// Directories created (empty, if new) once the inputs are staged, `(what, container dir)`,
    /// as are those of the `Collect` outputs.
    pub dirs: Vec<(String, String)>,
    /// Configuration files `(container path, content)`, written once the directories exist.
    pub config_files: Vec<(String, String)>,
    pub command: Command,
    pub env: Vec<(String, String)>,
    /// `StoppingCondition.MaxRuntimeInSeconds`.
    pub max_runtime: Option<f64>,
    /// A file in which a failing job may explain itself (the training toolkit's
    /// `/opt/ml/output/failure`): its text goes first in the failure reason.
    pub failure_file: Option<String>,
    /// Stored in order once the command succeeded.
    pub outputs: Vec<Output>,
}

/// Something a job reads, staged from the store into its container directory `dir`.
pub struct Input {
    /// How messages name the input (`channel 'train'`).
    pub what: String,
    /// How messages name its directory, when `dir` is not a path under `/opt/ml`.
    pub dir_what: String,
    pub uri: String,
    pub dir: String,
    pub staging: Staging,
}

pub enum Staging {
    /// Copy what the URI names (a file keeps its base name, a prefix its tree; `Job::stage`).
    Copy,
    /// The URI is a `ManifestFile` manifest: stage the objects it lists (`stage_manifest`).
    Manifest,
    /// A directory or a `.tar.gz` (a model, a source directory) unpacked into the directory.
    /// `field` names the request field the URI came from when it must be a store URI.
    Unpack { field: Option<&'static str> },
}

/// How the job's command is given.
pub enum Command {
    /// `argv`, run in the job's scratch directory; when `check_scripts`, the scripts it names must
    /// not hard-code `/opt/ml` where jobs run without a namespace (`Job::refuse_hardcoded_paths`).
    Argv { argv: Vec<String>, check_scripts: bool },
    /// A script-mode entry point: `program`, from the source directory `source` (staged at
    /// `CODE_DIR` as an input), run there with `args` as the training toolkit runs it.
    Script {
        program: String,
        source: String,
        args: Vec<String>,
    },
}

/// Something a job writes, stored once it has run.
pub enum Output {
    /// The container directory `dir`, moved into the store at `uri` (`Job::collect`).
    Collect { what: String, dir: String, uri: String },
    /// The container directory `dir` packed into the `.tar.gz` at `uri`, unless it is empty
    /// and `only_if_files`. `what` names the directory in messages.
    Pack {
        what: String,
        dir: String,
        uri: String,
        only_if_files: bool,
    },
}

/// A job that ran to its end and whose outputs are stored.
pub struct Finished {
    pub created: f64,
    pub started: f64,
    /// When its command ended.
    pub ended: f64,
    /// When its outputs were stored.
    pub stored: f64,
    pub run: JobRun,
    /// The stored outputs, in the order of the spec's.
    pub artifacts: Vec<ArtifactRecord>,
}

/// Run the job `ctx.job_name` of step `step` through its life cycle.
pub fn run(step: &str, ctx: &StepContext, spec: &JobSpec) -> Result<Finished, StepFailure> {
    let job = Job::create(step, ctx, &ctx.jobs)?;
    let created = util::now();
    for input in &spec.inputs {
        stage(&job, input)?;
    }
    create_dirs(&job, spec)?;
    write_config_files(&job, &spec.config_files)?;
    let (argv, cwd) = command(&job, &spec.command)?;
    let started = util::now();
    let run = job
        .run(&argv, &spec.env, &cwd, spec.max_runtime)
        .map_err(|failure| explained(&job, spec.failure_file.as_deref(), failure))?;
    let ended = util::now();
    let mut artifacts = Vec::new();
    for output in &spec.outputs {
        if let Some(uri) = store_output(&job, output)? {
            artifacts.extend(artifact_record(ctx, uri));
        }
    }
    Ok(Finished {
        created,
        started,
        ended,
        stored: util::now(),
        run,
        artifacts,
    })
}

fn stage(job: &Job, input: &Input) -> Result<(), StepFailure> {
    let Input {
        what,
        dir_what,
        uri,
        dir,
        staging,
    } = input;
    let host = job.host(dir_what, dir)?;
    match staging {
        Staging::Copy => job.stage(what, uri, &host),
        Staging::Manifest => stage_manifest(job, what, uri, &host),
        Staging::Unpack { field } => {
            let step = &job.step;
            if let Some(field) = field {
                job.ctx
                    .store
                    .uri_to_path(uri)
                    .map_err(|e| permanent(format!("step '{step}': {field}: {e}")))?;
            }
            job::copy_dir_or_unpack(&job.ctx.store, uri, &host)
                .map_err(|e| job_error(format!("step '{step}': cannot unpack {what} {uri}: {e}")))
        }
    }
}

/// Create the spec's directories, then those of its `Collect` outputs.
fn create_dirs(job: &Job, spec: &JobSpec) -> Result<(), StepFailure> {
    let collected = spec.outputs.iter().filter_map(|output| match output {
        Output::Collect { what, dir, .. } => Some((what, dir)),
        Output::Pack { .. } => None,
    });
    for (what, dir) in spec.dirs.iter().map(|(what, dir)| (what, dir)).chain(collected) {
        let host = job.host(what, dir)?;
        fs::create_dir_all(&host).map_err(|e| permanent(format!("step '{}': cannot create {dir}: {e}", job.step)))?;
    }
    Ok(())
}

/// Stage a `ManifestFile` input as SageMaker does: the manifest is a JSON list, first
/// `{"prefix": "s3://..."}` then keys relative to it; each object `prefix + key` lands in the
/// input's directory at its relative key.
fn stage_manifest(job: &Job, what: &str, uri: &str, host: &Path) -> Result<(), StepFailure> {
    let step = &job.step;
    let bad = |why: String| permanent(format!("step '{step}': {what}: manifest {uri} {why}"));
    let (path, follow) = job
        .ctx
        .store
        .read_path(uri)
        .map_err(|e| job_error(format!("step '{step}': {what}: manifest {uri} cannot be read ({e})")))?;
    let meta = if follow {
        fs::metadata(&path)
    } else {
        fs::symlink_metadata(&path)
    };
    if !meta.is_ok_and(|m| m.is_file()) {
        return Err(job_error(format!(
            "step '{step}': {what}: manifest {uri} does not exist (no file {})",
            path.display()
        )));
    }
    let text = fs::read_to_string(&path).map_err(|e| bad(format!("cannot be read ({e})")))?;
    let entries: Vec<Value> = serde_json::from_str(&text).map_err(|e| bad(format!("is not a JSON list ({e})")))?;
    let prefix = entries
        .first()
        .and_then(|e| e.get("prefix"))
        .and_then(Value::as_str)
        .ok_or_else(|| bad("does not start with {\"prefix\": \"s3://...\"}".into()))?;
    fs::create_dir_all(host)
        .map_err(|e| job_error(format!("step '{step}': cannot create the {what} directory: {e}")))?;
    for entry in &entries[1..] {
        let key = entry
            .as_str()
            .ok_or_else(|| bad(format!("lists {entry}, not a key relative to the prefix")))?;
        let relative = Path::new(key);
        // An empty key would stage the whole prefix; `..`, `/` or `.` would leave the directory.
        if key.is_empty()
            || !relative
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            return Err(bad(format!(
                "lists the key {key:?}, which leaves the channel directory"
            )));
        }
        let dir = relative.parent().map_or_else(|| host.to_path_buf(), |p| host.join(p));
        job.stage(what, &format!("{prefix}{key}"), &dir)?;
    }
    Ok(())
}

/// Write the configuration files, creating their directories.
fn write_config_files(job: &Job, config_files: &[(String, String)]) -> Result<(), StepFailure> {
    for (path, content) in config_files {
        let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
        let dir = job.host("config", dir)?;
        fs::create_dir_all(&dir)
            .and_then(|_| fs::write(dir.join(file), content))
            .map_err(|e| permanent(format!("step '{}': cannot write the job configuration: {e}", job.step)))?;
    }
    Ok(())
}

/// The command line and working directory (a container path) of the job, once its scripts are
/// checked.
fn command(job: &Job, command: &Command) -> Result<(Vec<String>, String), StepFailure> {
    match command {
        Command::Argv { argv, check_scripts } => {
            if *check_scripts {
                job.refuse_hardcoded_paths(&scripts_in(job, argv))?;
            }
            Ok((argv.clone(), job.dirs.work.to_string_lossy().into_owned()))
        }
        Command::Script { program, source, args } => {
            let script = job.host("code", CODE_DIR)?.join(program);
            if !script.is_file() {
                return Err(job_error(format!(
                    "step '{}': the entry point '{program}' is not in the source directory {source}",
                    job.step
                )));
            }
            job.refuse_hardcoded_paths(std::slice::from_ref(&script))?;
            Ok((script_command(&script, program, args), CODE_DIR.to_string()))
        }
    }
}

/// A failed run's failure, with what the job wrote to its failure file (if any) first.
fn explained(job: &Job, failure_file: Option<&str>, mut failure: StepFailure) -> StepFailure {
    let message = failure_file
        .and_then(|f| job.dirs.host_path(f))
        .and_then(|path| read_failure_file(&path));
    if let Some(msg) = message.filter(|m| !m.trim().is_empty()) {
        failure.reason = format!("{}\n{}", msg.trim(), failure.reason);
    }
    failure
}

/// What a failed job wrote to its failure file: its first `MAX_FAILURE_FILE` bytes, if it is a
/// regular file (a FIFO there must not hang the step).
fn read_failure_file(path: &Path) -> Option<String> {
    let mut text = String::new();
    files::open_regular(path, false)
        .ok()?
        .take(MAX_FAILURE_FILE)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

/// Store one output; returns its URI, or None when there was nothing to store.
fn store_output<'s>(job: &Job, output: &'s Output) -> Result<Option<&'s str>, StepFailure> {
    let step = &job.step;
    match output {
        Output::Collect { what, dir, uri } => {
            let host = job.host(what, dir)?;
            job.collect(what, &host, uri)?;
            Ok(Some(uri))
        }
        Output::Pack {
            what,
            dir,
            uri,
            only_if_files,
        } => {
            let src = job.host(what, dir)?;
            if *only_if_files && !dir_has_files(&src) {
                return Ok(None);
            }
            let store = &job.ctx.store;
            let dest = store
                .uri_to_path(uri)
                .map_err(|e| permanent(format!("step '{step}': {e}")))?;
            job.take(&src)
                .and_then(|taken| {
                    store.check_artifact_path(&dest)?;
                    job::pack_tar_gz(&taken, &job.shown(&src), &dest)
                })
                .map_err(|e| job_error(format!("step '{step}': cannot pack {what} into {uri}: {e}")))?;
            Ok(Some(uri))
        }
    }
}

/// The kinds of container job, as their descriptions and ARNs name them.
#[derive(Clone, Copy)]
pub enum JobKind {
    Processing,
    Training,
    Transform,
}

impl JobKind {
    fn noun(self) -> &'static str {
        match self {
            JobKind::Processing => "Processing",
            JobKind::Training => "Training",
            JobKind::Transform => "Transform",
        }
    }

    fn arn_resource(self) -> &'static str {
        match self {
            JobKind::Processing => "processing-job",
            JobKind::Training => "training-job",
            JobKind::Transform => "transform-job",
        }
    }
}

/// A finished job as its Describe*Job shows it: the resolved request, the job's name, ARN and
/// status (`Completed`), then `details` in order; its ARN is also the step's metadata.
pub fn describe(
    kind: JobKind,
    request: &Value,
    job_name: &str,
    details: Vec<(&str, Value)>,
    artifacts: Vec<ArtifactRecord>,
) -> StepSuccess {
    let noun = kind.noun();
    let arn = util::job_arn(kind.arn_resource(), job_name);
    let mut props: Map<String, Value> = request.as_object().cloned().unwrap_or_default();
    props.insert(format!("{noun}JobName"), json!(job_name));
    props.insert(format!("{noun}JobArn"), json!(arn));
    props.insert(format!("{noun}JobStatus"), json!("Completed"));
    for (key, value) in details {
        props.insert(key.to_string(), value);
    }
    let mut metadata = Map::new();
    metadata.insert(format!("{noun}Job"), json!({ "Arn": arn }));
    StepSuccess {
        properties: Value::Object(props),
        metadata,
        artifacts,
        objects: vec![],
    }
}

/// A time as descriptions show it.
pub fn time(t: f64) -> Value {
    json!(util::iso8601(t))
}

/// Script files named on a command line (as host paths), for the fallback check.
fn scripts_in(job: &Job, argv: &[String]) -> Vec<PathBuf> {
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
