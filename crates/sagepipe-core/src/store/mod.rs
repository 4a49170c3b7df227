//! The embedded store: a directory holding pipelines, their definition versions, executions,
//! step records, logs and artifacts (`s3://bucket/key` mapped to files).
//!
//! Crash safety comes from atomic replacement (write a temporary file, rename it over the
//! record), not from fsync. Multi-process safety comes from ownership: an execution's records
//! are written only by the process that holds its `lock` file (an `flock`, released by the
//! kernel when that process dies), so a reader that can take the lock knows the owner is gone.

pub mod files;
pub mod fingerprint;
mod logs;
mod records;
mod registry;

pub use logs::{cap_log, logical_len, physical_offset, LogCap, STEP_LOG_CAP};
pub use records::{
    max_parallel_execution_steps, ArtifactRecord, ExecutionRecord, ExecutionStatus, PipelineRecord, Signature,
    StepRecord, StepStatus,
};
pub use registry::{model_arn, model_package_arn, APPROVAL_STATUSES};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::fd::AsRawFd;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::{CoreError, CoreResult};
use super::proc::Guarded;
use super::util;

/// The file whose presence asks an execution's owner to stop it (see `write_stop_request`).
const STOP_REQUEST_FILE: &str = "stop-requested";

/// What storing a pipeline does when one of that name exists (`CreatePipeline` refuses,
/// `UpdatePipeline` needs one, the SDK's `upsert` does either).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PutMode {
    Create,
    Update,
    Upsert,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// Write `bytes` to `path` atomically: readers see the old content or the new, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> CoreResult<()> {
    let tmp = temporary_name(path);
    let result = (|| {
        let mut f = create_in_dir(&tmp)?;
        f.write_all(bytes)?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(CoreError::store(path, e));
    }
    Ok(())
}

/// Space a running execution sets aside (files in its `reserve` directory), so that on a full
/// disk its failure can still be recorded: a record that cannot be written the usual way is
/// written into one of these files, whose space is already allocated, then renamed into place
/// (`write_json_reserved`). Pieces, not one file: the execution's record and those of its
/// running steps each take one; rounded to pages, a piece holds any failure record.
pub const RESERVE_DIR: &str = "reserve";
const RESERVE_PIECES: usize = 8;
const RESERVE_PIECE_BYTES: usize = 32 * 1024;

/// Set the reserve aside under `dir` (really allocated: a sparse file would reserve nothing).
pub fn write_reserve(dir: &Path) -> CoreResult<()> {
    let result = (|| {
        fs::create_dir_all(dir)?;
        for piece in 0..RESERVE_PIECES {
            let f = File::create(dir.join(piece.to_string()))?;
            // SAFETY: fallocate on a descriptor we own, with a valid length.
            let rc = unsafe { libc::fallocate(f.as_raw_fd(), 0, 0, RESERVE_PIECE_BYTES as libc::off_t) };
            if rc != 0 {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() != Some(libc::EOPNOTSUPP) {
                    return Err(e);
                }
                // A file system without fallocate: write the bytes.
                (&f).write_all(&[0u8; RESERVE_PIECE_BYTES])?;
            }
        }
        Ok(())
    })();
    result.map_err(|e| {
        let _ = fs::remove_dir_all(dir);
        CoreError::store(dir, e)
    })
}

/// `write_json`, and if that fails (a full disk), the same record written into a piece of the
/// reserve at `reserve` (see `RESERVE_DIR`). The first error is returned if both fail.
pub fn write_json_reserved<T: Serialize>(path: &Path, value: &T, reserve: &Path) -> CoreResult<()> {
    let bytes = serde_json::to_vec(value).map_err(|e| CoreError::CorruptRecord {
        path: path.into(),
        msg: e.to_string(),
    })?;
    let first = match write_atomic(path, &bytes) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    let mut pieces: Vec<PathBuf> = fs::read_dir(reserve)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    pieces.sort();
    for piece in pieces {
        let tmp = temporary_name(path);
        if fs::rename(&piece, &tmp).is_err() {
            continue; // taken by another writer
        }
        // Overwriting allocated space needs none; the unused rest is given back.
        let written = (|| {
            let mut f = OpenOptions::new().write(true).open(&tmp)?;
            f.write_all(&bytes)?;
            f.set_len(bytes.len() as u64)?;
            fs::rename(&tmp, path)
        })();
        if written.is_ok() {
            return Ok(());
        }
        let _ = fs::remove_file(&tmp);
    }
    Err(first)
}

/// A name next to `path` for a temporary file of this process (skipped by record readers).
fn temporary_name(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("record");
    dir.join(format!(
        ".{name}.tmp.{}.{}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Open `path` with `options`, making its directory only if it is missing: files are written
/// far more often than directories are made, so the common case is one `open`.
fn open_in_dir(path: &Path, options: &OpenOptions) -> std::io::Result<File> {
    match options.open(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            options.open(path)
        }
        other => other,
    }
}

/// Create (truncate) a file, and its directory if missing.
pub fn create_in_dir(path: &Path) -> std::io::Result<File> {
    open_in_dir(path, OpenOptions::new().write(true).create(true).truncate(true))
}

/// Open a file for appending (creating it, and its directory if missing).
pub fn open_append(path: &Path) -> std::io::Result<File> {
    open_in_dir(path, OpenOptions::new().create(true).append(true))
}

/// Append `text` to a log, best effort (a log line that cannot be written is not worth failing a step).
pub fn append_text(path: &Path, text: &str) {
    use std::io::Write;
    if let Ok(mut f) = open_append(path) {
        let _ = f.write_all(text.as_bytes());
    }
}

/// Where an execution (its directory) keeps a step's record.
pub fn step_path(execution_dir: &Path, step: &str) -> PathBuf {
    execution_dir.join("steps").join(format!("{step}.json"))
}

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> CoreResult<()> {
    let bytes = serde_json::to_vec(value).map_err(|e| CoreError::CorruptRecord {
        path: path.into(),
        msg: e.to_string(),
    })?;
    write_atomic(path, &bytes)
}

/// Read a JSON record; `Ok(None)` if it does not exist.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> CoreResult<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| CoreError::CorruptRecord {
                path: path.into(),
                msg: e.to_string(),
            }),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CoreError::store(path, e)),
    }
}

/// A held exclusive lock on a file; released when dropped, or when the process dies. A child
/// forked without exec does not keep it (see `proc::Guarded`): once its holder is gone, the lock
/// is free even while such a child lives on.
#[derive(Debug)]
pub struct FileLock {
    file: Guarded<File>,
}

impl FileLock {
    /// Block until the lock is ours.
    pub fn acquire(path: &Path) -> CoreResult<FileLock> {
        let file = open_lock_file(path)?;
        file.get().lock().map_err(|e| CoreError::store(path, e))?;
        Ok(FileLock { file })
    }

    /// Block until a shared hold is ours: shared holders exclude only an exclusive one.
    pub fn acquire_shared(path: &Path) -> CoreResult<FileLock> {
        let file = open_lock_file(path)?;
        file.get().lock_shared().map_err(|e| CoreError::store(path, e))?;
        Ok(FileLock { file })
    }

    /// Take the lock if nobody holds it.
    pub fn try_acquire(path: &Path) -> CoreResult<Option<FileLock>> {
        Self::try_lock(open_lock_file(path)?, path)
    }

    /// Take the lock if the lock file exists and nobody holds it; never creates the file.
    pub fn try_acquire_existing(path: &Path) -> CoreResult<Option<FileLock>> {
        match Guarded::open(|| File::options().write(true).open(path)) {
            Ok(file) => Self::try_lock(file, path),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CoreError::store(path, e)),
        }
    }

    fn try_lock(file: Guarded<File>, path: &Path) -> CoreResult<Option<FileLock>> {
        match file.get().try_lock() {
            Ok(()) => Ok(Some(FileLock { file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(CoreError::store(path, e)),
        }
    }

    /// Whether the locked file is still the one at `path` (not moved away or replaced since).
    pub fn still_at(&self, path: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        match (self.file.get().metadata(), fs::metadata(path)) {
            (Ok(held), Ok(now)) => held.dev() == now.dev() && held.ino() == now.ino(),
            _ => false,
        }
    }
}

/// A record the store holds but cannot read (truncated, not JSON, wrong shape).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UnreadableRecord {
    pub path: PathBuf,
    pub reason: String,
    /// Its bytes as text (lossy), so a caller can still see what it names.
    pub text: String,
    /// The execution it belongs to (for execution and step records).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_execution_arn: Option<String>,
    /// For an execution record: the execution's step records that can still be read (what they
    /// name and reuse must stay while the execution does).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub step_records: Vec<StepRecord>,
}

impl UnreadableRecord {
    /// The record behind a `CorruptRecord` error (other errors are passed on).
    pub fn from_error(error: CoreError, execution_arn: Option<String>) -> CoreResult<UnreadableRecord> {
        match error {
            CoreError::CorruptRecord { path, msg } => Ok(UnreadableRecord {
                text: String::from_utf8_lossy(&fs::read(&path).unwrap_or_default()).into_owned(),
                path,
                reason: msg,
                pipeline_execution_arn: execution_arn,
                step_records: Vec::new(),
            }),
            other => Err(other),
        }
    }

    /// The one-line warning a listing gives when it skips this record.
    pub fn warning(&self) -> String {
        let remedy = match &self.pipeline_execution_arn {
            Some(_) => "`sagepipe gc --remove-unreadable` (or deleting the pipeline) removes it",
            None => "deleting the pipeline (DeletePipeline) removes it",
        };
        format!(
            "skipped the unreadable store record {} ({}); the other records are listed, and {remedy}",
            self.path.display(),
            self.reason
        )
    }
}

/// Fail with `CorruptRecord` unless `text` (read from `path`) is JSON.
fn check_json(path: &Path, text: &str) -> CoreResult<()> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|e| CoreError::CorruptRecord {
            path: path.into(),
            msg: e.to_string(),
        })
}

fn open_lock_file(path: &Path) -> CoreResult<Guarded<File>> {
    Guarded::open(|| open_in_dir(path, OpenOptions::new().create(true).truncate(false).write(true)))
        .map_err(|e| CoreError::store(path, e))
}

impl Store {
    /// A store at `root`. Nothing is created until something is written, so reading a store
    /// that does not exist (yet) finds nothing and leaves no directory behind.
    pub fn open(root: impl Into<PathBuf>) -> CoreResult<Store> {
        let root = root.into();
        if root.exists() && !root.is_dir() {
            return Err(CoreError::store(
                &root,
                std::io::Error::new(ErrorKind::AlreadyExists, "a file is in the way: a store is a directory"),
            ));
        }
        Ok(Store { root })
    }

    /// Whether anything was ever written to this store.
    pub fn exists(&self) -> bool {
        self.root.join("pipelines").is_dir()
    }

    /// The ARNs of the executions whose id starts with `id_prefix`, in every pipeline.
    pub fn executions_with_id(&self, id_prefix: &str) -> Vec<String> {
        let mut arns: Vec<String> = self
            .pipeline_names()
            .iter()
            .flat_map(|p| {
                self.execution_ids(p)
                    .into_iter()
                    .filter(|id| id.starts_with(id_prefix))
                    .map(move |id| util::execution_arn(p, &id))
            })
            .collect();
        arns.sort();
        arns
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn check_pipeline_name(name: &str) -> CoreResult<()> {
        if util::valid_pipeline_name(name) {
            Ok(())
        } else {
            Err(CoreError::Validation(format!(
                "pipeline name {:?} is not valid: expected 1 to 256 characters from [a-zA-Z0-9-], starting and ending \
                 with a letter or digit",
                name.chars().take(80).collect::<String>()
            )))
        }
    }

    pub fn pipeline_dir(&self, name: &str) -> PathBuf {
        self.root.join("pipelines").join(name)
    }

    pub fn execution_dir(&self, pipeline: &str, id: &str) -> PathBuf {
        self.pipeline_dir(pipeline).join("executions").join(id)
    }

    // ---- pipelines ----

    pub fn load_pipeline(&self, name: &str) -> CoreResult<PipelineRecord> {
        Self::check_pipeline_name(name)?;
        read_json(&self.pipeline_dir(name).join("pipeline.json"))?.ok_or_else(|| CoreError::NotFound {
            kind: "pipeline",
            name: name.to_string(),
            suggestion: super::error::suggest(name, self.pipeline_names().iter().map(String::as_str)),
        })
    }

    pub fn pipeline_names(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.root.join("pipelines"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("pipeline.json").is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    pub fn list_pipelines(&self) -> CoreResult<Vec<PipelineRecord>> {
        Ok(self.list_pipelines_checked()?.0)
    }

    /// Every readable pipeline record, and those that cannot be read (one bad record does not
    /// hide the others).
    pub fn list_pipelines_checked(&self) -> CoreResult<(Vec<PipelineRecord>, Vec<UnreadableRecord>)> {
        let (mut out, mut unreadable) = (Vec::new(), Vec::new());
        for name in self.pipeline_names() {
            match self.load_pipeline(&name) {
                Ok(r) => out.push(r),
                Err(CoreError::NotFound { .. }) => {} // deleted meanwhile
                Err(e) => unreadable.push(UnreadableRecord::from_error(e, None)?),
            }
        }
        Ok((out, unreadable))
    }

    /// The store-wide lock: held exclusively by a collection (gc) and by a pipeline's deletion,
    /// shared by a start while it creates its execution and by a cache hit while it records its
    /// reuse, so nothing starts from what is being deleted.
    fn store_lock_path(&self) -> PathBuf {
        self.root.join("store.lock")
    }

    pub fn lock_shared(&self) -> CoreResult<FileLock> {
        FileLock::acquire_shared(&self.store_lock_path())
    }

    pub fn lock_exclusive(&self) -> CoreResult<FileLock> {
        FileLock::acquire(&self.store_lock_path())
    }

    /// Write a pipeline's record and, when the definition changed, a new version of it; `mode`
    /// creates (fails if it exists), updates (fails if it does not) or upserts. The definition is
    /// not checked here: `engine::put_pipeline` validates it first and is how callers store one
    /// (the engine tests' fixtures call this directly).
    pub fn put_pipeline(
        &self,
        name: &str,
        definition: &str,
        mode: PutMode,
        fields: &Value,
    ) -> CoreResult<PipelineRecord> {
        Self::check_pipeline_name(name)?;
        if let Some(config) = fields.get("ParallelismConfiguration").filter(|v| !v.is_null()) {
            records::max_parallel_execution_steps(config)?;
        }
        let dir = self.pipeline_dir(name);
        let _lock = FileLock::acquire(&dir.join(".lock"))?;
        let existing: Option<PipelineRecord> = read_json(&dir.join("pipeline.json"))?;
        let t = util::now();
        let mut rec = match (existing, mode) {
            (Some(_), PutMode::Create) => {
                return Err(CoreError::Validation(format!("Pipeline names must be unique within an AWS account and region. Pipeline with name ({name}) already exists.")))
            }
            (None, PutMode::Update) => {
                return Err(CoreError::NotFound { kind: "pipeline", name: name.to_string(), suggestion: None })
            }
            (Some(r), _) => r,
            (None, _) => PipelineRecord::new(name, t),
        };
        let current = if rec.latest_version > 0 {
            self.definition_text(name, Some(rec.latest_version)).ok()
        } else {
            None
        };
        if current.as_deref() != Some(definition) {
            rec.latest_version += 1;
            write_atomic(
                &dir.join("versions").join(format!("{}.json", rec.latest_version)),
                definition.as_bytes(),
            )?;
        }
        rec.apply_fields(fields);
        rec.last_modified_time = t;
        write_json(&dir.join("pipeline.json"), &rec)?;
        Ok(rec)
    }

    pub fn definition_text(&self, name: &str, version: Option<u64>) -> CoreResult<String> {
        let rec = self.load_pipeline(name)?;
        let v = version.unwrap_or(rec.latest_version);
        let path = self.pipeline_dir(name).join("versions").join(format!("{v}.json"));
        let text = fs::read_to_string(&path).map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                CoreError::NotFound {
                    kind: "pipeline version",
                    name: format!("{name} version {v}"),
                    suggestion: None,
                }
            } else {
                CoreError::store(&path, e)
            }
        })?;
        check_json(&path, &text)?;
        Ok(text)
    }

    pub fn touch_pipeline_run(&self, name: &str, t: f64) -> CoreResult<()> {
        let dir = self.pipeline_dir(name);
        let _lock = FileLock::acquire(&dir.join(".lock"))?;
        if let Some(mut rec) = read_json::<PipelineRecord>(&dir.join("pipeline.json"))? {
            rec.last_run_time = Some(t);
            write_json(&dir.join("pipeline.json"), &rec)?;
        }
        Ok(())
    }

    /// The pipeline's versions, oldest first, with their creation times. A version file is
    /// written once (atomically) and never changed, so its modification time is its creation.
    pub fn pipeline_versions(&self, name: &str) -> CoreResult<Vec<(u64, f64)>> {
        let rec = self.load_pipeline(name)?;
        let dir = self.pipeline_dir(name).join("versions");
        let mut versions = Vec::new();
        for v in 1..=rec.latest_version {
            let path = dir.join(format!("{v}.json"));
            match fs::metadata(&path) {
                Ok(m) => {
                    let created = m
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map_or(rec.creation_time, |d| d.as_secs_f64());
                    versions.push((v, created));
                }
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(CoreError::store(&path, e)),
            }
        }
        Ok(versions)
    }

    /// The triggers (schedules) recorded for a pipeline, by trigger name.
    pub fn pipeline_triggers(&self, name: &str) -> CoreResult<serde_json::Map<String, Value>> {
        self.load_pipeline(name)?;
        Ok(read_json(&self.pipeline_dir(name).join("triggers.json"))?.unwrap_or_default())
    }

    /// Record the triggers `put` (objects with a `Name`, replacing one of the same name) and
    /// remove the triggers named in `delete`, under the pipeline's lock. Returns the names that
    /// were removed.
    pub fn update_pipeline_triggers(&self, name: &str, put: &[Value], delete: &[String]) -> CoreResult<Vec<String>> {
        self.load_pipeline(name)?;
        let dir = self.pipeline_dir(name);
        let _lock = FileLock::acquire(&dir.join(".lock"))?;
        let path = dir.join("triggers.json");
        let mut triggers: serde_json::Map<String, Value> = read_json(&path)?.unwrap_or_default();
        for trigger in put {
            let Some(trigger_name) = trigger.get("Name").and_then(Value::as_str) else {
                return Err(CoreError::Validation("a trigger record needs a Name".into()));
            };
            triggers.insert(trigger_name.to_string(), trigger.clone());
        }
        let removed = delete
            .iter()
            .filter(|n| triggers.remove(n.as_str()).is_some())
            .cloned()
            .collect();
        write_json(&path, &triggers)?;
        Ok(removed)
    }

    /// Delete a pipeline and everything it recorded. Refused while one of its executions runs
    /// (as the service refuses it), since its owner would go on writing the execution's records.
    /// An unreadable pipeline record does not prevent it: deleting is how it is repaired.
    pub fn delete_pipeline(&self, name: &str) -> CoreResult<PipelineRecord> {
        Self::check_pipeline_name(name)?;
        let _store = self.lock_exclusive()?; // no start is creating an execution meanwhile
        let rec = match self.load_pipeline(name) {
            Ok(rec) => rec,
            Err(CoreError::CorruptRecord { .. }) => PipelineRecord::new(name, 0.0),
            Err(e) => return Err(e),
        };
        let mut running = Vec::new();
        for id in self.execution_ids(name) {
            if self.execution_running(name, &id)? {
                running.push(util::execution_arn(name, &id));
            }
        }
        if !running.is_empty() {
            running.sort();
            return Err(CoreError::Conflict(format!(
                "pipeline '{name}' cannot be deleted while {} of its executions {} running ({}); stop {} \
                 (StopPipelineExecution) and delete the pipeline once {} ended",
                running.len(),
                if running.len() == 1 { "is" } else { "are" },
                running.join(", "),
                if running.len() == 1 { "it" } else { "them" },
                if running.len() == 1 { "it has" } else { "they have" },
            )));
        }
        self.remove_via_trash(&self.pipeline_dir(name))?;
        Ok(rec)
    }

    /// Whether an execution still runs: its record says so and its owner lives (holds its lock),
    /// or its record cannot be read while its lock is held. A dead owner's run does not (what
    /// it ended as is decided above the store: `engine::recovery`).
    fn execution_running(&self, pipeline: &str, id: &str) -> CoreResult<bool> {
        let owner_lives = || -> CoreResult<bool> {
            Ok(FileLock::try_acquire(&self.execution_dir(pipeline, id).join("lock"))?.is_none())
        };
        match self.read_execution_by_id(pipeline, id) {
            Ok(rec) if rec.pipeline_execution_status.is_terminal() => Ok(false),
            Ok(_) | Err(CoreError::CorruptRecord { .. }) => owner_lives(),
            Err(CoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    // ---- executions ----

    /// The ids of a pipeline's executions (those with a record).
    pub fn execution_ids(&self, pipeline: &str) -> Vec<String> {
        fs::read_dir(self.pipeline_dir(pipeline).join("executions"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("execution.json").is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect()
    }

    pub fn resolve_arn(&self, arn: &str) -> CoreResult<(String, String)> {
        let (name, id) = util::parse_execution_arn(arn).ok_or_else(|| {
            CoreError::Validation(format!(
                "'{arn}' is not a pipeline execution ARN: expected arn:aws:sagemaker:<region>:<account>:pipeline/<name>/execution/<id>"
            ))
        })?;
        if !util::valid_pipeline_name(&name) || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(CoreError::NotFound {
                kind: "pipeline execution",
                name: arn.to_string(),
                suggestion: None,
            });
        }
        Ok((name, id))
    }

    /// An execution record as its owner last wrote it: one that claims to be running may have
    /// lost its owner (`claim_abandoned`); readers settle that through `engine::recovery`.
    pub fn read_execution_by_id(&self, pipeline: &str, id: &str) -> CoreResult<ExecutionRecord> {
        read_json(&self.execution_dir(pipeline, id).join("execution.json"))?.ok_or_else(|| CoreError::NotFound {
            kind: "pipeline execution",
            name: util::execution_arn(pipeline, id),
            suggestion: None,
        })
    }

    /// The lock of an execution whose owner is gone (it is free), held for whoever settles
    /// what the owner left; None while the owner lives.
    pub fn claim_abandoned(&self, pipeline: &str, id: &str) -> CoreResult<Option<FileLock>> {
        FileLock::try_acquire(&self.execution_dir(pipeline, id).join("lock"))
    }

    /// Give back the space a running execution set aside (`RESERVE_DIR`), once no record of it
    /// needs it any more.
    pub fn release_reserve(&self, pipeline: &str, id: &str) {
        let _ = fs::remove_dir_all(self.execution_dir(pipeline, id).join(RESERVE_DIR));
    }

    /// Whether another process asked the owner of an execution to stop it (`write_stop_request`).
    pub fn stop_requested(&self, pipeline: &str, id: &str) -> bool {
        self.stop_request_path(pipeline, id).exists()
    }

    /// Replace an execution's record.
    pub fn write_execution(&self, rec: &ExecutionRecord) -> CoreResult<()> {
        write_json(
            &self
                .execution_dir(&rec.pipeline_name, &rec.execution_id)
                .join("execution.json"),
            rec,
        )
    }

    /// Replace one step's record of an execution.
    pub fn write_step(&self, pipeline: &str, id: &str, step: &StepRecord) -> CoreResult<()> {
        write_json(&step_path(&self.execution_dir(pipeline, id), &step.step_name), step)
    }

    /// A pipeline's readable execution records as written (see `read_execution_by_id`), newest
    /// first, and those that cannot be read (one bad record does not hide the others).
    pub fn list_execution_records(&self, pipeline: &str) -> CoreResult<(Vec<ExecutionRecord>, Vec<UnreadableRecord>)> {
        self.load_pipeline(pipeline)?;
        let (mut out, mut unreadable) = (Vec::new(), Vec::new());
        for id in self.execution_ids(pipeline) {
            match self.read_execution_by_id(pipeline, &id) {
                Ok(r) => out.push(r),
                Err(CoreError::NotFound { .. }) => {} // deleted meanwhile
                Err(e) => unreadable.push(UnreadableRecord::from_error(
                    e,
                    Some(util::execution_arn(pipeline, &id)),
                )?),
            }
        }
        out.sort_by(|a, b| {
            b.creation_time
                .total_cmp(&a.creation_time)
                .then_with(|| b.execution_id.cmp(&a.execution_id))
        });
        Ok((out, unreadable))
    }

    /// Every record of the store that cannot be read: pipeline, execution and step records
    /// (for gc, which must leave them and what they name in place, and say so).
    pub fn unreadable_records(&self) -> CoreResult<Vec<UnreadableRecord>> {
        let mut found = Vec::new();
        fn note(
            found: &mut Vec<UnreadableRecord>,
            result: CoreResult<()>,
            execution_arn: Option<String>,
        ) -> CoreResult<bool> {
            match result {
                Ok(()) => Ok(false),
                Err(e) => {
                    found.push(UnreadableRecord::from_error(e, execution_arn)?);
                    Ok(true)
                }
            }
        }
        for name in self.pipeline_names() {
            let dir = self.pipeline_dir(&name);
            let pipeline = read_json::<PipelineRecord>(&dir.join("pipeline.json")).map(|_| ());
            note(&mut found, pipeline, None)?;
            for id in self.execution_ids(&name) {
                let exec_dir = self.execution_dir(&name, &id);
                let arn = || Some(util::execution_arn(&name, &id));
                let execution = read_json::<ExecutionRecord>(&exec_dir.join("execution.json")).map(|_| ());
                if note(&mut found, execution, arn())? {
                    if let (Some(entry), Ok(steps)) = (found.last_mut(), self.load_steps_in(&exec_dir)) {
                        entry.step_records = steps;
                    }
                }
                for entry in fs::read_dir(exec_dir.join("steps")).into_iter().flatten().flatten() {
                    let file = entry.file_name().to_string_lossy().into_owned();
                    if !file.starts_with('.') && file.ends_with(".json") {
                        note(&mut found, read_json::<StepRecord>(&entry.path()).map(|_| ()), arn())?;
                    }
                }
            }
        }
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }

    fn load_steps_in(&self, dir: &Path) -> CoreResult<Vec<StepRecord>> {
        let mut steps = Vec::new();
        let entries = match fs::read_dir(dir.join("steps")) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(steps),
            Err(e) => return Err(CoreError::store(dir, e)),
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue; // temporary files of an interrupted write
            }
            if let Some(rec) = read_json::<StepRecord>(&entry.path())? {
                steps.push(rec);
            }
        }
        steps.sort_by_key(|s| s.seq);
        Ok(steps)
    }

    /// One step's record of an execution, if it has one, as written (a dead owner's run is not
    /// settled: callers want a finished, Succeeded record).
    pub fn load_step(&self, arn: &str, step: &str) -> CoreResult<Option<StepRecord>> {
        let (name, id) = self.resolve_arn(arn)?;
        read_json(&step_path(&self.execution_dir(&name, &id), step))
    }

    /// Step records of an execution as written, in the order the steps started.
    pub fn read_steps_by_id(&self, pipeline: &str, id: &str) -> CoreResult<Vec<StepRecord>> {
        self.load_steps_in(&self.execution_dir(pipeline, id))
    }

    pub fn execution_definition(&self, arn: &str) -> CoreResult<String> {
        let (name, id) = self.resolve_arn(arn)?;
        let path = self.execution_dir(&name, &id).join("definition.json");
        let text = fs::read_to_string(&path).map_err(|e| CoreError::store(&path, e))?;
        check_json(&path, &text)?;
        Ok(text)
    }

    pub fn log_path(&self, pipeline: &str, id: &str, step: &str) -> PathBuf {
        self.execution_dir(pipeline, id)
            .join("logs")
            .join(format!("{step}.log"))
    }

    // ---- artifacts ----

    /// The local file or directory behind a URI: `s3://bucket/key` lives under `<root>/s3/`,
    /// `file://` URIs and plain paths are used as they are. Keys may not climb out of the store.
    pub fn uri_to_path(&self, uri: &str) -> CoreResult<PathBuf> {
        if let Some(rest) = uri.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            let bad = || {
                CoreError::Validation(format!("'{uri}' is not a usable S3 URI: bucket and key may not contain '..', '.', or empty path parts that leave the bucket"))
            };
            if bucket.is_empty() || bucket.contains(['\\', '\0']) || bucket == "." || bucket == ".." {
                return Err(bad());
            }
            let mut path = self.root.join("s3").join(bucket);
            for part in key.split('/').filter(|p| !p.is_empty()) {
                if part == ".." || part == "." || part.contains('\0') {
                    return Err(bad());
                }
                path.push(part);
            }
            Ok(path)
        } else if let Some(rest) = uri.strip_prefix("file://") {
            Ok(PathBuf::from(rest))
        } else if uri.contains("://") {
            Err(CoreError::Validation(format!(
                "'{uri}': only s3://, file:// and local paths are supported locally"
            )))
        } else {
            Ok(PathBuf::from(uri))
        }
    }

    /// Remove a file or directory by moving it to the store's trash first, so no reader ever
    /// sees it half deleted. The rename is the deletion; emptying the trash is best effort.
    fn remove_via_trash(&self, path: &Path) -> CoreResult<()> {
        let trash_dir = self.root.join("trash");
        fs::create_dir_all(&trash_dir).map_err(|e| CoreError::store(&trash_dir, e))?;
        let trash = trash_dir.join(util::new_id());
        fs::rename(path, &trash).map_err(|e| CoreError::store(path, e))?;
        // What was moved, not what it may point to: a symlink is removed as a link.
        let _ = if fs::symlink_metadata(&trash).is_ok_and(|m| m.is_dir()) {
            fs::remove_dir_all(&trash)
        } else {
            fs::remove_file(&trash)
        };
        Ok(())
    }

    /// Delete an execution's records and logs. Refused while it runs. An unreadable record is
    /// deleted too once no process owns the execution: deleting is how it is repaired.
    pub fn delete_execution(&self, arn: &str) -> CoreResult<()> {
        // A dead owner's run is not running; a live owner writes the terminal record last,
        // so a terminal record means nothing more will be written, even if its lock is still
        // held for a moment.
        let (name, id) = self.resolve_arn(arn)?;
        if self.execution_running(&name, &id)? {
            return Err(CoreError::Validation(format!(
                "execution {arn} is still running; stop it before deleting it"
            )));
        }
        let dir = self.execution_dir(&name, &id);
        if !dir.join("execution.json").is_file() {
            return Err(CoreError::NotFound {
                kind: "pipeline execution",
                name: arn.to_string(),
                suggestion: None,
            });
        }
        self.remove_via_trash(&dir)
    }

    /// Empty the trash: what removals interrupted by a kill left there (a removal's own entry
    /// may vanish meanwhile; errors are ignored, the next sweep tries again).
    pub fn sweep_trash(&self) {
        for entry in fs::read_dir(self.root.join("trash")).into_iter().flatten().flatten() {
            let path = entry.path();
            // Not following a symlink: only the link itself is removed.
            let _ = match fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => fs::remove_dir_all(&path),
                _ => fs::remove_file(&path),
            };
        }
    }

    /// Delete an artifact (a file or directory under the store's `s3/` area). Absent: no-op.
    pub fn delete_artifact(&self, uri: &str) -> CoreResult<()> {
        let path = self.uri_to_path(uri)?;
        if !self.in_artifacts(&path) || path == self.root.join("s3") {
            return Err(CoreError::Validation(format!(
                "'{uri}' is not an artifact in this store; only s3:// artifacts under the store can be deleted"
            )));
        }
        // Never through a symlink inside the artifact area: that would delete what it points to
        // (a symlink that is the artifact itself is removed as a link).
        self.check_artifact_path(path.parent().unwrap_or(&path))
            .map_err(|e| CoreError::Validation(format!("'{uri}' is not deleted: {e}")))?;
        if fs::symlink_metadata(&path).is_err() {
            return Ok(());
        }
        self.remove_via_trash(&path)
    }

    /// Where another process asks the owner of an execution to stop it.
    pub fn stop_request_path(&self, pipeline: &str, id: &str) -> PathBuf {
        self.execution_dir(pipeline, id).join(STOP_REQUEST_FILE)
    }

    /// Ask whichever process runs an execution to stop it; its scheduler notices within a
    /// fraction of a second (see `engine::request_stop`).
    pub fn write_stop_request(&self, pipeline: &str, id: &str) -> CoreResult<()> {
        write_atomic(
            &self.stop_request_path(pipeline, id),
            std::process::id().to_string().as_bytes(),
        )
    }

    /// Whether `path` is inside the store's artifact area (used to keep writes contained).
    pub fn in_artifacts(&self, path: &Path) -> bool {
        path.starts_with(self.artifacts_root()) && !path.components().any(|c| matches!(c, Component::ParentDir))
    }

    /// Where `s3://` artifacts live.
    pub fn artifacts_root(&self) -> PathBuf {
        self.root.join("s3")
    }

    /// Check that `path`, when inside the artifact area, is reached through real directories
    /// only: no symlink (the last component included) and no file where a directory must be.
    /// Paths outside the artifact area (`file://`, local paths) are the user's and not checked.
    pub fn check_artifact_path(&self, path: &Path) -> std::io::Result<()> {
        files::check_path_below(&self.artifacts_root(), "s3://", path)
    }

    /// Where a reader finds `uri`, and whether symlinks may be followed there: inside the
    /// artifact area never (the path is checked to pass none), in the user's own files
    /// (`file://`, local paths) yes.
    pub fn read_path(&self, uri: &str) -> Result<(PathBuf, bool), String> {
        let path = self.uri_to_path(uri).map_err(|e| e.to_string())?;
        if !self.in_artifacts(&path) {
            return Ok((path, true));
        }
        self.check_artifact_path(&path).map_err(|e| e.to_string())?;
        Ok((path, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_and_reads() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("a/b.json");
        write_json(&p, &serde_json::json!({"x": 1})).expect("write");
        let v: Option<Value> = read_json(&p).expect("read");
        assert_eq!(v, Some(serde_json::json!({"x": 1})));
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("a")).expect("dir").flatten().collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[test]
    fn s3_uris_cannot_escape() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        assert_eq!(
            store.uri_to_path("s3://b/k/x.csv").expect("ok"),
            dir.path().join("s3/b/k/x.csv")
        );
        assert!(store.uri_to_path("s3://b/../../etc").is_err());
        assert!(store.uri_to_path("s3://../x").is_err());
        assert!(store.uri_to_path("http://x").is_err());
    }

    #[test]
    fn locks_exclude_each_other_in_one_process() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("lock");
        let held = FileLock::try_acquire(&p).expect("io").expect("free");
        assert!(FileLock::try_acquire(&p).expect("io").is_none());
        drop(held);
        assert!(FileLock::try_acquire(&p).expect("io").is_some());
    }

    #[test]
    fn triggers_are_upserted_and_removed_by_name_and_versions_listed() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        assert!(store.update_pipeline_triggers("p", &[], &[]).is_err()); // no such pipeline
        store
            .put_pipeline("p", "{}", PutMode::Create, &serde_json::json!({}))
            .expect("create");
        store
            .put_pipeline("p", "{\"v\": 2}", PutMode::Update, &serde_json::json!({}))
            .expect("update");
        let versions = store.pipeline_versions("p").expect("versions");
        assert_eq!(versions.iter().map(|v| v.0).collect::<Vec<_>>(), vec![1, 2]);
        assert!(versions[0].1 <= versions[1].1);

        let a = serde_json::json!({"Name": "a", "ScheduleExpression": "rate(1 hour)"});
        let b = serde_json::json!({"Name": "b"});
        store.update_pipeline_triggers("p", &[a, b], &[]).expect("put");
        let a2 = serde_json::json!({"Name": "a", "ScheduleExpression": "rate(2 hours)"});
        let removed = store
            .update_pipeline_triggers("p", std::slice::from_ref(&a2), &["b".into(), "missing".into()])
            .expect("update");
        assert_eq!(removed, vec!["b".to_string()]);
        let triggers = store.pipeline_triggers("p").expect("read");
        assert_eq!(triggers.len(), 1);
        assert_eq!(triggers["a"], a2);
        let nameless = serde_json::json!({"ScheduleExpression": "x"});
        assert!(store.update_pipeline_triggers("p", &[nameless], &[]).is_err());
    }

    /// A pipeline `p` with one execution record of `status`; returns the execution's directory.
    fn pipeline_with_execution(store: &Store, id: &str, status: ExecutionStatus) -> PathBuf {
        store
            .put_pipeline("p", "{}", PutMode::Create, &serde_json::json!({}))
            .or_else(|_| store.load_pipeline("p"))
            .expect("pipeline");
        let dir = store.execution_dir("p", id);
        let rec = ExecutionRecord {
            pipeline_name: "p".into(),
            pipeline_execution_arn: util::execution_arn("p", id),
            execution_id: id.into(),
            pipeline_execution_status: status,
            ..Default::default()
        };
        write_json(&dir.join("execution.json"), &rec).expect("record");
        dir
    }

    #[test]
    fn deleting_a_pipeline_with_a_running_execution_is_a_conflict() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        let running = pipeline_with_execution(&store, "aaaaaaaaaaaa", ExecutionStatus::Executing);
        pipeline_with_execution(&store, "bbbbbbbbbbbb", ExecutionStatus::Succeeded);
        let owner = FileLock::acquire(&running.join("lock")).expect("owner lives");
        let err = store.delete_pipeline("p").expect_err("refused");
        assert!(matches!(err, CoreError::Conflict(_)), "{err}");
        assert!(err.to_string().contains("execution/aaaaaaaaaaaa"), "{err}");
        assert!(store.load_pipeline("p").is_ok(), "nothing was deleted");
        drop(owner); // the owner died: its execution no longer runs, and the pipeline can go
        store.delete_pipeline("p").expect("deleted");
        assert!(!store.pipeline_dir("p").exists());
    }

    #[test]
    fn an_unreadable_record_is_listed_apart_and_removable() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        let broken = pipeline_with_execution(&store, "aaaaaaaaaaaa", ExecutionStatus::Succeeded);
        pipeline_with_execution(&store, "bbbbbbbbbbbb", ExecutionStatus::Succeeded);
        fs::write(broken.join("execution.json"), b"{\"PipelineName\": \"p").expect("truncate");
        let (listed, unreadable) = store.list_execution_records("p").expect("listing still works");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].execution_id, "bbbbbbbbbbbb");
        assert_eq!(unreadable.len(), 1);
        assert_eq!(unreadable[0].path, broken.join("execution.json"));
        assert!(unreadable[0].warning().contains("execution.json"));
        assert_eq!(store.unreadable_records().expect("scan").len(), 1);
        store
            .delete_execution(&util::execution_arn("p", "aaaaaaaaaaaa"))
            .expect("an unreadable record can be deleted");
        assert!(!broken.exists());
        assert!(store.unreadable_records().expect("scan").is_empty());

        fs::write(store.pipeline_dir("p").join("pipeline.json"), b"{").expect("truncate");
        let (pipelines, unreadable) = store.list_pipelines_checked().expect("listing still works");
        assert!(pipelines.is_empty() && unreadable.len() == 1);
        store
            .delete_pipeline("p")
            .expect("an unreadable pipeline can be deleted");
        assert!(!store.pipeline_dir("p").exists());
    }

    #[test]
    fn a_truncated_definition_is_a_corrupt_record() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        store
            .put_pipeline("p", "{\"Steps\": []}", PutMode::Create, &serde_json::json!({}))
            .expect("create");
        fs::write(store.pipeline_dir("p").join("versions/1.json"), b"{\"Steps\": [").expect("truncate");
        assert!(matches!(
            store.definition_text("p", None),
            Err(CoreError::CorruptRecord { .. })
        ));
    }

    #[test]
    fn parallelism_configuration_is_checked_before_anything_is_stored() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        for bad in [
            serde_json::json!("x"),
            serde_json::json!({"MaxParallelExecutionSteps": -5}),
            serde_json::json!({"MaxParallelExecutionSteps": 0}),
            serde_json::json!({}),
        ] {
            let fields = serde_json::json!({ "ParallelismConfiguration": bad });
            let err = store
                .put_pipeline("p", "{}", PutMode::Upsert, &fields)
                .expect_err("refused");
            assert!(err.to_string().contains("MaxParallelExecutionSteps"), "{err}");
        }
        assert!(matches!(store.load_pipeline("p"), Err(CoreError::NotFound { .. })));
        let good = serde_json::json!({"ParallelismConfiguration": {"MaxParallelExecutionSteps": 3}});
        let rec = store.put_pipeline("p", "{}", PutMode::Upsert, &good).expect("stored");
        assert_eq!(
            rec.parallelism_configuration,
            Some(serde_json::json!({"MaxParallelExecutionSteps": 3}))
        );
    }

    #[test]
    fn the_store_lock_is_shared_by_starts_and_exclusive_for_gc() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        let first = store.lock_shared().expect("shared");
        let second = store.lock_shared().expect("shared twice");
        let path = store.store_lock_path();
        assert!(
            FileLock::try_acquire(&path).expect("io").is_none(),
            "exclusive waits for shared holders"
        );
        drop((first, second));
        let exclusive = store.lock_exclusive().expect("exclusive");
        let file = File::open(&path).expect("open");
        assert!(matches!(file.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock)));
        drop(exclusive);
        assert!(file.try_lock_shared().is_ok());
    }

    #[test]
    fn sweeping_the_trash_removes_what_a_killed_removal_left() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        let outside = dir.path().join("outside");
        fs::create_dir_all(&outside).expect("dir");
        fs::write(outside.join("keep.txt"), b"mine").expect("file");
        let left = dir.path().join("trash/abc/deep");
        fs::create_dir_all(&left).expect("dir");
        fs::write(left.join("x"), b"x").expect("file");
        std::os::unix::fs::symlink(&outside, dir.path().join("trash/link")).expect("symlink");
        store.sweep_trash();
        assert_eq!(fs::read_dir(dir.path().join("trash")).expect("trash").count(), 0);
        assert_eq!(fs::read(outside.join("keep.txt")).expect("untouched"), b"mine");
    }

    #[test]
    fn pipelines_version_on_change_only() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        let f = serde_json::json!({});
        assert_eq!(
            store
                .put_pipeline("p", "{}", PutMode::Create, &f)
                .expect("create")
                .latest_version,
            1
        );
        assert!(store.put_pipeline("p", "{}", PutMode::Create, &f).is_err());
        assert_eq!(
            store
                .put_pipeline("p", "{}", PutMode::Upsert, &f)
                .expect("same")
                .latest_version,
            1
        );
        assert_eq!(
            store
                .put_pipeline("p", "{\"a\":1}", PutMode::Update, &f)
                .expect("new")
                .latest_version,
            2
        );
        assert!(matches!(store.load_pipeline("q"), Err(CoreError::NotFound { .. })));
        assert!(store.put_pipeline("../x", "{}", PutMode::Create, &f).is_err());
    }

    #[test]
    fn opening_and_reading_create_nothing() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = dir.path().join("store");
        let store = Store::open(&root).expect("open");
        assert!(!store.exists());
        assert!(store.list_pipelines().expect("list").is_empty());
        assert!(store.executions_with_id("abcd").is_empty());
        assert!(matches!(
            store.read_execution_by_id("p", "abcdefabcdef"),
            Err(CoreError::NotFound { .. })
        ));
        assert!(matches!(
            store.list_execution_records("p"),
            Err(CoreError::NotFound { .. })
        ));
        assert!(!root.exists(), "a read created the store");
        store
            .put_pipeline("p", "{}", PutMode::Create, &serde_json::json!({}))
            .expect("create");
        assert!(store.exists());
        fs::write(dir.path().join("file"), "x").expect("write");
        assert!(Store::open(dir.path().join("file")).is_err());
    }
}
