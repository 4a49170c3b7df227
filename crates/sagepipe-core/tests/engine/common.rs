//! What the engine tests share: a temp store, a fake `Host` standing in for Python, definitions
//! built from two step shapes (a `@step` function run through the host, a Processing job running
//! a shell command as a real process), and running an execution to its end.

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use sagepipe_core::engine::{self, ExecutionHandle, Host, RunConfig, StartRequest};
use sagepipe_core::store::{ExecutionRecord, ExecutionStatus, PutMode, StepRecord, Store};

/// Longest any execution of these tests may take; every one of them takes well under a second
/// or two, so reaching it means the engine hung.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Where function steps' serialized functions live, as the SDK lays them out (`--s3_base_uri`).
const FUNCTION_BASE: &str = "s3://bucket/functions";

/// A step's answer from the host, or the host's own failure.
pub type Answer = Result<Value, String>;
type Script = dyn Fn(&Call) -> Answer + Send + Sync;

/// The answer of a function step that succeeded.
pub fn ok() -> Answer {
    Ok(json!({"ok": true}))
}

/// The answer of a function step whose code failed; `kind` as the Python runner classifies it
/// (`"job"`: the step's own code, `"service"`, `"permanent"`).
pub fn failed(reason: &str, kind: &str) -> Answer {
    Ok(json!({"ok": false, "reason": reason, "failure_kind": kind}))
}

/// One call the engine made to the host.
pub struct Call<'a> {
    pub host: &'a FakeHost,
    /// How many times the host has been called for this step, this call included.
    pub attempt: usize,
    thread: u64,
}

impl Call<'_> {
    /// Block as a long step would, until the engine interrupts this call (its execution is
    /// stopping) or `timeout` passes; true if interrupted.
    pub fn wait_for_interrupt(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut interrupted = self.host.interrupted.lock().expect("lock");
        while !interrupted.contains(&self.thread) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            interrupted = self.host.interrupt_cv.wait_timeout(interrupted, left).expect("lock").0;
        }
        true
    }
}

/// The engine's `Host` without Python: each step's behaviour is a Rust closure (by step name;
/// a step without one succeeds). It counts what the engine asks of it.
#[derive(Default)]
pub struct FakeHost {
    scripts: Mutex<HashMap<String, Arc<Script>>>,
    /// Every task received, in order.
    tasks: Mutex<Vec<Value>>,
    running: AtomicUsize,
    most_running: AtomicUsize,
    interrupted: Mutex<HashSet<u64>>,
    interrupt_cv: Condvar,
}

impl FakeHost {
    /// Run `script` whenever the engine runs function step `step`.
    pub fn script(&self, step: &str, script: impl Fn(&Call) -> Answer + Send + Sync + 'static) {
        self.scripts
            .lock()
            .expect("lock")
            .insert(step.to_string(), Arc::new(script));
    }

    /// The steps the host was asked to run, in call order (one entry per attempt).
    pub fn calls(&self) -> Vec<String> {
        self.tasks
            .lock()
            .expect("lock")
            .iter()
            .map(|t| t["step_name"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    pub fn calls_of(&self, step: &str) -> usize {
        self.calls().iter().filter(|s| *s == step).count()
    }

    /// The task of the latest call for `step`.
    pub fn last_task(&self, step: &str) -> Option<Value> {
        let tasks = self.tasks.lock().expect("lock");
        tasks.iter().rev().find(|t| t["step_name"] == step).cloned()
    }

    /// Calls in progress right now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// The most calls ever in progress at once.
    pub fn most_running(&self) -> usize {
        self.most_running.load(Ordering::SeqCst)
    }
}

impl Host for FakeHost {
    fn call(&self, task: &str) -> Result<String, String> {
        let task: Value = serde_json::from_str(task).map_err(|e| format!("task is not JSON: {e}"))?;
        let step = task["step_name"].as_str().unwrap_or_default().to_string();
        let attempt = {
            let mut tasks = self.tasks.lock().expect("lock");
            tasks.push(task.clone());
            tasks.iter().filter(|t| t["step_name"] == step.as_str()).count()
        };
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_running.fetch_max(now, Ordering::SeqCst);
        let script = self.scripts.lock().expect("lock").get(&step).cloned();
        let call = Call {
            host: self,
            attempt,
            // The engine names threads to interrupt as `pthread_self` gives them.
            // SAFETY: pthread_self has no preconditions.
            thread: unsafe { libc::pthread_self() } as u64,
        };
        let answer = script.map_or_else(ok, |s| s(&call));
        self.running.fetch_sub(1, Ordering::SeqCst);
        answer.map(|a| a.to_string())
    }

    fn interrupt(&self, thread: u64) {
        self.interrupted.lock().expect("lock").insert(thread);
        self.interrupt_cv.notify_all();
    }
}

/// A temp store with a fake host, and scratch space outside the store.
pub struct Fixture {
    dir: tempfile::TempDir,
    pub store: Store,
    pub host: Arc<FakeHost>,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path().join("store")).expect("store");
        std::fs::create_dir_all(dir.path().join("scratch")).expect("scratch dir");
        Fixture {
            dir,
            store,
            host: Arc::new(FakeHost::default()),
        }
    }

    /// A path outside the store, for what shell steps leave behind for the test to read.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.dir.path().join("scratch").join(name)
    }

    /// A `@step` function step, as the SDK defines one (a Training step whose entry point is the
    /// remote-function job driver), with its serialized function (`payload`) in the store.
    pub fn function_step(&self, name: &str, payload: &str) -> Value {
        let digest = &sagepipe_core::util::sha256_hex(payload.as_bytes())[..12];
        let dir = self
            .store
            .uri_to_path(&format!("{FUNCTION_BASE}/{name}/{digest}"))
            .expect("payload path");
        std::fs::create_dir_all(&dir).expect("payload dir");
        std::fs::write(dir.join("function.pkl"), payload).expect("payload");
        json!({
            "Name": name,
            "Type": "Training",
            "Arguments": {
                "AlgorithmSpecification": {
                    "TrainingImage": "local/function",
                    "ContainerEntrypoint": ["/bin/bash", "/opt/ml/input/data/sagemaker_remote_function_bootstrap/job_driver.sh"],
                    "ContainerArguments": ["--s3_base_uri", FUNCTION_BASE, "--pipeline_step_name", name,
                                           "--func_step_s3_dir", digest],
                },
                "OutputDataConfig": {"S3OutputPath": format!("s3://bucket/results/{name}")},
            },
        })
    }

    pub fn put_pipeline(&self, name: &str, steps: &[Value]) {
        self.put_pipeline_with(name, &[], steps);
    }

    pub fn put_pipeline_with(&self, name: &str, parameters: &[Value], steps: &[Value]) {
        let definition = json!({"Version": "2020-12-01", "Parameters": parameters, "Steps": steps});
        self.store
            .put_pipeline(name, &definition.to_string(), PutMode::Upsert, &json!({}))
            .expect("put pipeline");
    }

    /// How executions of this fixture run: function steps in-process, through the fake host.
    pub fn config(&self) -> RunConfig {
        RunConfig {
            host: Some(Arc::clone(&self.host) as Arc<dyn Host>),
            ..RunConfig::default()
        }
    }

    pub fn start(&self, req: StartRequest) -> ExecutionHandle {
        engine::start(&self.store, req, self.config()).expect("start")
    }

    /// Start an execution and wait for its end; what the store then holds of it.
    pub fn run(&self, req: StartRequest) -> Finished {
        let handle = self.start(req);
        assert!(
            handle.wait(Some(TIMEOUT)),
            "the execution did not end within {TIMEOUT:?}"
        );
        self.load(&handle.arn)
    }

    pub fn load(&self, arn: &str) -> Finished {
        load(&self.store, arn)
    }
}

/// What the store holds of an execution.
pub fn load(store: &Store, arn: &str) -> Finished {
    Finished {
        record: engine::recovery::load_execution(store, arn).expect("execution record"),
        steps: engine::recovery::load_steps(store, arn)
            .expect("step records")
            .into_iter()
            .map(|s| (s.step_name.clone(), s))
            .collect(),
    }
}

/// A start request of `pipeline` with nothing else set.
pub fn request(pipeline: &str) -> StartRequest {
    StartRequest {
        pipeline: pipeline.to_string(),
        ..StartRequest::default()
    }
}

/// A Processing step running `script` with `sh -c` as a real process, with `environment`.
pub fn shell_step(name: &str, script: &str, environment: Value) -> Value {
    json!({
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "AppSpecification": {"ImageUri": "local/shell", "ContainerEntrypoint": ["sh", "-c", script]},
            "Environment": environment,
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}},
        },
    })
}

/// `step` with `key` set to `value` (`DependsOn`, `RetryPolicies`, `CacheConfig`...).
pub fn with(mut step: Value, key: &str, value: Value) -> Value {
    step[key] = value;
    step
}

/// An execution record and its step records, by step name, as the store holds them.
pub struct Finished {
    pub record: ExecutionRecord,
    pub steps: BTreeMap<String, StepRecord>,
}

impl Finished {
    pub fn arn(&self) -> &str {
        &self.record.pipeline_execution_arn
    }

    pub fn status(&self) -> ExecutionStatus {
        self.record.pipeline_execution_status
    }

    pub fn step(&self, name: &str) -> &StepRecord {
        self.steps.get(name).unwrap_or_else(|| {
            panic!(
                "no record of step '{name}'; recorded: {:?}",
                self.steps.keys().collect::<Vec<_>>()
            )
        })
    }

    /// Each recorded step's status, by name.
    pub fn statuses(&self) -> BTreeMap<&str, &str> {
        self.steps
            .iter()
            .map(|(n, s)| (n.as_str(), s.step_status.as_str()))
            .collect()
    }
}

/// Wait until `done()` holds; fail the test, saying `what` never happened, after `TIMEOUT`.
pub fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !done() {
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Read the pid a shell step writes (atomically, by rename) once its process runs.
pub fn wait_for_pid(path: &Path) -> i32 {
    wait_until(&format!("{} appearing", path.display()), || path.exists());
    std::fs::read_to_string(path)
        .expect("pid file")
        .trim()
        .parse()
        .expect("a pid")
}

/// A shell line that writes the shell's pid to `$PID_FILE` (whole, by rename).
pub const WRITE_PID: &str = r#"echo $$ > "$PID_FILE.part"; mv "$PID_FILE.part" "$PID_FILE""#;

/// Whether process `pid` is gone (a zombie counts as gone: it runs nothing).
pub fn process_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the command name, which is in parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Wait (a few seconds at most) for process `pid` to be gone; whether it went.
pub fn wait_gone(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !process_gone(pid) {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}
