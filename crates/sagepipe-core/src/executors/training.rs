//! Training steps (CreateTrainingJob) under the SageMaker training container contract:
//! channels at `/opt/ml/input/data/<channel>` (a `ManifestFile` channel: the objects its manifest
//! lists), `/opt/ml/input/config/*.json`, the training toolkit's `SM_*` variables, script mode
//! (`sagemaker_program` from `sagemaker_submit_directory` run with `--name value` arguments) or an
//! image runner (the built-in XGBoost algorithm, or one registered for an image), then
//! `/opt/ml/model` packed into `<S3OutputPath>/<job>/output/model.tar.gz`. Properties are shaped
//! like DescribeTrainingJob, with `FinalMetricDataList` from the metric regexes over the log.

use regex::Regex;
use serde_json::{json, Value};

use super::container_job::{self, time, Command, Finished, Input, JobKind, JobSpec, Output, Staging, CODE_DIR};
use super::job::{permanent, JobSettings, XGBOOST_IMAGE_PATTERN};
use super::processing::{image_check, max_runtime, required};
use super::toolkit::{self, Channel, Hyperparameters, Toolkit};
use super::{is_function_step, Outcome, StepContext, StepFailure, StepSuccess};
use crate::definition::FlatStep;
use crate::expr::render_text;
use crate::util;

/// The directories the training toolkit expects under `/opt/ml`, created before the run.
const ML_DIRS: [&str; 5] = ["model", "output/data", "output/intermediate", "code", "input/data"];
/// Where a failing script may explain itself (the toolkit's convention).
const FAILURE_FILE: &str = "/opt/ml/output/failure";

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

/// Run the training job `ctx.job_name` of step `name` from its resolved CreateTrainingJob
/// request; the properties are its DescribeTrainingJob. Tuning steps run theirs through here too.
pub(super) fn run_job(name: &str, args: &Value, ctx: &StepContext) -> Result<StepSuccess, StepFailure> {
    let training = TrainingJob::of(name, args, ctx)?;
    let done = container_job::run(name, ctx, &training.spec())?;
    training.describe(done)
}

/// How the job's command is chosen.
enum Mode {
    /// `sagemaker_program` from `sagemaker_submit_directory`.
    Script { program: String, submit_dir: String },
    /// The request's own `ContainerEntrypoint`, with its `ContainerArguments`.
    Entrypoint(Vec<String>),
    /// A registered or built-in image runner.
    Runner {
        command: Vec<String>,
        builtin_xgboost: bool,
    },
}

impl Mode {
    fn of(
        step: &str,
        request: &Value,
        hyperparameters: &Hyperparameters,
        jobs: &JobSettings,
    ) -> Result<Mode, StepFailure> {
        let algorithm = request.get("AlgorithmSpecification");
        if let Some(program) = hyperparameters.program() {
            let submit_dir = hyperparameters.submit_directory().ok_or_else(|| {
                permanent(format!(
                    "step '{step}': hyperparameter sagemaker_program is set but sagemaker_submit_directory is not"
                ))
            })?;
            return Ok(Mode::Script { program, submit_dir });
        }
        if let Some(entrypoint) = algorithm
            .and_then(|s| s.get("ContainerEntrypoint"))
            .and_then(Value::as_array)
            .filter(|e| !e.is_empty())
        {
            let arguments = algorithm
                .and_then(|s| s.get("ContainerArguments"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            return Ok(Mode::Entrypoint(
                entrypoint.iter().chain(arguments).map(render_text).collect(),
            ));
        }
        let image = training_image(request);
        training_image_check(step, &image, jobs).map_err(permanent)?;
        let (command, pattern) = jobs
            .runner_for(&image)
            .map(|r| (r.command.clone(), r.pattern.clone()))
            .unwrap_or_default();
        Ok(Mode::Runner {
            command,
            builtin_xgboost: pattern == XGBOOST_IMAGE_PATTERN,
        })
    }
}

fn training_image(request: &Value) -> String {
    request
        .pointer("/AlgorithmSpecification/TrainingImage")
        .map(render_text)
        .unwrap_or_default()
}

/// A training job to run, as its request asks.
struct TrainingJob<'a> {
    step: &'a str,
    request: &'a Value,
    job_name: &'a str,
    hyperparameters: Hyperparameters,
    mode: Mode,
    channels: Vec<Channel>,
    /// `<S3OutputPath>/<job>/output`, where the model and the output data are packed.
    output_base: String,
}

impl<'a> TrainingJob<'a> {
    fn of(step: &'a str, request: &'a Value, ctx: &'a StepContext) -> Result<TrainingJob<'a>, StepFailure> {
        let hyperparameters = Hyperparameters::of(request);
        let mode = Mode::of(step, request, &hyperparameters, &ctx.jobs)?;
        let channels = toolkit::channels(step, request)?;
        let output_path = required(step, request, "/OutputDataConfig/S3OutputPath")?;
        Ok(TrainingJob {
            step,
            request,
            job_name: &ctx.job_name,
            hyperparameters,
            mode,
            channels,
            output_base: format!("{}/{}/output", output_path.trim_end_matches('/'), ctx.job_name),
        })
    }

    fn model_uri(&self) -> String {
        format!("{}/model.tar.gz", self.output_base)
    }

    /// The job under the training container contract: channels at `/opt/ml/input/data/<name>`,
    /// the toolkit's configuration files and environment, `/opt/ml/model` and (if the job wrote
    /// any) `/opt/ml/output/data` packed into the output path.
    fn spec(&self) -> JobSpec {
        let image = training_image(self.request);
        let (program, module_dir) = match &self.mode {
            Mode::Script { program, submit_dir } => (program.as_str(), submit_dir.as_str()),
            _ => ("", ""),
        };
        let toolkit = Toolkit {
            request: self.request,
            job_name: self.job_name,
            hyperparameters: &self.hyperparameters,
            channels: &self.channels,
            program,
            module_dir,
            image: &image,
            num_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let mut inputs: Vec<Input> = self
            .channels
            .iter()
            .map(|c| Input {
                what: format!("channel '{}'", c.name),
                dir_what: "channel".into(),
                uri: c.uri.clone(),
                dir: c.dir(),
                staging: if c.manifest { Staging::Manifest } else { Staging::Copy },
            })
            .collect();
        let command = match &self.mode {
            Mode::Script { program, submit_dir } => {
                inputs.push(Input {
                    what: "the source directory".into(),
                    dir_what: "code".into(),
                    uri: submit_dir.clone(),
                    dir: CODE_DIR.into(),
                    staging: Staging::Unpack { field: None },
                });
                Command::Script {
                    program: program.clone(),
                    source: submit_dir.clone(),
                    args: self.hyperparameters.user_args(),
                }
            }
            Mode::Entrypoint(argv) => Command::Argv {
                argv: argv.clone(),
                check_scripts: true,
            },
            Mode::Runner { command, .. } => Command::Argv {
                argv: command.clone(),
                check_scripts: false,
            },
        };
        JobSpec {
            inputs,
            dirs: ML_DIRS
                .iter()
                .map(|d| (d.to_string(), format!("/opt/ml/{d}")))
                .collect(),
            config_files: toolkit.config_files(),
            command,
            env: toolkit.environment(),
            max_runtime: max_runtime(self.request),
            failure_file: Some(FAILURE_FILE.into()),
            outputs: vec![
                Output::Pack {
                    what: "model".into(),
                    dir: "/opt/ml/model".into(),
                    uri: self.model_uri(),
                    only_if_files: false,
                },
                Output::Pack {
                    what: "output/data".into(),
                    dir: "/opt/ml/output/data".into(),
                    uri: format!("{}/output.tar.gz", self.output_base),
                    only_if_files: true,
                },
            ],
        }
    }

    /// DescribeTrainingJob of the finished job, with its final metrics from the log.
    fn describe(self, done: Finished) -> Result<StepSuccess, StepFailure> {
        let definitions: Vec<(String, String)> = self
            .request
            .pointer("/AlgorithmSpecification/MetricDefinitions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|d| Some((render_text(d.get("Name")?), render_text(d.get("Regex")?))))
            .collect();
        let builtin = matches!(
            self.mode,
            Mode::Runner {
                builtin_xgboost: true,
                ..
            }
        );
        // The log can be large: read it only when there are metrics to find in it.
        let log = if definitions.is_empty() && !builtin {
            String::new()
        } else {
            done.run.log()
        };
        let metrics = final_metrics(&log, &definitions, builtin, done.ended)
            .map_err(|e| permanent(format!("step '{}': {e}", self.step)))?;
        let seconds = json!(done.run.seconds.ceil() as u64);
        let model_uri = self.model_uri();
        let details = vec![
            ("SecondaryStatus", json!("Completed")),
            ("HyperParameters", Value::Object(self.hyperparameters.stored)),
            ("ModelArtifacts", json!({"S3ModelArtifacts": model_uri})),
            ("FinalMetricDataList", json!(metrics)),
            ("CreationTime", time(done.created)),
            ("TrainingStartTime", time(done.started)),
            ("TrainingEndTime", time(done.ended)),
            ("LastModifiedTime", time(done.ended)),
            ("TrainingTimeInSeconds", seconds.clone()),
            ("BillableTimeInSeconds", seconds),
        ];
        Ok(container_job::describe(
            JobKind::Training,
            self.request,
            self.job_name,
            details,
            done.artifacts,
        ))
    }
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
}
