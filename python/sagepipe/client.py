"""A boto3-shaped SageMaker client over the local store: ``sagepipe.client()``.

Code written against ``boto3.client("sagemaker")`` runs unchanged with only the construction
replaced: the pipeline methods take the same keyword arguments and return the same response
shapes (``datetime`` timestamps, ARNs, ``NextToken`` pagination, ``ResponseMetadata``), and
errors are :class:`ClientError` with ``error.response["Error"]["Code"]`` set as the service sets
it (``ValidationException``, ``ResourceNotFound``). When botocore is installed, :class:`ClientError`
is a real ``botocore.exceptions.ClientError``, so existing ``except`` clauses keep working.

Example::

    import sagepipe

    sm = sagepipe.client()                       # instead of boto3.client("sagemaker")
    arn = sm.start_pipeline_execution(PipelineName="demo")["PipelineExecutionArn"]
"""

import functools
import json
import os
import sys
import types
import uuid
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Dict, Iterator, List, Optional

from sagepipe import _core, _responses
from sagepipe.exceptions import (
    ConflictError,
    ResourceNotFoundError,
    SagePipeError,
    StoreError,
    ValidationError,
)

try:  # a real botocore ClientError when botocore is there, so `except ClientError` keeps working
    from botocore.exceptions import ClientError as _ClientErrorBase
except ImportError:  # pragma: no cover - depends on the environment
    _ClientErrorBase = None

__all__ = ["ClientError", "LocalSageMakerClient", "client"]


if _ClientErrorBase is not None:

    class ClientError(_ClientErrorBase):
        """An error response of the local client (a ``botocore.exceptions.ClientError``)."""

else:

    class ClientError(Exception):  # type: ignore[no-redef]  # one of two definitions, by whether botocore is there
        """An error response of the local client, shaped like ``botocore.exceptions.ClientError``.

        Args:
            error_response: ``{"Error": {"Code", "Message"}, "ResponseMetadata": {...}}``.
            operation_name: The API operation, e.g. ``DescribePipelineExecution``.
        """

        def __init__(self, error_response: Dict[str, Any], operation_name: str):
            error = error_response.get("Error", {})
            super().__init__(
                f"An error occurred ({error.get('Code', 'Unknown')}) when calling the {operation_name} "
                f"operation: {error.get('Message', 'Unknown')}"
            )
            self.response = error_response
            self.operation_name = operation_name


def _error_class(code: str) -> type:
    return type(code, (ClientError,), {"__doc__": f"The service's ``{code}`` error."})


class _Exceptions:
    """``client.exceptions``: the modeled error classes, as boto3 exposes them."""

    ClientError = ClientError
    ResourceNotFound = _error_class("ResourceNotFound")
    ValidationException = _error_class("ValidationException")
    ConflictException = _error_class("ConflictException")
    ResourceLimitExceeded = _error_class("ResourceLimitExceeded")
    ResourceInUse = _error_class("ResourceInUse")
    InternalFailure = _error_class("InternalFailure")


def _client_error(exc: Exception, operation: str) -> ClientError:
    if isinstance(exc, ResourceNotFoundError):
        code, status = "ResourceNotFound", 400
    elif isinstance(exc, ConflictError):
        code, status = "ConflictException", 400
    elif isinstance(exc, StoreError):
        code, status = "InternalFailure", 500
    else:
        code, status = "ValidationException", 400
    response = {
        "Error": {"Code": code, "Message": str(exc)},
        "ResponseMetadata": {**_responses.RESPONSE_METADATA, "HTTPStatusCode": status},
    }
    error = getattr(_Exceptions, code)(response, operation)
    error.__cause__ = exc
    return error


def _operation(name: str) -> Callable:
    """Run a client method, turning sagepipe errors into the operation's ``ClientError``."""

    def wrap(method: Callable) -> Callable:
        @functools.wraps(method)
        def call(self, **kwargs):
            try:
                return method(self, **kwargs)
            except SagePipeError as exc:
                raise _client_error(exc, name) from exc

        call.operation_name = name  # type: ignore[attr-defined]  # a function attribute, read by _service
        return call

    return wrap


def _with_metadata(response: Dict[str, Any]) -> Dict[str, Any]:
    response["ResponseMetadata"] = dict(_responses.RESPONSE_METADATA)
    return response


def _created_between(after: Any, before: Any) -> Callable[[Dict[str, Any]], bool]:
    """A filter on records' ``CreationTime`` for ``CreatedAfter``/``CreatedBefore``."""
    lower, upper = _responses.time_bounds_us(after, before)
    return lambda record: _responses.created_within(record, lower, upper)


def _pipeline_name(name_or_arn: Any) -> str:
    if not isinstance(name_or_arn, str) or not name_or_arn:
        raise ValidationError("PipelineName is required: the name or ARN of a pipeline")
    if name_or_arn.startswith("arn:"):
        # A pipeline ARN, or (accepted too) one of its execution ARNs: the engine reads them.
        execution = _core.parse_execution_arn(name_or_arn)
        name = _core.parse_pipeline_arn(name_or_arn) or (execution[0] if execution else None)
        if name:
            return name
    return name_or_arn


def _required(value: Any, field: str) -> Any:
    if value is None:
        raise ValidationError(f'Missing required parameter in input: "{field}"')
    return value


class _Meta:
    def __init__(self, region_name: str):
        self.region_name = region_name
        self.service_model = None


class _Paginator:
    """``client.get_paginator(name)``: iterate the pages of a list operation."""

    def __init__(self, method: Callable, result_key: str):
        self._method = method
        self._result_key = result_key

    def paginate(self, PaginationConfig: Optional[Dict[str, Any]] = None, **kwargs) -> Iterator[Dict[str, Any]]:  # noqa: N803
        config = PaginationConfig or {}
        token = config.get("StartingToken")
        remaining = config.get("MaxItems")
        while True:
            request = dict(kwargs)
            if config.get("PageSize"):
                request["MaxResults"] = config["PageSize"]
            if token:
                request["NextToken"] = token
            response = self._method(**request)
            if remaining is not None:
                response[self._result_key] = response[self._result_key][:remaining]
                remaining -= len(response[self._result_key])
            yield response
            token = response.get("NextToken")
            if not token or remaining == 0:
                return


class LocalSageMakerClient:
    """The pipeline part of the SageMaker API, served from a local sagepipe store.

    Build it with :func:`client`. Method names, keyword arguments and response shapes are
    botocore's (``service-2.json``); ``Tags``, ``RoleArn`` and other AWS-only fields are accepted
    and recorded where the service records them.

    Args:
        sagemaker_session: The session whose store is used (a ``PipelineSession``).
    """

    exceptions = _Exceptions

    def __init__(self, sagemaker_session: Any):
        self.sagemaker_session = sagemaker_session
        self.meta = _Meta(sagemaker_session.boto_region_name)

    def __repr__(self) -> str:
        return f"LocalSageMakerClient(store={str(self.sagemaker_session.store_root)!r})"

    @property
    def _store(self):
        return self.sagemaker_session.store

    def _pipeline(self, name: str):
        from sagepipe.workflow.pipeline import Pipeline

        return Pipeline(name=name, sagemaker_session=self.sagemaker_session)

    def _execution(self, arn: Any):
        from sagepipe.workflow._execution import _PipelineExecution

        execution = _PipelineExecution(_required(arn, "PipelineExecutionArn"), self.sagemaker_session)
        execution._record()  # raises ResourceNotFound / ValidationException for a bad ARN
        return execution

    # ---- pipelines ----

    @_operation("CreatePipeline")
    def create_pipeline(
        self,
        PipelineName: str = None,  # noqa: N803 (botocore's argument names)
        PipelineDefinition: str = None,  # noqa: N803
        PipelineDisplayName: str = None,  # noqa: N803
        PipelineDescription: str = None,  # noqa: N803
        RoleArn: str = None,  # noqa: N803
        Tags: List[Dict[str, str]] = None,  # noqa: N803
        ParallelismConfiguration: Dict[str, Any] = None,  # noqa: N803
        ClientRequestToken: str = None,  # noqa: N803
        PipelineDefinitionS3Location: Dict[str, Any] = None,  # noqa: N803
    ) -> Dict[str, Any]:
        """``CreatePipeline`` from a definition JSON string (e.g. ``pipeline.definition()``)."""
        rec = self._put(
            "create", PipelineName, PipelineDefinition, PipelineDefinitionS3Location,
            RoleArn=RoleArn, PipelineDisplayName=PipelineDisplayName, PipelineDescription=PipelineDescription,
            Tags=Tags, ParallelismConfiguration=ParallelismConfiguration,
        )  # fmt: skip
        return _with_metadata({"PipelineArn": rec["PipelineArn"]})

    @_operation("UpdatePipeline")
    def update_pipeline(
        self,
        PipelineName: str = None,  # noqa: N803
        PipelineDefinition: str = None,  # noqa: N803
        PipelineDisplayName: str = None,  # noqa: N803
        PipelineDescription: str = None,  # noqa: N803
        RoleArn: str = None,  # noqa: N803
        ParallelismConfiguration: Dict[str, Any] = None,  # noqa: N803
        PipelineDefinitionS3Location: Dict[str, Any] = None,  # noqa: N803
    ) -> Dict[str, Any]:
        """``UpdatePipeline``: a new definition version when the definition changed."""
        name = _pipeline_name(PipelineName)
        if PipelineDefinition is None and PipelineDefinitionS3Location is None:
            PipelineDefinition = self._store.definition_text(name, None)
        rec = self._put(
            "update", name, PipelineDefinition, PipelineDefinitionS3Location,
            RoleArn=RoleArn, PipelineDisplayName=PipelineDisplayName, PipelineDescription=PipelineDescription,
            ParallelismConfiguration=ParallelismConfiguration,
        )  # fmt: skip
        return _with_metadata({"PipelineArn": rec["PipelineArn"], "PipelineVersionId": rec["LatestVersion"]})

    def _put(self, mode: str, name: Any, definition: Optional[str], s3_location: Optional[Dict], **fields):
        name = _pipeline_name(name)
        if definition is None and s3_location is not None:
            key = s3_location.get("ObjectKey", "")
            uri = f"s3://{s3_location.get('Bucket', '')}/{key}"
            try:
                with open(self._store.uri_to_path(uri)) as f:
                    definition = f.read()
            except OSError as exc:
                raise ValidationError(f"PipelineDefinitionS3Location {uri} cannot be read: {exc.strerror}") from None
        if not isinstance(definition, str):
            raise ValidationError("PipelineDefinition (a JSON string) or PipelineDefinitionS3Location is required")
        # The store validates the definition first: every problem at once, as the SDK's users expect.
        fields = {k: v for k, v in fields.items() if v is not None}
        return json.loads(self._store.put_pipeline(name, definition, mode, json.dumps(fields)))

    @_operation("DeletePipeline")
    def delete_pipeline(self, PipelineName: str = None, ClientRequestToken: str = None) -> Dict[str, Any]:  # noqa: N803
        """``DeletePipeline`` with its executions and their records."""
        rec = json.loads(self._store.delete_pipeline(_pipeline_name(PipelineName)))
        return _with_metadata({"PipelineArn": rec["PipelineArn"]})

    @_operation("DescribePipeline")
    def describe_pipeline(self, PipelineName: str = None, PipelineVersionId: int = None) -> Dict[str, Any]:  # noqa: N803
        """``DescribePipeline`` (the latest version unless one is named)."""
        return self._pipeline(_pipeline_name(PipelineName)).describe(pipeline_version_id=PipelineVersionId)

    @_operation("ListPipelines")
    def list_pipelines(
        self,
        PipelineNamePrefix: str = None,  # noqa: N803
        CreatedAfter: Any = None,  # noqa: N803
        CreatedBefore: Any = None,  # noqa: N803
        SortBy: str = None,  # noqa: N803
        SortOrder: str = None,  # noqa: N803
        NextToken: str = None,  # noqa: N803
        MaxResults: int = None,  # noqa: N803
    ) -> Dict[str, Any]:
        """``ListPipelines``: newest first unless ``SortBy="Name"``/``SortOrder`` say otherwise."""
        _responses.check_choice("sortBy", SortBy, ("Name", "CreationTime"))
        _responses.check_choice("sortOrder", SortOrder, ("Ascending", "Descending"))
        created = _created_between(CreatedAfter, CreatedBefore)
        records = [
            r
            for r in json.loads(self._store.list_pipelines())
            if r["PipelineName"].startswith(PipelineNamePrefix or "") and created(r)
        ]
        key = "PipelineName" if SortBy == "Name" else "CreationTime"
        records.sort(key=lambda r: (r[key], r["PipelineName"]), reverse=SortOrder != "Ascending")
        summaries = [_responses.pipeline_summary(r) for r in records]
        return _with_metadata(_responses.page(summaries, "PipelineSummaries", MaxResults, NextToken))

    # ---- executions ----

    @_operation("ListPipelineExecutions")
    def list_pipeline_executions(
        self,
        PipelineName: str = None,  # noqa: N803
        CreatedAfter: Any = None,  # noqa: N803
        CreatedBefore: Any = None,  # noqa: N803
        SortBy: str = None,  # noqa: N803
        SortOrder: str = None,  # noqa: N803
        NextToken: str = None,  # noqa: N803
        MaxResults: int = None,  # noqa: N803
        PipelineVersionAlias: str = None,  # noqa: N803
    ) -> Dict[str, Any]:
        """``ListPipelineExecutions``: newest first by default."""
        name = _pipeline_name(PipelineName)
        self._store.load_pipeline(name)  # ResourceNotFound for an unknown pipeline
        return _with_metadata(
            _responses.execution_page(
                self._store, name, SortBy, SortOrder, CreatedAfter, CreatedBefore, MaxResults, NextToken
            )
        )

    @_operation("DescribePipelineExecution")
    def describe_pipeline_execution(self, PipelineExecutionArn: str = None) -> Dict[str, Any]:  # noqa: N803
        """``DescribePipelineExecution``."""
        return self._execution(PipelineExecutionArn).describe()

    @_operation("DescribePipelineDefinitionForExecution")
    def describe_pipeline_definition_for_execution(self, PipelineExecutionArn: str = None) -> Dict[str, Any]:  # noqa: N803
        """``DescribePipelineDefinitionForExecution``: the exact definition the execution ran."""
        execution = self._execution(PipelineExecutionArn)
        created = execution._record()["CreationTime"]
        return _with_metadata(
            {
                "PipelineDefinition": self._store.execution_definition(execution.arn),
                "CreationTime": _responses.to_datetime(created),
            }
        )

    @_operation("ListPipelineExecutionSteps")
    def list_pipeline_execution_steps(
        self,
        PipelineExecutionArn: str = None,  # noqa: N803
        NextToken: str = None,  # noqa: N803
        MaxResults: int = None,  # noqa: N803
        SortOrder: str = None,  # noqa: N803
    ) -> Dict[str, Any]:
        """``ListPipelineExecutionSteps``: the steps that started, newest first by default."""
        _responses.check_choice("sortOrder", SortOrder, ("Ascending", "Descending"))
        steps = self._execution(PipelineExecutionArn).list_steps()
        if SortOrder == "Ascending":
            steps.reverse()
        return _with_metadata(_responses.page(steps, "PipelineExecutionSteps", MaxResults, NextToken))

    @_operation("ListPipelineParametersForExecution")
    def list_pipeline_parameters_for_execution(
        self,
        PipelineExecutionArn: str = None,  # noqa: N803
        NextToken: str = None,  # noqa: N803
        MaxResults: int = None,  # noqa: N803
    ) -> Dict[str, Any]:
        """``ListPipelineParametersForExecution``: every parameter with its effective string value."""
        return self._execution(PipelineExecutionArn).list_parameters(max_results=MaxResults, next_token=NextToken)

    @_operation("StartPipelineExecution")
    def start_pipeline_execution(
        self,
        PipelineName: str = None,  # noqa: N803
        PipelineExecutionDisplayName: str = None,  # noqa: N803
        PipelineParameters: List[Dict[str, str]] = None,  # noqa: N803
        PipelineExecutionDescription: str = None,  # noqa: N803
        ClientRequestToken: str = None,  # noqa: N803
        ParallelismConfiguration: Dict[str, Any] = None,  # noqa: N803
        SelectiveExecutionConfig: Dict[str, Any] = None,  # noqa: N803
        PipelineVersionId: int = None,  # noqa: N803
        PipelineVersionAlias: str = None,  # noqa: N803
        MlflowExperimentName: str = None,  # noqa: N803
        RoleArn: str = None,  # noqa: N803
    ) -> Dict[str, Any]:
        """``StartPipelineExecution`` of the stored pipeline; returns at once.

        ``PipelineParameters`` are ``{"Name", "Value"}`` pairs with string values, cast by the
        parameters' declared types. A ``ClientRequestToken`` already used for this pipeline
        returns that execution again instead of starting a new one (same parameters), as the
        service does; boto3 fills in a fresh token when none is given, and so does this client.
        """
        name = _pipeline_name(PipelineName)
        parameters = _parameter_values(PipelineParameters)
        token = ClientRequestToken if ClientRequestToken is not None else str(uuid.uuid4())
        if not isinstance(token, str) or not 32 <= len(token) <= 128:
            raise ValidationError("ClientRequestToken must be a string of 32 to 128 characters")
        selective = _selective_config(SelectiveExecutionConfig)
        with self._token_lock():
            previous = self._execution_with_token(name, token)
            if previous is not None:
                _check_same_parameters(previous, parameters, token)
                return _with_metadata({"PipelineExecutionArn": previous["PipelineExecutionArn"]})
            execution = self._pipeline(name).start(
                parameters=parameters,
                execution_display_name=PipelineExecutionDisplayName,
                execution_description=PipelineExecutionDescription,
                parallelism_config=ParallelismConfiguration,
                selective_execution_config=selective,
                pipeline_version_id=PipelineVersionId,
                client_request_token=token,
            )
        return _with_metadata({"PipelineExecutionArn": execution.arn})

    @contextmanager
    def _token_lock(self):
        """Serialize token check + start across processes sharing the store."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - non-POSIX: same-process calls only
            yield
            return
        path = os.path.join(str(self._store.root), ".client-request-token.lock")
        with open(path, "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _execution_with_token(self, name: str, token: str) -> Optional[Dict[str, Any]]:
        self._store.load_pipeline(name)
        for rec in json.loads(self._store.list_executions(name)):
            if rec.get("ClientRequestToken") == token:
                return rec
        return None

    @_operation("StopPipelineExecution")
    def stop_pipeline_execution(
        self,
        PipelineExecutionArn: str = None,  # noqa: N803
        ClientRequestToken: str = None,  # noqa: N803
    ) -> Dict[str, Any]:
        """``StopPipelineExecution``: running steps are killed; the status ends ``Stopped``.

        Works from any process (the process running the execution stops it); an execution
        that already ended is a ``ValidationException``, as on the service.
        """
        execution = self._execution(PipelineExecutionArn)
        status = execution._record()["PipelineExecutionStatus"]
        if _responses.is_terminal(status):
            raise ValidationError(f"Pipeline execution {execution.arn} is already {status}: it cannot be stopped")
        execution.stop()
        return _with_metadata({"PipelineExecutionArn": execution.arn})

    # ---- boto3 plumbing ----

    _PAGINATED = {
        "list_pipelines": "PipelineSummaries",
        "list_pipeline_executions": "PipelineExecutionSummaries",
        "list_pipeline_execution_steps": "PipelineExecutionSteps",
        "list_pipeline_parameters_for_execution": "PipelineParameters",
    }

    # ---- the local model registry (what CreateModel and RegisterModel steps recorded) ----

    @_operation("ListModelPackageGroups")
    def list_model_package_groups(self, SortOrder: str = "Ascending") -> Dict[str, Any]:  # noqa: N803
        """``ListModelPackageGroups``: every group, by creation time."""
        from sagepipe import model_registry

        return model_registry.list_model_package_groups(self.sagemaker_session, sort_order=SortOrder)

    @_operation("ListModelPackages")
    def list_model_packages(
        self,
        ModelPackageGroupName: str = None,  # noqa: N803
        ModelApprovalStatus: str = None,  # noqa: N803
        SortOrder: str = "Ascending",  # noqa: N803
    ) -> Dict[str, Any]:
        """``ListModelPackages`` of a group, by version."""
        from sagepipe import model_registry

        return model_registry.list_model_packages(
            _required(ModelPackageGroupName, "ModelPackageGroupName"),
            self.sagemaker_session,
            model_approval_status=ModelApprovalStatus,
            sort_order=SortOrder,
        )

    @_operation("DescribeModelPackage")
    def describe_model_package(self, ModelPackageName: str = None) -> Dict[str, Any]:  # noqa: N803
        """``DescribeModelPackage`` by ARN."""
        from sagepipe import model_registry

        name = _required(ModelPackageName, "ModelPackageName")
        return model_registry.describe_model_package(name, self.sagemaker_session)

    @_operation("UpdateModelPackage")
    def update_model_package(
        self,
        ModelPackageArn: str = None,  # noqa: N803
        ModelApprovalStatus: str = None,  # noqa: N803
        ApprovalDescription: str = None,  # noqa: N803
        CustomerMetadataProperties: Dict[str, str] = None,  # noqa: N803
        CustomerMetadataPropertiesToRemove: List[str] = None,  # noqa: N803
    ) -> Dict[str, Any]:
        """``UpdateModelPackage``: approval status and description, customer metadata."""
        from sagepipe import model_registry

        return model_registry.update_model_package(
            _required(ModelPackageArn, "ModelPackageArn"),
            model_approval_status=ModelApprovalStatus,
            approval_description=ApprovalDescription,
            customer_metadata_properties=CustomerMetadataProperties,
            customer_metadata_properties_to_remove=CustomerMetadataPropertiesToRemove,
            sagemaker_session=self.sagemaker_session,
        )

    @_operation("DescribeModel")
    def describe_model(self, ModelName: str = None) -> Dict[str, Any]:  # noqa: N803
        """``DescribeModel`` of a model a CreateModel step recorded."""
        from sagepipe import model_registry

        return model_registry.describe_model(_required(ModelName, "ModelName"), self.sagemaker_session)

    # ---- tags (of pipelines: what the SDK's upsert(tags=...) reads and writes) ----

    def _tagged_pipeline(self, arn: Any) -> str:
        arn = str(_required(arn, "ResourceArn"))
        name = _core.parse_pipeline_arn(arn)
        if name is None:
            raise ValidationError(f"sagepipe keeps the tags of pipelines only; '{arn}' is not a pipeline ARN")
        self._store.load_pipeline(name)  # ResourceNotFound for a pipeline that does not exist
        return name

    @_operation("AddTags")
    def add_tags(self, ResourceArn: str = None, Tags: List[Dict[str, str]] = None) -> Dict[str, Any]:  # noqa: N803
        """``AddTags`` to a pipeline: a tag with a key the pipeline has replaces it."""
        name = self._tagged_pipeline(ResourceArn)
        tags = list(Tags or [])
        self._store.put_pipeline(name, self._store.definition_text(name, None), "update", json.dumps({"Tags": tags}))
        return _with_metadata({"Tags": tags})

    @_operation("ListTags")
    def list_tags(self, ResourceArn: str = None, NextToken: str = None, MaxResults: int = None) -> Dict[str, Any]:  # noqa: N803
        """``ListTags`` of a pipeline."""
        tags = json.loads(self._store.load_pipeline(self._tagged_pipeline(ResourceArn))).get("Tags") or []
        out = _responses.page(tags, "Tags", MaxResults, NextToken)
        return _with_metadata(out)

    # ---- jobs the steps ran ----

    def _job_properties(self, kind: str, name: Any, field: str) -> Dict[str, Any]:
        """The Describe*Job record of the job ``name`` a step of a local execution ran: the
        step's recorded properties (newest execution first)."""
        _required(name, field)
        suffix = f":{kind}/{name}"
        for pipeline in json.loads(self._store.list_pipelines()):
            for execution in json.loads(self._store.list_executions(pipeline["PipelineName"])):
                for record in json.loads(self._store.load_steps(execution["PipelineExecutionArn"])):
                    for entry in (record.get("Metadata") or {}).values():
                        if isinstance(entry, dict) and str(entry.get("Arn", "")).endswith(suffix):
                            return _with_times(dict(record.get("Properties") or {}))
        raise ResourceNotFoundError(f"Could not find {kind.replace('-', ' ')} '{name}' in the local store")

    @_operation("DescribeTrainingJob")
    def describe_training_job(self, TrainingJobName: str = None) -> Dict[str, Any]:  # noqa: N803
        """``DescribeTrainingJob`` of a training job a step ran (``@step`` functions included)."""
        return self._job_properties("training-job", TrainingJobName, "TrainingJobName")

    @_operation("DescribeProcessingJob")
    def describe_processing_job(self, ProcessingJobName: str = None) -> Dict[str, Any]:  # noqa: N803
        """``DescribeProcessingJob`` of a processing job a step ran."""
        return self._job_properties("processing-job", ProcessingJobName, "ProcessingJobName")

    @_operation("DescribeTransformJob")
    def describe_transform_job(self, TransformJobName: str = None) -> Dict[str, Any]:  # noqa: N803
        """``DescribeTransformJob`` of a transform job a step ran."""
        return self._job_properties("transform-job", TransformJobName, "TransformJobName")

    def can_paginate(self, operation_name: str) -> bool:
        """Whether :meth:`get_paginator` serves this operation."""
        return operation_name in self._PAGINATED

    def get_paginator(self, operation_name: str) -> _Paginator:
        """A paginator for a list operation (``paginate(**kwargs)`` yields pages)."""
        if operation_name not in self._PAGINATED:
            raise ValueError(
                f"the local client paginates {sorted(self._PAGINATED)}; '{operation_name}' is not one of them"
            )
        return _Paginator(getattr(self, operation_name), self._PAGINATED[operation_name])


def _with_times(properties: Dict[str, Any]) -> Dict[str, Any]:
    """Recorded ISO-8601 times (``...Time`` fields) as the datetimes botocore returns."""
    for key, value in properties.items():
        if key.endswith("Time") and isinstance(value, str):
            try:
                properties[key] = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                pass
    return properties


def _parameter_values(pairs: Optional[List[Dict[str, Any]]]) -> Dict[str, str]:
    if pairs is None:
        return {}
    if not isinstance(pairs, (list, tuple)):
        raise ValidationError(
            f"PipelineParameters: expected a list of {{'Name': str, 'Value': str}}, got {type(pairs).__name__} "
            f"{pairs!r:.80}"
        )
    values: Dict[str, str] = {}
    for i, pair in enumerate(pairs):
        name, value = (pair.get("Name"), pair.get("Value")) if isinstance(pair, dict) else (None, None)
        if not isinstance(name, str) or not isinstance(value, str):
            raise ValidationError(
                f"PipelineParameters[{i}]: expected {{'Name': str, 'Value': str}} (values are strings, as on the "
                f"service), got {pair!r}"
            )
        if name in values:
            raise ValidationError(f"PipelineParameters: parameter '{name}' is given more than once")
        values[name] = value
    return values


def _check_same_parameters(previous: Dict[str, Any], parameters: Dict[str, str], token: str) -> None:
    recorded = {p["Name"]: p["Value"] for p in _responses.parameters_list(previous)}
    differing = sorted(k for k, v in parameters.items() if not _same_value(recorded.get(k), v))
    if differing:
        raise ValidationError(
            f"ClientRequestToken {token!r} was already used to start {previous['PipelineExecutionArn']} with "
            f"other values for {differing}; use a new token for a new execution"
        )


def _same_value(recorded: Optional[str], given: str) -> bool:
    """Whether a given string parameter value is the recorded (typed, then stringified) one."""
    if recorded is None or recorded == given:
        return recorded == given
    if recorded in ("true", "false"):
        return given.lower() == recorded
    try:
        return float(recorded) == float(given)
    except ValueError:
        return False


def _selective_config(request: Optional[Dict[str, Any]]):
    """The service's ``SelectiveExecutionConfig`` request as the SDK object (no "latest" lookup:
    without a source ARN the service runs without a reference)."""
    if request is None:
        return None
    from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

    steps = request.get("SelectedSteps")
    if not isinstance(steps, list) or not all(isinstance(s, dict) and "StepName" in s for s in steps):
        raise ValidationError("SelectiveExecutionConfig.SelectedSteps must be a list of {'StepName': str}")
    return SelectiveExecutionConfig(
        selected_steps=[s["StepName"] for s in steps],
        reference_latest_execution=False,
        source_pipeline_execution_arn=request.get("SourcePipelineExecutionArn"),
    )


def client(
    service_name: str = "sagemaker",
    *,
    store: Any = None,
    sagemaker_session: Any = None,
    **boto_arguments: Any,
) -> LocalSageMakerClient:
    """The local SageMaker client: the drop-in for ``boto3.client("sagemaker")``.

    Args:
        service_name: Only ``"sagemaker"`` is served locally.
        store: Store directory (default: ``$SAGEPIPE_STORE`` or ``./.sagepipe``).
        sagemaker_session: A ``PipelineSession`` to share its store (instead of ``store``).
        **boto_arguments: ``region_name``, ``config``, credentials...: accepted and ignored.
    """
    if service_name != "sagemaker":
        raise ValueError(f"sagepipe serves only the 'sagemaker' client locally, not '{service_name}'")
    if sagemaker_session is None:
        from sagepipe.workflow.pipeline_context import PipelineSession

        sagemaker_session = PipelineSession(store=store)
    return LocalSageMakerClient(sagemaker_session)


class _CallableModule(types.ModuleType):
    """Lets ``sagepipe.client()`` be called while ``sagepipe.client`` stays this module."""

    def __call__(self, *args: Any, **kwargs: Any) -> LocalSageMakerClient:
        return client(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
