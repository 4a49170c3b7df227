//! Compile a definition: parse, flatten, build the DAG and check it as a whole, reporting every
//! problem at once with its location.

use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::dag::{Dag, EdgeKind};
use super::definition::{self, Definition, FlatStep, DEFINITION_VERSION};
use super::duration::parse_duration;
use super::error::{did_you_mean, CoreError, CoreResult, Problem};
use super::expr::{collect_references, Reference, EXECUTION_VARIABLES};
use super::params;
use super::util;

/// Step types the SDK can emit; others parse fine but are reported as unknown at run time.
pub const KNOWN_STEP_TYPES: &[&str] = &[
    "Condition",
    "Model",
    "Processing",
    "RegisterModel",
    "Training",
    "Transform",
    "Callback",
    "Tuning",
    "Lambda",
    "QualityCheck",
    "ClarifyCheck",
    "EMR",
    "Fail",
    "AutoML",
    "EndpointConfig",
    "Endpoint",
    "InferenceComponent",
    "Lineage",
    "EMRServerless",
    "NotebookJob",
    "BedrockCustomModel",
    "BedrockCustomModelDeployment",
    "BedrockModelImport",
    "BedrockProvisionedModelThroughput",
];

const RETRY_EXCEPTION_TYPES: &[&str] = &[
    "Step.SERVICE_FAULT",
    "Step.THROTTLING",
    "SageMaker.JOB_INTERNAL_ERROR",
    "SageMaker.CAPACITY_ERROR",
    "SageMaker.RESOURCE_LIMIT",
];

/// A parsed, checked pipeline ready to plan and run.
#[derive(Debug, Clone)]
pub struct CompiledPipeline {
    pub name: String,
    /// Everything but `Steps`, which moved into `steps`.
    pub definition: Definition,
    pub steps: Vec<FlatStep>,
    pub index: HashMap<String, usize>,
    pub dag: Dag,
    /// Topological order of step indices.
    pub order: Vec<usize>,
}

impl CompiledPipeline {
    pub fn step(&self, name: &str) -> Option<&FlatStep> {
        self.index.get(name).map(|&i| &self.steps[i])
    }
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().map(FlatStep::name)
    }
    pub fn name_of(&self, i: usize) -> &str {
        self.steps[i].name()
    }
}

/// Parse and check definition text.
pub fn compile(text: &str, pipeline: &str) -> CoreResult<CompiledPipeline> {
    let def = definition::parse(text, pipeline)?;
    compile_definition(def, pipeline)
}

/// The pipeline this process compiled last, with the exact text and name it came from.
struct LastCompiled {
    pipeline: String,
    text: String,
    compiled: Arc<CompiledPipeline>,
}

static LAST_COMPILED: Mutex<Option<LastCompiled>> = Mutex::new(None);

/// [`compile`], keeping the result for the next call for the same text and name: the user's
/// `compile_definition`, the check before a definition is stored, and the `start()`/`plan()`
/// that follows (see [`take_compiled`]) compile the same text. Only the last success is kept
/// (its text, compared byte for byte, and the compiled pipeline); a compiled pipeline is never
/// changed after compiling, so sharing it is the same as compiling again.
pub fn compile_shared(text: &str, pipeline: &str) -> CoreResult<Arc<CompiledPipeline>> {
    if let Some(hit) = with_kept(text, pipeline, |kept| kept.as_ref().map(|k| Arc::clone(&k.compiled))) {
        return Ok(hit);
    }
    // Compiled outside the lock: another thread's compilation of other text does not wait.
    let compiled = Arc::new(compile(text, pipeline)?);
    let replaced = LAST_COMPILED.lock().ok().and_then(|mut last| {
        last.replace(LastCompiled {
            pipeline: pipeline.to_string(),
            text: text.to_string(),
            compiled: Arc::clone(&compiled),
        })
    });
    drop(replaced); // a large pipeline takes a while to free: not under the lock
    Ok(compiled)
}

/// [`compile`] for a run or a plan: takes what [`compile_shared`] kept for this text and name
/// (the slot is emptied, so a large pipeline is freed when its run or plan ends instead of
/// staying alive in this process), else compiles and keeps nothing.
pub fn take_compiled(text: &str, pipeline: &str) -> CoreResult<Arc<CompiledPipeline>> {
    match with_kept(text, pipeline, |kept| kept.take().map(|k| k.compiled)) {
        Some(taken) => Ok(taken),
        None => compile(text, pipeline).map(Arc::new),
    }
}

/// `f` of the kept compilation when it is of this text and name.
fn with_kept<T>(text: &str, pipeline: &str, f: impl FnOnce(&mut Option<LastCompiled>) -> Option<T>) -> Option<T> {
    let mut last = LAST_COMPILED.lock().ok()?;
    let matches = last.as_ref().is_some_and(|l| l.pipeline == pipeline && l.text == text);
    if matches {
        f(&mut last)
    } else {
        None
    }
}

pub fn compile_definition(mut def: Definition, pipeline: &str) -> CoreResult<CompiledPipeline> {
    let mut problems = Vec::new();
    if let Some(v) = &def.version {
        if v != DEFINITION_VERSION {
            problems.push(Problem::new(
                "unsupported_version",
                vec!["Version".into()],
                format!("expected \"{DEFINITION_VERSION}\", found \"{}\"", util::shorten(v)),
            ));
        }
    }
    check_parameters(&def, &mut problems);
    // The steps move into the flat list (`CompiledPipeline::definition` keeps the rest).
    let steps = definition::flatten(std::mem::take(&mut def.steps), &mut problems);

    // Names: valid and unique.
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, s) in steps.iter().enumerate() {
        let name = s.name();
        if !util::valid_step_name(name) {
            let msg = if name.is_empty() {
                "step name is empty: expected 1 to 64 characters from [A-Za-z0-9-_]".to_string()
            } else {
                format!(
                    "step name \"{}\" is not valid: expected 1 to 64 characters from [A-Za-z0-9-_]",
                    util::shorten(name)
                )
            };
            problems.push(Problem::new("invalid_step_name", s.loc.clone(), msg));
        }
        if s.def.step_type.is_empty() {
            problems.push(Problem::new(
                "missing_step_type",
                s.loc.clone(),
                "step has an empty Type",
            ));
        }
        if let Some(&first) = index.get(name) {
            let where_ = if steps[first].parent.is_some() || s.parent.is_some() {
                " (a step inside a ConditionStep branch cannot also be listed elsewhere)"
            } else {
                ""
            };
            problems.push(Problem::new(
                "duplicate_step_name",
                s.loc.clone(),
                format!("step name '{name}' is used more than once{where_}"),
            ));
        } else {
            index.insert(name.to_string(), i);
        }
    }

    let param_names: HashSet<&str> = def.parameters.iter().map(|p| p.name.as_str()).collect();
    let mut dag = Dag::with_nodes(steps.len());
    for (i, s) in steps.iter().enumerate() {
        if let Some((parent, branch)) = s.parent {
            dag.add_edge(parent, i, EdgeKind::Branch(branch));
        }
        for (k, dep) in s.def.depends_on.iter().enumerate() {
            let mut loc = s.loc.clone();
            loc.extend(["DependsOn".to_string(), k.to_string()]);
            match index.get(dep.as_str()) {
                Some(&j) if j == i => problems.push(Problem::new(
                    "self_dependency",
                    loc,
                    format!("step '{dep}' depends on itself"),
                )),
                Some(&j) => {
                    if steps[j].is_type("Fail") {
                        problems.push(Problem::new(
                            "depends_on_fail_step",
                            loc,
                            format!(
                                "'{}' depends on FailStep '{dep}', which ends the execution and has no outputs",
                                s.name()
                            ),
                        ));
                    }
                    dag.add_edge(j, i, EdgeKind::DependsOn);
                }
                None => problems.push(Problem::new(
                    "unknown_step",
                    loc,
                    format!(
                        "DependsOn names step '{}', which is not in the pipeline{}",
                        util::shorten(dep),
                        did_you_mean(dep, index.keys().map(String::as_str))
                    ),
                )),
            }
        }
        check_references(&steps, &index, &param_names, i, &mut dag, &mut problems);
        check_step_config(s, &mut problems);
    }

    for cycle in dag.cycles() {
        // Walk the cycle itself, so each step runs before the next in the message.
        let start = cycle[0];
        let walk = dag
            .children(start)
            .into_iter()
            .filter(|c| cycle.contains(c))
            .find_map(|c| dag.path(c, start))
            .unwrap_or_else(|| vec![start]);
        let mut names: Vec<&str> = vec![steps[start].name()];
        names.extend(walk.iter().map(|&i| steps[i].name()));
        problems.push(Problem::new(
            "cycle",
            vec!["Steps".into()],
            format!(
                "steps [{}] form a cycle (each must run before the next): {}",
                cycle.iter().map(|&i| steps[i].name()).collect::<Vec<_>>().join(", "),
                names.join(" -> ")
            ),
        ));
    }

    if !problems.is_empty() {
        return Err(CoreError::Definition {
            pipeline: pipeline.to_string(),
            problems,
        });
    }
    let order = dag.topological_order().unwrap_or_default();
    Ok(CompiledPipeline {
        name: pipeline.to_string(),
        definition: def,
        steps,
        index,
        dag,
        order,
    })
}

fn check_parameters(def: &Definition, problems: &mut Vec<Problem>) {
    let mut seen = HashSet::new();
    for p in &def.parameters {
        let loc = vec!["Parameters".to_string(), p.name.clone()];
        if p.name.is_empty()
            || p.name.len() > 256
            || !p
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            problems.push(Problem::new(
                "invalid_parameter_name",
                loc.clone(),
                format!(
                    "parameter name \"{}\" is not valid: expected 1 to 256 characters from [A-Za-z0-9-_]",
                    util::shorten(&p.name)
                ),
            ));
        }
        if !seen.insert(p.name.as_str()) {
            problems.push(Problem::new(
                "duplicate_parameter",
                loc.clone(),
                format!("parameter '{}' is declared more than once", p.name),
            ));
        }
        if let Some(values) = &p.enum_values {
            for v in values {
                if let Err(e) = params::coerce(p.parameter_type, v) {
                    problems.push(Problem::new(
                        "invalid_enum_value",
                        loc.clone(),
                        format!("EnumValues: {e}"),
                    ));
                }
            }
        }
        if let Some(d) = &p.default_value {
            if !d.is_null() {
                if let Err(e) = params::check(p, d) {
                    problems.push(Problem::new(
                        "invalid_default_value",
                        loc.clone(),
                        format!("DefaultValue: {e}"),
                    ));
                }
            }
        }
    }
}

fn check_references(
    steps: &[FlatStep],
    index: &HashMap<String, usize>,
    params: &HashSet<&str>,
    i: usize,
    dag: &mut Dag,
    problems: &mut Vec<Problem>,
) {
    let s = &steps[i];
    let mut refs = Vec::new();
    let (scan, base) = s.input_arguments();
    collect_references(scan, &mut vec![base.to_string()], &mut refs);
    check_json_gets(
        scan,
        &mut s.loc.iter().cloned().chain([base.to_string()]).collect(),
        problems,
    );
    // Type-specific top-level keys can hold references too (e.g. Lambda inputs are in Arguments).
    collect_references(&Value::Object(s.def.extra.clone()), &mut vec![], &mut refs);
    for (r, rel) in refs {
        let mut loc = s.loc.clone();
        loc.extend(rel);
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                problems.push(Problem::new("invalid_reference", loc, e));
                continue;
            }
        };
        match &r {
            Reference::Parameter(p) if !params.contains(p.as_str()) => problems.push(Problem::new(
                "unknown_parameter",
                loc,
                format!(
                    "reference to parameter '{}', which is not declared{}",
                    util::shorten(p),
                    did_you_mean(p, params.iter().copied())
                ),
            )),
            Reference::Execution(v) if !EXECUTION_VARIABLES.contains(&v.as_str()) => problems.push(Problem::new(
                "unknown_execution_variable",
                loc,
                format!(
                    "unknown execution variable '{}': expected one of {}{}",
                    util::shorten(v),
                    EXECUTION_VARIABLES.join(", "),
                    did_you_mean(v, EXECUTION_VARIABLES.iter().copied())
                ),
            )),
            Reference::Experiment(f) if f != "ExperimentName" && f != "TrialName" => problems.push(Problem::new(
                "invalid_reference",
                loc,
                format!(
                    "PipelineExperimentConfig has ExperimentName and TrialName, not '{}'",
                    util::shorten(f)
                ),
            )),
            Reference::Step { step, .. } | Reference::PropertyFile { step, .. } => {
                let Some(&j) = index.get(step.as_str()) else {
                    problems.push(Problem::new(
                        "unknown_step",
                        loc,
                        format!(
                            "reference to step '{}', which is not in the pipeline{}",
                            util::shorten(step),
                            did_you_mean(step, index.keys().map(String::as_str))
                        ),
                    ));
                    continue;
                };
                if j == i {
                    problems.push(Problem::new(
                        "self_dependency",
                        loc,
                        format!("step '{step}' references its own properties"),
                    ));
                    continue;
                }
                let target = &steps[j];
                if target.is_type("Fail") {
                    problems.push(Problem::new(
                        "depends_on_fail_step",
                        loc.clone(),
                        format!("'{}' references FailStep '{step}', which has no properties", s.name()),
                    ));
                }
                if let Reference::PropertyFile { file, .. } = &r {
                    check_property_file(target, file, &loc, problems);
                }
                dag.add_edge(j, i, EdgeKind::Data);
            }
            _ => {}
        }
    }
}

fn check_property_file(target: &FlatStep, file: &str, loc: &[String], problems: &mut Vec<Problem>) {
    let step = target.name();
    match target.def.property_files.iter().find(|p| p.property_file_name == file) {
        None => {
            let names: Vec<&str> = target
                .def
                .property_files
                .iter()
                .map(|p| p.property_file_name.as_str())
                .collect();
            problems.push(Problem::new(
                "unknown_property_file",
                loc.to_vec(),
                format!(
                    "step '{step}' declares no property file '{}' (it declares [{}]){}",
                    util::shorten(file),
                    names.join(", "),
                    did_you_mean(file, names.iter().copied())
                ),
            ));
        }
        Some(pf) => {
            if !target.is_type("Processing") {
                problems.push(Problem::new(
                    "invalid_property_file",
                    loc.to_vec(),
                    format!("property file '{file}' belongs to step '{step}' of type {}; only Processing steps have property files", target.def.step_type),
                ));
                return;
            }
            let outputs = target
                .def
                .arguments
                .pointer("/ProcessingOutputConfig/Outputs")
                .and_then(Value::as_array);
            let known: BTreeSet<&str> = outputs
                .into_iter()
                .flatten()
                .filter_map(|o| o.get("OutputName").and_then(Value::as_str))
                .collect();
            if !known.contains(pf.output_name.as_str()) {
                problems.push(Problem::new(
                    "unknown_output",
                    target
                        .loc
                        .iter()
                        .cloned()
                        .chain(["PropertyFiles".to_string(), file.to_string()])
                        .collect(),
                    format!(
                        "property file '{file}' reads output '{}', but step '{step}' has outputs [{}]{}",
                        pf.output_name,
                        known.iter().copied().collect::<Vec<_>>().join(", "),
                        did_you_mean(&pf.output_name, known.iter().copied())
                    ),
                ));
            }
        }
    }
}

fn check_step_config(s: &FlatStep, problems: &mut Vec<Problem>) {
    for (k, rp) in s.def.retry_policies.iter().enumerate() {
        let loc: Vec<String> = s
            .loc
            .iter()
            .cloned()
            .chain(["RetryPolicies".to_string(), k.to_string()])
            .collect();
        if let Some(m) = rp.max_attempts {
            if !(1..=20).contains(&m) {
                problems.push(Problem::new(
                    "invalid_retry_policy",
                    loc.clone(),
                    format!("MaxAttempts must be 1 to 20, found {m}"),
                ));
            }
        }
        if let Some(m) = rp.expire_after_min {
            if !(0..=14400).contains(&m) {
                problems.push(Problem::new(
                    "invalid_retry_policy",
                    loc.clone(),
                    format!("ExpireAfterMin must be 0 to 14400, found {m}"),
                ));
            }
        }
        if rp.backoff_rate < 0.0 || rp.interval_seconds < 0.0 {
            problems.push(Problem::new(
                "invalid_retry_policy",
                loc.clone(),
                "BackoffRate and IntervalSeconds must not be negative",
            ));
        }
        for t in &rp.exception_type {
            if !RETRY_EXCEPTION_TYPES.contains(&t.as_str()) {
                problems.push(Problem::new(
                    "invalid_retry_policy",
                    loc.clone(),
                    format!(
                        "unknown ExceptionType '{}': expected one of {}{}",
                        util::shorten(t),
                        RETRY_EXCEPTION_TYPES.join(", "),
                        did_you_mean(t, RETRY_EXCEPTION_TYPES.iter().copied())
                    ),
                ));
            }
        }
    }
    if let Some(cc) = &s.def.cache_config {
        if let Some(e) = &cc.expire_after {
            if let Err(msg) = parse_duration(e) {
                let loc = s
                    .loc
                    .iter()
                    .cloned()
                    .chain(["CacheConfig".to_string(), "ExpireAfter".to_string()])
                    .collect();
                problems.push(Problem::new("invalid_cache_config", loc, msg));
            }
        }
    }
    if s.is_type("Condition") && !s.def.arguments.is_object() {
        problems.push(Problem::new(
            "invalid_condition",
            s.loc.iter().cloned().chain(["Arguments".to_string()]).collect(),
            format!(
                "ConditionStep '{}' needs Arguments {{\"Conditions\": [...], \"IfSteps\": [...], \"ElseSteps\": [...]}}, found {}",
                s.name(),
                definition::kind_of(&s.def.arguments)
            ),
        ));
    } else if s.is_type("Condition") {
        match s.def.arguments.get("Conditions") {
            Some(Value::Array(conds)) => {
                for (k, c) in conds.iter().enumerate() {
                    check_condition(
                        c,
                        s.loc
                            .iter()
                            .cloned()
                            .chain(["Conditions".to_string(), k.to_string()])
                            .collect(),
                        problems,
                    );
                }
            }
            None | Some(Value::Null) => problems.push(Problem::new(
                "invalid_condition",
                s.loc.clone(),
                format!("ConditionStep '{}' has no Conditions list", s.name()),
            )),
            Some(other) => problems.push(Problem::new(
                "invalid_condition",
                s.loc.clone(),
                format!("Conditions must be a list, found {}", definition::kind_of(other)),
            )),
        }
    }
}

/// `Std:JsonGet` needs a `Path` and either a `PropertyFile` reference or an `S3Uri`.
fn check_json_gets(value: &Value, loc: &mut Vec<String>, problems: &mut Vec<Problem>) {
    match value {
        Value::Object(map) => {
            if let (1, Some(spec)) = (map.len(), map.get("Std:JsonGet")) {
                loc.push("Std:JsonGet".into());
                let pf_ok = match spec.get("PropertyFile") {
                    None => spec.get("S3Uri").is_some(),
                    Some(Value::Object(m)) => m
                        .get("Get")
                        .and_then(Value::as_str)
                        .is_some_and(|g| g.contains(".PropertyFiles.")),
                    Some(_) => false,
                };
                if !pf_ok {
                    problems.push(Problem::new(
                        "invalid_reference",
                        loc.clone(),
                        format!(
                            "Std:JsonGet needs PropertyFile {{\"Get\": \"Steps.<step>.PropertyFiles.<name>\"}} or an S3Uri, found {}",
                            util::shorten(&spec.get("PropertyFile").map(Value::to_string).unwrap_or_else(|| "neither".into()))
                        ),
                    ));
                }
                if spec.get("Path").is_none() {
                    problems.push(Problem::new(
                        "invalid_reference",
                        loc.clone(),
                        "Std:JsonGet has no Path",
                    ));
                }
                loc.pop();
            }
            for (k, v) in map {
                loc.push(k.clone());
                check_json_gets(v, loc, problems);
                loc.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                loc.push(i.to_string());
                check_json_gets(v, loc, problems);
                loc.pop();
            }
        }
        _ => {}
    }
}

const CONDITION_TYPES: &[&str] = &[
    "Equals",
    "GreaterThan",
    "GreaterThanOrEqualTo",
    "LessThan",
    "LessThanOrEqualTo",
    "In",
    "Not",
    "Or",
];

fn check_condition(c: &Value, loc: Vec<String>, problems: &mut Vec<Problem>) {
    let t = c.get("Type").and_then(Value::as_str).unwrap_or("");
    if !CONDITION_TYPES.contains(&t) {
        problems.push(Problem::new(
            "invalid_condition",
            loc.clone(),
            format!(
                "unknown condition Type '{}': expected one of {}{}",
                util::shorten(t),
                CONDITION_TYPES.join(", "),
                did_you_mean(t, CONDITION_TYPES.iter().copied())
            ),
        ));
        return;
    }
    match t {
        "Not" => match c.get("Condition") {
            Some(inner) => check_condition(
                inner,
                loc.iter().cloned().chain(["Condition".to_string()]).collect(),
                problems,
            ),
            None => problems.push(Problem::new(
                "invalid_condition",
                loc,
                "Not condition needs a Condition",
            )),
        },
        "Or" => match c.get("Conditions") {
            Some(Value::Array(items)) => {
                for (k, sub) in items.iter().enumerate() {
                    check_condition(
                        sub,
                        loc.iter()
                            .cloned()
                            .chain(["Conditions".to_string(), k.to_string()])
                            .collect(),
                        problems,
                    );
                }
            }
            _ => problems.push(Problem::new(
                "invalid_condition",
                loc,
                "Or condition needs a list of Conditions",
            )),
        },
        "In" => {
            if !matches!(c.get("Values"), Some(Value::Array(_))) {
                problems.push(Problem::new(
                    "invalid_condition",
                    loc,
                    "In condition needs a list of Values",
                ));
            }
        }
        _ => {
            if c.get("LeftValue").is_none() || c.get("RightValue").is_none() {
                problems.push(Problem::new(
                    "invalid_condition",
                    loc,
                    format!("{t} condition needs LeftValue and RightValue"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<&'static str> {
        match compile(text, "p") {
            Ok(_) => vec![],
            Err(e) => e.problems().iter().map(|p| p.kind).collect(),
        }
    }

    /// The only test in this crate's unit tests that compiles through the shared slot, so no
    /// other test replaces the entry between its calls.
    #[test]
    fn the_last_compilation_is_shared_only_for_the_same_text_and_name_and_taken_once() {
        let text = r#"{"Version":"2020-12-01","Steps":[{"Name":"A","Type":"Fail","Arguments":{}}]}"#;
        let first = compile_shared(text, "shared").expect("compiles");
        let copy = String::from(text); // equal text, another allocation
        let again = compile_shared(&copy, "shared").expect("compiles");
        assert!(Arc::ptr_eq(&first, &again), "same text and name: compiled once");
        let renamed = compile_shared(text, "other").expect("compiles");
        assert!(!Arc::ptr_eq(&first, &renamed));
        assert_eq!(renamed.name, "other");
        let spaced = text.replace(',', ", ");
        let changed = compile_shared(&spaced, "other").expect("compiles");
        assert!(!Arc::ptr_eq(&renamed, &changed), "other text: compiled again");
        // A failure is not kept: the last success still answers.
        assert!(compile_shared("{", "other").is_err());
        assert!(Arc::ptr_eq(
            &changed,
            &compile_shared(&spaced, "other").expect("compiles")
        ));
        // A run takes it (other text takes nothing); after that nothing is kept.
        let unrelated = take_compiled(text, "other").expect("compiles");
        assert!(!Arc::ptr_eq(&changed, &unrelated));
        assert!(Arc::ptr_eq(
            &changed,
            &take_compiled(&spaced, "other").expect("compiles")
        ));
        assert!(!Arc::ptr_eq(
            &changed,
            &take_compiled(&spaced, "other").expect("compiles")
        ));
        assert!(LAST_COMPILED.lock().expect("lock").is_none());
    }

    #[test]
    fn valid_pipeline_compiles_with_data_edges() {
        let text = r#"{"Version":"2020-12-01","Parameters":[{"Name":"T","Type":"Float","DefaultValue":5}],
          "Steps":[
            {"Name":"A","Type":"Training","Arguments":{}},
            {"Name":"B","Type":"Training","Arguments":{"x":{"Get":"Steps.A.ModelArtifacts.S3ModelArtifacts"}}},
            {"Name":"C","Type":"Condition","DependsOn":["A"],"Arguments":{"Conditions":[
               {"Type":"LessThan","LeftValue":{"Get":"Steps.B.FinalMetricDataList['mse'].Value"},"RightValue":{"Get":"Parameters.T"}}],
               "IfSteps":[],"ElseSteps":[{"Name":"F","Type":"Fail","Arguments":{"ErrorMessage":"x"}}]}}]}"#;
        let c = compile(text, "p").expect("compiles");
        assert_eq!(c.order, vec![0, 1, 2, 3]);
        assert_eq!(c.dag.parents(2), BTreeSet::from([0, 1]));
        assert_eq!(c.dag.parents(3), BTreeSet::from([2]));
    }

    #[test]
    fn reports_every_problem() {
        let text = r#"{"Parameters":[{"Name":"T","Type":"Integer","DefaultValue":"x"}],
          "Steps":[
            {"Name":"A","Type":"Training","Arguments":{"p":{"Get":"Parameters.TT"}},"DependsOn":["Bb"]},
            {"Name":"B","Type":"Training","Arguments":{"x":{"Get":"Steps.A.X"}},"DependsOn":["C"]},
            {"Name":"C","Type":"Training","Arguments":{"y":{"Get":"Steps.B.Y"}}},
            {"Name":"A","Type":"Fail","Arguments":{}}]}"#;
        let k = kinds(text);
        for expected in [
            "invalid_default_value",
            "unknown_parameter",
            "unknown_step",
            "duplicate_step_name",
            "cycle",
        ] {
            assert!(k.contains(&expected), "{expected} missing from {k:?}");
        }
    }
}
