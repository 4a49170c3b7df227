"""Hyperparameter tuning jobs (mirror of ``sagemaker.tuner``), for ``TuningStep`` definitions.

``HyperparameterTuner.fit()`` under a ``PipelineSession`` returns ``TuningStep`` arguments (the
``CreateHyperParameterTuningJob`` request, as the SDK builds it). The definition is the contract;
whether a tuning step can run locally is the engine's decision.
"""

import json
from typing import Dict, List, Optional, Union

from sagepipe.estimator import EstimatorBase, Framework, _load_config
from sagepipe.inputs import TrainingInput
from sagepipe.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter, ParameterRange
from sagepipe.utils import base_name_from_image, name_from_base, to_string
from sagepipe.workflow.entities import PipelineVariable
from sagepipe.workflow.pipeline_context import runnable_by_pipeline

GRID_SEARCH = "Grid"

__all__ = [
    "CategoricalParameter",
    "ContinuousParameter",
    "HyperparameterTuner",
    "IntegerParameter",
    "ParameterRange",
]


class HyperparameterTuner:
    """Defines interaction with Amazon SageMaker hyperparameter tuning jobs (single estimator)."""

    TUNING_JOB_NAME_MAX_LENGTH = 32
    SAGEMAKER_ESTIMATOR_MODULE = "sagemaker_estimator_module"
    SAGEMAKER_ESTIMATOR_CLASS_NAME = "sagemaker_estimator_class_name"

    def __init__(
        self,
        estimator: EstimatorBase,
        objective_metric_name: Union[str, PipelineVariable],
        hyperparameter_ranges: Dict[str, ParameterRange],
        metric_definitions: Optional[List[Dict[str, Union[str, PipelineVariable]]]] = None,
        strategy: Union[str, PipelineVariable] = "Bayesian",
        objective_type: Union[str, PipelineVariable] = "Maximize",
        max_jobs: Union[int, PipelineVariable] = None,
        max_parallel_jobs: Union[int, PipelineVariable] = 1,
        max_runtime_in_seconds: Optional[Union[int, PipelineVariable]] = None,
        tags=None,
        base_tuning_job_name: Optional[str] = None,
        warm_start_config=None,
        strategy_config=None,
        completion_criteria_config=None,
        early_stopping_type: Union[str, PipelineVariable] = "Off",
        estimator_name: Optional[str] = None,
        random_seed: Optional[int] = None,
        autotune: bool = False,
        hyperparameters_to_keep_static: Optional[List[str]] = None,
    ):
        """Creates a ``HyperparameterTuner``.

        Args:
            estimator (EstimatorBase): The estimator whose training jobs are tuned.
            objective_metric_name (str): The metric to optimize.
            hyperparameter_ranges (dict[str, ParameterRange]): The ranges to search.
            metric_definitions (list[dict]): ``Name``/``Regex`` of the metrics.
            strategy (str): ``Bayesian`` (default), ``Random``, ``Hyperband`` or ``Grid``.
            objective_type (str): ``Maximize`` (default) or ``Minimize``.
            max_jobs (int): Maximum total training jobs (default 1, none for Grid).
            max_parallel_jobs (int): Maximum parallel training jobs (default 1).
            max_runtime_in_seconds (int): Maximum runtime of the tuning job.
            tags (list[dict]): Tags (recorded).
            base_tuning_job_name (str): Prefix of the tuning job name.
            early_stopping_type (str): ``Off`` (default) or ``Auto``.
            random_seed (int): Seed of the search.
            warm_start_config, strategy_config, completion_criteria_config, estimator_name,
            autotune, hyperparameters_to_keep_static: Not supported by sagepipe.

        Raises:
            ValueError: No hyperparameter ranges.
            NotImplementedError: An unsupported option was given.
        """
        unsupported = {
            "warm_start_config": warm_start_config,
            "strategy_config": strategy_config,
            "completion_criteria_config": completion_criteria_config,
            "estimator_name": estimator_name,
            "hyperparameters_to_keep_static": hyperparameters_to_keep_static,
        }
        given = [name for name, value in unsupported.items() if value is not None] + (["autotune"] if autotune else [])
        if given:
            raise NotImplementedError(f"HyperparameterTuner options not supported by sagepipe: {', '.join(given)}")
        if not hyperparameter_ranges:
            raise ValueError("Need to specify hyperparameter ranges or set autotune=True.")
        self.estimator = estimator
        self.objective_metric_name = objective_metric_name
        self._hyperparameter_ranges = hyperparameter_ranges
        self.metric_definitions = metric_definitions
        self.estimator_dict = None
        self.strategy = strategy
        self.strategy_config = None
        self.completion_criteria_config = None
        self.objective_type = objective_type
        self.max_jobs = max_jobs
        if max_jobs is None and strategy != GRID_SEARCH:
            self.max_jobs = 1
        self.max_parallel_jobs = max_parallel_jobs
        self.max_runtime_in_seconds = max_runtime_in_seconds
        self.tags = tags
        self.base_tuning_job_name = base_tuning_job_name
        self._current_job_name = None
        self.latest_tuning_job = None
        self.warm_start_config = None
        self.early_stopping_type = early_stopping_type
        self.random_seed = random_seed
        self.autotune = False
        self.static_hyperparameters = None

    @property
    def sagemaker_session(self):
        """The session of the estimator."""
        return self.estimator.sagemaker_session

    def hyperparameter_ranges(self):
        """The ``ParameterRanges`` of the tuning job (Continuous, Categorical, Integer lists)."""
        processed = {}
        for range_type in ParameterRange.__all_types__:
            ranges = []
            for name, parameter in self._hyperparameter_ranges.items():
                if parameter is not None and parameter.__name__ == range_type:
                    if isinstance(parameter, CategoricalParameter) and isinstance(self.estimator, Framework):
                        ranges.append(parameter.as_json_range(name))
                    else:
                        ranges.append(parameter.as_tuning_range(name))
            processed[range_type + "ParameterRanges"] = ranges
        return processed

    @runnable_by_pipeline
    def fit(
        self,
        inputs=None,
        job_name: Optional[str] = None,
        include_cls_metadata: bool = False,
        estimator_kwargs: Optional[Dict[str, dict]] = None,
        wait: bool = True,
        **kwargs,
    ):
        """Start a tuning job (under a ``PipelineSession``: return ``TuningStep`` arguments).

        Args:
            inputs: The training data, as for ``EstimatorBase.fit()``.
            job_name (str): Tuning job name (popped from the step definition).
            include_cls_metadata (bool): Add the estimator class and module as static
                hyperparameters (always for framework estimators).
            estimator_kwargs (dict): Not used with a single estimator.
            wait (bool): Forced to False under a pipeline session.
        """
        self._prepare_for_tuning(job_name, include_cls_metadata)
        self.sagemaker_session.create_tuning_job(**self._tuner_args(inputs))

    def _prepare_for_tuning(self, job_name=None, include_cls_metadata=False):
        """Prepare the estimator, the job name and the static hyperparameters."""
        self.estimator._prepare_for_training(job_name)
        if job_name is not None:
            self._current_job_name = job_name
        else:
            base_name = self.base_tuning_job_name or base_name_from_image(
                self.estimator.training_image_uri(), default_base_name=EstimatorBase.JOB_CLASS_NAME
            )
            self._current_job_name = name_from_base(base_name, max_length=self.TUNING_JOB_NAME_MAX_LENGTH, short=True)
        static = {str(k): to_string(v) for k, v in self.estimator.hyperparameters().items()}
        for name in self._hyperparameter_ranges:
            static.pop(name, None)
        if include_cls_metadata or isinstance(self.estimator, Framework):
            static[self.SAGEMAKER_ESTIMATOR_CLASS_NAME] = json.dumps(self.estimator.__class__.__name__)
            static[self.SAGEMAKER_ESTIMATOR_MODULE] = json.dumps(self.estimator.__module__)
        self.static_hyperparameters = static
        if self.tags is None and self.estimator.tags:
            self.tags = list(self.estimator.tags)

    def _tuner_args(self, inputs) -> dict:
        tuning_config = {
            "strategy": self.strategy,
            "max_jobs": self.max_jobs,
            "max_parallel_jobs": self.max_parallel_jobs,
            "early_stopping_type": self.early_stopping_type,
        }
        if self.max_runtime_in_seconds is not None:
            tuning_config["max_runtime_in_seconds"] = self.max_runtime_in_seconds
        if self.random_seed is not None:
            tuning_config["random_seed"] = self.random_seed
        if self.objective_metric_name is not None:
            tuning_config["objective_type"] = self.objective_type
            tuning_config["objective_metric_name"] = self.objective_metric_name
        tuning_config["parameter_ranges"] = self.hyperparameter_ranges()
        estimator = self.estimator
        training_config = _load_config(inputs, estimator)
        del training_config["resource_config"]
        hpo_resource_config = {}
        if estimator.volume_kms_key is not None:
            hpo_resource_config["VolumeKmsKeyId"] = estimator.volume_kms_key
        hpo_resource_config.update(
            InstanceCount=estimator.instance_count,
            InstanceType=estimator.instance_type,
            VolumeSizeInGB=estimator.volume_size,
        )
        training_config["hpo_resource_config"] = hpo_resource_config
        training_config["input_mode"] = estimator.input_mode
        training_config["metric_definitions"] = self.metric_definitions
        if isinstance(inputs, TrainingInput) and "InputMode" in inputs.config:
            training_config["input_mode"] = inputs.config["InputMode"]
        training_config["image_uri"] = estimator.training_image_uri()
        training_config["enable_network_isolation"] = estimator.enable_network_isolation()
        training_config["encrypt_inter_container_traffic"] = estimator.encrypt_inter_container_traffic
        training_config["use_spot_instances"] = estimator.use_spot_instances
        training_config["checkpoint_s3_uri"] = estimator.checkpoint_s3_uri
        training_config["checkpoint_local_path"] = estimator.checkpoint_local_path
        training_config["static_hyperparameters"] = self.static_hyperparameters
        if estimator.max_retry_attempts is not None:
            training_config["max_retry_attempts"] = estimator.max_retry_attempts
        if estimator.environment is not None:
            training_config["environment"] = estimator.environment
        return {
            "job_name": self._current_job_name,
            "tuning_config": tuning_config,
            "tags": self.tags,
            "warm_start_config": None,
            "autotune": False,
            "training_config": training_config,
        }
