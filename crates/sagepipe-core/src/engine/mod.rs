//! Starting executions and controlling them while they run. The scheduler lives in
//! `scheduler.rs`; how a single step runs lives in `executors/`.

mod cache;
pub mod gc;
pub mod plan;
pub mod recovery;
pub mod retry;
mod scheduler;
mod scope;
pub mod workers;

use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::error::{CoreError, CoreResult, Problem};
use super::executors::{self, FailureKind, StepFailure, StepKind, StepServices};
use super::selection;
use super::store::{self, ExecutionRecord, FileLock, Store};
use super::util;
use super::validate;
use workers::{WorkerFailure, WorkerPool, WorkerSpec};

pub const DEFAULT_MAX_PARALLEL: usize = 50;

/// Runs Python work for the engine: in-process function steps and steps of types with a handler
/// registered from Python. Takes a task as JSON text and answers JSON text.
pub trait Host: Send + Sync {
    fn call(&self, task: &str) -> Result<String, String>;
    /// Interrupt the task running on `thread` (an OS thread id, as `pthread_self` gives it)
    /// because its execution is stopping. Best effort: code blocked outside Python may finish first.
    fn interrupt(&self, thread: u64) {
        let _ = thread;
    }
}

/// How this process runs the Python parts of steps.
#[derive(Clone, Default)]
pub struct RunConfig {
    /// Worker processes for function steps (`None`: run them in-process through `host`).
    pub workers: Option<WorkerSpec>,
    pub host: Option<Arc<dyn Host>>,
    /// Step types handled by `host` (registered local handlers).
    pub external_types: Vec<String>,
    /// How processing, training and transform jobs run (interpreter, image runners).
    pub jobs: Arc<executors::JobSettings>,
}

/// What `StartPipelineExecution` carries.
#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    pub pipeline: String,
    pub parameters: Map<String, Value>,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub max_parallel: Option<u64>,
    pub selective_execution_config: Option<Value>,
    pub pipeline_version_id: Option<u64>,
    pub client_request_token: Option<String>,
    /// The text of version `pipeline_version_id` when the caller has it (it has just stored
    /// it): the start then neither reads it back nor, if it was compiled last, compiles it
    /// again. Used only together with `pipeline_version_id`.
    pub definition: Option<String>,
}

enum Event {
    Done(usize, scheduler::Settled),
    Stop,
}

/// State shared by an execution's engine threads and the handles to it.
pub struct Shared {
    stop: AtomicBool,
    done: Mutex<bool>,
    done_cv: Condvar,
    /// Job and worker process groups, by (step index, job slot within the step): a tuning
    /// step runs several training jobs at once, each in its own slot.
    pids: Mutex<HashMap<(usize, usize), i32>>,
    /// Threads running a step through the host (in-process), by step index.
    host_threads: Mutex<HashMap<usize, u64>>,
    host: Option<Arc<dyn Host>>,
    events: Mutex<Option<Sender<Event>>>,
}

impl Shared {
    fn new(host: Option<Arc<dyn Host>>) -> Self {
        Shared {
            stop: AtomicBool::new(false),
            done: Mutex::new(false),
            done_cv: Condvar::new(),
            pids: Mutex::new(HashMap::new()),
            host_threads: Mutex::new(HashMap::new()),
            host,
            events: Mutex::new(None),
        }
    }

    /// Kill every running step: job and worker processes, and in-process steps (interrupted).
    fn kill_all(&self) {
        if let Ok(pids) = self.pids.lock() {
            for &pid in pids.values() {
                // SAFETY: killpg only sends a signal; the worker leads its own process group.
                unsafe {
                    libc::killpg(pid, libc::SIGKILL);
                }
            }
        }
        // Copied out first: interrupting takes the host's lock (the GIL), which a step thread
        // may hold while it waits for `host_threads`.
        let threads: Vec<u64> = self
            .host_threads
            .lock()
            .map(|t| t.values().copied().collect())
            .unwrap_or_default();
        if let Some(host) = &self.host {
            for thread in threads {
                host.interrupt(thread);
            }
        }
    }
}

/// This OS thread's id, as the host knows threads (`pthread_self`).
fn current_thread_id() -> u64 {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() as u64 }
}

/// A handle to an execution running in this process.
#[derive(Clone)]
pub struct ExecutionHandle {
    pub arn: String,
    shared: Arc<Shared>,
}

impl ExecutionHandle {
    /// Block until the execution ends or `timeout` passes; true if it ended.
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        let Ok(mut done) = self.shared.done.lock() else {
            return true;
        };
        while !*done {
            let wait = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) => left.min(Duration::from_millis(200)),
                    None => return false,
                },
                None => Duration::from_millis(200),
            };
            match self.shared.done_cv.wait_timeout(done, wait) {
                Ok((g, _)) => done = g,
                Err(_) => return true,
            }
        }
        true
    }

    pub fn is_done(&self) -> bool {
        self.shared.done.lock().map(|d| *d).unwrap_or(true)
    }

    /// Ask the execution to stop: nothing new starts, running steps are killed.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Ok(ev) = self.shared.events.lock() {
            if let Some(tx) = ev.as_ref() {
                let _ = tx.send(Event::Stop);
            }
        }
        self.shared.kill_all();
    }
}

fn live() -> &'static Mutex<HashMap<String, ExecutionHandle>> {
    static LIVE: OnceLock<Mutex<HashMap<String, ExecutionHandle>>> = OnceLock::new();
    LIVE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The handle of an execution this process is running, if any.
pub fn live_handle(arn: &str) -> Option<ExecutionHandle> {
    live().lock().ok()?.get(arn).cloned()
}

/// Handles of every execution this process is still running.
pub fn live_handles() -> Vec<ExecutionHandle> {
    live().lock().map(|m| m.values().cloned().collect()).unwrap_or_default()
}

/// The engine's services to one running step (`executors::StepServices`): its processes are
/// tracked by (step index, job slot) so that stopping the execution kills them.
struct StepLink {
    step_index: usize,
    shared: Arc<Shared>,
    pool: Option<Arc<WorkerPool>>,
    host: Option<Arc<dyn Host>>,
}

impl StepServices for StepLink {
    fn track_process(&self, slot: usize, pid: i32) {
        if let Ok(mut p) = self.shared.pids.lock() {
            p.insert((self.step_index, slot), pid);
        }
        if self.stopping() {
            self.shared.kill_all();
        }
    }

    fn untrack_process(&self, slot: usize) {
        if let Ok(mut p) = self.shared.pids.lock() {
            p.remove(&(self.step_index, slot));
        }
    }

    fn stopping(&self) -> bool {
        self.shared.stop.load(Ordering::SeqCst)
    }

    fn run_function(&self, slot: usize, task: &Value) -> Result<Value, StepFailure> {
        match &self.pool {
            Some(pool) => {
                let text = task.to_string();
                let result = pool.run(
                    &text,
                    |pid| self.track_process(slot, pid),
                    || self.untrack_process(slot),
                );
                match result {
                    Ok(answer) => parse_answer(&answer),
                    Err(WorkerFailure::Spawn(e)) => Err(StepFailure::new(e, FailureKind::Service)),
                    Err(WorkerFailure::Died(e)) => Err(StepFailure::new(e, FailureKind::Job)),
                }
            }
            None => self.host_call(task),
        }
    }

    fn host_call(&self, task: &Value) -> Result<Value, StepFailure> {
        let Some(host) = &self.host else {
            return Err(StepFailure::new(
                "no Python host is available to run this step",
                FailureKind::Service,
            ));
        };
        // Registered before the stop check, so a stop in between still interrupts the call; left
        // on every path, so a later stop never interrupts whatever thread reuses this id.
        if let Ok(mut t) = self.shared.host_threads.lock() {
            t.insert(self.step_index, current_thread_id());
        }
        let answer = if self.stopping() {
            Err(None)
        } else {
            host.call(&task.to_string()).map_err(Some)
        };
        if let Ok(mut t) = self.shared.host_threads.lock() {
            t.remove(&self.step_index);
        }
        match answer {
            Err(None) => Err(StepFailure::new("Stopped by request", FailureKind::Permanent)),
            Err(Some(e)) => Err(StepFailure::new(e, FailureKind::Service)),
            Ok(answer) => parse_answer(&answer),
        }
    }
}

fn parse_answer(text: &str) -> Result<Value, StepFailure> {
    serde_json::from_str(text).map_err(|e| {
        StepFailure::new(
            format!("the step runner answered something that is not JSON: {e}"),
            FailureKind::Service,
        )
    })
}

/// How each step runs locally (`Unsupported` for one that cannot), and the refusals: one problem
/// (with the step's index) per step that `runs` but cannot run locally. A start with any refusal
/// is refused before anything runs; a plan shows them (`plan::plan_request`).
pub fn local_kinds(
    compiled: &validate::CompiledPipeline,
    external_types: &[String],
    jobs: &executors::JobSettings,
    runs: impl Fn(usize) -> bool,
) -> (Vec<StepKind>, Vec<(usize, Problem)>) {
    let mut kinds = Vec::with_capacity(compiled.steps.len());
    let mut refused = Vec::new();
    for (i, s) in compiled.steps.iter().enumerate() {
        match executors::local_kind(s, external_types, jobs, compiled) {
            Ok(k) => kinds.push(k),
            Err(reason) => {
                if runs(i) {
                    refused.push((i, Problem::new("unsupported_step", s.loc.clone(), reason)));
                }
                kinds.push(StepKind::Unsupported);
            }
        }
    }
    (kinds, refused)
}

/// Validate a start request and start the execution on engine threads. Everything that can be
/// checked before a step runs is checked here, and reported all at once.
pub fn start(store: &Store, req: StartRequest, config: RunConfig) -> CoreResult<ExecutionHandle> {
    // Until the execution is recorded (with its reference), no gc or pipeline deletion runs:
    // the reference and the pipeline read here stay there.
    let store_lock = store.lock_shared()?;
    let pipeline = store.load_pipeline(&req.pipeline)?;
    let version = req.pipeline_version_id.unwrap_or(pipeline.latest_version);
    let stored;
    let definition_text = match (&req.definition, req.pipeline_version_id) {
        (Some(text), Some(_)) => text.as_str(),
        _ => {
            stored = store.definition_text(&req.pipeline, Some(version))?;
            stored.as_str()
        }
    };
    let compiled = validate::take_compiled(definition_text, &req.pipeline)?;
    let parameters = super::params::resolve(&req.pipeline, &compiled.definition.parameters, &req.parameters)?;

    let selective = match &req.selective_execution_config {
        Some(cfg) => Some(plan::plan_selective(store, &compiled, cfg, &parameters)?),
        None => None,
    };
    let (kinds, refused) = local_kinds(&compiled, &config.external_types, &config.jobs, |i| {
        selective.as_ref().is_none_or(|s| s.plan.selected.contains(&i))
    });
    if !refused.is_empty() {
        return Err(CoreError::Unsupported {
            problems: refused.into_iter().map(|(_, p)| p).collect(),
        });
    }
    let max_parallel = req
        .max_parallel
        .or_else(|| {
            pipeline
                .parallelism_configuration
                .as_ref()
                .and_then(|p| p.get("MaxParallelExecutionSteps"))
                .and_then(Value::as_u64)
        })
        .map(|n| n as usize)
        .unwrap_or(DEFAULT_MAX_PARALLEL);
    if max_parallel == 0 {
        return Err(CoreError::Validation(
            "MaxParallelExecutionSteps must be at least 1, found 0".into(),
        ));
    }

    // What killed owners left behind (their jobs are dead: see `proc`) goes first.
    executors::sweep_jobs(&store.root().join("jobs"));
    let id = util::new_id();
    let arn = util::execution_arn(&req.pipeline, &id);
    let dir = store.execution_dir(&req.pipeline, &id);
    // Lock before the record exists, so no reader ever sees a running execution without an owner.
    let lock = FileLock::acquire(&dir.join("lock"))?;
    let t = util::now();
    let record = ExecutionRecord {
        pipeline_name: req.pipeline.clone(),
        pipeline_arn: pipeline.pipeline_arn.clone(),
        pipeline_execution_arn: arn.clone(),
        execution_id: id.clone(),
        pipeline_execution_status: store::ExecutionStatus::Executing,
        pipeline_execution_display_name: Some(
            req.display_name
                .clone()
                .unwrap_or_else(|| format!("execution-{}", (t * 1000.0) as u64)),
        ),
        pipeline_execution_description: req.description.clone(),
        failure_reason: None,
        creation_time: t,
        last_modified_time: t,
        end_time: None,
        parallelism_configuration: req.max_parallel.map(|n| json!({"MaxParallelExecutionSteps": n})),
        selective_execution_config: selective.as_ref().map(|s| s.resolved_config.clone()),
        pipeline_version_id: version,
        parameters,
        pipeline_experiment_config: experiment_config(
            compiled.definition.pipeline_experiment_config.as_ref(),
            &[
                ("Execution.PipelineName", &req.pipeline),
                ("Execution.PipelineExecutionId", &id),
                ("Execution.PipelineExecutionArn", &arn),
                ("Execution.PipelineArn", &pipeline.pipeline_arn),
            ],
        ),
        owner_pid: std::process::id(),
        client_request_token: req.client_request_token.clone(),
    };
    // A start that cannot write everything (a full disk) leaves nothing behind.
    let written =
        store::write_reserve(&dir.join(store::RESERVE_DIR)).and_then(|()| store.write_start(&record, definition_text));
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e);
    }
    drop(store_lock);

    let function_steps = kinds.iter().filter(|k| **k == StepKind::Function).count();
    let pool = config
        .workers
        .clone()
        .filter(|_| function_steps > 0)
        .map(|spec| Arc::new(WorkerPool::new(spec)));
    if let Some(pool) = &pool {
        pool.prewarm(); // more start only when steps run at the same time
    }
    let shared = Arc::new(Shared::new(config.host.clone()));
    let handle = ExecutionHandle {
        arn: arn.clone(),
        shared: Arc::clone(&shared),
    };
    if let Ok(mut l) = live().lock() {
        l.insert(arn.clone(), handle.clone());
    }
    let run = scheduler::Run::new(
        store.clone(),
        compiled,
        kinds,
        record,
        dir,
        Arc::clone(&shared),
        pool,
        config.host,
        config.jobs,
        max_parallel,
        selective.map(|s| (s.plan, s.reference)),
    );
    std::thread::Builder::new()
        .name(format!("sagepipe-{id}"))
        .spawn(move || {
            run.drive();
            // Released before waiters wake: once `wait()` returns, the execution's lock is free,
            // so this process holds nothing of an execution it has seen end.
            drop(lock);
            finish(&shared, &arn);
        })
        .map_err(|e| CoreError::store(store.root(), e))?;
    Ok(handle)
}

/// Ask whichever process runs an execution to stop it; its scheduler notices within a
/// fraction of a second. Returns the execution's record (unchanged if it already ended).
pub fn request_stop(store: &Store, arn: &str) -> CoreResult<ExecutionRecord> {
    let rec = recovery::load_execution(store, arn)?;
    if !rec.pipeline_execution_status.is_terminal() {
        store.write_stop_request(&rec.pipeline_name, &rec.execution_id)?;
    }
    Ok(rec)
}

/// An execution's `PipelineExperimentConfig` as `DescribePipelineExecution` shows it: the
/// definition's, each `{"Get": "Execution.<variable>"}` replaced by its value in `variables`
/// (any other `Get` shows the name it refers to). None when the definition has none.
fn experiment_config(config: Option<&Value>, variables: &[(&str, &str)]) -> Option<Value> {
    let fields = config?.as_object().filter(|m| !m.is_empty())?;
    let value = |v: &Value| match v.get("Get") {
        Some(Value::String(name)) => {
            let known = variables.iter().find(|(variable, _)| variable == name);
            json!(known.map_or(name.as_str(), |(_, value)| *value))
        }
        Some(other) => other.clone(),
        None => v.clone(),
    };
    Some(Value::Object(
        fields.iter().map(|(k, v)| (k.clone(), value(v))).collect(),
    ))
}

/// Store a pipeline (create, update or upsert) once its definition compiles: the one way a
/// definition gets into the store, so `Pipeline.create()` refuses what `CreatePipeline` refuses
/// and an invalid definition leaves nothing behind.
pub fn put_pipeline(
    store: &Store,
    name: &str,
    definition: &str,
    mode: store::PutMode,
    fields: &Value,
) -> CoreResult<store::PipelineRecord> {
    validate::compile_shared(definition, name)?;
    store.put_pipeline(name, definition, mode, fields)
}

/// The steps a "resume from failure" run of `arn` selects (see `selection::resume_selection`).
pub fn resume_selection(store: &Store, arn: &str) -> CoreResult<Vec<String>> {
    let reference = plan::load_reference(store, arn)?;
    let compiled = validate::compile(&store.execution_definition(arn)?, &reference.record.pipeline_name)?;
    Ok(selection::resume_selection(&compiled, &reference))
}

pub(crate) fn finish(shared: &Shared, arn: &str) {
    if let Ok(mut l) = live().lock() {
        l.remove(arn);
    }
    if let Ok(mut d) = shared.done.lock() {
        *d = true;
    }
    shared.done_cv.notify_all();
}
