//! Selective Execution: which steps run, which are reused from a reference execution, and why;
//! with the service's rules (path-closed selection, reference status, reused steps must have
//! succeeded in the reference) checked before anything runs, every problem reported at once.

use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

use super::dag::EdgeKind;
use super::error::{did_you_mean, CoreError, CoreResult, Problem};
use super::expr::{self, Reference};
use super::store::{ArtifactRecord, ExecutionRecord, ExecutionStatus, Located, StepRecord, StepStatus};
use super::validate::CompiledPipeline;

/// The service's limit on `SelectedSteps` (enforced in strict mode).
pub const MAX_SELECTED_STEPS: usize = 50;

/// A reference execution as the planner needs it.
pub struct ReferenceRun {
    pub record: ExecutionRecord,
    pub steps: HashMap<String, StepRecord>,
}

impl ReferenceRun {
    /// The outcome a ConditionStep recorded in this run.
    pub fn outcome(&self, step: &str) -> Option<bool> {
        self.steps.get(step).and_then(StepRecord::outcome)
    }

    /// Whether the edge `parent -> child` of `kind` is a condition branch this run did not take.
    pub fn branch_not_taken(&self, c: &CompiledPipeline, parent: usize, kind: EdgeKind) -> bool {
        match (kind, self.outcome(c.name_of(parent))) {
            (EdgeKind::Branch(b), Some(o)) => !b.taken(o),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Run,
    Reuse,
    CacheHit,
    NotSelected,
    ConditionDependent,
    /// Would run but cannot run locally: the start is refused (the reason says why).
    Refused,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanEntry {
    pub step: String,
    pub action: Action,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_execution_arn: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<String>,
    /// Of a reused step: the `s3://` places the selected steps read from its properties (what a
    /// run needs of the reference's outputs; a reference from SageMaker has them fetched first).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<String>,
}

/// The decided selection of one selective run.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub selected: BTreeSet<usize>,
    pub reused: BTreeSet<usize>,
    pub reference_arn: Option<String>,
    pub entries: Vec<PlanEntry>,
    /// The error a start would be refused with (steps that would run but cannot run locally).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// Options beyond the service's rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct Strictness {
    /// Also enforce the service's limits: at most 50 selected steps, weakly connected selection.
    pub strict: bool,
}

fn problem(kind: &'static str, loc: Vec<String>, msg: String) -> Problem {
    Problem::new(kind, loc, msg)
}

/// Step names in pipeline (topological) order.
fn names(c: &CompiledPipeline, set: impl IntoIterator<Item = usize>) -> Vec<String> {
    let wanted: BTreeSet<usize> = set.into_iter().collect();
    c.order
        .iter()
        .filter(|i| wanted.contains(i))
        .map(|&i| c.name_of(i).to_string())
        .collect()
}

enum Expansion {
    Name(usize),
    Set(BTreeSet<usize>),
}

/// One `SelectedSteps` item: a step name, or a shorthand (step names cannot contain `+` or `.`,
/// so these never clash with a name): `X+` is X and everything downstream of it, `+X` is X and
/// everything upstream, `+X+` both, and `A..B` every step on a path from A to B.
fn expand_item(c: &CompiledPipeline, item: &str) -> Result<Expansion, (&'static str, String)> {
    let lookup = |name: &str| {
        c.index.get(name).copied().ok_or_else(|| {
            (
                "unknown_step",
                format!(
                    "selected step '{name}' is not in pipeline '{}'{}",
                    c.name,
                    did_you_mean(name, c.names())
                ),
            )
        })
    };
    // A shorthand only where its step names have the shape of step names; anything else is
    // looked up (and reported) as one literal name.
    let name_shaped = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if let Some((a, b)) = item.split_once("..").filter(|(a, b)| name_shaped(a) && name_shaped(b)) {
        let (a, b) = (lookup(a)?, lookup(b)?);
        let mut set: BTreeSet<usize> = c
            .dag
            .descendants(&[a])
            .intersection(&c.dag.ancestors(&[b]))
            .copied()
            .collect();
        if a != b && set.is_empty() && c.dag.path(a, b).is_none() {
            return Err((
                "empty_range",
                format!(
                    "'{item}' selects nothing: no path leads from '{}' to '{}'",
                    c.name_of(a),
                    c.name_of(b)
                ),
            ));
        }
        set.extend([a, b]);
        return Ok(Expansion::Set(set));
    }
    let base = item.strip_prefix('+').unwrap_or(item);
    let base = base.strip_suffix('+').unwrap_or(base);
    let (up, down) = (item.starts_with('+'), item.len() > 1 && item.ends_with('+'));
    if (!up && !down) || !name_shaped(base) {
        return lookup(item).map(Expansion::Name);
    }
    let i = lookup(base)?;
    let mut set = BTreeSet::from([i]);
    if up {
        set.extend(c.dag.ancestors(&[i]));
    }
    if down {
        set.extend(c.dag.descendants(&[i]));
    }
    Ok(Expansion::Set(set))
}

/// Check `selected` against the pipeline (and the reference, if any) and decide per step.
pub fn plan(
    c: &CompiledPipeline,
    selected_names: &[String],
    reference: Option<&ReferenceRun>,
    strictness: Strictness,
) -> CoreResult<Plan> {
    let mut problems = Vec::new();
    let loc = |i: usize| vec!["SelectedSteps".to_string(), i.to_string()];
    if selected_names.is_empty() {
        problems.push(problem(
            "empty_selection",
            vec!["SelectedSteps".into()],
            "SelectedSteps is empty: select at least one step".into(),
        ));
    }
    let mut selected = BTreeSet::new();
    let mut literal = BTreeSet::new();
    for (k, item) in selected_names.iter().enumerate() {
        match expand_item(c, item) {
            Err(p) => problems.push(problem(p.0, loc(k), p.1)),
            Ok(Expansion::Name(i)) => {
                if !literal.insert(i) {
                    problems.push(problem(
                        "duplicate_selected_step",
                        loc(k),
                        format!("step '{item}' is selected more than once"),
                    ));
                }
                selected.insert(i);
            }
            Ok(Expansion::Set(set)) => selected.extend(set),
        }
    }
    if strictness.strict && selected.len() > MAX_SELECTED_STEPS {
        problems.push(problem(
            "too_many_selected_steps",
            vec!["SelectedSteps".into()],
            format!(
                "{} steps are selected; SageMaker accepts at most {MAX_SELECTED_STEPS} (strict mode)",
                selected.len()
            ),
        ));
    }
    // The steps that were found are checked too, so one misspelt name does not hide the
    // other problems of the selection: every problem is reported at once.
    let sel: Vec<usize> = selected.iter().copied().collect();
    // Path closure: a step reachable from a selected step that reaches a selected step.
    let below = c.dag.descendants(&sel);
    let above = c.dag.ancestors(&sel);
    let missing: BTreeSet<usize> = below
        .intersection(&above)
        .filter(|i| !selected.contains(i))
        .copied()
        .collect();
    if !missing.is_empty() {
        let witness = missing
            .iter()
            .find_map(|&m| witness_path(c, &selected, m))
            .unwrap_or_default();
        problems.push(problem(
            "selection_not_path_closed",
            vec!["SelectedSteps".into()],
            format!(
                "all steps on all paths between two selected steps must be selected; not selected: [{}] (e.g. on the path {})",
                names(c, missing.iter().copied()).join(", "),
                witness
            ),
        ));
    }
    if strictness.strict && !weakly_connected(c, &selected) {
        problems.push(problem(
            "selection_not_connected",
            vec!["SelectedSteps".into()],
            format!(
                "the selected steps [{}] are not connected in the DAG (strict mode)",
                names(c, sel.iter().copied()).join(", ")
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(CoreError::Selection {
            pipeline: c.name.clone(),
            problems,
        });
    }

    let reused: BTreeSet<usize> = above.iter().filter(|i| !selected.contains(i)).copied().collect();
    let mut ref_problems = Vec::new();
    let reference_arn = reference.map(|r| r.record.pipeline_execution_arn.clone());
    match reference {
        None if !reused.is_empty() => {
            let needing: BTreeSet<usize> = sel
                .iter()
                .copied()
                .filter(|&s| c.dag.parents(s).iter().any(|p| reused.contains(p)))
                .collect();
            ref_problems.push(problem(
                "reference_required",
                vec!["SourcePipelineExecutionArn".into()],
                format!(
                    "Invalid SourcePipelineExecutionArn: null. The selected steps [{}] have dependencies on [{}]; \
                     give a reference execution (source_pipeline_execution_arn, or reference_latest_execution=True \
                     with an earlier execution)",
                    names(c, needing).join(", "),
                    names(c, reused.iter().copied()).join(", ")
                ),
            ));
        }
        None => {}
        Some(r) => check_reference(c, r, &selected, &reused, &mut ref_problems),
    }
    if !ref_problems.is_empty() {
        return Err(CoreError::ReferenceExecution {
            pipeline: c.name.clone(),
            problems: ref_problems,
        });
    }

    let mut reads = reference
        .map(|r| reference_reads(c, &selected, &reused, r))
        .unwrap_or_default();
    let entries = c
        .order
        .iter()
        .map(|&i| entry(c, i, &selected, &reused, &below, reference, &mut reads))
        .collect();
    Ok(Plan {
        selected,
        reused,
        reference_arn,
        entries,
        refused: None,
    })
}

/// Per reused step, the `s3://` places that selected steps read from its recorded properties in
/// `reference`: values of `Steps.<step>...` references and the files of `PropertyFiles`. A
/// reference that does not resolve is left to the run, which reports it where it is evaluated.
fn reference_reads(
    c: &CompiledPipeline,
    selected: &BTreeSet<usize>,
    reused: &BTreeSet<usize>,
    reference: &ReferenceRun,
) -> HashMap<usize, BTreeSet<String>> {
    let mut reads: HashMap<usize, BTreeSet<String>> = HashMap::new();
    for &s in selected {
        let mut found = Vec::new();
        expr::collect_references(c.steps[s].input_arguments().0, &mut Vec::new(), &mut found);
        for reference_text in found.into_iter().filter_map(|(r, _)| r.ok()) {
            let (step, value) = match &reference_text {
                Reference::Step { step, path } => {
                    let props = reference.steps.get(step).and_then(|r| r.properties.as_ref());
                    (step, props.and_then(|p| expr::navigate(p, path).ok()))
                }
                Reference::PropertyFile { step, file } => {
                    let props = reference.steps.get(step).and_then(|r| r.properties.as_ref());
                    let file = c
                        .step(step)
                        .and_then(|d| d.def.property_files.iter().find(|p| &p.property_file_name == file));
                    let uri = props.zip(file).and_then(|(p, f)| expr::property_file_uri(f, p).ok());
                    (step, uri.map(Value::String))
                }
                _ => continue,
            };
            let Some(&r) = c.index.get(step.as_str()).filter(|r| reused.contains(r)) else {
                continue;
            };
            if let Some(value) = value {
                s3_strings(&value, reads.entry(r).or_default());
            }
        }
    }
    reads
}

/// Every `s3://` string inside `value`.
fn s3_strings(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::String(s) if s.starts_with("s3://") => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| s3_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| s3_strings(v, out)),
        _ => {}
    }
}

fn entry(
    c: &CompiledPipeline,
    i: usize,
    selected: &BTreeSet<usize>,
    reused: &BTreeSet<usize>,
    below_selection: &BTreeSet<usize>,
    reference: Option<&ReferenceRun>,
    reads: &mut HashMap<usize, BTreeSet<String>>,
) -> PlanEntry {
    let name = c.name_of(i).to_string();
    let branch_parent = c.steps[i].parent;
    if selected.contains(&i) {
        let (action, reason) = match branch_parent {
            Some((p, b)) if !selected.contains(&p) => (
                Action::Run,
                format!(
                    "selected; runs because ConditionStep '{}' took the {b:?} branch in the reference",
                    c.name_of(p)
                ),
            ),
            Some((p, b)) => (
                Action::ConditionDependent,
                format!(
                    "selected; runs only if ConditionStep '{}' takes the {b:?} branch",
                    c.name_of(p)
                ),
            ),
            None => (Action::Run, "selected".to_string()),
        };
        return PlanEntry {
            step: name,
            action,
            reason,
            source_execution_arn: None,
            artifacts: vec![],
            reads: vec![],
        };
    }
    if reused.contains(&i) {
        let r = reference.map(|r| r.record.pipeline_execution_arn.clone());
        let artifacts = reference
            .and_then(|r| r.steps.get(&name))
            .map(|s| s.artifacts.iter().map(|a| a.uri.clone()).collect())
            .unwrap_or_default();
        return PlanEntry {
            step: name,
            action: Action::Reuse,
            reason: "upstream of a selected step: its outputs and properties come from the reference execution".into(),
            source_execution_arn: r,
            artifacts,
            reads: reads.remove(&i).map(Vec::from_iter).unwrap_or_default(),
        };
    }
    let downstream = below_selection.contains(&i);
    PlanEntry {
        step: name,
        action: Action::NotSelected,
        reason: if downstream {
            "downstream of the selection and not selected: does not run".into()
        } else {
            "not selected and not needed by a selected step: does not run".into()
        },
        source_execution_arn: None,
        artifacts: vec![],
        reads: vec![],
    }
}

fn check_reference(
    c: &CompiledPipeline,
    r: &ReferenceRun,
    selected: &BTreeSet<usize>,
    reused: &BTreeSet<usize>,
    problems: &mut Vec<Problem>,
) {
    let arn = &r.record.pipeline_execution_arn;
    let loc = vec!["SourcePipelineExecutionArn".to_string()];
    if r.record.pipeline_name != c.name {
        problems.push(problem(
            "reference_other_pipeline",
            loc.clone(),
            format!(
                "reference execution {arn} belongs to pipeline '{}', not '{}'",
                r.record.pipeline_name, c.name
            ),
        ));
        return;
    }
    let status = r.record.pipeline_execution_status;
    if !matches!(
        status,
        ExecutionStatus::Succeeded | ExecutionStatus::Failed | ExecutionStatus::Stopped
    ) {
        problems.push(problem(
            "reference_not_finished",
            loc.clone(),
            format!("reference execution {arn} is {status}; it must be Succeeded, Failed or Stopped"),
        ));
        return;
    }
    for &u in reused {
        let name = c.name_of(u);
        // Only worded in an error: walking the graph for every reused step is quadratic.
        let dependents = || -> Vec<String> {
            names(
                c,
                c.dag
                    .descendants(&[u])
                    .into_iter()
                    .filter(|d| selected.contains(d))
                    .take(3),
            )
        };
        match r.steps.get(name) {
            Some(s) if s.step_status == StepStatus::Succeeded => {}
            Some(s) => problems.push(problem(
                "reference_step_not_succeeded",
                loc.clone(),
                format!(
                    "selected step(s) [{}] depend on '{name}', which is {} in reference execution {arn}; a \
                     non-selected step can only be reused if it Succeeded (select it too, or use another reference)",
                    dependents().join(", "),
                    s.step_status
                ),
            )),
            None => problems.push(problem(
                "reference_step_missing",
                loc.clone(),
                format!(
                    "selected step(s) [{}] depend on '{name}', which did not run in reference execution {arn} (status \
                     {status}); select it too, or use another reference",
                    dependents().join(", ")
                ),
            )),
        }
    }
    // A selected branch step under a non-selected ConditionStep follows the reference outcome.
    for &s in selected {
        if let Some((p, branch)) = c.steps[s].parent {
            if selected.contains(&p) {
                continue;
            }
            let cond = c.name_of(p);
            if let Some(o) = r.outcome(cond) {
                if !branch.taken(o) {
                    problems.push(problem(
                        "branch_not_taken",
                        loc.clone(),
                        format!(
                            "selected step '{}' is in the {branch:?} branch of ConditionStep '{cond}', which evaluated to {o} \
                             in reference execution {arn}, so the step would not run; select '{cond}' too to evaluate \
                             the condition again",
                            c.name_of(s)
                        ),
                    ));
                }
            }
        }
    }
}

/// `u -> ... -> m -> ... -> v` for selected `u`, `v` around a non-selected `m`.
fn witness_path(c: &CompiledPipeline, selected: &BTreeSet<usize>, m: usize) -> Option<String> {
    let u = selected.iter().copied().find(|&u| c.dag.path(u, m).is_some())?;
    let v = selected.iter().copied().find(|&v| c.dag.path(m, v).is_some())?;
    let mut p = c.dag.path(u, m)?;
    p.extend(c.dag.path(m, v)?.into_iter().skip(1));
    Some(p.iter().map(|&i| c.name_of(i)).collect::<Vec<_>>().join(" -> "))
}

fn weakly_connected(c: &CompiledPipeline, selected: &BTreeSet<usize>) -> bool {
    let Some(&first) = selected.iter().next() else {
        return true;
    };
    let mut seen = BTreeSet::from([first]);
    let mut stack = vec![first];
    while let Some(i) = stack.pop() {
        for n in c.dag.parents(i).into_iter().chain(c.dag.children(i)) {
            if selected.contains(&n) && seen.insert(n) {
                stack.push(n);
            }
        }
    }
    seen.len() == selected.len()
}

impl ReferenceRun {
    fn succeeded(&self, c: &CompiledPipeline, i: usize) -> bool {
        self.steps
            .get(c.name_of(i))
            .is_some_and(|s| s.step_status == StepStatus::Succeeded)
    }

    /// The steps this run could never reach: those on a branch its ConditionSteps did not take,
    /// and everything downstream of them.
    fn unreachable(&self, c: &CompiledPipeline) -> BTreeSet<usize> {
        let untaken: Vec<usize> = (0..c.steps.len())
            .filter(|&i| {
                c.dag
                    .incoming(i)
                    .iter()
                    .any(|&(p, kind)| self.branch_not_taken(c, p, kind))
            })
            .collect();
        let mut out = c.dag.descendants(&untaken);
        out.extend(untaken);
        out
    }

    /// Whether every step this run was to run (its selection, or the whole pipeline) succeeded
    /// or sits on a branch it did not take: its work was done, whatever its record says.
    pub fn work_completed(&self, c: &CompiledPipeline) -> bool {
        let selected: Option<BTreeSet<&str>> = self
            .record
            .selective_execution_config
            .as_ref()
            .and_then(|cfg| cfg.get("SelectedSteps"))
            .and_then(Value::as_array)
            .map(|steps| {
                steps
                    .iter()
                    .filter_map(|s| s.get("StepName").and_then(Value::as_str))
                    .collect()
            });
        let unreachable = self.unreachable(c);
        (0..c.steps.len())
            .filter(|&i| selected.as_ref().is_none_or(|s| s.contains(c.name_of(i))))
            .all(|i| self.succeeded(c, i) || unreachable.contains(&i))
    }
}

/// The steps a "resume from failure" run selects: every step that did not succeed in the
/// reference (failed, stopped, or never started), except steps on a branch the reference's
/// ConditionStep did not take, plus everything downstream.
pub fn resume_selection(c: &CompiledPipeline, reference: &ReferenceRun) -> Vec<String> {
    let unreachable = reference.unreachable(c);
    let roots: Vec<usize> = (0..c.steps.len())
        .filter(|&i| !reference.succeeded(c, i) && !unreachable.contains(&i))
        .collect();
    let mut chosen: BTreeSet<usize> = roots.iter().copied().collect();
    chosen.extend(
        c.dag
            .descendants(&roots)
            .into_iter()
            .filter(|i| !unreachable.contains(i)),
    );
    c.order
        .iter()
        .filter(|i| chosen.contains(i))
        .map(|&i| c.name_of(i).to_string())
        .collect()
}

/// Problems with reused artifacts: missing, or changed since they were recorded.
pub fn check_artifacts(
    plan: &Plan,
    c: &CompiledPipeline,
    reference: &ReferenceRun,
    locate: impl Fn(&ArtifactRecord) -> Option<Located>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for &u in &plan.reused {
        let name = c.name_of(u);
        if let Some(rec) = reference.steps.get(name) {
            problems.extend(artifact_problems(name, &rec.artifacts, &locate));
        }
    }
    problems
}

/// Problems with the recorded artifacts of one step: missing, or changed since they were
/// recorded. Size and mtime are compared first (cheap); the content is hashed again only when
/// they differ, so checking a 1 GB output costs the same as a 1 KB one.
pub fn artifact_problems(
    step: &str,
    artifacts: &[ArtifactRecord],
    locate: impl Fn(&ArtifactRecord) -> Option<Located>,
) -> Vec<Problem> {
    artifacts
        .iter()
        .filter_map(|a| artifact_problem(step, a, &locate, &super::store::fingerprint::fingerprint))
        .collect()
}

fn artifact_problem(
    step: &str,
    a: &ArtifactRecord,
    locate: &impl Fn(&ArtifactRecord) -> Option<Located>,
    fingerprint: &impl Fn(&std::path::Path) -> Option<(u64, i128, String)>,
) -> Option<Problem> {
    let loc = vec!["Steps".to_string(), step.to_string(), "Artifacts".to_string()];
    let path = match locate(a) {
        // Rows of the store's database are written once, with the step's record.
        Some(Located::Inline) => return None,
        Some(Located::File(path)) => path,
        None => {
            return Some(problem(
                "artifact_missing",
                loc,
                format!("step '{step}': artifact {} cannot be located", a.uri),
            ))
        }
    };
    if std::fs::symlink_metadata(&path).is_err() {
        return Some(problem(
            "artifact_missing",
            loc,
            format!(
                "step '{step}': reused artifact {} is missing ({})",
                a.uri,
                path.display()
            ),
        ));
    }
    // Staging never follows a link out of an artifact: one found here (however it got there)
    // makes the artifact unusable, whatever its size and mtimes say.
    if let Some((rel, kind)) = super::store::fingerprint::special_entry(&path) {
        let what = if rel.as_os_str().is_empty() {
            format!("is {kind}")
        } else {
            format!("holds {kind} at {}", super::store::files::shown(&a.uri, &rel))
        };
        return Some(problem(
            "artifact_changed",
            loc,
            format!(
                "step '{step}': reused artifact {} {what}; artifacts may hold only regular files and directories, \
                 so it cannot be reused",
                a.uri
            ),
        ));
    }
    // Unchanged size and mtimes (of a file, or of every file of a directory): no need to read it.
    if super::store::fingerprint::quick_stat(&path) == Some((a.size, a.mtime_ns)) {
        return None;
    }
    match fingerprint(&path) {
        Some((size, _, sha)) if size == a.size && sha == a.sha256 => None,
        _ => Some(problem(
            "artifact_changed",
            loc,
            format!(
                "step '{step}': reused artifact {} ({}) changed since the reference execution recorded it",
                a.uri,
                path.display()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::compile;

    fn chain() -> CompiledPipeline {
        // P -> T -> E -> C(if: R, else: F)
        let text = r#"{"Steps":[
          {"Name":"P","Type":"Training","Arguments":{}},
          {"Name":"T","Type":"Training","Arguments":{"a":{"Get":"Steps.P.X"}}},
          {"Name":"E","Type":"Training","Arguments":{"a":{"Get":"Steps.T.X"}}},
          {"Name":"C","Type":"Condition","Arguments":{"Conditions":[{"Type":"Equals","LeftValue":{"Get":"Steps.E.X"},"RightValue":1}],
             "IfSteps":[{"Name":"R","Type":"Training","Arguments":{}}],"ElseSteps":[{"Name":"F","Type":"Fail","Arguments":{}}]}}]}"#;
        compile(text, "p").expect("compiles")
    }

    fn kinds(e: CoreError) -> Vec<&'static str> {
        e.problems().iter().map(|p| p.kind).collect()
    }

    #[test]
    fn path_closure_names_missing_steps_and_a_path() {
        let c = chain();
        let err = plan(&c, &["T".into(), "C".into()], None, Strictness::default()).expect_err("not closed");
        assert_eq!(kinds(err), vec!["selection_not_path_closed"]);
        let err = plan(&c, &["T".into(), "C".into()], None, Strictness::default()).expect_err("not closed");
        assert!(
            err.to_string().contains("[E]") && err.to_string().contains("T -> E -> C"),
            "{err}"
        );
    }

    #[test]
    fn unknown_empty_and_duplicate() {
        let c = chain();
        assert_eq!(
            kinds(plan(&c, &[], None, Strictness::default()).expect_err("empty")),
            vec!["empty_selection"]
        );
        let err = plan(&c, &["Tt".into(), "E".into(), "E".into()], None, Strictness::default()).expect_err("bad");
        assert_eq!(kinds(err), vec!["unknown_step", "duplicate_selected_step"]);
    }

    #[test]
    fn no_reference_only_for_roots() {
        let c = chain();
        let p = plan(&c, &["P".into(), "T".into()], None, Strictness::default()).expect("roots ok");
        assert!(p.reused.is_empty());
        let err = plan(&c, &["T".into()], None, Strictness::default()).expect_err("needs reference");
        assert!(err
            .to_string()
            .contains("Invalid SourcePipelineExecutionArn: null. The selected steps [T] have dependencies on [P]"));
    }

    #[test]
    fn shorthands_expand_along_the_dag() {
        let c = chain();
        let picked = |items: &[&str]| {
            let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
            let p = plan(&c, &items, None, Strictness::default()).expect("plans");
            names(&c, p.selected)
        };
        assert_eq!(picked(&["+E"]), vec!["P", "T", "E"]);
        assert_eq!(picked(&["P..E"]), vec!["P", "T", "E"]);
        assert_eq!(picked(&["P+"]), vec!["P", "T", "E", "C", "R", "F"]);
        let err = plan(&c, &["Tx+".into(), "R..P".into()], None, Strictness::default()).expect_err("bad");
        assert_eq!(kinds(err), vec!["unknown_step", "empty_range"]);
    }

    #[test]
    fn reads_are_the_s3_places_selected_steps_take_from_reused_properties() {
        // A's outputs are read by B (a property and a property file); C reads A's name only.
        let text = r#"{"Steps":[
          {"Name":"A","Type":"Processing","Arguments":{"ProcessingOutputConfig":{"Outputs":[
             {"OutputName":"train","S3Output":{"S3Uri":"s3://b/a/train"}},
             {"OutputName":"report","S3Output":{"S3Uri":"s3://b/a/report"}},
             {"OutputName":"all","S3Output":{"S3Uri":"s3://b/a/all"}}]}},
           "PropertyFiles":[{"PropertyFileName":"Report","OutputName":"report","FilePath":"/r/report.json"}]},
          {"Name":"B","Type":"Processing","Arguments":{
             "In":{"Get":"Steps.A.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"},
             "T":{"Std:JsonGet":{"PropertyFile":{"Get":"Steps.A.PropertyFiles.Report"},"Path":"x"}},
             "Joined":{"Std:Join":{"On":"/","Values":[{"Get":"Steps.A.ProcessingOutputConfig.Outputs['all']"}]}}}},
          {"Name":"C","Type":"Processing","Arguments":{"Name":{"Get":"Steps.A.ProcessingJobName"}}}]}"#;
        let c = compile(text, "p").expect("compiles");
        let output = |n: &str| serde_json::json!({"OutputName": n, "S3Output": {"S3Uri": format!("s3://b/a/{n}")}});
        let props = serde_json::json!({"ProcessingJobName": "job-a",
            "ProcessingOutputConfig": {"Outputs": [output("train"), output("report"), output("all"), output("unread")]}});
        let record = ExecutionRecord {
            pipeline_name: "p".into(),
            pipeline_execution_arn: "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/e".into(),
            pipeline_execution_status: ExecutionStatus::Succeeded,
            ..ExecutionRecord::default()
        };
        let step = StepRecord {
            step_name: "A".into(),
            step_type: "Processing".into(),
            step_status: StepStatus::Succeeded,
            properties: Some(props),
            ..StepRecord::default()
        };
        let r = ReferenceRun {
            record,
            steps: HashMap::from([("A".to_string(), step)]),
        };
        let p = plan(&c, &["B".into(), "C".into()], Some(&r), Strictness::default()).expect("plans");
        let a = p.entries.iter().find(|e| e.step == "A").expect("A");
        assert_eq!(a.action, Action::Reuse);
        // The whole 'all' output object is read through the Join: its S3 place with it.
        assert_eq!(
            a.reads,
            vec!["s3://b/a/all", "s3://b/a/report/r/report.json", "s3://b/a/train"]
        );
        assert!(p.entries.iter().filter(|e| e.step != "A").all(|e| e.reads.is_empty()));
        let p = plan(&c, &["C".into()], Some(&r), Strictness::default()).expect("plans");
        assert!(p.entries.iter().all(|e| e.reads.is_empty()));
    }

    #[test]
    fn unchanged_directory_artifacts_are_not_read_again() {
        // Regression: directories were always re-hashed, so reusing 1 GB cost seconds.
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        std::fs::create_dir_all(out.join("sub")).expect("mkdir");
        std::fs::write(out.join("sub/blob.bin"), vec![7u8; 4096]).expect("write");
        let (size, mtime_ns, sha256) = crate::store::fingerprint::fingerprint(&out).expect("fingerprint");
        let a = ArtifactRecord {
            uri: "s3://b/out".into(),
            size,
            mtime_ns,
            sha256,
            inline: false,
        };
        let reads = std::cell::Cell::new(0);
        let counting = |p: &std::path::Path| {
            reads.set(reads.get() + 1);
            crate::store::fingerprint::fingerprint(p)
        };
        let locate = |_: &ArtifactRecord| Some(Located::File(out.clone()));
        assert!(artifact_problem("P", &a, &locate, &counting).is_none());
        assert_eq!(reads.get(), 0, "an unchanged directory must not be hashed again");
        // mtimes come from a coarse kernel clock: let it tick before the change.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(out.join("sub/blob.bin"), vec![8u8; 4096]).expect("write");
        assert!(artifact_problem("P", &a, &locate, &counting).is_some());
        assert_eq!(reads.get(), 1);
    }

    #[test]
    fn an_inline_artifact_is_checked_where_it_is_now() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("payload.pkl");
        let a = ArtifactRecord {
            uri: "s3://b/e/S/results/payload.pkl".into(),
            size: 5,
            mtime_ns: 0,
            sha256: crate::util::sha256_hex(b"bytes"),
            inline: true,
        };
        let hash = |p: &std::path::Path| crate::store::fingerprint::fingerprint(p);
        // In the database: written once with the step's record, nothing to compare.
        assert!(artifact_problem("P", &a, &|_: &ArtifactRecord| Some(Located::Inline), &hash).is_none());
        // Made a file (its mtime is new): the content decides.
        let as_file = |_: &ArtifactRecord| Some(Located::File(file.clone()));
        let p = artifact_problem("P", &a, &as_file, &hash).expect("missing");
        assert_eq!(p.kind, "artifact_missing");
        std::fs::write(&file, b"bytes").expect("write");
        assert!(artifact_problem("P", &a, &as_file, &hash).is_none());
        std::fs::write(&file, b"other").expect("write");
        assert_eq!(
            artifact_problem("P", &a, &as_file, &hash).expect("changed").kind,
            "artifact_changed"
        );
    }

    #[test]
    fn a_rename_inside_a_subdirectory_is_a_change() {
        // Regression: the metadata check looked at the files' and the root's mtimes only, so a
        // same-size file renamed inside a subdirectory passed as unchanged and was reused.
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        std::fs::create_dir_all(out.join("sub")).expect("mkdir");
        std::fs::write(out.join("sub/a.bin"), b"same bytes").expect("write");
        let (size, mtime_ns, sha256) = crate::store::fingerprint::fingerprint(&out).expect("fingerprint");
        let a = ArtifactRecord {
            uri: "s3://b/out".into(),
            size,
            mtime_ns,
            sha256,
            inline: false,
        };
        let locate = |_: &ArtifactRecord| Some(Located::File(out.clone()));
        let hash = |p: &std::path::Path| crate::store::fingerprint::fingerprint(p);
        assert!(artifact_problem("P", &a, &locate, &hash).is_none());
        std::thread::sleep(std::time::Duration::from_millis(20)); // let the coarse mtime clock tick
        std::fs::rename(out.join("sub/a.bin"), out.join("sub/b.bin")).expect("rename");
        assert!(artifact_problem("P", &a, &locate, &hash).is_some());
    }

    #[test]
    fn a_symlink_in_a_reused_artifact_is_a_problem_whatever_its_metadata() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        std::fs::create_dir_all(out.join("sub")).expect("mkdir");
        std::fs::write(out.join("sub/a.bin"), b"bytes").expect("write");
        std::fs::write(dir.path().join("host.txt"), b"host").expect("write");
        let (size, mtime_ns, sha256) = crate::store::fingerprint::fingerprint(&out).expect("fingerprint");
        let a = ArtifactRecord {
            uri: "s3://b/out".into(),
            size,
            mtime_ns,
            sha256,
            inline: false,
        };
        let hash = |p: &std::path::Path| crate::store::fingerprint::fingerprint(p);
        std::os::unix::fs::symlink(dir.path().join("host.txt"), out.join("sub/link")).expect("symlink");
        // The link is part of the fingerprint (never its target), so the hash moves too.
        assert_ne!(hash(&out).expect("fingerprint").2, a.sha256);
        let locate = |_: &ArtifactRecord| Some(Located::File(out.clone()));
        let p = artifact_problem("P", &a, &locate, &hash).expect("problem");
        assert_eq!(p.kind, "artifact_changed");
        assert!(
            p.msg
                .contains("reused artifact s3://b/out holds a symlink at s3://b/out/sub/link"),
            "{}",
            p.msg
        );
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&out, &link).expect("symlink");
        let p =
            artifact_problem("P", &a, &|_: &ArtifactRecord| Some(Located::File(link.clone())), &hash).expect("problem");
        assert!(p.msg.contains("reused artifact s3://b/out is a symlink"), "{}", p.msg);
    }

    #[test]
    fn strict_mode_limits() {
        let c = chain();
        let err = plan(&c, &["P".into(), "R".into()], None, Strictness { strict: true }).expect_err("disconnected");
        assert!(kinds(err).contains(&"selection_not_connected"));
    }
}
