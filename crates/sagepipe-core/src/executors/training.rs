//! Training steps (CreateTrainingJob) under the SageMaker training container contract:
//! channels at `/opt/ml/input/data/<channel>` (a `ManifestFile` channel: the objects its manifest
//! lists), `/opt/ml/input/config/*.json`, the training toolkit's `SM_*` variables, script mode
//! (`sagemaker_program` from `sagemaker_submit_directory` run with `--name value` arguments) or an
//! image runner (the built-in XGBoost algorithm, or one registered for an image), then
//! `/opt/ml/model` packed into `<S3OutputPath>/<job>/output/model.tar.gz`. Properties are shaped
//! like DescribeTrainingJob, with `FinalMetricDataList` from the metric regexes over the log.

use regex::Regex;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::job::{self, dir_has_files, job_error, permanent, Job, JobSettings, XGBOOST_IMAGE_PATTERN};
use super::processing::{environment, image_check, max_runtime, required, scripts_in};
use super::{artifact_record, is_function_step, Outcome, StepContext, StepFailure, StepSuccess};
use crate::definition::FlatStep;
use crate::expr::render_text;
use crate::signature::canonical_json;
use crate::store::files;
use crate::util;

const HOST: &str = "algo-1";
const INSTANCE_GROUP: &str = "homogeneousCluster";
/// How much of a failed script's `output/failure` goes into its `FailureReason`.
const MAX_FAILURE_FILE: u64 = 64 * 1024;

pub fn check(step: &FlatStep, jobs: &JobSettings) -> Result<(), String> {
    check_request(step.name(), &step.def.arguments, jobs)
}

/// What can be checked before the run about a CreateTrainingJob request of step `name` (its own,
/// or one a tuning step derives): a container image needs a script, an entry point or a runner.
pub(super) fn check_request(name: &str, args: &Value, jobs: &JobSettings) -> Result<(), String> {
    if is_function_step(args) || args.pointer("/HyperParameters/sagemaker_program").is_some() {
        return Ok(());
    }
    let spec = args.get("AlgorithmSpecification");
    if spec
        .and_then(|s| s.get("ContainerEntrypoint"))
        .and_then(Value::as_array)
        .is_some_and(|e| !e.is_empty())
    {
        return Ok(());
    }
    if let Some(algorithm) = spec.and_then(|s| s.get("AlgorithmName")).and_then(Value::as_str) {
        return Err(format!(
            "step '{name}' uses the marketplace algorithm '{algorithm}', which only runs on AWS"
        ));
    }
    match spec.and_then(|s| s.get("TrainingImage")) {
        Some(Value::String(image)) => training_image_check(name, image, jobs),
        _ => Ok(()),
    }
}

/// Repositories of SageMaker's built-in algorithm images (`<registry>/<repository>:<tag>`):
/// AWS containers with no local implementation, named as such when no runner is registered.
const BUILTIN_ALGORITHMS: &[&str] = &[
    "blazingtext",
    "factorization-machines",
    "forecasting-deepar",
    "image-classification",
    "ipinsights",
    "kmeans",
    "knn",
    "lda",
    "linear-learner",
    "ntm",
    "object-detection",
    "object2vec",
    "pca",
    "randomcutforest",
    "semantic-segmentation",
    "seq2seq",
];

/// The built-in algorithm an image URI runs, if it is one.
fn builtin_algorithm(image: &str) -> Option<&'static str> {
    let last = image.rsplit('/').next()?;
    let repository = last.split([':', '@']).next()?;
    BUILTIN_ALGORITHMS.iter().copied().find(|a| *a == repository)
}

/// `image_check`, with a message naming the algorithm when the image is a built-in one.
fn training_image_check(step: &str, image: &str, jobs: &JobSettings) -> Result<(), String> {
    image_check(step, image, jobs).map_err(|generic| match builtin_algorithm(image) {
        Some(algorithm) => format!(
            "step '{step}' trains with the SageMaker built-in algorithm '{algorithm}' (image '{image}'), which \
             exists only as an AWS container image and has no local implementation; register a local runner \
             for it with sagepipe.local_runners.register_image(r\"/{algorithm}:\", command=[...]) (see the \
             README, \"Local runners\"), or leave the step out of a local run"
        ),
        None => generic,
    })
}

pub fn run(step: &FlatStep, args: &Value, ctx: &StepContext) -> Outcome {
    match run_job(step.name(), args, ctx) {
        Ok(s) => Outcome::Succeeded(s),
        Err(f) => Outcome::Failed(f),
    }
}

/// Hyperparameters as the training toolkit reads them: every value JSON-decoded, or (if any
/// value is not JSON) all kept as strings.
fn decode_hyperparameters(raw: &Map<String, Value>) -> BTreeMap<String, Value> {
    // Each value on its own, as the training toolkit reads hyperparameters.json: a value that is
    // not JSON (a model repack's `model_archive` S3 URI) stays the string it is.
    raw.iter()
        .map(|(k, v)| {
            let text = render_text(v);
            (k.clone(), serde_json::from_str(&text).unwrap_or(Value::String(text)))
        })
        .collect()
}

/// Python's `str()` of a decoded hyperparameter, as the toolkit puts it on the command line.
fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => String::new(),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", python_str(v)))
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

/// The toolkit's environment value: strings as they are, anything else as compact JSON.
fn env_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => canonical_json(other),
    }
}

/// The command of a script-mode entry point, as the training toolkit chooses it: a `.py` file runs
/// with Python, anything else (the SDK's `_repack_script_launcher.sh`) as an executable through
/// `/bin/sh`.
fn script_command(script: &Path, program: &str, args: &[String]) -> Vec<String> {
    if program.ends_with(".py") {
        let mut argv = vec!["python3".to_string(), program.to_string()];
        argv.extend(args.iter().cloned());
        return argv;
    }
    if let Ok(meta) = fs::metadata(script) {
        let mut perms = meta.permissions();
        perms.set_mode(perms.mode() | 0o111);
        let _ = fs::set_permissions(script, perms);
    }
    let quoted: Vec<String> = std::iter::once(format!("./{program}"))
        .chain(args.iter().cloned())
        .map(|a| crate::sandbox::shell_quote(&a))
        .collect();
    vec!["/bin/sh".into(), "-c".into(), quoted.join(" ")]
}

/// `--name value` arguments for the user's hyperparameters, sorted by name.
fn user_args(hps: &BTreeMap<String, Value>) -> Vec<String> {
    hps.iter()
        .flat_map(|(k, v)| [format!("--{k}"), python_str(v)])
        .collect()
}

struct Channel {
    name: String,
    uri: String,
    /// `S3DataType: ManifestFile`: `uri` is a manifest listing the objects to stage.
    manifest: bool,
    config: Value,
}

fn channels(step: &str, args: &Value) -> Result<Vec<Channel>, StepFailure> {
    let mut out = Vec::new();
    for c in args
        .get("InputDataConfig")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = required(step, c, "/ChannelName")?;
        if c.pointer("/DataSource/FileSystemDataSource").is_some() {
            return Err(permanent(format!(
                "step '{step}': channel '{name}' reads from EFS/FSx (FileSystemDataSource), which needs AWS"
            )));
        }
        let uri = required(step, c, "/DataSource/S3DataSource/S3Uri")?;
        let mut config = Map::new();
        if let Some(ct) = c.get("ContentType") {
            config.insert("ContentType".into(), json!(render_text(ct)));
        }
        let mode = c
            .get("InputMode")
            .or_else(|| args.pointer("/AlgorithmSpecification/TrainingInputMode"))
            .map(render_text)
            .unwrap_or_else(|| "File".into());
        config.insert("TrainingInputMode".into(), json!(mode));
        config.insert(
            "S3DistributionType".into(),
            json!(c
                .pointer("/DataSource/S3DataSource/S3DataDistributionType")
                .map(render_text)
                .unwrap_or_else(|| "FullyReplicated".into())),
        );
        config.insert(
            "RecordWrapperType".into(),
            json!(c
                .get("RecordWrapperType")
                .map(render_text)
                .unwrap_or_else(|| "None".into())),
        );
        if let Some(ct) = c.get("CompressionType") {
            config.insert("CompressionType".into(), json!(render_text(ct)));
        }
        let manifest = c
            .pointer("/DataSource/S3DataSource/S3DataType")
            .is_some_and(|t| render_text(t) == "ManifestFile");
        out.push(Channel {
            name,
            uri,
            manifest,
            config: Value::Object(config),
        });
    }
    Ok(out)
}

/// How the job's command is chosen.
enum Mode {
    /// `sagemaker_program` from `sagemaker_submit_directory`.
    Script { program: String, submit_dir: String },
    /// The request's own `ContainerEntrypoint`.
    Entrypoint(Vec<String>),
    /// A registered or built-in image runner.
    Runner {
        command: Vec<String>,
        builtin_xgboost: bool,
    },
}

/// Run the training job `ctx.job_name` of step `name` from its resolved CreateTrainingJob
/// request; the properties are its DescribeTrainingJob. Tuning steps run theirs through here too.
pub(super) fn run_job(name: &str, args: &Value, ctx: &StepContext) -> Result<StepSuccess, StepFailure> {
    let job = Job::create(name, ctx, &ctx.jobs)?;
    let created = util::now();
    let ml = job.ml_root();
    let ml_s = |rel: &str| ml.join(rel).to_string_lossy().into_owned();
    let spec = args.get("AlgorithmSpecification").cloned().unwrap_or(Value::Null);
    let image = spec.get("TrainingImage").map(render_text).unwrap_or_default();
    let raw_hps = args
        .get("HyperParameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let hps_strings: Map<String, Value> = raw_hps
        .iter()
        .map(|(k, v)| (k.clone(), json!(render_text(v))))
        .collect();
    let decoded = decode_hyperparameters(&raw_hps);
    let (framework, user): (BTreeMap<_, _>, BTreeMap<_, _>) =
        decoded.into_iter().partition(|(k, _)| k.starts_with("sagemaker_"));

    let mode = if let Some(program) = framework.get("sagemaker_program") {
        let submit_dir = framework
            .get("sagemaker_submit_directory")
            .map(python_str)
            .ok_or_else(|| {
                permanent(format!(
                    "step '{name}': hyperparameter sagemaker_program is set but sagemaker_submit_directory is not"
                ))
            })?;
        Mode::Script {
            program: python_str(program),
            submit_dir,
        }
    } else if let Some(e) = spec
        .get("ContainerEntrypoint")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty())
    {
        Mode::Entrypoint(e.iter().map(render_text).collect())
    } else {
        training_image_check(name, &image, &ctx.jobs).map_err(permanent)?;
        let runner = ctx
            .jobs
            .runner_for(&image)
            .map(|r| (r.command.clone(), r.pattern.clone()));
        let (command, pattern) = runner.unwrap_or_default();
        Mode::Runner {
            command,
            builtin_xgboost: pattern == XGBOOST_IMAGE_PATTERN,
        }
    };

    // Inputs and configuration.
    let channels = channels(name, args)?;
    for c in &channels {
        let host = job.host("channel", &format!("/opt/ml/input/data/{}", c.name))?;
        if c.manifest {
            stage_manifest(&job, c, &host)?;
        } else {
            job.stage(&format!("channel '{}'", c.name), &c.uri, &host)?;
        }
    }
    let instance_type = args
        .pointer("/ResourceConfig/InstanceType")
        .map(render_text)
        .unwrap_or_else(|| "local".into());
    let resource_config = json!({
        "current_host": HOST, "hosts": [HOST], "network_interface_name": "eth0",
        "current_instance_type": instance_type, "current_group_name": INSTANCE_GROUP,
        "instance_groups": [{"instance_group_name": INSTANCE_GROUP, "instance_type": instance_type, "hosts": [HOST]}],
    });
    let input_config: Map<String, Value> = channels.iter().map(|c| (c.name.clone(), c.config.clone())).collect();
    let config_dir = job.host("config", "/opt/ml/input/config")?;
    let mut job_config = args.as_object().cloned().unwrap_or_default();
    job_config.insert("TrainingJobName".into(), json!(ctx.job_name));
    let written = fs::create_dir_all(&config_dir)
        .and_then(|_| {
            fs::write(
                config_dir.join("hyperparameters.json"),
                Value::Object(hps_strings.clone()).to_string(),
            )
        })
        .and_then(|_| {
            fs::write(
                config_dir.join("inputdataconfig.json"),
                Value::Object(input_config.clone()).to_string(),
            )
        })
        .and_then(|_| fs::write(config_dir.join("resourceconfig.json"), resource_config.to_string()))
        .and_then(|_| {
            fs::write(
                config_dir.join("trainingjobconfig.json"),
                Value::Object(job_config).to_string(),
            )
        });
    for dir in ["model", "output/data", "output/intermediate", "code", "input/data"] {
        let _ = fs::create_dir_all(job.dirs.ml.join(dir));
    }
    written.map_err(|e| permanent(format!("step '{name}': cannot write the job configuration: {e}")))?;

    // The command.
    let (program_name, module_dir) = match &mode {
        Mode::Script { program, submit_dir } => (program.clone(), submit_dir.clone()),
        _ => (String::new(), String::new()),
    };
    let (argv, cwd) = match &mode {
        Mode::Script { program, submit_dir } => {
            stage_source(&job, submit_dir)?;
            let script = job.dirs.ml.join("code").join(program);
            if !script.is_file() {
                return Err(job_error(format!(
                    "step '{name}': the entry point '{program}' is not in the source directory {submit_dir}"
                )));
            }
            job.refuse_hardcoded_paths(std::slice::from_ref(&script))?;
            (
                script_command(&script, program, &user_args(&user)),
                "/opt/ml/code".to_string(),
            )
        }
        Mode::Entrypoint(e) => {
            let mut argv = e.clone();
            argv.extend(
                spec.get("ContainerArguments")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(render_text),
            );
            job.refuse_hardcoded_paths(&scripts_in(&job, &argv))?;
            (argv, job.dirs.work.to_string_lossy().into_owned())
        }
        Mode::Runner { command, .. } => (command.clone(), job.dirs.work.to_string_lossy().into_owned()),
    };

    // The training toolkit's environment.
    let mut channel_names: Vec<&str> = channels.iter().map(|c| c.name.as_str()).collect();
    channel_names.sort();
    let channel_dirs: BTreeMap<&str, String> = channel_names
        .iter()
        .map(|c| (*c, ml_s(&format!("input/data/{c}"))))
        .collect();
    let user_value = serde_json::to_value(&user).unwrap_or(Value::Null);
    let framework_params: BTreeMap<_, _> = framework
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "sagemaker_program" | "sagemaker_submit_directory"))
        .collect();
    let num_cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let module_name = program_name.strip_suffix(".py").unwrap_or(&program_name).to_string();
    let training_env = json!({
        "additional_framework_parameters": framework_params,
        "channel_input_dirs": channel_dirs,
        "current_host": HOST, "current_instance_group": INSTANCE_GROUP, "current_instance_type": instance_type,
        "distribution_hosts": [], "distribution_instance_groups": [], "framework_module": null,
        "hosts": [HOST], "hyperparameters": user_value, "input_config_dir": ml_s("input/config"),
        "input_data_config": input_config, "input_dir": ml_s("input"),
        "instance_groups": [INSTANCE_GROUP], "is_hetero": false, "is_master": true, "job_name": ctx.job_name,
        "log_level": 20, "master_hostname": HOST, "model_dir": ml_s("model"), "module_dir": module_dir,
        "module_name": module_name, "network_interface_name": "eth0", "num_cpus": num_cpus, "num_gpus": 0,
        "num_neurons": 0, "output_data_dir": ml_s("output/data"), "output_dir": ml_s("output"),
        "output_intermediate_dir": ml_s("output/intermediate"), "resource_config": resource_config,
        "user_entry_point": program_name,
    });
    let mut env = environment(args.get("Environment"));
    let sm = vec![
        ("SM_MODEL_DIR", ml_s("model")),
        ("SM_CHANNELS", canonical_json(&json!(channel_names))),
        ("SM_HPS", canonical_json(&user_value)),
        ("SM_USER_ARGS", canonical_json(&json!(user_args(&user)))),
        ("SM_OUTPUT_DATA_DIR", ml_s("output/data")),
        ("SM_OUTPUT_DIR", ml_s("output")),
        ("SM_OUTPUT_INTERMEDIATE_DIR", ml_s("output/intermediate")),
        ("SM_INPUT_DIR", ml_s("input")),
        ("SM_INPUT_CONFIG_DIR", ml_s("input/config")),
        (
            "SM_INPUT_DATA_CONFIG",
            canonical_json(&Value::Object(input_config.clone())),
        ),
        ("SM_RESOURCE_CONFIG", canonical_json(&resource_config)),
        ("SM_NUM_CPUS", num_cpus.to_string()),
        ("SM_NUM_GPUS", "0".into()),
        ("SM_NUM_NEURONS", "0".into()),
        ("SM_HOSTS", canonical_json(&json!([HOST]))),
        ("SM_CURRENT_HOST", HOST.into()),
        ("SM_CURRENT_INSTANCE_TYPE", instance_type.clone()),
        ("SM_CURRENT_INSTANCE_GROUP", INSTANCE_GROUP.into()),
        ("SM_NETWORK_INTERFACE_NAME", "eth0".into()),
        ("SM_LOG_LEVEL", "20".into()),
        ("SM_USER_ENTRY_POINT", program_name.clone()),
        ("SM_MODULE_NAME", module_name.clone()),
        ("SM_MODULE_DIR", module_dir.clone()),
        ("SM_FRAMEWORK_MODULE", String::new()),
        ("SM_FRAMEWORK_PARAMS", canonical_json(&json!(framework_params))),
        ("SM_TRAINING_ENV", canonical_json(&training_env)),
        ("TRAINING_JOB_NAME", ctx.job_name.clone()),
        ("TRAINING_JOB_ARN", util::job_arn("training-job", &ctx.job_name)),
        ("SAGEPIPE_IMAGE_URI", image.clone()),
    ];
    for c in &channel_names {
        env.push((
            format!("SM_CHANNEL_{}", c.to_uppercase()),
            ml_s(&format!("input/data/{c}")),
        ));
    }
    for (k, v) in &user {
        env.push((format!("SM_HP_{}", k.to_uppercase()), env_value(v)));
    }
    env.extend(sm.into_iter().map(|(k, v)| (k.to_string(), v)));

    let started = util::now();
    let result = job.run(&argv, &env, &cwd, max_runtime(args));
    let run = match result {
        Ok(r) => r,
        Err(mut f) => {
            // The toolkit's convention: a failing script may explain itself in output/failure.
            if let Some(msg) = failure_file(&job.dirs.ml.join("output/failure")) {
                if !msg.trim().is_empty() {
                    f.reason = format!("{}\n{}", msg.trim(), f.reason);
                }
            }
            return Err(f);
        }
    };
    let ended = util::now();

    // Outputs.
    let output_path = required(name, args, "/OutputDataConfig/S3OutputPath")?;
    let base = format!("{}/{}/output", output_path.trim_end_matches('/'), ctx.job_name);
    let model_uri = format!("{base}/model.tar.gz");
    let pack = |dir: &str, uri: &str| -> Result<(), StepFailure> {
        let dest = ctx
            .store
            .uri_to_path(uri)
            .map_err(|e| permanent(format!("step '{name}': {e}")))?;
        let src = job.dirs.ml.join(dir);
        job.take(&src)
            .and_then(|taken| {
                ctx.store.check_artifact_path(&dest)?;
                job::pack_tar_gz(&taken, &job.shown(&src), &dest)
            })
            .map_err(|e| job_error(format!("step '{name}': cannot pack {dir} into {uri}: {e}")))
    };
    pack("model", &model_uri)?;
    let mut artifacts: Vec<_> = artifact_record(ctx, &model_uri).into_iter().collect();
    if dir_has_files(&job.dirs.ml.join("output/data")) {
        let uri = format!("{base}/output.tar.gz");
        pack("output/data", &uri)?;
        artifacts.extend(artifact_record(ctx, &uri));
    }

    let definitions: Vec<(String, String)> = spec
        .get("MetricDefinitions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| Some((render_text(d.get("Name")?), render_text(d.get("Regex")?))))
        .collect();
    let builtin = matches!(
        mode,
        Mode::Runner {
            builtin_xgboost: true,
            ..
        }
    );
    // The log can be large: read it only when there are metrics to find in it.
    let log = if definitions.is_empty() && !builtin {
        String::new()
    } else {
        run.log()
    };
    let metrics =
        final_metrics(&log, &definitions, builtin, ended).map_err(|e| permanent(format!("step '{name}': {e}")))?;

    let arn = util::job_arn("training-job", &ctx.job_name);
    let mut props: Map<String, Value> = args.as_object().cloned().unwrap_or_default();
    props.insert("TrainingJobName".into(), json!(ctx.job_name));
    props.insert("TrainingJobArn".into(), json!(arn));
    props.insert("TrainingJobStatus".into(), json!("Completed"));
    props.insert("SecondaryStatus".into(), json!("Completed"));
    props.insert("HyperParameters".into(), Value::Object(hps_strings));
    props.insert("ModelArtifacts".into(), json!({"S3ModelArtifacts": model_uri}));
    props.insert("FinalMetricDataList".into(), json!(metrics));
    props.insert("CreationTime".into(), json!(util::iso8601(created)));
    props.insert("TrainingStartTime".into(), json!(util::iso8601(started)));
    props.insert("TrainingEndTime".into(), json!(util::iso8601(ended)));
    props.insert("LastModifiedTime".into(), json!(util::iso8601(ended)));
    props.insert("TrainingTimeInSeconds".into(), json!(run.seconds.ceil() as u64));
    props.insert("BillableTimeInSeconds".into(), json!(run.seconds.ceil() as u64));
    let mut metadata = Map::new();
    metadata.insert("TrainingJob".into(), json!({"Arn": arn}));
    Ok(StepSuccess {
        properties: Value::Object(props),
        metadata,
        artifacts,
    })
}

/// Stage a `ManifestFile` channel as SageMaker does: the manifest is a JSON list, first
/// `{"prefix": "s3://..."}` then keys relative to it; each object `prefix + key` lands in the
/// channel directory at its relative key.
fn stage_manifest(job: &Job, channel: &Channel, host: &Path) -> Result<(), StepFailure> {
    let what = format!("channel '{}'", channel.name);
    let step = &job.step;
    let uri = &channel.uri;
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
        job.stage(&what, &format!("{prefix}{key}"), &dir)?;
    }
    Ok(())
}

/// Put the source directory (`sourcedir.tar.gz` URI, or a directory) at `/opt/ml/code`.
fn stage_source(job: &Job, submit_dir: &str) -> Result<(), StepFailure> {
    let code = job.dirs.ml.join("code");
    job::copy_dir_or_unpack(&job.ctx.store, submit_dir, &code).map_err(|e| {
        job_error(format!(
            "step '{}': cannot unpack the source directory {submit_dir}: {e}",
            job.step
        ))
    })
}

/// What a failed script wrote to `output/failure` (the toolkit's convention): its first
/// `MAX_FAILURE_FILE` bytes, if it is a regular file (a FIFO there must not hang the step).
fn failure_file(path: &Path) -> Option<String> {
    let mut text = String::new();
    files::open_regular(path, false)
        .ok()?
        .take(MAX_FAILURE_FILE)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

/// Each metric's last value in the log. User definitions are applied to each line as printed
/// and as CloudWatch shows it (tabs as `#011`); the built-in XGBoost algorithm also reports
/// every `train-<metric>`/`validation-<metric>` it logs, as the service does.
fn final_metrics(
    log: &str,
    definitions: &[(String, String)],
    builtin_xgboost: bool,
    t: f64,
) -> Result<Vec<Value>, String> {
    let compiled: Vec<(String, Regex)> = definitions
        .iter()
        .map(|(n, r)| {
            Regex::new(r)
                .map(|re| (n.clone(), re))
                .map_err(|e| format!("MetricDefinitions '{n}' has an invalid regex: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let mut last: Vec<(String, f64)> = Vec::new();
    let mut set = |name: &str, value: f64| match last.iter_mut().find(|(n, _)| n == name) {
        Some(slot) => slot.1 = value,
        None => last.push((name.to_string(), value)),
    };
    let xgb_line = Regex::new(r"^\[\d+\]").map_err(|e| e.to_string())?;
    let xgb_metric = Regex::new(r"(train|validation)-([A-Za-z0-9@:_\-]+?):([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)")
        .map_err(|e| e.to_string())?;
    for line in log.lines() {
        let encoded = line.replace('\t', "#011");
        for (name, re) in &compiled {
            let caps = re.captures(line).or_else(|| re.captures(&encoded));
            if let Some(v) = caps.and_then(|c| c.get(1)).and_then(|m| m.as_str().parse::<f64>().ok()) {
                set(name, v);
            }
        }
        if builtin_xgboost && xgb_line.is_match(line) {
            for c in xgb_metric.captures_iter(line) {
                if let Ok(v) = c[3].parse::<f64>() {
                    set(&format!("{}:{}", &c[1], &c[2]), v);
                }
            }
        }
    }
    Ok(last
        .into_iter()
        .filter(|(_, v)| v.is_finite())
        .map(|(n, v)| json!({"MetricName": n, "Value": v, "Timestamp": util::iso8601(t)}))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyperparameters_decode_like_the_toolkit() {
        let raw = json!({"sagemaker_program": "\"train.py\"", "epochs": "10", "lr": "0.1", "name": "\"abc\"", "flag": "true"});
        let d = decode_hyperparameters(raw.as_object().expect("obj"));
        assert_eq!(d["sagemaker_program"], json!("train.py"));
        assert_eq!(python_str(&d["flag"]), "True");
        let user: BTreeMap<_, _> = d.into_iter().filter(|(k, _)| !k.starts_with("sagemaker_")).collect();
        assert_eq!(
            user_args(&user),
            ["--epochs", "10", "--flag", "True", "--lr", "0.1", "--name", "abc"]
        );
        // A value that is not JSON stays a string; the others are still decoded.
        let raw = json!({"a": "1", "b": "s3://bucket/model.tar.gz", "c": "\"x\""});
        let d = decode_hyperparameters(raw.as_object().expect("obj"));
        assert_eq!(d["a"], json!(1));
        assert_eq!(d["b"], json!("s3://bucket/model.tar.gz"));
        assert_eq!(d["c"], json!("x"));
    }

    #[test]
    fn script_entry_points_run_like_the_toolkit() {
        let args = vec!["--a".to_string(), "it's".to_string()];
        assert_eq!(
            script_command(Path::new("/nonexistent/train.py"), "train.py", &args),
            ["python3", "train.py", "--a", "it's"]
        );
        assert_eq!(
            script_command(Path::new("/nonexistent/run.sh"), "run.sh", &args),
            ["/bin/sh", "-c", "'./run.sh' '--a' 'it'\\''s'"]
        );
    }

    #[test]
    fn metrics_take_the_last_match_and_cloudwatch_tabs() {
        let log = "[0]\ttrain-rmse:3.5\tvalidation-rmse:3.9\n[1]\ttrain-rmse:2.5\tvalidation-rmse:2.75\nloss=0.5\nloss=0.25\n";
        let defs = vec![
            ("loss".to_string(), r"loss=([0-9.]+)".to_string()),
            (
                "validation:rmse".to_string(),
                r".*\[[0-9]+\].*#011validation-rmse:([-+]?[0-9]*\.?[0-9]+)".to_string(),
            ),
        ];
        let m = final_metrics(log, &defs, true, 0.0).expect("ok");
        let get = |n: &str| m.iter().find(|x| x["MetricName"] == n).map(|x| x["Value"].clone());
        assert_eq!(get("loss"), Some(json!(0.25)));
        assert_eq!(get("validation:rmse"), Some(json!(2.75)));
        assert_eq!(get("train:rmse"), Some(json!(2.5)));
        let bad = vec![("x".to_string(), "(".to_string())];
        assert!(final_metrics(log, &bad, false, 0.0).is_err());
    }

    #[test]
    fn env_values_are_compact_sorted_json() {
        assert_eq!(env_value(&json!({"b": 1, "a": [1, 2]})), r#"{"a":[1,2],"b":1}"#);
        assert_eq!(env_value(&json!("x")), "x");
    }

    #[test]
    fn check_accepts_script_mode_and_known_images_only() {
        let step = |args: Value| FlatStep {
            def: serde_json::from_value(json!({"Name": "T", "Type": "Training", "Arguments": args})).expect("def"),
            parent: None,
            loc: vec![],
        };
        let jobs = JobSettings::default().with_runtime(&crate::executors::RuntimeModules::for_tests());
        assert!(check(
            &step(json!({"AlgorithmSpecification": {"TrainingImage": "x/sagemaker-xgboost:1.7-1"}})),
            &jobs
        )
        .is_ok());
        assert!(check(
            &step(json!({"AlgorithmSpecification": {"TrainingImage": "x/other:1"},
            "HyperParameters": {"sagemaker_program": "\"t.py\""}})),
            &jobs
        )
        .is_ok());
        let err = check(
            &step(json!({"AlgorithmSpecification": {"TrainingImage": "x/other:1"}})),
            &jobs,
        )
        .expect_err("unknown image");
        assert!(
            err.contains("'T'") && err.contains("x/other:1") && err.contains("register_image"),
            "{err}"
        );
    }

    #[test]
    fn builtin_algorithm_images_are_named_in_the_check() {
        let step = FlatStep {
            def: serde_json::from_value(json!({"Name": "Cluster", "Type": "Training", "Arguments": {
                "AlgorithmSpecification": {"TrainingImage": "174872318107.dkr.ecr.us-west-2.amazonaws.com/kmeans:1"}}}))
            .expect("def"),
            parent: None,
            loc: vec![],
        };
        let err = check(&step, &JobSettings::default()).expect_err("no runner for kmeans");
        assert!(
            err.contains("'Cluster'")
                && err.contains("built-in algorithm 'kmeans'")
                && err.contains("amazonaws.com/kmeans:1")
                && err.contains(r#"register_image(r"/kmeans:""#),
            "{err}"
        );
        assert_eq!(builtin_algorithm("x/linear-learner@sha256:00"), Some("linear-learner"));
        assert_eq!(builtin_algorithm("x/my-kmeans:1"), None);
    }

    #[test]
    fn channels_need_s3_uris() {
        let args = json!({"InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": "s3://b/k"}}, "ContentType": "text/csv"}]});
        let Ok(c) = channels("T", &args) else {
            panic!("channels parse")
        };
        assert_eq!(c[0].config["ContentType"], json!("text/csv"));
        assert!(channels("T", &json!({"InputDataConfig": [{"ChannelName": "x"}]})).is_err());
    }

    #[test]
    fn python_str_of_dicts_is_key_value_pairs() {
        assert_eq!(python_str(&json!({"a": 1, "b": "x"})), "a=1,b=x");
    }
}
