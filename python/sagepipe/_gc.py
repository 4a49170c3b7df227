"""Garbage collection of the store: which executions and artifacts can go.

Kept: the ``keep`` newest executions of each pipeline, every execution newer than ``older_than``,
every execution still running, and, transitively, every execution a kept one depends on (its
selective-execution reference, and the sources of its reused and cache-hit steps), because a
kept execution's reused outputs live in those. Deleted: the other executions, with the
artifacts their steps produced, except any artifact a kept execution also lists.

Deleting goes through the store (``Store.delete_execution``, ``Store.delete_artifact``), so the
store's own locking and crash-safety rules apply.
"""

import json
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional, Set

from sagepipe._responses import TERMINAL as _TERMINAL


class GcPlan:
    """What a collection keeps and deletes (plain data, printable and JSON-able)."""

    def __init__(self, keep: Dict[str, str], delete: List[str], artifacts: List[str]):
        self.keep = keep  # execution ARN -> why it is kept
        self.delete = delete  # execution ARNs, oldest first
        self.artifacts = artifacts  # artifact URIs only deleted executions produced

    def as_dict(self) -> Dict[str, Any]:
        return {
            "keep": [{"PipelineExecutionArn": a, "Reason": r} for a, r in self.keep.items()],
            "delete": self.delete,
            "artifacts": self.artifacts,
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
    names = pipelines or [p["PipelineName"] for p in json.loads(store.list_pipelines())]
    records: Dict[str, Dict[str, Any]] = {}
    steps: Dict[str, List[Dict[str, Any]]] = {}
    kept: Dict[str, str] = {}
    for name in names:
        executions = sorted(json.loads(store.list_executions(name)), key=lambda r: r["CreationTime"], reverse=True)
        for rank, rec in enumerate(executions):
            arn = rec["PipelineExecutionArn"]
            records[arn] = rec
            steps[arn] = json.loads(store.load_steps(arn))
            if rank < keep:
                kept[arn] = f"one of the {keep} newest of {name}"
            elif rec["PipelineExecutionStatus"] not in _TERMINAL:
                kept[arn] = "still running"
            elif cutoff is not None and rec["CreationTime"] >= cutoff:
                kept[arn] = "newer than the cut-off"
    pending = list(kept)
    while pending:  # keep what kept executions reuse, transitively
        arn = pending.pop()
        for source in _sources(records.get(arn, {}), steps.get(arn, [])):
            if source in records and source not in kept:
                kept[source] = f"reused by kept execution {arn.rsplit('/', 1)[-1]}"
                pending.append(source)
    delete = sorted((a for a in records if a not in kept), key=lambda a: records[a]["CreationTime"])
    protected = {art["Uri"] for arn in kept for step in steps[arn] for art in step.get("Artifacts") or []}
    artifacts = sorted(
        {art["Uri"] for arn in delete for step in steps[arn] for art in step.get("Artifacts") or []} - protected
    )
    return GcPlan(kept, delete, artifacts)


def apply(store, gc_plan: GcPlan) -> None:
    """Delete what the plan says: artifacts first, then the execution records."""
    for uri in gc_plan.artifacts:
        store.delete_artifact(uri)
    for arn in gc_plan.delete:
        store.delete_execution(arn)
