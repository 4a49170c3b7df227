//! Format 1 (one JSON file per record, no `store.db`) to format 2 (records in `store.db`).
//!
//! Once, automatically, on the first open of a format-1 store, and atomically: every record
//! file is imported verbatim (unreadable ones too: nothing is lost) into `store.db.migrating`,
//! the import is verified, the file renamed to `store.db` (the switch: before it the store is
//! the intact format-1 one, after it the complete format-2 one), then the imported files are
//! moved to `legacy-v1/<same logical path>`. That last part is idempotent and resumed by
//! whoever opens the database next if it was interrupted. Refused while a format-1 execution
//! still runs (its owner would go on writing files nobody reads).

use rusqlite::Connection;
use serde::Serialize;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::{db, ExecutionStatus, FileLock, Store};
use crate::error::{CoreError, CoreResult};
use crate::util;

/// Where the import is built before it becomes `store.db`.
const MIGRATING: &str = "store.db.migrating";
/// Serializes migrations of one store between processes.
const MIGRATE_LOCK: &str = "migrate.lock";
/// Where the imported format-1 files go.
pub const LEGACY_DIR: &str = "legacy-v1";
/// The `meta` key saying how far moving the imported files to `LEGACY_DIR` got.
const LEGACY_STATE: &str = "legacy-v1";
/// The directories of format-1 records.
const RECORD_DIRS: [&str; 3] = ["pipelines", "cache", "registry"];

/// What `sagepipe store migrate` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Migration {
    /// The format the store had (0: no store there yet).
    pub from_format: i64,
    pub to_format: i64,
    /// How many record files were imported (0 when there was nothing to migrate).
    pub records: usize,
    /// Where the imported files were moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy: Option<PathBuf>,
}

/// Whether the store at `root` is format 1: no database, and record files.
pub fn is_format1(root: &Path) -> bool {
    !root.join(db::DB_FILE).exists() && RECORD_DIRS.iter().any(|d| has_record(&root.join(d)))
}

fn has_record(dir: &Path) -> bool {
    let mut found = false;
    walk(dir, dir, &mut |_, _| {
        found = true;
        false
    });
    found
}

/// Call `f(logical path under the store, file path)` for each record file under `dir` (`base`
/// being the store root) until it returns false; returns false if stopped.
fn walk(base: &Path, dir: &Path, f: &mut dyn FnMut(String, PathBuf) -> bool) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return true;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            // An execution's space set aside and its logs stay files.
            if name != "logs" && name != super::RESERVE_DIR && !walk(base, &path, f) {
                return false;
            }
        } else if kind.is_file()
            && !name.starts_with('.')
            && (name.ends_with(".json") || name == super::STOP_REQUEST_FILE)
        {
            let Some(logical) = path.strip_prefix(base).ok().and_then(Path::to_str) else {
                continue;
            };
            if !f(logical.to_string(), path.clone()) {
                return false;
            }
        }
    }
    true
}

/// The format-1 executions still running: their record says so and their owner holds the lock.
fn live_executions(root: &Path) -> CoreResult<Vec<String>> {
    let mut live = Vec::new();
    for pipeline in fs::read_dir(root.join("pipelines")).into_iter().flatten().flatten() {
        let name = pipeline.file_name().to_string_lossy().into_owned();
        for execution in fs::read_dir(pipeline.path().join("executions"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let dir = execution.path();
            let Ok(bytes) = fs::read(dir.join("execution.json")) else {
                continue;
            };
            let terminal = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| serde_json::from_value::<ExecutionStatus>(v.get("PipelineExecutionStatus")?.clone()).ok())
                .is_some_and(|s| s.is_terminal());
            let lock = dir.join("lock");
            if !terminal && lock.exists() && FileLock::try_acquire_existing(&lock)?.is_none() {
                let id = execution.file_name().to_string_lossy().into_owned();
                live.push(util::execution_arn(&name, &id));
            }
        }
    }
    live.sort();
    Ok(live)
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> CoreError + '_ {
    move |e| CoreError::store(path, e)
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Migrate the format-1 store `store` to format 2 (nothing to do if another process did it
/// meanwhile). Returns how many records were imported.
pub fn migrate(store: &Store) -> CoreResult<usize> {
    let root = store.root();
    let _lock = FileLock::acquire(&root.join(MIGRATE_LOCK))?;
    if !is_format1(root) {
        return Ok(0); // done by another process while this one waited
    }
    let live = live_executions(root)?;
    if !live.is_empty() {
        return Err(CoreError::Conflict(format!(
            "the store at {} has the record format of an older sagepipe (format 1) and must be migrated to format {}, \
             but {} of its executions {} still running ({}); let {} finish (or stop {}), then run `sagepipe store \
             migrate --store {}`",
            root.display(),
            db::FORMAT,
            live.len(),
            if live.len() == 1 { "is" } else { "are" },
            live.join(", "),
            if live.len() == 1 { "it" } else { "them" },
            if live.len() == 1 { "it" } else { "them" },
            root.display(),
        )));
    }
    let migrating = root.join(MIGRATING);
    for leftover in ["", "-wal", "-shm", "-journal"] {
        let path = PathBuf::from(format!("{}{leftover}", migrating.display()));
        match fs::remove_file(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(CoreError::store(&path, e)),
            _ => {}
        }
    }
    let imported = import(root, &migrating)?;
    // The switch: from here on the store is format 2.
    fs::rename(&migrating, root.join(db::DB_FILE)).map_err(io(&migrating))?;
    sync_dir(root);
    store.db.get(root, false)?; // opening it moves the imported files (`move_legacy`)
    Ok(imported)
}

/// Import every record file into a new database at `path`, verified; returns how many.
fn import(root: &Path, path: &Path) -> CoreResult<usize> {
    let fail = |e| db::sql_error(path, e);
    let conn = db::connect(path).map_err(fail)?;
    let mut files: Vec<(String, Vec<u8>, f64)> = Vec::new();
    let mut error = None;
    for dir in RECORD_DIRS {
        walk(root, &root.join(dir), &mut |logical, file| {
            let read = fs::read(&file).and_then(|bytes| Ok((bytes, fs::metadata(&file)?.modified()?)));
            match read {
                Ok((bytes, modified)) => {
                    let written = modified
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0.0, |d| d.as_secs_f64());
                    files.push((logical, bytes, written));
                    true
                }
                Err(e) if e.kind() == ErrorKind::NotFound => true, // an old release removed it meanwhile
                Err(e) => {
                    error = Some(CoreError::store(&file, e));
                    false
                }
            }
        });
    }
    if let Some(e) = error {
        return Err(e);
    }
    let total: i64 = files.iter().map(|(_, b, _)| b.len() as i64).sum();
    db::write(&conn, |c| {
        for (logical, bytes, written) in &files {
            db::put(c, logical, bytes, *written, Some(db::micros(*written)))?;
        }
        c.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('migrated_from', '1'), (?1, 'moving')",
            [LEGACY_STATE],
        )?;
        Ok(())
    })
    .map_err(fail)?;
    // Verified: every file is a row holding its bytes, and the database is sound.
    let (rows, bytes): (i64, i64) = conn
        .query_row(
            "SELECT count(*), coalesce(sum(length(body)), 0) FROM records",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(fail)?;
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(fail)?;
    if rows != files.len() as i64 || bytes != total || check != "ok" {
        return Err(CoreError::store(
            path,
            std::io::Error::other(format!(
                "the migrated records do not match the files ({rows} of {} records, {bytes} of {total} bytes, check: \
                 {check}); the store is left as it was",
                files.len()
            )),
        ));
    }
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(fail)?;
    drop(conn); // the last connection: its write-ahead log is folded in and removed
    fs::File::open(path).and_then(|f| f.sync_all()).map_err(io(path))?;
    Ok(files.len())
}

/// Move the imported format-1 files to `LEGACY_DIR` if a migration has not finished doing so
/// (idempotent: what was moved already is skipped).
pub fn move_legacy(root: &Path, conn: &Connection) -> rusqlite::Result<()> {
    let state: Option<String> = rusqlite::OptionalExtension::optional(conn.query_row(
        "SELECT value FROM meta WHERE key = ?1",
        [LEGACY_STATE],
        |r| r.get(0),
    ))?;
    if state.as_deref() != Some("moving") {
        return Ok(());
    }
    let mut stmt = conn.prepare("SELECT path FROM records")?;
    let paths: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let legacy = root.join(LEGACY_DIR);
    for path in paths {
        let from = root.join(&path);
        if !from.is_file() {
            continue;
        }
        let to = legacy.join(&path);
        if let Some(dir) = to.parent() {
            let _ = fs::create_dir_all(dir);
        }
        let _ = fs::rename(&from, &to);
    }
    db::write(conn, |c| {
        c.execute("UPDATE meta SET value = 'moved' WHERE key = ?1", [LEGACY_STATE])
            .map(|_| ())
    })
}

impl Store {
    /// Migrate this store to the current format if it is older (`sagepipe store migrate`);
    /// a store already current (or empty) is left as it is.
    pub fn migrate(&self) -> CoreResult<Migration> {
        let root = self.root();
        if is_format1(root) {
            let records = migrate(self)?;
            return Ok(Migration {
                from_format: 1,
                to_format: db::FORMAT,
                records,
                legacy: Some(root.join(LEGACY_DIR)),
            });
        }
        let from_format = match self.db.get(root, false)? {
            Some(_) => db::FORMAT, // opening it finished any interrupted move
            None => 0,
        };
        Ok(Migration {
            from_format,
            to_format: db::FORMAT,
            records: 0,
            legacy: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ExecutionRecord, PutMode};

    /// A format-1 store as the previous release wrote it: one file per record.
    fn format1_store(root: &Path) {
        let write = |path: &str, bytes: &[u8]| {
            let path = root.join(path);
            fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
            fs::write(path, bytes).expect("write");
        };
        let pipeline = serde_json::to_vec(&crate::store::PipelineRecord::new("p", 1.0)).expect("json");
        let mut pipeline: serde_json::Value = serde_json::from_slice(&pipeline).expect("json");
        pipeline["LatestVersion"] = serde_json::json!(1);
        write(
            "pipelines/p/pipeline.json",
            &serde_json::to_vec(&pipeline).expect("json"),
        );
        write(
            "pipelines/p/versions/1.json",
            b"{\"Version\": \"2020-12-01\", \"Steps\": []}",
        );
        for (id, t) in [("aaaaaaaaaaaa", 10.0), ("bbbbbbbbbbbb", 20.0)] {
            let rec = ExecutionRecord {
                pipeline_name: "p".into(),
                pipeline_execution_arn: util::execution_arn("p", id),
                execution_id: id.into(),
                pipeline_execution_status: ExecutionStatus::Succeeded,
                creation_time: t,
                ..Default::default()
            };
            let dir = format!("pipelines/p/executions/{id}");
            write(
                &format!("{dir}/execution.json"),
                &serde_json::to_vec(&rec).expect("json"),
            );
            write(&format!("{dir}/definition.json"), b"{\"Steps\": []}");
            write(&format!("{dir}/lock"), b"");
            write(&format!("{dir}/logs/S.log"), b"log line\n");
        }
        write(
            "pipelines/p/executions/cccccccccccc/execution.json",
            b"{\"PipelineName\": \"p",
        );
        write("registry/models/m.json", b"{\"ModelName\": \"m\"}");
    }

    #[test]
    fn a_format1_store_is_migrated_on_first_read_with_nothing_lost() {
        let dir = tempfile::tempdir().expect("tmp");
        format1_store(dir.path());
        let store = Store::open(dir.path()).expect("open");
        assert!(store.exists());
        let (records, unreadable) = store.list_execution_records("p").expect("list");
        assert_eq!(
            records.iter().map(|r| r.execution_id.as_str()).collect::<Vec<_>>(),
            ["bbbbbbbbbbbb", "aaaaaaaaaaaa"]
        );
        assert_eq!(unreadable.len(), 1);
        assert_eq!(
            unreadable[0].path,
            dir.path().join("pipelines/p/executions/cccccccccccc/execution.json")
        );
        assert_eq!(unreadable[0].text, "{\"PipelineName\": \"p");
        assert!(dir.path().join("store.db").is_file());
        assert!(!dir.path().join(MIGRATING).exists());
        assert!(!dir.path().join("pipelines/p/pipeline.json").exists(), "moved");
        assert!(dir.path().join("legacy-v1/pipelines/p/pipeline.json").is_file());
        assert!(
            dir.path()
                .join("pipelines/p/executions/aaaaaaaaaaaa/logs/S.log")
                .is_file(),
            "logs stay"
        );
        assert_eq!(store.load_model("m").expect("model")["ModelName"], "m");
        assert!(store.definition_text("p", None).expect("def").contains("Steps"));
        // Written on as format 2.
        store
            .put_pipeline("p", "{\"Steps\": [1]}", PutMode::Update, &serde_json::json!({}))
            .expect("update");
        assert_eq!(store.pipeline_versions("p").expect("versions").len(), 2);
        let again = store.migrate().expect("nothing to do");
        assert_eq!((again.from_format, again.records), (db::FORMAT, 0));
    }

    #[test]
    fn an_interrupted_move_is_finished_by_the_next_open() {
        let dir = tempfile::tempdir().expect("tmp");
        format1_store(dir.path());
        // The import as a killed migration left it: the switch made, no file moved yet.
        import(dir.path(), &dir.path().join(db::DB_FILE)).expect("import");
        assert!(dir.path().join("pipelines/p/pipeline.json").is_file());
        let store = Store::open(dir.path()).expect("open");
        assert_eq!(store.list_pipelines().expect("list").len(), 1);
        assert!(!dir.path().join("pipelines/p/pipeline.json").exists());
        assert!(dir.path().join("legacy-v1/pipelines/p/versions/1.json").is_file());
    }

    #[test]
    fn a_running_format1_execution_refuses_the_migration() {
        let dir = tempfile::tempdir().expect("tmp");
        format1_store(dir.path());
        let exec = dir.path().join("pipelines/p/executions/dddddddddddd");
        fs::create_dir_all(&exec).expect("dir");
        let rec = ExecutionRecord {
            pipeline_name: "p".into(),
            execution_id: "dddddddddddd".into(),
            pipeline_execution_status: ExecutionStatus::Executing,
            ..Default::default()
        };
        fs::write(exec.join("execution.json"), serde_json::to_vec(&rec).expect("json")).expect("write");
        let owner = FileLock::acquire(&exec.join("lock")).expect("lock");
        let store = Store::open(dir.path()).expect("open");
        let err = store.list_pipelines().expect_err("refused");
        let text = err.to_string();
        assert!(text.contains("sagepipe store migrate --store"), "{text}");
        assert!(text.contains("execution/dddddddddddd"), "{text}");
        assert!(!dir.path().join("store.db").exists(), "nothing changed");
        drop(owner);
        let done = store.migrate().expect("migrates once the owner is gone");
        assert_eq!(done.from_format, 1);
        assert_eq!(done.records, 9);
    }
}
