//! The PyO3 binding: converts, calls the core with the GIL released, converts back.

mod errors;
mod execution;
mod host;
mod store;

use pyo3::prelude::*;

#[pymodule]
pub mod _core {
    use super::*;

    #[pymodule_export]
    use super::execution::PyExecution;
    #[pymodule_export]
    use super::store::PyStore;
    #[pymodule_export]
    use super::store::PyStoreLock;

    /// Parse and validate definition JSON; returns a JSON summary of the step graph
    /// (`steps`, `edges`, `order`). Raises `DefinitionError` listing every problem. The
    /// compilation is kept for a `start()`/`plan()` of the same text that follows.
    #[pyfunction]
    fn compile_definition(
        py: Python<'_>,
        definition: &Bound<'_, PyAny>,
        pipeline: &Bound<'_, PyAny>,
    ) -> PyResult<String> {
        let (definition, pipeline) = definition_and_name(definition, pipeline)?;
        let summary = py
            .detach(move || sagepipe_core::validate::compile_shared(&definition, &pipeline).map(|c| graph_summary(&c)));
        summary.map_err(errors::to_py)
    }

    /// The handle of an execution this process is running, if any.
    #[pyfunction]
    fn live_execution(arn: &str) -> Option<PyExecution> {
        sagepipe_core::engine::live_handle(arn).map(PyExecution::from)
    }

    /// The candidate closest to `name` ("did you mean"), if one is reasonably close.
    #[pyfunction]
    fn suggest(name: &str, candidates: Vec<String>) -> Option<String> {
        sagepipe_core::error::suggest(name, candidates.iter().map(String::as_str))
    }

    /// ARNs of the executions this process is still running.
    #[pyfunction]
    fn live_executions() -> Vec<String> {
        sagepipe_core::engine::live_handles()
            .into_iter()
            .map(|h| h.arn)
            .collect()
    }

    /// Whether `name` is a valid step name (1 to 64 characters from `[A-Za-z0-9-_]`).
    #[pyfunction]
    fn valid_step_name(name: &str) -> bool {
        sagepipe_core::util::valid_step_name(name)
    }

    /// The pipeline name of a pipeline ARN, or None if `arn` is not one.
    #[pyfunction]
    fn parse_pipeline_arn(arn: &str) -> Option<String> {
        sagepipe_core::util::parse_pipeline_arn(arn)
    }

    /// `(pipeline name, execution id)` of a pipeline execution ARN, or None if `arn` is not one.
    #[pyfunction]
    fn parse_execution_arn(arn: &str) -> Option<(String, String)> {
        sagepipe_core::util::parse_execution_arn(arn)
    }

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        use sagepipe_core::store::ExecutionStatus;
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        // The execution statuses after which nothing changes, as the records spell them.
        let terminal: Vec<&str> = ExecutionStatus::ALL
            .iter()
            .filter(|s| s.is_terminal())
            .map(|s| s.as_str())
            .collect();
        m.add("TERMINAL_STATUSES", pyo3::types::PyTuple::new(m.py(), terminal)?)?;
        // What the store appends to a code file's name for its content-hash sidecar.
        m.add("CODE_SIDECAR_SUFFIX", sagepipe_core::signature::CODE_SIDECAR_SUFFIX)?;
        // The account number of local ARNs (a SageMaker ARN names another).
        m.add("LOCAL_ACCOUNT", sagepipe_core::util::ACCOUNT)?;
        // The largest step output the runtime may answer inline (kept in the store's database).
        m.add("INLINE_LIMIT", sagepipe_core::store::INLINE_LIMIT)
    }
}

/// A definition and a pipeline name as text; text with lone surrogates (which cannot be
/// extracted) is a definition problem, as the service would report it.
pub(crate) fn definition_and_name(
    definition: &Bound<'_, PyAny>,
    pipeline: &Bound<'_, PyAny>,
) -> PyResult<(String, String)> {
    match (definition.extract::<String>(), pipeline.extract::<String>()) {
        (Ok(d), Ok(p)) => Ok((d, p)),
        _ => Err(errors::to_py(sagepipe_core::error::CoreError::Definition {
            pipeline: pipeline
                .str()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            problems: vec![sagepipe_core::error::Problem::new(
                "invalid_text",
                vec![],
                "the definition or pipeline name is not valid Unicode text (it holds a lone surrogate, \
                 e.g. from json.dumps(..., ensure_ascii=False) of broken input)",
            )],
        })),
    }
}

fn graph_summary(c: &sagepipe_core::validate::CompiledPipeline) -> String {
    use sagepipe_core::dag::EdgeKind;
    let steps: Vec<serde_json::Value> = c
        .steps
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name(),
                "type": s.def.step_type,
                "display_name": s.def.display_name,
                // A `@step` function step, as the engine tells them (`execution.result()` reads it).
                "function": matches!(
                    sagepipe_core::executors::classify(s, &[]),
                    Ok(sagepipe_core::executors::StepKind::Function)
                ),
                "parent": s.parent.map(|(p, b)| serde_json::json!({"step": c.name_of(p), "branch": format!("{b:?}")})),
            })
        })
        .collect();
    let edges: Vec<serde_json::Value> = c
        .dag
        .graph
        .edge_indices()
        .filter_map(|e| {
            let (a, b) = c.dag.graph.edge_endpoints(e)?;
            let kind = match c.dag.graph[e] {
                EdgeKind::DependsOn => "DependsOn",
                EdgeKind::Data => "Data",
                EdgeKind::Branch(sagepipe_core::definition::Branch::If) => "If",
                EdgeKind::Branch(sagepipe_core::definition::Branch::Else) => "Else",
            };
            Some(serde_json::json!([c.name_of(a.index()), c.name_of(b.index()), kind]))
        })
        .collect();
    let order: Vec<&str> = c.order.iter().map(|&i| c.name_of(i)).collect();
    serde_json::json!({"steps": steps, "edges": edges, "order": order}).to_string()
}
