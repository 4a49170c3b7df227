"""SageMaker, locally: the operations :class:`sagepipe.client.LocalSageMakerClient` serves.

One home for the pipeline API: this service forwards each call to the local client's method of
the same name and turns its ``ClientError`` into the error response botocore parses. The
``PipelineExecutionComplete`` waiter blocks on the execution instead of polling every 30 s.
"""

from typing import Any, Dict

from sagepipe._service._errors import LocalService, ServiceError

WAITER = "PipelineExecutionComplete"


def _served_operations():
    from sagepipe.client import LocalSageMakerClient

    return tuple(
        member.operation_name
        for member in vars(LocalSageMakerClient).values()
        if getattr(member, "operation_name", None)
    )


class LocalSageMaker(LocalService):
    service = "SageMaker"

    def __init__(self, store_root: str):
        super().__init__(store_root)
        from sagepipe.client import client

        self.client = client(store=store_root)

    @classmethod
    def operations(cls):
        return sorted(_served_operations())

    def call(self, operation: str, params: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
        from botocore import xform_name

        from sagepipe.client import ClientError

        if operation not in _served_operations():
            return super().call(operation, params, context)  # raises NotServed
        try:
            response = getattr(self.client, xform_name(operation))(**params)
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            raise ServiceError(error.response["Error"]["Code"], error.response["Error"]["Message"], status) from error
        response.pop("ResponseMetadata", None)
        return response


class _ExecutionWaiter:
    """``PipelineExecutionComplete`` for a local execution: the same outcome as botocore's waiter
    (returns on Succeeded, ``WaiterError`` on Failed or Stopped or when attempts run out) without
    sleeping ``Delay`` seconds between polls."""

    name = WAITER

    def __init__(self, client, original):
        self._client = client
        self._original = original

    def __getattr__(self, name):
        return getattr(self._original, name)

    def wait(self, **kwargs) -> None:
        from botocore.exceptions import WaiterError

        from sagepipe._service import _services
        from sagepipe.workflow._execution import _PipelineExecution

        config = kwargs.pop("WaiterConfig", None) or {}
        limit = float(config.get("Delay", 30)) * float(config.get("MaxAttempts", 60))
        local = _services.get("sagemaker")
        if local is None:  # no longer routed: AWS's own waiter
            return self._original.wait(WaiterConfig=config, **kwargs) if config else self._original.wait(**kwargs)
        execution = _PipelineExecution(kwargs.get("PipelineExecutionArn", ""), local.client.sagemaker_session)
        finished = execution._wait_until_done(limit)
        response = self._client.describe_pipeline_execution(**kwargs)
        status = response.get("PipelineExecutionStatus")
        if status == "Succeeded":
            return None
        if not finished:
            raise WaiterError(name=WAITER, reason="Max attempts exceeded", last_response=response)
        reason = (
            "Waiter encountered a terminal failure state: "
            f'For expression "PipelineExecutionStatus" we matched expected path: "{status}"'
        )
        raise WaiterError(name=WAITER, reason=reason, last_response=response)


def get_waiter(client, original_get_waiter, waiter_name: str):
    """``client.get_waiter`` of a routed SageMaker client."""
    waiter = original_get_waiter(waiter_name)
    return _ExecutionWaiter(client, waiter) if waiter_name == WAITER else waiter
