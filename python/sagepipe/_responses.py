"""Store records -> boto3-shaped response dicts (datetimes, key sets, ordering)."""

import json
import math
import re
from datetime import datetime, timedelta, timezone
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


def check_max_results(max_results: Any) -> None:
    """Raise the service's ``ValidationException`` for a ``MaxResults`` outside 1-100."""
    from sagepipe.exceptions import ValidationError

    if max_results is not None and not (isinstance(max_results, int) and 1 <= max_results <= 100):
        raise ValidationError(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy constraint: "
            "Member must have value between 1 and 100"
        )


def page(items: List[Any], key: str, max_results: Optional[int], next_token: Optional[str]) -> Dict[str, Any]:
    """One page of a list response: ``{key: items[...], "NextToken": ...}`` (service limits: 1-100)."""
    from sagepipe.exceptions import ValidationError

    check_max_results(max_results)
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


def micros(seconds: float) -> int:
    """A record time in integer microseconds, as ``datetime.fromtimestamp`` (and so every time in a
    response) has it, and as the store orders executions: the whole seconds, then the fraction
    scaled and rounded half to even (scaling the whole value first can differ by 1 µs)."""
    fraction, whole = math.modf(seconds)
    return int(whole) * 1_000_000 + round(fraction * 1e6)


def time_bounds_us(after: Any, before: Any) -> Tuple[Optional[int], Optional[int]]:
    """``CreatedAfter``/``CreatedBefore`` (``datetime``, naive meaning UTC as botocore sends it, or
    epoch seconds, as boto3 accepts) in integer microseconds: responses show times to the microsecond."""
    from sagepipe.exceptions import ValidationError

    bounds: List[Optional[int]] = []
    for value in (after, before):
        if value is None:
            bounds.append(None)
        elif isinstance(value, datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
            bounds.append((aware - _EPOCH) // timedelta(microseconds=1))
        elif isinstance(value, (int, float)):
            bounds.append(micros(float(value)))
        else:
            raise ValidationError(f"expected a datetime or epoch seconds, got {type(value).__name__}")
    return bounds[0], bounds[1]


def created_within(record: Dict[str, Any], lower: Optional[int], upper: Optional[int]) -> bool:
    """Whether a record was created strictly between the bounds (µs, from ``time_bounds_us``)."""
    created = micros(record["CreationTime"])
    return (lower is None or created > lower) and (upper is None or created < upper)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# A ListPipelineExecutions NextToken: the (creation time in µs, execution id) of the last
# execution of the previous page, which the next page starts after.
_EXECUTION_TOKEN = re.compile(r"^(-?[0-9]{1,20}):([A-Za-z0-9-]{1,64})$")
_EVERY = 1 << 40  # "no MaxResults": the whole list, as the local client has always answered


def execution_page(
    store: Any,
    name: str,
    sort_by: Optional[str] = None,
    sort_order: Optional[str] = None,
    created_after: Any = None,
    created_before: Any = None,
    max_results: Optional[int] = None,
    next_token: Optional[str] = None,
) -> Dict[str, Any]:
    """One ``ListPipelineExecutions`` page, ``{"PipelineExecutionSummaries": [...], "NextToken"?}``
    (newest first by default). By creation time (the default) it is one index lookup in the store,
    whatever the history's length, paged by a keyset ``NextToken``; by ARN the list is sorted here."""
    from sagepipe.exceptions import ValidationError

    check_choice("sortBy", sort_by, ("CreationTime", "PipelineExecutionArn"))
    check_choice("sortOrder", sort_order, ("Ascending", "Descending"))
    check_max_results(max_results)
    lower, upper = time_bounds_us(created_after, created_before)
    key = "PipelineExecutionSummaries"
    if sort_by == "PipelineExecutionArn":
        records = [r for r in json.loads(store.list_executions(name)) if created_within(r, lower, upper)]
        summaries = [execution_summary(r) for r in sorted_executions(records, sort_by, sort_order)]
        return page(summaries, key, max_results, next_token)
    after: Optional[Tuple[int, str]] = None
    if next_token:
        match = _EXECUTION_TOKEN.match(next_token) if isinstance(next_token, str) else None
        if match is None:
            raise ValidationError(f"Invalid NextToken: {next_token!r}")
        after = (int(match.group(1)), match.group(2))
    # One more than asked shows whether another page exists, so the last page has no NextToken.
    limit = max_results + 1 if max_results else _EVERY
    found = json.loads(store.execution_page(name, limit, sort_order != "Ascending", lower, upper, after))
    records, position = found["Records"], found["Next"]
    out: Dict[str, Any] = {}
    if max_results and len(records) > max_results:
        records = records[:max_results]
        last = records[-1]
        out["NextToken"] = f"{micros(last['CreationTime'])}:{last['ExecutionId']}"
    elif max_results and position is not None:
        # Rows of the page that could not be read were warned about and left out; the next page
        # starts after the last row looked at.
        out["NextToken"] = f"{position[0]}:{position[1]}"
    return {key: [execution_summary(r) for r in records], **out}
