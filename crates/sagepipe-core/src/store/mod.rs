//! The embedded store: a directory holding pipelines, their definition versions, executions,
//! step records, logs and artifacts (`s3://bucket/key` mapped to files).
//!
//! Records (pipelines, definition versions, executions, step records, triggers, the cache index
//! and the model registry) are rows of one SQLite database (`db`), each keyed by the logical path
//! it had as a file; one transaction per state change. Artifacts, logs, function payloads and
//! lock files stay files, but for small step outputs, kept inline in the database (`objects`).
//! Multi-process safety comes from ownership: an execution's records are
//! written only by the process that holds its `lock` file (an `flock`, released by the kernel
//! when that process dies), so a reader that can take the lock knows the owner is gone.

mod db;
pub mod files;
pub mod fingerprint;
mod logs;
mod migrate;
mod objects;
mod records;
mod registry;

pub use logs::{cap_log, logical_len, physical_offset, LogCap, STEP_LOG_CAP};
pub use migrate::Migration;
pub use objects::{InlineObject, Located, INLINE_LIMIT};
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

/// The key of an execution's definition row that stands for "the text of its pipeline version":
/// an execution almost always runs the version it names, which then is not copied (versions are
/// never rewritten, and deleted only with the pipeline and its executions).
const SAME_AS_VERSION: &str = "SagepipeSameAsVersion";

fn same_as_version(version: u64) -> Vec<u8> {
    format!("{{\"{SAME_AS_VERSION}\": {version}}}").into_bytes()
}

/// The version an execution's definition row refers to, if it is such a reference.
fn version_referred(bytes: &[u8]) -> Option<u64> {
    if bytes.len() >= 64 {
        return None; // a definition
    }
    let reference: std::collections::HashMap<String, u64> = serde_json::from_slice(bytes).ok()?;
    match reference.into_iter().collect::<Vec<_>>().as_slice() {
        [(key, version)] if key == SAME_AS_VERSION => Some(*version),
        _ => None,
    }
}

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
    db: std::sync::Arc<db::Handle>,
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
/// disk its failure can still be recorded: when a failure record does not fit, the reserve is
/// given back to the file system and the write tried once more (`Store::write_reserved`).
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

/// Read a JSON file; `Ok(None)` if it does not exist.
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

/// Set a pipeline record's last run time (within the caller's transaction).
fn touch_run(conn: &rusqlite::Connection, path: &str, t: f64) -> rusqlite::Result<()> {
    let Some(bytes) = db::get(conn, path)? else {
        return Ok(());
    };
    let Ok(mut rec) = serde_json::from_slice::<PipelineRecord>(&bytes) else {
        return Ok(()); // an unreadable record is reported by its readers, not rewritten
    };
    rec.last_run_time = Some(t);
    let bytes = serde_json::to_vec(&rec).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    db::put(conn, path, &bytes, util::now(), None)
}

fn open_lock_file(path: &Path) -> CoreResult<Guarded<File>> {
    Guarded::open(|| open_in_dir(path, OpenOptions::new().create(true).truncate(false).write(true)))
        .map_err(|e| CoreError::store(path, e))
}

/// Where records live: logical paths, '/'-separated and relative to the store root, as the
/// records were laid out as files (format 1) and as `UnreadableRecord.path` still shows them.
mod logical {
    pub fn pipeline(name: &str) -> String {
        format!("pipelines/{name}/pipeline.json")
    }
    pub fn pipeline_dir(name: &str) -> String {
        format!("pipelines/{name}/")
    }
    pub fn version(name: &str, v: u64) -> String {
        format!("pipelines/{name}/versions/{v}.json")
    }
    pub fn triggers(name: &str) -> String {
        format!("pipelines/{name}/triggers.json")
    }
    pub fn execution_dir(pipeline: &str, id: &str) -> String {
        format!("pipelines/{pipeline}/executions/{id}/")
    }
    pub fn execution(pipeline: &str, id: &str) -> String {
        format!("pipelines/{pipeline}/executions/{id}/execution.json")
    }
    pub fn definition(pipeline: &str, id: &str) -> String {
        format!("pipelines/{pipeline}/executions/{id}/definition.json")
    }
    pub fn steps(pipeline: &str, id: &str) -> String {
        format!("pipelines/{pipeline}/executions/{id}/steps/")
    }
    pub fn step(pipeline: &str, id: &str, step: &str) -> String {
        format!("pipelines/{pipeline}/executions/{id}/steps/{step}.json")
    }
    pub fn stop_request(pipeline: &str, id: &str) -> String {
        format!("pipelines/{pipeline}/executions/{id}/{}", super::STOP_REQUEST_FILE)
    }
    pub fn cache(pipeline: &str) -> String {
        format!("cache/{pipeline}/")
    }
}

/// How many executions `Store::delete_executions` deletes per transaction.
const DELETE_CHUNK: usize = 256;

/// An execution as `Store::stored_executions` reads it.
pub struct StoredExecution<T> {
    pub id: String,
    pub created_us: Option<i64>,
    /// Its record, or why it cannot be read.
    pub record: CoreResult<ExecutionRecord>,
    /// What was made of each of its step records (by path), or why one cannot be read.
    pub steps: Vec<CoreResult<T>>,
}

/// One page of a pipeline's executions (`Store::execution_page`).
#[derive(Debug, Clone, Default)]
pub struct ExecutionPage {
    pub records: Vec<ExecutionRecord>,
    pub unreadable: Vec<UnreadableRecord>,
    /// Where the next page starts (created_us, execution id) when there may be one.
    pub next: Option<(i64, String)>,
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
        Ok(Store {
            root,
            db: Default::default(),
        })
    }

    /// Whether anything was ever written to this store.
    pub fn exists(&self) -> bool {
        self.root.join(db::DB_FILE).is_file() || migrate::is_format1(&self.root)
    }

    // ---- records ----

    /// The database, if the store has one (a format-1 store is migrated first).
    fn db_for_read(&self) -> CoreResult<Option<std::sync::Arc<db::Db>>> {
        if let Some(db) = self.db.get(&self.root, false)? {
            return Ok(Some(db));
        }
        if migrate::is_format1(&self.root) {
            migrate::migrate(self)?;
            return self.db.get(&self.root, false);
        }
        Ok(None)
    }

    /// The database, created if missing (a format-1 store is migrated first).
    fn db_for_write(&self) -> CoreResult<std::sync::Arc<db::Db>> {
        if let Some(db) = self.db_for_read()? {
            return Ok(db);
        }
        self.db
            .get(&self.root, true)?
            .ok_or_else(|| CoreError::store(self.root.join(db::DB_FILE), std::io::Error::other("not created")))
    }

    /// Where a record is shown (in messages and unreadable-record reports).
    fn shown(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }

    /// Run `f` on the database for reading; `absent` if the store has none yet.
    fn reading<T>(
        &self,
        path: &str,
        absent: T,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> CoreResult<T> {
        match self.db_for_read()? {
            Some(db) => f(&db.conn()).map_err(|e| db::sql_error(&self.shown(path), e)),
            None => Ok(absent),
        }
    }

    /// Run `f`, a bulk deletion of many transactions, with one WAL checkpoint at its end
    /// (`db::with_one_checkpoint`). Without a database there is nothing to delete: `f` runs
    /// as it is.
    fn bulk_deleting<T>(&self, f: impl FnOnce() -> CoreResult<T>) -> CoreResult<T> {
        match self.db_for_read()? {
            Some(db) => db::with_one_checkpoint(&db, f).map_err(|e| db::sql_error(&self.root.join(db::DB_FILE), e))?,
            None => f(),
        }
    }

    /// Run `f` in one write transaction (`path` names what is written, for errors).
    fn writing<T>(&self, path: &str, f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>) -> CoreResult<T> {
        let db = self.db_for_write()?;
        let conn = db.conn();
        db::write(&conn, f).map_err(|e| db::sql_error(&self.shown(path), e))
    }

    /// The bytes of the record at `path`.
    fn record_bytes(&self, path: &str) -> CoreResult<Option<Vec<u8>>> {
        self.reading(path, None, |c| db::get(c, path))
    }

    fn decode<T: DeserializeOwned>(&self, path: &str, bytes: &[u8]) -> CoreResult<T> {
        serde_json::from_slice(bytes).map_err(|e| CoreError::CorruptRecord {
            path: self.shown(path),
            msg: e.to_string(),
        })
    }

    /// Read the JSON record at `path`; `Ok(None)` if there is none.
    fn read_record<T: DeserializeOwned>(&self, path: &str) -> CoreResult<Option<T>> {
        match self.record_bytes(path)? {
            Some(bytes) => self.decode(path, &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn encode<T: Serialize>(&self, path: &str, value: &T) -> CoreResult<Vec<u8>> {
        serde_json::to_vec(value).map_err(|e| CoreError::CorruptRecord {
            path: self.shown(path),
            msg: e.to_string(),
        })
    }

    /// Write (replace) the JSON record at `path`.
    fn write_record<T: Serialize>(&self, path: &str, value: &T) -> CoreResult<()> {
        let bytes = self.encode(path, value)?;
        self.writing(path, |c| db::put(c, path, &bytes, util::now(), None))
    }

    /// `write` (one transaction), and if it fails for a full disk, the space the execution
    /// set aside (`RESERVE_DIR` under `execution_dir`) given back and the write tried once more.
    fn write_reserved(
        &self,
        path: &str,
        reserve: &Path,
        write: impl Fn(&rusqlite::Connection) -> rusqlite::Result<()>,
    ) -> CoreResult<()> {
        match self.writing(path, &write) {
            Err(e) if db::is_disk_full(&e) && reserve.exists() => {
                let _ = fs::remove_dir_all(reserve);
                self.writing(path, &write).map_err(|_| e)
            }
            other => other,
        }
    }

    /// The record behind a `CorruptRecord` error (other errors are passed on).
    pub fn unreadable(&self, error: CoreError, execution_arn: Option<String>) -> CoreResult<UnreadableRecord> {
        match error {
            CoreError::CorruptRecord { path, msg } => {
                let bytes = match path.strip_prefix(&self.root).ok().and_then(|p| p.to_str()) {
                    Some(logical) => self.record_bytes(logical).ok().flatten(),
                    None => None,
                };
                Ok(UnreadableRecord {
                    text: String::from_utf8_lossy(&bytes.unwrap_or_default()).into_owned(),
                    path,
                    reason: msg,
                    pipeline_execution_arn: execution_arn,
                    step_records: Vec::new(),
                })
            }
            other => Err(other),
        }
    }

    /// The ARNs of the executions whose id starts with `id_prefix`, in every pipeline.
    pub fn executions_with_id(&self, id_prefix: &str) -> Vec<String> {
        let found = self
            .reading("", Vec::new(), |c| db::executions_with_id(c, id_prefix))
            .unwrap_or_default();
        let mut arns: Vec<String> = found.into_iter().map(|(p, id)| util::execution_arn(&p, &id)).collect();
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

    /// The directory of a pipeline's files (its executions' locks and logs).
    pub fn pipeline_dir(&self, name: &str) -> PathBuf {
        self.root.join("pipelines").join(name)
    }

    /// The directory of an execution's files: its owner's `lock`, the space it set aside, logs.
    pub fn execution_dir(&self, pipeline: &str, id: &str) -> PathBuf {
        self.pipeline_dir(pipeline).join("executions").join(id)
    }

    // ---- pipelines ----

    pub fn load_pipeline(&self, name: &str) -> CoreResult<PipelineRecord> {
        Self::check_pipeline_name(name)?;
        self.read_record(&logical::pipeline(name))?
            .ok_or_else(|| CoreError::NotFound {
                kind: "pipeline",
                name: name.to_string(),
                suggestion: super::error::suggest(name, self.pipeline_names().iter().map(String::as_str)),
            })
    }

    pub fn pipeline_names(&self) -> Vec<String> {
        self.stored_pipeline_names().unwrap_or_default()
    }

    /// `pipeline_names`, failing if the store cannot be read (or migrated).
    fn stored_pipeline_names(&self) -> CoreResult<Vec<String>> {
        self.reading("pipelines", Vec::new(), db::pipeline_names)
    }

    pub fn list_pipelines(&self) -> CoreResult<Vec<PipelineRecord>> {
        Ok(self.list_pipelines_checked()?.0)
    }

    /// Every readable pipeline record, and those that cannot be read (one bad record does not
    /// hide the others).
    pub fn list_pipelines_checked(&self) -> CoreResult<(Vec<PipelineRecord>, Vec<UnreadableRecord>)> {
        let (mut out, mut unreadable) = (Vec::new(), Vec::new());
        for name in self.stored_pipeline_names()? {
            match self.load_pipeline(&name) {
                Ok(r) => out.push(r),
                Err(CoreError::NotFound { .. }) => {} // deleted meanwhile
                Err(e) => unreadable.push(self.unreadable(e, None)?),
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
    /// (the engine tests' fixtures call this directly). One transaction.
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
        let path = logical::pipeline(name);
        let db = self.db_for_write()?;
        let conn = db.conn();
        let tx = rusqlite::Transaction::new_unchecked(&conn, rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| db::sql_error(&self.shown(&path), e))?;
        let sql = |e| db::sql_error(&self.shown(&path), e);
        let existing: Option<PipelineRecord> = match db::get(&tx, &path).map_err(sql)? {
            Some(bytes) => Some(self.decode(&path, &bytes)?),
            None => None,
        };
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
        // The latest version's bytes, compared as they are (no parse).
        let current = if rec.latest_version > 0 {
            db::get(&tx, &logical::version(name, rec.latest_version)).map_err(sql)?
        } else {
            None
        };
        if current.as_deref() != Some(definition.as_bytes()) {
            rec.latest_version += 1;
            db::put(
                &tx,
                &logical::version(name, rec.latest_version),
                definition.as_bytes(),
                t,
                None,
            )
            .map_err(sql)?;
        }
        rec.apply_fields(fields);
        rec.last_modified_time = t;
        let bytes = self.encode(&path, &rec)?;
        db::put(&tx, &path, &bytes, t, None).map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(rec)
    }

    pub fn definition_text(&self, name: &str, version: Option<u64>) -> CoreResult<String> {
        let rec = self.load_pipeline(name)?;
        let v = version.unwrap_or(rec.latest_version);
        let path = logical::version(name, v);
        let bytes = self.record_bytes(&path)?.ok_or_else(|| CoreError::NotFound {
            kind: "pipeline version",
            name: format!("{name} version {v}"),
            suggestion: None,
        })?;
        self.json_text(&path, bytes)
    }

    /// A record's bytes as JSON text (`CorruptRecord` if they are not).
    fn json_text(&self, path: &str, bytes: Vec<u8>) -> CoreResult<String> {
        let text = String::from_utf8(bytes).map_err(|e| CoreError::CorruptRecord {
            path: self.shown(path),
            msg: e.to_string(),
        })?;
        check_json(&self.shown(path), &text)?;
        Ok(text)
    }

    /// The pipeline's versions, oldest first, with their creation times (when each was written).
    pub fn pipeline_versions(&self, name: &str) -> CoreResult<Vec<(u64, f64)>> {
        let rec = self.load_pipeline(name)?;
        let prefix = format!("pipelines/{name}/versions/");
        self.reading(&prefix.clone(), Vec::new(), |c| {
            let mut versions = Vec::new();
            for v in 1..=rec.latest_version {
                if let Some(written) = db::written(c, &logical::version(name, v))? {
                    versions.push((v, written));
                }
            }
            Ok(versions)
        })
    }

    /// The triggers (schedules) recorded for a pipeline, by trigger name.
    pub fn pipeline_triggers(&self, name: &str) -> CoreResult<serde_json::Map<String, Value>> {
        self.load_pipeline(name)?;
        Ok(self.read_record(&logical::triggers(name))?.unwrap_or_default())
    }

    /// Record the triggers `put` (objects with a `Name`, replacing one of the same name) and
    /// remove the triggers named in `delete`, in one transaction. Returns the names that were
    /// removed.
    pub fn update_pipeline_triggers(&self, name: &str, put: &[Value], delete: &[String]) -> CoreResult<Vec<String>> {
        self.load_pipeline(name)?;
        for trigger in put {
            if trigger.get("Name").and_then(Value::as_str).is_none() {
                return Err(CoreError::Validation("a trigger record needs a Name".into()));
            }
        }
        let path = logical::triggers(name);
        let db = self.db_for_write()?;
        let conn = db.conn();
        let sql = |e| db::sql_error(&self.shown(&path), e);
        let tx = rusqlite::Transaction::new_unchecked(&conn, rusqlite::TransactionBehavior::Immediate).map_err(sql)?;
        let mut triggers: serde_json::Map<String, Value> = match db::get(&tx, &path).map_err(sql)? {
            Some(bytes) => self.decode(&path, &bytes)?,
            None => Default::default(),
        };
        for trigger in put {
            if let Some(trigger_name) = trigger.get("Name").and_then(Value::as_str) {
                triggers.insert(trigger_name.to_string(), trigger.clone());
            }
        }
        let removed = delete
            .iter()
            .filter(|n| triggers.remove(n.as_str()).is_some())
            .cloned()
            .collect();
        let bytes = self.encode(&path, &triggers)?;
        db::put(&tx, &path, &bytes, util::now(), None).map_err(sql)?;
        tx.commit().map_err(sql)?;
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
        let prefix = logical::pipeline_dir(name);
        self.writing(&prefix, |c| db::delete_under(c, &prefix).map(|_| ()))?;
        let dir = self.pipeline_dir(name);
        if fs::symlink_metadata(&dir).is_ok() {
            self.remove_via_trash(&dir)?;
        }
        Ok(rec)
    }

    /// Whether an execution still runs: its record says so and its owner lives (holds its lock),
    /// or its record cannot be read while its lock is held. A dead owner's run does not (what
    /// it ended as is decided above the store: `engine::recovery`).
    fn execution_running(&self, pipeline: &str, id: &str) -> CoreResult<bool> {
        let owner_lives = || -> CoreResult<bool> {
            Ok(FileLock::try_acquire(&self.execution_dir(pipeline, id).join("lock"))?.is_none())
        };
        // The status column, not the decoded record: gc asks this of thousands of executions.
        let path = logical::execution(pipeline, id);
        match self.reading(&path, None, |c| db::execution_status(c, &path))? {
            None => Ok(false),
            Some(Some(status))
                if ExecutionStatus::ALL
                    .iter()
                    .any(|s| s.is_terminal() && s.as_str() == status) =>
            {
                Ok(false)
            }
            Some(_) => owner_lives(),
        }
    }

    // ---- executions ----

    /// The ids of a pipeline's executions (those with a record), newest first.
    pub fn execution_ids(&self, pipeline: &str) -> Vec<String> {
        self.reading("pipelines", Vec::new(), |c| db::execution_ids(c, pipeline))
            .unwrap_or_default()
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
        self.read_record(&logical::execution(pipeline, id))?
            .ok_or_else(|| CoreError::NotFound {
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
        self.record_bytes(&logical::stop_request(pipeline, id))
            .is_ok_and(|b| b.is_some())
    }

    /// Record a new execution in one transaction: its record, the definition it runs, and the
    /// pipeline's last run time. A start that cannot write it all (a full disk) leaves nothing.
    pub fn write_start(&self, rec: &ExecutionRecord, definition: &str) -> CoreResult<()> {
        let (p, id) = (&rec.pipeline_name, &rec.execution_id);
        let path = logical::execution(p, id);
        let bytes = self.encode(&path, rec)?;
        let t = util::now();
        self.writing(&path, |c| {
            let version = rec.pipeline_version_id;
            let copy = if db::body_equals(c, &logical::version(p, version), definition.as_bytes())? {
                same_as_version(version)
            } else {
                definition.as_bytes().to_vec()
            };
            db::put(c, &logical::definition(p, id), &copy, t, None)?;
            db::put(c, &path, &bytes, t, None)?;
            touch_run(c, &logical::pipeline(p), rec.creation_time)
        })
    }

    /// Replace an execution's record.
    pub fn write_execution(&self, rec: &ExecutionRecord) -> CoreResult<()> {
        self.write_record(&logical::execution(&rec.pipeline_name, &rec.execution_id), rec)
    }

    /// Replace an execution's record, on a full disk giving back the space it set aside to do so
    /// (for the record of its failure).
    pub fn write_execution_reserved(&self, rec: &ExecutionRecord) -> CoreResult<()> {
        let path = logical::execution(&rec.pipeline_name, &rec.execution_id);
        let bytes = self.encode(&path, rec)?;
        let reserve = self
            .execution_dir(&rec.pipeline_name, &rec.execution_id)
            .join(RESERVE_DIR);
        self.write_reserved(&path, &reserve, |c| db::put(c, &path, &bytes, util::now(), None))
    }

    /// Replace one step's record of an execution.
    pub fn write_step(&self, pipeline: &str, id: &str, step: &StepRecord) -> CoreResult<()> {
        self.write_record(&logical::step(pipeline, id, &step.step_name), step)
    }

    /// Replace one step's record, on a full disk giving back the space the execution set aside.
    pub fn write_step_reserved(&self, pipeline: &str, id: &str, step: &StepRecord) -> CoreResult<()> {
        let path = logical::step(pipeline, id, &step.step_name);
        let bytes = self.encode(&path, step)?;
        let reserve = self.execution_dir(pipeline, id).join(RESERVE_DIR);
        self.write_reserved(&path, &reserve, |c| db::put(c, &path, &bytes, util::now(), None))
    }

    /// Settle an execution in one transaction: its step records `steps` and then its record.
    pub fn write_settlement(&self, rec: &ExecutionRecord, steps: &[StepRecord]) -> CoreResult<()> {
        let path = logical::execution(&rec.pipeline_name, &rec.execution_id);
        let rows = self.execution_rows(rec, steps, Vec::new())?;
        let t = util::now();
        self.writing(&path, |c| {
            rows.iter().try_for_each(|(bytes, row)| db::put(c, row, bytes, t, None))
        })
    }

    /// The rows of an execution's step records and then its record, after `first`: (bytes, path).
    fn execution_rows(
        &self,
        rec: &ExecutionRecord,
        steps: &[StepRecord],
        mut first: Vec<(Vec<u8>, String)>,
    ) -> CoreResult<Vec<(Vec<u8>, String)>> {
        let (p, id) = (&rec.pipeline_name, &rec.execution_id);
        for step in steps {
            let step_path = logical::step(p, id, &step.step_name);
            first.push((self.encode(&step_path, step)?, step_path));
        }
        let path = logical::execution(p, id);
        first.push((self.encode(&path, rec)?, path));
        Ok(first)
    }

    /// Record a finished execution that ran elsewhere (on SageMaker), so it can be the reference
    /// of a selective run here: its definition, its step records and its record, in one
    /// transaction, under a pipeline stored here. Finished executions never change, so one
    /// already recorded is kept as it is: false is returned and nothing is written.
    pub fn write_imported(&self, rec: &ExecutionRecord, definition: &str, steps: &[StepRecord]) -> CoreResult<bool> {
        let (p, id) = (&rec.pipeline_name, &rec.execution_id);
        let arn = &rec.pipeline_execution_arn;
        let mut problems = Vec::new();
        if !rec.pipeline_execution_status.is_terminal() {
            problems.push(format!(
                "execution {arn} is {}; only a finished execution (Succeeded, Failed, Stopped) can be recorded here",
                rec.pipeline_execution_status
            ));
        }
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            problems.push(format!(
                "execution id '{}' of {arn}: expected letters and digits",
                util::shorten(id)
            ));
        }
        for step in steps.iter().filter(|s| !util::valid_step_name(&s.step_name)) {
            problems.push(format!(
                "step name '{}' of {arn}: expected 1 to 64 letters, digits, '-' and '_'",
                util::shorten(&step.step_name)
            ));
        }
        if !problems.is_empty() {
            return Err(CoreError::Validation(problems.join("; ")));
        }
        self.load_pipeline(p)?;
        let path = logical::execution(p, id);
        let rows = self.execution_rows(
            rec,
            steps,
            vec![(definition.as_bytes().to_vec(), logical::definition(p, id))],
        )?;
        let t = util::now();
        self.writing(&path, |c| {
            if db::execution_status(c, &path)?.is_some() {
                return Ok(false);
            }
            rows.iter()
                .try_for_each(|(bytes, row)| db::put(c, row, bytes, t, None))?;
            Ok(true)
        })
    }

    /// A pipeline's readable execution records as written (see `read_execution_by_id`), newest
    /// first, and those that cannot be read (one bad record does not hide the others).
    pub fn list_execution_records(&self, pipeline: &str) -> CoreResult<(Vec<ExecutionRecord>, Vec<UnreadableRecord>)> {
        self.load_pipeline(pipeline)?;
        let page = self.execution_page(pipeline, true, None, None, None, usize::MAX)?;
        Ok((page.records, page.unreadable))
    }

    /// One page of a pipeline's execution records as written (see `read_execution_by_id`), in
    /// creation order (`newest_first` or oldest first), created strictly between
    /// `created_after_us` and `created_before_us` (microseconds), starting after the keyset
    /// position `after` (created_us, execution id), at most `limit`; with where the next page
    /// starts when this one is full. Unreadable records come apart (a page counts them too).
    pub fn execution_page(
        &self,
        pipeline: &str,
        newest_first: bool,
        created_after_us: Option<i64>,
        created_before_us: Option<i64>,
        after: Option<(i64, String)>,
        limit: usize,
    ) -> CoreResult<ExecutionPage> {
        let query = db::PageQuery {
            pipeline,
            newest_first,
            created_after_us,
            created_before_us,
            after: after.as_ref().map(|(us, id)| (*us, id.as_str())),
            limit,
        };
        let rows = self.reading("pipelines", Vec::new(), |c| db::execution_page(c, &query))?;
        let full = limit > 0 && rows.len() == limit;
        let next = if full {
            rows.last().map(|(_, _, us, id)| (*us, id.clone()))
        } else {
            None
        };
        let mut page = ExecutionPage {
            next,
            ..Default::default()
        };
        for (path, bytes, _, id) in rows {
            match self.decode::<ExecutionRecord>(&path, &bytes) {
                Ok(r) => page.records.push(r),
                Err(e) => page
                    .unreadable
                    .push(self.unreadable(e, Some(util::execution_arn(pipeline, &id)))?),
            }
        }
        Ok(page)
    }

    /// Every record of the store that cannot be read: pipeline, execution and step records
    /// (for gc, which must leave them and what they name in place, and say so).
    pub fn unreadable_records(&self) -> CoreResult<Vec<UnreadableRecord>> {
        let mut found = Vec::new();
        for name in self.stored_pipeline_names()? {
            if let Err(e) = self.load_pipeline(&name) {
                if matches!(e, CoreError::CorruptRecord { .. }) {
                    found.push(self.unreadable(e, None)?);
                }
            }
            for id in self.execution_ids(&name) {
                let arn = || Some(util::execution_arn(&name, &id));
                if let Err(e) = self.read_execution_by_id(&name, &id) {
                    let mut entry = self.unreadable(e, arn())?;
                    if let Ok(steps) = self.read_steps_by_id(&name, &id) {
                        entry.step_records = steps;
                    }
                    found.push(entry);
                }
                let prefix = logical::steps(&name, &id);
                for (path, bytes) in self.reading(&prefix, Vec::new(), |c| db::under(c, &prefix))? {
                    if let Err(e) = self.decode::<StepRecord>(&path, &bytes) {
                        found.push(self.unreadable(e, arn())?);
                    }
                }
            }
        }
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }

    /// Every execution of a pipeline as written (not settled), newest first, with its record
    /// and each of its step records decoded as `T` (or why one cannot be read), in one
    /// statement: for callers that look at the whole history (gc), which decode only the
    /// fields they need. Step records are decoded a batch at a time on every core (decoding is
    /// most of the cost), so only a batch of them is in memory at once.
    pub fn stored_executions<T: DeserializeOwned + Send>(&self, pipeline: &str) -> CoreResult<Vec<StoredExecution<T>>> {
        /// Step records read before a batch is decoded (about 5 MB of a typical history).
        const BATCH: usize = 1024;
        let prefix = format!("{}executions/", logical::pipeline_dir(pipeline));
        // (id, created_us, record, steps) as the rows come; one without a record is left out.
        type Found<T> = (
            String,
            Option<i64>,
            Option<CoreResult<ExecutionRecord>>,
            Vec<CoreResult<T>>,
        );
        let mut found: Vec<Found<T>> = Vec::new();
        let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut batch: Vec<(usize, String, Vec<u8>)> = Vec::new();
        let decode_batch = |batch: &mut Vec<(usize, String, Vec<u8>)>, found: &mut Vec<Found<T>>| {
            let rows = std::mem::take(batch);
            for (slot, decoded) in util::parallel_map(rows, |(slot, path, bytes)| (slot, self.decode(&path, &bytes))) {
                found[slot].3.push(decoded);
            }
        };
        self.reading(&prefix, (), |c| {
            db::for_each_execution_row(c, &prefix, |execution, path, bytes, created_us| {
                let Some(id) = execution else { return };
                let slot = match at.get(id) {
                    Some(&slot) => slot,
                    None => {
                        at.insert(id.to_string(), found.len());
                        found.push((id.to_string(), None, None, Vec::new()));
                        found.len() - 1
                    }
                };
                if path.ends_with("/execution.json") {
                    found[slot].1 = created_us;
                    found[slot].2 = Some(self.decode(path, bytes));
                } else if path.contains("/steps/") {
                    batch.push((slot, path.to_string(), bytes.to_vec()));
                    if batch.len() >= BATCH {
                        decode_batch(&mut batch, &mut found);
                    }
                }
            })
        })?;
        decode_batch(&mut batch, &mut found);
        // Those with a record, as `execution_ids` lists them.
        let mut executions: Vec<StoredExecution<T>> = found
            .into_iter()
            .filter_map(|(id, created_us, record, steps)| {
                Some(StoredExecution {
                    id,
                    created_us: Some(created_us?),
                    record: record?,
                    steps,
                })
            })
            .collect();
        executions.sort_by(|a, b| (b.created_us, &b.id).cmp(&(a.created_us, &a.id)));
        Ok(executions)
    }

    /// What changes whenever anything is committed to the store's records, by any process
    /// (None: the store has no database yet). Equal before and after: nothing was written.
    pub fn records_state(&self) -> CoreResult<Option<(u64, i64, u64)>> {
        match self.db_for_read()? {
            Some(db) => db
                .state()
                .map(Some)
                .map_err(|e| db::sql_error(&self.root.join(db::DB_FILE), e)),
            None => Ok(None),
        }
    }

    /// One step's record of an execution, if it has one, as written (a dead owner's run is not
    /// settled: callers want a finished, Succeeded record).
    pub fn load_step(&self, arn: &str, step: &str) -> CoreResult<Option<StepRecord>> {
        let (name, id) = self.resolve_arn(arn)?;
        self.read_record(&logical::step(&name, &id, step))
    }

    /// Step records of an execution as written, in the order the steps started.
    pub fn read_steps_by_id(&self, pipeline: &str, id: &str) -> CoreResult<Vec<StepRecord>> {
        let prefix = logical::steps(pipeline, id);
        let rows = self.reading(&prefix, Vec::new(), |c| db::under(c, &prefix))?;
        let mut steps = Vec::with_capacity(rows.len());
        for (path, bytes) in rows {
            steps.push(self.decode::<StepRecord>(&path, &bytes)?);
        }
        steps.sort_by_key(|s| s.seq);
        Ok(steps)
    }

    // ---- the step cache's index (`engine::cache` decides what it holds) ----

    /// The cache index's record `rel` (`keys/<key>.json`, `steps/<step>.json`) of a pipeline.
    pub fn read_cache_record<T: DeserializeOwned>(&self, pipeline: &str, rel: &str) -> CoreResult<Option<T>> {
        self.read_record(&format!("{}{rel}", logical::cache(pipeline)))
    }

    /// Write cache index records (`rel`, value) of a pipeline in one transaction, each only
    /// where `replaces` says the new one should replace the old (given as it is stored).
    pub fn write_cache_records<T: Serialize + DeserializeOwned>(
        &self,
        pipeline: &str,
        entries: &[(String, T)],
        replaces: impl Fn(&T) -> bool,
    ) -> CoreResult<()> {
        let prefix = logical::cache(pipeline);
        let mut rows = Vec::with_capacity(entries.len());
        for (rel, value) in entries {
            let path = format!("{prefix}{rel}");
            rows.push((self.encode(&path, value)?, path));
        }
        let t = util::now();
        self.writing(&prefix, |c| {
            for (bytes, path) in &rows {
                let old = db::get(c, path)?;
                if old.is_none_or(|old| serde_json::from_slice::<T>(&old).map_or(true, |old| replaces(&old))) {
                    db::put(c, path, bytes, t, None)?;
                }
            }
            Ok(())
        })
    }

    pub fn execution_definition(&self, arn: &str) -> CoreResult<String> {
        let (name, id) = self.resolve_arn(arn)?;
        let missing = |path: &str| {
            CoreError::store(
                self.shown(path),
                std::io::Error::new(ErrorKind::NotFound, "No such file or directory (os error 2)"),
            )
        };
        let path = logical::definition(&name, &id);
        let bytes = self.record_bytes(&path)?.ok_or_else(|| missing(&path))?;
        match version_referred(&bytes) {
            Some(v) => {
                let version = logical::version(&name, v);
                let text = self.record_bytes(&version)?.ok_or_else(|| missing(&version))?;
                self.json_text(&version, text)
            }
            None => self.json_text(&path, bytes),
        }
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
        // A file (or symlink) goes in one step already: no reader sees it half deleted.
        match fs::symlink_metadata(path) {
            Ok(meta) if !meta.is_dir() => return fs::remove_file(path).map_err(|e| CoreError::store(path, e)),
            _ => {}
        }
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
        let prefix = logical::execution_dir(&name, &id);
        let deleted = self.writing(&prefix, |c| {
            if db::execution_status(c, &logical::execution(&name, &id))?.is_none() {
                return Ok(false);
            }
            db::delete_under(c, &prefix).map(|_| true)
        });
        if !deleted? {
            return Err(CoreError::NotFound {
                kind: "pipeline execution",
                name: arn.to_string(),
                suggestion: None,
            });
        }
        let dir = self.execution_dir(&name, &id);
        if fs::symlink_metadata(&dir).is_ok() {
            self.remove_via_trash(&dir)?;
        }
        Ok(())
    }

    /// Delete executions as `delete_execution` does, many in one transaction (`DELETE_CHUNK`
    /// at a time, so a start waits for one chunk at most); those already gone are skipped.
    /// Returns the ARNs it deleted. Stops at the first other error (what came before stays
    /// deleted).
    pub fn delete_executions(&self, arns: &[String]) -> CoreResult<Vec<String>> {
        self.bulk_deleting(|| self.delete_executions_chunked(arns))
    }

    fn delete_executions_chunked(&self, arns: &[String]) -> CoreResult<Vec<String>> {
        let mut deleted = Vec::with_capacity(arns.len());
        for chunk in arns.chunks(DELETE_CHUNK) {
            let mut ids = Vec::with_capacity(chunk.len());
            for arn in chunk {
                let (name, id) = self.resolve_arn(arn)?;
                if self.execution_running(&name, &id)? {
                    return Err(CoreError::Validation(format!(
                        "execution {arn} is still running; stop it before deleting it"
                    )));
                }
                ids.push((arn, name, id));
            }
            let gone = self.writing("pipelines", |c| {
                let mut gone = Vec::with_capacity(ids.len());
                for (arn, name, id) in &ids {
                    if db::execution_status(c, &logical::execution(name, id))?.is_some() {
                        db::delete_under(c, &logical::execution_dir(name, id))?;
                        gone.push((*arn, name, id));
                    }
                }
                Ok(gone)
            })?;
            for (arn, name, id) in gone {
                let dir = self.execution_dir(name, id);
                if fs::symlink_metadata(&dir).is_ok() {
                    self.remove_via_trash(&dir)?;
                }
                deleted.push(arn.clone());
            }
        }
        Ok(deleted)
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

    /// Delete an artifact (a file or directory under the store's `s3/` area, and the inline
    /// objects at or under it). Absent: no-op.
    pub fn delete_artifact(&self, uri: &str) -> CoreResult<()> {
        self.delete_inline_objects(std::slice::from_ref(&uri.to_string()))?;
        self.delete_artifact_seen(uri, &mut files::Checked::default())
    }

    /// Delete artifacts as `delete_artifact` does, on a few threads (removing files is mostly
    /// waiting on the filesystem), each taking a contiguous run of `uris` and checking each
    /// directory on its way once. The first error is returned once all have stopped.
    pub fn delete_artifacts(&self, uris: &[String]) -> CoreResult<()> {
        self.delete_inline_objects(uris)?;
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4)
            .min(uris.len().div_ceil(256).max(1));
        let runs: Vec<&[String]> = uris.chunks(uris.len().div_ceil(threads).max(1)).collect();
        util::parallel_map_on(threads, runs, |run| {
            let mut checked = files::Checked::default();
            run.iter()
                .try_for_each(|uri| self.delete_artifact_seen(uri, &mut checked))
        })
        .into_iter()
        .collect()
    }

    fn delete_artifact_seen(&self, uri: &str, checked: &mut files::Checked) -> CoreResult<()> {
        let path = self.uri_to_path(uri)?;
        if !self.in_artifacts(&path) || path == self.root.join("s3") {
            return Err(CoreError::Validation(format!(
                "'{uri}' is not an artifact in this store; only s3:// artifacts under the store can be deleted"
            )));
        }
        // Never through a symlink inside the artifact area: that would delete what it points to
        // (a symlink that is the artifact itself is removed as a link).
        let parent_exists =
            files::check_path_below_seen(&self.artifacts_root(), "s3://", path.parent().unwrap_or(&path), checked)
                .map_err(|e| CoreError::Validation(format!("'{uri}' is not deleted: {e}")))?;
        if !parent_exists || fs::symlink_metadata(&path).is_err() {
            return Ok(());
        }
        self.remove_via_trash(&path)
    }

    /// Ask whichever process runs an execution to stop it; its scheduler notices within a
    /// fraction of a second (see `engine::request_stop`).
    pub fn write_stop_request(&self, pipeline: &str, id: &str) -> CoreResult<()> {
        let path = logical::stop_request(pipeline, id);
        let pid = std::process::id().to_string();
        self.writing(&path, |c| db::put(c, &path, pid.as_bytes(), util::now(), None))
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
    /// (`file://`, local paths) yes. Inline objects at or under `uri` are made files first.
    pub fn read_path(&self, uri: &str) -> Result<(PathBuf, bool), String> {
        let path = self.uri_to_path(uri).map_err(|e| e.to_string())?;
        if !self.in_artifacts(&path) {
            return Ok((path, true));
        }
        self.materialize(uri).map_err(|e| e.to_string())?;
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
        write_atomic(&p, b"{\"x\": 1}").expect("write");
        let v: Option<Value> = read_json(&p).expect("read");
        assert_eq!(v, Some(serde_json::json!({"x": 1})));
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("a")).expect("dir").flatten().collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[test]
    fn an_imported_execution_is_recorded_once_and_only_when_finished() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        let arn = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abc123";
        let mut rec = ExecutionRecord {
            pipeline_name: "p".into(),
            pipeline_execution_arn: arn.into(),
            execution_id: "abc123".into(),
            pipeline_execution_status: ExecutionStatus::Executing,
            creation_time: 1.7e9,
            last_modified_time: 1.7e9,
            ..ExecutionRecord::default()
        };
        let step = |name: &str| StepRecord {
            step_name: name.into(),
            step_type: "Processing".into(),
            step_status: StepStatus::Succeeded,
            ..StepRecord::default()
        };
        let definition = r#"{"Version":"2020-12-01","Steps":[]}"#;
        // No pipeline of that name here.
        rec.pipeline_execution_status = ExecutionStatus::Succeeded;
        assert!(matches!(
            store.write_imported(&rec, definition, &[step("A")]),
            Err(CoreError::NotFound { .. })
        ));
        store
            .put_pipeline("p", definition, PutMode::Create, &serde_json::json!({}))
            .expect("pipeline");
        // Running, with a step name no record path can hold: every problem, nothing written.
        rec.pipeline_execution_status = ExecutionStatus::Executing;
        let err = store
            .write_imported(&rec, definition, &[step("A"), step("x/y")])
            .expect_err("refused")
            .to_string();
        assert!(err.contains("is Executing") && err.contains("step name 'x/y'"), "{err}");
        assert!(store.read_execution_by_id("p", "abc123").is_err());

        rec.pipeline_execution_status = ExecutionStatus::Succeeded;
        assert!(store.write_imported(&rec, definition, &[step("A")]).expect("imported"));
        assert_eq!(store.read_steps_by_id("p", "abc123").expect("steps").len(), 1);
        assert_eq!(store.execution_definition(arn).expect("definition"), definition);
        // Finished executions do not change: a second import keeps the first.
        rec.failure_reason = Some("other".into());
        assert!(!store.write_imported(&rec, definition, &[]).expect("kept"));
        let kept = store.read_execution_by_id("p", "abc123").expect("record");
        assert_eq!((kept.failure_reason, kept.pipeline_execution_arn.as_str()), (None, arn));
        assert_eq!(store.read_steps_by_id("p", "abc123").expect("steps").len(), 1);
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
        store.write_execution(&rec).expect("record");
        dir
    }

    /// Replace the bytes of the record at `path` (what truncating its file did in format 1).
    fn damage(store: &Store, path: &str, bytes: &[u8]) {
        store
            .writing(path, |c| db::put(c, path, bytes, util::now(), None))
            .expect("damage");
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
        damage(
            &store,
            &logical::execution("p", "aaaaaaaaaaaa"),
            b"{\"PipelineName\": \"p",
        );
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

        damage(&store, &logical::pipeline("p"), b"{");
        let (pipelines, unreadable) = store.list_pipelines_checked().expect("listing still works");
        assert!(pipelines.is_empty() && unreadable.len() == 1);
        store
            .delete_pipeline("p")
            .expect("an unreadable pipeline can be deleted");
        assert!(!store.pipeline_dir("p").exists());
    }

    #[test]
    fn an_execution_of_its_pipeline_version_refers_to_it_and_any_other_is_copied() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        let text = "{\"Version\": \"2020-12-01\", \"Steps\": []}";
        store
            .put_pipeline("p", text, PutMode::Create, &serde_json::json!({}))
            .expect("create");
        let start = |id: &str, definition: &str| {
            let rec = ExecutionRecord {
                pipeline_name: "p".into(),
                execution_id: id.into(),
                pipeline_version_id: 1,
                ..ExecutionRecord::default()
            };
            store.write_start(&rec, definition).expect("start");
            store
                .execution_definition(&util::execution_arn("p", id))
                .expect("definition")
        };
        assert_eq!(start("same", text), text);
        let row = store
            .record_bytes(&logical::definition("p", "same"))
            .expect("read")
            .expect("row");
        assert_eq!(row, same_as_version(1), "a reference, not a copy");
        let other = "{\"Version\": \"2020-12-01\", \"Steps\": [], \"Parameters\": []}";
        assert_eq!(start("other", other), other);
        let row = store
            .record_bytes(&logical::definition("p", "other"))
            .expect("read")
            .expect("row");
        assert_eq!(row, other.as_bytes());
        // A damaged reference names the execution's row, as a damaged copy does.
        damage(
            &store,
            &logical::definition("p", "same"),
            b"{\"SagepipeSameAsVersion\": ",
        );
        let err = store
            .execution_definition(&util::execution_arn("p", "same"))
            .expect_err("corrupt");
        assert!(err.to_string().contains("definition.json"), "{err}");
    }

    #[test]
    fn a_truncated_definition_is_a_corrupt_record() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        store
            .put_pipeline("p", "{\"Steps\": []}", PutMode::Create, &serde_json::json!({}))
            .expect("create");
        damage(&store, &logical::version("p", 1), b"{\"Steps\": [");
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
    fn executions_page_by_creation_time_and_id() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        store
            .put_pipeline("p", "{}", PutMode::Create, &serde_json::json!({}))
            .expect("pipeline");
        // Two share a creation time: the id breaks the tie.
        for (id, t) in [
            ("a00000000001", 1.0),
            ("a00000000002", 2.0),
            ("a00000000003", 2.0),
            ("a00000000004", 4.0),
        ] {
            let rec = ExecutionRecord {
                pipeline_name: "p".into(),
                pipeline_execution_arn: util::execution_arn("p", id),
                execution_id: id.into(),
                creation_time: t,
                ..Default::default()
            };
            store.write_execution(&rec).expect("record");
        }
        let ids =
            |page: &ExecutionPage| -> Vec<String> { page.records.iter().map(|r| r.execution_id.clone()).collect() };
        let first = store.execution_page("p", true, None, None, None, 2).expect("page");
        assert_eq!(ids(&first), ["a00000000004", "a00000000003"]);
        assert_eq!(first.next, Some((2_000_000, "a00000000003".to_string())));
        let second = store
            .execution_page("p", true, None, None, first.next, 2)
            .expect("page");
        assert_eq!(ids(&second), ["a00000000002", "a00000000001"]);
        let last = store
            .execution_page("p", true, None, None, second.next, 2)
            .expect("page");
        assert!(last.records.is_empty() && last.next.is_none());
        let oldest = store
            .execution_page("p", false, Some(1_000_000), Some(4_000_000), None, 10)
            .expect("page");
        assert_eq!(ids(&oldest), ["a00000000002", "a00000000003"]);
        assert_eq!(store.executions_with_id("a0000000000").len(), 4);
        assert_eq!(
            store.executions_with_id("a00000000003"),
            [util::execution_arn("p", "a00000000003")]
        );
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
