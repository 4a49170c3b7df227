"""SageMaker, locally: the operations :class:`sagepipe.client.LocalSageMakerClient` serves.

One home for the pipeline API: this service forwards each call to the local client's method of
the same name and turns its ``ClientError`` into the error response botocore parses. The
``PipelineExecutionComplete`` waiter blocks on the execution instead of polling every 30 s.
"""

import functools
import inspect
from typing import Any, Dict, FrozenSet, Tuple

from sagepipe._service._errors import LocalService, NotServed, ServiceError

WAITER = "PipelineExecutionComplete"


@functools.cache
def _served() -> Dict[str, Tuple[str, FrozenSet[str]]]:
    """Operation name -> (the local client's method, the parameters it takes), read once."""
    from sagepipe.client import LocalSageMakerClient

    return {
        member.operation_name: (name, frozenset(list(inspect.signature(member).parameters)[1:]))
        for name, member in vars(LocalSageMakerClient).items()
        if getattr(member, "operation_name", None)
    }


class LocalSageMaker(LocalService):
    service = "SageMaker"

    def __init__(self, store_root: str):
        super().__init__(store_root)
        from sagepipe.client import client

        self.client = client(store=store_root)

    @classmethod
    def operations(cls):
        return sorted(_served())

    def call(self, operation: str, params: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
        from sagepipe.client import ClientError

        if operation not in _served():
            raise NotServed(self.service, operation)
        method, accepted = _served()[operation]
        unknown = sorted(p for p in params if p not in accepted)
        if unknown:  # botocore validated them: they are the service's, not yet sagepipe's
            raise NotServed(self.service, operation, unknown, sorted(accepted))
        try:
            response = getattr(self.client, method)(**params)
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            raise ServiceError(error.response["Error"]["Code"], error.response["Error"]["Message"], status) from error
        response.pop("ResponseMetadata", None)
        return response


class _ExecutionWaiter:
    """A ``PipelineExecutionComplete`` waiter on a local execution: blocks until the execution ends
    instead of sleeping ``delay`` seconds between polls, then decides as botocore's waiter would on
    the final status, with the waiter's own acceptors (the SDK builds the waiter itself, since
    botocore has none for pipelines; v2's has no acceptor for Stopped, which then ends as botocore's
    would, with "Max attempts exceeded", only without waiting for it)."""

    name = WAITER

    def __init__(self, client, original):
        self._client = client
        self._original = original

    def __getattr__(self, name):
        return getattr(self._original, name)

    def wait(self, **kwargs) -> None:
        from botocore.exceptions import ClientError, WaiterError

        from sagepipe._service import _services
        from sagepipe.exceptions import SagePipeError
        from sagepipe.workflow._execution import _PipelineExecution

        config = kwargs.pop("WaiterConfig", None) or {}
        own = self._original.config
        limit = float(config.get("Delay", own.delay)) * float(config.get("MaxAttempts", own.max_attempts))
        local = _services.get("sagemaker")
        if local is None:  # no longer routed: AWS's own waiter
            return self._original.wait(WaiterConfig=config, **kwargs) if config else self._original.wait(**kwargs)
        try:
            execution = _PipelineExecution(kwargs.get("PipelineExecutionArn", ""), local.client.sagemaker_session)
            finished = execution._wait_until_done(limit)
            response = self._client.describe_pipeline_execution(**kwargs)
        except (SagePipeError, ClientError) as error:  # e.g. no such execution: as botocore's waiter
            raise WaiterError(name=self.name, reason=f"An error occurred: {error}", last_response={}) from error
        if finished:
            for acceptor in own.acceptors:
                if acceptor.matcher_func(response) and acceptor.state == "success":
                    return None
                if acceptor.matcher_func(response) and acceptor.state == "failure":
                    reason = f"Waiter encountered a terminal failure state: {acceptor.explanation}"
                    raise WaiterError(name=self.name, reason=reason, last_response=response)
        raise WaiterError(name=self.name, reason="Max attempts exceeded", last_response=response)


def create_waiter_with_client(original_create, waiter_name: str, waiter_model, client):
    """``botocore.waiter.create_waiter_with_client`` while SageMaker is routed: the SDK's
    ``PipelineExecution.wait()`` builds its waiter with it (``client.get_waiter`` does too)."""
    from sagepipe._service import _clients

    waiter = original_create(waiter_name, waiter_model, client)
    if waiter_name == WAITER and client in _clients and client.meta.service_model.service_name == "sagemaker":
        return _ExecutionWaiter(client, waiter)
    return waiter
