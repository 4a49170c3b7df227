"""Put a pipeline iterated locally on Amazon SageMaker Pipelines: ``sagepipe deploy``.

The definition sagepipe runs is the one SageMaker accepts; what ties it to this machine is where
its inputs live and which bucket stands in for the account's default one. :func:`deploy`

* uploads what the definition reads and only this machine has (objects of the store's ``s3://``
  area: uploaded code, ``source_dir`` archives, data put there; ``file://`` inputs, parameter
  defaults included) to the real S3 under content-hash keys
  (``<pipeline>/sagepipe-deploy/<sha256>/<name>``), so deploying unchanged code again changes
  no key and SageMaker's step cache keeps hitting, and skips an upload whose key is already
  there;
* points the local default bucket's places (outputs under ``sagemaker-local-000000000000``, or
  the real SDK's ``sagemaker-<region>-000000000000``, in plain URIs and in ``Std:Join`` parts)
  at the target bucket, and job roles of the local
  stand-in account at ``role_arn``: nothing else in the definition changes;
* refuses, before anything is uploaded or created, what cannot run on SageMaker as written: a
  ``file://`` output, an image that exists only on this machine, a step type only a local runner
  knows (``sagepipe.local_runners``), a ``@step`` function known only by its definition (a
  stored pipeline or a definition file: its payload is sagepipe's); every problem, with its step;
* deploys ``@step`` functions as the SageMaker SDK builds them, since only the SDK's job driver
  runs them on SageMaker: those built with sagepipe's mirror are handed to the installed SDK
  (``_sdk_steps``), which builds the same steps and uploads their payloads and job driver; those
  the SDK built (``--sdk real``) go as it put them here: the serialized function and arguments
  at their own keys under the step's ``--s3_base_uri``, the bootstrap scripts and dependencies
  as inputs;
* creates or updates the pipeline (``CreatePipeline``/``UpdatePipeline``; a definition over
  100 KB goes through S3, as the SDK does) and, with ``start=True``, starts an execution
  (parameters, ``ParallelismConfiguration``, ``SelectiveExecutionConfig``).

Credentials, region and endpoint come from the standard AWS configuration (profiles, the
environment, ``AWS_ENDPOINT_URL``); boto3 is the optional ``sagepipe[aws]`` dependency.
"""

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import unquote, urlparse

from sagepipe import _core, _s3_objects, _sdk_steps
from sagepipe._core import LOCAL_ACCOUNT
from sagepipe.exceptions import ValidationError
from sagepipe.session import DEFAULT_BUCKET, default_store_root
from sagepipe.workflow.steps import StepTypeEnum
from sagepipe.workflow.utilities import definition_steps, hash_file

__all__ = ["Deployment", "Upload", "aws_session", "deploy", "prepare"]

# Keys whose values are places a job writes: a file:// there cannot work on SageMaker.
_OUTPUT_KEYS = frozenset(
    {
        "ProcessingOutputConfig",
        "OutputDataConfig",
        "TransformOutput",
        "CheckpointConfig",
        "DebugHookConfig",
        "ProfilerConfig",
        "TensorBoardOutputConfig",
        "OutputConfig",
    }
)
# Keys whose values name a container image.
_IMAGE_KEYS = frozenset({"ImageUri", "TrainingImage", "Image", "InferenceImage"})
_STEP_TYPES = frozenset(t.value for t in StepTypeEnum)
# The channel every @step job has (the SDK's bootstrap scripts).
_FUNCTION_STEP_CHANNEL = "sagemaker_remote_function_bootstrap"
# The SDK's threshold for sending a definition through S3 instead of inline.
_INLINE_DEFINITION_LIMIT = 100 * 1024
_UPLOAD_FOLDER = "sagepipe-deploy"
# The SDK's default bucket, sagemaker-<region>-<account>, of the local account.
_LOCAL_SDK_BUCKET = re.compile(rf"sagemaker-[a-z0-9-]+-{LOCAL_ACCOUNT}")


@dataclass
class Upload:
    """One local input put on S3: where it was, where it is now, and whether it had to be sent
    (``False``: its content-hash key was already there)."""

    local: str
    uri: str
    size: int
    sent: bool


@dataclass
class Deployment:
    """What :func:`deploy` did."""

    pipeline_name: str
    pipeline_arn: str
    created: bool
    bucket: str
    definition: str
    uploads: List[Upload] = field(default_factory=list)
    execution_arn: Optional[str] = None


@dataclass
class _Local:
    """A local input: a file, or a folder (its files by relative path)."""

    files: List[Tuple[str, Path]]
    single: bool
    # Uploaded at this key (a folder) instead of under a content-hash key: the SageMaker SDK's
    # @step payloads, which its job driver finds from the step's --s3_base_uri.
    key: Optional[str] = None

    def digest(self) -> str:
        """SHA-256 of the relative paths and contents (not of where it lies here)."""
        h = hashlib.sha256()
        for rel, path in sorted(self.files):
            h.update(rel.encode() + b"\0" + hash_file(str(path)).encode() + b"\0")
        return h.hexdigest()

    def size(self) -> int:
        return sum(p.stat().st_size for _, p in self.files)


def _is_local_image(uri: str) -> bool:
    """An image reference without a registry host (``my-image:1``, ``sagepipe-local/python``):
    it can only be on this machine. SageMaker pulls from a registry (Amazon ECR)."""
    first = uri.split("/", 1)[0]
    registry = "/" in uri and ("." in first or ":" in first)
    return not registry or first.split(":", 1)[0] in ("localhost", "127.0.0.1")


class _Rewriter:
    """Walks a definition: collects problems, the local inputs to upload, and rewrites places."""

    def __init__(self, store, local_bucket: str, bucket: str, role_arn: str):
        self.store = store
        self.local_buckets = {local_bucket, DEFAULT_BUCKET}
        self.bucket = bucket
        self.role_arn = role_arn
        self.problems: List[Dict[str, Any]] = []
        # original string -> the local input behind it (uploaded later, then rewritten)
        self.inputs: Dict[str, _Local] = {}
        # @step functions in sagepipe's format: refused as a whole, so their other problems are not listed
        self.function_steps: set = set()
        # The --s3_base_uri of the SDK's @step functions: its bucket is pointed at the target one,
        # nothing under it is uploaded as an input (the payloads are, at their own keys).
        self.base_uris: set = set()

    def problem(self, loc: List[Any], msg: str) -> None:
        self.problems.append({"kind": "deploy", "loc": loc, "msg": msg})

    def is_local(self, bucket: Any) -> bool:
        """A bucket that stands in for the account's default one here: the session's, the mirror's,
        or the SDK's default bucket of the local account (the real SDK's, routed to sagepipe)."""
        return isinstance(bucket, str) and (
            bucket in self.local_buckets or _LOCAL_SDK_BUCKET.fullmatch(bucket) is not None
        )

    def check_steps(self, definition: Dict[str, Any]) -> None:
        for step in definition_steps(definition.get("Steps")):
            name = str(step.get("Name", "?"))
            kind = step.get("Type")
            if kind not in _STEP_TYPES:
                self.problem(
                    ["Steps", name, "Type"],
                    f"step {name}: type {kind!r} is not a SageMaker step type (it runs here through "
                    "sagepipe.local_runners); SageMaker cannot run it",
                )
            channels = (step.get("Arguments") or {}).get("InputDataConfig") or []
            if any(isinstance(c, dict) and c.get("ChannelName") == _FUNCTION_STEP_CHANNEL for c in channels):
                self.function_step(name, step)

    def function_step(self, name: str, step: Dict[str, Any]) -> None:
        """A @step function: the SageMaker SDK's (its job driver reads the payload at
        ``<--s3_base_uri>/<step>/<--func_step_s3_dir>/``), deployed with that payload at the same
        key (already there when the SDK built it for this deploy); or sagepipe's own, which no job
        driver on SageMaker reads: refused, unless it is to be handed to the SDK."""
        if name in self.function_steps:
            return  # built again by the SageMaker SDK (sdk_built)
        spec = (step.get("Arguments") or {}).get("AlgorithmSpecification") or {}
        arguments = spec.get("ContainerArguments") or []
        given = {
            flag: arguments[i + 1]
            for i, flag in enumerate(arguments[:-1])
            if flag in ("--s3_base_uri", "--func_step_s3_dir")
        }
        base, folder = given.get("--s3_base_uri"), given.get("--func_step_s3_dir")
        if isinstance(base, str) and isinstance(folder, str) and base.startswith("s3://"):
            bucket, _, key = base[len("s3://") :].partition("/")
            if bucket == self.bucket:
                return  # the SDK built it for this deploy: its payload is on the target bucket
            payload = f"{key.rstrip('/')}/{name}/{folder}"
            found = {part: self._stored(bucket, f"{payload}/{part}") for part in ("function", "arguments")}
            parts = {part: local for part, local in found.items() if local is not None}
            if len(parts) == 2 and any(rel == "payload.pkl" for rel, _ in parts["function"].files):
                self.base_uris.add(base)
                for part, local in parts.items():
                    local.key = f"{payload}/{part}"
                    self.inputs[f"s3://{bucket}/{payload}/{part}/"] = local
                return
        self.function_steps.add(name)
        self.problem(
            ["Steps", name],
            f"step {name} is a @step function whose payload is in sagepipe's format, not the one the SageMaker "
            "SDK's job driver reads on SageMaker; deploy hands such a function to the SageMaker SDK when it has "
            "the function itself: deploy the pipeline object (TARGET module:attribute or file.py:attribute), not "
            "a stored definition",
        )

    def walk(self, value: Any, loc: List[Any], output: bool) -> Any:
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if key == "Std:Join" and isinstance(item, dict) and isinstance(item.get("Values"), list):
                    item = dict(item, Values=[self.bucket if self.is_local(v) else v for v in item["Values"]])
                out[key] = self.walk(item, loc + [key], output or key in _OUTPUT_KEYS)
            return out
        if isinstance(value, list):
            return [self.walk(item, loc + [i], output) for i, item in enumerate(value)]
        if isinstance(value, str):
            return self.string(value, loc, output)
        return value

    def string(self, text: str, loc: List[Any], output: bool) -> str:
        key = loc[-1] if loc else None
        if len(text) > 2 and text[0] == text[-1] == '"' and text[1:].startswith(("s3://", "file://")):
            # a hyperparameter holds a JSON string (sagemaker_submit_directory): the place is inside
            return f'"{self.string(text[1:-1], loc, output)}"'
        if key == "RoleArn" and text.startswith(f"arn:aws:iam::{LOCAL_ACCOUNT}:"):
            return self.role_arn
        if key in _IMAGE_KEYS and _is_local_image(text) and not (len(loc) > 1 and loc[1] in self.function_steps):
            self.problem(
                loc,
                f"{_where(loc)}: image {text!r} exists only on this machine (no registry host); push it to "
                "Amazon ECR and use that URI",
            )
            return text
        if text.startswith("file://"):
            if output:
                self.problem(
                    loc,
                    f"{_where(loc)}: {text} is a place on this machine; a SageMaker job cannot write there "
                    "(use an s3:// location)",
                )
                return text
            path = Path(unquote(urlparse(text).path))
            local = _local_path(path)
            if local is None:
                self.problem(loc, f"{_where(loc)}: {text} does not exist on this machine, so it cannot be uploaded")
            else:
                self.inputs[text] = local
            return text
        if text.startswith("s3://"):
            bucket, _, key = text[len("s3://") :].partition("/")
            local = None if output or text in self.base_uris else self._stored(bucket, key)
            if local is not None:
                self.inputs[text] = local
                return text
            if self.is_local(bucket):
                return f"s3://{self.bucket}/{key}"
        return text

    def _stored(self, bucket: str, key: str) -> Optional[_Local]:
        """The store's object at ``s3://bucket/key``, or the objects under it as a folder."""
        if not key:
            return None
        try:
            path = _s3_objects.object_path(self.store, bucket, key)
        except Exception:  # noqa: BLE001 - a key no store object can have is not a local input
            return None
        if path.is_file():
            return _Local([(path.name, path)], single=True)
        prefix = key if key.endswith("/") else key + "/"
        files = [(k[len(prefix) :], p) for k, p in _s3_objects.iter_objects(self.store, bucket, prefix)]
        return _Local(files, single=False) if files else None


def _local_path(path: Path) -> Optional[_Local]:
    if path.is_file():
        return _Local([(path.name, path)], single=True)
    if path.is_dir():
        files = []
        for dirpath, _, names in os.walk(path):
            for name in names:
                full = Path(dirpath) / name
                files.append((full.relative_to(path).as_posix(), full))
        return _Local(files, single=False)
    return None


def _where(loc: List[Any]) -> str:
    if len(loc) >= 2 and loc[0] == "Steps":
        return f"step {loc[1]}, {'.'.join(str(p) for p in loc[2:])}"
    return ".".join(str(p) for p in loc)


def prepare(
    definition: str,
    pipeline_name: str,
    store,
    *,
    bucket: str,
    role_arn: str,
    local_bucket: str = DEFAULT_BUCKET,
    parameters: Optional[Dict[str, Any]] = None,
    sdk_steps: Optional["_sdk_steps.SdkSteps"] = None,
) -> Tuple[Dict[str, Any], Dict[str, str], Dict[str, "_Local"]]:
    """The definition as it will be deployed and the execution's parameter values (before
    uploads: local inputs still named as they are here), and the local inputs to upload, by the
    string that names them. Raises :class:`~sagepipe.exceptions.ValidationError` listing every
    problem when it cannot run on SageMaker as written. The @step functions of ``sdk_steps`` are
    left to the SageMaker SDK to build (their definition here is replaced after); what it cannot
    be handed is among the problems."""
    parsed = json.loads(definition)
    rewriter = _Rewriter(store, local_bucket, bucket, role_arn)
    if sdk_steps is not None:
        rewriter.function_steps.update(sdk_steps.step_names)
        rewriter.problems.extend(sdk_steps.problems)
    declared = [p.get("Name") for p in parsed.get("Parameters") or [] if isinstance(p, dict)]
    for given in parameters or {}:
        if given not in declared:
            close = _core.suggest(given, [str(d) for d in declared if d])
            hint = f"; did you mean {close!r}?" if close else f" (it has {', '.join(map(str, declared)) or 'none'})"
            rewriter.problem(["PipelineParameters", given], f"parameter {given!r} is not one of the pipeline's{hint}")
    values = {k: rewriter.string(str(v), ["PipelineParameters", k], False) for k, v in (parameters or {}).items()}
    rewriter.check_steps(parsed)
    rewritten = {}
    for key, value in parsed.items():
        if key == "Steps" and isinstance(value, list):
            rewritten[key] = [
                rewriter.walk(step, ["Steps", step.get("Name", i) if isinstance(step, dict) else i], False)
                for i, step in enumerate(value)
            ]
        else:
            rewritten[key] = rewriter.walk(value, [key], False)
    if rewriter.problems:
        lines = "\n".join(f"  - {p['msg']}" for p in rewriter.problems)
        raise ValidationError(
            f"pipeline {pipeline_name} cannot run on SageMaker as written ({len(rewriter.problems)} "
            f"problem{'s' if len(rewriter.problems) != 1 else ''}):\n{lines}",
            json.dumps(rewriter.problems),
        )
    return rewritten, values, rewriter.inputs


def _replace_strings(value: Any, mapping: Dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _replace_strings(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_strings(v, mapping) for v in value]
    if isinstance(value, str):
        if len(value) > 2 and value[0] == value[-1] == '"' and value[1:-1] in mapping:
            return f'"{mapping[value[1:-1]]}"'
        return mapping.get(value, value)
    return value


NEEDS_BOTO3 = "talking to AWS takes boto3: pip install 'sagepipe[aws]'"


def aws_session(region: Optional[str] = None, boto_session=None):
    """``boto_session``, or a boto3 session as the standard AWS configuration gives it
    (profiles, the environment, ``AWS_ENDPOINT_URL``), ``region`` overriding its region.
    Raises ImportError without boto3 and ValueError without a region."""
    if boto_session is None:
        try:
            import boto3
        except ImportError:
            raise ImportError(NEEDS_BOTO3) from None
        boto_session = boto3.session.Session(region_name=region) if region else boto3.session.Session()
    if not boto_session.region_name:
        raise ValueError("no AWS region: pass one (--region) or configure one (AWS_REGION, a profile)")
    return boto_session


def _ensure_bucket(s3, bucket: str, region: str) -> None:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})


def _present(s3, bucket: str, key: str, size: int) -> bool:
    from botocore.exceptions import ClientError

    try:
        return int(s3.head_object(Bucket=bucket, Key=key)["ContentLength"]) == size
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise


def _upload(s3, bucket: str, pipeline_name: str, original: str, local: _Local) -> Upload:
    base = local.key or f"{pipeline_name}/{_UPLOAD_FOLDER}/{local.digest()}"
    sent = False
    for rel, path in local.files:
        key = f"{base}/{rel}"
        if not _present(s3, bucket, key, path.stat().st_size):
            s3.upload_file(str(path), bucket, key)
            sent = True
    uri = f"s3://{bucket}/{base}/{local.files[0][0]}" if local.single else f"s3://{bucket}/{base}/"
    return Upload(local=original, uri=uri, size=local.size(), sent=sent)


def deploy(
    pipeline,
    *,
    role_arn: str,
    bucket: Optional[str] = None,
    region: Optional[str] = None,
    start: bool = False,
    parameters: Optional[Dict[str, Any]] = None,
    parallelism_config: Optional[Dict[str, Any]] = None,
    selective_execution_config: Optional[Dict[str, Any]] = None,
    execution_display_name: Optional[str] = None,
    boto_session=None,
    progress: Optional[Callable[[str], None]] = None,
) -> Deployment:
    """Create or update ``pipeline`` on SageMaker (see the module docs), optionally starting it.

    Args:
        pipeline: A pipeline built with sagepipe (``sagepipe.workflow.pipeline.Pipeline``, also
            one loaded from the store or a definition file): its ``definition()``, ``name`` and
            session (the store its local inputs are in).
        role_arn: The pipeline's execution role; also replaces job roles of the local stand-in
            account (``arn:aws:iam::000000000000:...``).
        bucket: Where uploads and the default bucket's places go (default: the SDK's default
            bucket, ``sagemaker-<region>-<account>``, created if missing).
        region: AWS region (default: the standard AWS configuration's).
        start: Also start an execution.
        parameters: Parameter values of that execution.
        parallelism_config: ``{"MaxParallelExecutionSteps": n}`` of that execution.
        selective_execution_config: ``{"SourcePipelineExecutionArn": ..., "SelectedSteps":
            [{"StepName": ...}]}`` of that execution (a cloud execution as the reference).
        execution_display_name: ``PipelineExecutionDisplayName`` of that execution.
        boto_session: A ``boto3.session.Session`` to use instead of a new one.
        progress: Called with a line per upload and AWS call (the CLI prints them).
    """
    # Built first, as a local run would build it: code it names is put in the store.
    text = pipeline.definition()
    session = getattr(pipeline, "sagemaker_session", None)
    # A mirror session names its store; the real SDK's reaches the store sagepipe routes it to.
    store = getattr(session, "store", None) or _core.Store(str(default_store_root()))
    local_bucket = session.default_bucket() if session is not None and hasattr(session, "default_bucket") else None
    from sagepipe import compat

    function_steps = _sdk_steps.mirror_function_steps(pipeline)
    with compat.suspended():
        aws = aws_session(region, boto_session)
        # Handed to the SageMaker SDK (its problems reported with the others before anything is
        # sent; built once the bucket is there).
        sdk_steps = (
            _sdk_steps.SdkSteps(pipeline, function_steps, role_arn=role_arn, region=aws.region_name)
            if function_steps
            else None
        )
        return _deploy(
            text,
            pipeline.name,
            store,
            local_bucket or DEFAULT_BUCKET,
            aws,
            sdk_steps=sdk_steps,
            role_arn=role_arn,
            bucket=bucket,
            start=start,
            parameters=parameters,
            parallelism_config=parallelism_config,
            selective_execution_config=selective_execution_config,
            execution_display_name=execution_display_name,
            say=progress or (lambda _line: None),
        )


def _deploy(
    text: str,
    name: str,
    store,
    local_bucket: str,
    aws,
    *,
    sdk_steps: Optional["_sdk_steps.SdkSteps"] = None,
    role_arn: str,
    bucket: Optional[str],
    start: bool,
    parameters: Optional[Dict[str, Any]],
    parallelism_config: Optional[Dict[str, Any]],
    selective_execution_config: Optional[Dict[str, Any]],
    execution_display_name: Optional[str],
    say: Callable[[str], None],
) -> Deployment:
    region_name = aws.region_name
    if bucket is None:
        account = aws.client("sts").get_caller_identity()["Account"]
        bucket = f"sagemaker-{region_name}-{account}"
    definition, values, inputs = prepare(
        text, name, store, bucket=bucket, role_arn=role_arn, local_bucket=local_bucket, parameters=parameters,
        sdk_steps=sdk_steps,
    )  # fmt: skip
    s3 = aws.client("s3")
    sagemaker = aws.client("sagemaker")
    _ensure_bucket(s3, bucket, region_name)
    if sdk_steps is not None:
        say(f"handing @step functions to the SageMaker SDK: {', '.join(sdk_steps.step_names)}")
        replacements = sdk_steps.definitions(boto_session=aws, bucket=bucket)
        text = json.dumps(_sdk_steps.replace_steps(json.loads(text), replacements))
        definition, values, inputs = prepare(
            text, name, store, bucket=bucket, role_arn=role_arn, local_bucket=local_bucket, parameters=parameters
        )
    uploads = []
    for original, local in inputs.items():
        done = _upload(s3, bucket, name, original, local)
        say(f"{'uploaded' if done.sent else 'already there'}: {original} -> {done.uri} ({done.size} bytes)")
        uploads.append(done)
    uploaded = {u.local: u.uri for u in uploads}
    definition = _replace_strings(definition, uploaded)
    values = _replace_strings(values, uploaded)
    text = json.dumps(definition)
    request: Dict[str, Any] = {"PipelineName": name, "RoleArn": role_arn}
    if len(text.encode()) > _INLINE_DEFINITION_LIMIT:
        key = f"{name}/{_UPLOAD_FOLDER}/definition/{hashlib.sha256(text.encode()).hexdigest()}.json"
        s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
        request["PipelineDefinitionS3Location"] = {"Bucket": bucket, "ObjectKey": key}
    else:
        request["PipelineDefinition"] = text
    created = not _pipeline_exists(sagemaker, name)
    if created:
        arn = sagemaker.create_pipeline(**request)["PipelineArn"]
    else:
        arn = sagemaker.update_pipeline(**request)["PipelineArn"]
    say(f"{'created' if created else 'updated'}: {arn}")
    deployment = Deployment(name, arn, created, bucket, text, uploads)
    if start:
        start_request: Dict[str, Any] = {"PipelineName": name}
        if values:
            start_request["PipelineParameters"] = [{"Name": k, "Value": v} for k, v in values.items()]
        if parallelism_config:
            start_request["ParallelismConfiguration"] = parallelism_config
        if selective_execution_config:
            start_request["SelectiveExecutionConfig"] = selective_execution_config
        if execution_display_name:
            start_request["PipelineExecutionDisplayName"] = execution_display_name
        deployment.execution_arn = sagemaker.start_pipeline_execution(**start_request)["PipelineExecutionArn"]
        say(f"started: {deployment.execution_arn}")
    return deployment


def _pipeline_exists(sagemaker, name: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        sagemaker.describe_pipeline(PipelineName=name)
        return True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("ResourceNotFound", "ValidationException"):
            return False
        raise
