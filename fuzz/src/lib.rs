//! The fuzz targets of the sagepipe core, shared by the libFuzzer binaries (`fuzz_targets/`)
//! and the stable mutation driver (`src/bin/stable_fuzz.rs`). A target panics only when the
//! core panics or breaks one of the invariants checked here.

use sagepipe_core::error::CoreError;
use sagepipe_core::expr::{self, Scope};
use sagepipe_core::selection::{self, ReferenceRun, Strictness};
use sagepipe_core::store::{ExecutionRecord, ExecutionStatus, StepRecord, StepStatus};
use sagepipe_core::validate::{self, CompiledPipeline};
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap};

/// Definition text -> parse + validate; on success, the graph and plans must be consistent.
pub fn definition(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match validate::compile(text, "fuzz") {
        Ok(c) => check_compiled(&c, data),
        Err(e) => check_error(&e),
    }
}

fn check_error(e: &CoreError) {
    let text = e.to_string();
    assert!(!text.is_empty());
    for p in e.problems() {
        assert!(!p.msg.is_empty(), "problem {} without a message", p.kind);
    }
}

fn check_compiled(c: &CompiledPipeline, data: &[u8]) {
    let n = c.steps.len();
    // The order is a permutation in which every edge goes forward.
    assert_eq!(c.order.len(), n);
    let mut position = vec![usize::MAX; n];
    for (k, &i) in c.order.iter().enumerate() {
        assert_eq!(position[i], usize::MAX, "step {i} twice in the order");
        position[i] = k;
    }
    for i in 0..n {
        for j in c.dag.children(i) {
            assert!(position[i] < position[j], "edge {i} -> {j} goes backwards");
        }
        assert_eq!(c.index.get(c.name_of(i)), Some(&i));
    }
    if n == 0 {
        return;
    }
    // Plans for a few selections picked by the input: each accepted one is path-closed.
    let seed = data
        .iter()
        .fold(0usize, |h, &b| h.wrapping_mul(31).wrapping_add(b as usize));
    let picks: Vec<Vec<usize>> = vec![
        vec![c.order[0]],
        vec![c.order[n - 1]],
        (0..n).collect(),
        (0..n).filter(|i| (seed >> (i % 48)) & 1 == 1).collect(),
    ];
    let reference = reference_all_succeeded(c);
    for pick in picks {
        let names: Vec<String> = pick.iter().map(|&i| c.name_of(i).to_string()).collect();
        for r in [None, Some(&reference)] {
            let first = selection::plan(c, &names, r, Strictness::default());
            let again = selection::plan(c, &names, r, Strictness::default());
            match (&first, &again) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(plan_json(a), plan_json(b), "plan is not deterministic");
                    assert_path_closed(c, &a.selected);
                }
                (Err(a), Err(b)) => {
                    assert_eq!(a.to_string(), b.to_string());
                    check_error(a);
                }
                _ => panic!("plan answered differently for the same input"),
            }
        }
    }
    let resumed = selection::resume_selection(c, &reference);
    assert!(resumed.iter().all(|n| c.index.contains_key(n.as_str())));
}

fn plan_json(p: &selection::Plan) -> String {
    serde_json::to_string(p).unwrap_or_default()
}

fn assert_path_closed(c: &CompiledPipeline, selected: &BTreeSet<usize>) {
    let sel: Vec<usize> = selected.iter().copied().collect();
    let below = c.dag.descendants(&sel);
    let above = c.dag.ancestors(&sel);
    for m in below.intersection(&above) {
        assert!(selected.contains(m), "accepted a selection that is not path-closed");
    }
}

fn record(pipeline: &str, status: ExecutionStatus) -> ExecutionRecord {
    ExecutionRecord {
        pipeline_name: pipeline.to_string(),
        pipeline_arn: format!("arn:aws:sagemaker:local:000000000000:pipeline/{pipeline}"),
        pipeline_execution_arn: format!(
            "arn:aws:sagemaker:local:000000000000:pipeline/{pipeline}/execution/fuzz00000000"
        ),
        execution_id: "fuzz00000000".into(),
        pipeline_execution_status: status,
        end_time: Some(1.0),
        pipeline_version_id: 1,
        owner_pid: 1,
        ..Default::default()
    }
}

fn step_record(name: &str, status: StepStatus, seq: u64, outcome: Option<bool>) -> StepRecord {
    StepRecord {
        step_name: name.to_string(),
        step_type: "Training".into(),
        step_display_name: None,
        step_description: None,
        start_time: Some(0.0),
        end_time: Some(1.0),
        step_status: status,
        attempt_count: 1,
        failure_reason: None,
        metadata: Map::new(),
        cache_hit_result: None,
        selective_execution_result: None,
        properties: Some(match outcome {
            Some(o) => json!({"Outcome": o}),
            None => json!({"X": name}),
        }),
        artifacts: vec![],
        error: None,
        seq,
        signature: None,
        cache_miss_reason: None,
        function_results_uri: None,
    }
}

fn reference_all_succeeded(c: &CompiledPipeline) -> ReferenceRun {
    let steps = c
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let outcome = s.is_type("Condition").then_some(true);
            (
                s.name().to_string(),
                step_record(s.name(), StepStatus::Succeeded, i as u64, outcome),
            )
        })
        .collect();
    ReferenceRun {
        record: record(&c.name, ExecutionStatus::Succeeded),
        steps,
    }
}

/// A scope with a little of everything for expressions to read.
struct FuzzScope {
    properties: HashMap<&'static str, Value>,
}

impl FuzzScope {
    fn new() -> Self {
        let mut properties = HashMap::new();
        properties.insert(
            "Train",
            json!({"ModelArtifacts": {"S3ModelArtifacts": "s3://b/model.tar.gz"},
                   "FinalMetricDataList": [{"MetricName": "loss", "Value": 0.25}],
                   "HyperParameters": {"lr": "0.1"}, "Outcome": true}),
        );
        properties.insert(
            "Prep",
            json!({"ProcessingOutputConfig": {"Outputs": [{"OutputName": "metrics", "S3Output": {"S3Uri": "s3://b/m"}}]}}),
        );
        FuzzScope { properties }
    }

    fn document() -> Value {
        json!({"metrics": {"loss": 0.5, "acc": [0.1, 0.9, {"deep": "x"}]}, "ok": true, "name": "n", "n": -3})
    }
}

impl Scope for FuzzScope {
    fn parameter(&self, name: &str) -> Option<Value> {
        match name {
            "Int" => Some(json!(5)),
            "Float" => Some(json!(0.5)),
            "Str" => Some(json!("text")),
            "Bool" => Some(json!(true)),
            "Big" => Some(json!(i64::MAX)),
            "Neg" => Some(json!(-1.0e308)),
            _ => None,
        }
    }
    fn execution_variable(&self, name: &str) -> Option<Value> {
        expr::EXECUTION_VARIABLES
            .contains(&name)
            .then(|| json!(format!("exec-{name}")))
    }
    fn experiment_config(&self, field: &str) -> Option<Value> {
        (field == "ExperimentName").then(|| json!("exp"))
    }
    fn step_properties(&self, step: &str) -> Result<Value, String> {
        self.properties
            .get(step)
            .cloned()
            .ok_or_else(|| format!("no step '{step}'"))
    }
    fn property_file(&self, step: &str, file: &str) -> Result<Value, String> {
        if step == "Prep" && file == "Metrics" {
            Ok(Self::document())
        } else {
            Err(format!("no property file {step}.{file}"))
        }
    }
    fn read_json_uri(&self, uri: &str) -> Result<Value, String> {
        if uri.starts_with("s3://b/") {
            Ok(Self::document())
        } else {
            Err(format!("cannot read {uri}"))
        }
    }
}

/// Expression JSON (or, if the input is not JSON, a `Get` of its text) -> evaluate as a value
/// and as a condition; references, paths and comparisons must fail as errors, never panics.
pub fn expression(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let scope = FuzzScope::new();
    let value: Value = serde_json::from_str(text).unwrap_or_else(|_| json!({"Get": text}));
    let first = expr::evaluate(&value, &scope);
    let again = expr::evaluate(&value, &scope);
    assert_eq!(first, again, "evaluation is not deterministic");
    let _ = expr::evaluate_condition(&value, &scope);
    if let Value::Object(m) = &value {
        if let Some(Value::String(g)) = m.get("Get") {
            if let Ok(expr::Reference::Step { path, .. }) = expr::parse_get(g) {
                // A parsed path renders to text that parses back to the same path (but for a
                // first attribute named "$", which a path reads as the JSONPath root).
                if path.first() == Some(&expr::PathSeg::Attr("$".into())) {
                    return;
                }
                let rendered = expr::render_path(&path);
                if let Ok(back) = expr::parse_path(&rendered) {
                    assert_eq!(back, path, "path {rendered:?} does not round-trip");
                }
            }
        }
    }
    let _ = expr::parse_path(text);
    if let (Ok(a), Ok(b)) = (serde_json::from_str::<Value>(text), serde_json::from_str::<Value>(text)) {
        for op in ["Equals", "GreaterThan", "LessThan", "In"] {
            let x = expr::compare(&a, &b, op);
            if let Ok(o) = x {
                assert_eq!(o, std::cmp::Ordering::Equal, "a value compared unequal to itself");
            }
        }
    }
    let _ = expr::render_text(&value);
}

/// Bytes -> a random pipeline (steps, DependsOn and data edges, a ConditionStep with branches),
/// a selection and a reference run with random statuses -> plan and resume selection.
pub fn selection(data: &[u8]) {
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next().unwrap_or(0);
    let n = 1 + (next() % 12) as usize;
    let mut steps = Vec::new();
    for i in 0..n {
        let mut depends = Vec::new();
        let mut args = Map::new();
        for j in 0..i {
            match next() % 5 {
                0 => depends.push(json!(format!("S{j}"))),
                1 => {
                    args.insert(format!("in{j}"), json!({"Get": format!("Steps.S{j}.X")}));
                }
                _ => {}
            }
        }
        steps.push(json!({"Name": format!("S{i}"), "Type": "Training", "DependsOn": depends, "Arguments": args}));
    }
    let with_condition = next() % 2 == 0;
    if with_condition {
        let after: Vec<String> = (0..n).filter(|_| next() % 3 == 0).map(|i| format!("S{i}")).collect();
        steps.push(
            json!({"Name": "C", "Type": "Condition", "DependsOn": after, "Arguments": {
            "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
            "IfSteps": [{"Name": "B0", "Type": "Training", "Arguments": {}}],
            "ElseSteps": [{"Name": "B1", "Type": "Fail", "Arguments": {"ErrorMessage": "no"}}]}}),
        );
    }
    let text = json!({"Version": "2020-12-01", "Steps": steps}).to_string();
    let c = match validate::compile(&text, "fuzzsel") {
        Ok(c) => c,
        Err(e) => panic!("generated pipeline does not compile: {e}"),
    };
    let names: Vec<String> = c.names().map(str::to_string).collect();
    let mut selected: Vec<String> = names.iter().filter(|_| next() % 3 == 0).cloned().collect();
    if next() % 7 == 0 {
        selected.push(names[(next() as usize) % names.len()].clone()); // a duplicate
    }
    if next() % 11 == 0 {
        selected.push("Nope".into());
    }
    // `None`: the step did not run in the reference.
    let statuses = [
        Some(StepStatus::Succeeded),
        Some(StepStatus::Succeeded),
        Some(StepStatus::Failed),
        Some(StepStatus::Stopped),
        None,
    ];
    let outcome = next() % 2 == 0;
    let mut ref_steps = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        if let Some(status) = statuses[(next() as usize) % statuses.len()] {
            let o = (name == "C").then_some(outcome);
            ref_steps.insert(name.clone(), step_record(name, status, i as u64, o));
        }
    }
    let exec_status = [
        ExecutionStatus::Succeeded,
        ExecutionStatus::Failed,
        ExecutionStatus::Stopped,
        ExecutionStatus::Executing,
    ][(next() % 4) as usize];
    let reference = ReferenceRun {
        record: record(if next() % 13 == 0 { "another" } else { "fuzzsel" }, exec_status),
        steps: ref_steps,
    };
    let strict = Strictness {
        strict: next() % 2 == 0,
    };
    for r in [None, Some(&reference)] {
        let a = selection::plan(&c, &selected, r, strict);
        let b = selection::plan(&c, &selected, r, strict);
        match (&a, &b) {
            (Ok(p), Ok(q)) => {
                assert_eq!(plan_json(p), plan_json(q));
                assert_path_closed(&c, &p.selected);
                // Reused steps succeeded in the reference.
                for &u in &p.reused {
                    let rec = r.and_then(|r| r.steps.get(c.name_of(u)));
                    assert!(
                        rec.is_some_and(|s| s.step_status == StepStatus::Succeeded),
                        "reused a step that did not succeed"
                    );
                }
                assert_eq!(p.entries.len(), c.steps.len());
            }
            (Err(x), Err(y)) => {
                assert_eq!(x.to_string(), y.to_string());
                check_error(x);
            }
            _ => panic!("plan answered differently for the same input"),
        }
    }
    if matches!(exec_status, ExecutionStatus::Failed | ExecutionStatus::Stopped) && reference.record.pipeline_name == "fuzzsel" {
        let chosen = selection::resume_selection(&c, &reference);
        let set: BTreeSet<usize> = chosen.iter().filter_map(|n| c.index.get(n.as_str()).copied()).collect();
        assert_eq!(set.len(), chosen.len());
        assert_path_closed(&c, &set);
    }
}
