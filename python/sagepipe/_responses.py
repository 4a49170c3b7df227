"""Store records -> boto3-shaped response dicts (datetimes, key sets, ordering)."""

import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple, overload

_TIME_KEYS = ("CreationTime", "LastModifiedTime", "StartTime", "EndTime", "LastRunTime", "LastExecutionTime")


def is_terminal(status: str) -> bool:
    """Whether nothing changes after an execution ``status`` (the engine's
    ``ExecutionStatus::is_terminal``). The engine's set is read when first asked, so that building a
    pipeline, which imports this module, loads no engine."""
    from sagepipe import _core

    return status in _core.TERMINAL_STATUSES


RESPONSE_METADATA = {"HTTPStatusCode": 200, "RetryAttempts": 0, "HTTPHeaders": {}}


@overload
def to_datetime(t: float) -> datetime: ...
@overload
def to_datetime(t: None) -> None: ...
def to_datetime(t: Optional[float]) -> Optional[datetime]:
    """A record time (seconds since 1970) as an aware datetime; a time no datetime can hold
    means a damaged record (``StoreError``), not a crash of whoever reads it."""
    if t is None:
        return None
    try:
        return datetime.fromtimestamp(t, tz=timezone.utc)
    except (OverflowError, ValueError, OSError) as exc:
        from sagepipe.exceptions import StoreError

        raise StoreError(
            f"damaged store record: time {t!r} is out of range (expected seconds since 1970, before the year 10000)"
        ) from exc


def _times(d: Dict[str, Any]) -> Dict[str, Any]:
    for k in _TIME_KEYS:
        if k in d:
            d[k] = to_datetime(d[k])
    return {k: v for k, v in d.items() if v is not None}


def _service_string(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    return json.dumps(v)


def execution_description(rec: Dict[str, Any]) -> Dict[str, Any]:
    """``DescribePipelineExecution`` from an execution record (the engine recorded its
    ``PipelineExperimentConfig`` with the execution variables filled in)."""
    out = {
        "PipelineArn": rec["PipelineArn"],
        "PipelineExecutionArn": rec["PipelineExecutionArn"],
        "PipelineExecutionDisplayName": rec.get("PipelineExecutionDisplayName"),
        "PipelineExecutionStatus": rec["PipelineExecutionStatus"],
        "PipelineExecutionDescription": rec.get("PipelineExecutionDescription"),
        "PipelineExperimentConfig": rec.get("PipelineExperimentConfig"),
        "FailureReason": rec.get("FailureReason"),
        "CreationTime": rec["CreationTime"],
        "LastModifiedTime": rec["LastModifiedTime"],
        "CreatedBy": {},
        "LastModifiedBy": {},
        "ParallelismConfiguration": rec.get("ParallelismConfiguration"),
        "SelectiveExecutionConfig": rec.get("SelectiveExecutionConfig"),
        "PipelineVersionId": rec.get("PipelineVersionId"),
        "ResponseMetadata": dict(RESPONSE_METADATA),
    }
    return _times(out)


def execution_summary(rec: Dict[str, Any]) -> Dict[str, Any]:
    """One ``PipelineExecutionSummaries`` entry."""
    return _times(
        {
            "PipelineExecutionArn": rec["PipelineExecutionArn"],
            "StartTime": rec["CreationTime"],
            "PipelineExecutionStatus": rec["PipelineExecutionStatus"],
            "PipelineExecutionDescription": rec.get("PipelineExecutionDescription"),
            "PipelineExecutionDisplayName": rec.get("PipelineExecutionDisplayName"),
            "PipelineExecutionFailureReason": rec.get("FailureReason"),
        }
    )


def step_entry(rec: Dict[str, Any]) -> Dict[str, Any]:
    """One ``PipelineExecutionSteps`` entry."""
    return _times(
        {
            "StepName": rec["StepName"],
            "StepDisplayName": rec.get("StepDisplayName"),
            "StepDescription": rec.get("StepDescription"),
            "StartTime": rec.get("StartTime"),
            "EndTime": rec.get("EndTime"),
            "StepStatus": rec["StepStatus"],
            "CacheHitResult": rec.get("CacheHitResult"),
            "AttemptCount": rec.get("AttemptCount"),
            "FailureReason": rec.get("FailureReason"),
            "Metadata": rec.get("Metadata") or {},
            "SelectiveExecutionResult": rec.get("SelectiveExecutionResult"),
        }
    )


def steps_newest_first(records: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [step_entry(r) for r in sorted(records, key=lambda r: r.get("Seq", 0), reverse=True)]


def parameters_list(rec: Dict[str, Any]) -> List[Dict[str, str]]:
    return [{"Name": k, "Value": _service_string(v)} for k, v in rec.get("Parameters", {}).items()]


def pipeline_description(rec: Dict[str, Any], definition: str) -> Dict[str, Any]:
    """``DescribePipeline`` from a pipeline record."""
    return _times(
        {
            "PipelineArn": rec["PipelineArn"],
            "PipelineName": rec["PipelineName"],
            "PipelineDisplayName": rec.get("PipelineDisplayName"),
            "PipelineDefinition": definition,
            "PipelineDescription": rec.get("PipelineDescription"),
            "RoleArn": rec.get("RoleArn"),
            "PipelineStatus": rec.get("PipelineStatus", "Active"),
            "CreationTime": rec["CreationTime"],
            "LastModifiedTime": rec["LastModifiedTime"],
            "LastRunTime": rec.get("LastRunTime"),
            "CreatedBy": {},
            "LastModifiedBy": {},
            "ParallelismConfiguration": rec.get("ParallelismConfiguration"),
            "PipelineVersionId": rec.get("LatestVersion"),
            "ResponseMetadata": dict(RESPONSE_METADATA),
        }
    )


def pipeline_summary(rec: Dict[str, Any]) -> Dict[str, Any]:
    """One ``PipelineSummaries`` entry of ``ListPipelines``."""
    return _times(
        {
            "PipelineArn": rec["PipelineArn"],
            "PipelineName": rec["PipelineName"],
            "PipelineDisplayName": rec.get("PipelineDisplayName"),
            "PipelineDescription": rec.get("PipelineDescription"),
            "RoleArn": rec.get("RoleArn"),
            "CreationTime": rec["CreationTime"],
            "LastModifiedTime": rec["LastModifiedTime"],
            "LastExecutionTime": rec.get("LastRunTime"),
        }
    )


def check_choice(field: str, value: Any, allowed: Tuple[str, ...]) -> None:
    """Raise the service's ``ValidationException`` for an enum value it does not accept."""
    from sagepipe.exceptions import ValidationError

    if value is not None and value not in allowed:
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )


def page(items: List[Any], key: str, max_results: Optional[int], next_token: Optional[str]) -> Dict[str, Any]:
    """One page of a list response: ``{key: items[...], "NextToken": ...}`` (service limits: 1-100)."""
    from sagepipe.exceptions import ValidationError

    if max_results is not None and not (isinstance(max_results, int) and 1 <= max_results <= 100):
        raise ValidationError(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy constraint: "
            "Member must have value between 1 and 100"
        )
    try:
        start = int(next_token) if next_token else 0
    except ValueError:
        start = -1
    if start < 0 or start > len(items):
        raise ValidationError(f"Invalid NextToken: {next_token!r}")
    end = start + max_results if max_results else len(items)
    out: Dict[str, Any] = {key: items[start:end]}
    if end < len(items):
        out["NextToken"] = str(end)
    return out


def sorted_executions(records: List[Dict[str, Any]], sort_by: Optional[str], sort_order: Optional[str]):
    """Execution records in ``ListPipelineExecutions`` order (newest first by default)."""
    check_choice("sortBy", sort_by, ("CreationTime", "PipelineExecutionArn"))
    check_choice("sortOrder", sort_order, ("Ascending", "Descending"))
    key = "PipelineExecutionArn" if sort_by == "PipelineExecutionArn" else "CreationTime"
    return sorted(records, key=lambda r: (r[key], r["ExecutionId"]), reverse=sort_order != "Ascending")
