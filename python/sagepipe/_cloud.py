"""A SageMaker execution as the reference of a local selective run.

``pipeline.start(selective_execution_config=SelectiveExecutionConfig(source_pipeline_execution_arn=
<an execution on SageMaker>, ...))`` (and ``sagepipe run --select X --reference ARN``) records that
execution in the store first, as SageMaker describes it: its definition
(``DescribePipelineDefinitionForExecution``), parameters (``ListPipelineParametersForExecution``),
steps (``ListPipelineExecutionSteps``) with each job's describe response as the step's properties.
From then on it is a finished execution like a local one and the engine's reference rules apply.

Before the run starts, the S3 objects the selected steps read from reused steps' properties (the
plan's ``reads``) are downloaded into the store's ``s3/`` area, where local steps read S3. An index
(``fetched.json`` in the store) remembers each object's ETag and the file it became, so an object
is fetched again only when it changed on S3 or its local copy did.
"""

import contextlib
import datetime
import fcntl
import functools
import json
import os
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from sagepipe import _s3_objects
from sagepipe.exceptions import ReferenceExecutionError, ValidationError
from sagepipe.workflow.utilities import definition_steps

INDEX = "fetched.json"

# Step metadata key -> (describe call, its name parameter, the name from the ARN or the whole ARN).
_DESCRIBE = {
    "ProcessingJob": ("describe_processing_job", "ProcessingJobName", True),
    "TrainingJob": ("describe_training_job", "TrainingJobName", True),
    "TransformJob": ("describe_transform_job", "TransformJobName", True),
    "Model": ("describe_model", "ModelName", True),
    "RegisterModel": ("describe_model_package", "ModelPackageName", False),
    "TuningJob": ("describe_hyper_parameter_tuning_job", "HyperParameterTuningJobName", True),
    "AutoMLJob": ("describe_auto_ml_job", "AutoMLJobName", True),
}


# arn:aws[-partition]:sagemaker:<region>:<12-digit account>:...
_SAGEMAKER_ARN = re.compile(r"arn:aws[a-z-]*:sagemaker:([a-z]{2}(?:-[a-z]+)+-[0-9]+):([0-9]{12}):.+")


def cloud_region(arn: Optional[str]) -> Optional[str]:
    """The region of an ARN of SageMaker itself (a real region, an account other than the local
    one), else None (a local ARN, or not a well-formed ARN: left to the engine to refuse)."""
    from sagepipe._core import LOCAL_ACCOUNT

    match = _SAGEMAKER_ARN.fullmatch(arn or "")
    return match.group(1) if match and match.group(2) != LOCAL_ACCOUNT else None


@contextlib.contextmanager
def _sagemaker_session(arn: str, boto_session=None) -> Iterator[Any]:
    """A boto3 session for the region of ``arn``, reaching AWS as the standard configuration says
    (even where this process answers AWS calls locally)."""
    from sagepipe import compat
    from sagepipe.deploy import aws_session

    with compat.suspended():
        yield aws_session(cloud_region(arn), boto_session)


def _plain(value: Any) -> Any:
    """A boto3 response as JSON values: times as the service's responses show them (ISO 8601)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def _epoch(value: Any) -> Optional[float]:
    return value.timestamp() if isinstance(value, datetime.datetime) else None


def _all(client, operation: str, key: str, **request) -> List[Dict[str, Any]]:
    """Every item of ``key`` over all pages of ``operation`` (boto3's paginator)."""
    return [item for page in client.get_paginator(operation).paginate(**request) for item in page.get(key, [])]


def _typed(value: str, kind: str) -> Any:
    """A parameter's value as the service lists it (a string), as the type the definition gives."""
    try:
        if kind == "Integer":
            return int(value)
        if kind == "Float":
            return float(value)
    except ValueError:
        return value
    if kind == "Boolean":
        return value.strip().lower() == "true"
    return value


def _properties(sagemaker, metadata: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """A step's properties (what ``Steps.<name>...`` reads), from its metadata: a job's describe
    response, a ConditionStep's outcome, a Lambda or Callback step's output parameters, else the
    metadata itself (check steps, EMR: their properties are the metadata's fields)."""
    for key, (call, field, by_name) in _DESCRIBE.items():
        arn = (metadata.get(key) or {}).get("Arn")
        if arn:
            described = _plain(getattr(sagemaker, call)(**{field: arn.rsplit("/", 1)[-1] if by_name else arn}))
            if key == "TuningJob":
                described["TrainingJobSummaries"] = _plain(
                    _all(
                        sagemaker,
                        "list_training_jobs_for_hyper_parameter_tuning_job",
                        "TrainingJobSummaries",
                        HyperParameterTuningJobName=arn.rsplit("/", 1)[-1],
                    )
                )
            return described
    if "Condition" in metadata:
        return {"Outcome": str(metadata["Condition"].get("Outcome")).lower() == "true"}
    for key in ("Lambda", "Callback"):
        if key in metadata:
            outputs = metadata[key].get("OutputParameters") or []
            return {"OutputParameters": {o["Name"]: o.get("Value") for o in outputs}}
    for value in metadata.values():
        if isinstance(value, dict):
            return _plain(value)
    return None


def _recorded(store, arn: str) -> bool:
    """Whether the store holds the SageMaker execution ``arn`` (imported earlier)."""
    from sagepipe.exceptions import ResourceNotFoundError

    try:
        recorded = json.loads(store.load_execution(arn))["PipelineExecutionArn"]
    except ResourceNotFoundError:
        return False
    if recorded != arn:
        raise ReferenceExecutionError(f"the store holds {recorded}, whose id is that of {arn}: not the same execution")
    return True


def import_execution(store, pipeline_name: str, arn: str, boto_session=None) -> bool:
    """Record the SageMaker execution ``arn`` in ``store`` under ``pipeline_name`` (stored here
    already), unless it is there; True when it was recorded now. Refused, with nothing recorded,
    when it is of another pipeline or has not finished (the service's rules for a reference)."""
    from sagepipe import _core

    parsed = _core.parse_execution_arn(arn)
    if parsed is None:
        raise ValidationError(f"'{arn}' is not a pipeline execution ARN")
    name, execution_id = parsed
    if name != pipeline_name:
        raise ReferenceExecutionError(
            f"SourcePipelineExecutionArn: reference execution {arn} belongs to pipeline '{name}', not "
            f"'{pipeline_name}': a SageMaker execution can be the reference of a local run of the pipeline of "
            "the same name"
        )
    if _recorded(store, arn):
        return False
    with _sagemaker_session(arn, boto_session) as aws:
        sagemaker = aws.client("sagemaker")
        described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
        status = described["PipelineExecutionStatus"]
        if status not in ("Succeeded", "Failed", "Stopped"):
            raise ReferenceExecutionError(
                f"SourcePipelineExecutionArn: reference execution {arn} is {status} on SageMaker; it must be "
                "Succeeded, Failed or Stopped"
            )
        definition = sagemaker.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)[
            "PipelineDefinition"
        ]
        listed = _all(
            sagemaker, "list_pipeline_parameters_for_execution", "PipelineParameters", PipelineExecutionArn=arn
        )
        steps = _all(
            sagemaker,
            "list_pipeline_execution_steps",
            "PipelineExecutionSteps",
            PipelineExecutionArn=arn,
            SortOrder="Ascending",
        )
        parsed_definition = json.loads(definition)
        types = {str(s.get("Name")): str(s.get("Type")) for s in definition_steps(parsed_definition.get("Steps"))}
        records = []
        for seq, step in enumerate(steps):
            metadata = _plain(step.get("Metadata") or {})
            succeeded = step["StepStatus"] == "Succeeded"
            records.append(
                {
                    "StepName": step["StepName"],
                    "StepType": types.get(step["StepName"], "Unknown"),
                    "StepDisplayName": step.get("StepDisplayName"),
                    "StepDescription": step.get("StepDescription"),
                    "StartTime": _epoch(step.get("StartTime")),
                    "EndTime": _epoch(step.get("EndTime")),
                    "StepStatus": step["StepStatus"],
                    "AttemptCount": step.get("AttemptCount", 1),
                    "FailureReason": step.get("FailureReason"),
                    "Metadata": metadata,
                    "CacheHitResult": _plain(step.get("CacheHitResult")),
                    "SelectiveExecutionResult": _plain(step.get("SelectiveExecutionResult")),
                    "Properties": _properties(sagemaker, step.get("Metadata") or {}) if succeeded else None,
                    "Seq": seq,
                }
            )
    kinds = {p.get("Name"): p.get("Type") for p in parsed_definition.get("Parameters", [])}
    values = {p.get("Name"): p.get("DefaultValue") for p in parsed_definition.get("Parameters", [])}
    values.update({p["Name"]: _typed(p["Value"], kinds.get(p["Name"], "String")) for p in listed})
    created = _epoch(described.get("CreationTime")) or 0.0
    changed = _epoch(described.get("LastModifiedTime")) or created
    record = {
        "PipelineName": name,
        "PipelineArn": described.get("PipelineArn") or arn.split("/execution/")[0],
        "PipelineExecutionArn": arn,
        "ExecutionId": execution_id,
        "PipelineExecutionStatus": status,
        "PipelineExecutionDisplayName": described.get("PipelineExecutionDisplayName"),
        "PipelineExecutionDescription": described.get("PipelineExecutionDescription"),
        "FailureReason": described.get("FailureReason") or None,
        "CreationTime": created,
        "LastModifiedTime": changed,
        "EndTime": changed,
        "ParallelismConfiguration": described.get("ParallelismConfiguration"),
        "SelectiveExecutionConfig": described.get("SelectiveExecutionConfig"),
        "PipelineVersionId": described.get("PipelineVersionId", 0),
        "Parameters": {k: v for k, v in values.items() if k is not None},
        "PipelineExperimentConfig": described.get("PipelineExperimentConfig") or None,
        "OwnerPid": 0,
    }
    return store.import_execution(json.dumps(record), definition, json.dumps(records))


# ---- the reused outputs ----


def _split(uri: str) -> Tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def _objects(s3, uri: str) -> List[Dict[str, Any]]:
    """The objects ``uri`` names on S3: the object itself, or those under it as a folder."""
    bucket, key = _split(uri)
    folder = key if key.endswith("/") or not key else key + "/"
    found = _all(s3, "list_objects_v2", "Contents", Bucket=bucket, Prefix=key)
    return [
        dict(o, Bucket=bucket)
        for o in found
        if (o["Key"] == key or o["Key"].startswith(folder)) and not o["Key"].endswith("/")
    ]


@contextlib.contextmanager
def _index(store) -> Iterator[Dict[str, Any]]:
    """The fetch index, held under its lock (concurrent runs fetch one after the other)."""
    root = Path(store.root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / (INDEX + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = root / INDEX
        try:
            index = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            index = {}
        before = json.dumps(index, sort_keys=True)
        yield index
        if json.dumps(index, sort_keys=True) != before:
            _s3_objects.put_object(path, lambda tmp: tmp.write_text(json.dumps(index)))


def _here(store, index: Dict[str, Any], obj: Dict[str, Any]) -> bool:
    """Whether the object's local copy is the one fetched for this ETag, untouched since."""
    uri = f"s3://{obj['Bucket']}/{obj['Key']}"
    entry = index.get(uri)
    if not entry or entry.get("ETag") != obj.get("ETag"):
        return False
    try:
        st = os.stat(store.uri_to_path(uri))
    except OSError:
        return False
    return (st.st_size, st.st_mtime_ns) == (entry.get("Size"), entry.get("MtimeNs"))


def _download(s3, obj: Dict[str, Any], to: Path) -> None:
    s3.download_file(obj["Bucket"], obj["Key"], str(to))


def fetch(store, uris: List[str], reference_arn: str, download: bool = True, boto_session=None) -> List[Dict[str, Any]]:
    """Per URI the selected steps read: ``{"uri", "objects", "bytes", "fetch_objects", "fetch_bytes"}``,
    what is on S3 under it and what of that is not in the store yet; with ``download`` that part
    is downloaded (streamed to a temporary file, then renamed) and the index updated."""
    out = []
    with _sagemaker_session(reference_arn, boto_session) as aws, _index(store) as index:
        s3 = aws.client("s3")
        for uri in uris:
            objects = _objects(s3, uri)
            missing = [o for o in objects if not _here(store, index, o)]
            out.append(
                {
                    "uri": uri,
                    "objects": len(objects),
                    "bytes": sum(o["Size"] for o in objects),
                    "fetch_objects": len(missing),
                    "fetch_bytes": sum(o["Size"] for o in missing),
                }
            )
            if not download:
                continue
            for obj in missing:
                key_uri = f"s3://{obj['Bucket']}/{obj['Key']}"
                target = Path(store.uri_to_path(key_uri))
                _s3_objects.put_object(target, functools.partial(_download, s3, obj))
                st = target.stat()
                index[key_uri] = {"ETag": obj.get("ETag"), "Size": st.st_size, "MtimeNs": st.st_mtime_ns}
    return out


# ---- logs ----

# Step metadata key -> the CloudWatch Logs group of its jobs.
_LOG_GROUPS = {
    "ProcessingJob": "/aws/sagemaker/ProcessingJobs",
    "TrainingJob": "/aws/sagemaker/TrainingJobs",
    "TransformJob": "/aws/sagemaker/TransformJobs",
}


def step_logs(arn: str, step: str, boto_session=None) -> Iterator[str]:
    """What the job of step ``step`` of the SageMaker execution ``arn`` printed, line by line,
    from CloudWatch Logs (each of the job's log streams in turn, named when there are several).
    Raises LookupError naming the steps when there is no such step, and ValueError when the step
    ran no job (a ConditionStep, a Lambda step...)."""
    from sagepipe import _core

    with _sagemaker_session(arn, boto_session) as aws:
        listed = _all(
            aws.client("sagemaker"),
            "list_pipeline_execution_steps",
            "PipelineExecutionSteps",
            PipelineExecutionArn=arn,
            SortOrder="Ascending",
        )
        found = [s for s in listed if s.get("StepName") == step]
        if not found:
            names = [str(s.get("StepName")) for s in listed]
            close = _core.suggest(step, names)
            hint = f" (did you mean '{close}'?)" if close else f"; its steps: {', '.join(names) or 'none yet'}"
            raise LookupError(f"execution {arn} has no step '{step}'{hint}")
        metadata = found[-1].get("Metadata") or {}
        jobs = [
            (group, metadata[key]["Arn"]) for key, group in _LOG_GROUPS.items() if (metadata.get(key) or {}).get("Arn")
        ]
        if not jobs:
            kinds = ", ".join(metadata) or "no job"
            raise ValueError(
                f"step '{step}' of {arn} ran {kinds}: only processing, training and transform jobs write logs"
            )
        group, job_arn = jobs[0]
        job = job_arn.rsplit("/", 1)[-1]
        logs = aws.client("logs")
        try:
            streams = _all(
                logs, "describe_log_streams", "logStreams", logGroupName=group, logStreamNamePrefix=f"{job}/"
            )
        except logs.exceptions.ResourceNotFoundException:
            streams = []  # no job of this account has logged yet
        names = sorted(s["logStreamName"] for s in streams)
        for name in names:
            if len(names) > 1:
                yield f"[{name}]"
            token = None
            while True:
                request = {"logGroupName": group, "logStreamName": name, "startFromHead": True}
                if token:
                    request["nextToken"] = token
                page = logs.get_log_events(**request)
                for event in page.get("events", []):
                    yield event.get("message", "").rstrip("\n")
                if not page.get("events") or page.get("nextForwardToken") in (None, token):
                    break
                token = page["nextForwardToken"]
