"""ClarifyCheckStep (mirror of ``sagemaker.workflow.clarify_check_step``).

A ClarifyCheck step runs a SageMaker Clarify job (data bias, model bias or model
explainability) and checks the result against a baseline. sagepipe builds the SDK's
definition and stores the analysis configs where the SDK uploads them (the store's S3 area);
the Clarify container does not run locally, so running the step fails before the execution
starts unless a handler is registered for the ``ClarifyCheck`` type
(``sagepipe.local_runners.register_step_type``) or the step is left out of a selective run.
"""

import copy
from typing import List, Optional, Union

from sagepipe import s3
from sagepipe.clarify import (
    BiasConfig,
    DataConfig,
    ModelConfig,
    ModelPredictedLabelConfig,
    SageMakerClarifyProcessor,
    SHAPConfig,
    _analysis_job_io,
    _set,
)
from sagepipe.model_monitor.clarify_model_monitoring import (
    BiasAnalysisConfig,
    ExplainabilityAnalysisConfig,
)
from sagepipe.model_monitor.clarify_model_monitoring import (
    _upload_analysis_config as _upload_monitoring_config,
)
from sagepipe.utils import name_from_base
from sagepipe.workflow import is_pipeline_variable
from sagepipe.workflow._check_step_utils import (
    _check_step_request,
    _ConfigValue,
    _model_monitor_uri,
    _processing_request,
)
from sagepipe.workflow.check_job_config import CheckJobConfig
from sagepipe.workflow.entities import PipelineVariable, RequestType
from sagepipe.workflow.properties import Properties
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.steps import CacheConfig, Step, StepTypeEnum

_DATA_BIAS_TYPE = "DATA_BIAS"
_MODEL_BIAS_TYPE = "MODEL_BIAS"
_MODEL_EXPLAINABILITY_TYPE = "MODEL_EXPLAINABILITY"
_BIAS_MONITORING_CFG_BASE_NAME = "bias-monitoring"
_EXPLAINABILITY_MONITORING_CFG_BASE_NAME = "model-explainability-monitoring"


class ClarifyCheckConfig(_ConfigValue):
    """Clarify Check Config.

    Attributes:
        data_config (DataConfig): Config of the input/output data.
        kms_key (str): KMS key of the uploaded analysis config (not a pipeline variable).
        monitoring_analysis_config_uri (str): Set by the step: where the monitoring analysis
            config was stored.
    """

    def __init__(self, data_config: DataConfig, *, kms_key: str = None, monitoring_analysis_config_uri: str = None):
        self.data_config = data_config
        self.kms_key = kms_key
        self.monitoring_analysis_config_uri = monitoring_analysis_config_uri


class DataBiasCheckConfig(ClarifyCheckConfig):
    """Data Bias Check Config (``data_bias_config``; ``methods``: pre-training metrics, default all)."""

    def __init__(
        self,
        data_config: DataConfig,
        data_bias_config: BiasConfig,
        methods: Union[str, List[str]] = "all",
        *,
        kms_key: str = None,
        monitoring_analysis_config_uri: str = None,
    ):
        super().__init__(data_config, kms_key=kms_key, monitoring_analysis_config_uri=monitoring_analysis_config_uri)
        self.data_bias_config = data_bias_config
        self.methods = methods


class ModelBiasCheckConfig(ClarifyCheckConfig):
    """Model Bias Check Config (post-training metrics of the model's predictions)."""

    def __init__(
        self,
        data_config: DataConfig,
        data_bias_config: BiasConfig,
        model_config: ModelConfig,
        model_predicted_label_config: ModelPredictedLabelConfig,
        methods: Union[str, List[str]] = "all",
        *,
        kms_key: str = None,
        monitoring_analysis_config_uri: str = None,
    ):
        super().__init__(data_config, kms_key=kms_key, monitoring_analysis_config_uri=monitoring_analysis_config_uri)
        self.data_bias_config = data_bias_config
        self.model_config = model_config
        self.model_predicted_label_config = model_predicted_label_config
        self.methods = methods


class ModelExplainabilityCheckConfig(ClarifyCheckConfig):
    """Model Explainability Check Config (``explainability_config``: SHAP or PDP; ``model_scores``)."""

    def __init__(
        self,
        data_config: DataConfig,
        model_config: ModelConfig,
        explainability_config: SHAPConfig,
        model_scores: Union[str, int, ModelPredictedLabelConfig] = None,
        *,
        kms_key: str = None,
        monitoring_analysis_config_uri: str = None,
    ):
        super().__init__(data_config, kms_key=kms_key, monitoring_analysis_config_uri=monitoring_analysis_config_uri)
        self.model_config = model_config
        self.explainability_config = explainability_config
        self.model_scores = model_scores


class ClarifyCheckStep(Step):
    """ClarifyCheckStep step for workflow."""

    def __init__(
        self,
        name: str,
        clarify_check_config: ClarifyCheckConfig,
        check_job_config: CheckJobConfig,
        skip_check: Union[bool, PipelineVariable] = False,
        fail_on_violation: Union[bool, PipelineVariable] = True,
        register_new_baseline: Union[bool, PipelineVariable] = False,
        model_package_group_name: Optional[Union[str, PipelineVariable]] = None,
        supplied_baseline_constraints: Optional[Union[str, PipelineVariable]] = None,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        cache_config: Optional[CacheConfig] = None,
        depends_on: Optional[List[Union[str, Step, StepCollection]]] = None,
    ):
        """Constructs a ClarifyCheckStep.

        Args:
            name (str): The name of the ClarifyCheckStep step.
            clarify_check_config (ClarifyCheckConfig): A ``DataBiasCheckConfig``,
                ``ModelBiasCheckConfig`` or ``ModelExplainabilityCheckConfig``.
            check_job_config (CheckJobConfig): The settings of the check job.
            skip_check (bool or PipelineVariable): Skip the drift check (default: False).
            fail_on_violation (bool or PipelineVariable): Fail on a violation (default: True).
            register_new_baseline (bool or PipelineVariable): Register the calculated baseline
                (default: False).
            model_package_group_name (str or PipelineVariable): The group whose latest approved
                model provides the baseline (default: None).
            supplied_baseline_constraints (str or PipelineVariable): S3 URI of baseline constraints.
            display_name (str): The display name of the step.
            description (str): The description of the step.
            cache_config (CacheConfig): A ``CacheConfig`` instance.
            depends_on (List[Union[str, Step, StepCollection]]): Explicit dependencies.

        Raises:
            RuntimeError: An unknown config type, or an S3 path of the analysis config that is a
                pipeline variable (the config is stored when the pipeline is built).
        """
        if not isinstance(
            clarify_check_config, (DataBiasCheckConfig, ModelBiasCheckConfig, ModelExplainabilityCheckConfig)
        ):
            raise RuntimeError(
                "The clarify_check_config can only be object of "
                "DataBiasCheckConfig, ModelBiasCheckConfig or ModelExplainabilityCheckConfig"
            )
        data_config = clarify_check_config.data_config
        if is_pipeline_variable(data_config.s3_analysis_config_output_path):
            raise RuntimeError(
                "s3_analysis_config_output_path cannot be of type ExecutionVariable/Expression/Parameter/Properties"
            )
        if not data_config.s3_analysis_config_output_path and is_pipeline_variable(data_config.s3_output_path):
            raise RuntimeError(
                "`s3_output_path` cannot be of type ExecutionVariable/Expression/Parameter"
                "/Properties if `s3_analysis_config_output_path` is none or empty "
            )
        super().__init__(name, display_name, description, StepTypeEnum.CLARIFY_CHECK, depends_on)
        self.skip_check = skip_check
        self.fail_on_violation = fail_on_violation
        self.register_new_baseline = register_new_baseline
        self.clarify_check_config = clarify_check_config
        self.check_job_config = check_job_config
        self.model_package_group_name = model_package_group_name
        self.supplied_baseline_constraints = supplied_baseline_constraints
        self.cache_config = cache_config

        self._session = check_job_config.sagemaker_session
        self.clarify_check_config.monitoring_analysis_config_uri = self._upload_monitoring_analysis_config()
        self._baselining_processor = check_job_config._processor(
            None, env=check_job_config.env, processor_class=SageMakerClarifyProcessor
        )
        self._processing_params = self._generate_processing_job_parameters(
            self._generate_processing_job_analysis_config(), self._baselining_processor
        )

        root_prop = Properties(step_name=name, step=self)
        for prop in ("CalculatedBaselineConstraints", "BaselineUsedForDriftCheckConstraints"):
            root_prop.__dict__[prop] = Properties(step_name=name, step=self, path=prop)
        self._properties = root_prop

    @property
    def arguments(self) -> RequestType:
        """The arguments dict that is used to define the ClarifyCheck step."""
        params = self._processing_params
        return _processing_request(
            self._baselining_processor, [params["config_input"], params["data_input"]], [params["result_output"]]
        )

    @property
    def properties(self):
        """A Properties object representing the output parameters of the ClarifyCheck step."""
        return self._properties

    def to_request(self) -> RequestType:
        """The step's definition entry, with its cache configuration and check fields."""
        config = self.clarify_check_config
        if isinstance(config, DataBiasCheckConfig):
            check_type = _DATA_BIAS_TYPE
        elif isinstance(config, ModelBiasCheckConfig):
            check_type = _MODEL_BIAS_TYPE
        else:
            check_type = _MODEL_EXPLAINABILITY_TYPE
        supplied = {"SuppliedBaselineConstraints": self.supplied_baseline_constraints}
        if isinstance(config, (ModelBiasCheckConfig, ModelExplainabilityCheckConfig)):
            supplied["ModelName"] = config.model_config.get_predictor_config()["model_name"]
        return _check_step_request(self, super().to_request(), check_type, supplied)

    def _generate_processing_job_analysis_config(self) -> dict:
        """The ``analysis_config.json`` of the Clarify job."""
        config = self.clarify_check_config
        analysis_config = config.data_config.get_config()
        if isinstance(config, DataBiasCheckConfig):
            analysis_config.update(config.data_bias_config.get_config())
            analysis_config["methods"] = {"pre_training_bias": {"methods": config.methods}}
        elif isinstance(config, ModelBiasCheckConfig):
            analysis_config.update(config.data_bias_config.get_config())
            probability_threshold, predictor_config = config.model_predicted_label_config.get_predictor_config()
            predictor_config.update(config.model_config.get_predictor_config())
            predictor_config.pop("model_name", None)
            analysis_config["methods"] = {"post_training_bias": {"methods": config.methods}}
            analysis_config["predictor"] = predictor_config
            _set(probability_threshold, "probability_threshold", analysis_config)
        else:
            predictor_config = config.model_config.get_predictor_config()
            predictor_config.pop("model_name", None)
            if isinstance(config.model_scores, ModelPredictedLabelConfig):
                probability_threshold, predicted_label_config = config.model_scores.get_predictor_config()
                _set(probability_threshold, "probability_threshold", analysis_config)
                predictor_config.update(predicted_label_config)
            else:
                _set(config.model_scores, "label", predictor_config)
            analysis_config["methods"] = config.explainability_config.get_explainability_config()
            analysis_config["predictor"] = predictor_config
        return analysis_config

    def _generate_processing_job_parameters(self, analysis_config: dict, baselining_processor) -> dict:
        """Store the analysis config and build the job's config and data inputs and its output."""
        analysis_config["methods"]["report"] = {"name": "report", "title": "Analysis Report"}
        data_input, config_input, result_output = _analysis_job_io(
            self.clarify_check_config.data_config,
            analysis_config,
            baselining_processor.sagemaker_session,
            self.clarify_check_config.kms_key,
        )
        return dict(config_input=config_input, data_input=data_input, result_output=result_output)

    def _upload_monitoring_analysis_config(self) -> str:
        """Store the monitoring schedule's analysis config; return its S3 URI."""
        config = self.clarify_check_config
        if isinstance(config, ModelExplainabilityCheckConfig):
            headers = copy.deepcopy(config.data_config.headers)
            if headers and config.data_config.label in headers:
                headers.remove(config.data_config.label)
            analysis_config = ExplainabilityAnalysisConfig(
                explainability_config=config.explainability_config,
                model_config=config.model_config,
                headers=headers,
            )._to_dict()
            analysis_config.get("predictor", {}).pop("model_name", None)
            job_definition_name = name_from_base(f"{_EXPLAINABILITY_MONITORING_CFG_BASE_NAME}-config")
        else:
            analysis_config = BiasAnalysisConfig(
                bias_config=config.data_bias_config,
                headers=config.data_config.headers,
                label=config.data_config.label,
            )._to_dict()
            job_definition_name = name_from_base(f"{_BIAS_MONITORING_CFG_BASE_NAME}-config")
        return _upload_monitoring_config(
            analysis_config,
            self._get_s3_base_uri_for_monitoring_analysis_config(),
            job_definition_name,
            self._session,
            config.kms_key,
        )

    def _get_s3_base_uri_for_monitoring_analysis_config(self) -> str:
        """``<s3_analysis_config_output_path or default bucket/model-monitor>/<kind>-configuration``."""
        config = self.clarify_check_config
        base_name = f"{_BIAS_MONITORING_CFG_BASE_NAME}-configuration"
        if isinstance(config, ModelExplainabilityCheckConfig):
            base_name = f"{_EXPLAINABILITY_MONITORING_CFG_BASE_NAME}-configuration"
        if config.data_config.s3_analysis_config_output_path:
            return s3.s3_path_join(config.data_config.s3_analysis_config_output_path, base_name)
        return _model_monitor_uri(self._session, base_name)
