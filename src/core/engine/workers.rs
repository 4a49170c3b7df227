//! A pool of Python worker processes for function steps. Workers are started on demand and
//! reused within one execution; each runs tasks one at a time, reading one JSON line on stdin
//! and answering one JSON line on its protocol pipe. A worker that dies fails only its task.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

/// How to start a worker.
#[derive(Debug, Clone, Default)]
pub struct WorkerSpec {
    pub python: PathBuf,
    pub python_path: Vec<String>,
    pub cwd: Option<PathBuf>,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

pub struct WorkerPool {
    spec: WorkerSpec,
    idle: Mutex<Vec<Worker>>,
}

impl WorkerPool {
    pub fn new(spec: WorkerSpec) -> Self {
        WorkerPool {
            spec,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn spawn(&self) -> Result<Worker, WorkerFailure> {
        let mut cmd = Command::new(&self.spec.python);
        cmd.args(["-u", "-m", "sagepipe._worker"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if !self.spec.python_path.is_empty() {
            cmd.env("PYTHONPATH", self.spec.python_path.join(":"));
        }
        if let Some(cwd) = &self.spec.cwd {
            cmd.current_dir(cwd);
        }
        // Its own process group, so stopping a step can kill the worker and its children.
        cmd.process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| WorkerFailure::Spawn(format!("cannot start {}: {e}", self.spec.python.display())))?;
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
        })
    }

    /// Run one task. `on_start` receives the worker's pid (to kill it on stop).
    pub fn run(&self, task: &str, on_start: impl FnOnce(i32)) -> Result<String, WorkerFailure> {
        let reused = self.idle.lock().ok().and_then(|mut v| v.pop());
        let mut worker = match reused {
            Some(w) => w,
            None => self.spawn()?,
        };
        on_start(worker.child.id() as i32);
        let line = task.replace('\n', " ");
        let sent = worker
            .stdin
            .write_all(line.as_bytes())
            .and_then(|_| worker.stdin.write_all(b"\n"));
        sent.and_then(|_| worker.stdin.flush())
            .map_err(|e| WorkerFailure::Died(format!("cannot send the task: {e}")))?;
        let mut answer = String::new();
        match worker.stdout.read_line(&mut answer) {
            Ok(n) if n > 0 && answer.ends_with('\n') => {
                if let Ok(mut idle) = self.idle.lock() {
                    idle.push(worker);
                }
                Ok(answer)
            }
            _ => {
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

    /// Start up to `n` workers ahead of need (their start-up overlaps with scheduling).
    pub fn prewarm(&self, n: usize) {
        let have = self.idle.lock().map(|v| v.len()).unwrap_or(0);
        for _ in have..n {
            match self.spawn() {
                Ok(w) => {
                    if let Ok(mut idle) = self.idle.lock() {
                        idle.push(w);
                    }
                }
                Err(_) => break,
            }
        }
    }
}
