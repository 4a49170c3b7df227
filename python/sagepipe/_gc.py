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
the lock, unless no record was written since the first began reading (every start, step and
cache hit writes its records before anything can use it), and only what both plans delete goes.
Executions are deleted many to a transaction, in chunks, so a running execution that writes
its records meanwhile waits for one chunk at most. Removed data passes through the store's
``trash/``, which each collection empties first (what a killed collection left there).
"""

import json
import re
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from sagepipe.exceptions import ResourceNotFoundError, ValidationError

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
        state: Optional[Tuple[int, int, int]] = None,
    ):
        self.keep = keep  # execution ARN -> why it is kept
        self.delete = delete  # execution ARNs, oldest first
        self.artifacts = artifacts  # artifact URIs only deleted executions produced, safe to delete
        self.kept_artifacts = kept_artifacts or {}  # artifact URI of a deleted execution -> why it stays
        self.unreadable = unreadable or []  # records gc could not read: {"Path", "Reason"}, left in place
        self.request = request or {}  # the arguments of plan(), to plan again under the lock
        self.state = state  # the store's records state when the plan began (Store.records_state)

    def as_dict(self) -> Dict[str, Any]:
        return {
            "keep": [{"PipelineExecutionArn": a, "Reason": r} for a, r in self.keep.items()],
            "delete": self.delete,
            "artifacts": self.artifacts,
            "kept_artifacts": [{"Uri": u, "Reason": r} for u, r in self.kept_artifacts.items()],
            "unreadable": self.unreadable,
        }


def plan(store, keep: int, older_than: Optional[datetime] = None, pipelines: Optional[List[str]] = None) -> GcPlan:
    """Decide what to delete (reads the store, changes nothing). The rules above are applied
    by the core in one pass over the store's records (``sagepipe_core::engine::gc``).

    Args:
        store: The opened store (``sagepipe._core.Store``).
        keep: How many of the newest executions of each pipeline to keep (0: none by count).
        older_than: Only executions created before this may be deleted.
        pipelines: Only these pipelines (default: all).
    """
    if keep < 0:
        raise ValueError("keep must be 0 or more")
    cutoff = older_than.timestamp() if older_than is not None else None
    found = json.loads(store.gc_plan(keep, cutoff, list(pipelines) if pipelines else None))
    unreadable = []
    for entry in found["unreadable"]:
        entry.pop("Text", None)
        entry.pop("StepRecords", None)
        unreadable.append(entry)
    request = {"keep": keep, "older_than": older_than, "pipelines": pipelines}
    state = tuple(found["state"]) if found["state"] is not None else None
    return GcPlan(
        dict(found["keep"]),
        found["delete"],
        found["artifacts"],
        dict(found["kept_artifacts"]),
        unreadable,
        request,
        state,
    )


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
        # Nothing committed to the records since the plan began reading (by any process, this
        # one included): a new plan would be this one.
        unchanged = gc_plan.state is not None and store.records_state() == gc_plan.state
        fresh = plan(store, **gc_plan.request) if gc_plan.request and not unchanged else gc_plan
        now_deletable, now_deleted = set(fresh.artifacts), set(fresh.delete)
        done = GcPlan(
            fresh.keep,
            [a for a in gc_plan.delete if a in now_deleted],
            [u for u in gc_plan.artifacts if u in now_deletable],
            fresh.kept_artifacts,
            fresh.unreadable,
            gc_plan.request,
        )
        store.delete_artifacts(done.artifacts)
        store.delete_executions(done.delete)  # skips what another collection removed first
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
