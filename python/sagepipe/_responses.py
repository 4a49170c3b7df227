"""Store records -> boto3-shaped response dicts (datetimes, key sets, ordering)."""

import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

_TIME_KEYS = ("CreationTime", "LastModifiedTime", "StartTime", "EndTime", "LastRunTime")

RESPONSE_METADATA = {"HTTPStatusCode": 200, "RetryAttempts": 0, "HTTPHeaders": {}}


def to_datetime(t: Optional[float]) -> Optional[datetime]:
    return None if t is None else datetime.fromtimestamp(t, tz=timezone.utc)


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


def execution_description(rec: Dict[str, Any], experiment: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """``DescribePipelineExecution`` from an execution record."""
    out = {
        "PipelineArn": rec["PipelineArn"],
        "PipelineExecutionArn": rec["PipelineExecutionArn"],
        "PipelineExecutionDisplayName": rec.get("PipelineExecutionDisplayName"),
        "PipelineExecutionStatus": rec["PipelineExecutionStatus"],
        "PipelineExecutionDescription": rec.get("PipelineExecutionDescription"),
        "PipelineExperimentConfig": experiment,
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
