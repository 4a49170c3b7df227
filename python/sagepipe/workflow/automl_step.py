"""AutoMLStep (mirror of ``sagemaker.workflow.automl_step``).

Builds the SDK's ``AutoML`` step from ``AutoML.fit()`` step arguments. Autopilot runs on
SageMaker only: running the step locally fails before the execution starts unless a handler is
registered for the ``AutoML`` type (``sagepipe.local_runners.register_step_type``) or the step
is left out of a selective run.
"""

from typing import List, Optional, Union

from sagepipe.exceptions import AutoMLStepInvalidModeError
from sagepipe.workflow.entities import RequestType
from sagepipe.workflow.pipeline_context import _JobStepArguments
from sagepipe.workflow.properties import Properties
from sagepipe.workflow.retry import RetryPolicy
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.steps import CacheConfig, ConfigurableRetryStep, Step, StepTypeEnum


class AutoMLStep(ConfigurableRetryStep):
    """`AutoMLStep` for SageMaker Pipelines Workflows."""

    def __init__(
        self,
        name: str,
        step_args: _JobStepArguments,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        cache_config: Optional[CacheConfig] = None,
        depends_on: Optional[List[Union[str, Step, StepCollection]]] = None,
        retry_policies: Optional[List[RetryPolicy]] = None,
    ):
        """Construct an `AutoMLStep` from the step arguments of ``AutoML.fit()``.

        Args:
            name (str): The name of the `AutoMLStep`.
            step_args (_JobStepArguments): ``auto_ml.fit(...)`` under a PipelineSession.
            display_name (str): The display name of the `AutoMLStep`.
            description (str): The description of the `AutoMLStep`.
            cache_config (CacheConfig): A `CacheConfig` instance.
            depends_on (List[Union[str, Step, StepCollection]]): Explicit dependencies.
            retry_policies (List[RetryPolicy]): A list of retry policies.
        """
        from sagepipe.workflow.utilities import validate_step_args_input

        super().__init__(name, StepTypeEnum.AUTOML, display_name, description, depends_on, retry_policies)
        validate_step_args_input(
            step_args=step_args,
            expected_caller={"auto_ml"},
            error_message="The step_args of AutoMLStep must be obtained from automl.fit().",
        )
        self.step_args = step_args
        self.cache_config = cache_config
        root = Properties(step_name=name, step=self, shape_name="DescribeAutoMLJobResponse")
        best = Properties(step_name=name, step=self, path="BestCandidateProperties")
        for report in ("ModelInsightsJsonReportPath", "ExplainabilityJsonReportPath"):
            best.__dict__[report] = Properties(step_name=name, step=self, path=f"BestCandidateProperties.{report}")
        root.__dict__["BestCandidateProperties"] = best
        self._properties = root

    @property
    def arguments(self) -> RequestType:
        """The ``CreateAutoMLJob`` request without ``ModelDeployConfig`` and
        ``GenerateCandidateDefinitionsOnly`` (a pipeline step takes neither).

        Raises:
            AutoMLStepInvalidModeError: The job's mode is not ``ENSEMBLING``.
        """
        from sagepipe.workflow.utilities import _pipeline_config, execute_job_functions, trim_request_dict

        execute_job_functions(self.step_args)
        auto_ml = self.step_args.func_args[0]
        request_dict = auto_ml.sagemaker_session.context.args
        if request_dict.get("AutoMLJobConfig", {}).get("Mode") != "ENSEMBLING":
            raise AutoMLStepInvalidModeError()
        request_dict.pop("ModelDeployConfig", None)
        request_dict.pop("GenerateCandidateDefinitionsOnly", None)
        return trim_request_dict(request_dict, "AutoMLJobName", _pipeline_config)

    @property
    def properties(self):
        """A `Properties` object representing the `DescribeAutoMLJobResponse` data model."""
        return self._properties

    def to_request(self) -> RequestType:
        """Updates the dictionary with cache configuration."""
        request_dict = super().to_request()
        if self.cache_config:
            request_dict.update(self.cache_config.config)
        return request_dict

    def get_best_auto_ml_model(self, role, sagemaker_session=None):
        """A ``Model`` of the best candidate, its image, data and environment taken from this
        step's ``BestCandidate`` properties (for a ``ModelStep``)."""
        from sagepipe.model import Model

        container = self.properties.BestCandidate.InferenceContainers[0]
        environment = container.Environment
        env_names = (
            "MODEL_NAME",
            "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT",
            "SAGEMAKER_SUBMIT_DIRECTORY",
            "SAGEMAKER_INFERENCE_SUPPORTED",
            "SAGEMAKER_INFERENCE_OUTPUT",
            "SAGEMAKER_PROGRAM",
        )
        return Model(
            image_uri=container.Image,
            model_data=container.ModelDataUrl,
            env={key: environment[key] for key in env_names},
            sagemaker_session=sagemaker_session,
            role=role,
        )
