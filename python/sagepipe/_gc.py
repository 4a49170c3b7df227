"""Garbage collection of the store: which executions and artifacts can go.

Kept: the ``keep`` newest executions of each pipeline, every execution newer than ``older_than``,
every execution still running, and, transitively, every execution a kept one depends on (its
selective-execution reference, and the sources of its reused and cache-hit steps), because a
kept execution's reused outputs live in those. Deleted: the other executions, with the
artifacts their steps produced.

An artifact is deleted only when nothing that stays needs it. Places are compared as the store
maps them (``s3://b/proj/``, ``s3://b//proj`` and ``s3://b/proj`` are one place), and by
containment: an artifact is kept when it is, or contains, a location that an execution which
stays (kept, running, or of a pipeline not collected), a model package version or a model
recorded by a CreateModel step refers to, or when it lies inside a location such a thing uses
(its artifacts, the inputs and code its steps read, a registered model). Other locations it only
names (``S3OutputPath`` bases that runs write under, container arguments, prefixes in a
definition) protect themselves and what contains them, not what other runs wrote inside them.
A whole bucket, and anything outside the store's artifact area (``file://`` outputs, local
paths), is never deleted. Each kept artifact is reported with why. Records that cannot be read
are left in place and reported, and what they name is kept; the rest of the store is collected.

Deleting runs under the store's exclusive lock (``Store.exclusive_lock``), which a start takes
shared while it creates its execution (and a cache hit while it records its reuse), so no run
can begin from an execution or an artifact while gc removes it. The plan is made again under
the lock and only what both plans delete goes. Removed data passes through the store's
``trash/``, which each collection empties first (what a killed collection left there).
"""

import json
import re
from datetime import datetime
from pathlib import PurePath
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from sagepipe._responses import is_terminal
from sagepipe.exceptions import ResourceNotFoundError, StoreError, ValidationError

# An s3:// location inside any JSON text (a record, a definition, a JSON-encoded hyperparameter).
_S3_URI = re.compile(r"s3://[^\s\"\\]+")
# Keys of Describe*Job properties whose value is a place a step read or produced (data channels,
# processing inputs and outputs, checkpoints, model data, script-mode code). Other locations in
# properties (S3OutputPath bases, container arguments) are only named.
_USED_PLACE_KEYS = frozenset({"S3Uri", "ModelDataUrl", "S3ModelArtifacts", "sagemaker_submit_directory"})


class GcPlan:
    """What a collection keeps and deletes (plain data, printable and JSON-able)."""

    def __init__(
        self,
        keep: Dict[str, str],
        delete: List[str],
        artifacts: List[str],
        kept_artifacts: Optional[Dict[str, str]] = None,
        unreadable: Optional[List[Dict[str, str]]] = None,
        request: Optional[Dict[str, Any]] = None,
    ):
        self.keep = keep  # execution ARN -> why it is kept
        self.delete = delete  # execution ARNs, oldest first
        self.artifacts = artifacts  # artifact URIs only deleted executions produced, safe to delete
        self.kept_artifacts = kept_artifacts or {}  # artifact URI of a deleted execution -> why it stays
        self.unreadable = unreadable or []  # records gc could not read: {"Path", "Reason"}, left in place
        self.request = request or {}  # the arguments of plan(), to plan again under the lock

    def as_dict(self) -> Dict[str, Any]:
        return {
            "keep": [{"PipelineExecutionArn": a, "Reason": r} for a, r in self.keep.items()],
            "delete": self.delete,
            "artifacts": self.artifacts,
            "kept_artifacts": [{"Uri": u, "Reason": r} for u, r in self.kept_artifacts.items()],
            "unreadable": self.unreadable,
        }


def _sources(record: Dict[str, Any], steps: Iterable[Dict[str, Any]]) -> Set[str]:
    """The executions whose outputs an execution reuses."""
    found = set()
    reference = (record.get("SelectiveExecutionConfig") or {}).get("SourcePipelineExecutionArn")
    if reference:
        found.add(reference)
    for step in steps:
        for key in ("SelectiveExecutionResult", "CacheHitResult"):
            source = (step.get(key) or {}).get("SourcePipelineExecutionArn")
            if source:
                found.add(source)
    return found


class _Protected:
    """The store places that what stays refers to, each with who refers to it; answers whether
    deleting a place would remove one of them.

    A *used* place (an artifact, an input a step read, a model a registry record points at) is
    protected whole: the place itself, everything around it and everything inside it. A place
    that is only *named* (an output base such as ``S3OutputPath`` that runs write under, a
    template or a prefix in a definition) protects itself and what is around it; things inside
    it belong to whoever wrote them.
    """

    def __init__(self, store):
        self._store = store
        self._who: Dict[Tuple[str, ...], Tuple[str, bool]] = {}  # path parts -> (who, used)
        self._under: Dict[Tuple[str, ...], Tuple[str, ...]] = {}  # every prefix of a path -> that path

    def add_text(self, text: str, who: str, used: bool) -> None:
        """Protect every s3:// location named in ``text``."""
        for uri in _S3_URI.findall(text):
            try:
                parts = PurePath(self._store.uri_to_path(uri)).parts
            except ValidationError:
                continue  # not a place in the store
            known = self._who.get(parts)
            if known is None or (used and not known[1]):
                self._who[parts] = (who, used)
            for n in range(1, len(parts) + 1):
                self._under.setdefault(parts[:n], parts)

    def add_record(self, value: Any, who: str, key: str = "") -> None:
        """Protect the locations in a step's properties: used under the keys of places used."""
        if isinstance(value, dict):
            for k, v in value.items():
                self.add_record(v, who, k)
        elif isinstance(value, list):
            for v in value:
                self.add_record(v, who, key)
        elif isinstance(value, str):
            self.add_text(value, who, used=key in _USED_PLACE_KEYS)

    def conflict(self, parts: Tuple[str, ...]) -> Optional[str]:
        """Why the place with these path parts must stay, or None if it may go."""
        if parts in self._who:
            return f"referenced by {self._who[parts][0]}"
        inside = self._under.get(parts)
        if inside is not None:
            return f"contains {self._uri(inside)}, referenced by {self._who[inside][0]}"
        for n in range(len(parts) - 1, 0, -1):
            who, used = self._who.get(parts[:n], ("", False))
            if used:
                return f"lies inside {self._uri(parts[:n])}, used by {who}"
        return None

    def _uri(self, parts: Tuple[str, ...]) -> str:
        return "s3://" + "/".join(parts[len(PurePath(self._store.root, "s3").parts) :])


def _protect_registry(store, protected: _Protected) -> None:
    """Protect what every model package version and every model a CreateModel step recorded
    point at (whatever their approval status: a registered version stays deployable)."""
    for entry in json.loads(store.registry_records()):
        if "Record" in entry:
            protected.add_text(json.dumps(entry["Record"]), entry["Source"], used=True)
        else:  # unreadable: whatever it names stays
            protected.add_text(entry.get("Text", ""), f"the unreadable registry record {entry['Source']}", used=True)


def plan(store, keep: int, older_than: Optional[datetime] = None, pipelines: Optional[List[str]] = None) -> GcPlan:
    """Decide what to delete (reads the store, changes nothing).

    Args:
        store: The opened store (``sagepipe._core.Store``).
        keep: How many of the newest executions of each pipeline to keep (0: none by count).
        older_than: Only executions created before this may be deleted.
        pipelines: Only these pipelines (default: all).
    """
    if keep < 0:
        raise ValueError("keep must be 0 or more")
    cutoff = older_than.timestamp() if older_than is not None else None
    unreadable = json.loads(store.unreadable_records())
    collected = set(pipelines) if pipelines else None
    records: Dict[str, Dict[str, Any]] = {}
    steps: Dict[str, List[Dict[str, Any]]] = {}
    kept: Dict[str, str] = {}
    candidates: Set[str] = set()  # executions of the collected pipelines
    names = [p["PipelineName"] for p in json.loads(store.list_pipelines())]
    for name in pipelines or []:
        store.load_pipeline(name)  # ResourceNotFoundError for a pipeline that does not exist
    for name in names:
        executions = sorted(json.loads(store.list_executions(name)), key=lambda r: r["CreationTime"], reverse=True)
        rank = 0
        for rec in executions:
            arn = rec["PipelineExecutionArn"]
            steps_readable = True
            try:
                steps[arn] = json.loads(store.load_steps(arn))
            except ResourceNotFoundError:  # deleted meanwhile
                continue
            except StoreError:  # a step record cannot be read (it is in `unreadable`): what it refers to is unknown
                steps[arn], steps_readable = [], False
            records[arn] = rec
            if collected is not None and name not in collected:
                continue
            candidates.add(arn)
            if not steps_readable:  # kept, and not one of the `keep` newest
                kept[arn] = "some of its step records cannot be read"
                continue
            if rank < keep:
                kept[arn] = f"one of the {keep} newest of {name}"
            elif not is_terminal(rec["PipelineExecutionStatus"]):
                kept[arn] = "still running"
            elif cutoff is not None and rec["CreationTime"] >= cutoff:
                kept[arn] = "newer than the cut-off"
            rank += 1
    # An execution whose own record cannot be read stays: what its readable step records name
    # and reuse stays with it.
    damaged = {e["PipelineExecutionArn"]: e.pop("StepRecords", []) for e in unreadable if "StepRecords" in e}
    for arn, step_records in damaged.items():
        steps[arn] = step_records
        kept.setdefault(arn, "its execution record cannot be read")
    pending = list(kept)
    while pending:  # keep what kept executions reuse, transitively
        arn = pending.pop()
        for source in _sources(records.get(arn, {}), steps.get(arn, [])):
            if source in candidates and source not in kept:
                kept[source] = f"reused by kept execution {arn.rsplit('/', 1)[-1]}"
                pending.append(source)
    delete = sorted((a for a in candidates if a not in kept), key=lambda a: records[a]["CreationTime"])
    doomed = set(delete)

    # Everything that stays protects what it refers to: kept executions of the collected
    # pipelines, every execution of the others, unreadable records, the model registry.
    protected = _Protected(store)
    for arn, rec in records.items():
        if arn not in doomed:
            _protect_execution(store, protected, rec, steps[arn])
    for arn in damaged:
        _protect_steps(protected, steps[arn], f"execution {arn.rsplit('/', 1)[-1]}, whose record cannot be read")
    for entry in unreadable:
        protected.add_text(entry.pop("Text", ""), f"the unreadable record {entry['Path']}", used=True)
    _protect_registry(store, protected)

    artifacts: List[str] = []
    kept_artifacts: Dict[str, str] = {}
    seen: Set[Tuple[str, ...]] = set()
    bucket_depth = len(PurePath(store.root, "s3").parts) + 1
    for uri in sorted({a["Uri"] for arn in delete for step in steps[arn] for a in step.get("Artifacts") or []}):
        if not uri.startswith("s3://"):
            kept_artifacts[uri] = "outside the store's artifact area: gc deletes only s3:// artifacts"
            continue
        try:
            parts = PurePath(store.uri_to_path(uri)).parts
        except ValidationError as exc:
            kept_artifacts[uri] = f"not a usable S3 URI ({exc})"
            continue
        if len(parts) <= bucket_depth:
            kept_artifacts[uri] = "a whole bucket: gc deletes only places inside a bucket"
            continue
        why = protected.conflict(parts)
        if why is not None:
            kept_artifacts[uri] = why
        elif parts not in seen:
            seen.add(parts)
            artifacts.append(uri)
    request = {"keep": keep, "older_than": older_than, "pipelines": pipelines}
    return GcPlan(kept, delete, artifacts, kept_artifacts, unreadable, request)


def _protect_steps(protected: _Protected, steps: List[Dict[str, Any]], who: str) -> None:
    """Protect what step records produced, read and name."""
    for step in steps:
        for artifact in step.get("Artifacts") or []:
            protected.add_text(artifact["Uri"], who, used=True)
        protected.add_record(step.get("Properties"), who)
        protected.add_text(json.dumps({k: v for k, v in step.items() if k != "Properties"}), who, used=False)


def _protect_execution(store, protected: _Protected, rec: Dict[str, Any], steps: List[Dict[str, Any]]) -> None:
    """Protect what an execution that stays produced, read and names."""
    arn = rec["PipelineExecutionArn"]
    who = f"execution {arn.rsplit('/', 1)[-1]} of {rec['PipelineName']}, which stays"
    _protect_steps(protected, steps, who)
    protected.add_text(json.dumps(rec), who, used=False)
    try:  # templates and prefixes: the resolved places are in the step properties
        protected.add_text(store.execution_definition(arn), who, used=False)
    except (ResourceNotFoundError, StoreError):
        pass  # its record and steps still protect what they name


def apply(store, gc_plan: GcPlan, remove_unreadable: bool = False) -> GcPlan:
    """Delete what the plan says and what a new plan, made under the store's lock, agrees on.

    Args:
        store: The opened store.
        gc_plan: What ``plan()`` decided.
        remove_unreadable: Also remove the execution records that cannot be read (their
            artifacts stay: nothing readable says what they are). Without it they are only reported.

    Returns the plan that was carried out (a concurrent collection or start may have changed
    what can go since ``gc_plan`` was made); removed unreadable records have ``"Removed": True``.
    """
    store.sweep_trash()
    if not (gc_plan.delete or gc_plan.artifacts or remove_unreadable):
        return gc_plan  # nothing to delete: no need to hold up starts
    with store.exclusive_lock():
        fresh = plan(store, **gc_plan.request) if gc_plan.request else gc_plan
        now_deletable, now_deleted = set(fresh.artifacts), set(fresh.delete)
        done = GcPlan(
            fresh.keep,
            [a for a in gc_plan.delete if a in now_deleted],
            [u for u in gc_plan.artifacts if u in now_deletable],
            fresh.kept_artifacts,
            fresh.unreadable,
            gc_plan.request,
        )
        for uri in done.artifacts:
            store.delete_artifact(uri)
        for arn in done.delete:
            try:
                store.delete_execution(arn)
            except ResourceNotFoundError:  # another collection removed it first
                pass
        if remove_unreadable:
            _remove_unreadable(store, done.unreadable)
    store.sweep_trash()
    return done


def _remove_unreadable(store, unreadable: List[Dict[str, Any]]) -> None:
    removed: Dict[str, bool] = {}
    for entry in unreadable:
        arn = entry.get("PipelineExecutionArn")
        if arn is None:
            continue  # a pipeline record: deleting the pipeline removes it
        if arn not in removed:
            try:
                store.delete_execution(arn)
                removed[arn] = True
            except ResourceNotFoundError:
                removed[arn] = True
            except ValidationError:  # its owner still runs it
                removed[arn] = False
        entry["Removed"] = removed[arn]
