"""The `Step` base definitions for SageMaker Pipelines (mirror of ``sagemaker.workflow.steps``).

Job steps (Processing/Training/Transform/Tuning/CreateModel) are added separately.
"""

import abc
from enum import Enum
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

from sagepipe.workflow.entities import DefaultEnumMeta, Entity, PipelineVariable, RequestType
from sagepipe.workflow.functions import Join, JsonGet  # noqa: F401  (re-exported like the SDK)
from sagepipe.workflow.properties import Properties, PropertyFile  # noqa: F401
from sagepipe.workflow.retry import RetryPolicy
from sagepipe.workflow.step_outputs import StepOutput

if TYPE_CHECKING:
    from sagepipe.workflow.step_collections import StepCollection


class StepTypeEnum(Enum, metaclass=DefaultEnumMeta):
    """Enum of `Step` types."""

    CONDITION = "Condition"
    CREATE_MODEL = "Model"
    PROCESSING = "Processing"
    REGISTER_MODEL = "RegisterModel"
    TRAINING = "Training"
    TRANSFORM = "Transform"
    CALLBACK = "Callback"
    TUNING = "Tuning"
    LAMBDA = "Lambda"
    QUALITY_CHECK = "QualityCheck"
    CLARIFY_CHECK = "ClarifyCheck"
    EMR = "EMR"
    FAIL = "Fail"
    AUTOML = "AutoML"
    ENDPOINT_CONFIG = "EndpointConfig"
    ENDPOINT = "Endpoint"
    INFERENCE_COMPONENT = "InferenceComponent"
    LINEAGE = "Lineage"


class Step(Entity):
    """Pipeline `Step` for SageMaker Pipelines Workflows."""

    def __init__(
        self,
        name: str,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        step_type: StepTypeEnum = None,
        depends_on: Optional[List[Union[str, "Step", "StepCollection", StepOutput]]] = None,
    ):
        """Initialize a Step.

        Args:
            name (str): The name of the `Step`.
            display_name (str): The display name of the `Step`.
            description (str): The description of the `Step`.
            step_type (StepTypeEnum): The type of the `Step`.
            depends_on (List[Union[str, Step, StepCollection, StepOutput]]): The steps (or names)
                that the current `Step` explicitly depends on.
        """
        self.name = name
        self.display_name = display_name
        self.description = description
        self.step_type = step_type
        self._depends_on = depends_on if depends_on is not None else None

    @property
    def depends_on(self) -> Optional[List[Union[str, "Step", "StepCollection", StepOutput]]]:
        """The list of steps the current `Step` depends on."""
        return self._depends_on

    @depends_on.setter
    def depends_on(self, depends_on: List[Union[str, "Step", "StepCollection", StepOutput]]):
        """Set the list of steps the current step explicitly depends on."""
        self._depends_on = depends_on if depends_on is not None else None

    @property
    @abc.abstractmethod
    def arguments(self) -> RequestType:
        """The arguments to the particular `Step` service call."""

    @property
    def step_only_arguments(self) -> RequestType:
        """The arguments to this Step only (compound steps override this)."""
        return self.arguments

    @property
    @abc.abstractmethod
    def properties(self):
        """The properties of the particular `Step`."""

    def to_request(self) -> RequestType:
        """Gets the request structure for workflow service calls."""
        request_dict = {
            "Name": self.name,
            "Type": self.step_type.value,
            "Arguments": self.arguments,
        }
        if self.depends_on:
            request_dict["DependsOn"] = list(self.depends_on)
        if self.display_name:
            request_dict["DisplayName"] = self.display_name
        if self.description:
            request_dict["Description"] = self.description
        return request_dict

    def add_depends_on(self, step_names: List[Union[str, "Step", "StepCollection", StepOutput]]):
        """Add `Step` names or `Step` instances to the current `Step` depends on list."""
        if not step_names:
            return
        if not self._depends_on:
            self._depends_on = []
        self._depends_on.extend(step_names)

    @property
    def ref(self) -> Dict[str, str]:
        """Gets a reference dictionary for `Step` instances."""
        return {"Name": self.name}

    def _find_step_dependencies(self, step_map: Dict[str, Union["Step", "StepCollection"]]) -> List[str]:
        """Find all step names this step is dependent on."""
        step_dependencies: Dict[str, None] = {}
        if self.depends_on:
            step_dependencies.update(dict.fromkeys(self._find_dependencies_in_depends_on_list(step_map)))
        step_dependencies.update(
            dict.fromkeys(self._find_dependencies_in_step_arguments(self.step_only_arguments, step_map))
        )
        return list(step_dependencies)

    def _find_dependencies_in_depends_on_list(
        self, step_map: Dict[str, Union["Step", "StepCollection"]]
    ) -> List[str]:
        """Find dependency steps referenced in the depends-on field of this step."""
        from sagepipe.workflow.step_collections import StepCollection

        dependencies: Dict[str, None] = {}
        for step in self.depends_on:
            if isinstance(step, StepOutput):
                step = step._step
            if isinstance(step, Step):
                dependencies[step.name] = None
            elif isinstance(step, StepCollection):
                dependencies[step.steps[-1].name] = None
            elif isinstance(step, str):
                dependencies[self._get_step_name_from_str(step, step_map)] = None
        return list(dependencies)

    def _find_dependencies_in_step_arguments(
        self, obj: Any, step_map: Dict[str, Union["Step", "StepCollection"]]
    ) -> List[str]:
        """Find the step dependencies referenced in the arguments of this step."""
        dependencies: Dict[str, None] = {}
        pipeline_variables = Step._find_pipeline_variables_in_step_arguments(obj)
        for pipeline_variable in pipeline_variables:
            for referenced_step in pipeline_variable._referenced_steps:
                if isinstance(referenced_step, Step):
                    dependencies[referenced_step.name] = None
                else:
                    dependencies[self._get_step_name_from_str(referenced_step, step_map)] = None

            if isinstance(pipeline_variable, JsonGet):
                self._validate_json_get_function(pipeline_variable, step_map)
            else:
                to_json_get = getattr(pipeline_variable, "_to_json_get", None)
                if callable(to_json_get):
                    # a DelayedReturn showing up in arguments is data-referenced
                    self._validate_json_get_function(to_json_get(), step_map)
        return list(dependencies)

    def _validate_json_get_function(
        self, json_get: JsonGet, step_map: Dict[str, Union["Step", "StepCollection"]]
    ):
        """Validate the JsonGet function inputs."""
        if json_get.property_file:
            self._validate_json_get_property_file_reference(json_get=json_get, step_map=step_map)

    def _validate_json_get_property_file_reference(self, json_get: JsonGet, step_map: dict):
        """Validate the property file reference in JsonGet."""
        property_file_reference = json_get.property_file
        processing_step = step_map[json_get.step_name]
        property_file = None
        if isinstance(property_file_reference, str):
            if not processing_step.step_type == StepTypeEnum.PROCESSING:
                raise ValueError(
                    f"Invalid JsonGet function {json_get.expr} in step '{self.name}'. "
                    f"JsonGet function (with property_file) can only be evaluated "
                    f"on processing step outputs."
                )
            for file in processing_step.property_files:
                if file.name == property_file_reference:
                    property_file = file
                    break
        elif isinstance(property_file_reference, PropertyFile):
            property_file = property_file_reference
        if property_file is None:
            raise ValueError(
                f"Invalid JsonGet function {json_get.expr} in step '{self.name}'. Property file "
                f"reference '{property_file_reference}' is undefined in step "
                f"'{processing_step.name}'."
            )
        property_file_output = None
        if "ProcessingOutputConfig" in processing_step.arguments:
            for output in processing_step.arguments["ProcessingOutputConfig"]["Outputs"]:
                if output["OutputName"] == property_file.output_name:
                    property_file_output = output
        if property_file_output is None:
            raise ValueError(
                f"Processing output name '{property_file.output_name}' defined in property file "
                f"'{property_file.name}' not found in processing step '{processing_step.name}'."
            )

    @staticmethod
    def _find_pipeline_variables_in_step_arguments(obj: RequestType) -> List[PipelineVariable]:
        """Recursively find all the pipeline variables in the step arguments."""
        pipeline_variables = list()
        if isinstance(obj, dict):
            for value in obj.values():
                if isinstance(value, PipelineVariable):
                    pipeline_variables.append(value)
                else:
                    pipeline_variables.extend(Step._find_pipeline_variables_in_step_arguments(value))
        elif isinstance(obj, list):
            for item in obj:
                if isinstance(item, PipelineVariable):
                    pipeline_variables.append(item)
                else:
                    pipeline_variables.extend(Step._find_pipeline_variables_in_step_arguments(item))
        return pipeline_variables

    @staticmethod
    def _get_step_name_from_str(str_input: str, step_map: Dict[str, Union["Step", "StepCollection"]]) -> str:
        """Convert a Step or StepCollection name input to step name."""
        from sagepipe.workflow.step_collections import StepCollection

        if str_input not in step_map:
            raise ValueError(f"Step {str_input} is undefined.")
        if isinstance(step_map[str_input], StepCollection):
            return step_map[str_input].steps[-1].name
        return str_input

    @staticmethod
    def _trim_experiment_config(request_dict: Dict):
        """For job steps, trim the experiment config to keep the trial component display name."""
        if request_dict.get("ExperimentConfig", {}).get("TrialComponentDisplayName"):
            request_dict["ExperimentConfig"] = {
                "TrialComponentDisplayName": request_dict["ExperimentConfig"]["TrialComponentDisplayName"]
            }
        else:
            request_dict.pop("ExperimentConfig", None)


class CacheConfig:
    """Configuration class to enable caching in SageMaker Pipelines Workflows.

    Attributes:
        enable_caching (bool): To enable `Step` caching. Defaults to `False`.
        expire_after (str): ISO 8601 duration string (not parsed), e.g. 'p30d', 'P4DT12H', 'T12H'.
    """

    def __init__(self, enable_caching: bool = False, expire_after: Optional[str] = None):
        if expire_after is not None and not isinstance(expire_after, str):
            raise TypeError(
                f"'expire_after' must be {str!r} (got {expire_after!r} that is a {expire_after.__class__!r})."
            )
        self.enable_caching = enable_caching
        self.expire_after = expire_after

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.enable_caching, self.expire_after) == (other.enable_caching, other.expire_after)

    __hash__ = None

    def __repr__(self):
        return f"CacheConfig(enable_caching={self.enable_caching!r}, expire_after={self.expire_after!r})"

    @property
    def config(self):
        """Configures `Step` caching for SageMaker Pipelines Workflows."""
        config = {"Enabled": self.enable_caching}
        if self.expire_after is not None:
            config["ExpireAfter"] = self.expire_after
        return {"CacheConfig": config}


class ConfigurableRetryStep(Step):
    """`ConfigurableRetryStep` for SageMaker Pipelines Workflows."""

    def __init__(
        self,
        name: str,
        step_type: StepTypeEnum,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        depends_on: Optional[List[Union[str, Step, "StepCollection", StepOutput]]] = None,
        retry_policies: Optional[List[RetryPolicy]] = None,
    ):
        super().__init__(
            name=name,
            display_name=display_name,
            step_type=step_type,
            description=description,
            depends_on=depends_on,
        )
        self.retry_policies = [] if not retry_policies else retry_policies

    def add_retry_policy(self, retry_policy: RetryPolicy):
        """Add a policy to the current `ConfigurableRetryStep` retry policies list."""
        if not retry_policy:
            return
        if not self.retry_policies:
            self.retry_policies = []
        self.retry_policies.append(retry_policy)

    def to_request(self) -> RequestType:
        """Gets the request structure for `ConfigurableRetryStep`."""
        step_dict = super().to_request()
        if self.retry_policies:
            step_dict["RetryPolicies"] = self._resolve_retry_policy(self.retry_policies)
        return step_dict

    @staticmethod
    def _resolve_retry_policy(retry_policy_list: List[RetryPolicy]) -> List[RequestType]:
        """Resolve the `ConfigurableRetryStep` retry policy list."""
        return [retry_policy.to_request() for retry_policy in retry_policy_list]


__all__ = [
    "CacheConfig",
    "ConfigurableRetryStep",
    "PropertyFile",
    "Step",
    "StepOutput",
    "StepTypeEnum",
]
