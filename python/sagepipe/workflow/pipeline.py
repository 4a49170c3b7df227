"""The Pipeline entity (mirror of ``sagemaker.workflow.pipeline``).

This module holds the pure definition-building part: ``Pipeline.__init__``,
``Pipeline.definition()``, ``interpolate``, ``format_start_parameters``, ``update_args`` and
``PipelineGraph``.
"""

import json
import logging
import warnings
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence, Set, Union

from sagepipe.workflow._event_bridge_client_helper import (
    EXECUTION_TIME_PIPELINE_PARAMETER_FORMAT,
    RESOURCE_NOT_FOUND_EXCEPTION,
    EventBridgeSchedulerHelper,
    LocalScheduleRecorder,
    _error_code,
)
from sagepipe.workflow._execution import _PipelineExecution, _PipelineService  # noqa: F401
from sagepipe.workflow._steps_compiler import StepsCompiler
from sagepipe.workflow.callback_step import CallbackOutput, CallbackStep
from sagepipe.workflow.condition_step import ConditionStep
from sagepipe.workflow.entities import Expression, RequestType
from sagepipe.workflow.execution_variables import ExecutionVariables
from sagepipe.workflow.lambda_step import LambdaOutput, LambdaStep
from sagepipe.workflow.parameters import Parameter
from sagepipe.workflow.pipeline_definition_config import PipelineDefinitionConfig
from sagepipe.workflow.pipeline_experiment_config import PipelineExperimentConfig
from sagepipe.workflow.properties import Properties
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.step_outputs import StepOutput
from sagepipe.workflow.steps import Step
from sagepipe.workflow.triggers import PipelineSchedule, Trigger, validate_default_parameters_for_schedules
from sagepipe.workflow.utilities import list_to_request

logger = logging.getLogger("sagemaker")

_DEFAULT_EXPERIMENT_CFG = PipelineExperimentConfig(
    ExecutionVariables.PIPELINE_NAME, ExecutionVariables.PIPELINE_EXECUTION_ID
)

_DEFAULT_DEFINITION_CFG = PipelineDefinitionConfig(use_custom_job_prefix=False)


class Pipeline(_PipelineService):
    """Pipeline for workflow."""

    def __init__(
        self,
        name: str = "",
        parameters: Optional[Sequence[Parameter]] = None,
        pipeline_experiment_config: Optional[PipelineExperimentConfig] = _DEFAULT_EXPERIMENT_CFG,
        steps: Optional[Sequence[Union[Step, StepCollection, StepOutput]]] = None,
        sagemaker_session: Optional[Any] = None,
        pipeline_definition_config: Optional[PipelineDefinitionConfig] = _DEFAULT_DEFINITION_CFG,
    ):
        """Initialize a Pipeline.

        Args:
            name (str): The name of the pipeline.
            parameters (Sequence[Parameter]): The list of the parameters.
            pipeline_experiment_config (Optional[PipelineExperimentConfig]): If set, the workflow
                creates an experiment and trial before executing the steps. By default the
                pipeline name is the experiment name and the execution id the trial name.
                ``None`` disables it (``"PipelineExperimentConfig": null`` in the definition).
            steps (Sequence[Union[Step, StepCollection, StepOutput]]): The list of the
                non-conditional steps of the pipeline. Steps inside the ``if_steps``/``else_steps``
                of a ``ConditionStep`` must not be listed here.
            sagemaker_session: The session object, stored as-is (may be None).
            pipeline_definition_config (Optional[PipelineDefinitionConfig]): definition
                customizations. By default, custom job-prefixing is turned off.
        """
        self.name = name
        self.parameters = parameters if parameters else []
        self.pipeline_experiment_config = pipeline_experiment_config
        self.steps = steps if steps else []
        self.sagemaker_session = sagemaker_session
        self.pipeline_definition_config = pipeline_definition_config

        self._version = "2020-12-01"
        self._metadata = dict()

    def _compile_steps(self) -> List[Step]:
        """Compile the pipeline steps (BFS order, see ``StepsCompiler``)."""
        return StepsCompiler(
            pipeline_name=self.name,
            sagemaker_session=self.sagemaker_session,
            steps=self.steps,
            pipeline_definition_config=self.pipeline_definition_config,
        ).build()

    def definition(self) -> str:
        """Converts a request structure to string representation for workflow service calls."""
        fixed = getattr(self, "_fixed_definition", None)
        if fixed is not None:
            return fixed
        compiled_steps = self._compile_steps()

        request_dict = {
            "Version": self._version,
            "Metadata": self._metadata,
            "Parameters": list_to_request(self.parameters),
            "PipelineExperimentConfig": (
                self.pipeline_experiment_config.to_request() if self.pipeline_experiment_config is not None else None
            ),
            "Steps": list_to_request(compiled_steps),
        }

        # One pass of the C JSON encoder: pipeline variables become their expressions as they
        # are met (the SDK copies the whole request with ``interpolate`` first, then encodes it).
        return json.dumps(
            request_dict,
            default=_expression_encoder(_map_callback_outputs(self.steps), _map_lambda_outputs(self.steps)),
        )

    # Service-facing methods (create/update/upsert/start/describe/list_executions/delete/
    # build_parameters_from_execution, from_definition) come from _PipelineService.

    # -- versions and triggers ------------------------------------------------------------------

    def list_pipeline_versions(self, sort_order: str = None, max_results: int = None, next_token: str = None):
        """``ListPipelineVersions``: the stored versions of this pipeline (newest first by default).

        Each summary has ``PipelineArn``, ``PipelineVersionId``, ``CreationTime`` and
        ``LastExecutionPipelineExecutionArn`` (the latest execution that ran the version, if any).
        """
        from sagepipe import _responses

        _responses.check_choice("sortOrder", sort_order, ("Ascending", "Descending"))
        store = self._store
        arn = json.loads(store.load_pipeline(self.name))["PipelineArn"]
        last_execution: Dict[int, Any] = {}
        for rec in _responses.sorted_executions(json.loads(store.list_executions(self.name)), None, "Ascending"):
            if rec.get("PipelineVersionId") is not None:
                last_execution[rec["PipelineVersionId"]] = rec["PipelineExecutionArn"]
        summaries = []
        for version, created in json.loads(store.pipeline_versions(self.name)):
            summary = {
                "PipelineArn": arn,
                "PipelineVersionId": version,
                "CreationTime": _responses.to_datetime(created),
            }
            if version in last_execution:
                summary["LastExecutionPipelineExecutionArn"] = last_execution[version]
            summaries.append(summary)
        if sort_order != "Ascending":
            summaries.reverse()
        return _responses.page(summaries, "PipelineVersionSummaries", max_results, next_token)

    @property
    def latest_pipeline_version_id(self):
        """The id of the pipeline's latest stored version (None if it has none)."""
        summaries = self.list_pipeline_versions(max_results=1)["PipelineVersionSummaries"]
        return summaries[0].get("PipelineVersionId") if summaries else None

    @property
    def _event_bridge_scheduler_helper(self) -> EventBridgeSchedulerHelper:
        """Schedules recorded with this pipeline in the store (there is no EventBridge locally)."""
        return EventBridgeSchedulerHelper(LocalScheduleRecorder(self._store, self.name))

    def put_triggers(self, triggers: List[Trigger], role_arn: str = None) -> List[str]:
        """Attach triggers (``PipelineSchedule``) to the pipeline; returns their schedule ARNs.

        Locally the schedules are validated as on SageMaker and recorded in the store
        (``describe_trigger``, ``delete_triggers``), but nothing runs them: a ``UserWarning``
        says so. Start executions yourself (or from cron with ``sagepipe run``) to run them.

        Raises:
            ValueError: No role, or a pipeline parameter without a default value.
            TypeError: No triggers, a trigger that is not a ``PipelineSchedule``, or a schedule
                with a wrong or ambiguous expression.
            RuntimeError: The pipeline has not been created.
        """
        from sagepipe.exceptions import ResourceNotFoundError

        if not role_arn:
            raise ValueError("An AWS IAM role is required to create triggers for a pipeline.")
        if not triggers:
            raise TypeError("No Triggers provided. Please specify at least one to setup pipeline triggers.")
        try:
            pipeline_arn = self.describe()["PipelineArn"]
        except ResourceNotFoundError:
            raise RuntimeError(
                f"Cannot create triggers for pipeline {self.name} that does not exist. "
                f"Please create the pipeline before assigning triggers to it."
            ) from None
        validate_default_parameters_for_schedules(self.parameters)
        helper = self._event_bridge_scheduler_helper
        created = []
        for trigger in triggers:
            if not isinstance(trigger, PipelineSchedule):
                raise TypeError(f"Unsupported TriggerType: {trigger.__class__.__name__}")
            schedule_expression = trigger.resolve_schedule_expression()
            response = helper.upsert_schedule(
                schedule_name=trigger.resolve_trigger_name(self.name),
                pipeline_arn=pipeline_arn,
                schedule_expression=schedule_expression,
                state=trigger.resolve_trigger_state(),
                start_date=trigger.start_date or datetime.now(tz=timezone.utc),
                role=role_arn,
            )
            if response["ScheduleArn"] not in created:
                created.append(response["ScheduleArn"])
            warnings.warn(
                f"pipeline '{self.name}': schedule '{trigger.name}' ({schedule_expression}) is "
                "recorded in the store but does not fire locally (sagepipe has no EventBridge scheduler); "
                "start executions yourself, e.g. `sagepipe run` from cron",
                UserWarning,
                stacklevel=2,
            )
        return created

    def describe_trigger(self, trigger_name: str) -> Dict[str, Any]:
        """The recorded trigger ``trigger_name``, with the SDK's keys (``Schedule_Arn``,
        ``Schedule_Expression``, ``Schedule_State``, ``Schedule_Start_Date``, ``Schedule_Role``).

        Raises:
            TypeError: No trigger name.
            ClientError: ``ResourceNotFoundException`` when there is no such trigger.
        """
        if not trigger_name:
            raise TypeError("No trigger name provided. Please specify at least one to describe pipeline triggers.")
        schedule = self._event_bridge_scheduler_helper.describe_schedule(schedule_name=trigger_name)
        return dict(
            Schedule_Arn=schedule["Arn"],
            Schedule_Expression=schedule["ScheduleExpression"],
            Schedule_State=schedule["State"],
            Schedule_Start_Date=schedule["StartDate"].strftime(EXECUTION_TIME_PIPELINE_PARAMETER_FORMAT),
            Schedule_Role=schedule["Target"]["RoleArn"],
        )

    def delete_triggers(self, trigger_names: List[str]):
        """Delete the named triggers; a name with no trigger is logged and skipped (as the SDK does)."""
        helper = self._event_bridge_scheduler_helper
        for trigger_name in trigger_names:
            try:
                helper.delete_schedule(schedule_name=trigger_name)
            except Exception as e:  # noqa: BLE001 - only "not found" is skipped
                if _error_code(e) != RESOURCE_NOT_FOUND_EXCEPTION:
                    raise
                logger.warning(
                    "Pipeline Schedule %s does not exist. The schedule could have been already deleted or never "
                    "created in the first place.",
                    trigger_name,
                )


def format_start_parameters(parameters: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Formats start parameter overrides as a list of ``{"Name": ..., "Value": str(...)}`` dicts.

    Args:
        parameters (Dict[str, Any]): A dict of named values where the keys are
            the names of the parameters to pass values into.
    """
    if parameters is None:
        return None
    return [{"Name": name, "Value": str(value)} for name, value in parameters.items()]


def interpolate(
    request_obj: RequestType,
    callback_output_to_step_map: Dict[str, str],
    lambda_output_to_step_map: Dict[str, str],
    pipeline_name: str = None,
) -> RequestType:
    """Replaces pipeline variables in a nested request structure with their workflow expressions.

    Args:
        request_obj (RequestType): The request dict.
        callback_output_to_step_map (Dict[str, str]): A dict of output name -> step name.
        lambda_output_to_step_map (Dict[str, str]): A dict of output name -> step name.
        pipeline_name (str): The name of the pipeline to be interpolated.

    Returns:
        RequestType: The request dict with pipeline variables replaced by their expression.
    """
    try:
        return _interpolate(
            request_obj,
            callback_output_to_step_map=callback_output_to_step_map,
            lambda_output_to_step_map=lambda_output_to_step_map,
            pipeline_name=pipeline_name,
        )
    except TypeError as type_err:
        raise TypeError(f"Not able to interpolate Pipeline definition: {type_err}") from type_err


def _interpolate(
    obj: Union[RequestType, Any],
    callback_output_to_step_map: Dict[str, str],
    lambda_output_to_step_map: Dict[str, str],
    pipeline_name: str,
):
    """Walks the nested request dict, replacing pipeline variables with workflow expressions."""
    expr = _variable_expr(obj, callback_output_to_step_map, lambda_output_to_step_map)
    if expr is not _NOT_A_VARIABLE:
        return expr
    if isinstance(obj, dict):
        new = obj.__class__()
        for key, value in obj.items():
            new[key] = interpolate(
                value,
                callback_output_to_step_map,
                lambda_output_to_step_map,
                pipeline_name=pipeline_name,
            )
    elif isinstance(obj, (list, set, tuple)):
        new = obj.__class__(
            interpolate(
                value,
                callback_output_to_step_map,
                lambda_output_to_step_map,
                pipeline_name=pipeline_name,
            )
            for value in obj
        )
    else:
        return obj
    return new


_NOT_A_VARIABLE = object()


def _variable_expr(obj, callback_output_to_step_map: Dict[str, str], lambda_output_to_step_map: Dict[str, str]):
    """The workflow expression of a pipeline variable, or ``_NOT_A_VARIABLE``."""
    if isinstance(obj, (Expression, Parameter, Properties, StepOutput)):
        return obj.expr
    if isinstance(obj, CallbackOutput):
        return obj.expr(callback_output_to_step_map[obj.output_name])
    if isinstance(obj, LambdaOutput):
        return obj.expr(lambda_output_to_step_map[obj.output_name])
    return _NOT_A_VARIABLE


def _expression_encoder(callback_output_to_step_map: Dict[str, str], lambda_output_to_step_map: Dict[str, str]):
    """``json.dumps(default=...)`` hook that writes pipeline variables as ``interpolate`` does."""

    def default(obj):
        expr = _variable_expr(obj, callback_output_to_step_map, lambda_output_to_step_map)
        if expr is _NOT_A_VARIABLE:
            raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")
        return expr

    return default


def _map_callback_outputs(steps: List[Step]):
    """Build a map of callback output names to step names (top-level steps only)."""
    callback_output_map = {}
    for step in steps:
        if isinstance(step, CallbackStep):
            if step.outputs:
                for output in step.outputs:
                    callback_output_map[output.output_name] = step.name
    return callback_output_map


def _map_lambda_outputs(steps: List[Step]):
    """Build a map of lambda output names to step names (top-level steps only)."""
    lambda_output_map = {}
    for step in steps:
        if isinstance(step, LambdaStep):
            if step.outputs:
                for output in step.outputs:
                    lambda_output_map[output.output_name] = step.name
    return lambda_output_map


def update_args(args: Dict[str, Any], **kwargs):
    """Updates the request arguments dict with the values that are not None.

    Args:
        args (Dict[str, Any]): The request arguments dict.
        kwargs: key, value pairs to update the args dict with.
    """
    for key, value in kwargs.items():
        if value is not None:
            args.update({key: value})


def _generate_step_map(steps: Sequence[Union[Step, StepCollection]], step_map: dict):
    """Map step (and step collection) names to steps; duplicate names raise ValueError."""
    StepsCompiler._generate_step_map(steps, step_map)


class PipelineGraph:
    """Helper class representing the Pipeline Directed Acyclic Graph (DAG).

    Attributes:
        step_map (Dict[str, Union[Step, StepCollection]]): name -> step, including condition
            branches and collection sub-steps.
        adjacency_list (Dict[str, List[str]]): parent step name -> child step names.

    Unlike the SDK (which uses sets), adjacency lists keep a deterministic insertion order.
    """

    def __init__(self, steps: Sequence[Union[Step, StepCollection]]):
        self.step_map = {}
        _generate_step_map(steps, self.step_map)
        self.adjacency_list = self._initialize_adjacency_list()
        if self.is_cyclic():
            raise ValueError("Cycle detected in pipeline step graph.")

    @classmethod
    def from_pipeline(cls, pipeline: Pipeline):
        """Create a PipelineGraph object from the Pipeline object (compiles the steps first)."""
        compiled_steps = StepsCompiler(
            pipeline_name=pipeline.name,
            sagemaker_session=pipeline.sagemaker_session,
            pipeline_definition_config=pipeline.pipeline_definition_config,
            steps=pipeline.steps,
        ).build()
        return cls(compiled_steps)

    def _initialize_adjacency_list(self) -> Dict[str, List[str]]:
        """Generate an adjacency list representing the step dependency DAG in this pipeline."""
        dependency_list: Dict[str, Dict[str, None]] = defaultdict(dict)
        for step in self.step_map.values():
            if isinstance(step, Step):
                dependency_list[step.name].update(dict.fromkeys(step._find_step_dependencies(self.step_map)))

            if isinstance(step, ConditionStep):
                for child_step in step.if_steps + step.else_steps:
                    if isinstance(child_step, Step):
                        dependency_list[child_step.name][step.name] = None
                    elif isinstance(child_step, StepCollection):
                        child_first_step = self.step_map[child_step.name].steps[0].name
                        dependency_list[child_first_step][step.name] = None

        adjacency_list: Dict[str, Dict[str, None]] = {}
        for step in dependency_list:
            for step_dependency in dependency_list[step]:
                adjacency_list.setdefault(step_dependency, {})[step] = None
        for step in dependency_list:
            if step not in adjacency_list:
                adjacency_list[step] = {}
        return {name: list(children) for name, children in adjacency_list.items()}

    def is_cyclic(self) -> bool:
        """Check if this pipeline graph is cyclic (True if it is)."""
        visited_steps: Set[str] = set()
        recurse_steps: Set[str] = set()

        def is_cyclic_helper(current_step):
            visited_steps.add(current_step)
            recurse_steps.add(current_step)
            for child_step in self.adjacency_list.get(current_step, []):
                if child_step in recurse_steps:
                    return True
                if child_step not in visited_steps:
                    if is_cyclic_helper(child_step):
                        return True
            recurse_steps.remove(current_step)
            return False

        for step in list(self.adjacency_list):
            if step not in visited_steps:
                if is_cyclic_helper(step):
                    return True
        return False

    def get_steps_in_sub_dag(
        self, current_step: Union[Step, StepCollection], sub_dag_steps: Set[str] = None
    ) -> Set[str]:
        """Get names of all steps (including current step) in the sub dag of current step.

        Returns a set of step names in the sub dag.
        """
        if sub_dag_steps is None:
            sub_dag_steps = set()

        if isinstance(current_step, StepCollection):
            current_steps = current_step.steps
        else:
            current_steps = [current_step]

        for step in current_steps:
            if step.name not in self.adjacency_list:
                raise ValueError(f"Step: {step.name} does not exist in the pipeline.")
            sub_dag_steps.add(step.name)
            for sub_step in self.adjacency_list[step.name]:
                self.get_steps_in_sub_dag(self.step_map.get(sub_step), sub_dag_steps)
        return sub_dag_steps

    def __iter__(self):
        """Perform topological sort traversal of the Pipeline Graph."""
        visited_steps: Set[str] = set()
        self.stack = []  # pylint: disable=W0201

        def topological_sort(current_step):
            visited_steps.add(current_step)
            for child_step in self.adjacency_list[current_step]:
                if child_step not in visited_steps:
                    topological_sort(child_step)
            self.stack.append(current_step)

        for step in self.adjacency_list:
            if step not in visited_steps:
                topological_sort(step)
        return self

    def __next__(self) -> Step:
        """Return the next Step node from the Topological sort order."""
        while self.stack:
            return self.step_map.get(self.stack.pop())
        raise StopIteration


PipelineExecution = _PipelineExecution
