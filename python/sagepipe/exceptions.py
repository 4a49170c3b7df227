"""Exceptions raised by sagepipe.

Every error is a :class:`SagePipeError`. Where the SageMaker SDK (or the service through boto3)
raises a standard exception, the sagepipe class also derives from it, so ``except ValueError``
keeps working: a bad definition is a ``ValueError``, an unknown resource a ``LookupError``.

Validation errors carry every problem found, not just the first: ``err.errors()`` returns a
list of ``{"type", "loc", "msg"}`` dicts, where ``loc`` is a tuple such as
``("Steps", "Train", "DependsOn", "0")``.
"""

import json
from typing import Any, Dict, List, Optional

__all__ = [
    "SagePipeError",
    "DefinitionError",
    "ParameterError",
    "SelectionError",
    "ReferenceExecutionError",
    "ResourceNotFoundError",
    "ValidationError",
    "ConflictError",
    "UnsupportedStepError",
    "StoreError",
    "StepFailedError",
    "PipelineSessionRequiredError",
    "StoreWarning",
    # The SDK's sagemaker.exceptions, so `except UnexpectedStatusException` and friends import.
    "UnexpectedStatusException",
    "CapacityError",
    "AsyncInferenceError",
    "ObjectNotFoundError",
    "PollingTimeoutError",
    "UnexpectedClientError",
    "AutoMLStepInvalidModeError",
    "AsyncInferenceModelError",
]


class SagePipeError(Exception):
    """Base class of every sagepipe error."""

    def __init__(self, message: str = "", problems: Optional[str] = None):
        super().__init__(message)
        self.message = message
        try:
            self._problems: List[Dict[str, Any]] = json.loads(problems) if problems else []
        except (TypeError, ValueError):
            self._problems = []

    def errors(self) -> List[Dict[str, Any]]:
        """Every problem found, as ``{"type", "loc", "msg"}`` dicts (empty for non-validation errors)."""
        return [{"type": p["kind"], "loc": tuple(p["loc"]), "msg": p["msg"]} for p in self._problems]

    def error_count(self) -> int:
        """How many problems were found."""
        return len(self._problems)


class DefinitionError(SagePipeError, ValueError):
    """The pipeline definition is malformed or inconsistent."""


class ParameterError(SagePipeError, ValueError):
    """Parameter values do not fit the pipeline's declared parameters."""


class SelectionError(SagePipeError, ValueError):
    """A selective-execution request is not valid for the pipeline."""


class ReferenceExecutionError(SelectionError):
    """The reference execution of a selective run cannot be used."""


class ResourceNotFoundError(SagePipeError, LookupError):
    """A pipeline, execution or step does not exist."""


class ValidationError(SagePipeError, ValueError):
    """A request is well-formed but not acceptable."""


class ConflictError(SagePipeError):
    """A request conflicts with the current state, e.g. deleting a pipeline while one of its
    executions runs (the service's ``ConflictException``)."""


class UnsupportedStepError(SagePipeError, NotImplementedError):
    """A step cannot run locally; raised before anything runs."""


class StoreError(SagePipeError, OSError):
    """Reading or writing the store failed."""


class StepFailedError(SagePipeError):
    """A step failed; raised by ``execution.result()`` when no original exception is available."""


class PipelineSessionRequiredError(SagePipeError, RuntimeError):
    """A job (``processor.run``, ``estimator.fit``, ...) was started outside a pipeline.

    sagepipe runs jobs only as pipeline steps: build the job object with a
    ``PipelineSession`` and pass the returned step arguments to a step.
    """


class StoreWarning(UserWarning):
    """A record in the store cannot be read: listings skip it (naming it), the rest still works."""


# -- the SDK's sagemaker.exceptions ------------------------------------------------------------


class UnexpectedStatusException(ValueError):
    """A job or resource reached a status other than the ones waited for (SDK class)."""

    def __init__(self, message: str, allowed_statuses, actual_status):
        self.allowed_statuses = allowed_statuses
        self.actual_status = actual_status
        super().__init__(message)


class CapacityError(UnexpectedStatusException):
    """A job failed for lack of instance capacity (SDK class)."""


class AsyncInferenceError(Exception):
    """Base of the SDK's asynchronous-inference errors: the message is ``fmt`` with the keyword arguments."""

    fmt = "An unspecified error occurred"

    def __init__(self, **kwargs):
        super().__init__(self.fmt.format(**kwargs))
        self.kwargs = kwargs


class ObjectNotFoundError(AsyncInferenceError):
    """No object at an output path."""

    fmt = "Object not found from output path: {output_path}"


class PollingTimeoutError(AsyncInferenceError):
    """Polling for a result timed out."""

    fmt = "No result at {output_path} after polling for {seconds} seconds. {message}"


class UnexpectedClientError(AsyncInferenceError):
    """An unexpected client error."""

    fmt = "Encountered unexpected client error: {message}"


class AutoMLStepInvalidModeError(AsyncInferenceError):
    """An ``AutoMLStep`` whose AutoML job has no ``mode`` or a mode other than ENSEMBLING."""

    fmt = "Mode in AutoMLJobConfig must be defined for AutoMLStep. AutoMLStep currently only supports ENSEMBLING mode"


class AsyncInferenceModelError(AsyncInferenceError):
    """The model returned an error."""

    fmt = "Model returned error: {message} "
