"""Retry policies (mirror of ``sagemaker.workflow.retry``)."""

from enum import Enum
from typing import List

from sagepipe.workflow.entities import DefaultEnumMeta, Entity, RequestType, ValueObject

DEFAULT_BACKOFF_RATE = 2.0
DEFAULT_INTERVAL_SECONDS = 1
MAX_ATTEMPTS_CAP = 20
MAX_EXPIRE_AFTER_MIN = 14400


class StepExceptionTypeEnum(Enum, metaclass=DefaultEnumMeta):
    """Step ExceptionType enum."""

    SERVICE_FAULT = "Step.SERVICE_FAULT"
    THROTTLING = "Step.THROTTLING"


class SageMakerJobExceptionTypeEnum(Enum, metaclass=DefaultEnumMeta):
    """SageMaker Job ExceptionType enum."""

    INTERNAL_ERROR = "SageMaker.JOB_INTERNAL_ERROR"
    CAPACITY_ERROR = "SageMaker.CAPACITY_ERROR"
    RESOURCE_LIMIT = "SageMaker.RESOURCE_LIMIT"


class RetryPolicy(ValueObject, Entity):
    """RetryPolicy base class.

    Attributes:
        backoff_rate (float): The multiplier by which the retry interval increases (default: 2.0)
        interval_seconds (int): Seconds before the first retry attempt (default: 1)
        max_attempts (int): Maximum number of retry attempts (default: None)
        expire_after_mins (int): Maximum minutes to expire any further retry attempt (default: None)
    """

    def __init__(
        self,
        backoff_rate: float = DEFAULT_BACKOFF_RATE,
        interval_seconds: int = DEFAULT_INTERVAL_SECONDS,
        max_attempts: int = None,
        expire_after_mins: int = None,
    ):
        self.backoff_rate = backoff_rate
        self.interval_seconds = interval_seconds
        self.max_attempts = max_attempts
        self.expire_after_mins = expire_after_mins
        self.validate_backoff_rate(None, backoff_rate)
        self.validate_interval_seconds(None, interval_seconds)
        self.validate_max_attempts(None, max_attempts)
        self.validate_expire_after_mins(None, expire_after_mins)

    def validate_backoff_rate(self, _, value):
        """Validate the input back off rate type."""
        if value:
            assert value >= 0.0, "backoff_rate should be non-negative"

    def validate_interval_seconds(self, _, value):
        """Validate the input interval seconds."""
        if value:
            assert value >= 0.0, "interval_seconds rate should be non-negative"

    def validate_max_attempts(self, _, value):
        """Validate the input max attempts."""
        if value:
            assert MAX_ATTEMPTS_CAP >= value >= 1, f"max_attempts must in range of (0, {MAX_ATTEMPTS_CAP}] attempts"

    def validate_expire_after_mins(self, _, value):
        """Validate expire after mins."""
        if value:
            assert MAX_EXPIRE_AFTER_MIN >= value >= 0, (
                f"expire_after_mins must in range of (0, {MAX_EXPIRE_AFTER_MIN}] minutes"
            )

    def to_request(self) -> RequestType:
        """Get the request structure for workflow service calls."""
        # Same chained comparison as the SDK: it never fires, so both or neither are accepted.
        if (self.max_attempts is None) == self.expire_after_mins is None:  # noqa: E711
            raise ValueError("Only one of [max_attempts] and [expire_after_mins] can be given.")

        request = {
            "BackoffRate": self.backoff_rate,
            "IntervalSeconds": self.interval_seconds,
        }
        if self.max_attempts:
            request["MaxAttempts"] = self.max_attempts
        if self.expire_after_mins:
            request["ExpireAfterMin"] = self.expire_after_mins
        return request


class StepRetryPolicy(RetryPolicy):
    """RetryPolicy for a retryable step.

    Attributes:
        exception_types (List[StepExceptionTypeEnum]): the exception types to match for this policy
    """

    def __init__(
        self,
        exception_types: List[StepExceptionTypeEnum],
        backoff_rate: float = 2.0,
        interval_seconds: int = 1,
        max_attempts: int = None,
        expire_after_mins: int = None,
    ):
        super().__init__(backoff_rate, interval_seconds, max_attempts, expire_after_mins)
        for exception_type in exception_types:
            if not isinstance(exception_type, StepExceptionTypeEnum):
                raise ValueError(f"{exception_type} is not of StepExceptionTypeEnum.")
        self.exception_types = exception_types

    def to_request(self) -> RequestType:
        """Gets the request structure for retry policy."""
        request = super().to_request()
        request["ExceptionType"] = [e.value for e in self.exception_types]
        return request


class SageMakerJobStepRetryPolicy(RetryPolicy):
    """RetryPolicy for exception thrown by SageMaker Job.

    Attributes:
        exception_types (List[SageMakerJobExceptionTypeEnum]): exceptions thrown when creating the job.
        failure_reason_types (List[SageMakerJobExceptionTypeEnum]): runtime failure reason types.
    """

    def __init__(
        self,
        exception_types: List[SageMakerJobExceptionTypeEnum] = None,
        failure_reason_types: List[SageMakerJobExceptionTypeEnum] = None,
        backoff_rate: float = 2.0,
        interval_seconds: int = 1,
        max_attempts: int = None,
        expire_after_mins: int = None,
    ):
        super().__init__(backoff_rate, interval_seconds, max_attempts, expire_after_mins)

        if not exception_types and not failure_reason_types:
            raise ValueError("At least one of the [exception_types, failure_reason_types] needs to be given.")

        self.exception_type_list: List[SageMakerJobExceptionTypeEnum] = []
        if exception_types:
            self.exception_type_list += exception_types
        if failure_reason_types:
            self.exception_type_list += failure_reason_types

        for exception_type in self.exception_type_list:
            if not isinstance(exception_type, SageMakerJobExceptionTypeEnum):
                raise ValueError(f"{exception_type} is not of SageMakerJobExceptionTypeEnum.")

    def to_request(self) -> RequestType:
        """Gets the request structure for retry policy."""
        request = super().to_request()
        request["ExceptionType"] = [e.value for e in self.exception_type_list]
        return request
