//! The store's records in one SQLite database, `<root>/store.db` (format 3).
//!
//! Every JSON record the store keeps (and the `stop-requested` marker) is a row of `records`,
//! keyed by the logical path it had as a file (`pipelines/<p>/pipeline.json`, ...), so paths in
//! messages and unreadable-record reports stay what they were. Small S3 objects a step wrote
//! (a `@step` function's results) are rows of `objects`, keyed by the path their file would
//! have (`s3/<bucket>/<key>`), until something needs them as files (`Store::materialize`). The
//! database is opened lazily and created by the first write: reading a store that has none
//! creates nothing.
//!
//! One connection per store and process, shared by every `Store` of that root (keyed by its
//! canonical path) and serialized by a mutex, so the process's own threads never meet SQLite's
//! busy waits. A forked child never uses its parent's connection: the cache is keyed by pid, and
//! an inherited connection is leaked, never closed (closing it would drop the parent's POSIX
//! locks on the file).

use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};
use std::collections::HashMap;
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::error::{CoreError, CoreResult};

/// The database file under the store root.
pub const DB_FILE: &str = "store.db";
/// The store format this release writes: 3 = records and small step outputs in `store.db`
/// (2 = records only, upgraded in place on open; 1 = one JSON file per record, see `migrate`).
pub const FORMAT: i64 = 3;

/// The lock file that serializes connection setup across processes (named like the database's
/// own companions, so what lists a store's records and files passes over it alike).
const SETUP_LOCK: &str = "store.db.lock";

/// Total time a write waits for another process's transaction before giving up.
const BUSY_LIMIT: Duration = Duration::from_secs(30);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  written REAL NOT NULL,
  pipeline TEXT,
  execution TEXT,
  created_us INTEGER,
  status TEXT,
  body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS records_executions
  ON records(pipeline, created_us DESC, execution DESC) WHERE created_us IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_execution_ids ON records(execution, pipeline) WHERE created_us IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_pipeline_rows ON records(pipeline) WHERE execution IS NULL;
CREATE TABLE IF NOT EXISTS objects (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  written REAL NOT NULL,
  body BLOB NOT NULL
);
";

/// An open database: the connection and the file it was opened on (to notice a store whose
/// database was removed or replaced since).
pub struct Db {
    pid: u32,
    /// Unique among the connections this process opened (tells a reopened database apart).
    serial: u64,
    file: (u64, u64),
    conn: Mutex<Connection>,
}

impl Db {
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What changes whenever anything is committed to the database: by another connection
    /// (`PRAGMA data_version`) or by this one (its total changes), on this connection.
    pub fn state(&self) -> rusqlite::Result<(u64, i64, u64)> {
        let conn = self.conn();
        let version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        Ok((self.serial, version, conn.total_changes()))
    }
}

static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The process's open databases by canonical store root.
type OpenDbs = HashMap<PathBuf, Arc<Db>>;
/// `OpenDbs` with the pid that opened them.
static OPEN: Mutex<Option<(u32, OpenDbs)>> = Mutex::new(None);

/// A `Store`'s reference to its database (shared by its clones).
#[derive(Default)]
pub struct Handle {
    cached: Mutex<Option<Arc<Db>>>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handle")
    }
}

fn file_id(meta: &fs::Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

impl Handle {
    /// The store's database if it has one (`None`: nothing was written yet). With `create`, one
    /// is made when missing.
    pub fn get(&self, root: &Path, create: bool) -> CoreResult<Option<Arc<Db>>> {
        let path = root.join(DB_FILE);
        let meta = match fs::metadata(&path) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(CoreError::store(&path, e)),
        };
        let pid = std::process::id();
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        if let (Some(db), Some(meta)) = (cached.as_ref(), meta.as_ref()) {
            if db.pid == pid && db.file == file_id(meta) {
                return Ok(Some(db.clone()));
            }
        }
        if meta.is_none() && !create {
            return Ok(None);
        }
        if meta.is_none() {
            fs::create_dir_all(root).map_err(|e| CoreError::store(root, e))?;
        }
        let db = shared(root, &path)?;
        if let Some(old) = cached.replace(db.clone()) {
            if old.pid != pid {
                std::mem::forget(old); // a parent's connection: never closed here
            }
        }
        Ok(Some(db))
    }
}

/// The process's connection to the database at `path` (of the store at `root`), opened (and
/// the database created) if needed.
fn shared(root: &Path, path: &Path) -> CoreResult<Arc<Db>> {
    let key = fs::canonicalize(root).map_err(|e| CoreError::store(root, e))?;
    let pid = std::process::id();
    let mut open = OPEN.lock().unwrap_or_else(PoisonError::into_inner);
    if open.as_ref().is_some_and(|(owner, _)| *owner != pid) {
        // Forked: the parent's connections are leaked, not closed.
        if let Some((_, inherited)) = open.take() {
            std::mem::forget(inherited);
        }
    }
    let (_, dbs) = open.get_or_insert_with(|| (pid, HashMap::new()));
    if let Some(db) = dbs.get(&key) {
        if fs::metadata(path).is_ok_and(|m| file_id(&m) == db.file) {
            return Ok(db.clone());
        }
    }
    // Connections are set up one process at a time: a database being created (its switch to
    // WAL, its schema) answers another process's setup with SQLITE_BUSY, which SQLite's busy
    // handler does not retry, so processes opening a new store together failed.
    let _setup = super::FileLock::acquire(&root.join(SETUP_LOCK))?;
    let conn = connect(path).map_err(|e| sql_error(path, e))?;
    // A migration from format 1 interrupted after its switch is finished by whoever opens next.
    super::migrate::move_legacy(root, &conn).map_err(|e| sql_error(path, e))?;
    let meta = fs::metadata(path).map_err(|e| CoreError::store(path, e))?;
    let db = Arc::new(Db {
        pid,
        serial: SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        file: file_id(&meta),
        conn: Mutex::new(conn),
    });
    dbs.insert(key, db.clone());
    Ok(db)
}

/// Sleep briefly between retries while another process writes (SQLite's own timeout sleeps
/// up to 100 ms at a time, a latency spike for every contended write).
fn busy(attempt: i32) -> bool {
    let ms = u64::try_from(attempt.clamp(0, 4)).unwrap_or(4) + 1;
    // Attempts 0..4 sleep 1..5 ms, the rest 5 ms each.
    let waited = 15 + 5 * u64::try_from(attempt.max(0)).unwrap_or(0);
    if waited > BUSY_LIMIT.as_millis() as u64 {
        return false;
    }
    std::thread::sleep(Duration::from_millis(ms));
    true
}

/// Open (creating if missing) the database at `path`, set its pragmas, and give it the schema
/// if it has none yet. A database of a newer format is refused.
pub fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_handler(Some(busy))?;
    // Every statement the store runs stays prepared (a page query has a few shapes).
    conn.set_prepared_statement_cache_capacity(64);
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "the store database cannot use write-ahead logging (journal mode {mode})"
        )));
    }
    conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=8388608;")?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version < FORMAT {
        // New, or format 2, which lacks only the `objects` table: every statement of the schema
        // is "if not exists", so one transaction brings either to this format.
        let tx = rusqlite::Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version < FORMAT {
            tx.execute_batch(SCHEMA)?;
            tx.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('format', ?1)",
                [FORMAT.to_string()],
            )?;
            tx.execute_batch(&format!("PRAGMA user_version = {FORMAT}"))?;
        }
        tx.commit()?;
    } else if version > FORMAT {
        return Err(rusqlite::Error::InvalidParameterName(newer_format(version)));
    }
    Ok(conn)
}

/// The refusal of a store written by a newer release.
pub fn newer_format(version: i64) -> String {
    format!("written by a newer sagepipe (format {version}); upgrade sagepipe")
}

/// A database error as a store error about `path`; a full disk reads as one
/// ("No space left on device"), whatever SQLite's code for it.
pub fn sql_error(path: &Path, e: rusqlite::Error) -> CoreError {
    let io = match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::DiskFull => {
            std::io::Error::from_raw_os_error(libc::ENOSPC)
        }
        rusqlite::Error::InvalidParameterName(msg) => std::io::Error::other(msg.clone()),
        other => std::io::Error::other(other.to_string()),
    };
    CoreError::store(path, io)
}

/// Whether `e` is a full disk.
pub fn is_disk_full(e: &CoreError) -> bool {
    match e {
        CoreError::Store { source, .. } => source.raw_os_error() == Some(libc::ENOSPC),
        _ => false,
    }
}

/// Run `f` in one write transaction (`BEGIN IMMEDIATE`: it takes the write lock first, so it
/// never fails half-way for want of it).
pub fn write<T>(conn: &Connection, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}

/// SQLite's default: checkpoint once the write-ahead log holds this many pages.
const AUTO_CHECKPOINT_PAGES: u32 = 1000;

/// Run `f` (many write transactions on `db`'s connection) with automatic checkpoints off,
/// then checkpoint once. A bulk deletion rewrites the same pages (free list, indexes) in each
/// of its transactions; copying them back into the database, with two fsyncs, every 1,000
/// pages was about a third of a large collection's time. The checkpoint is passive: it never
/// waits on another process, and what it cannot copy yet the next checkpoint does.
pub fn with_one_checkpoint<T>(db: &Db, f: impl FnOnce() -> T) -> rusqlite::Result<T> {
    db.conn().pragma_update(None, "wal_autocheckpoint", 0)?;
    let out = f();
    let conn = db.conn();
    conn.pragma_update(None, "wal_autocheckpoint", AUTO_CHECKPOINT_PAGES)?;
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    Ok(out)
}

/// The pipeline and execution a logical path belongs to (`pipelines/<p>/...`, `cache/<p>/...`,
/// `pipelines/<p>/executions/<id>/...`).
fn owners(path: &str) -> (Option<&str>, Option<&str>) {
    let mut parts = path.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("pipelines"), Some(p), Some("executions"), Some(id), Some(_)) => (Some(p), Some(id)),
        (Some("pipelines" | "cache"), Some(p), Some(_), ..) => (Some(p), None),
        _ => (None, None),
    }
}

/// The query columns of an execution record: CreationTime in microseconds and the status.
fn execution_columns(body: &[u8]) -> (Option<i64>, Option<String>) {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Columns {
        creation_time: Option<f64>,
        pipeline_execution_status: Option<String>,
    }
    match serde_json::from_slice::<Columns>(body) {
        Ok(c) => (c.creation_time.map(micros), c.pipeline_execution_status),
        Err(_) => (None, None),
    }
}

/// Seconds as integer microseconds, exactly as Python's `datetime.fromtimestamp` gives the
/// time to the microsecond (the whole seconds, then the fraction scaled and rounded half to
/// even): the listing's `CreatedAfter`/`CreatedBefore` bounds come from such datetimes, and
/// scaling the whole value first can differ by 1 µs.
pub fn micros(seconds: f64) -> i64 {
    let whole = seconds.trunc();
    let fraction = ((seconds - whole) * 1e6).round_ties_even();
    (whole as i64).saturating_mul(1_000_000).saturating_add(fraction as i64)
}

/// Write (insert or replace) the record at `path`. `written` is when (seconds since the epoch);
/// `created_fallback` orders an execution record whose CreationTime cannot be read.
pub fn put(
    conn: &Connection,
    path: &str,
    body: &[u8],
    written: f64,
    created_fallback: Option<i64>,
) -> rusqlite::Result<()> {
    let (pipeline, execution) = owners(path);
    let (created_us, status) = if execution.is_some() && path.ends_with("/execution.json") {
        let (created, status) = execution_columns(body);
        (created.or(created_fallback), status)
    } else {
        (None, None)
    };
    conn.prepare_cached(
        "INSERT INTO records(path, written, pipeline, execution, created_us, status, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(path) DO UPDATE SET written = excluded.written, pipeline = excluded.pipeline,
           execution = excluded.execution, created_us = coalesce(excluded.created_us, records.created_us),
           status = excluded.status, body = excluded.body",
    )?
    .execute(params![path, written, pipeline, execution, created_us, status, body])?;
    Ok(())
}

/// The bytes of the record at `path`.
pub fn get(conn: &Connection, path: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT body FROM records WHERE path = ?1")?
        .query_row([path], |r| r.get(0))
        .optional()
}

/// The status column of the execution record at `path` (`None`: no record; `Some(None)`: its
/// body names no status it could read). Also how to ask whether the record exists without
/// reading its body.
pub fn execution_status(conn: &Connection, path: &str) -> rusqlite::Result<Option<Option<String>>> {
    conn.prepare_cached("SELECT status FROM records WHERE path = ?1")?
        .query_row([path], |r| r.get(0))
        .optional()
}

/// When the record at `path` was written.
pub fn written(conn: &Connection, path: &str) -> rusqlite::Result<Option<f64>> {
    conn.prepare_cached("SELECT written FROM records WHERE path = ?1")?
        .query_row([path], |r| r.get(0))
        .optional()
}

/// The records whose path starts with `prefix` (paths and bytes), by path. A range on the
/// unique index: `||` of a text and x'FF' is a text past every path with that prefix.
pub fn under(conn: &Connection, prefix: &str) -> rusqlite::Result<Vec<(String, Vec<u8>)>> {
    let mut stmt =
        conn.prepare_cached("SELECT path, body FROM records WHERE path >= ?1 AND path < ?1 || x'ff' ORDER BY path")?;
    let rows = stmt.query_map([prefix], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// The paths of the records under `prefix`, by path.
pub fn paths_under(conn: &Connection, prefix: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT path FROM records WHERE path >= ?1 AND path < ?1 || x'ff' ORDER BY path")?;
    let rows = stmt.query_map([prefix], |r| r.get(0))?;
    rows.collect()
}

/// Delete every record under `prefix`; how many.
pub fn delete_under(conn: &Connection, prefix: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached("DELETE FROM records WHERE path >= ?1 AND path < ?1 || x'ff'")?
        .execute([prefix])
}

/// The names of the pipelines with a record.
pub fn pipeline_names(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT pipeline FROM records WHERE execution IS NULL AND pipeline IS NOT NULL
           AND path = 'pipelines/' || pipeline || '/pipeline.json' ORDER BY pipeline",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

/// The ids of a pipeline's executions (those with a record), newest first.
pub fn execution_ids(conn: &Connection, pipeline: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT execution FROM records WHERE pipeline = ?1 AND created_us IS NOT NULL
         ORDER BY created_us DESC, execution DESC",
    )?;
    let rows = stmt.query_map([pipeline], |r| r.get(0))?;
    rows.collect()
}

/// (pipeline, id) of the executions whose id starts with `prefix`, in every pipeline.
pub fn executions_with_id(conn: &Connection, prefix: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT pipeline, execution FROM records
         WHERE execution >= ?1 AND execution < ?1 || x'ff' AND created_us IS NOT NULL",
    )?;
    let rows = stmt.query_map([prefix], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// One page of a pipeline's execution records (path, bytes, created_us, id) in creation order,
/// keyset-paged on (created_us, id).
pub struct PageQuery<'a> {
    pub pipeline: &'a str,
    pub newest_first: bool,
    pub created_after_us: Option<i64>,
    pub created_before_us: Option<i64>,
    pub after: Option<(i64, &'a str)>,
    pub limit: usize,
}

pub type PageRow = (String, Vec<u8>, i64, String);

pub fn execution_page(conn: &Connection, q: &PageQuery<'_>) -> rusqlite::Result<Vec<PageRow>> {
    let (order, cmp) = if q.newest_first { ("DESC", "<") } else { ("ASC", ">") };
    // Only the bounds given, so each is a range on the index (a page deep in the history starts
    // where the keyset points, it does not walk there).
    let mut sql = String::from(
        "SELECT path, body, created_us, execution FROM records WHERE pipeline = ?1 AND created_us IS NOT NULL",
    );
    if q.created_after_us.is_some() {
        sql.push_str(" AND created_us > ?2");
    }
    if q.created_before_us.is_some() {
        sql.push_str(" AND created_us < ?3");
    }
    if q.after.is_some() {
        sql.push_str(&format!(" AND (created_us, execution) {cmp} (?4, ?5)"));
    }
    sql.push_str(&format!(" ORDER BY created_us {order}, execution {order} LIMIT ?6"));
    let mut stmt = conn.prepare_cached(&sql)?;
    let (after_us, after_id) = match q.after {
        Some((us, id)) => (Some(us), Some(id)),
        None => (None, None),
    };
    let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
    // Every parameter is bound: those the text leaves out are numbered below ?6, so they exist.
    let rows = stmt.query_map(
        params![
            q.pipeline,
            q.created_after_us,
            q.created_before_us,
            after_us,
            after_id,
            limit
        ],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    rows.collect()
}

/// Every record under `prefix` but definitions, in path order, given to `f` as (execution it
/// belongs to, path, bytes, created_us of an execution record): one statement, one snapshot,
/// one row in memory at a time. A definition's bytes are never read (the largest record).
pub fn for_each_execution_row(
    conn: &Connection,
    prefix: &str,
    mut f: impl FnMut(Option<&str>, &str, &[u8], Option<i64>),
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT execution, path, body, created_us FROM records
         WHERE path >= ?1 AND path < ?1 || x'ff' AND path NOT GLOB '*/definition.json' ORDER BY path",
    )?;
    let mut rows = stmt.query([prefix])?;
    while let Some(row) = rows.next()? {
        f(
            row.get_ref(0)?.as_str_or_null()?,
            row.get_ref(1)?.as_str()?,
            row.get_ref(2)?.as_bytes()?,
            row.get(3)?,
        );
    }
    Ok(())
}

/// Whether the record at `path` holds exactly `bytes` (compared by SQLite, not copied out).
pub fn body_equals(conn: &Connection, path: &str, bytes: &[u8]) -> rusqlite::Result<bool> {
    let same: Option<bool> = conn
        .prepare_cached("SELECT body = ?2 FROM records WHERE path = ?1")?
        .query_row(params![path, bytes], |r| r.get(0))
        .optional()?;
    Ok(same == Some(true))
}

/// Write (insert or replace) the object at `path`.
pub fn put_object(conn: &Connection, path: &str, body: &[u8], written: f64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO objects(path, written, body) VALUES (?1, ?2, ?3)
         ON CONFLICT(path) DO UPDATE SET written = excluded.written, body = excluded.body",
    )?
    .execute(params![path, written, body])?;
    Ok(())
}

/// The bytes of the object at `path`.
pub fn object(conn: &Connection, path: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT body FROM objects WHERE path = ?1")?
        .query_row([path], |r| r.get(0))
        .optional()
}

/// Whether an object is kept at `path`.
pub fn has_object(conn: &Connection, path: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM objects WHERE path = ?1")?
        .exists([path])
}

/// The objects at `path` or under it (`path/...`) as (path, bytes), in path order.
pub fn objects_under(conn: &Connection, path: &str) -> rusqlite::Result<Vec<(String, Vec<u8>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT path, body FROM objects
         WHERE path = ?1 OR (path >= ?1 || '/' AND path < ?1 || '0') ORDER BY path",
    )?;
    let rows = stmt.query_map([path], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Delete the object at `path` (not those under it).
pub fn delete_objects_exact(conn: &Connection, path: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached("DELETE FROM objects WHERE path = ?1")?
        .execute([path])
}

/// Delete the objects at `path` or under it; how many there were.
pub fn delete_objects_under(conn: &Connection, path: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached("DELETE FROM objects WHERE path = ?1 OR (path >= ?1 || '/' AND path < ?1 || '0')")?
        .execute([path])
}

#[cfg(test)]
mod tests {
    use super::{connect, micros, with_one_checkpoint, AUTO_CHECKPOINT_PAGES};

    #[test]
    fn a_bulk_deletion_checkpoints_once_and_restores_automatic_checkpoints() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = super::Db {
            pid: std::process::id(),
            serial: 0,
            file: (0, 0),
            conn: std::sync::Mutex::new(connect(&dir.path().join("store.db")).expect("a database")),
        };
        let setting = || -> u32 {
            db.conn()
                .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
                .expect("the setting")
        };
        let during = with_one_checkpoint(&db, || {
            super::write(&db.conn(), |c| {
                super::put(c, "pipelines/p/pipeline.json", b"{}", 1.0, None)
            })
            .expect("a write");
            setting()
        })
        .expect("the checkpoint");
        assert_eq!((during, setting()), (0, AUTO_CHECKPOINT_PAGES));
        // Every page the log held was copied into the database file.
        let pages: i64 = db
            .conn()
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .expect("pages");
        let size: i64 = db.conn().query_row("PRAGMA page_size", [], |r| r.get(0)).expect("size");
        let file = std::fs::metadata(dir.path().join("store.db")).expect("the file").len();
        assert_eq!(file, u64::try_from(pages * size).expect("a size"));
    }

    #[test]
    fn micros_match_pythons_datetime() {
        // Times whose whole value scaled by 1e6 rounds 1 µs away from what
        // `datetime.fromtimestamp` shows (about 1 time in 8 at today's epoch seconds).
        assert_eq!(micros(1796561905.5328455), 1796561905532845);
        assert_eq!(micros(1796561905.6413674), 1796561905641367);
        assert_eq!(micros(0.0000005), 0); // half to even
        assert_eq!(micros(0.0000015), 2);
        assert_eq!(micros(-1.5), -1_500_000);
        assert_eq!(micros(1.0), 1_000_000);
    }
}
