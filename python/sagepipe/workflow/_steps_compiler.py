"""Compile pipeline steps into request dicts (mirror of ``sagemaker.workflow._steps_compiler``).

Rules (SDK v2):
- Steps reachable from the input steps through ``depends_on`` or through pipeline variables in
  their arguments are included implicitly. The build queue is FIFO (BFS), so implicit steps come
  after the listed ones.
- ``DependsOn`` holds only the explicit ``depends_on`` entries (a StepCollection expands to all
  of its sub-steps) plus referenced *function* steps (``_is_function_step = True``).
- Function steps referenced by another step get ``_serialize_output_to_json = True``.
"""

import logging
import os
import sys
from typing import Any, List, Sequence, Union

from sagepipe.workflow.condition_step import ConditionStep
from sagepipe.workflow.entities import RequestType
from sagepipe.workflow.pipeline_definition_config import PipelineDefinitionConfig
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.step_outputs import StepOutput, get_step
from sagepipe.workflow.steps import PropertyFile, Step, StepTypeEnum
from sagepipe.workflow.utilities import (
    get_code_hash,
    get_config_hash,
    sagemaker_timestamp,
    step_compilation_context_manager,
)

logger = logging.getLogger(__name__)

SERIALIZE_OUTPUT_TO_JSON_ARGS = ["--serialize_output_to_json", "true"]


def _is_function_step(step: Any) -> bool:
    """Whether ``step`` is a ``@step`` function step (``_is_function_step = True`` class attribute)."""
    return isinstance(step, Step) and getattr(type(step), "_is_function_step", False) is True


class CompiledStep(Step):
    """A compiled step.

    A lightweight, immutable-ish representation of a step: ``to_request()`` returns the stored
    request dict. It is used for the pipeline definition and by the local executor.
    """

    def __init__(self, request_dict: RequestType):
        """Initialize a CompiledStep."""
        self._request_dict = request_dict
        super().__init__(
            name=request_dict["Name"],
            step_type=StepTypeEnum(value=request_dict["Type"]),
            depends_on=request_dict.get("DependsOn", []),
            description=request_dict.get("Description"),
            display_name=request_dict.get("DisplayName"),
        )

    @property
    def arguments(self) -> RequestType:
        """The arguments to the particular `Step` service call."""
        return self._request_dict["Arguments"]

    @property
    def property_files(self) -> List[PropertyFile]:
        """The property files of a processing step."""
        return [
            PropertyFile(
                name=property_file["PropertyFileName"],
                output_name=property_file["OutputName"],
                path=property_file["FilePath"],
            )
            for property_file in self._request_dict.get("PropertyFiles", [])
        ]

    @property
    def properties(self):
        """Disabled for compiled steps."""
        raise NotImplementedError

    def add_depends_on(self, step_names: List[Union[str, "Step", "StepCollection", StepOutput]]):
        """Disabled for compiled steps."""
        raise NotImplementedError

    def to_request(self) -> RequestType:
        """Gets the request structure for workflow service calls."""
        return self._request_dict


class _StepsSet:
    """A simple ordered set (by identity) to dedup steps."""

    def __init__(self):
        self._steps = dict()
        self._steps_list = list()

    def __contains__(self, step: Step):
        return id(step) in self._steps

    def __getitem__(self, index):
        return self._steps_list[index]

    def __iter__(self):
        return iter(self._steps_list)

    def __len__(self):
        return len(self._steps_list)

    def add(self, step: Step):
        if step not in self:
            self._steps_list.append(step)
        self._steps[id(step)] = step

    def add_list(self, steps: List[Step]):
        for step in steps:
            self.add(step)


class _BuildQueue:
    """A FIFO queue for the steps to build."""

    def __init__(self):
        self._steps_to_build = list()

    def push(self, steps: List[Step]):
        for step in steps:
            self._steps_to_build.append(step)

    def pop(self) -> Step:
        if self._steps_to_build:
            return self._steps_to_build.pop(0)
        return None

    def __len__(self):
        return len(self._steps_to_build)


class StepsCompiler:
    """Class used to compile steps. Should be instantiated once per compilation."""

    def __init__(
        self,
        pipeline_name: str,
        sagemaker_session,
        steps: Sequence[Union[Step, StepCollection, StepOutput]],
        pipeline_definition_config: PipelineDefinitionConfig = None,
    ):
        """Initialize a StepsCompiler.

        Args:
            pipeline_name (str): The name of the pipeline.
            sagemaker_session: The session used to compile the steps (may be None).
            steps: The input steps of the pipeline.
            pipeline_definition_config (PipelineDefinitionConfig): definition feature flags.
        """
        self.pipeline_name = pipeline_name
        self.sagemaker_session = sagemaker_session
        self.pipeline_definition_config = pipeline_definition_config
        self.upload_runtime_scripts = True
        self.upload_workspace = True
        self.pipeline_build_time = sagemaker_timestamp()

        self._input_steps = list(steps)
        self._input_steps_map = dict()
        StepsCompiler._generate_step_map(self._input_steps, self._input_steps_map)

        self._all_known_steps = _StepsSet()
        self._build_queue = _BuildQueue()

        self._function_step_secret_token = os.urandom(32).hex()  # secrets.token_hex(32)

        self._build_count = 0
        self._steps_need_json_serialization = set()
        # names of function steps whose request was built before the flag was set
        self._function_steps_built_without_flag = set()

    @staticmethod
    def _generate_step_map(steps: Sequence[Union[Step, StepCollection, StepOutput]], step_map: dict):
        """Helper method to create a mapping from Step/Step Collection name to itself."""
        for item in steps:
            step = get_step(item) if isinstance(item, StepOutput) else item
            if step.name in step_map:
                raise ValueError(
                    "Pipeline steps cannot have duplicate names. In addition, steps added in "
                    "the ConditionStep cannot be added in the Pipeline steps list."
                )
            step_map[step.name] = step
            if isinstance(step, ConditionStep):
                StepsCompiler._generate_step_map(step.if_steps + step.else_steps, step_map)
            if isinstance(step, StepCollection):
                StepsCompiler._generate_step_map(step.steps, step_map)

    def _simplify_step_list(self, step_list: List[Union[str, Step, StepCollection, StepOutput]]) -> List[Step]:
        """Simplify an input step list containing strings, StepCollections and StepOutputs."""
        if not step_list:
            return []

        resolved_step_set = _StepsSet()
        for item in step_list:
            if isinstance(item, str):
                step = self._input_steps_map.get(item)
                if step is None:
                    raise ValueError(f"The input steps do not contain the step of name: {item}")
            elif isinstance(item, StepOutput):
                step = get_step(item)
            else:
                step = item

            if isinstance(step, Step):
                resolved_step_set.add(step)
            elif isinstance(step, StepCollection):
                resolved_step_set.add_list(step.steps)
            else:
                raise ValueError(f"Invalid input step type: {type(step)}")

        return list(resolved_step_set)

    def _flatten_condition_step(self, step: ConditionStep) -> List[Step]:
        """Flatten a ConditionStep into a list of steps."""
        flattened_steps = _StepsSet()
        flattened_steps.add(step)
        for sub_step in self._simplify_step_list(step.if_steps + step.else_steps):
            if isinstance(sub_step, ConditionStep):
                flattened_steps.add_list(self._flatten_condition_step(sub_step))
            else:
                flattened_steps.add(sub_step)
        return list(flattened_steps)

    def _push_to_build_queue(self, steps: List[Step]):
        """Push steps to the build queue."""
        for step in steps:
            if step not in self._all_known_steps:
                self._build_queue.push([step])

            if isinstance(step, ConditionStep):
                self._all_known_steps.add_list(self._flatten_condition_step(step))
            else:
                self._all_known_steps.add(step)

    @staticmethod
    def get_upstream_steps_from_step_arguments(args: RequestType) -> List[Any]:
        """Get upstream steps (or step names) from step arguments."""
        pipeline_variables = Step._find_pipeline_variables_in_step_arguments(args)
        upstream_steps = []
        for pipeline_variable in pipeline_variables:
            upstream_steps.extend(pipeline_variable._referenced_steps)
        return upstream_steps

    def _get_upstream_steps(self, step: Step, arguments: dict):
        """Get the DependsOn steps and the data-referenced upstream steps of the given step."""
        depends_on = _StepsSet()
        depends_on.add_list(self._simplify_step_list(step.depends_on))

        upstream_step_in_args = self._simplify_step_list(
            StepsCompiler.get_upstream_steps_from_step_arguments(arguments)
        )

        for upstream_step in upstream_step_in_args:
            if _is_function_step(upstream_step) and upstream_step is not step:
                self._mark_function_step_for_json(upstream_step)
                depends_on.add(upstream_step)

        return list(depends_on), upstream_step_in_args

    def _mark_function_step_for_json(self, func_step: Step):
        """Flag a data-referenced function step so its output is serialized to JSON."""
        self._steps_need_json_serialization.add(func_step.name)
        func_step._serialize_output_to_json = True

    def _set_serialize_output_to_json_flag(self, compiled_steps: List[Step]):
        """Patch function steps that were built before they were found to be data-referenced.

        Their compiled ``ContainerArguments`` get ``--serialize_output_to_json true`` appended
        (same as the SDK), unless already present.
        """
        for step in compiled_steps:
            if isinstance(step, ConditionStep):
                self._set_serialize_output_to_json_flag(step.if_steps)
                self._set_serialize_output_to_json_flag(step.else_steps)
            elif (
                step.name in self._steps_need_json_serialization
                and step.name in self._function_steps_built_without_flag
            ):
                args = step._request_dict.get("Arguments", {})
                container_args = args.get("AlgorithmSpecification", {}).get("ContainerArguments")
                if container_args is not None and "--serialize_output_to_json" not in container_args:
                    container_args.extend(SERIALIZE_OUTPUT_TO_JSON_ARGS)

    def _build_step(self, step: Step) -> CompiledStep:
        """Build a step."""
        with step_compilation_context_manager(
            pipeline_name=self.pipeline_name,
            step_name=step.name,
            sagemaker_session=self.sagemaker_session,
            code_hash=get_code_hash(step),
            config_hash=get_config_hash(step),
            pipeline_definition_config=self.pipeline_definition_config,
            upload_runtime_scripts=self.upload_runtime_scripts,
            upload_workspace=self.upload_workspace,
            pipeline_build_time=self.pipeline_build_time,
            function_step_secret_token=self._function_step_secret_token,
        ) as context:
            if _is_function_step(step):
                # The flag is this pipeline's: the same step built for another pipeline where a
                # step read its output must not carry that pipeline's flag here.
                step._serialize_output_to_json = step.name in self._steps_need_json_serialization
                if not step._serialize_output_to_json:
                    self._function_steps_built_without_flag.add(step.name)
            request_dict = step.to_request()

            self.upload_runtime_scripts = context.upload_runtime_scripts
            self.upload_workspace = context.upload_workspace

            depends_on, upstream_steps_in_args = self._get_upstream_steps(step, request_dict["Arguments"])
            if depends_on:
                request_dict["DependsOn"] = [s.name for s in depends_on]

            self._push_to_build_queue(depends_on)
            self._push_to_build_queue(upstream_steps_in_args)
        return CompiledStep(request_dict)

    def _build_condition_step(self, condition_step: ConditionStep) -> ConditionStep:
        """Build a condition step."""
        depends_on, upstream_steps_in_args = self._get_upstream_steps(
            condition_step, condition_step.step_only_arguments
        )
        self._push_to_build_queue(depends_on)
        self._push_to_build_queue(upstream_steps_in_args)

        return ConditionStep(
            name=condition_step.name,
            display_name=condition_step.display_name,
            description=condition_step.description,
            conditions=list(condition_step.conditions),
            if_steps=self._build_steps(condition_step.if_steps),
            else_steps=self._build_steps(condition_step.else_steps),
            depends_on=[step.name for step in depends_on],
        )

    def _build_steps(self, steps: List[Union[Step, StepCollection, StepOutput]]):
        """Build a list of steps."""
        compiled_steps = []
        for step in self._simplify_step_list(steps):
            if isinstance(step, ConditionStep):
                compiled_steps.append(self._build_condition_step(step))
            else:
                compiled_steps.append(self._build_step(step))
        return compiled_steps

    def _initialize_queue_and_build(self, steps: List[Union[Step, StepCollection, StepOutput]]):
        """Build all steps reachable from ``steps`` in BFS order."""
        self._push_to_build_queue(self._simplify_step_list(steps))

        compiled_steps = []
        while len(self._build_queue) > 0:
            step = self._build_queue.pop()
            if isinstance(step, ConditionStep):
                compiled_steps.append(self._build_condition_step(step))
            else:
                compiled_steps.append(self._build_step(step))

        self._set_serialize_output_to_json_flag(compiled_steps)
        return compiled_steps

    def build(self):
        """Build the list of compiled steps.

        Returns:
            list: compiled steps (``CompiledStep`` / compiled ``ConditionStep``) in BFS order.
        """
        self._build_count += 1
        if self._build_count > 1:
            raise RuntimeError("Cannot build a pipeline more than once with the same compiler.")
        try:
            return self._initialize_queue_and_build(self._input_steps)
        finally:
            # No @step module loaded: no compilation scope can have been opened.
            function_step = sys.modules.get("sagepipe.workflow.function_step")
            if function_step is not None:
                function_step._CompilationScope.end(self._function_step_secret_token)
