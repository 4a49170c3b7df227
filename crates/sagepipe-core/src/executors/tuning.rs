//! Tuning steps (CreateHyperParameterTuningJob) run locally: the tuning job's training jobs are
//! derived from its `TrainingJobDefinition(s)` (static hyperparameters plus values chosen from
//! the ranges), run through the training executor up to `MaxParallelTrainingJobs` at a time,
//! each under its own job name and log, and judged by the objective metric their
//! `MetricDefinitions` find in their logs. Properties are shaped like
//! DescribeHyperParameterTuningJob plus `TrainingJobSummaries` (best first).
//!
//! Search: `Grid` enumerates every combination of the categorical ranges; `Random` samples the
//! ranges (seeded by `RandomSeed`, else a fresh seed). `Bayesian` and `Hyperband` need
//! SageMaker's optimizers: locally they search like `Random`, and the step log says so.

use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::job::{job_error, permanent, JobSettings};
use super::{training, FailureKind, Outcome, StepContext, StepFailure, StepSuccess};
use crate::definition::FlatStep;
use crate::expr::render_text;
use crate::store;
use crate::util;

/// The service keeps the top 50 training jobs of a tuning step as `TrainingJobSummaries`.
const MAX_SUMMARIES: usize = 50;
/// A Grid search larger than this is refused rather than enumerated.
const MAX_GRID: usize = 10_000;
/// How many draws a Random search makes for one new combination before it takes the space as
/// exhausted (a small categorical/integer space has fewer combinations than jobs asked for).
const MAX_DRAWS: usize = 200;
/// Tuning job names are at most 32 characters (the service's limit).
const MAX_TUNING_NAME: usize = 32;
const STRATEGIES: [&str; 4] = ["Bayesian", "Random", "Hyperband", "Grid"];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Scaling {
    Linear,
    Logarithmic,
    ReverseLogarithmic,
}

/// One hyperparameter range of a training job definition.
#[derive(Debug, Clone, PartialEq)]
enum Range {
    Continuous {
        name: String,
        min: f64,
        max: f64,
        scaling: Scaling,
    },
    Integer {
        name: String,
        min: i64,
        max: i64,
        scaling: Scaling,
    },
    Categorical {
        name: String,
        values: Vec<String>,
    },
}

impl Range {
    fn name(&self) -> &str {
        match self {
            Range::Continuous { name, .. } | Range::Integer { name, .. } | Range::Categorical { name, .. } => name,
        }
    }

    /// How many values the range has, if finitely many.
    fn size(&self) -> Option<u128> {
        match self {
            Range::Continuous { .. } => None,
            Range::Integer { min, max, .. } => Some((i128::from(*max) - i128::from(*min) + 1) as u128),
            Range::Categorical { values, .. } => Some(values.len() as u128),
        }
    }

    fn sample(&self, rng: &mut Rng) -> String {
        match self {
            Range::Continuous { min, max, scaling, .. } => format_float(scaled(*min, *max, *scaling, rng.unit())),
            Range::Integer { min, max, scaling, .. } => {
                let value = match scaling {
                    Scaling::Linear => *min + rng.below((*max - *min) as u64 + 1) as i64,
                    // Log-uniform over [min, max + 1): each integer gets the share of its width.
                    _ => (scaled(*min as f64, *max as f64 + 1.0, Scaling::Logarithmic, rng.unit()).floor() as i64)
                        .clamp(*min, *max),
                };
                value.to_string()
            }
            Range::Categorical { values, .. } => values[rng.below(values.len() as u64) as usize].clone(),
        }
    }
}

/// A value at `u` (in [0, 1)) of [min, max] under a scaling (validated in `parse_range`).
fn scaled(min: f64, max: f64, scaling: Scaling, u: f64) -> f64 {
    match scaling {
        Scaling::Linear => min + u * (max - min),
        Scaling::Logarithmic => (min.ln() + u * (max.ln() - min.ln())).exp(),
        Scaling::ReverseLogarithmic => 1.0 - ((1.0 - max).ln() + u * ((1.0 - min).ln() - (1.0 - max).ln())).exp(),
    }
}

fn format_float(v: f64) -> String {
    let s = v.to_string();
    if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") {
        s
    } else {
        format!("{s}.0")
    }
}

/// A small deterministic generator (SplitMix64): the same seed gives the same search everywhere.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((self.unit() * n as f64) as u64).min(n.saturating_sub(1))
    }
}

#[derive(Debug, Clone)]
struct Objective {
    metric: String,
    kind: String,
}

impl Objective {
    fn maximize(&self) -> bool {
        !self.kind.eq_ignore_ascii_case("Minimize")
    }

    /// Whether `a` is better than `b` under this objective.
    fn better(&self, a: f64, b: f64) -> bool {
        if self.maximize() {
            a > b
        } else {
            a < b
        }
    }
}

/// One training job definition of the tuning job, ready to derive training requests from.
#[derive(Debug)]
struct Definition {
    name: Option<String>,
    /// The CreateTrainingJob request without the tuned hyperparameters and the job name.
    request: Map<String, Value>,
    ranges: Vec<Range>,
    objective: Objective,
}

/// What the tuning job asks for, parsed from its resolved request.
#[derive(Debug)]
struct Tuning {
    strategy: String,
    max_jobs: Option<usize>,
    max_parallel: usize,
    seed: Option<u64>,
    objective: Objective,
    definitions: Vec<Definition>,
    target: Option<f64>,
    max_not_improving: Option<usize>,
    max_runtime: Option<f64>,
}

/// One training job to run: which definition, and the tuned hyperparameters in range order.
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    definition: usize,
    tuned: Vec<(String, String)>,
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        other => render_text(other).trim().parse::<f64>().ok(),
    }
}

fn parse_scaling(step: &str, range: &Value, name: &str, continuous: bool) -> Result<Scaling, String> {
    match range.get("ScalingType").map(render_text).as_deref() {
        // The service picks a scaling for Auto; locally it is linear.
        None | Some("Auto") | Some("Linear") => Ok(Scaling::Linear),
        Some("Logarithmic") => Ok(Scaling::Logarithmic),
        Some("ReverseLogarithmic") if continuous => Ok(Scaling::ReverseLogarithmic),
        Some(other) => Err(format!(
            "step '{step}': range '{name}' has ScalingType '{other}'; expected Auto, Linear, Logarithmic{}",
            if continuous { " or ReverseLogarithmic" } else { "" }
        )),
    }
}

/// The ranges of a `ParameterRanges` object, in the order the service lists them.
fn parse_ranges(step: &str, ranges: Option<&Value>) -> Result<Vec<Range>, String> {
    let mut out = Vec::new();
    let Some(ranges) = ranges else { return Ok(out) };
    if ranges
        .get("AutoParameters")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        return Err(format!(
            "step '{step}': AutoParameters (Autotune) need SageMaker to choose the ranges; give the ranges \
             explicitly to tune locally"
        ));
    }
    let list = |key: &str| ranges.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    for r in list("ContinuousParameterRanges") {
        let name = r.get("Name").map(render_text).unwrap_or_default();
        let bound = |k: &str| {
            r.get(k)
                .and_then(number)
                .ok_or_else(|| format!("step '{step}': continuous range '{name}' has no numeric {k}"))
        };
        let (min, max) = (bound("MinValue")?, bound("MaxValue")?);
        let scaling = parse_scaling(step, &r, &name, true)?;
        let valid = match scaling {
            Scaling::Linear => min <= max,
            Scaling::Logarithmic => 0.0 < min && min <= max,
            Scaling::ReverseLogarithmic => 0.0 <= min && min <= max && max < 1.0,
        };
        if !valid || !min.is_finite() || !max.is_finite() {
            return Err(format!(
                "step '{step}': continuous range '{name}' [{min}, {max}] is not valid for {scaling:?} scaling"
            ));
        }
        out.push(Range::Continuous {
            name,
            min,
            max,
            scaling,
        });
    }
    for r in list("IntegerParameterRanges") {
        let name = r.get("Name").map(render_text).unwrap_or_default();
        let bound = |k: &str| {
            r.get(k)
                .and_then(number)
                .filter(|v| v.fract() == 0.0 && v.abs() < 9.0e15)
                .map(|v| v as i64)
                .ok_or_else(|| format!("step '{step}': integer range '{name}' has no integer {k}"))
        };
        let (min, max) = (bound("MinValue")?, bound("MaxValue")?);
        let scaling = parse_scaling(step, &r, &name, false)?;
        if min > max || (scaling == Scaling::Logarithmic && min <= 0) {
            return Err(format!(
                "step '{step}': integer range '{name}' [{min}, {max}] is not valid for {scaling:?} scaling"
            ));
        }
        out.push(Range::Integer {
            name,
            min,
            max,
            scaling,
        });
    }
    for r in list("CategoricalParameterRanges") {
        let name = r.get("Name").map(render_text).unwrap_or_default();
        let values: Vec<String> = r
            .get("Values")
            .and_then(Value::as_array)
            .map(|v| v.iter().map(render_text).collect())
            .unwrap_or_default();
        if values.is_empty() {
            return Err(format!("step '{step}': categorical range '{name}' has no values"));
        }
        out.push(Range::Categorical { name, values });
    }
    Ok(out)
}

/// The CreateTrainingJob request a training job definition stands for (without its name).
fn training_request(definition: &Value) -> Map<String, Value> {
    let mut request = Map::new();
    for key in [
        "AlgorithmSpecification",
        "RoleArn",
        "InputDataConfig",
        "OutputDataConfig",
        "StoppingCondition",
        "VpcConfig",
        "EnableNetworkIsolation",
        "EnableInterContainerTrafficEncryption",
        "EnableManagedSpotTraining",
        "CheckpointConfig",
        "RetryStrategy",
        "Environment",
        "ResourceConfig",
    ] {
        if let Some(v) = definition.get(key) {
            request.insert(key.into(), v.clone());
        }
    }
    if let Some(hpo) = definition.get("HyperParameterTuningResourceConfig") {
        // The first instance configuration stands for the fleet: jobs run on this machine.
        let source = hpo
            .get("InstanceConfigs")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
            .unwrap_or(hpo);
        let mut resource = Map::new();
        for key in ["InstanceCount", "InstanceType", "VolumeSizeInGB", "VolumeKmsKeyId"] {
            if let Some(v) = source.get(key).or_else(|| hpo.get(key)) {
                resource.insert(key.into(), v.clone());
            }
        }
        request.insert("ResourceConfig".into(), Value::Object(resource));
    }
    let statics = definition
        .get("StaticHyperParameters")
        .cloned()
        .unwrap_or_else(|| json!({}));
    request.insert("HyperParameters".into(), statics);
    request
}

/// The training job definitions of a tuning request: `TrainingJobDefinition`, or each of
/// `TrainingJobDefinitions` (multi-algorithm).
fn definitions_of(args: &Value) -> Vec<&Value> {
    match args.get("TrainingJobDefinitions").and_then(Value::as_array) {
        Some(list) => list.iter().collect(),
        None => args.get("TrainingJobDefinition").into_iter().collect(),
    }
}

fn parse(step: &str, args: &Value) -> Result<Tuning, String> {
    let config = args.get("HyperParameterTuningJobConfig").unwrap_or(&Value::Null);
    let strategy = config
        .get("Strategy")
        .map(render_text)
        .unwrap_or_else(|| "Bayesian".into());
    if !STRATEGIES.contains(&strategy.as_str()) {
        return Err(format!(
            "step '{step}': Strategy '{strategy}' is not one of {}",
            STRATEGIES.join(", ")
        ));
    }
    let limit = |key: &str| -> Result<Option<usize>, String> {
        match config.pointer(&format!("/ResourceLimits/{key}")) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => number(v)
                .filter(|n| *n >= 1.0 && n.fract() == 0.0)
                .map(|n| Some(n as usize))
                .ok_or_else(|| format!("step '{step}': ResourceLimits.{key} must be a positive integer, found {v}")),
        }
    };
    let max_jobs = limit("MaxNumberOfTrainingJobs")?;
    let max_parallel = limit("MaxParallelTrainingJobs")?.unwrap_or(1);
    let max_runtime = config.pointer("/ResourceLimits/MaxRuntimeInSeconds").and_then(number);
    let seed = config.get("RandomSeed").and_then(number).map(|n| n as i64 as u64);
    let global = config.get("HyperParameterTuningJobObjective").map(|o| Objective {
        metric: o.get("MetricName").map(render_text).unwrap_or_default(),
        kind: o.get("Type").map(render_text).unwrap_or_else(|| "Maximize".into()),
    });
    let raw = definitions_of(args);
    if raw.is_empty() {
        return Err(format!(
            "step '{step}': the tuning job has neither TrainingJobDefinition nor TrainingJobDefinitions"
        ));
    }
    let multi = args.get("TrainingJobDefinitions").is_some();
    let mut definitions = Vec::new();
    for d in raw {
        let name = d.get("DefinitionName").map(render_text);
        let ranges = if multi {
            parse_ranges(step, d.get("HyperParameterRanges"))?
        } else {
            parse_ranges(step, config.get("ParameterRanges"))?
        };
        let objective = d
            .get("TuningObjective")
            .map(|o| Objective {
                metric: o.get("MetricName").map(render_text).unwrap_or_default(),
                kind: o.get("Type").map(render_text).unwrap_or_else(|| "Maximize".into()),
            })
            .or_else(|| global.clone())
            .filter(|o| !o.metric.is_empty())
            .ok_or_else(|| {
                format!(
                    "step '{step}': no objective metric (HyperParameterTuningJobObjective{}) to judge the training jobs by",
                    if multi { " or the definition's TuningObjective" } else { "" }
                )
            })?;
        definitions.push(Definition {
            name,
            request: training_request(d),
            ranges,
            objective,
        });
    }
    // Jobs of different definitions are ranked together: by the tuning job's objective type.
    let objective = global
        .filter(|o| !o.metric.is_empty())
        .unwrap_or_else(|| definitions[0].objective.clone());
    let criteria = config.get("TuningJobCompletionCriteria");
    let target = criteria
        .and_then(|c| c.get("TargetObjectiveMetricValue"))
        .and_then(number);
    let max_not_improving = criteria
        .and_then(|c| c.pointer("/BestObjectiveNotImproving/MaxNumberOfTrainingJobsNotImproving"))
        .and_then(number)
        .map(|n| n.max(1.0) as usize);
    Ok(Tuning {
        strategy,
        max_jobs,
        max_parallel,
        seed,
        objective,
        definitions,
        target,
        max_not_improving,
        max_runtime,
    })
}

/// Every combination of the categorical ranges of each definition, definitions in order and
/// the first range varying slowest. Grid search takes categorical ranges only (as the service).
fn grid(step: &str, definitions: &[Definition]) -> Result<Vec<Candidate>, String> {
    let mut out = Vec::new();
    for (index, d) in definitions.iter().enumerate() {
        let mut combos: Vec<Vec<(String, String)>> = vec![vec![]];
        for range in &d.ranges {
            let Range::Categorical { name, values } = range else {
                return Err(format!(
                    "step '{step}': the Grid strategy takes categorical ranges only, and '{}' is not one",
                    range.name()
                ));
            };
            if combos.len().saturating_mul(values.len()) > MAX_GRID {
                return Err(format!(
                    "step '{step}': the grid has more than {MAX_GRID} combinations; narrow the ranges"
                ));
            }
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    values.iter().map(move |v| {
                        let mut next = c.clone();
                        next.push((name.clone(), v.clone()));
                        next
                    })
                })
                .collect();
        }
        out.extend(combos.into_iter().map(|tuned| Candidate {
            definition: index,
            tuned,
        }));
    }
    Ok(out)
}

/// `count` random combinations, definitions taken in turn, no combination twice: a definition
/// whose space runs out before (only categorical and integer ranges) yields fewer.
fn random(definitions: &[Definition], count: usize, seed: u64) -> Vec<Candidate> {
    let mut rng = Rng(seed);
    let mut seen: Vec<HashSet<Vec<(String, String)>>> = vec![HashSet::new(); definitions.len()];
    let mut exhausted: BTreeSet<usize> = BTreeSet::new();
    let mut out = Vec::new();
    let mut turn = 0usize;
    while out.len() < count && exhausted.len() < definitions.len() {
        let index = turn % definitions.len();
        turn += 1;
        if exhausted.contains(&index) {
            continue;
        }
        let ranges = &definitions[index].ranges;
        let space: Option<u128> = ranges
            .iter()
            .try_fold(1u128, |acc, r| r.size().map(|s| acc.saturating_mul(s)));
        let mut found = None;
        for _ in 0..MAX_DRAWS {
            let tuned: Vec<(String, String)> = ranges
                .iter()
                .map(|r| (r.name().to_string(), r.sample(&mut rng)))
                .collect();
            if seen[index].insert(tuned.clone()) {
                found = Some(tuned);
                break;
            }
            if space.is_some_and(|s| seen[index].len() as u128 >= s) {
                break;
            }
        }
        match found {
            Some(tuned) => out.push(Candidate {
                definition: index,
                tuned,
            }),
            None => {
                exhausted.insert(index);
            }
        }
    }
    out
}

/// The training jobs to run, and a line for the log about how they were chosen.
fn candidates(step: &str, tuning: &Tuning) -> Result<(Vec<Candidate>, String), String> {
    if tuning.strategy == "Grid" {
        let mut all = grid(step, &tuning.definitions)?;
        let size = all.len();
        if let Some(max) = tuning.max_jobs {
            all.truncate(max);
        }
        return Ok((
            all,
            format!("strategy Grid: {size} combinations of the categorical ranges"),
        ));
    }
    let seed = tuning.seed.unwrap_or_else(fresh_seed);
    let count = tuning.max_jobs.unwrap_or(1);
    let how = if tuning.strategy == "Random" {
        format!("strategy Random (seed {seed})")
    } else {
        format!(
            "strategy {} is SageMaker's own optimizer and does not run locally: searching with Random (seed {seed}) instead",
            tuning.strategy
        )
    };
    Ok((random(&tuning.definitions, count, seed), how))
}

fn fresh_seed() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return (util::now() * 1e9) as u64;
    }
    u64::from_le_bytes(bytes) >> 1
}

/// What one training job of the tuning job ended with.
struct Finished {
    index: usize,
    name: String,
    created: f64,
    result: Result<StepSuccess, StepFailure>,
    objective: Option<f64>,
}

/// The tuning job's progress, shared by the threads that run its training jobs.
#[derive(Default)]
struct Progress {
    finished: Vec<Finished>,
    best: Option<f64>,
    not_improving: usize,
    /// Why no further training job starts (a completion criterion was met).
    done: Option<String>,
}

pub fn check(step: &FlatStep, jobs: &JobSettings) -> Result<(), String> {
    let args = &step.def.arguments;
    let config = args.get("HyperParameterTuningJobConfig").unwrap_or(&Value::Null);
    if let Some(Value::String(strategy)) = config.get("Strategy") {
        if !STRATEGIES.contains(&strategy.as_str()) {
            return Err(format!(
                "step '{}': Strategy '{strategy}' is not one of {}",
                step.name(),
                STRATEGIES.join(", ")
            ));
        }
    }
    if args.pointer("/Autotune/Mode").and_then(Value::as_str) == Some("Enabled")
        && config.get("ParameterRanges").is_none()
    {
        return Err(format!(
            "step '{}': Autotune needs SageMaker to choose the ranges; give the ranges explicitly to tune locally",
            step.name()
        ));
    }
    let has_objective = |o: Option<&Value>| o.and_then(|o| o.get("MetricName")).is_some();
    if !has_objective(config.get("HyperParameterTuningJobObjective"))
        && !definitions_of(args)
            .iter()
            .all(|d| has_objective(d.get("TuningObjective")))
    {
        return Err(format!(
            "step '{}': the tuning job has no objective metric (HyperParameterTuningJobObjective) to judge its \
             training jobs by",
            step.name()
        ));
    }
    let grid_search = config.get("Strategy").and_then(Value::as_str) == Some("Grid");
    let multi = args.get("TrainingJobDefinitions").is_some();
    for d in definitions_of(args) {
        training::check_request(step.name(), &Value::Object(training_request(d)), jobs)?;
        // Ranges given by pipeline variables are checked when the step runs.
        let ranges = if multi {
            d.get("HyperParameterRanges")
        } else {
            config.get("ParameterRanges")
        };
        if ranges.is_some_and(has_expression) {
            continue;
        }
        let ranges = parse_ranges(step.name(), ranges)?;
        if grid_search {
            let definition = Definition {
                name: None,
                request: Map::new(),
                ranges,
                objective: Objective {
                    metric: String::new(),
                    kind: String::new(),
                },
            };
            grid(step.name(), &[definition])?;
        }
    }
    Ok(())
}

/// Whether a definition value holds a pipeline expression (`Get`, `Std:Join`, ...).
fn has_expression(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.keys().any(|k| k == "Get" || k.starts_with("Std:")) || m.values().any(has_expression),
        Value::Array(a) => a.iter().any(has_expression),
        _ => false,
    }
}

pub fn run(step: &FlatStep, args: &Value, ctx: &StepContext) -> Outcome {
    match run_tuning(step.name(), args, ctx) {
        Ok(s) => Outcome::Succeeded(s),
        Err(_) if ctx.stopping() => Outcome::Stopped("Stopped by request".into()),
        Err(f) => Outcome::Failed(f),
    }
}

/// A tuning job name of at most 32 characters: the execution's id, the step's name
/// (alphanumerics, shortened) and a random part.
fn tuning_job_name(execution_id: &str, step: &str) -> String {
    let random = &util::new_id()[..8];
    let room = MAX_TUNING_NAME.saturating_sub(execution_id.len() + random.len() + 2);
    let short: String = step
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(room.saturating_sub(1))
        .collect();
    let name = if short.is_empty() {
        format!("{execution_id}-{random}")
    } else {
        format!("{execution_id}-{short}-{random}")
    };
    name.chars().take(MAX_TUNING_NAME).collect()
}

/// The name of the tuning job's `index`-th training job (from 0): `<tuning job>-NNN-<8 random>`.
fn training_job_name(tuning_name: &str, index: usize) -> String {
    format!("{tuning_name}-{:03}-{}", index + 1, &util::new_id()[..8])
}

/// Copy a finished training job's log into the step's log as one block, so the step log
/// reads job by job even when jobs ran at the same time.
fn append_job_log(step_log: &Path, job_log: &Path, header: &str) {
    // A job log is capped like a step log before it is copied, so a job that prints without end
    // costs the cap twice at most, not the disk.
    let _ = store::cap_log(job_log, &store::STEP_LOG_CAP);
    let Ok(mut out) = store::open_append(step_log) else {
        return;
    };
    let _ = writeln!(out, "[sagepipe] ==== {header} ====");
    if let Ok(mut f) = fs::File::open(job_log) {
        let _ = std::io::copy(&mut f, &mut out);
    }
    let _ = writeln!(out, "[sagepipe] ==== end of {header} ====");
}

fn run_tuning(name: &str, args: &Value, ctx: &StepContext) -> Result<StepSuccess, StepFailure> {
    let tuning = parse(name, args).map_err(permanent)?;
    let (candidates, how) = candidates(name, &tuning).map_err(permanent)?;
    let created = util::now();
    let tuning_name = tuning_job_name(&ctx.execution_id, name);
    let tuning_arn = util::job_arn("hyper-parameter-tuning-job", &tuning_name);
    let job_logs: PathBuf = ctx.log_path.with_extension("");
    store::append_text(
        &ctx.log_path,
        &format!(
            "[sagepipe] tuning job {tuning_name}: {how}; {} training jobs, at most {} at a time; objective: {} {}\n\
             [sagepipe] each training job's own log: {}/<training job>.log\n",
            candidates.len(),
            tuning.max_parallel,
            tuning.objective.kind,
            tuning.objective.metric,
            job_logs.display()
        ),
    );
    let _ = fs::create_dir_all(&job_logs);
    let names: Vec<String> = (0..candidates.len())
        .map(|i| training_job_name(&tuning_name, i))
        .collect();
    let deadline = tuning
        .max_runtime
        .filter(|s| *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .map(|d| Instant::now() + d);
    let next = AtomicUsize::new(0);
    let progress = Mutex::new(Progress::default());
    let log_lock = Mutex::new(());
    let workers = tuning.max_parallel.min(candidates.len()).max(1);
    let run_worker = |slot: usize| loop {
        if ctx.stopping() || progress.lock().unwrap_or_else(|p| p.into_inner()).done.is_some() {
            return;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            progress
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .done
                .get_or_insert_with(|| {
                    "ResourceLimits.MaxRuntimeInSeconds passed: no further training job starts".into()
                });
            return;
        }
        let index = next.fetch_add(1, Ordering::SeqCst);
        let Some(candidate) = candidates.get(index) else { return };
        let definition = &tuning.definitions[candidate.definition];
        let job_name = names[index].clone();
        let mut request = definition.request.clone();
        if let Some(Value::Object(hps)) = request.get_mut("HyperParameters") {
            for (k, v) in &candidate.tuned {
                hps.insert(k.clone(), json!(v));
            }
        }
        request.insert("TrainingJobName".into(), json!(job_name));
        let tuned_text: Vec<String> = candidate.tuned.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let job_log = job_logs.join(format!("{job_name}.log"));
        store::append_text(
            &job_log,
            &format!(
                "[sagepipe] training job {job_name} of tuning job {tuning_name}{}: {}\n",
                definition
                    .name
                    .as_deref()
                    .map(|d| format!(" (definition {d})"))
                    .unwrap_or_default(),
                tuned_text.join(" ")
            ),
        );
        let job_ctx = ctx.for_job(job_name.clone(), job_log.clone(), slot);
        let job_created = util::now();
        let result = training::run_job(name, &Value::Object(request), &job_ctx);
        let objective = result.as_ref().ok().and_then(|s| {
            s.properties
                .get("FinalMetricDataList")
                .and_then(Value::as_array)
                .and_then(|list| {
                    list.iter().find(|m| {
                        m.get("MetricName").and_then(Value::as_str) == Some(definition.objective.metric.as_str())
                    })
                })
                .and_then(|m| m.get("Value"))
                .and_then(Value::as_f64)
        });
        let status = match (&result, objective) {
            (Ok(_), Some(v)) => format!("Completed, {} = {v}", definition.objective.metric),
            (Ok(_), None) => format!("Completed, but its log reported no {}", definition.objective.metric),
            (Err(f), _) => format!("Failed: {}", f.reason.lines().next().unwrap_or("")),
        };
        {
            let _one_block_at_a_time = log_lock.lock().unwrap_or_else(|p| p.into_inner());
            append_job_log(
                &ctx.log_path,
                &job_log,
                &format!("training job {job_name} ({})", tuned_text.join(" ")),
            );
            store::append_text(
                &ctx.log_path,
                &format!("[sagepipe] training job {job_name}: {status}\n"),
            );
        }
        let mut p = progress.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = objective {
            if p.best.is_none_or(|b| tuning.objective.better(v, b)) {
                p.best = Some(v);
                p.not_improving = 0;
            } else {
                p.not_improving += 1;
            }
        } else {
            p.not_improving += 1;
        }
        if let (Some(target), Some(best)) = (tuning.target, p.best) {
            let reached = if tuning.objective.maximize() {
                best >= target
            } else {
                best <= target
            };
            if reached && p.done.is_none() {
                p.done = Some(format!("TargetObjectiveMetricValue {target} reached ({best})"));
            }
        }
        if let Some(n) = tuning.max_not_improving {
            if p.not_improving >= n && p.done.is_none() {
                p.done = Some(format!("the best objective did not improve for {n} training jobs"));
            }
        }
        p.finished.push(Finished {
            index,
            name: job_name,
            created: job_created,
            result,
            objective,
        });
    };
    std::thread::scope(|scope| {
        let mut started = 0;
        for slot in 1..=workers {
            let run_worker = &run_worker;
            let spawned = std::thread::Builder::new()
                .name(format!("sagepipe-tuning-{slot}"))
                .spawn_scoped(scope, move || run_worker(slot));
            if spawned.is_ok() {
                started += 1;
            }
        }
        if started == 0 {
            run_worker(1);
        }
    });
    let ended = util::now();
    if ctx.stopping() {
        return Err(StepFailure::new("Stopped by request", FailureKind::Permanent));
    }
    let progress = progress.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(why) = &progress.done {
        store::append_text(
            &ctx.log_path,
            &format!("[sagepipe] tuning job {tuning_name} completed early: {why}\n"),
        );
    }
    let mut finished = progress.finished;
    finished.sort_by_key(|f| f.index);
    let summary = |f: &Finished| -> Value {
        let candidate = &candidates[f.index];
        let definition = &tuning.definitions[candidate.definition];
        let tuned: Map<String, Value> = candidate.tuned.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let mut s = Map::new();
        if let Some(d) = &definition.name {
            s.insert("TrainingJobDefinitionName".into(), json!(d));
        }
        s.insert("TrainingJobName".into(), json!(f.name));
        s.insert("TrainingJobArn".into(), json!(util::job_arn("training-job", &f.name)));
        s.insert("TuningJobName".into(), json!(tuning_name));
        s.insert("CreationTime".into(), json!(util::iso8601(f.created)));
        match &f.result {
            Ok(done) => {
                for key in ["TrainingStartTime", "TrainingEndTime"] {
                    if let Some(v) = done.properties.get(key) {
                        s.insert(key.into(), v.clone());
                    }
                }
                s.insert("TrainingJobStatus".into(), json!("Completed"));
            }
            Err(failure) => {
                s.insert("TrainingJobStatus".into(), json!("Failed"));
                s.insert("FailureReason".into(), json!(failure.reason));
            }
        }
        s.insert("TunedHyperParameters".into(), Value::Object(tuned));
        if let Some(v) = f.objective {
            s.insert(
                "FinalHyperParameterTuningJobObjectiveMetric".into(),
                json!({"Type": definition.objective.kind, "MetricName": definition.objective.metric, "Value": v}),
            );
        }
        s.insert(
            "ObjectiveStatus".into(),
            json!(if f.objective.is_some() { "Succeeded" } else { "Failed" }),
        );
        Value::Object(s)
    };
    let completed = finished.iter().filter(|f| f.result.is_ok()).count();
    let failed = finished.len() - completed;
    let succeeded = finished.iter().filter(|f| f.objective.is_some()).count();
    // Best first: jobs with an objective value by it (ties: the earlier job), then the rest.
    let mut ranked: Vec<&Finished> = finished.iter().collect();
    ranked.sort_by(|a, b| match (a.objective, b.objective) {
        (Some(x), Some(y)) if tuning.objective.better(x, y) => std::cmp::Ordering::Less,
        (Some(x), Some(y)) if tuning.objective.better(y, x) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        _ => a.index.cmp(&b.index),
    });
    let Some(best) = ranked.first().filter(|f| f.objective.is_some()) else {
        let metrics: Vec<String> = tuning
            .definitions
            .iter()
            .map(|d| {
                let regex = d
                    .request
                    .get("AlgorithmSpecification")
                    .and_then(|s| s.get("MetricDefinitions"))
                    .and_then(Value::as_array)
                    .and_then(|defs| {
                        defs.iter()
                            .find(|m| m.get("Name").map(render_text).as_deref() == Some(d.objective.metric.as_str()))
                    })
                    .and_then(|m| m.get("Regex"))
                    .map(|r| format!("MetricDefinitions regex '{}'", render_text(r)))
                    .unwrap_or_else(|| "no MetricDefinitions entry of that name".into());
                format!("'{}' ({regex})", d.objective.metric)
            })
            .collect();
        let first_failure = finished
            .iter()
            .find_map(|f| f.result.as_ref().err())
            .map(|f| format!("; the first failure: {}", f.reason))
            .unwrap_or_default();
        return Err(job_error(format!(
            "step '{name}': no training job of tuning job {tuning_name} reported the objective metric {} \
             ({completed} completed, {failed} failed){first_failure}",
            metrics.join(", ")
        )));
    };
    let best_summary = summary(best);
    let summaries: Vec<Value> = ranked.iter().take(MAX_SUMMARIES).map(|f| summary(f)).collect();
    let stopped = candidates.len() - finished.len();
    let mut props = Map::new();
    props.insert("HyperParameterTuningJobName".into(), json!(tuning_name));
    props.insert("HyperParameterTuningJobArn".into(), json!(tuning_arn));
    for key in [
        "HyperParameterTuningJobConfig",
        "TrainingJobDefinition",
        "TrainingJobDefinitions",
        "WarmStartConfig",
        "Autotune",
    ] {
        if let Some(v) = args.get(key) {
            props.insert(key.into(), v.clone());
        }
    }
    props.insert("HyperParameterTuningJobStatus".into(), json!("Completed"));
    props.insert("CreationTime".into(), json!(util::iso8601(created)));
    props.insert("HyperParameterTuningEndTime".into(), json!(util::iso8601(ended)));
    props.insert("LastModifiedTime".into(), json!(util::iso8601(ended)));
    props.insert(
        "TrainingJobStatusCounters".into(),
        json!({"Completed": completed, "InProgress": 0, "RetryableError": 0, "NonRetryableError": failed, "Stopped": 0}),
    );
    props.insert(
        "ObjectiveStatusCounters".into(),
        json!({"Succeeded": succeeded, "Pending": 0, "Failed": finished.len() - succeeded}),
    );
    props.insert("BestTrainingJob".into(), best_summary);
    props.insert(
        "TuningJobCompletionDetails".into(),
        json!({"NumberOfTrainingJobsObjectiveNotImproving": progress.not_improving}),
    );
    props.insert(
        "ConsumedResources".into(),
        json!({"RuntimeInSeconds": (ended - created).max(0.0).ceil() as u64}),
    );
    props.insert("TrainingJobSummaries".into(), Value::Array(summaries));
    store::append_text(
        &ctx.log_path,
        &format!(
            "[sagepipe] tuning job {tuning_name} Completed: {completed} training jobs completed, {failed} failed{}; \
             best {} ({} = {})\n",
            if stopped > 0 {
                format!(", {stopped} not started")
            } else {
                String::new()
            },
            best.name,
            tuning.objective.metric,
            best.objective.unwrap_or_default()
        ),
    );
    let artifacts = finished
        .into_iter()
        .filter_map(|f| f.result.ok())
        .flat_map(|s| s.artifacts)
        .collect();
    let mut metadata = Map::new();
    metadata.insert("TuningJob".into(), json!({"Arn": tuning_arn}));
    Ok(StepSuccess {
        properties: Value::Object(props),
        metadata,
        artifacts,
        objects: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(ranges: Value) -> Definition {
        Definition {
            name: None,
            request: Map::new(),
            ranges: parse_ranges("T", Some(&ranges)).expect("ranges"),
            objective: Objective {
                metric: "acc".into(),
                kind: "Maximize".into(),
            },
        }
    }

    #[test]
    fn grid_enumerates_every_categorical_combination_in_order() {
        let d = definition(json!({"CategoricalParameterRanges": [
            {"Name": "a", "Values": ["1", "2"]}, {"Name": "b", "Values": ["x", "y", "z"]}]}));
        let all = grid("T", &[d]).expect("grid");
        assert_eq!(all.len(), 6);
        let pairs: Vec<(String, String)> = all
            .iter()
            .map(|c| (c.tuned[0].1.clone(), c.tuned[1].1.clone()))
            .collect();
        assert_eq!(pairs[0], ("1".into(), "x".into()));
        assert_eq!(pairs[2], ("1".into(), "z".into()));
        assert_eq!(pairs[5], ("2".into(), "z".into()));
        let unique: HashSet<_> = pairs.iter().collect();
        assert_eq!(unique.len(), 6);
    }

    #[test]
    fn grid_refuses_continuous_and_integer_ranges() {
        let d = definition(json!({"IntegerParameterRanges": [{"Name": "k", "MinValue": "1", "MaxValue": "3"}]}));
        let err = grid("T", &[d]).expect_err("integer");
        assert!(
            err.contains("'T'") && err.contains("categorical") && err.contains("'k'"),
            "{err}"
        );
    }

    #[test]
    fn multi_definition_grid_concatenates_definitions() {
        let a = definition(json!({"CategoricalParameterRanges": [{"Name": "a", "Values": ["1", "2"]}]}));
        let b = definition(json!({"CategoricalParameterRanges": [{"Name": "b", "Values": ["x"]}]}));
        let all = grid("T", &[a, b]).expect("grid");
        assert_eq!(all.iter().map(|c| c.definition).collect::<Vec<_>>(), [0, 0, 1]);
    }

    #[test]
    fn random_samples_stay_in_range_and_repeat_with_the_seed() {
        let d = definition(json!({
            "ContinuousParameterRanges": [
                {"Name": "lr", "MinValue": "0.001", "MaxValue": "0.1", "ScalingType": "Logarithmic"},
                {"Name": "m", "MinValue": 0.5, "MaxValue": 0.9, "ScalingType": "Auto"},
                {"Name": "r", "MinValue": "0.9", "MaxValue": "0.999", "ScalingType": "ReverseLogarithmic"}],
            "IntegerParameterRanges": [{"Name": "k", "MinValue": "1", "MaxValue": "1000", "ScalingType": "Logarithmic"}],
            "CategoricalParameterRanges": [{"Name": "c", "Values": ["a", "b"]}]}));
        let defs = [d];
        let first = random(&defs, 50, 7);
        assert_eq!(first.len(), 50);
        assert_eq!(first, random(&defs, 50, 7));
        assert_ne!(first, random(&defs, 50, 8));
        for c in &first {
            let v = |n: &str| -> f64 {
                c.tuned
                    .iter()
                    .find(|(k, _)| k == n)
                    .and_then(|(_, v)| v.parse().ok())
                    .expect("numeric")
            };
            assert!((0.001..=0.1).contains(&v("lr")));
            assert!((0.5..=0.9).contains(&v("m")));
            assert!((0.9..=0.999).contains(&v("r")));
            assert!((1.0..=1000.0).contains(&v("k")) && v("k").fract() == 0.0);
            let c_value = &c.tuned.iter().find(|(k, _)| k == "c").expect("c").1;
            assert!(c_value == "a" || c_value == "b");
        }
        // Log scaling puts about as many draws in [0.001, 0.01) as in [0.01, 0.1).
        let low = first
            .iter()
            .filter(|c| c.tuned[0].1.parse::<f64>().is_ok_and(|v| v < 0.01))
            .count();
        assert!((10..=40).contains(&low), "{low}");
    }

    #[test]
    fn random_stops_when_a_finite_space_is_exhausted() {
        let d = definition(json!({
            "IntegerParameterRanges": [{"Name": "k", "MinValue": "1", "MaxValue": "2"}],
            "CategoricalParameterRanges": [{"Name": "c", "Values": ["a", "b"]}]}));
        let all = random(&[d], 10, 1);
        assert_eq!(all.len(), 4);
        let unique: HashSet<_> = all.iter().map(|c| c.tuned.clone()).collect();
        assert_eq!(unique.len(), 4);
    }

    #[test]
    fn random_takes_definitions_in_turn() {
        let a = definition(json!({"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]}));
        let b = definition(json!({"ContinuousParameterRanges": [{"Name": "y", "MinValue": "0", "MaxValue": "1"}]}));
        let all = random(&[a, b], 5, 3);
        assert_eq!(all.iter().map(|c| c.definition).collect::<Vec<_>>(), [0, 1, 0, 1, 0]);
    }

    #[test]
    fn invalid_ranges_name_the_step_and_the_range() {
        let bad_log = json!({"ContinuousParameterRanges": [{"Name": "lr", "MinValue": "0", "MaxValue": "1", "ScalingType": "Logarithmic"}]});
        assert!(parse_ranges("T", Some(&bad_log))
            .expect_err("log of 0")
            .contains("'lr'"));
        let reverse_int = json!({"IntegerParameterRanges": [{"Name": "k", "MinValue": "1", "MaxValue": "2", "ScalingType": "ReverseLogarithmic"}]});
        assert!(parse_ranges("T", Some(&reverse_int)).is_err());
        let auto = json!({"AutoParameters": [{"Name": "k", "ValueHint": "1"}]});
        assert!(parse_ranges("T", Some(&auto)).expect_err("auto").contains("Autotune"));
    }

    #[test]
    fn parse_reads_limits_objective_and_the_training_request() {
        let args = json!({
            "HyperParameterTuningJobConfig": {
                "Strategy": "Random", "RandomSeed": 3,
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
                "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "loss"},
                "ParameterRanges": {"CategoricalParameterRanges": [{"Name": "c", "Values": ["a"]}]},
                "TuningJobCompletionCriteria": {"TargetObjectiveMetricValue": 0.1,
                    "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}}},
            "TrainingJobDefinition": {
                "StaticHyperParameters": {"n": "3"},
                "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
                "OutputDataConfig": {"S3OutputPath": "s3://b/out"},
                "HyperParameterTuningResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}}});
        let t = parse("T", &args).expect("parse");
        assert_eq!((t.max_jobs, t.max_parallel, t.seed), (Some(4), 2, Some(3)));
        assert!(!t.objective.maximize() && t.objective.better(0.1, 0.2));
        assert_eq!((t.target, t.max_not_improving), (Some(0.1), Some(3)));
        let req = &t.definitions[0].request;
        assert_eq!(req["HyperParameters"], json!({"n": "3"}));
        assert_eq!(req["ResourceConfig"]["InstanceType"], json!("ml.m5.large"));
        let no_objective = json!({"TrainingJobDefinition": {}});
        assert!(parse("T", &no_objective).expect_err("objective").contains("objective"));
        let bad = json!({"HyperParameterTuningJobConfig": {"Strategy": "Genetic"}, "TrainingJobDefinition": {}});
        assert!(parse("T", &bad).expect_err("strategy").contains("Genetic"));
    }

    #[test]
    fn check_refuses_what_cannot_run_before_the_run() {
        let step = |args: Value| FlatStep {
            def: serde_json::from_value(json!({"Name": "T", "Type": "Tuning", "Arguments": args})).expect("def"),
            parent: None,
            loc: vec![],
        };
        let definition = json!({"StaticHyperParameters": {"sagemaker_program": "\"t.py\""},
            "AlgorithmSpecification": {"TrainingImage": "x/other:1"}});
        let objective = json!({"Type": "Maximize", "MetricName": "acc"});
        let jobs = JobSettings::default();
        let ok = json!({"HyperParameterTuningJobConfig": {"Strategy": "Grid", "HyperParameterTuningJobObjective": objective,
            "ParameterRanges": {"CategoricalParameterRanges": [{"Name": "c", "Values": ["a"]}]}},
            "TrainingJobDefinition": definition});
        assert!(check(&step(ok.clone()), &jobs).is_ok());
        // Ranges given by pipeline variables are left to the run.
        let mut by_variable = ok.clone();
        by_variable["HyperParameterTuningJobConfig"]["ParameterRanges"] = json!({"ContinuousParameterRanges": [{"Name": "x", "MinValue": {"Get": "Parameters.Min"}, "MaxValue": "1"}]});
        by_variable["HyperParameterTuningJobConfig"]["Strategy"] = json!("Random");
        assert!(check(&step(by_variable), &jobs).is_ok());
        let mut no_objective = ok.clone();
        no_objective["HyperParameterTuningJobConfig"]
            .as_object_mut()
            .expect("config")
            .remove("HyperParameterTuningJobObjective");
        assert!(check(&step(no_objective), &jobs)
            .expect_err("objective")
            .contains("objective"));
        let mut image_only = ok;
        image_only["TrainingJobDefinition"]["StaticHyperParameters"] = json!({});
        let err = check(&step(image_only), &jobs).expect_err("image");
        assert!(err.contains("'T'") && err.contains("x/other:1"), "{err}");
    }

    #[test]
    fn tuning_job_names_fit_the_service_limit() {
        let name = tuning_job_name("abcdefghijkl", "My_Tuning-Step");
        assert!(name.len() <= MAX_TUNING_NAME, "{name}");
        assert!(name.starts_with("abcdefghijkl-MyTuni"), "{name}");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        // The training jobs' names match the service's pattern, up to the last of a large tuning job.
        for index in [0, 499] {
            let job = training_job_name(&name, index);
            assert!(job.len() <= 63 && job.starts_with(&name), "{job}");
            assert!(job.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{job}");
            assert!(!job.contains("--") && !job.ends_with('-'), "{job}");
        }
    }
}
