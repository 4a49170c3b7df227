"""Pipeline triggers (mirror of ``sagemaker.workflow.triggers``).

On SageMaker, ``Pipeline.put_triggers([PipelineSchedule(...)])`` creates EventBridge Scheduler
schedules that start executions. sagepipe has no scheduler: ``put_triggers`` validates the
schedules as the SDK does and records them with the pipeline in the store (``describe_trigger``
reads them, ``delete_triggers`` removes them), and warns that a recorded schedule never starts an
execution locally.
"""

import logging
from datetime import datetime, timezone
from typing import Optional, Sequence, Tuple

from sagepipe.workflow.parameters import Parameter

logger = logging.getLogger("sagemaker")

ENABLED_TRIGGER_STATE = "ENABLED"
DISABLED_TRIGGER_STATE = "DISABLED"
UTC = timezone.utc


class Trigger:
    """Abstract class representing a Pipeline Trigger.

    Attributes:
        name (str): The name of the trigger, default to pipeline_name.
        enabled (boolean): The state of the schedule, default True resolves to 'ENABLED'.
    """

    _fields: Tuple[str, ...] = ("name", "enabled")

    def __init__(self, name: Optional[str] = None, enabled: Optional[bool] = True):
        self.name = name
        self.enabled = enabled

    def __eq__(self, other):
        return type(self) is type(other) and all(getattr(self, f) == getattr(other, f) for f in self._fields)

    __hash__ = None  # type: ignore[assignment]  # unhashable, as the SDK's class

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{f}={getattr(self, f)!r}' for f in self._fields)})"

    def resolve_trigger_name(self, pipeline_name: str) -> str:
        """The trigger's name: its own, else (and from now on) the pipeline's name."""
        if self.name is None:
            self.name = pipeline_name
        return self.name

    def resolve_trigger_state(self) -> str:
        """``ENABLED`` or ``DISABLED``."""
        return ENABLED_TRIGGER_STATE if self.enabled else DISABLED_TRIGGER_STATE


class PipelineSchedule(Trigger):
    """A schedule that starts the pipeline (an EventBridge Scheduler schedule on AWS).

    Give exactly one of ``at``, ``rate`` or ``cron``.

    Args:
        name (str): The schedule name (default: the pipeline's name).
        enabled (boolean): If the schedule is enabled (default: True).
        start_date (datetime): The start date of the schedule (default: now).
        at (datetime): One run at this time (naive: UTC; aware: converted to UTC).
        rate (tuple): ``(value, unit)``, e.g. ``(5, "minutes")``.
        cron (str): ``"minutes hours day-of-month month day-of-week year"``.
    """

    _fields = ("name", "enabled", "start_date", "at", "rate", "cron")

    def __init__(
        self,
        name: Optional[str] = None,
        enabled: Optional[bool] = True,
        start_date: Optional[datetime] = None,
        at: Optional[datetime] = None,
        rate: Optional[tuple] = None,
        cron: Optional[str] = None,
    ):
        super().__init__(name=name, enabled=enabled)
        self.start_date = start_date
        self.at = at
        self.rate = rate
        self.cron = cron

    def resolve_schedule_expression(self) -> str:
        """The EventBridge schedule expression: ``at(...)``, ``rate(...)`` or ``cron(...)``.

        Raises:
            TypeError: More than one kind given, or a value of the wrong type.
            ValueError: None given.
        """
        if len([x for x in (self.at, self.rate, self.cron) if x is not None]) > 1:
            raise TypeError(
                "Too many types specified for PipelineSchedule. Please specify a single type "
                "in [at, rate, or cron] to successfully create the EventBridge Schedule."
            )
        if self.at:
            if isinstance(self.at, datetime):
                utc_dt = self.at.astimezone(tz=UTC) if self.at.tzinfo else self.at
                return f"at({utc_dt.strftime('%Y-%m-%dT%H:%M:%S')})"
            raise TypeError("Incorrect type specified for at= schedule.")
        if self.rate:
            if isinstance(self.rate, tuple):
                value, unit = self.rate
                return f"rate({value} {unit})"
            raise TypeError("Incorrect type specified for rate= schedule.")
        if self.cron:
            if isinstance(self.cron, str):
                return f"cron({self.cron})"
            raise TypeError("Incorrect type specified for cron= schedule.")
        raise ValueError(
            "No schedule type specified. Please specify a single type "
            "in [at, rate, or cron] to successfully create the EventBridge Schedule."
        )


def validate_default_parameters_for_schedules(parameters: Optional[Sequence[Parameter]]):
    """Scheduled executions cannot pass parameters: every parameter needs a default.

    Raises:
        ValueError: Some parameters have no default value.
    """
    if parameters:
        no_defaults = [p.name for p in parameters if isinstance(p, Parameter) and p.default_value is None]
        if no_defaults:
            raise ValueError(
                "When using pipeline triggers, please specify default values for all Pipeline "
                "Parameters. Currently, they are not overridable at runtime as inputs to a "
                "scheduled pipeline execution. The current parameters don't have defaults "
                f"{no_defaults}."
            )
