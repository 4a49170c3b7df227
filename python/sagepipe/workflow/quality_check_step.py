"""QualityCheckStep (mirror of ``sagemaker.workflow.quality_check_step``).

A QualityCheck step runs the Model Monitor analyzer on a baseline dataset (data quality, or
model quality of predictions against ground truth) and checks the result against a baseline.
sagepipe builds the SDK's definition; the analyzer container does not run locally, so running
the step fails before the execution starts unless a handler is registered for the
``QualityCheck`` type (``sagepipe.local_runners.register_step_type``) or the step is left out
of a selective run.
"""

import json
import logging
import os
import pathlib
from typing import List, Optional, Union
from urllib.parse import urlparse

from sagepipe import image_uris, s3
from sagepipe.model_monitor.model_monitoring import (
    _ANALYSIS_TYPE_ENV_NAME,
    _BASELINE_DATASET_INPUT_NAME,
    _BASELINING_S3_PATH,
    _CONTAINER_BASE_PATH,
    _CONTAINER_INPUT_PATH,
    _CONTAINER_OUTPUT_PATH,
    _DATASET_FORMAT_ENV_NAME,
    _DATASET_SOURCE_PATH_ENV_NAME,
    _GROUND_TRUTH_ATTRIBUTE_ENV_NAME,
    _INFERENCE_ATTRIBUTE_ENV_NAME,
    _INPUT_S3_PATH,
    _OUTPUT_PATH_ENV_NAME,
    _POST_ANALYTICS_PROCESSOR_SCRIPT_ENV_NAME,
    _POST_ANALYTICS_PROCESSOR_SCRIPT_INPUT_NAME,
    _PROBABILITY_ATTRIBUTE_ENV_NAME,
    _PROBABILITY_THRESHOLD_ATTRIBUTE_ENV_NAME,
    _PROBLEM_TYPE_ENV_NAME,
    _PUBLISH_CLOUDWATCH_METRICS_ENV_NAME,
    _RECORD_PREPROCESSOR_SCRIPT_ENV_NAME,
    _RECORD_PREPROCESSOR_SCRIPT_INPUT_NAME,
    _RESULTS_S3_PATH,
)
from sagepipe.processing import ProcessingInput, ProcessingOutput
from sagepipe.workflow import is_pipeline_variable
from sagepipe.workflow._check_step_utils import (
    _check_step_request,
    _ConfigValue,
    _model_monitor_uri,
    _processing_request,
)
from sagepipe.workflow.check_job_config import CheckJobConfig
from sagepipe.workflow.entities import PipelineVariable, RequestType
from sagepipe.workflow.parameters import Parameter, ParameterString
from sagepipe.workflow.properties import Properties
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.steps import CacheConfig, Step, StepTypeEnum

_DEFAULT_OUTPUT_NAME = "quality_check_output"
_MODEL_QUALITY_TYPE = "MODEL_QUALITY"
_DATA_QUALITY_TYPE = "DATA_QUALITY"

logger = logging.getLogger(__name__)


class QualityCheckConfig(_ConfigValue):
    """Quality Check Config.

    Attributes:
        baseline_dataset (str or PipelineVariable): The baseline dataset: a local path or an S3 URI.
        dataset_format (dict): Its format (``sagepipe.model_monitor.DatasetFormat``).
        output_s3_uri (str or PipelineVariable): Where the statistics and constraints go
            (default: ``s3://<default bucket>/model-monitor/baselining/<job name>/results``).
        post_analytics_processor_script (str): A local path or S3 URI of a post-analytics script
            (not a pipeline variable).
    """

    def __init__(self, baseline_dataset, dataset_format, *, output_s3_uri=None, post_analytics_processor_script=None):
        self.baseline_dataset = baseline_dataset
        self.dataset_format = dataset_format
        self.output_s3_uri = output_s3_uri
        self.post_analytics_processor_script = post_analytics_processor_script


class DataQualityCheckConfig(QualityCheckConfig):
    """Data Quality Check Config.

    Attributes:
        record_preprocessor_script (str): A local path or S3 URI of a record preprocessor script
            (not a pipeline variable).
    """

    def __init__(
        self,
        baseline_dataset,
        dataset_format,
        record_preprocessor_script=None,
        *,
        output_s3_uri=None,
        post_analytics_processor_script=None,
    ):
        super().__init__(
            baseline_dataset,
            dataset_format,
            output_s3_uri=output_s3_uri,
            post_analytics_processor_script=post_analytics_processor_script,
        )
        self.record_preprocessor_script = record_preprocessor_script


class ModelQualityCheckConfig(QualityCheckConfig):
    """Model Quality Check Config.

    Attributes:
        problem_type (str or PipelineVariable): ``Regression``, ``BinaryClassification`` or
            ``MulticlassClassification``.
        inference_attribute, probability_attribute, ground_truth_attribute (str or
            PipelineVariable): Index or JSONPath of the predicted label, the probabilities and
            the actual label.
        probability_threshold_attribute (str or PipelineVariable): Threshold turning
            probabilities into binary labels.
    """

    def __init__(
        self,
        baseline_dataset,
        dataset_format,
        problem_type,
        inference_attribute=None,
        probability_attribute=None,
        ground_truth_attribute=None,
        probability_threshold_attribute=None,
        *,
        output_s3_uri=None,
        post_analytics_processor_script=None,
    ):
        super().__init__(
            baseline_dataset,
            dataset_format,
            output_s3_uri=output_s3_uri,
            post_analytics_processor_script=post_analytics_processor_script,
        )
        self.problem_type = problem_type
        self.inference_attribute = inference_attribute
        self.probability_attribute = probability_attribute
        self.ground_truth_attribute = ground_truth_attribute
        self.probability_threshold_attribute = probability_threshold_attribute


def _container_input_path(name: str) -> str:
    return str(pathlib.PurePosixPath(_CONTAINER_BASE_PATH, _CONTAINER_INPUT_PATH, name))


class QualityCheckStep(Step):
    """QualityCheck step for workflow."""

    def __init__(
        self,
        name: str,
        quality_check_config: QualityCheckConfig,
        check_job_config: CheckJobConfig,
        skip_check: Union[bool, PipelineVariable] = False,
        fail_on_violation: Union[bool, PipelineVariable] = True,
        register_new_baseline: Union[bool, PipelineVariable] = False,
        model_package_group_name: Optional[Union[str, PipelineVariable]] = None,
        supplied_baseline_statistics: Optional[Union[str, PipelineVariable]] = None,
        supplied_baseline_constraints: Optional[Union[str, PipelineVariable]] = None,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        cache_config: Optional[CacheConfig] = None,
        depends_on: Optional[List[Union[str, Step, StepCollection]]] = None,
    ):
        """Constructs a QualityCheckStep.

        Args:
            name (str): The name of the QualityCheckStep step.
            quality_check_config (QualityCheckConfig): A ``DataQualityCheckConfig`` or
                ``ModelQualityCheckConfig``.
            check_job_config (CheckJobConfig): The settings of the check job.
            skip_check (bool or PipelineVariable): Skip the drift check (default: False).
            fail_on_violation (bool or PipelineVariable): Fail on a violation (default: True).
            register_new_baseline (bool or PipelineVariable): Register the calculated baseline
                (default: False).
            model_package_group_name (str or PipelineVariable): The group whose latest approved
                model provides the baseline (default: None).
            supplied_baseline_statistics (str or PipelineVariable): S3 URI of baseline statistics.
            supplied_baseline_constraints (str or PipelineVariable): S3 URI of baseline constraints.
            display_name (str): The display name of the step.
            description (str): The description of the step.
            cache_config (CacheConfig): A ``CacheConfig`` instance.
            depends_on (List[Union[str, Step, StepCollection]]): Explicit dependencies.

        Raises:
            RuntimeError: The config is neither a data nor a model quality config.
        """
        if not isinstance(quality_check_config, (DataQualityCheckConfig, ModelQualityCheckConfig)):
            raise RuntimeError(
                "The quality_check_config can only be object of DataQualityCheckConfig or ModelQualityCheckConfig"
            )
        super().__init__(name, display_name, description, StepTypeEnum.QUALITY_CHECK, depends_on)
        self.skip_check = skip_check
        self.fail_on_violation = fail_on_violation
        self.register_new_baseline = register_new_baseline
        self.check_job_config = check_job_config
        self.quality_check_config = quality_check_config
        self.model_package_group_name = model_package_group_name
        self.supplied_baseline_statistics = supplied_baseline_statistics
        self.supplied_baseline_constraints = supplied_baseline_constraints
        self.cache_config = cache_config

        self._session = check_job_config.sagemaker_session
        self._baselining_job_name = check_job_config._baselining_job_name()
        inputs = self._generate_baseline_job_inputs()
        self._baseline_job_inputs = [i for i in inputs.values() if i is not None]
        self._baseline_output = self._generate_baseline_output()
        self._baselining_processor = self._generate_baseline_processor(inputs, self._baseline_output)

        root_prop = Properties(step_name=name, step=self)
        for prop in (
            "CalculatedBaselineConstraints",
            "CalculatedBaselineStatistics",
            "BaselineUsedForDriftCheckStatistics",
            "BaselineUsedForDriftCheckConstraints",
        ):
            root_prop.__dict__[prop] = Properties(step_name=name, step=self, path=prop)
        self._properties = root_prop

    @property
    def arguments(self) -> RequestType:
        """The arguments dict that is used to define the QualityCheck step."""
        return _processing_request(self._baselining_processor, self._baseline_job_inputs, [self._baseline_output])

    @property
    def properties(self):
        """A Properties object representing the output parameters of the QualityCheck step."""
        return self._properties

    def to_request(self) -> RequestType:
        """The step's definition entry, with its cache configuration and check fields."""
        is_data_check = isinstance(self.quality_check_config, DataQualityCheckConfig)
        baselines = {
            "SuppliedBaselineStatistics": self.supplied_baseline_statistics,
            "SuppliedBaselineConstraints": self.supplied_baseline_constraints,
        }
        return _check_step_request(
            self, super().to_request(), _DATA_QUALITY_TYPE if is_data_check else _MODEL_QUALITY_TYPE, baselines
        )

    def _upload_as_input(self, source, destination, name):
        """A ProcessingInput for ``source``; a local file is first stored under the job's S3 input path."""
        if source is None:
            return None
        if urlparse(source).scheme != "s3":
            s3_uri = _model_monitor_uri(
                self._session,
                _BASELINING_S3_PATH,
                self._baselining_job_name,
                _INPUT_S3_PATH,
                name,
            )
            s3.S3Uploader.upload(local_path=source, desired_s3_uri=s3_uri, sagemaker_session=self._session)
            source = s3_uri
        return ProcessingInput(source=source, destination=destination, input_name=name)

    def _generate_baseline_job_inputs(self):
        """The baseline dataset, post-analytics script and record preprocessor script inputs (or None)."""
        config = self.quality_check_config
        dataset_destination = _container_input_path(_BASELINE_DATASET_INPUT_NAME)
        if is_pipeline_variable(config.baseline_dataset):
            baseline_dataset_input = ProcessingInput(
                source=config.baseline_dataset,
                destination=dataset_destination,
                input_name=_BASELINE_DATASET_INPUT_NAME,
            )
        else:
            baseline_dataset_input = self._upload_as_input(
                config.baseline_dataset, dataset_destination, _BASELINE_DATASET_INPUT_NAME
            )
        post_processor_script_input = self._upload_as_input(
            config.post_analytics_processor_script,
            _container_input_path(_POST_ANALYTICS_PROCESSOR_SCRIPT_INPUT_NAME),
            _POST_ANALYTICS_PROCESSOR_SCRIPT_INPUT_NAME,
        )
        record_preprocessor_script_input = None
        if isinstance(config, DataQualityCheckConfig):
            record_preprocessor_script_input = self._upload_as_input(
                config.record_preprocessor_script,
                _container_input_path(_RECORD_PREPROCESSOR_SCRIPT_INPUT_NAME),
                _RECORD_PREPROCESSOR_SCRIPT_INPUT_NAME,
            )
        return dict(
            baseline_dataset_input=baseline_dataset_input,
            post_processor_script_input=post_processor_script_input,
            record_preprocessor_script_input=record_preprocessor_script_input,
        )

    def _generate_baseline_output(self):
        """The output holding the statistics and constraints files."""
        s3_uri = self.quality_check_config.output_s3_uri or _model_monitor_uri(
            self._session,
            _BASELINING_S3_PATH,
            self._baselining_job_name,
            _RESULTS_S3_PATH,
        )
        return ProcessingOutput(
            source=str(pathlib.PurePosixPath(_CONTAINER_BASE_PATH, _CONTAINER_OUTPUT_PATH)),
            destination=s3_uri,
            output_name=_DEFAULT_OUTPUT_NAME,
        )

    def _generate_baseline_processor(self, inputs, baseline_output):
        """The analyzer job: the monitor image, with its settings in environment variables."""
        config = self.quality_check_config
        env = dict(self.check_job_config.env or {})
        env[_OUTPUT_PATH_ENV_NAME] = baseline_output.source
        # CloudWatch metrics are published by monitoring schedules only, never by check steps.
        env[_PUBLISH_CLOUDWATCH_METRICS_ENV_NAME] = "Disabled"
        if config.dataset_format is not None:
            env[_DATASET_FORMAT_ENV_NAME] = json.dumps(config.dataset_format)
        script_input = inputs["record_preprocessor_script_input"]
        if script_input is not None:
            env[_RECORD_PREPROCESSOR_SCRIPT_ENV_NAME] = str(
                pathlib.PurePosixPath(script_input.destination, os.path.basename(config.record_preprocessor_script))
            )
        script_input = inputs["post_processor_script_input"]
        if script_input is not None:
            env[_POST_ANALYTICS_PROCESSOR_SCRIPT_ENV_NAME] = str(
                pathlib.PurePosixPath(
                    script_input.destination, os.path.basename(config.post_analytics_processor_script)
                )
            )
        # The analyzer needs the dataset as a directory, which the input's destination is.
        env[_DATASET_SOURCE_PATH_ENV_NAME] = inputs["baseline_dataset_input"].destination
        if isinstance(config, ModelQualityCheckConfig):
            env[_ANALYSIS_TYPE_ENV_NAME] = _MODEL_QUALITY_TYPE
            env[_PROBLEM_TYPE_ENV_NAME] = config.problem_type
            for env_name, value, var_name in (
                (_INFERENCE_ATTRIBUTE_ENV_NAME, config.inference_attribute, "inference_attribute"),
                (_PROBABILITY_ATTRIBUTE_ENV_NAME, config.probability_attribute, "probability_attribute"),
                (_GROUND_TRUTH_ATTRIBUTE_ENV_NAME, config.ground_truth_attribute, "ground_truth_attribute"),
                (
                    _PROBABILITY_THRESHOLD_ATTRIBUTE_ENV_NAME,
                    config.probability_threshold_attribute,
                    "probability_threshold_attr",
                ),
            ):
                value = _format_env_variable_value(value, var_name)
                if value is not None:
                    env[env_name] = value
        image_uri = image_uris.retrieve("model-monitor", self._session.boto_region_name)
        return self.check_job_config._processor(image_uri, env=env)


def _format_env_variable_value(var_value, var_name: str):
    """An environment value: a string, or a string-typed pipeline variable resolved at run time.

    Raises:
        ValueError: ``var_value`` is a Parameter of a type other than ``ParameterString``.
    """
    if var_value is None:
        return None
    if is_pipeline_variable(var_value):
        if isinstance(var_value, Parameter) and not isinstance(var_value, ParameterString):
            raise ValueError(f"{var_name} cannot be Parameter types other than ParameterString.")
        logger.warning("%s's runtime value must be the string type.", var_name)
        return var_value
    return str(var_value)
