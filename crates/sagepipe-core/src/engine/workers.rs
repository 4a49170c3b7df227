//! Python worker processes for function steps. Each runs tasks one at a time, reading one JSON
//! line on stdin and answering one JSON line on its protocol pipe. A worker that dies fails only
//! its task.
//!
//! Workers are kept warm per process: every execution whose workers would be started the same
//! way (interpreter, `PYTHONPATH`, working directory and this process's environment) draws from
//! one shared set of idle workers, so a second execution in the same process starts no new
//! interpreter. Workers are started lazily, one per step that runs while none is idle, so a
//! chain of steps uses one worker. Before a worker serves another execution than its last one it
//! is asked whether it is still fresh: a worker that imported a module whose file changed since
//! it started, or that could not undo what a step changed, is replaced (see the worker module).

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

use crate::proc;

/// How to start a worker.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct WorkerSpec {
    pub python: PathBuf,
    /// The runtime's worker module, run with `python -m` (`executors::RuntimeModules::worker`).
    pub module: String,
    pub python_path: Vec<String>,
    pub cwd: Option<PathBuf>,
}

/// The question a reused worker answers before it serves another execution.
const FRESHNESS_PROBE: &str = "{\"kind\": \"check_fresh\"}\n";

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The pool handle (execution) this worker last served; 0 for none yet.
    served: u64,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        proc::forget_group(self.child.id() as i32);
    }
}

impl Worker {
    fn send(&mut self, line: &str) -> std::io::Result<()> {
        self.stdin.write_all(line.as_bytes())?;
        self.stdin.flush()
    }

    /// One answer line, or None if the worker died or broke the protocol.
    fn answer(&mut self) -> Option<String> {
        let mut answer = String::new();
        match self.stdout.read_line(&mut answer) {
            Ok(n) if n > 0 && answer.ends_with('\n') => Some(answer),
            _ => None,
        }
    }

    fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Whether this worker may serve a new execution (asked only when it served another).
    fn still_fresh(&mut self) -> bool {
        self.send(FRESHNESS_PROBE).is_ok()
            && self.answer().is_some_and(|a| {
                serde_json::from_str::<serde_json::Value>(&a)
                    .ok()
                    .and_then(|v| v.get("fresh").and_then(serde_json::Value::as_bool))
                    == Some(true)
            })
    }
}

/// Why a task got no answer.
#[derive(Debug)]
pub enum WorkerFailure {
    /// The worker could not be started (runner problem).
    Spawn(String),
    /// The worker died or broke the protocol while running the task.
    Died(String),
}

#[derive(Default)]
struct PoolState {
    idle: Vec<Worker>,
    /// Workers being started for the pool that no task has waited for yet.
    starting: usize,
    /// Tasks waiting for one of the `starting` workers.
    waiting: usize,
    /// Live `WorkerPool` handles (executions) on this set.
    handles: usize,
}

/// The idle workers of one way of starting them, shared by the executions of this process.
struct SharedWorkers {
    spec: WorkerSpec,
    state: Mutex<PoolState>,
    ready: Condvar,
}

impl SharedWorkers {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn spawn(&self) -> Result<Worker, WorkerFailure> {
        let spec = &self.spec;
        let mut cmd = Command::new(&spec.python);
        cmd.args(["-u", "-m", &spec.module])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if !spec.python_path.is_empty() {
            cmd.env("PYTHONPATH", spec.python_path.join(":"));
        }
        if let Some(cwd) = &spec.cwd {
            cmd.current_dir(cwd);
        }
        // Its own process group, so stopping a step can kill the worker and its children.
        cmd.process_group(0);
        // Killed with its children if this process dies while it runs a step (a worker that is
        // idle also ends on its own when its stdin closes).
        let mut child = proc::spawn_watched(&mut cmd)
            .map_err(|e| WorkerFailure::Spawn(format!("cannot start {}: {e}", spec.python.display())))?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| WorkerFailure::Spawn("worker has no stdin".into()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| WorkerFailure::Spawn("worker has no stdout".into()))?;
        Ok(Worker {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            served: 0,
        })
    }

    fn put_back(&self, worker: Worker) {
        self.lock().idle.push(worker);
        self.ready.notify_one();
    }
}

/// Most idle workers one way of starting them keeps once no execution uses them: one per
/// core, but never more than a few idle interpreters on a big host.
fn keep_warm() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(4))
}

/// The environment workers inherit, as part of what makes two ways of starting them equal.
fn environment_fingerprint() -> u64 {
    let mut vars: Vec<_> = std::env::vars_os().collect();
    vars.sort();
    let mut h = DefaultHasher::new();
    vars.hash(&mut h);
    h.finish()
}

type Registry = Mutex<HashMap<(WorkerSpec, u64), Arc<SharedWorkers>>>;

fn registry() -> &'static Registry {
    static POOLS: OnceLock<Registry> = OnceLock::new();
    POOLS.get_or_init(Default::default)
}

/// One execution's access to the warm workers of its spec. Dropping it (the execution ended)
/// trims the idle workers to a few, kept for the next execution of this process.
pub struct WorkerPool {
    shared: Arc<SharedWorkers>,
    id: u64,
}

impl WorkerPool {
    pub fn new(spec: WorkerSpec) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let key = (spec.clone(), environment_fingerprint());
        let mut pools = registry().lock().unwrap_or_else(|p| p.into_inner());
        // Workers started another way that no execution uses any more would only idle.
        pools.retain(|k, shared| {
            let keep = *k == key || shared.lock().handles > 0;
            if !keep {
                shared.lock().idle.clear();
            }
            keep
        });
        let shared = Arc::clone(pools.entry(key).or_insert_with(|| {
            Arc::new(SharedWorkers {
                spec,
                state: Mutex::new(PoolState::default()),
                ready: Condvar::new(),
            })
        }));
        shared.lock().handles += 1;
        WorkerPool {
            shared,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// An idle worker fit for this execution, one being started for the pool, or a new one.
    fn take(&self) -> Result<Worker, WorkerFailure> {
        let shared = &self.shared;
        let mut state = shared.lock();
        loop {
            if let Some(mut worker) = state.idle.pop() {
                drop(state);
                let fit = !worker.exited() && (worker.served == 0 || worker.served == self.id || worker.still_fresh());
                if fit {
                    return Ok(worker);
                }
                drop(worker); // stale or dead: replaced below
                state = shared.lock();
                continue;
            }
            if state.starting > state.waiting {
                state.waiting += 1;
                state = shared.ready.wait(state).unwrap_or_else(|p| p.into_inner());
                state.waiting -= 1;
                continue;
            }
            drop(state);
            return shared.spawn();
        }
    }

    /// Run one task. `on_start` receives the worker's pid (to kill it on stop); `on_end` runs
    /// when the task is over, before the worker can serve another execution (whose step a
    /// stop of this one must then not kill).
    pub fn run(&self, task: &str, on_start: impl FnOnce(i32), on_end: impl FnOnce()) -> Result<String, WorkerFailure> {
        let mut worker = self.take()?;
        worker.served = self.id;
        on_start(worker.child.id() as i32);
        let line = format!("{}\n", task.replace('\n', " "));
        let answer = worker.send(&line).map(|()| worker.answer());
        on_end();
        match answer {
            Err(e) => Err(WorkerFailure::Died(format!("cannot send the task: {e}"))),
            Ok(Some(answer)) => {
                self.shared.put_back(worker);
                Ok(answer)
            }
            Ok(None) => {
                let _ = worker.child.kill();
                let status = worker.child.wait().ok();
                let how = match status {
                    Some(s) if s.signal().is_some() => format!("was killed by signal {}", s.signal().unwrap_or(0)),
                    Some(s) => format!("exited with code {}", s.code().unwrap_or(-1)),
                    None => "vanished".to_string(),
                };
                Err(WorkerFailure::Died(format!(
                    "the worker process running the step {how}"
                )))
            }
        }
    }

    /// Have one worker idle or starting, started on a helper thread so that its interpreter
    /// start-up overlaps with whatever the caller does next. Further workers start only when
    /// steps run at the same time.
    pub fn prewarm(&self) {
        {
            let mut state = self.shared.lock();
            if !state.idle.is_empty() || state.starting > 0 {
                return;
            }
            state.starting += 1;
        }
        let shared = Arc::clone(&self.shared);
        let started = std::thread::Builder::new()
            .name("sagepipe-worker-start".into())
            .spawn(move || {
                let worker = shared.spawn();
                let mut state = shared.lock();
                state.starting -= 1;
                if let Ok(w) = worker {
                    state.idle.push(w);
                }
                drop(state);
                // Wake every waiter: on failure each starts its own worker and reports why.
                shared.ready.notify_all();
            });
        if started.is_err() {
            self.shared.lock().starting -= 1;
            self.shared.ready.notify_all();
        }
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.handles = state.handles.saturating_sub(1);
        if state.handles == 0 {
            let keep = keep_warm();
            if state.idle.len() > keep {
                let extra: Vec<Worker> = state.idle.drain(keep..).collect();
                drop(state);
                drop(extra);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry is process-wide: a test creating a pool may retire another test's idle ones.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    /// A stand-in worker: answers every line with the freshness it is told, else echoes.
    fn fake_spec(dir: &std::path::Path, fresh: bool) -> WorkerSpec {
        std::fs::write(
            dir.join("fake_worker.py"),
            format!(
                "import json, os, sys\nfor line in sys.stdin:\n    t = json.loads(line)\n    if t.get('kind') == \
                 'check_fresh':\n        print(json.dumps({{'fresh': {}}}), flush=True)\n    else:\n        \
                 print(json.dumps({{'pid': os.getpid()}}), flush=True)\n",
                if fresh { "True" } else { "False" }
            ),
        )
        .expect("worker");
        WorkerSpec {
            python: PathBuf::from("python3"),
            module: "fake_worker".into(),
            python_path: vec![dir.to_string_lossy().into_owned()],
            cwd: Some(dir.to_path_buf()),
        }
    }

    fn pid_of(answer: &str) -> u64 {
        serde_json::from_str::<serde_json::Value>(answer).expect("json")["pid"]
            .as_u64()
            .expect("pid")
    }

    fn python_available() -> bool {
        Command::new("python3")
            .arg("-c")
            .arg("pass")
            .status()
            .is_ok_and(|s| s.success())
    }

    #[test]
    fn a_second_execution_reuses_a_fresh_worker_and_replaces_a_stale_one() {
        if !python_available() {
            eprintln!("no python3 on PATH");
            return;
        }
        let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        for fresh in [true, false] {
            let dir = tempfile::tempdir().expect("tmp");
            let spec = fake_spec(dir.path(), fresh);
            let first = WorkerPool::new(spec.clone());
            let a = pid_of(&first.run("{}", |_| {}, || {}).expect("run"));
            let b = pid_of(&first.run("{}", |_| {}, || {}).expect("run"));
            assert_eq!(a, b, "steps one after the other share one worker");
            drop(first);
            let second = WorkerPool::new(spec);
            let c = pid_of(&second.run("{}", |_| {}, || {}).expect("run"));
            assert_eq!(a == c, fresh, "fresh workers are reused, stale ones replaced");
        }
    }

    #[test]
    fn a_task_waits_for_the_prewarmed_worker_instead_of_starting_another() {
        if !python_available() {
            eprintln!("no python3 on PATH");
            return;
        }
        let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let dir = tempfile::tempdir().expect("tmp");
        let pool = WorkerPool::new(fake_spec(dir.path(), true));
        pool.prewarm();
        pool.prewarm(); // one is already starting: no second
        let pids: Vec<u64> = (0..3)
            .map(|_| pid_of(&pool.run("{}", |_| {}, || {}).expect("run")))
            .collect();
        assert!(pids.iter().all(|p| *p == pids[0]), "{pids:?}");
        assert_eq!(pool.shared.lock().idle.len(), 1);
    }
}
