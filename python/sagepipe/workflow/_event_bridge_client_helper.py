"""Pipeline schedules (mirror of ``sagemaker.workflow._event_bridge_client_helper``).

``EventBridgeSchedulerHelper`` takes an EventBridge Scheduler client. The one sagepipe gives it,
:class:`LocalScheduleRecorder`, answers ``create_schedule``/``update_schedule``/``get_schedule``/
``delete_schedule`` with the Scheduler's request and response shapes from schedule records kept
in the store with the pipeline. Nothing fires them: there is no scheduler on this machine.
"""

import json
import logging
from datetime import datetime, timezone
from typing import Any, Dict

logger = logging.getLogger("sagemaker")

EXECUTION_TIME_PIPELINE_PARAMETER = "scheduled_time"
EVENT_BRIDGE_INVOCATION_TIME = "<aws.scheduler.scheduled-time>"
NO_FLEXIBLE_TIME_WINDOW = dict(Mode="OFF")
RESOURCE_NOT_FOUND = "ResourceNotFound"
RESOURCE_NOT_FOUND_EXCEPTION = "ResourceNotFoundException"
EXECUTION_TIME_PIPELINE_PARAMETER_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

_SCHEDULE_ARN = "arn:aws:scheduler:local:000000000000:schedule/default/{name}"


class EventBridgeSchedulerHelper:
    """Creates, updates, describes and deletes the schedule of a pipeline."""

    def __init__(self, event_bridge_scheduler_client):
        self.event_bridge_scheduler_client = event_bridge_scheduler_client

    def upsert_schedule(
        self,
        schedule_name: str,
        pipeline_arn: str,
        schedule_expression: str,
        state: str,
        start_date: datetime,
        role: str,
    ) -> Dict:
        """Create or update the schedule ``schedule_name`` targeting ``pipeline_arn``.

        Returns:
            Dict: ``{"ScheduleArn": ...}``.
        """
        request = dict(
            Name=schedule_name,
            ScheduleExpression=schedule_expression,
            FlexibleTimeWindow=NO_FLEXIBLE_TIME_WINDOW,
            Target=dict(Arn=pipeline_arn, SageMakerPipelineParameters={}, RoleArn=role),
            State=state,
            StartDate=start_date,
        )
        try:
            return self.event_bridge_scheduler_client.update_schedule(**request)
        except Exception as e:  # noqa: BLE001 - only a missing schedule means "create it"
            if _error_code(e) == RESOURCE_NOT_FOUND_EXCEPTION:
                return self.event_bridge_scheduler_client.create_schedule(**request)
            raise

    def delete_schedule(self, schedule_name: str) -> None:
        """Delete the schedule ``schedule_name``."""
        self.event_bridge_scheduler_client.delete_schedule(Name=schedule_name)

    def describe_schedule(self, schedule_name) -> Dict[str, Any]:
        """The Scheduler's ``GetSchedule`` response for ``schedule_name``."""
        return self.event_bridge_scheduler_client.get_schedule(Name=schedule_name)


def _error_code(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


def _not_found(name: str, operation: str):
    from sagepipe.client import ClientError

    return ClientError(
        {"Error": {"Code": RESOURCE_NOT_FOUND_EXCEPTION, "Message": f"Schedule {name} does not exist."}},
        operation,
    )


class LocalScheduleRecorder:
    """An EventBridge Scheduler client that records the schedules of one pipeline in the store.

    The records keep what the Scheduler would (name, expression, state, start date, target
    pipeline and role); no execution is ever started from them.
    """

    def __init__(self, store, pipeline_name: str):
        self._store = store
        self._pipeline_name = pipeline_name

    def _records(self) -> Dict[str, Any]:
        return json.loads(self._store.pipeline_triggers(self._pipeline_name))

    def _put(self, request: Dict[str, Any]) -> Dict[str, Any]:
        start = request["StartDate"]
        if start.tzinfo is None:
            start = start.replace(tzinfo=timezone.utc)
        record = {
            "Name": request["Name"],
            "Arn": _SCHEDULE_ARN.format(name=request["Name"]),
            "GroupName": "default",
            "ScheduleExpression": request["ScheduleExpression"],
            "FlexibleTimeWindow": request["FlexibleTimeWindow"],
            "Target": request["Target"],
            "State": request["State"],
            "StartDate": start.timestamp(),
        }
        self._store.update_pipeline_triggers(self._pipeline_name, json.dumps([record]), [])
        return {"ScheduleArn": record["Arn"]}

    def create_schedule(self, **request) -> Dict[str, Any]:
        """``CreateSchedule``: record a new schedule."""
        return self._put(request)

    def update_schedule(self, **request) -> Dict[str, Any]:
        """``UpdateSchedule``: replace a recorded schedule (``ResourceNotFoundException`` if none)."""
        if request["Name"] not in self._records():
            raise _not_found(request["Name"], "UpdateSchedule")
        return self._put(request)

    def get_schedule(self, Name: str, **_) -> Dict[str, Any]:  # noqa: N803 - the API's argument name
        """``GetSchedule``: the recorded schedule (``StartDate`` as a UTC datetime)."""
        record = self._records().get(Name)
        if record is None:
            raise _not_found(Name, "GetSchedule")
        return {**record, "StartDate": datetime.fromtimestamp(record["StartDate"], tz=timezone.utc)}

    def delete_schedule(self, Name: str, **_) -> Dict[str, Any]:  # noqa: N803 - the API's argument name
        """``DeleteSchedule`` (``ResourceNotFoundException`` if there is no such schedule)."""
        removed = json.loads(self._store.update_pipeline_triggers(self._pipeline_name, "[]", [Name]))
        if not removed:
            raise _not_found(Name, "DeleteSchedule")
        return {}
