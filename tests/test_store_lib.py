"""``store_lib`` reads and damages records the same way in both store formats: the files of a
format-1 store, and the ``records`` table of a format-2 ``store.db`` (built here by the
contract's schema, in a child process like every use of the database from tests)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import store_lib

EXECUTION = "pipelines/p/executions/e1/execution.json"
RECORDS = {
    "pipelines/p/pipeline.json": b'{"PipelineName": "p"}',
    "pipelines/p/versions/1.json": b'{"Version": 1}',
    EXECUTION: json.dumps(
        {"ExecutionId": "e1", "PipelineExecutionStatus": "Succeeded", "CreationTime": 1700000000.25}
    ).encode(),
    "pipelines/p/executions/e1/definition.json": b'{"Steps": []}',
    "pipelines/p/executions/e1/steps/A.json": b'{"StepName": "A"}',
    "pipelines/p/executions/e1/stop-requested": b"",
    "pipelines/p/executions/e2/execution.json": json.dumps(
        {"ExecutionId": "e2", "PipelineExecutionStatus": "Executing", "CreationTime": 1700000001.5}
    ).encode(),
    "pipelines/q/pipeline.json": b'{"PipelineName": "q"}',
    "cache/p/keys/k.json": b'{"Key": "k"}',
    "registry/g/group.json": b'{"Group": "g"}',
}
# Files that are not records: the store keeps them as files in both formats.
NOT_RECORDS = [
    "store.lock",
    "pipelines/p/.lock",
    "pipelines/p/executions/e1/lock",
    "pipelines/p/executions/e1/logs/A.log",
    "pipelines/p/executions/e1/steps/.A.json.tmp",
    "s3/bucket/p/e1/A/results/results.json",
]

# The contract's schema, and the records (path -> latin-1 text of the bytes, on stdin) imported as
# the migration imports files: verbatim, with the columns the store derives.
SCHEMA = """
import json, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.executescript('''
PRAGMA journal_mode=WAL;
PRAGMA user_version = 2;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  written REAL NOT NULL,
  pipeline TEXT,
  execution TEXT,
  created_us INTEGER,
  status TEXT,
  body BLOB NOT NULL
);
INSERT INTO meta VALUES ('format', '2');
''')
for path, text in json.load(sys.stdin).items():
    parts = path.split('/')
    pipeline = parts[1] if parts[0] in ('pipelines', 'cache') else None
    execution = parts[3] if parts[0] == 'pipelines' and parts[2:3] == ['executions'] else None
    created_us = status = None
    if parts[4:] == ['execution.json']:
        record = json.loads(text)
        created_us, status = round(record['CreationTime'] * 1e6), record['PipelineExecutionStatus']
    db.execute(
        'INSERT INTO records (path, written, pipeline, execution, created_us, status, body) VALUES (?,?,?,?,?,?,?)',
        (path, time.time(), pipeline, execution, created_us, status, text.encode('latin-1')),
    )
db.commit()
db.close()
"""

COLUMNS = """
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute('SELECT path, pipeline, execution, created_us, status FROM records ORDER BY path')
print(json.dumps([list(r) for r in rows]))
"""


def _columns(root: Path) -> dict:
    """What each row of the database says besides its body: path -> [pipeline, execution,
    created_us, status]."""
    out = subprocess.run(
        [sys.executable, "-c", COLUMNS, str(root / store_lib.DATABASE)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return {row[0]: row[1:] for row in json.loads(out.stdout)}


def _files(root: Path) -> None:
    for path, data in RECORDS.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    for path in NOT_RECORDS:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(b"not a record {")


def _database(root: Path) -> None:
    """A format-2 store holding ``RECORDS``, and the same non-record files as the format-1 store."""
    root.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-c", SCHEMA, str(root / store_lib.DATABASE)],
        input=json.dumps({p: d.decode("latin-1") for p, d in RECORDS.items()}),
        text=True,
        check=True,
        timeout=60,
    )
    for path in NOT_RECORDS:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(b"not a record {")


@pytest.fixture(params=["files", "database"])
def store(request, tmp_path) -> Path:
    root = tmp_path / "store"
    if request.param == "files":
        _files(root)
    else:
        _database(root)
    assert store_lib.uses_database(root) == (request.param == "database")
    return root


def test_both_formats_hold_the_same_records(tmp_path):
    _files(tmp_path / "files")
    _database(tmp_path / "db")
    for root in (tmp_path / "files", tmp_path / "db"):
        assert store_lib.record_paths(root) == sorted(RECORDS)
        assert store_lib.read_records(root) == RECORDS
    assert store_lib.record_digest(tmp_path / "files") == store_lib.record_digest(tmp_path / "db")


def test_records_written_through_store_lib_are_rows_like_the_imported_ones(tmp_path):
    _database(tmp_path / "imported")
    (tmp_path / "written").mkdir()
    subprocess.run(
        [sys.executable, "-c", SCHEMA, str(tmp_path / "written" / store_lib.DATABASE)],
        input="{}",
        text=True,
        check=True,
        timeout=60,
    )
    store_lib.write_records(tmp_path / "written", RECORDS)
    assert _columns(tmp_path / "written") == _columns(tmp_path / "imported")
    assert store_lib.read_records(tmp_path / "written") == RECORDS


def test_list_read_and_execution_ids(store):
    steps = "pipelines/p/executions/e1/steps/"
    assert store_lib.record_paths(store, steps) == [steps + "A.json"]
    assert store_lib.record_paths(store, "cache/") == ["cache/p/keys/k.json"]
    assert store_lib.record_paths(store, "pipelines/nope/") == []
    assert store_lib.read_record(store, "pipelines/q/pipeline.json") == b'{"PipelineName": "q"}'
    assert store_lib.read_record(store, "pipelines/q/versions/1.json") is None
    assert store_lib.read_json(store, EXECUTION)["ExecutionId"] == "e1"
    assert store_lib.execution_ids(store, "p") == ["e1", "e2"]
    assert store_lib.execution_ids(store, "q") == []
    assert store_lib.integrity_ok(store)


def test_damage_rewrite_delete_and_the_digest(store):
    before = store_lib.record_digest(store)
    assert store_lib.torn_records(store) == []
    store_lib.truncate_record(store, "pipelines/p/versions/1.json")
    assert store_lib.read_record(store, "pipelines/p/versions/1.json") == b'{"Versi'
    assert store_lib.torn_records(store) == ["pipelines/p/versions/1.json"]
    damaged = store_lib.record_digest(store)
    assert damaged != before
    assert store_lib.record_digest(store) == damaged  # reading changes nothing

    store_lib.write_record(store, "pipelines/p/versions/1.json", RECORDS["pipelines/p/versions/1.json"])
    assert store_lib.record_digest(store) == before
    store_lib.write_json(store, "pipelines/r/pipeline.json", {"PipelineName": "r"})
    assert "pipelines/r/pipeline.json" in store_lib.record_paths(store, "pipelines/")
    store_lib.delete_record(store, "pipelines/r/pipeline.json")
    assert store_lib.record_digest(store) == before
    store_lib.delete_record(store, "pipelines/p/executions/e1/steps/A.json")
    assert store_lib.record_paths(store, "pipelines/p/executions/e1/steps/") == []
    assert store_lib.integrity_ok(store)


def test_database_columns_follow_a_rewritten_execution_record(tmp_path):
    """Rows written through ``store_lib`` carry the columns the store derives; a body that does not
    parse leaves them as they were (a damaged record keeps only its damaged bytes)."""
    root = tmp_path / "store"
    _database(root)
    record = json.loads(RECORDS[EXECUTION])
    store_lib.write_json(root, EXECUTION, dict(record, PipelineExecutionStatus="Executing", CreationTime=1.5))
    store_lib.write_record(root, "pipelines/p/executions/e2/execution.json", b'{"Exec')

    rows = _columns(root)
    assert rows[EXECUTION] == ["p", "e1", 1_500_000, "Executing"]
    assert rows["pipelines/p/executions/e2/execution.json"] == ["p", "e2", 1_700_000_001_500_000, "Executing"]
    assert rows["pipelines/p/executions/e1/steps/A.json"] == ["p", "e1", None, None]
    assert rows["cache/p/keys/k.json"] == ["p", None, None, None]
    assert rows["registry/g/group.json"] == [None, None, None, None]


def test_database_files_are_told_apart():
    assert store_lib.is_database_file("store.db")
    assert store_lib.is_database_file("store.db-wal") and store_lib.is_database_file("store.db-shm")
    assert store_lib.is_database_file("store.db.migrating")
    assert not store_lib.is_database_file("store.lock")
