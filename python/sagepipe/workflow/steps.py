"""Steps for SageMaker Pipelines (mirror of ``sagemaker.workflow.steps``).

Job steps (Processing, Training, Transform, Tuning, CreateModel) take ``step_args`` from the job
classes under a ``PipelineSession`` (``processor.run()``, ``estimator.fit()``, ...) or the legacy
job-object arguments; their ``arguments`` are the SDK's ``Create*`` request without the job name.
"""

import abc
import warnings
from enum import Enum
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

from sagepipe.workflow.entities import DefaultEnumMeta, Entity, PipelineVariable, RequestType
from sagepipe.workflow.functions import Join, JsonGet  # noqa: F401  (re-exported like the SDK)
from sagepipe.workflow.properties import Properties, PropertyFile  # noqa: F401
from sagepipe.workflow.retry import RetryPolicy
from sagepipe.workflow.step_outputs import StepOutput

if TYPE_CHECKING:
    from sagepipe.workflow.step_collections import StepCollection


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


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
    BEDROCK_CUSTOM_MODEL = "BedrockCustomModel"
    BEDROCK_CUSTOM_MODEL_DEPLOYMENT = "BedrockCustomModelDeployment"
    BEDROCK_MODEL_IMPORT = "BedrockModelImport"
    BEDROCK_PROVISIONED_MODEL_THROUGHPUT = "BedrockProvisionedModelThroughput"


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

    def _find_dependencies_in_depends_on_list(self, step_map: Dict[str, Union["Step", "StepCollection"]]) -> List[str]:
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

    def _validate_json_get_function(self, json_get: JsonGet, step_map: Dict[str, Union["Step", "StepCollection"]]):
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
        processing_arguments = processing_step.arguments  # built (and code uploaded) once
        if "ProcessingOutputConfig" in processing_arguments:
            for output in processing_arguments["ProcessingOutputConfig"]["Outputs"]:
                if output["OutputName"] == property_file.output_name:
                    property_file_output = output
        if property_file_output is None:
            raise ValueError(
                f"Processing output name '{property_file.output_name}' defined in property file "
                f"'{property_file.name}' not found in processing step '{processing_step.name}'."
            )

    @staticmethod
    def _find_pipeline_variables_in_step_arguments(obj: RequestType) -> List[PipelineVariable]:
        """Find all the pipeline variables in the step arguments (in dicts and lists, in order)."""
        pipeline_variables = list()
        if not isinstance(obj, (dict, list)):
            return pipeline_variables
        # Iterative, and plain JSON scalars (most of a request) skip the ABC isinstance checks.
        pending = [iter(obj.values() if isinstance(obj, dict) else obj)]
        while pending:
            for value in pending[-1]:
                kind = type(value)
                if kind in _JSON_SCALARS:
                    continue
                if kind is dict:
                    pending.append(iter(value.values()))
                    break
                if kind is list:
                    pending.append(iter(value))
                    break
                if isinstance(value, PipelineVariable):
                    pipeline_variables.append(value)
                elif isinstance(value, dict):
                    pending.append(iter(value.values()))
                    break
                elif isinstance(value, list):
                    pending.append(iter(value))
                    break
            else:
                pending.pop()
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

    __hash__ = None  # type: ignore[assignment]  # unhashable, as the SDK's class

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

    # Job steps that accept a `CacheConfig` set this; its keys follow RetryPolicies, as in the SDK.
    cache_config: Optional["CacheConfig"] = None

    def to_request(self) -> RequestType:
        """Gets the request structure for `ConfigurableRetryStep` (with its cache configuration)."""
        step_dict = super().to_request()
        if self.retry_policies:
            step_dict["RetryPolicies"] = self._resolve_retry_policy(self.retry_policies)
        if self.cache_config:
            step_dict.update(self.cache_config.config)
        return step_dict

    @staticmethod
    def _resolve_retry_policy(retry_policy_list: List[RetryPolicy]) -> List[RequestType]:
        """Resolve the `ConfigurableRetryStep` retry policy list."""
        return [retry_policy.to_request() for retry_policy in retry_policy_list]


def _job_step_request(step_args, expected_caller: str, error_message: str) -> dict:
    """Run the deferred job function of ``step_args`` and return the captured request."""
    from sagepipe.workflow.utilities import execute_job_functions

    execute_job_functions(step_args)
    job_object = step_args.func_args[0]
    context = job_object.sagemaker_session.context
    if context is None or getattr(context, "caller_name", None) != expected_caller:
        raise ValueError(error_message)
    return context.args


def _finish_job_request(request_dict: dict, job_key: str) -> dict:
    """Pop the job name (unless custom job prefixes are on) and trim the experiment config."""
    from sagepipe.workflow.utilities import _pipeline_config, trim_request_dict

    request_dict = trim_request_dict(request_dict, job_key, _pipeline_config)
    Step._trim_experiment_config(request_dict)
    return request_dict


def _validate_step_args(step_args, expected_caller: str, error_message: str):
    from sagepipe.workflow.utilities import validate_step_args_input

    validate_step_args_input(step_args=step_args, expected_caller={expected_caller}, error_message=error_message)


def _deprecated_form(step_class: str, job_argument: str):
    warnings.warn(
        f'We are deprecating the instantiation of {step_class} using "{job_argument}".'
        'Instead, simply using "step_args".',
        DeprecationWarning,
        stacklevel=3,
    )


class TrainingStep(ConfigurableRetryStep):
    """`TrainingStep` for SageMaker Pipelines Workflows."""

    _STEP_ARGS_ERROR = "The step_args of TrainingStep must be obtained from estimator.fit()."

    def __init__(
        self,
        name: str,
        step_args=None,
        estimator=None,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        inputs=None,
        cache_config: Optional[CacheConfig] = None,
        depends_on: Optional[List[Union[str, Step, "StepCollection"]]] = None,
        retry_policies: Optional[List[RetryPolicy]] = None,
    ):
        """Construct a `TrainingStep`, given ``step_args`` from ``estimator.fit()`` (or, legacy, an estimator).

        Args:
            name (str): The name of the `TrainingStep`.
            step_args (_StepArguments): The result of ``estimator.fit(...)`` under a PipelineSession.
            estimator (EstimatorBase): Legacy form: the estimator (with ``inputs``).
            display_name (str): The display name of the `TrainingStep`.
            description (str): The description of the `TrainingStep`.
            inputs (str or dict or TrainingInput): Legacy form: the training data.
            cache_config (CacheConfig): A `CacheConfig` instance.
            depends_on (List[Union[str, Step, StepCollection]]): Explicit dependencies.
            retry_policies (List[RetryPolicy]): A list of retry policies.

        Raises:
            ValueError: Neither or both of ``step_args`` and ``estimator``, or ``step_args`` from
                another job function.
        """
        super().__init__(name, StepTypeEnum.TRAINING, display_name, description, depends_on, retry_policies)
        if not (step_args is not None) ^ (estimator is not None):
            raise ValueError("Either step_args or estimator need to be given.")
        if step_args:
            _validate_step_args(step_args, "train", self._STEP_ARGS_ERROR)
        self.step_args = step_args
        self.estimator = estimator
        self.inputs = inputs
        self.job_name = None
        self._properties = Properties(step_name=name, step=self, shape_name="DescribeTrainingJobResponse")
        self.cache_config = cache_config
        if self.cache_config:
            job = self.step_args.func_args[0] if self.step_args else self.estimator
            if not job.disable_profiler:
                warnings.warn(
                    "Profiling is enabled on the provided estimator. The default profiler rule includes a "
                    "timestamp which will change each time the pipeline is upserted, causing cache misses. If "
                    "profiling is not needed, set disable_profiler to True on the estimator.",
                    stacklevel=2,
                )
        if not self.step_args:
            _deprecated_form("TrainingStep", "estimator")

    @property
    def arguments(self) -> RequestType:
        """The ``CreateTrainingJob`` request without the job name and experiment config."""
        if self.step_args:
            request_dict = _job_step_request(self.step_args, "train", self._STEP_ARGS_ERROR)
        else:
            from sagepipe.estimator import _TrainingJob

            self.estimator._prepare_for_training(self.job_name)
            train_args = _TrainingJob._get_train_args(self.estimator, self.inputs, experiment_config=dict())
            request_dict = self.estimator.sagemaker_session._get_train_request(**train_args)
        if "HyperParameters" in request_dict:
            request_dict["HyperParameters"].pop("sagemaker_job_name", None)
        return _finish_job_request(request_dict, "TrainingJobName")

    @property
    def properties(self):
        """A `Properties` object representing the `DescribeTrainingJobResponse` data model."""
        return self._properties

    def _get_code_hash(self) -> Optional[str]:
        """The hash of the training code (entry point / source dir / dependencies) for step_args."""
        from sagepipe.workflow.utilities import get_training_code_hash

        if not self.step_args:
            return None
        job = self.step_args.func_args[0]
        return get_training_code_hash(job.entry_point, job.source_dir, job.dependencies)


class CreateModelStep(ConfigurableRetryStep):
    """`CreateModelStep` for SageMaker Pipelines Workflows (legacy; prefer `ModelStep`)."""

    # Off for the CreateModel step a ModelStep adds itself: its user did what the notice asks.
    _deprecation_notice = True

    def __init__(
        self,
        name: str,
        step_args: Optional[dict] = None,
        model=None,
        inputs=None,
        depends_on: Optional[List[Union[str, Step, "StepCollection"]]] = None,
        retry_policies: Optional[List[RetryPolicy]] = None,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
    ):
        """Construct a `CreateModelStep`, given a ``Model`` (or a ``CreateModel`` request dict).

        Args:
            name (str): The name of the `CreateModelStep`.
            step_args (dict): A ``CreateModel`` request dict (used by ``ModelStep``).
            model (Model): The model (legacy form).
            inputs (CreateModelInput): The instance and accelerator type of the model.
            depends_on (List[Union[str, Step, StepCollection]]): Explicit dependencies.
            retry_policies (List[RetryPolicy]): A list of retry policies.
            display_name (str): The display name of the step.
            description (str): The description of the step.

        Raises:
            ValueError: Neither or both of ``step_args`` and ``model``.
        """
        super().__init__(name, StepTypeEnum.CREATE_MODEL, display_name, description, depends_on, retry_policies)
        if not (step_args is None) ^ (model is None):
            raise ValueError("step_args and model are mutually exclusive. Either of them should be provided.")
        from sagepipe.inputs import CreateModelInput

        self.step_args = step_args
        self.model = model
        self.inputs = inputs or CreateModelInput()
        self._properties = Properties(step_name=name, step=self, shape_name="DescribeModelOutput")
        if self._deprecation_notice:
            warnings.warn(
                "We are deprecating the use of CreateModelStep. Instead, please use the ModelStep, which simply "
                "takes in the step arguments generated by model.create().",
                DeprecationWarning,
                stacklevel=2,
            )

    @property
    def arguments(self) -> RequestType:
        """The ``CreateModel`` request without the model name."""
        if self.step_args:
            request_dict = self.step_args
        else:
            from sagepipe.pipeline import PipelineModel

            self.model._init_sagemaker_session_if_does_not_exist()
            if isinstance(self.model, PipelineModel):
                container_defs = self.model.pipeline_container_def(self.inputs.instance_type)
                network_isolation = self.model.enable_network_isolation
            else:
                container_defs = self.model.prepare_container_def(
                    instance_type=self.inputs.instance_type, accelerator_type=self.inputs.accelerator_type
                )
                network_isolation = self.model.enable_network_isolation()
            request_dict = self.model.sagemaker_session._create_model_request(
                name="",
                role=self.model.role,
                container_defs=container_defs,
                vpc_config=self.model.vpc_config,
                enable_network_isolation=network_isolation,
            )
        from sagepipe.workflow.utilities import _pipeline_config, trim_request_dict

        return trim_request_dict(request_dict, "ModelName", _pipeline_config)

    @property
    def properties(self):
        """A `Properties` object representing the `DescribeModelOutput` data model."""
        return self._properties


class TransformStep(ConfigurableRetryStep):
    """`TransformStep` for SageMaker Pipelines Workflows."""

    _STEP_ARGS_ERROR = "The step_args of TransformStep must be obtained from transformer.transform()."

    def __init__(
        self,
        name: str,
        step_args=None,
        transformer=None,
        inputs=None,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        cache_config: Optional[CacheConfig] = None,
        depends_on: Optional[List[Union[str, Step, "StepCollection"]]] = None,
        retry_policies: Optional[List[RetryPolicy]] = None,
    ):
        """Constructs a `TransformStep`, given ``step_args`` from ``transformer.transform()``.

        Args:
            name (str): The name of the `TransformStep`.
            step_args (_StepArguments): The result of ``transformer.transform(...)``.
            transformer (Transformer): Legacy form: the transformer (with ``inputs``).
            inputs (TransformInput): Legacy form: the transform input.
            display_name (str): The display name of the `TransformStep`.
            description (str): The description of the `TransformStep`.
            cache_config (CacheConfig): A `CacheConfig` instance.
            depends_on (List[Union[str, Step, StepCollection]]): Explicit dependencies.
            retry_policies (List[RetryPolicy]): A list of retry policies.

        Raises:
            ValueError: Neither or both of ``step_args`` and ``transformer``, or a legacy
                transformer without ``inputs``.
        """
        super().__init__(name, StepTypeEnum.TRANSFORM, display_name, description, depends_on, retry_policies)
        if not (step_args is not None) ^ (transformer is not None):
            raise ValueError("either step_args or transformer need to be given, but not both.")
        if step_args:
            _validate_step_args(step_args, "transform", self._STEP_ARGS_ERROR)
        self.step_args = step_args
        self.transformer = transformer
        self.inputs = inputs
        self.cache_config = cache_config
        self._properties = Properties(step_name=name, step=self, shape_name="DescribeTransformJobResponse")
        if not self.step_args:
            if inputs is None:
                raise ValueError("Inputs can't be None when transformer is given.")
            _deprecated_form("TransformStep", "transformer")

    @property
    def arguments(self) -> RequestType:
        """The ``CreateTransformJob`` request without the job name and experiment config."""
        if self.step_args:
            request_dict = _job_step_request(self.step_args, "transform", self._STEP_ARGS_ERROR)
        else:
            from sagepipe.transformer import _TransformJob

            transform_args = _TransformJob._get_transform_args(
                transformer=self.transformer,
                data=self.inputs.data,
                data_type=self.inputs.data_type,
                content_type=self.inputs.content_type,
                compression_type=self.inputs.compression_type,
                split_type=self.inputs.split_type,
                input_filter=self.inputs.input_filter,
                output_filter=self.inputs.output_filter,
                join_source=self.inputs.join_source,
                model_client_config=self.inputs.model_client_config,
                experiment_config=dict(),
                batch_data_capture_config=self.inputs.batch_data_capture_config,
            )
            request_dict = self.transformer.sagemaker_session._get_transform_request(**transform_args)
        return _finish_job_request(request_dict, "TransformJobName")

    @property
    def properties(self):
        """A `Properties` object representing the `DescribeTransformJobResponse` data model."""
        return self._properties


class ProcessingStep(ConfigurableRetryStep):
    """`ProcessingStep` for SageMaker Pipelines Workflows."""

    _STEP_ARGS_ERROR = "The step_args of ProcessingStep must be obtained from processor.run()."

    def __init__(
        self,
        name: str,
        step_args=None,
        processor=None,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        inputs=None,
        outputs=None,
        job_arguments: Optional[List[str]] = None,
        code: Optional[str] = None,
        property_files: Optional[List[PropertyFile]] = None,
        cache_config: Optional[CacheConfig] = None,
        depends_on: Optional[List[Union[str, Step, "StepCollection"]]] = None,
        retry_policies: Optional[List[RetryPolicy]] = None,
        kms_key: Optional[str] = None,
    ):
        """Construct a `ProcessingStep`, given ``step_args`` from ``processor.run()`` (or a processor).

        Args:
            name (str): The name of the `ProcessingStep`.
            step_args (_StepArguments): The result of ``processor.run(...)`` under a PipelineSession.
            processor (Processor): Legacy form: the processor (with ``inputs``, ``outputs``,
                ``job_arguments``, ``code``).
            display_name (str): The display name of the `ProcessingStep`.
            description (str): The description of the `ProcessingStep`.
            inputs (List[ProcessingInput]): Legacy form: the inputs.
            outputs (List[ProcessingOutput]): Legacy form: the outputs.
            job_arguments (List[str]): Legacy form: the container arguments.
            code (str): Legacy form: an S3 URI or local path of the script (``ScriptProcessor``).
            property_files (List[PropertyFile]): Property files read from the outputs.
            cache_config (CacheConfig): A `CacheConfig` instance.
            depends_on (List[Union[str, Step, StepCollection]]): Explicit dependencies.
            retry_policies (List[RetryPolicy]): A list of retry policies.
            kms_key (str): Recorded.

        Raises:
            ValueError: Neither or both of ``step_args`` and ``processor``, ``step_args`` from
                another job function, or a pipeline variable ``code``.
        """
        super().__init__(name, StepTypeEnum.PROCESSING, display_name, description, depends_on, retry_policies)
        if not (step_args is not None) ^ (processor is not None):
            raise ValueError("either step_args or processor need to be given, but not both.")
        if step_args:
            _validate_step_args(step_args, "process", self._STEP_ARGS_ERROR)
        self.step_args = step_args
        self.processor = processor
        self.inputs = inputs
        self.outputs = outputs
        self.job_arguments = job_arguments
        self.code = code
        self.property_files = property_files or []
        self.job_name = None
        self.kms_key = kms_key
        self.cache_config = cache_config
        self._properties = Properties(step_name=name, step=self, shape_name="DescribeProcessingJobResponse")
        if not self.step_args:
            self.processor.arguments = job_arguments
            if code and isinstance(code, PipelineVariable):
                raise ValueError(
                    "code argument has to be a valid S3 URI or local file path rather than a pipeline variable"
                )
            _deprecated_form("ProcessingStep", "processor")

    @property
    def arguments(self) -> RequestType:
        """The ``CreateProcessingJob`` request without the job name and experiment config."""
        if self.step_args:
            request_dict = _job_step_request(self.step_args, "process", self._STEP_ARGS_ERROR)
        else:
            from sagepipe.processing import ProcessingJob

            normalized_inputs, normalized_outputs = self.processor._normalize_args(
                job_name=self.job_name,
                arguments=self.job_arguments,
                inputs=self.inputs,
                outputs=self.outputs,
                code=self.code,
                kms_key=self.kms_key,
            )
            process_args = ProcessingJob._get_process_args(
                self.processor, normalized_inputs, normalized_outputs, experiment_config=dict()
            )
            request_dict = self.processor.sagemaker_session._get_process_request(**process_args)
        return _finish_job_request(request_dict, "ProcessingJobName")

    @property
    def properties(self):
        """A `Properties` object representing the `DescribeProcessingJobResponse` data model."""
        return self._properties

    def to_request(self) -> RequestType:
        """Get the request structure for workflow service calls."""
        request_dict = super().to_request()
        if self.property_files:
            request_dict["PropertyFiles"] = [property_file.expr for property_file in self.property_files]
        return request_dict

    def _get_code_hash(self) -> Optional[str]:
        """The hash of the processing code (``code``/``source_dir``/dependencies) for step_args."""
        from sagepipe.workflow.utilities import get_processing_code_hash, get_processing_dependencies

        if not self.step_args:
            return None
        kwargs = self.step_args.func_kwargs
        submit_class = kwargs.get("submit_class")
        dependencies = get_processing_dependencies(
            [
                kwargs.get("dependencies"),
                kwargs.get("submit_py_files"),
                [submit_class] if submit_class else None,
                kwargs.get("submit_jars"),
                kwargs.get("submit_files"),
            ]
        )
        code = kwargs.get("submit_app") or kwargs.get("code")
        if isinstance(code, PipelineVariable):
            return None  # rejected with a clear error when the request is built
        return get_processing_code_hash(code, kwargs.get("source_dir"), dependencies)

    def _get_config_hash(self) -> Optional[str]:
        from sagepipe.workflow.utilities import hash_object

        if self.step_args and self.step_args.func_kwargs.get("configuration"):
            return hash_object(self.step_args.func_kwargs["configuration"])
        return None


class TuningStep(ConfigurableRetryStep):
    """`TuningStep` for SageMaker Pipelines Workflows."""

    _STEP_ARGS_ERROR = "The step_args of TuningStep must be obtained from tuner.fit()."

    def __init__(
        self,
        name: str,
        step_args=None,
        tuner=None,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        inputs=None,
        job_arguments: Optional[List[str]] = None,
        cache_config: Optional[CacheConfig] = None,
        depends_on: Optional[List[Union[str, Step, "StepCollection"]]] = None,
        retry_policies: Optional[List[RetryPolicy]] = None,
    ):
        """Construct a `TuningStep`, given ``step_args`` from ``tuner.fit()`` (or, legacy, a tuner).

        Args:
            name (str): The name of the `TuningStep`.
            step_args (_StepArguments): The result of ``tuner.fit(...)`` under a PipelineSession.
            tuner (HyperparameterTuner): Legacy form: the tuner (with ``inputs``).
            display_name (str): The display name of the `TuningStep`.
            description (str): The description of the `TuningStep`.
            inputs: Legacy form: the training data.
            job_arguments (List[str]): Unused (as in the SDK).
            cache_config (CacheConfig): A `CacheConfig` instance.
            depends_on (List[Union[str, Step, StepCollection]]): Explicit dependencies.
            retry_policies (List[RetryPolicy]): A list of retry policies.
        """
        super().__init__(name, StepTypeEnum.TUNING, display_name, description, depends_on, retry_policies)
        if not (step_args is not None) ^ (tuner is not None):
            raise ValueError("either step_args or tuner need to be given, but not both.")
        if step_args:
            _validate_step_args(step_args, "create_tuning_job", self._STEP_ARGS_ERROR)
        self.step_args = step_args
        self.tuner = tuner
        self.inputs = inputs
        self.job_arguments = job_arguments
        self._properties = Properties(
            step_name=name,
            step=self,
            shape_names=[
                "DescribeHyperParameterTuningJobResponse",
                "ListTrainingJobsForHyperParameterTuningJobResponse",
            ],
        )
        self.cache_config = cache_config
        if not self.step_args:
            _deprecated_form("TuningStep", "tuner")

    @property
    def arguments(self) -> RequestType:
        """The ``CreateHyperParameterTuningJob`` request without the job name."""
        if self.step_args:
            request_dict = _job_step_request(self.step_args, "create_tuning_job", self._STEP_ARGS_ERROR)
        else:
            estimators = (
                [self.tuner.estimator] if self.tuner.estimator is not None else self.tuner.estimator_dict.values()
            )
            for estimator in estimators:
                estimator._prepare_for_training()
            self.tuner._prepare_for_tuning()
            request_dict = self.tuner.sagemaker_session._get_tuning_request(**self.tuner._tuner_args(self.inputs))
        from sagepipe.workflow.utilities import _pipeline_config, trim_request_dict

        return trim_request_dict(request_dict, "HyperParameterTuningJobName", _pipeline_config)

    @property
    def properties(self):
        """A `Properties` object for the tuning job and its training job summaries."""
        return self._properties

    def get_top_model_s3_uri(self, top_k: int, s3_bucket: str, prefix: str = "") -> Join:
        """Get the model artifact S3 URI from the top performing training jobs.

        Args:
            top_k (int): The index of the top performing training job (0 is the best; up to 49).
            s3_bucket (str): The S3 bucket of the training job output artifacts.
            prefix (str): The S3 key prefix of the training job output artifacts.
        """
        values = ["s3:/", s3_bucket]
        if prefix != "" and prefix is not None:
            values.append(prefix)
        return Join(
            on="/",
            values=values + [self.properties.TrainingJobSummaries[top_k].TrainingJobName, "output/model.tar.gz"],
        )


__all__ = [
    "CacheConfig",
    "ConfigurableRetryStep",
    "CreateModelStep",
    "ProcessingStep",
    "TrainingStep",
    "TransformStep",
    "TuningStep",
    "PropertyFile",
    "Step",
    "StepOutput",
    "StepTypeEnum",
]

# Names the SDK's ``sagemaker.workflow.steps`` imports at its top, which pipeline files import
# from here (``from sagemaker.workflow.steps import TransformInput``). Resolved on first use:
# the job classes import this module, so eager imports would be circular.
_SDK_REEXPORTS = {
    "Session": "sagepipe.session",
    "EstimatorBase": "sagepipe.estimator",
    "_TrainingJob": "sagepipe.estimator",
    "CreateModelInput": "sagepipe.inputs",
    "FileSystemInput": "sagepipe.inputs",
    "TrainingInput": "sagepipe.inputs",
    "TransformInput": "sagepipe.inputs",
    "Model": "sagepipe.model",
    "PipelineModel": "sagepipe.pipeline",
    "ProcessingInput": "sagepipe.processing",
    "ProcessingJob": "sagepipe.processing",
    "ProcessingOutput": "sagepipe.processing",
    "Processor": "sagepipe.processing",
    "Transformer": "sagepipe.transformer",
    "_TransformJob": "sagepipe.transformer",
    "HyperparameterTuner": "sagepipe.tuner",
    "Condition": "sagepipe.workflow.conditions",
    "is_pipeline_variable": "sagepipe.workflow",
    "_JobStepArguments": "sagepipe.workflow.pipeline_context",
    "trim_request_dict": "sagepipe.workflow.utilities",
}


def __getattr__(name: str) -> Any:
    module = _SDK_REEXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_SDK_REEXPORTS))
