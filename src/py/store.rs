//! `sagepipe._core.Store`: the store and the engine entry points, as JSON in and out.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::ffi::CString;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::errors::to_py;
use super::execution::PyExecution;
use super::host::PyHost;
use sagepipe_core::engine::{self, workers::WorkerSpec, Host, RunConfig, StartRequest};
use sagepipe_core::error::{CoreError, CoreResult};
use sagepipe_core::executors::{ImageRunner, JobSettings, RuntimeModules};
use sagepipe_core::store::{FileLock, PutMode, Store, UnreadableRecord};

#[pyclass(frozen, name = "Store", module = "sagepipe._core")]
pub struct PyStore {
    inner: Store,
}

fn json<T: serde::Serialize>(v: CoreResult<T>) -> PyResult<String> {
    v.and_then(|x| serde_json::to_string(&x).map_err(|e| CoreError::Validation(e.to_string())))
        .map_err(to_py)
}

fn parse_object(text: &str, what: &str) -> CoreResult<Map<String, Value>> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) | Err(_) => Err(CoreError::Validation(format!("{what} must be a JSON object"))),
    }
}

/// A `sagepipe.exceptions.StoreWarning` per record a listing skipped.
fn warn_unreadable(py: Python<'_>, unreadable: &[UnreadableRecord]) -> PyResult<()> {
    if unreadable.is_empty() {
        return Ok(());
    }
    let category = py.import("sagepipe.exceptions")?.getattr("StoreWarning")?;
    for record in unreadable {
        let message = CString::new(record.warning().replace('\0', "")).unwrap_or_default();
        PyErr::warn(py, &category, &message, 1)?;
    }
    Ok(())
}

/// The store-wide lock held exclusively (`Store.exclusive_lock()`): a context manager; starts
/// and pipeline deletions wait while it is held.
#[pyclass(frozen, name = "StoreLock", module = "sagepipe._core")]
pub struct PyStoreLock {
    held: Mutex<Option<FileLock>>,
}

#[pymethods]
impl PyStoreLock {
    /// Give the lock up (also done on leaving the `with` block, or when the process ends).
    fn release(&self) {
        if let Ok(mut held) = self.held.lock() {
            held.take();
        }
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __exit__(&self, _kind: Py<PyAny>, _value: Py<PyAny>, _traceback: Py<PyAny>) -> bool {
        self.release();
        false
    }
}

/// The modules of this package's Python runtime that the engine starts (the core names none).
fn runtime_modules() -> RuntimeModules {
    RuntimeModules {
        worker: "sagepipe._worker".into(),
        xgboost_train: "sagepipe._algorithms.xgboost_train".into(),
        batch_transform: "sagepipe._algorithms.batch_transform".into(),
    }
}

/// One entry of `sagepipe.local_runners.IMAGE_RUNNERS`.
#[derive(Deserialize)]
struct ImageRunnerRequest {
    pattern: String,
    command: Vec<String>,
}

/// Job settings from the binding's arguments.
fn job_settings(interpreter: Option<PathBuf>, image_runners: &str) -> CoreResult<JobSettings> {
    let items: Vec<ImageRunnerRequest> = serde_json::from_str(image_runners).map_err(|e| {
        CoreError::Validation(format!(
            "image_runners must be a JSON list of {{\"pattern\", \"command\"}} objects: {e}"
        ))
    })?;
    let runners = items
        .into_iter()
        .map(|r| ImageRunner::new(&r.pattern, r.command).map_err(CoreError::Validation))
        .collect::<CoreResult<Vec<_>>>()?;
    Ok(JobSettings::new(interpreter, runners).with_runtime(&runtime_modules()))
}

/// The `StartPipelineExecution` request `Pipeline.start()` sends (boto3's field names).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StartPipelineExecution {
    pipeline_name: String,
    #[serde(default)]
    parameters: Map<String, Value>,
    pipeline_execution_display_name: Option<String>,
    pipeline_execution_description: Option<String>,
    parallelism_configuration: Option<Value>,
    selective_execution_config: Option<Value>,
    pipeline_version_id: Option<u64>,
    client_request_token: Option<String>,
}

impl StartPipelineExecution {
    fn parse(text: &str) -> CoreResult<StartRequest> {
        let object = Value::Object(parse_object(text, "request")?);
        let r: StartPipelineExecution = serde_json::from_value(object)
            .map_err(|e| CoreError::Validation(format!("StartPipelineExecution request: {e}")))?;
        Ok(StartRequest {
            pipeline: r.pipeline_name,
            parameters: r.parameters,
            display_name: r.pipeline_execution_display_name,
            description: r.pipeline_execution_description,
            max_parallel: r
                .parallelism_configuration
                .as_ref()
                .map(sagepipe_core::store::max_parallel_execution_steps)
                .transpose()?,
            selective_execution_config: r.selective_execution_config,
            pipeline_version_id: r.pipeline_version_id,
            client_request_token: r.client_request_token,
            definition: None,
        })
    }
}

#[pymethods]
impl PyStore {
    #[new]
    fn new(py: Python<'_>, root: PathBuf) -> PyResult<Self> {
        py.detach(move || Store::open(root))
            .map(|inner| PyStore { inner })
            .map_err(to_py)
    }

    #[getter]
    fn root(&self) -> PathBuf {
        self.inner.root().to_path_buf()
    }

    /// Whether anything was ever written to this store (opening one creates nothing).
    #[getter]
    fn exists(&self) -> bool {
        self.inner.exists()
    }

    /// The ARNs of the executions whose id starts with `id_prefix`, in every pipeline.
    fn executions_with_id(&self, py: Python<'_>, id_prefix: String) -> Vec<String> {
        let s = self.inner.clone();
        py.detach(move || s.executions_with_id(&id_prefix))
    }

    /// Create ("create"), update ("update") or upsert ("upsert") a pipeline; the definition is
    /// validated first (`DefinitionError` listing every problem, and nothing is stored).
    fn put_pipeline(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        definition: &Bound<'_, PyAny>,
        mode: &str,
        fields: String,
    ) -> PyResult<String> {
        let (definition, name) = super::definition_and_name(definition, name)?;
        let mode: PutMode = serde_json::from_value(Value::String(mode.to_string())).map_err(|_| {
            to_py(CoreError::Validation(format!(
                "mode must be \"create\", \"update\" or \"upsert\", not {mode:?}"
            )))
        })?;
        let s = self.inner.clone();
        json(py.detach(move || {
            let fields = Value::Object(parse_object(&fields, "fields")?);
            engine::put_pipeline(&s, &name, &definition, mode, &fields)
        }))
    }

    fn load_pipeline(&self, py: Python<'_>, name: String) -> PyResult<String> {
        let s = self.inner.clone();
        json(py.detach(move || s.load_pipeline(&name)))
    }

    /// Every readable pipeline record (JSON list); each unreadable one is a `StoreWarning`.
    fn list_pipelines(&self, py: Python<'_>) -> PyResult<String> {
        let s = self.inner.clone();
        let (records, unreadable) = py.detach(move || s.list_pipelines_checked()).map_err(to_py)?;
        warn_unreadable(py, &unreadable)?;
        json(Ok(records))
    }

    /// Every record of the store that cannot be read (JSON list of `{"Path", "Reason", "Text"}`).
    fn unreadable_records(&self, py: Python<'_>) -> PyResult<String> {
        let s = self.inner.clone();
        json(py.detach(move || s.unreadable_records()))
    }

    /// Every model and model package version record (JSON list of `{"Source", "Record"}`, or
    /// `{"Source", "Unreadable", "Text"}` for one that cannot be read).
    fn registry_records(&self, py: Python<'_>) -> PyResult<String> {
        let s = self.inner.clone();
        json(Ok(py.detach(move || s.registry_records())))
    }

    /// gc's plan (see `engine::gc`): JSON `{"keep": [[arn, why]], "delete", "artifacts",
    /// "kept_artifacts": [[uri, why]], "unreadable", "state"}`; each unreadable pipeline or
    /// execution record is a `StoreWarning`, as listing them is.
    #[pyo3(signature = (keep, older_than=None, pipelines=None))]
    fn gc_plan(
        &self,
        py: Python<'_>,
        keep: usize,
        older_than: Option<f64>,
        pipelines: Option<Vec<String>>,
    ) -> PyResult<String> {
        let s = self.inner.clone();
        let request = engine::gc::GcRequest {
            keep,
            older_than,
            pipelines,
        };
        let plan = py.detach(move || engine::gc::plan(&s, &request)).map_err(to_py)?;
        warn_unreadable(py, &plan.warnings)?;
        json(Ok(plan))
    }

    /// What changes whenever anything is committed to the store's records (see `gc_plan`'s
    /// "state"); None when the store has no records yet.
    fn records_state(&self, py: Python<'_>) -> PyResult<Option<(u64, i64, u64)>> {
        let s = self.inner.clone();
        py.detach(move || s.records_state()).map_err(to_py)
    }

    /// Wait for the store-wide lock and hold it exclusively (gc): see `StoreLock`.
    fn exclusive_lock(&self, py: Python<'_>) -> PyResult<PyStoreLock> {
        let s = self.inner.clone();
        let lock = py.detach(move || s.lock_exclusive()).map_err(to_py)?;
        Ok(PyStoreLock {
            held: Mutex::new(Some(lock)),
        })
    }

    /// Empty the store's trash (what removals interrupted by a kill left there).
    fn sweep_trash(&self, py: Python<'_>) {
        let s = self.inner.clone();
        py.detach(move || s.sweep_trash());
    }

    fn delete_pipeline(&self, py: Python<'_>, name: String) -> PyResult<String> {
        let s = self.inner.clone();
        json(py.detach(move || s.delete_pipeline(&name)))
    }

    /// Delete an execution's records and logs (refused while it runs).
    fn delete_execution(&self, py: Python<'_>, arn: String) -> PyResult<()> {
        let s = self.inner.clone();
        py.detach(move || s.delete_execution(&arn)).map_err(to_py)
    }

    /// Delete executions (see `Store::delete_executions`): the ARNs deleted, those already
    /// gone skipped.
    fn delete_executions(&self, py: Python<'_>, arns: Vec<String>) -> PyResult<Vec<String>> {
        let s = self.inner.clone();
        py.detach(move || s.delete_executions(&arns)).map_err(to_py)
    }

    /// Delete artifacts under the store's `s3/` area, several at a time (absent ones are no-ops).
    fn delete_artifacts(&self, py: Python<'_>, uris: Vec<String>) -> PyResult<()> {
        let s = self.inner.clone();
        py.detach(move || s.delete_artifacts(&uris)).map_err(to_py)
    }

    /// Delete an artifact under the store's `s3/` area.
    fn delete_artifact(&self, py: Python<'_>, uri: String) -> PyResult<()> {
        let s = self.inner.clone();
        py.detach(move || s.delete_artifact(&uri)).map_err(to_py)
    }

    /// Ask the process running an execution to stop it; returns the execution record (JSON).
    fn request_stop(&self, py: Python<'_>, arn: String) -> PyResult<String> {
        let s = self.inner.clone();
        json(py.detach(move || engine::request_stop(&s, &arn)))
    }

    #[pyo3(signature = (name, version=None))]
    fn definition_text(&self, py: Python<'_>, name: String, version: Option<u64>) -> PyResult<String> {
        let s = self.inner.clone();
        py.detach(move || s.definition_text(&name, version)).map_err(to_py)
    }

    /// A pipeline's readable execution records, newest first (JSON list); each unreadable one
    /// is a `StoreWarning`.
    fn list_executions(&self, py: Python<'_>, name: String) -> PyResult<String> {
        let s = self.inner.clone();
        let (records, unreadable) = py
            .detach(move || engine::recovery::list_executions_checked(&s, &name))
            .map_err(to_py)?;
        warn_unreadable(py, &unreadable)?;
        json(Ok(records))
    }

    fn load_execution(&self, py: Python<'_>, arn: String) -> PyResult<String> {
        let s = self.inner.clone();
        json(py.detach(move || engine::recovery::load_execution(&s, &arn)))
    }

    fn load_steps(&self, py: Python<'_>, arn: String) -> PyResult<String> {
        let s = self.inner.clone();
        json(py.detach(move || engine::recovery::load_steps(&s, &arn)))
    }

    fn execution_definition(&self, py: Python<'_>, arn: String) -> PyResult<String> {
        let s = self.inner.clone();
        py.detach(move || s.execution_definition(&arn)).map_err(to_py)
    }

    fn uri_to_path(&self, uri: &str) -> PyResult<PathBuf> {
        self.inner.uri_to_path(uri).map_err(to_py)
    }

    /// The bytes of the object at `uri` if the store keeps it inline (else None: it is a file,
    /// or nothing).
    fn inline_object<'py>(&self, py: Python<'py>, uri: String) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let s = self.inner.clone();
        let bytes = py.detach(move || s.inline_object(&uri)).map_err(to_py)?;
        Ok(bytes.map(|b| PyBytes::new(py, &b)))
    }

    /// Make the inline objects at or under `uri` files (for readers of files).
    fn materialize(&self, py: Python<'_>, uri: String) -> PyResult<()> {
        let s = self.inner.clone();
        py.detach(move || s.materialize(&uri)).map_err(to_py)
    }

    fn log_path(&self, arn: &str, step: &str) -> PyResult<PathBuf> {
        let (name, id) = self.inner.resolve_arn(arn).map_err(to_py)?;
        // A step name comes from the caller here, not from a validated definition.
        if !sagepipe_core::util::valid_step_name(step) {
            return Err(to_py(CoreError::Validation(format!(
                "{:?} is not a step name: expected 1 to 64 characters from [A-Za-z0-9-_]",
                step.chars().take(80).collect::<String>()
            ))));
        }
        Ok(self.inner.log_path(&name, &id, step))
    }

    // ---- local model registry (boto3 response shapes, times as epoch seconds) ----

    /// DescribeModel record of a model created by a CreateModel step.
    fn describe_model(&self, py: Python<'_>, name: String) -> PyResult<String> {
        let s = self.inner.clone();
        json(py.detach(move || s.load_model(&name)))
    }

    /// ModelPackageGroupSummaryList entries, oldest first.
    fn list_model_package_groups(&self, py: Python<'_>) -> PyResult<String> {
        let s = self.inner.clone();
        json(py.detach(move || s.list_model_package_groups()))
    }

    /// ModelPackageSummaryList entries of a group, by version.
    fn list_model_packages(&self, py: Python<'_>, group: String) -> PyResult<String> {
        let s = self.inner.clone();
        json(py.detach(move || s.list_model_packages(&group)))
    }

    /// DescribeModelPackage by ARN (or `<group>/<version>`).
    fn describe_model_package(&self, py: Python<'_>, arn: String) -> PyResult<String> {
        let s = self.inner.clone();
        json(py.detach(move || s.describe_model_package(&arn)))
    }

    /// CreateModelPackage from request JSON; returns the DescribeModelPackage record.
    fn create_model_package(&self, py: Python<'_>, request: String) -> PyResult<String> {
        let s = self.inner.clone();
        json(py.detach(move || {
            let r = Value::Object(parse_object(&request, "request")?);
            s.create_model_package(&r)
        }))
    }

    /// UpdateModelPackage with request JSON (`ModelApprovalStatus`, `ApprovalDescription`,
    /// `CustomerMetadataProperties`, `CustomerMetadataPropertiesToRemove`).
    fn update_model_package(&self, py: Python<'_>, arn: String, update: String) -> PyResult<String> {
        let s = self.inner.clone();
        json(py.detach(move || {
            let u = Value::Object(parse_object(&update, "update")?);
            s.update_model_package(&arn, &u)
        }))
    }

    /// Record a finished execution that ran on SageMaker (record and step records as JSON, the
    /// definition it ran); false when it was recorded already (see `Store::write_imported`).
    fn import_execution(&self, py: Python<'_>, record: String, definition: String, steps: String) -> PyResult<bool> {
        let s = self.inner.clone();
        py.detach(move || {
            let rec = serde_json::from_str(&record)
                .map_err(|e| CoreError::Validation(format!("imported execution record: {e}")))?;
            let steps: Vec<sagepipe_core::store::StepRecord> = serde_json::from_str(&steps)
                .map_err(|e| CoreError::Validation(format!("imported step records: {e}")))?;
            s.write_imported(&rec, &definition, &steps)
        })
        .map_err(to_py)
    }

    /// The versions of a pipeline, oldest first (JSON list of `[version, creation time]`).
    fn pipeline_versions(&self, py: Python<'_>, name: String) -> PyResult<String> {
        let s = self.inner.clone();
        json(py.detach(move || s.pipeline_versions(&name)))
    }

    /// The triggers recorded for a pipeline (JSON object by trigger name).
    fn pipeline_triggers(&self, py: Python<'_>, name: String) -> PyResult<String> {
        let s = self.inner.clone();
        json(py.detach(move || s.pipeline_triggers(&name)))
    }

    /// Record the triggers of `put` (JSON list) and remove those named in `delete`; returns the
    /// removed names (JSON list).
    fn update_pipeline_triggers(
        &self,
        py: Python<'_>,
        name: String,
        put: String,
        delete: Vec<String>,
    ) -> PyResult<String> {
        let s = self.inner.clone();
        json(py.detach(move || {
            let put: Vec<Value> = serde_json::from_str(&put)
                .map_err(|_| CoreError::Validation("put must be a JSON list of trigger objects".into()))?;
            s.update_pipeline_triggers(&name, &put, &delete)
        }))
    }

    /// One page of a pipeline's executions in creation order (newest first unless
    /// `newest_first=False`), created strictly between `created_after_us` and
    /// `created_before_us` (integer microseconds since the epoch), after the keyset position
    /// `after` (`(created_us, execution id)`, the `next` of the previous page), at most `limit`.
    /// Returns JSON `{"Records": [...], "Next": [created_us, id] | null}`; each unreadable record
    /// is a `StoreWarning`. Dead owners' runs are settled as in `list_executions`.
    #[pyo3(signature = (name, limit, newest_first=true, created_after_us=None, created_before_us=None, after=None))]
    #[allow(clippy::too_many_arguments)]
    fn execution_page(
        &self,
        py: Python<'_>,
        name: String,
        limit: usize,
        newest_first: bool,
        created_after_us: Option<i64>,
        created_before_us: Option<i64>,
        after: Option<(i64, String)>,
    ) -> PyResult<String> {
        let s = self.inner.clone();
        let page = py
            .detach(move || {
                engine::recovery::execution_page(
                    &s,
                    &name,
                    newest_first,
                    created_after_us,
                    created_before_us,
                    after,
                    limit,
                )
            })
            .map_err(to_py)?;
        warn_unreadable(py, &page.unreadable)?;
        json(Ok(serde_json::json!({"Records": page.records, "Next": page.next})))
    }

    /// A pipeline's newest readable execution record (JSON), or None if it has none.
    fn latest_execution(&self, py: Python<'_>, name: String) -> PyResult<Option<String>> {
        let s = self.inner.clone();
        let latest = py
            .detach(move || engine::recovery::latest_execution(&s, &name))
            .map_err(to_py)?;
        latest.map(|r| json(Ok(r))).transpose()
    }

    /// Migrate the store to the current record format if it is older (`sagepipe store migrate`);
    /// returns JSON `{"FromFormat", "ToFormat", "Records", "Legacy"?}`.
    fn migrate(&self, py: Python<'_>) -> PyResult<String> {
        let s = self.inner.clone();
        let done = py.detach(move || s.migrate()).map_err(to_py)?;
        json(Ok(serde_json::json!({
            "FromFormat": done.from_format,
            "ToFormat": done.to_format,
            "Records": done.records,
            "Legacy": done.legacy,
        })))
    }

    /// The plan of a start of a stored pipeline: selective when `config` (`SelectiveExecutionConfig`
    /// request JSON) is given; `parameters` are the start parameters (JSON object);
    /// `external_types` and `image_runners` as `start` would have them, so a step the start would
    /// refuse is planned as refused. `definition` is the text of `version` when the caller has
    /// just stored it (used only with `version`): it is then not read back.
    #[pyo3(signature = (pipeline, config=None, parameters=None, version=None, external_types=Vec::new(),
                        image_runners=String::from("[]"), definition=None))]
    #[allow(clippy::too_many_arguments)]
    fn plan(
        &self,
        py: Python<'_>,
        pipeline: String,
        config: Option<String>,
        parameters: Option<String>,
        version: Option<u64>,
        external_types: Vec<String>,
        image_runners: String,
        definition: Option<String>,
    ) -> PyResult<String> {
        let s = self.inner.clone();
        let jobs = job_settings(None, &image_runners).map_err(to_py)?;
        json(py.detach(move || {
            let cfg = config
                .map(|c| parse_object(&c, "config").map(Value::Object))
                .transpose()?;
            let params = match parameters {
                Some(p) => parse_object(&p, "parameters")?,
                None => Map::new(),
            };
            match definition.filter(|_| version.is_some()) {
                Some(text) => {
                    engine::plan::plan_definition(&s, &pipeline, &text, cfg.as_ref(), &params, &external_types, &jobs)
                }
                None => {
                    engine::plan::plan_request(&s, &pipeline, cfg.as_ref(), &params, version, &external_types, &jobs)
                }
            }
        }))
    }

    /// The steps a resume-from-failure run of an execution selects.
    fn resume_selection(&self, py: Python<'_>, arn: String) -> PyResult<Vec<String>> {
        let s = self.inner.clone();
        py.detach(move || engine::resume_selection(&s, &arn)).map_err(to_py)
    }

    /// Start a function-step worker for a `start()` about to come, so that its interpreter
    /// start-up overlaps building the definition (it joins this process's warm workers).
    #[pyo3(signature = (python, python_path=Vec::new(), cwd=None))]
    fn prewarm_workers(&self, python: PathBuf, python_path: Vec<String>, cwd: Option<PathBuf>) {
        engine::workers::WorkerPool::new(WorkerSpec {
            python,
            module: runtime_modules().worker,
            python_path,
            cwd,
        })
        .prewarm();
    }

    /// Start an execution. `request` is JSON with the StartPipelineExecution fields;
    /// `python`/`python_path`/`cwd` describe worker processes for function steps (no `python`:
    /// run them in-process through `host`); `host` is called with task JSON for in-process
    /// function steps and for steps of `external_types`. `interpreter` is what `python` means
    /// in jobs; `image_runners` is JSON `[{"pattern": regex, "command": [...]}]`. `definition` is
    /// the text of the request's `PipelineVersionId` when the caller has just stored it (used
    /// only with that field): it is then not read back.
    #[pyo3(signature = (request, python=None, python_path=Vec::new(), cwd=None, host=None, external_types=Vec::new(),
                        interpreter=None, image_runners=String::from("[]"), definition=None))]
    #[allow(clippy::too_many_arguments)]
    fn start(
        &self,
        py: Python<'_>,
        request: String,
        python: Option<PathBuf>,
        python_path: Vec<String>,
        cwd: Option<PathBuf>,
        host: Option<Py<PyAny>>,
        external_types: Vec<String>,
        interpreter: Option<PathBuf>,
        image_runners: String,
        definition: Option<String>,
    ) -> PyResult<PyExecution> {
        let s = self.inner.clone();
        let jobs = job_settings(interpreter, &image_runners).map_err(to_py)?;
        let config = RunConfig {
            workers: python.map(|python| WorkerSpec {
                python,
                module: runtime_modules().worker,
                python_path,
                cwd,
            }),
            host: host.map(|h| Arc::new(PyHost::new(h)) as Arc<dyn Host>),
            external_types,
            jobs: Arc::new(jobs),
        };
        let handle = py.detach(move || {
            let req = StartRequest {
                definition,
                ..StartPipelineExecution::parse(&request)?
            };
            engine::start(&s, req, config)
        });
        handle.map(PyExecution::from).map_err(to_py)
    }
}
