//! What an executor gets from the engine running it: the step's identity and files, and the
//! engine's services (process tracking for stops, function and host calls) behind a trait the
//! engine implements, so executors never import the engine.

use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

use super::{JobSettings, StepFailure};
use crate::store::Store;

/// The engine's side of a running step. `slot` is which of the step's concurrent jobs asks
/// (0: the step itself; see `StepContext::for_job`).
pub trait StepServices: Send + Sync {
    /// Track a job's process group so that stopping the execution kills it.
    fn track_process(&self, slot: usize, pid: i32);
    fn untrack_process(&self, slot: usize);
    /// Whether the execution is stopping.
    fn stopping(&self) -> bool;
    /// Run a function-step task in a worker process (tracked in `slot` while it runs), or
    /// in-process through the host.
    fn run_function(&self, slot: usize, task: &Value) -> Result<Value, StepFailure>;
    /// Run a task through the Python host.
    fn host_call(&self, task: &Value) -> Result<Value, StepFailure>;
}

/// Everything one step attempt needs besides its definition.
pub struct StepContext {
    pub store: Store,
    pub execution_id: String,
    pub job_name: String,
    pub log_path: PathBuf,
    pub jobs: Arc<JobSettings>,
    /// Which of the step's concurrent jobs this context runs (0: the step itself).
    job_slot: usize,
    services: Arc<dyn StepServices>,
}

impl StepContext {
    pub fn new(
        store: Store,
        execution_id: String,
        job_name: String,
        log_path: PathBuf,
        jobs: Arc<JobSettings>,
        services: Arc<dyn StepServices>,
    ) -> StepContext {
        StepContext {
            store,
            execution_id,
            job_name,
            log_path,
            jobs,
            job_slot: 0,
            services,
        }
    }

    /// Track a job's process group so that stopping the execution kills it.
    pub fn track_process(&self, pid: i32) {
        self.services.track_process(self.job_slot, pid);
    }

    pub fn untrack_process(&self) {
        self.services.untrack_process(self.job_slot);
    }

    /// The context of one of several jobs this step runs at once (a tuning step's training
    /// jobs): its own job name and log, and its own slot, so stopping the execution kills
    /// every one of them. `slot` must be unique among the step's concurrent jobs and not 0.
    pub fn for_job(&self, job_name: String, log_path: PathBuf, slot: usize) -> StepContext {
        StepContext {
            store: self.store.clone(),
            execution_id: self.execution_id.clone(),
            job_name,
            log_path,
            jobs: Arc::clone(&self.jobs),
            job_slot: slot,
            services: Arc::clone(&self.services),
        }
    }

    pub fn stopping(&self) -> bool {
        self.services.stopping()
    }

    /// Run a function-step task in a worker process, or in-process through the host.
    pub fn run_function(&self, task: &Value) -> Result<Value, StepFailure> {
        self.services.run_function(self.job_slot, task)
    }

    /// Run a task through the Python host.
    pub fn host_call(&self, task: &Value) -> Result<Value, StepFailure> {
        self.services.host_call(task)
    }
}
