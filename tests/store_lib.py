"""Store records for tests, by logical path, however the store keeps them.

A *record* is what the store writes as one JSON document, plus the ``stop-requested`` marker, named
by its **logical path**: the path, relative to the store root and '/'-separated, that the record
has as a file in a format-1 store (``pipelines/<p>/pipeline.json``, ``pipelines/<p>/versions/<n>.json``,
``pipelines/<p>/executions/<id>/execution.json``, ``.../<id>/definition.json``,
``.../<id>/steps/<step>.json``, ``.../<id>/stop-requested``, ``cache/<p>/...json``,
``registry/...json``). Tests that read, list, damage or delete records go through this module, so
that they hold for either way of keeping them:

- a store with ``<root>/store.db`` (format 2) keeps each record as a row of its ``records`` table
  (path, written, pipeline, execution, created_us, status, body);
- otherwise (format 1) each record is the file ``<root>/<logical path>``.

Everything else (artifacts under ``s3/``, logs, ``jobs/``, lock files, the ``reserve`` pieces) is a
file in both formats, and tests look at it directly.

The database is only ever opened in a child process (``sys.executable -c``): ``sagepipe._core`` links
its own SQLite, and two SQLite libraries in one process break each other's POSIX locks. Each call
below is one child, whatever the number of records it touches.

Damaging a record is writing bytes that do not parse (``write_record``), what truncating the file
did in format 1; the store must report it unreadable as it did the file.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Union

DATABASE = "store.db"
RECORD_ROOTS = ("pipelines", "cache", "registry")
STOP_REQUEST = "stop-requested"

Root = Union[str, "os.PathLike[str]"]

# The child that answers for a database store: reads one JSON request on stdin, writes one JSON
# answer on stdout. Bodies travel base64-encoded (damaged records are not UTF-8 JSON).
_SQL_CHILD = r"""
import base64, json, math, sqlite3, sys, time

request = json.load(sys.stdin)
db = sqlite3.connect(request["db"], timeout=60, isolation_level=None)
op = request["op"]


def under(prefix):
    return db.execute(
        "SELECT path, body FROM records WHERE substr(path, 1, ?) = ? ORDER BY path", (len(prefix), prefix)
    ).fetchall()


def columns(path, body):
    # What the store derives from a record besides its body; a body that does not parse (a damaged
    # record) or a time that fits no column leaves the derived columns as they were.
    parts = path.split("/")
    pipeline = parts[1] if parts[0] in ("pipelines", "cache") and len(parts) > 2 else None
    execution = parts[3] if parts[0] == "pipelines" and len(parts) > 4 and parts[2] == "executions" else None
    derived = {"pipeline": pipeline, "execution": execution}
    if execution is not None and parts[4:] == ["execution.json"]:
        try:
            record = json.loads(body)
            created = float(record["CreationTime"])
            status = record["PipelineExecutionStatus"]
        except (ValueError, TypeError, KeyError):
            return derived
        if math.isfinite(created) and abs(created) < 9e12:
            # The store's microseconds: whole seconds, then the fraction rounded half to even
            # (as datetime.fromtimestamp has them; sagepipe._responses.micros).
            fraction, whole = math.modf(created)
            derived.update(created_us=int(whole) * 1_000_000 + round(fraction * 1e6), status=status)
    return derived


if op == "paths":
    answer = [p for (p,) in db.execute(
        "SELECT path FROM records WHERE substr(path, 1, ?) = ? ORDER BY path",
        (len(request["prefix"]), request["prefix"]),
    )]
elif op == "read":
    answer = {p: base64.b64encode(b).decode() for p, b in under(request["prefix"])}
elif op == "write":
    now = time.time()
    db.execute("BEGIN IMMEDIATE")
    for path, data in request["records"].items():
        body = base64.b64decode(data)
        derived = columns(path, body)
        db.execute(
            "INSERT INTO records (path, written, pipeline, execution, body) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET written = excluded.written, body = excluded.body",
            (path, now, derived["pipeline"], derived["execution"], body),
        )
        if "created_us" in derived:
            db.execute(
                "UPDATE records SET created_us = ?, status = ? WHERE path = ?",
                (derived["created_us"], derived["status"], path),
            )
    db.execute("COMMIT")
    answer = None
elif op == "delete":
    db.execute("BEGIN IMMEDIATE")
    db.executemany("DELETE FROM records WHERE path = ?", [(p,) for p in request["paths"]])
    db.execute("COMMIT")
    answer = None
elif op == "integrity":
    answer = [row[0] for row in db.execute("PRAGMA integrity_check")]
else:
    raise SystemExit(f"unknown op {op!r}")
db.close()
json.dump(answer, sys.stdout)
"""


def uses_database(root: Root) -> bool:
    """Whether the store at ``root`` keeps its records in ``store.db`` (format 2)."""
    return (Path(root) / DATABASE).is_file()


def is_database_file(name: str) -> bool:
    """Whether a file name at the store root is the database or one of SQLite's companions of it
    (WAL, shared memory, journal, a migration in progress): files whose bytes are not records
    and change under readers too."""
    return name == DATABASE or name.startswith(DATABASE + "-") or name.startswith(DATABASE + ".")


def _sql(root: Root, request: dict):
    request = dict(request, db=str(Path(root) / DATABASE))
    done = subprocess.run(
        [sys.executable, "-I", "-c", _SQL_CHILD],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"store_lib SQL child failed ({request['op']}):\n{done.stderr}")
    return json.loads(done.stdout)


def _is_record_file(relative: str) -> bool:
    parts = relative.split("/")
    name = parts[-1]
    step_logs = parts[0] == "pipelines" and len(parts) > 5 and parts[2] == "executions" and parts[4] == "logs"
    if parts[0] not in RECORD_ROOTS or name.startswith(".") or step_logs:
        return False
    return name.endswith(".json") or name == STOP_REQUEST


def _record_files(root: Path, prefix: str) -> List[str]:
    # Walk the deepest directory the prefix names, then keep what starts with the prefix.
    bases = [root / prefix.rsplit("/", 1)[0]] if "/" in prefix else [root / top for top in RECORD_ROOTS]
    found = []
    for base in bases:
        for directory, _, files in os.walk(base):
            for name in files:
                relative = Path(directory, name).relative_to(root).as_posix()
                if relative.startswith(prefix) and _is_record_file(relative):
                    found.append(relative)
    return sorted(found)


def record_paths(root: Root, prefix: str = "") -> List[str]:
    """The logical paths of the records whose path starts with ``prefix``, sorted."""
    if uses_database(root):
        return _sql(root, {"op": "paths", "prefix": prefix})
    return _record_files(Path(root), prefix)


def read_records(root: Root, prefix: str = "") -> Dict[str, bytes]:
    """Every record whose path starts with ``prefix``: logical path -> the bytes it holds."""
    if uses_database(root):
        return {p: base64.b64decode(b) for p, b in _sql(root, {"op": "read", "prefix": prefix}).items()}
    return {p: (Path(root) / p).read_bytes() for p in _record_files(Path(root), prefix)}


def read_record(root: Root, path: str) -> Optional[bytes]:
    """The bytes of one record, or None when there is no such record."""
    if uses_database(root):
        return read_records(root, path).get(path)
    file = Path(root) / path
    return file.read_bytes() if file.is_file() else None


def read_json(root: Root, path: str):
    """One record parsed, or None when there is no such record."""
    data = read_record(root, path)
    return None if data is None else json.loads(data)


def write_records(root: Root, records: Mapping[str, bytes]) -> None:
    """Write (create or replace) records, in one transaction with the database. In a database the
    columns derived from a record (pipeline, execution, and for an execution record its creation
    time and status) follow the new bytes when they parse, as the store would have written them."""
    if uses_database(root):
        encoded = {p: base64.b64encode(d).decode() for p, d in records.items()}
        _sql(root, {"op": "write", "records": encoded})
        return
    for path, data in records.items():
        file = Path(root) / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data)


def write_record(root: Root, path: str, data: bytes) -> None:
    """Write one record's bytes: a rewrite, or damage when they do not parse."""
    write_records(root, {path: data})


def write_json(root: Root, path: str, value) -> None:
    write_record(root, path, json.dumps(value).encode())


def truncate_record(root: Root, path: str) -> None:
    """Damage a record by keeping the first half of its bytes (a torn write)."""
    data = read_record(root, path)
    assert data is not None, f"no record {path}"
    write_record(root, path, data[: len(data) // 2])


def delete_record(root: Root, path: str) -> None:
    """Remove one record (what deleting its file did)."""
    if uses_database(root):
        _sql(root, {"op": "delete", "paths": [path]})
    else:
        (Path(root) / path).unlink()


def execution_ids(root: Root, pipeline: str) -> List[str]:
    """The ids of the executions of ``pipeline`` that have an execution record, sorted."""
    prefix = f"pipelines/{pipeline}/executions/"
    suffix = "/execution.json"
    return [p[len(prefix) : -len(suffix)] for p in record_paths(root, prefix) if p.endswith(suffix)]


def torn_records(root: Root) -> List[str]:
    """The JSON records that do not parse (what a torn write leaves)."""
    torn = []
    for path, data in read_records(root).items():
        if path.endswith(".json"):
            try:
                json.loads(data)
            except ValueError:
                torn.append(path)
    return torn


def record_digest(root: Root) -> str:
    """A digest of every record's path and bytes: equal digests, same records."""
    digest = hashlib.sha256()
    for path, data in sorted(read_records(root).items()):
        digest.update(f"{path}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def integrity_ok(root: Root) -> bool:
    """Whether the record store as a whole is sound: SQLite's integrity check for a database;
    a file store has nothing beyond its single records (see ``torn_records``)."""
    if uses_database(root):
        return _sql(root, {"op": "integrity"}) == ["ok"]
    return True
