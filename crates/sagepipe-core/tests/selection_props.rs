//! Property tests of the Selective Execution rules on random pipelines: every accepted selection
//! is path-closed, every rejected one comes with a real witness path, and planning is
//! deterministic (the same plan or error for the same selection in any order).

use proptest::prelude::*;
use sagepipe_core::error::CoreError;
use sagepipe_core::selection::{self, ReferenceRun, Strictness};
use sagepipe_core::store::{ExecutionRecord, ExecutionStatus, StepRecord, StepStatus};
use sagepipe_core::validate::{self, CompiledPipeline};
use serde_json::{json, Map};
use std::collections::{BTreeSet, HashMap};

/// A random pipeline: `S0..Sn` (each may depend on earlier ones by `DependsOn` or by a `Get`),
/// plus optionally a ConditionStep `C` (after some `S`) with branch steps `B0` (if) and `B1`
/// (else), where `B0` may be read by a later `S`.
#[derive(Debug, Clone)]
struct Shape {
    n: usize,
    /// `links[i][j]` for `j < i`: 0 none, 1 `DependsOn`, 2 `Get`.
    links: Vec<Vec<u8>>,
    condition: Option<Condition>,
}

#[derive(Debug, Clone)]
struct Condition {
    after: Vec<usize>,
    /// `S` steps that read `B0`'s output (a path out of a branch).
    readers_of_b0: Vec<usize>,
}

fn shape() -> impl Strategy<Value = Shape> {
    (2usize..9).prop_flat_map(|n| {
        let links = (0..n).map(|i| proptest::collection::vec(0u8..3, i)).collect::<Vec<_>>();
        let condition = proptest::option::of((
            proptest::collection::btree_set(0..n, 0..3),
            proptest::collection::btree_set(0..n, 0..2),
        ));
        (Just(n), links, condition).prop_map(|(n, links, condition)| Shape {
            n,
            links,
            condition: condition.map(|(after, readers)| Condition {
                after: after.into_iter().collect(),
                readers_of_b0: readers.into_iter().collect(),
            }),
        })
    })
}

impl Shape {
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = (0..self.n).map(|i| format!("S{i}")).collect();
        if self.condition.is_some() {
            names.extend(["C", "B0", "B1"].map(String::from));
        }
        names
    }

    /// Readers of `B0` must come after `C` (and so after everything `C` depends on) to keep
    /// the graph acyclic: only `S` steps with an index above every `C` parent read it.
    fn readers(&self) -> Vec<usize> {
        let Some(c) = &self.condition else { return vec![] };
        let floor = c.after.iter().copied().max().map_or(0, |m| m + 1);
        c.readers_of_b0
            .iter()
            .copied()
            .filter(|&r| r >= floor && !self.reaches_s(r, &c.after))
            .collect()
    }

    /// Whether `S{from}` reaches any of `targets` through `S` links (so `C` after them cannot
    /// feed back into it).
    fn reaches_s(&self, from: usize, targets: &[usize]) -> bool {
        let mut stack = vec![from];
        let mut seen = BTreeSet::new();
        while let Some(i) = stack.pop() {
            if targets.contains(&i) {
                return true;
            }
            for (j, row) in self.links.iter().enumerate() {
                if row.get(i).copied().unwrap_or(0) != 0 && seen.insert(j) {
                    stack.push(j);
                }
            }
        }
        false
    }

    fn definition(&self) -> String {
        let readers = self.readers();
        let mut steps = Vec::new();
        for i in 0..self.n {
            let mut depends = Vec::new();
            let mut args = Map::new();
            for (j, &link) in self.links[i].iter().enumerate() {
                match link {
                    1 => depends.push(json!(format!("S{j}"))),
                    2 => {
                        args.insert(format!("in{j}"), json!({"Get": format!("Steps.S{j}.X")}));
                    }
                    _ => {}
                }
            }
            if readers.contains(&i) {
                args.insert("fromB0".into(), json!({"Get": "Steps.B0.X"}));
            }
            steps.push(json!({"Name": format!("S{i}"), "Type": "Training", "DependsOn": depends, "Arguments": args}));
        }
        if let Some(c) = &self.condition {
            steps.push(json!({
                "Name": "C", "Type": "Condition",
                "DependsOn": c.after.iter().map(|i| format!("S{i}")).collect::<Vec<_>>(),
                "Arguments": {
                    "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
                    "IfSteps": [{"Name": "B0", "Type": "Training", "Arguments": {}}],
                    "ElseSteps": [{"Name": "B1", "Type": "Training", "Arguments": {}}],
                }
            }));
        }
        json!({"Version": "2020-12-01", "Steps": steps}).to_string()
    }

    /// The edges, by name, worked out independently of the engine's DAG.
    fn edges(&self) -> BTreeSet<(String, String)> {
        let mut e = BTreeSet::new();
        for i in 0..self.n {
            for (j, &link) in self.links[i].iter().enumerate() {
                if link != 0 {
                    e.insert((format!("S{j}"), format!("S{i}")));
                }
            }
        }
        if let Some(c) = &self.condition {
            for &a in &c.after {
                e.insert((format!("S{a}"), "C".into()));
            }
            e.insert(("C".into(), "B0".into()));
            e.insert(("C".into(), "B1".into()));
            for r in self.readers() {
                e.insert(("B0".into(), format!("S{r}")));
            }
        }
        e
    }
}

/// Transitive closure over names.
fn reach(names: &[String], edges: &BTreeSet<(String, String)>) -> HashMap<(String, String), bool> {
    let mut r: HashMap<(String, String), bool> = HashMap::new();
    for (a, b) in edges {
        r.insert((a.clone(), b.clone()), true);
    }
    for k in names {
        for i in names {
            for j in names {
                let via = r.get(&(i.clone(), k.clone())).copied().unwrap_or(false)
                    && r.get(&(k.clone(), j.clone())).copied().unwrap_or(false);
                if via {
                    r.insert((i.clone(), j.clone()), true);
                }
            }
        }
    }
    r
}

fn path_closed(names: &[String], edges: &BTreeSet<(String, String)>, selected: &BTreeSet<String>) -> bool {
    let r = reach(names, edges);
    let reaches = |a: &String, b: &String| r.get(&(a.clone(), b.clone())).copied().unwrap_or(false);
    names
        .iter()
        .filter(|m| !selected.contains(*m))
        .all(|m| !(selected.iter().any(|u| reaches(u, m)) && selected.iter().any(|v| reaches(m, v))))
}

/// A reference execution in which every step ran and succeeded, the condition taking `if`.
fn reference(c: &CompiledPipeline) -> ReferenceRun {
    let arn = "arn:aws:sagemaker:local:000000000000:pipeline/props/execution/ref000000000".to_string();
    let record = ExecutionRecord {
        pipeline_name: c.name.clone(),
        pipeline_arn: "arn:aws:sagemaker:local:000000000000:pipeline/props".into(),
        pipeline_execution_arn: arn,
        execution_id: "ref000000000".into(),
        pipeline_execution_status: ExecutionStatus::Failed,
        end_time: Some(1.0),
        pipeline_version_id: 1,
        owner_pid: 1,
        ..Default::default()
    };
    let steps = c
        .names()
        .filter(|n| *n != "B1")
        .enumerate()
        .map(|(seq, name)| {
            let rec = StepRecord {
                step_name: name.to_string(),
                step_type: c.step(name).map(|s| s.def.step_type.clone()).unwrap_or_default(),
                step_display_name: None,
                step_description: None,
                start_time: Some(0.0),
                end_time: Some(1.0),
                step_status: StepStatus::Succeeded,
                attempt_count: 1,
                failure_reason: None,
                metadata: Map::new(),
                cache_hit_result: None,
                selective_execution_result: None,
                properties: Some(if name == "C" {
                    json!({"Outcome": true})
                } else {
                    json!({"X": name})
                }),
                artifacts: vec![],
                error: None,
                signature: None,
                cache_miss_reason: None,
                function_results_uri: None,
                seq: seq as u64,
            };
            (name.to_string(), rec)
        })
        .collect();
    ReferenceRun { record, steps }
}

fn plan_text(c: &CompiledPipeline, selected: &[String], r: &ReferenceRun) -> Result<String, String> {
    selection::plan(c, selected, Some(r), Strictness::default())
        .map(|p| serde_json::to_string(&p).unwrap_or_default())
        .map_err(|e| e.to_string())
}

/// The witness path of a `selection_not_path_closed` message.
fn witness(msg: &str) -> Vec<String> {
    let start = msg
        .find("on the path ")
        .map(|i| i + "on the path ".len())
        .unwrap_or(msg.len());
    let rest = &msg[start..];
    let end = rest.find(')').unwrap_or(rest.len());
    rest[..end].split(" -> ").map(str::to_string).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn selection_rules_hold(shape in shape(), picks in proptest::collection::vec(any::<bool>(), 11), seed in any::<u64>()) {
        let c = validate::compile(&shape.definition(), "props").map_err(|e| TestCaseError::fail(e.to_string()))?;
        let names = shape.names();
        let edges = shape.edges();
        // The engine's graph is the one worked out here.
        let engine_edges: BTreeSet<(String, String)> = (0..c.steps.len())
            .flat_map(|i| c.dag.children(i).into_iter().map(move |j| (i, j)))
            .map(|(i, j)| (c.name_of(i).to_string(), c.name_of(j).to_string()))
            .collect();
        prop_assert_eq!(&engine_edges, &edges);

        let mut selected: Vec<String> = names.iter().zip(picks.iter().cycle()).filter(|(_, p)| **p).map(|(n, _)| n.clone()).collect();
        if selected.is_empty() {
            selected.push(names[(seed as usize) % names.len()].clone());
        }
        let set: BTreeSet<String> = selected.iter().cloned().collect();
        let r = reference(&c);
        let closed = path_closed(&names, &edges, &set);
        match selection::plan(&c, &selected, Some(&r), Strictness::default()) {
            Ok(plan) => {
                // Accepted: path-closed, runs exactly the selection, reuses exactly its ancestors.
                prop_assert!(closed, "accepted a selection that is not path-closed: {:?}", set);
                let run: BTreeSet<String> = plan.selected.iter().map(|&i| c.name_of(i).to_string()).collect();
                prop_assert_eq!(&run, &set);
                let rx = reach(&names, &edges);
                for name in &names {
                    let upstream = !set.contains(name)
                        && set.iter().any(|s| rx.get(&(name.clone(), s.clone())).copied().unwrap_or(false));
                    let reused = plan.reused.iter().any(|&i| c.name_of(i) == name);
                    prop_assert_eq!(upstream, reused, "reuse of {}", name);
                }
            }
            Err(CoreError::Selection { problems, .. }) => {
                prop_assert!(!closed, "rejected a path-closed selection {:?}: {:?}", set, problems);
                let p = problems.iter().find(|p| p.kind == "selection_not_path_closed");
                prop_assert!(p.is_some(), "{:?}", problems);
                let path = witness(&p.map(|p| p.msg.clone()).unwrap_or_default());
                prop_assert!(path.len() >= 3, "witness too short: {:?}", path);
                prop_assert!(set.contains(&path[0]) && set.contains(&path[path.len() - 1]), "{:?}", path);
                prop_assert!(path[1..path.len() - 1].iter().any(|m| !set.contains(m)), "{:?}", path);
                for pair in path.windows(2) {
                    prop_assert!(edges.contains(&(pair[0].clone(), pair[1].clone())), "not an edge: {:?}", pair);
                }
            }
            Err(CoreError::ReferenceExecution { problems, .. }) => {
                // Only a branch the reference did not take can be refused here.
                prop_assert!(closed);
                prop_assert!(set.contains("B1") && !set.contains("C"), "{:?}", problems);
                prop_assert!(problems.iter().all(|p| p.kind == "branch_not_taken" || p.kind == "reference_step_missing"), "{:?}", problems);
            }
            Err(other) => prop_assert!(false, "unexpected error {}", other),
        }

        // A misspelt name among them hides nothing: it is reported with every other problem
        // of the selection (a non-path-closed rest is still named, with its witness).
        let mut with_typo = selected.clone();
        with_typo.insert((seed as usize) % (with_typo.len() + 1), format!("{}x", names[0]));
        match selection::plan(&c, &with_typo, Some(&r), Strictness::default()) {
            Err(CoreError::Selection { problems, .. }) => {
                let kinds: Vec<&str> = problems.iter().map(|p| p.kind).collect();
                prop_assert!(kinds.contains(&"unknown_step"), "{:?}", problems);
                prop_assert_eq!(kinds.contains(&"selection_not_path_closed"), !closed, "{:?}", problems);
            }
            other => prop_assert!(false, "a misspelt step was accepted: {:?}", other.map(|p| p.selected)),
        }

        // Deterministic: the same answer twice, and for the selection in another order.
        let first = plan_text(&c, &selected, &r);
        prop_assert_eq!(&first, &plan_text(&c, &selected, &r));
        let mut shuffled = selected.clone();
        let k = (seed as usize) % shuffled.len().max(1);
        shuffled.rotate_left(k);
        shuffled.reverse();
        prop_assert_eq!(&first, &plan_text(&c, &shuffled, &r));
    }

    #[test]
    fn resume_selection_is_closed_and_plannable(shape in shape(), failed in 0usize..8) {
        let c = validate::compile(&shape.definition(), "props").map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut r = reference(&c);
        // One S step failed; everything downstream of it never ran.
        let target = format!("S{}", failed % shape.n);
        let Some(&ti) = c.index.get(target.as_str()) else { return Ok(()) };
        for d in c.dag.descendants(&[ti]) {
            r.steps.remove(c.name_of(d));
        }
        if let Some(rec) = r.steps.get_mut(&target) {
            rec.step_status = StepStatus::Failed;
        }
        let chosen = selection::resume_selection(&c, &r);
        prop_assert!(chosen.contains(&target));
        let set: BTreeSet<String> = chosen.iter().cloned().collect();
        prop_assert!(path_closed(&shape.names(), &shape.edges(), &set), "{:?}", chosen);
        let planned = selection::plan(&c, &chosen, Some(&r), Strictness::default());
        prop_assert!(planned.is_ok(), "resume selection {:?} refused: {}", chosen, planned.err().map(|e| e.to_string()).unwrap_or_default());
        prop_assert_eq!(selection::resume_selection(&c, &r), chosen);
    }
}
