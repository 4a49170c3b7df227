//! Deciding a run before it starts: the selection of a selective run (explicit, shorthand, or
//! "what changed since the reference"), its checks, and what each step will do, including the
//! cache hits that can be known in advance.

use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::cache;
use super::recovery;
use super::scope::PlanScope;
use crate::error::{CoreError, CoreResult, Problem};
use crate::executors::JobSettings;
use crate::expr::{parse_get, Reference};
use crate::selection::{self, Action, Plan, PlanEntry, ReferenceRun, Strictness};
use crate::signature;
use crate::store::{Signature, StepStatus, Store};
use crate::util;
use crate::validate::CompiledPipeline;

/// sagepipe's keys in a `SelectiveExecutionConfig` request beyond the service's.
pub const SELECT_CHANGED_KEY: &str = "SelectChangedSteps";
pub const STRICT_KEY: &str = "Strict";

/// Load an execution and its step records as a reference for a selective run.
pub fn load_reference(store: &Store, arn: &str) -> CoreResult<ReferenceRun> {
    let record = recovery::load_execution(store, arn).map_err(|e| match e {
        CoreError::NotFound { .. } | CoreError::Validation(_) => CoreError::ReferenceExecution {
            pipeline: util::parse_execution_arn(arn).map(|(n, _)| n).unwrap_or_default(),
            problems: vec![Problem::new(
                "reference_not_found",
                vec!["SourcePipelineExecutionArn".into()],
                format!("reference execution {arn} does not exist in this store (deleted, or never run here)"),
            )],
        },
        other => other,
    })?;
    let steps = recovery::load_steps(store, arn)?
        .into_iter()
        .map(|s| (s.step_name.clone(), s))
        .collect();
    Ok(ReferenceRun { record, steps })
}

/// A decided selective run: the plan, the reference it reuses from, and the request as it will
/// be recorded (explicit step names, the service's keys only).
pub struct Selective {
    pub plan: Plan,
    pub reference: Option<Arc<ReferenceRun>>,
    pub resolved_config: Value,
}

/// Decide a selective run from a `SelectiveExecutionConfig` request value with the run's
/// resolved `parameters`, checking the reused artifacts too.
pub fn plan_selective(
    store: &Store,
    compiled: &CompiledPipeline,
    cfg: &Value,
    parameters: &Map<String, Value>,
) -> CoreResult<Selective> {
    let strictness = Strictness {
        strict: cfg.get(STRICT_KEY).and_then(Value::as_bool).unwrap_or(false),
    };
    let reference = match cfg.get("SourcePipelineExecutionArn").and_then(Value::as_str) {
        Some(arn) => Some(Arc::new(load_reference(store, arn)?)),
        None => None,
    };
    let select_changed = cfg.get(SELECT_CHANGED_KEY).and_then(Value::as_bool).unwrap_or(false);
    let (names, reasons) = if select_changed {
        let Some(r) = reference.as_deref() else {
            return Err(CoreError::Selection {
                pipeline: compiled.name.clone(),
                problems: vec![Problem::new(
                    "reference_required",
                    vec!["SourcePipelineExecutionArn".into()],
                    "selecting the changed steps needs a reference execution to compare with; give \
                     source_pipeline_execution_arn, or reference_latest_execution=True after an earlier run"
                        .to_string(),
                )],
            });
        };
        let changed = changed_steps(store, compiled, r, parameters);
        if changed.is_empty() {
            return Err(CoreError::Selection {
                pipeline: compiled.name.clone(),
                problems: vec![Problem::new(
                    "nothing_changed",
                    vec![SELECT_CHANGED_KEY.into()],
                    format!(
                        "no step changed since reference execution {}: every step would be reused; select \
                         steps by name to run them again anyway",
                        r.record.pipeline_execution_arn
                    ),
                )],
            });
        }
        let names = changed.iter().map(|(n, _)| n.clone()).collect();
        (names, changed.into_iter().collect::<HashMap<_, _>>())
    } else {
        let names: Vec<String> = match cfg.get("SelectedSteps") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.get("StepName")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_default()
                })
                .collect(),
            _ => vec![],
        };
        (names, HashMap::new())
    };
    let mut plan = selection::plan(compiled, &names, reference.as_deref(), strictness)?;
    if let Some(r) = &reference {
        let problems = selection::check_artifacts(&plan, compiled, r, |a| store.locate_artifact(a));
        if !problems.is_empty() {
            return Err(CoreError::ReferenceExecution {
                pipeline: compiled.name.clone(),
                problems,
            });
        }
    }
    for e in &mut plan.entries {
        if let Some(why) = reasons.get(&e.step) {
            e.reason = format!("{} ({why})", e.reason);
        } else if select_changed && e.action == Action::Reuse {
            e.reason = format!("unchanged since the reference; {}", e.reason);
        }
    }
    let mut resolved = Map::new();
    let selected: Vec<Value> = compiled
        .order
        .iter()
        .filter(|i| plan.selected.contains(i))
        .map(|&i| serde_json::json!({"StepName": compiled.name_of(i)}))
        .collect();
    if let Some(arn) = &plan.reference_arn {
        resolved.insert("SourcePipelineExecutionArn".into(), Value::String(arn.clone()));
    }
    resolved.insert("SelectedSteps".into(), Value::Array(selected));
    Ok(Selective {
        plan,
        reference,
        resolved_config: Value::Object(resolved),
    })
}

/// The plan of a start of the stored pipeline (selective when `cfg` is given), without
/// running anything; cache hits that can be known before the run are marked. A step that would
/// run but cannot run locally (with the handlers of `external_types` and the image runners of
/// `jobs`, as the start would have them) is `Refused` with the start's reason, and the plan
/// carries the error the start would be refused with.
pub fn plan_request(
    store: &Store,
    pipeline: &str,
    cfg: Option<&Value>,
    given_parameters: &Map<String, Value>,
    version: Option<u64>,
    external_types: &[String],
    jobs: &JobSettings,
) -> CoreResult<Plan> {
    let text = store.definition_text(pipeline, version)?;
    plan_definition(store, pipeline, &text, cfg, given_parameters, external_types, jobs)
}

/// [`plan_request`] of definition text the caller has (the version it has just stored): it is
/// not read back, nor compiled again if it was the last one compiled.
pub fn plan_definition(
    store: &Store,
    pipeline: &str,
    text: &str,
    cfg: Option<&Value>,
    given_parameters: &Map<String, Value>,
    external_types: &[String],
    jobs: &JobSettings,
) -> CoreResult<Plan> {
    let compiled = crate::validate::take_compiled(text, pipeline)?;
    let parameters = crate::params::resolve(pipeline, &compiled.definition.parameters, given_parameters)?;
    let (mut plan, reference) = match cfg {
        Some(cfg) => {
            let s = plan_selective(store, &compiled, cfg, &parameters)?;
            (s.plan, s.reference)
        }
        None => (full_plan(&compiled), None),
    };
    mark_refused(&compiled, &mut plan, external_types, jobs);
    predict_cache(store, &compiled, &mut plan, reference.as_deref(), &parameters);
    Ok(plan)
}

/// Mark the steps a start would refuse (the same check, `super::local_kinds`), before cache
/// prediction: a refused step is refused even where it would be a cache hit.
fn mark_refused(c: &CompiledPipeline, plan: &mut Plan, external_types: &[String], jobs: &JobSettings) {
    let (_, refused) = super::local_kinds(c, external_types, jobs, |i| plan.selected.contains(&i));
    if refused.is_empty() {
        return;
    }
    for (i, problem) in &refused {
        if let Some(e) = plan.entries.iter_mut().find(|e| e.step == c.name_of(*i)) {
            e.action = Action::Refused;
            e.reason.clone_from(&problem.msg);
        }
    }
    plan.refused = Some(
        CoreError::Unsupported {
            problems: refused.into_iter().map(|(_, p)| p).collect(),
        }
        .to_string(),
    );
}

fn full_plan(c: &CompiledPipeline) -> Plan {
    let entries = c
        .order
        .iter()
        .map(|&i| {
            let (action, reason) = match c.steps[i].parent {
                Some((p, b)) => (
                    Action::ConditionDependent,
                    format!("runs only if ConditionStep '{}' takes the {b:?} branch", c.name_of(p)),
                ),
                None => (Action::Run, "full run".to_string()),
            };
            PlanEntry {
                step: c.name_of(i).to_string(),
                action,
                reason,
                source_execution_arn: None,
                artifacts: vec![],
                reads: vec![],
            }
        })
        .collect();
    Plan {
        selected: (0..c.steps.len()).collect(),
        reused: BTreeSet::new(),
        reference_arn: None,
        entries,
        refused: None,
    }
}

/// Mark the steps that will be cache hits, as far as that can be known before the run: a step
/// whose inputs come only from parameters and from steps that are reused (or themselves cache
/// hits) can be looked up now; others are decided when they run.
fn predict_cache(
    store: &Store,
    c: &CompiledPipeline,
    plan: &mut Plan,
    reference: Option<&ReferenceRun>,
    parameters: &Map<String, Value>,
) {
    let position: HashMap<String, usize> = plan
        .entries
        .iter()
        .enumerate()
        .map(|(k, e)| (e.step.clone(), k))
        .collect();
    // The steps that can be predicted: cache on, and would run.
    let candidates: Vec<(usize, usize)> = c
        .order
        .iter()
        .filter_map(|&i| {
            let step = &c.steps[i];
            let &k = position.get(step.name())?;
            let predictable = matches!(plan.entries[k].action, Action::Run | Action::ConditionDependent)
                && cache::policy(step).is_some()
                && !matches!(step.def.step_type.as_str(), "Condition" | "Fail");
            predictable.then_some((i, k))
        })
        .collect();
    if candidates.is_empty() {
        return;
    }
    // A step's arguments read only its parents' properties: only those of reused parents are
    // copied from the reference (a large reference's records are most of a plan's memory).
    let read: BTreeSet<usize> = candidates.iter().flat_map(|&(i, _)| c.dag.parents(i)).collect();
    let mut known: HashMap<String, Value> = HashMap::new();
    if let Some(r) = reference {
        for u in plan.reused.intersection(&read) {
            let name = c.name_of(*u);
            if let Some(p) = r.steps.get(name).and_then(|s| s.properties.clone()) {
                known.insert(name.to_string(), p);
            }
        }
    }
    for (i, k) in candidates {
        let step = &c.steps[i];
        let waiting: Vec<String> = c
            .dag
            .parents(i)
            .into_iter()
            .map(|p| c.name_of(p).to_string())
            .filter(|p| !known.contains_key(p))
            .collect();
        if !waiting.is_empty() {
            plan.entries[k].reason.push_str(&format!(
                "; caching on: decided when it runs (its inputs come from [{}], which run first)",
                waiting.join(", ")
            ));
            continue;
        }
        let scope = PlanScope {
            compiled: c,
            store,
            parameters,
            properties: &known,
        };
        let sig = match signature::of_step(step, &scope, &|u| store.uri_to_path(u).ok()) {
            Ok(sig) => sig,
            Err(e) => {
                plan.entries[k]
                    .reason
                    .push_str(&format!("; caching on, but its arguments do not resolve yet: {e}"));
                continue;
            }
        };
        match cache::lookup(store, &c.name, step, &sig, util::now()) {
            cache::Lookup::Hit { arn, record } => {
                let e = &mut plan.entries[k];
                e.action = Action::CacheHit;
                e.reason = format!(
                    "cache hit: same cache key as step '{}' of {arn}, which succeeded at {}",
                    step.name(),
                    record.end_time.map(util::iso8601).unwrap_or_default()
                );
                e.artifacts = record.artifacts.iter().map(|a| a.uri.clone()).collect();
                e.source_execution_arn = Some(arn);
                if let Some(p) = record.properties {
                    known.insert(step.name().to_string(), p);
                }
            }
            cache::Lookup::Miss(why) => plan.entries[k].reason.push_str(&format!("; cache miss: {why}")),
        }
    }
}

/// The steps whose inputs changed since `reference` (arguments after parameter resolution, the
/// content of the code they run), plus everything downstream of them, each with why; in
/// pipeline order. Steps on a branch the reference's unchanged ConditionStep did not take are
/// left out: they would not run.
pub fn changed_steps(
    store: &Store,
    c: &CompiledPipeline,
    reference: &ReferenceRun,
    parameters: &Map<String, Value>,
) -> Vec<(String, String)> {
    let mut known: HashMap<String, Value> = HashMap::new();
    let mut changed: BTreeSet<usize> = BTreeSet::new();
    let mut untaken: BTreeSet<usize> = BTreeSet::new();
    let mut out = Vec::new();
    for &i in &c.order {
        let name = c.name_of(i);
        let parents = c.dag.incoming(i);
        if let Some(&(p, _)) = parents.iter().find(|(p, _)| changed.contains(p)) {
            changed.insert(i);
            out.push((
                name.to_string(),
                format!("downstream of changed step '{}'", c.name_of(p)),
            ));
            continue;
        }
        let branch_not_taken = parents
            .iter()
            .any(|&(p, kind)| untaken.contains(&p) || reference.branch_not_taken(c, p, kind));
        if branch_not_taken {
            untaken.insert(i);
            continue;
        }
        let why = match reference.steps.get(name) {
            None => Some("did not run in the reference".to_string()),
            Some(r) if r.step_status != StepStatus::Succeeded => Some(format!("{} in the reference", r.step_status)),
            Some(r) => match &r.signature {
                None => Some("the reference recorded no inputs for it".to_string()),
                Some(old) => {
                    let scope = PlanScope {
                        compiled: c,
                        store,
                        parameters,
                        properties: &known,
                    };
                    match signature::of_step(&c.steps[i], &scope, &|u| store.uri_to_path(u).ok()) {
                        Err(e) => Some(format!("its arguments cannot be compared: {e}")),
                        Ok(new) => change_reason(c, i, old, &new, &reference.record.parameters, parameters),
                    }
                }
            },
        };
        match why {
            Some(why) => {
                changed.insert(i);
                out.push((name.to_string(), why));
            }
            None => {
                if let Some(p) = reference.steps.get(name).and_then(|r| r.properties.clone()) {
                    known.insert(name.to_string(), p);
                }
            }
        }
    }
    out
}

/// Why a step's inputs differ from the reference's, preferring the user's words: the code it
/// runs and the parameters it reads, then the argument paths.
fn change_reason(
    c: &CompiledPipeline,
    i: usize,
    old: &Signature,
    new: &Signature,
    old_parameters: &Map<String, Value>,
    new_parameters: &Map<String, Value>,
) -> Option<String> {
    let diffs = signature::differences(old, new);
    if diffs.is_empty() {
        return None;
    }
    let mut reasons: Vec<String> = diffs
        .iter()
        .filter(|d| {
            new.code
                .keys()
                .chain(old.code.keys())
                .any(|label| d.starts_with(label.as_str()))
        })
        .cloned()
        .collect();
    let mut read = BTreeSet::new();
    parameters_read(&c.steps[i].def.arguments, &mut read);
    for p in read {
        let (a, b) = (old_parameters.get(&p), new_parameters.get(&p));
        if a != b {
            let show = |v: Option<&Value>| v.map(crate::expr::render_text).unwrap_or("(unset)".into());
            reasons.push(format!("parameter {p} changed {} -> {}", show(a), show(b)));
        }
    }
    if reasons.is_empty() {
        reasons = diffs;
    }
    Some(reasons.join("; "))
}

/// Names of the parameters an expression document reads (`{"Get": "Parameters.X"}`).
fn parameters_read(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(path)) = m.get("Get") {
                if let Ok(Reference::Parameter(name)) = parse_get(path) {
                    out.insert(name);
                }
            }
            m.values().for_each(|x| parameters_read(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| parameters_read(x, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executors::ImageRunner;
    use crate::validate::compile;

    /// P (Lambda) -> C (if: Q, a QualityCheck; else: F), and G (a Training job of the built-in
    /// k-means image) after P.
    fn pipeline() -> CompiledPipeline {
        let text = r#"{"Steps":[
          {"Name":"P","Type":"Lambda","Arguments":{}},
          {"Name":"G","Type":"Training","Arguments":{"AlgorithmSpecification":{"TrainingImage":"1.dkr.ecr.us-west-2.amazonaws.com/kmeans:1"}},"DependsOn":["P"]},
          {"Name":"C","Type":"Condition","Arguments":{"Conditions":[{"Type":"Equals","LeftValue":{"Get":"Steps.P.OutputParameters[0].OutputValue"},"RightValue":1}],
             "IfSteps":[{"Name":"Q","Type":"QualityCheck","Arguments":{}}],"ElseSteps":[{"Name":"F","Type":"Fail","Arguments":{}}]}}]}"#;
        compile(text, "p").expect("compiles")
    }

    fn actions(plan: &Plan) -> Vec<(String, Action)> {
        plan.entries.iter().map(|e| (e.step.clone(), e.action)).collect()
    }

    #[test]
    fn steps_that_would_run_but_cannot_are_refused_with_the_starts_reasons() {
        let c = pipeline();
        let jobs = JobSettings::default();
        let mut plan = full_plan(&c);
        mark_refused(&c, &mut plan, &[], &jobs);
        let refused: Vec<&str> = plan
            .entries
            .iter()
            .filter(|e| e.action == Action::Refused)
            .map(|e| e.step.as_str())
            .collect();
        // A step on a condition branch is refused too: the start refuses it.
        assert_eq!(refused, ["P", "G", "Q"]);
        let (_, problems) = super::super::local_kinds(&c, &[], &jobs, |_| true);
        let start_error = CoreError::Unsupported {
            problems: problems.into_iter().map(|(_, p)| p).collect(),
        }
        .to_string();
        assert_eq!(plan.refused.as_deref(), Some(start_error.as_str()));
        for e in plan.entries.iter().filter(|e| e.action == Action::Refused) {
            assert!(e.reason.starts_with(&format!("step '{}'", e.step)), "{}", e.reason);
            assert!(start_error.contains(&e.reason));
        }

        // With handlers for the AWS-side types and a runner for the image nothing is refused.
        let handled = ["Lambda".to_string(), "QualityCheck".to_string()];
        let kmeans = ImageRunner::new("/kmeans:", vec!["python3".into(), "train.py".into()]).expect("runner");
        let with_runner = JobSettings::new(None, vec![kmeans]);
        let mut plan = full_plan(&c);
        mark_refused(&c, &mut plan, &handled, &with_runner);
        assert!(plan.refused.is_none());
        assert!(actions(&plan)
            .iter()
            .all(|(_, a)| matches!(a, Action::Run | Action::ConditionDependent)));
    }

    #[test]
    fn steps_that_do_not_run_are_not_refused() {
        let c = pipeline();
        let mut plan = full_plan(&c);
        // Only F is selected (as a selective run with a reference would have it).
        plan.selected = [c.index["F"]].into_iter().collect();
        mark_refused(&c, &mut plan, &[], &JobSettings::default());
        assert!(plan.refused.is_none());
        assert!(plan.entries.iter().all(|e| e.action != Action::Refused));
    }
}
