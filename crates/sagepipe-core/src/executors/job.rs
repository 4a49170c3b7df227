//! What processing, training and transform jobs share: the job's directory and `/opt/ml`
//! (see `sandbox`), staging inputs from the store, running the container command with its log,
//! stop and timeout, and collecting outputs into the store.

use regex::Regex;
use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::{FailureKind, RuntimeModules, StepContext, StepFailure};
use crate::sandbox::{self, Isolation, JobDirs, Launch};
use crate::store::{self, files, FileLock, Store};
use crate::util;

/// Images the SageMaker XGBoost algorithm container is published under (`image_uris` "xgboost").
pub const XGBOOST_IMAGE_PATTERN: &str = r"(^|/)(sagemaker-)?xgboost:";
/// How many log lines of a failed job go into its `FailureReason`.
const REASON_TAIL_LINES: usize = 20;
/// Largest log portion read back for metrics.
const MAX_LOG_READ: u64 = 64 * 1024 * 1024;
/// How much of the end of a failed job's log is read for its `FailureReason`.
const FAILURE_LOG_READ: u64 = 64 * 1024;

/// A command that stands in for a container image (matched by regex on the image URI).
#[derive(Debug, Clone)]
pub struct ImageRunner {
    pub pattern: String,
    regex: Regex,
    pub command: Vec<String>,
}

impl ImageRunner {
    pub fn new(pattern: &str, command: Vec<String>) -> Result<ImageRunner, String> {
        if command.is_empty() {
            return Err(format!(
                "the local runner for images matching '{pattern}' has an empty command"
            ));
        }
        let regex = Regex::new(pattern).map_err(|e| format!("image pattern '{pattern}' is not a valid regex: {e}"))?;
        Ok(ImageRunner {
            pattern: pattern.to_string(),
            regex,
            command,
        })
    }

    /// The built-in runners: the SageMaker XGBoost algorithm on the `xgboost` Python package
    /// (the runtime's `xgboost_train` module).
    pub fn builtins(runtime: &RuntimeModules) -> Vec<ImageRunner> {
        ImageRunner::new(
            XGBOOST_IMAGE_PATTERN,
            vec!["python3".into(), "-m".into(), runtime.xgboost_train.clone()],
        )
        .into_iter()
        .collect()
    }
}

/// How this process runs jobs: the interpreter `python`/`python3` stand for, the image runners
/// (registered ones first, then the built-ins), and the runtime module that serves batch
/// transforms. Without the Python runtime (`with_runtime`) there are no built-in runners and
/// transform steps cannot run.
#[derive(Debug, Clone)]
pub struct JobSettings {
    pub interpreter: Option<PathBuf>,
    pub image_runners: Vec<ImageRunner>,
    pub batch_transform: Option<String>,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings::new(None, vec![])
    }
}

impl JobSettings {
    pub fn new(interpreter: Option<PathBuf>, registered: Vec<ImageRunner>) -> JobSettings {
        JobSettings {
            interpreter,
            image_runners: registered,
            batch_transform: None,
        }
    }

    /// These settings with the Python runtime's modules: its built-in image runners after the
    /// registered ones, and its batch-transform module.
    pub fn with_runtime(mut self, runtime: &RuntimeModules) -> JobSettings {
        self.image_runners.extend(ImageRunner::builtins(runtime));
        self.batch_transform = Some(runtime.batch_transform.clone());
        self
    }

    pub fn runner_for(&self, image: &str) -> Option<&ImageRunner> {
        self.image_runners.iter().find(|r| r.regex.is_match(image))
    }

    /// The interpreter jobs' `python` means: the one sagepipe runs under, else `python3` on PATH.
    pub fn python(&self) -> PathBuf {
        self.interpreter
            .clone()
            .or_else(|| find_on_path("python3", None))
            .unwrap_or_else(|| PathBuf::from("python3"))
    }
}

fn is_python_name(name: &str) -> bool {
    name == "python"
        || name == "python3"
        || name
            .strip_prefix("python3.")
            .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
}

fn find_on_path(name: &str, first: Option<&Path>) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    first
        .map(Path::to_path_buf)
        .into_iter()
        .chain(std::env::split_paths(&path))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Checked before the run starts: an entry point named without a path must be `python` or a
/// program on the PATH (a container's own launcher, such as Spark's, is not here).
pub fn entrypoint_check(step: &str, argv0: &str) -> Result<(), String> {
    if is_python_name(argv0) || argv0.contains('/') || find_on_path(argv0, None).is_some() {
        return Ok(());
    }
    Err(not_on_path(step, argv0))
}

fn not_on_path(step: &str, argv0: &str) -> String {
    let hint = if argv0 == "smspark-submit" {
        "; smspark-submit is the launcher inside the SageMaker Spark image, and sagepipe runs no containers: put \
         a program named smspark-submit on the PATH that runs the application (e.g. with your own \
         spark-submit), or leave this step out of the run"
    } else {
        ""
    };
    format!("step '{step}': the container entry point '{argv0}' is not a program on this machine's PATH{hint}")
}

/// A failure of the job's own making (bad input, bad script): retried only by job policies.
pub fn job_error(msg: impl Into<String>) -> StepFailure {
    StepFailure::new(msg, FailureKind::Job)
}

/// A request the job can never satisfy as given.
pub fn permanent(msg: impl Into<String>) -> StepFailure {
    StepFailure::new(msg, FailureKind::Permanent)
}

/// A finished attempt: how long it ran and where its output went. The log is read back only
/// by callers that need it (metrics, failure reasons), never by default: it may be huge.
pub struct JobRun {
    log_path: PathBuf,
    /// Where this attempt's output starts, counting what log caps dropped (see `store::logs`).
    start_offset: u64,
    pub seconds: f64,
}

impl JobRun {
    /// What the job printed during this attempt (at most `MAX_LOG_READ` bytes from its start).
    pub fn log(&self) -> String {
        read_range(&self.log_path, self.start(), MAX_LOG_READ)
    }

    /// Where this attempt's output starts in the file now (a cap may have moved it).
    fn start(&self) -> u64 {
        store::physical_offset(&self.log_path, &store::STEP_LOG_CAP, self.start_offset)
    }

    /// The last `FAILURE_LOG_READ` bytes the job printed during this attempt.
    fn log_tail(&self) -> String {
        let start = self.start();
        let end = fs::metadata(&self.log_path).map_or(start, |m| m.len());
        let from = end.saturating_sub(FAILURE_LOG_READ).max(start);
        read_range(&self.log_path, from, FAILURE_LOG_READ)
    }
}

/// One attempt of a job: its directory (removed when dropped) and how it sees `/opt/ml`.
pub struct Job<'a> {
    pub ctx: &'a StepContext,
    pub settings: &'a JobSettings,
    pub step: String,
    pub dirs: JobDirs,
    pub isolation: Isolation,
    /// Held on the job's directory while the job lives (released after `drop` moved it away).
    _owner: FileLock,
}

impl Drop for Job<'_> {
    fn drop(&mut self) {
        // Deleting a job's tree can take tens of ms on a busy disk: move it aside (one rename)
        // and delete it off the step's path. What a dying process leaves in the trash is swept
        // by the next process that runs a job in this store.
        let trash = self.dirs.root.with_file_name(TRASH_DIR);
        let aside = trash.join(format!("{}-{}", self.ctx.job_name, util::new_id()));
        let moved = fs::create_dir_all(&trash).and_then(|_| fs::rename(&self.dirs.root, &aside));
        match moved {
            Ok(()) => remove_in_background(aside),
            Err(_) => {
                let _ = fs::remove_dir_all(&self.dirs.root);
            }
        }
    }
}

/// Where finished jobs' directories wait to be deleted (under the store's `jobs`).
const TRASH_DIR: &str = ".trash";

/// Delete `dir` on the process's one background deleter thread (started on first use).
fn remove_in_background(dir: PathBuf) {
    static DELETER: OnceLock<Mutex<Option<mpsc::Sender<PathBuf>>>> = OnceLock::new();
    let deleter = DELETER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<PathBuf>();
        let started = std::thread::Builder::new()
            .name("sagepipe-job-cleanup".into())
            .spawn(move || {
                for dir in rx {
                    let _ = fs::remove_dir_all(dir);
                }
            });
        Mutex::new(started.ok().map(|_| tx))
    });
    let sent = match deleter.lock() {
        Ok(tx) => tx.as_ref().map(|tx| tx.send(dir.clone()).is_ok()),
        Err(_) => None,
    };
    if sent != Some(true) {
        let _ = fs::remove_dir_all(dir);
    }
}

/// The lock file in a job's directory, held by the process running the job: a job directory
/// whose lock is free belongs to a process that died, and is swept (`sweep_jobs`).
const OWNER_LOCK: &str = ".owner";

/// Lock the directory `root` of a new job (creating it). A sweep holds a dead job's lock for a
/// moment while it moves the directory away, and may move it between our open and our lock
/// (then the lock is on the moved file): we try again. A lock held longer is a live job's.
fn claim_job_dir(root: &Path) -> Result<FileLock, String> {
    let path = root.join(OWNER_LOCK);
    for _ in 0..200 {
        match FileLock::try_acquire(&path).map_err(|e| e.to_string())? {
            Some(lock) if lock.still_at(&path) => return Ok(lock),
            Some(_) => continue,
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    Err(format!(
        "{} is in use by another running job of the same name",
        root.display()
    ))
}

/// Once per store and process: delete what earlier processes left behind under `jobs`: the
/// trash, and the directories of jobs whose process died (killed before it could clean up).
pub fn sweep_jobs(jobs: &Path) {
    static SWEPT: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    let first = SWEPT
        .get_or_init(Default::default)
        .lock()
        .map(|mut s| s.insert(jobs.to_path_buf()))
        .unwrap_or(false);
    if !first {
        return;
    }
    for entry in fs::read_dir(jobs.join(TRASH_DIR)).into_iter().flatten().flatten() {
        remove_in_background(entry.path());
    }
    for entry in fs::read_dir(jobs).into_iter().flatten().flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue; // the trash and the shared parts
        }
        let lock_path = entry.path().join(OWNER_LOCK);
        // Directories without a lock file (a job being set up, or older versions') are left.
        let Ok(Some(lock)) = FileLock::try_acquire_existing(&lock_path) else {
            continue;
        };
        if lock.still_at(&lock_path) {
            let aside = jobs
                .join(TRASH_DIR)
                .join(format!("{}-{}", name.to_string_lossy(), util::new_id()));
            if fs::create_dir_all(jobs.join(TRASH_DIR))
                .and_then(|_| fs::rename(entry.path(), &aside))
                .is_ok()
            {
                remove_in_background(aside);
            }
        }
    }
}

impl<'a> Job<'a> {
    pub fn create(step: &str, ctx: &'a StepContext, settings: &'a JobSettings) -> Result<Job<'a>, StepFailure> {
        let jobs = ctx.store.root().join("jobs");
        sweep_jobs(&jobs);
        let root = jobs.join(&ctx.job_name);
        let cannot_create = |e: &dyn std::fmt::Display| {
            StepFailure::new(
                format!("cannot create the job directory {}: {e}", root.display()),
                FailureKind::Service,
            )
        };
        let owner = claim_job_dir(&root).map_err(|e| cannot_create(&e))?;
        // A previous attempt's leftovers (its directory is normally moved away when it ends).
        for entry in fs::read_dir(&root).into_iter().flatten().flatten() {
            if entry.file_name() != OWNER_LOCK {
                let _ = fs::remove_dir_all(entry.path()).or_else(|_| fs::remove_file(entry.path()));
            }
        }
        let python = settings.python();
        let dirs = JobDirs::create(&root, &jobs.join(".shared"), Some(&python)).map_err(|e| cannot_create(&e))?;
        Ok(Job {
            ctx,
            settings,
            step: step.to_string(),
            dirs,
            isolation: sandbox::isolation(),
            _owner: owner,
        })
    }

    /// A container path as the job sees it.
    pub fn job_path(&self, container: &str) -> String {
        self.dirs.job_path(container, &self.isolation)
    }

    /// The host directory behind a container path, which must lie under `/opt/ml`.
    pub fn host(&self, what: &str, container: &str) -> Result<PathBuf, StepFailure> {
        self.dirs.host_path(container).ok_or_else(|| {
            permanent(format!(
                "step '{}': {what} LocalPath '{container}' must be a path under {}",
                self.step,
                sandbox::CONTAINER_ML
            ))
        })
    }

    /// Copy what `uri` names into `host_dir` (a file keeps its base name, a prefix its tree).
    /// Copies, never links, so a job cannot change a stored artifact. Only regular files and
    /// directories are copied; inside the artifact area nothing is followed (`Store::read_path`).
    pub fn stage(&self, what: &str, uri: &str, host_dir: &Path) -> Result<(), StepFailure> {
        let (src, follow) = self
            .ctx
            .store
            .read_path(uri)
            .map_err(|e| self.unreadable(what, uri, e))?;
        let meta = if follow {
            fs::metadata(&src)
        } else {
            fs::symlink_metadata(&src)
        }
        .map_err(|e| self.unreadable(what, uri, format!("{}: {e}", src.display())))?;
        let copied = if meta.is_dir() {
            files::copy_tree(&src, host_dir, follow, uri)
        } else {
            fs::create_dir_all(host_dir).and_then(|_| {
                let name = src.file_name().unwrap_or_default();
                files::copy_tree(&src, &host_dir.join(name), follow, uri)
            })
        };
        copied.map_err(|e| job_error(format!("step '{}': cannot stage {what} {uri}: {e}", self.step)))
    }

    fn unreadable(&self, what: &str, uri: &str, why: impl std::fmt::Display) -> StepFailure {
        job_error(format!("step '{}': {what} {uri} cannot be read ({why})", self.step))
    }

    /// How messages name a host path of the job: the container path the job knows.
    pub fn shown(&self, host: &Path) -> String {
        match host.strip_prefix(&self.dirs.ml) {
            Ok(rel) => files::shown(sandbox::CONTAINER_ML, rel),
            Err(_) => host.display().to_string(),
        }
    }

    /// Move a job's output directory into the store at `uri`, merging with what is there (as
    /// an S3 upload adds and replaces keys). Returns the stored path. The output must be a
    /// directory reached without a symlink and holding only regular files and directories; a
    /// file or directory that would replace the other kind in the store fails the step before
    /// anything moves (see `files::merge_move`).
    pub fn collect(&self, what: &str, host_dir: &Path, uri: &str) -> Result<PathBuf, StepFailure> {
        let dest = self
            .ctx
            .store
            .uri_to_path(uri)
            .map_err(|e| permanent(format!("step '{}': {what}: {e}", self.step)))?;
        // Objects kept inline there become files first: the output merges with them as files.
        self.ctx
            .store
            .materialize(uri)
            .map_err(|e| permanent(format!("step '{}': {what}: {e}", self.step)))?;
        let label = self.shown(host_dir);
        let stored = (|| {
            if fs::symlink_metadata(host_dir).is_err() {
                // The job removed its output directory: nothing to store.
                files::check_path_below(&self.dirs.ml, sandbox::CONTAINER_ML, host_dir)?;
                fs::create_dir_all(host_dir)?;
            }
            let taken = self.take(host_dir)?;
            let dest = if self.ctx.store.in_artifacts(&dest) {
                self.ctx.store.check_artifact_path(&dest)?;
                dest
            } else if fs::symlink_metadata(&dest).is_ok_and(|m| m.file_type().is_symlink()) {
                // A file:// output the user named as a link to their directory: that directory.
                fs::canonicalize(&dest)?
            } else {
                dest
            };
            files::merge_move(&taken, &label, &dest, uri).map(|_| dest)
        })();
        stored.map_err(|e| job_error(format!("step '{}': cannot store {what} at {uri}: {e}", self.step)))
    }

    /// Move a finished job's output directory out of its `/opt/ml` (one rename), after checking
    /// that the way to it passes no symlink, so that what is then checked and stored is out of
    /// reach of any process the job left behind. The moved directory goes with the job's.
    pub fn take(&self, host_dir: &Path) -> io::Result<PathBuf> {
        let label = self.shown(host_dir);
        files::check_path_below(&self.dirs.ml, sandbox::CONTAINER_ML, host_dir)?;
        if !fs::symlink_metadata(host_dir)?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{label} is not a directory; an output's LocalPath must be a directory"),
            ));
        }
        let taken = self.dirs.root.join(format!("taken-{}", util::new_id()));
        fs::rename(host_dir, &taken)?;
        Ok(taken)
    }

    /// The program a command's first word means: `python`/`python3` is the current
    /// interpreter; a bare name is looked up on the job's PATH; a path is used as it is.
    fn program(&self, argv0: &str) -> Result<PathBuf, StepFailure> {
        if is_python_name(argv0) {
            return Ok(self.settings.python());
        }
        if argv0.contains('/') {
            return Ok(PathBuf::from(self.job_path(argv0)));
        }
        find_on_path(argv0, Some(&self.dirs.bin)).ok_or_else(|| permanent(not_on_path(&self.step, argv0)))
    }

    /// Without a private `/opt/ml`, a script that names `/opt/ml` itself would write to the
    /// host's real `/opt/ml` (or fail): refuse it before it runs, saying why.
    pub fn refuse_hardcoded_paths(&self, scripts: &[PathBuf]) -> Result<(), StepFailure> {
        let Isolation::Paths { why } = &self.isolation else {
            return Ok(());
        };
        for script in scripts {
            let mut bytes = Vec::new();
            let read = files::open_regular(script, true).and_then(|mut f| f.read_to_end(&mut bytes));
            if read.is_err() {
                continue;
            }
            if bytes
                .windows(sandbox::CONTAINER_ML.len())
                .any(|w| w == sandbox::CONTAINER_ML.as_bytes())
            {
                return Err(permanent(format!(
                    "step '{}': {} hard-codes {} paths, which need a private mount namespace, and jobs here run \
                     without one ({why}); jobs get their paths rewritten instead, so read them from the SM_* \
                     environment variables or from arguments, or run where unprivileged user namespaces are enabled",
                    self.step,
                    script.file_name().unwrap_or_default().to_string_lossy(),
                    sandbox::CONTAINER_ML
                )));
            }
        }
        Ok(())
    }

    /// Run `argv` with `env` in the job's sandbox, its output appended to the step's log.
    /// `cwd` is a container path. Fails with the exit code or signal and the log's last lines.
    pub fn run(
        &self,
        argv: &[String],
        env: &[(String, String)],
        cwd: &str,
        max_runtime: Option<f64>,
    ) -> Result<JobRun, StepFailure> {
        let Some((argv0, rest)) = argv.split_first() else {
            return Err(permanent(format!(
                "step '{}': the job has no command to run",
                self.step
            )));
        };
        let program = self.program(argv0)?;
        let path = std::env::var("PATH").unwrap_or_default();
        let mut full_env = vec![("PATH".to_string(), format!("{}:{path}", self.dirs.bin.display()))];
        full_env.extend(env.iter().map(|(k, v)| (k.clone(), self.job_path(v))));
        let launch = Launch {
            program,
            args: rest.iter().map(|a| self.job_path(a)).collect(),
            env: full_env,
            cwd: if self.isolation.is_namespace() {
                PathBuf::from(cwd)
            } else {
                PathBuf::from(self.job_path(cwd))
            },
        };
        let log_path = &self.ctx.log_path;
        let mut log = crate::store::open_append(log_path)
            .map_err(|e| StepFailure::new(format!("cannot open the step log: {e}"), FailureKind::Service))?;
        let start_offset = store::logical_len(log_path, &store::STEP_LOG_CAP);
        let (out, err) = match (log.try_clone(), log.try_clone()) {
            (Ok(a), Ok(b)) => (Stdio::from(a), Stdio::from(b)),
            (Err(e), _) | (_, Err(e)) => {
                return Err(StepFailure::new(
                    format!("cannot share the step log: {e}"),
                    FailureKind::Service,
                ))
            }
        };
        let started = Instant::now();
        let child = sandbox::spawn(&self.dirs, self.isolation.is_namespace(), &launch, out, err).map_err(|e| {
            job_error(format!(
                "step '{}': cannot start {}: {e}",
                self.step,
                launch.program.display()
            ))
        })?;
        let pid = child.id() as i32;
        self.ctx.track_process(pid);
        let deadline = max_runtime
            .filter(|s| *s > 0.0)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .and_then(|d| started.checked_add(d));
        let (status, timed_out) = wait_with_deadline(child, deadline);
        crate::proc::forget_group(pid);
        self.ctx.untrack_process();
        let seconds = started.elapsed().as_secs_f64();
        let status = status.map_err(|e| job_error(format!("step '{}': lost the job process: {e}", self.step)))?;
        let run = JobRun {
            log_path: log_path.clone(),
            start_offset,
            seconds,
        };
        if status.success() && !timed_out {
            return Ok(run);
        }
        let how = if timed_out {
            format!(
                "MaxRuntimeExceeded: the job ran longer than StoppingCondition.MaxRuntimeInSeconds ({})",
                max_runtime.unwrap_or_default()
            )
        } else if let Some(sig) = status.signal() {
            format!("AlgorithmError: the job was killed by signal {sig}")
        } else {
            format!(
                "AlgorithmError: the job exited with code {}",
                status.code().unwrap_or(-1)
            )
        };
        let last_lines = tail(&run.log_tail(), REASON_TAIL_LINES);
        let _ = writeln!(log, "[sagepipe] {how}");
        Err(job_error(format!("{how}. Last lines of its log:\n{last_lines}")))
    }
}

/// Wait for a job's process, killing its process group once `deadline` passes. A blocking
/// wait on a helper thread (not polling) so a job's end is noticed at once. Returns the exit
/// status and whether the deadline killed it.
fn wait_with_deadline(mut child: Child, deadline: Option<Instant>) -> (io::Result<ExitStatus>, bool) {
    let pid = child.id() as i32;
    let Some(deadline) = deadline else {
        return (child.wait(), false);
    };
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::Builder::new()
        .name("sagepipe-job-wait".into())
        .spawn(move || {
            let _ = tx.send(child.wait());
        });
    if let Err(e) = waiter {
        return (Err(e), false);
    }
    let left = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(left) {
        Ok(status) => (status, false),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            // SAFETY: killpg only sends a signal to the job's own process group.
            unsafe {
                libc::killpg(pid, libc::SIGKILL);
            }
            let status = rx
                .recv()
                .unwrap_or_else(|_| Err(io::Error::other("the job's waiter thread ended without a status")));
            (status, true)
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => (
            Err(io::Error::other("the job's waiter thread ended without a status")),
            false,
        ),
    }
}

/// The last `n` non-empty lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn read_range(path: &Path, offset: u64, limit: u64) -> String {
    let mut out = Vec::new();
    if let Ok(mut f) = File::open(path) {
        if f.seek(SeekFrom::Start(offset)).is_ok() {
            let _ = f.take(limit).read_to_end(&mut out);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Pack the contents of `dir` into a gzipped tar at `dest` (entries relative to `dir`, as the
/// service packs `/opt/ml/model`). Only regular files and directories are packed: a symlink or
/// special file fails the packing, named by `label` (how messages name `dir`), before anything
/// is written. The archive is written to a temporary file renamed into place; on any failure
/// the temporary file is removed.
pub fn pack_tar_gz(dir: &Path, label: &str, dest: &Path) -> io::Result<()> {
    files::check_tree(dir, label)?;
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent)?;
    }
    let tmp = dest.with_extension("gz.partial");
    let packed = (|| {
        let file = File::create(&tmp)?;
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        tar.follow_symlinks(false);
        append_tree(&mut tar, dir, Path::new(""))?;
        tar.into_inner()?.finish()?;
        fs::rename(&tmp, dest)
    })();
    if packed.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    packed
}

/// Append `dir`'s entries under `rel`, in name order. Files are opened without following
/// links and without blocking (a checked tree can still change under a job's stray process).
fn append_tree<W: Write>(tar: &mut tar::Builder<W>, dir: &Path, rel: &Path) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let (path, name) = (entry.path(), rel.join(entry.file_name()));
        if entry.file_type()?.is_dir() {
            tar.append_dir(&name, &path)?;
            append_tree(tar, &path, &name)?;
        } else {
            tar.append_file(&name, &mut files::open_regular(&path, false)?)?;
        }
    }
    Ok(())
}

pub use super::archive::unpack_tar_gz;

/// Stage code or a model given as a directory or a `.tar.gz` (as the service accepts both)
/// from `uri` (see `Store::read_path`) into `dest`.
pub fn copy_dir_or_unpack(store: &Store, uri: &str, dest: &Path) -> io::Result<()> {
    let (src, follow) = store
        .read_path(uri)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let meta = if follow {
        fs::metadata(&src)?
    } else {
        fs::symlink_metadata(&src)?
    };
    if meta.is_dir() {
        files::copy_tree(&src, dest, follow, uri)
    } else {
        unpack_tar_gz(&src, follow, dest)
    }
}

pub fn dir_has_files(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    #[test]
    fn python_names_mean_the_interpreter() {
        assert!(is_python_name("python"));
        assert!(is_python_name("python3.11"));
        assert!(!is_python_name("python3."));
        assert!(!is_python_name("pythonista"));
    }

    #[test]
    fn entry_points_must_be_python_a_path_or_on_the_path() {
        assert!(entrypoint_check("S", "python3").is_ok());
        assert!(entrypoint_check("S", "/bin/bash").is_ok());
        assert!(entrypoint_check("S", "sh").is_ok());
        let err = entrypoint_check("Spark", "smspark-submit").expect_err("not on PATH");
        assert!(
            err.contains("step 'Spark'") && err.contains("SageMaker Spark image"),
            "{err}"
        );
        let err = entrypoint_check("S", "no-such-launcher-here").expect_err("not on PATH");
        assert!(
            err.contains("'no-such-launcher-here' is not a program on this machine's PATH"),
            "{err}"
        );
    }

    #[test]
    fn builtin_runner_matches_xgboost_images_only() {
        let runtime = RuntimeModules::for_tests();
        let s = JobSettings::default().with_runtime(&runtime);
        for image in [
            "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
            "811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1",
        ] {
            let runner = s.runner_for(image).expect(image);
            assert_eq!(runner.command, ["python3", "-m", runtime.xgboost_train.as_str()]);
            // Without the Python runtime there is no built-in runner.
            assert!(JobSettings::default().runner_for(image).is_none(), "{image}");
        }
        assert!(s
            .runner_for("123456789012.dkr.ecr.us-east-1.amazonaws.com/my-image:latest")
            .is_none());
        assert!(ImageRunner::new("(", vec!["x".into()]).is_err());
    }

    #[test]
    fn tar_round_trip_and_merge_move() {
        let dir = tempfile::tempdir().expect("tmp");
        let model = dir.path().join("model");
        fs::create_dir_all(model.join("sub")).expect("mkdir");
        fs::write(model.join("a.bin"), b"a").expect("write");
        fs::write(model.join("sub/b.txt"), b"b").expect("write");
        let archive = dir.path().join("out/model.tar.gz");
        pack_tar_gz(&model, "/opt/ml/model", &archive).expect("pack");
        let back = dir.path().join("back");
        unpack_tar_gz(&archive, false, &back).expect("unpack");
        assert_eq!(fs::read(back.join("sub/b.txt")).expect("read"), b"b");

        let dest = dir.path().join("dest");
        fs::create_dir_all(&dest).expect("mkdir");
        fs::write(dest.join("a.bin"), b"old").expect("write");
        fs::write(dest.join("keep.txt"), b"k").expect("write");
        files::merge_move(&back, "/opt/ml/model", &dest, "s3://b/dest").expect("merge");
        assert_eq!(fs::read(dest.join("a.bin")).expect("read"), b"a");
        assert!(dest.join("keep.txt").exists() && dest.join("sub/b.txt").exists());
    }

    #[test]
    fn packing_refuses_links_and_leaves_no_partial_archive() {
        let dir = tempfile::tempdir().expect("tmp");
        let model = dir.path().join("model");
        fs::create_dir_all(&model).expect("mkdir");
        fs::write(model.join("a.bin"), b"a").expect("write");
        fs::write(dir.path().join("host-secret"), b"secret").expect("write");
        std::os::unix::fs::symlink(dir.path().join("host-secret"), model.join("weights")).expect("symlink");
        let archive = dir.path().join("out/model.tar.gz");
        let err = pack_tar_gz(&model, "/opt/ml/model", &archive).expect_err("symlink");
        assert!(
            err.to_string().starts_with("/opt/ml/model/weights is a symlink"),
            "{err}"
        );
        assert!(!archive.exists() && !archive.with_extension("gz.partial").exists());
        // A failure after the archive was started (here: its place is taken by a directory)
        // removes the temporary file too.
        fs::remove_file(model.join("weights")).expect("rm");
        fs::create_dir_all(archive.join("taken")).expect("mkdir");
        assert!(pack_tar_gz(&model, "/opt/ml/model", &archive).is_err());
        assert!(!archive.with_extension("gz.partial").exists());
        assert_eq!(fs::read_dir(dir.path().join("out")).expect("out").count(), 1);
    }

    fn sh(script: &str) -> Child {
        std::process::Command::new("/bin/sh")
            .args(["-c", script])
            .process_group(0)
            .spawn()
            .expect("spawn sh")
    }

    #[test]
    fn waiting_returns_the_exit_status_without_a_deadline_kill() {
        let (status, timed_out) = wait_with_deadline(sh("exit 3"), None);
        assert_eq!(status.expect("status").code(), Some(3));
        assert!(!timed_out);
        let far = Instant::now() + Duration::from_secs(60);
        let (status, timed_out) = wait_with_deadline(sh("exit 0"), Some(far));
        assert!(status.expect("status").success() && !timed_out);
    }

    #[test]
    fn a_job_past_its_deadline_is_killed_with_its_children() {
        let started = Instant::now();
        let deadline = started + Duration::from_millis(200);
        let (status, timed_out) = wait_with_deadline(sh("sleep 30 & wait"), Some(deadline));
        assert!(timed_out);
        assert_eq!(status.expect("status").signal(), Some(libc::SIGKILL));
        assert!(started.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn a_failed_jobs_reason_reads_only_the_end_of_a_huge_log() {
        let dir = tempfile::tempdir().expect("tmp");
        let log_path = dir.path().join("step.log");
        let earlier = "an earlier attempt\n";
        let mut text = String::from(earlier);
        for i in 0..200_000 {
            text.push_str(&format!("line {i}\n"));
        }
        fs::write(&log_path, &text).expect("write");
        let run = JobRun {
            log_path,
            start_offset: earlier.len() as u64,
            seconds: 0.0,
        };
        let end = run.log_tail();
        assert!(end.len() as u64 <= FAILURE_LOG_READ);
        assert!(end.ends_with("line 199999\n"));
        assert_eq!(tail(&end, 2), "line 199998\nline 199999");
        let all = run.log();
        assert!(all.starts_with("line 0\n") && all.ends_with("line 199999\n"));
    }

    #[test]
    fn a_retried_jobs_output_is_found_after_the_log_was_capped() {
        // Regression: an attempt's start offset was a file offset, which a cap made point past
        // the end (or at other bytes), so the failure reason and the metrics read nothing.
        let dir = tempfile::tempdir().expect("tmp");
        let log_path = dir.path().join("step.log");
        let earlier = "e".repeat(25 << 20) + "\n"; // the first attempt: 25 MiB
        fs::write(&log_path, &earlier).expect("write");
        let start_offset = store::logical_len(&log_path, &store::STEP_LOG_CAP);
        let attempt: String = (0..800_000).map(|i| format!("attempt line {i}\n")).collect(); // ~14 MiB
        let mut f = fs::OpenOptions::new().append(true).open(&log_path).expect("open");
        f.write_all(attempt.as_bytes()).expect("append");
        assert!(store::cap_log(&log_path, &store::STEP_LOG_CAP).expect("cap"));
        let run = JobRun {
            log_path,
            start_offset,
            seconds: 0.0,
        };
        assert!(run.log_tail().ends_with("attempt line 799999\n"));
        assert!(run.log().starts_with("attempt line 0\n"));
    }

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail("a\n\nb\nc\n", 2), "b\nc");
    }
}
