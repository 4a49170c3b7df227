"""Hyperparameter tuning jobs (mirror of ``sagemaker.tuner``), for ``TuningStep`` definitions.

``HyperparameterTuner.fit()`` under a ``PipelineSession`` returns ``TuningStep`` arguments (the
``CreateHyperParameterTuningJob`` request, as the SDK builds it); ``HyperparameterTuner.create()``
builds a multi-algorithm tuner. Locally the engine runs the tuning job's training jobs (see
``docs/sagemaker-api-support.md`` for which strategies and limits run as on SageMaker).
"""

import json
from enum import Enum
from typing import Dict, List, Optional, Set, Union

from sagepipe.estimator import EstimatorBase, Framework, _load_config
from sagepipe.inputs import TrainingInput
from sagepipe.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter, ParameterRange
from sagepipe.utils import base_name_from_image, format_tags, name_from_base, to_string
from sagepipe.workflow.entities import PipelineVariable
from sagepipe.workflow.pipeline_context import runnable_by_pipeline

AMAZON_ESTIMATOR_MODULE = "sagemaker"
AMAZON_ESTIMATOR_CLS_NAMES = {
    "factorization-machines": "FactorizationMachines",
    "kmeans": "KMeans",
    "lda": "LDA",
    "linear-learner": "LinearLearner",
    "ntm": "NTM",
    "randomcutforest": "RandomCutForest",
    "knn": "KNN",
    "object2vec": "Object2Vec",
}
HYPERPARAMETER_TUNING_JOB_NAME = "HyperParameterTuningJobName"
PARENT_HYPERPARAMETER_TUNING_JOBS = "ParentHyperParameterTuningJobs"
WARM_START_TYPE = "WarmStartType"
HYPERBAND_STRATEGY_CONFIG = "HyperbandStrategyConfig"
HYPERBAND_MIN_RESOURCE = "MinResource"
HYPERBAND_MAX_RESOURCE = "MaxResource"
GRID_SEARCH = "Grid"
MAX_NUMBER_OF_TRAINING_JOBS_NOT_IMPROVING = "MaxNumberOfTrainingJobsNotImproving"
BEST_OBJECTIVE_NOT_IMPROVING = "BestObjectiveNotImproving"
CONVERGENCE_DETECTED = "ConvergenceDetected"
COMPLETE_ON_CONVERGENCE_DETECTED = "CompleteOnConvergence"
TARGET_OBJECTIVE_METRIC_VALUE = "TargetObjectiveMetricValue"

__all__ = [
    "CategoricalParameter",
    "ContinuousParameter",
    "HyperbandStrategyConfig",
    "HyperparameterTuner",
    "InstanceConfig",
    "IntegerParameter",
    "ParameterRange",
    "StrategyConfig",
    "TuningJobCompletionCriteriaConfig",
    "WarmStartConfig",
    "WarmStartTypes",
]


class WarmStartTypes(Enum):
    """Warm start types: ``IdenticalDataAndAlgorithm`` or ``TransferLearning``."""

    IDENTICAL_DATA_AND_ALGORITHM = "IdenticalDataAndAlgorithm"
    TRANSFER_LEARNING = "TransferLearning"


class WarmStartConfig:
    """The warm start of a tuning job: its type and the parent tuning jobs.

    Locally the configuration is part of the definition and the step's record; the local search
    does not use the parents' results.
    """

    def __init__(self, warm_start_type: WarmStartTypes, parents: Set[Union[str, PipelineVariable]]):
        """Creates a ``WarmStartConfig``.

        Args:
            warm_start_type (WarmStartTypes): The warm start type.
            parents (set[str] or set[PipelineVariable]): The parent tuning jobs.

        Raises:
            ValueError: An unknown type, or no parents.
        """
        if warm_start_type not in list(WarmStartTypes):
            raise ValueError(f"Invalid type: {warm_start_type}, valid warm start types are: {list(WarmStartTypes)}")
        if not parents:
            raise ValueError(f"Invalid parents: {parents}, parents should not be None/empty")
        self.type = warm_start_type
        self.parents = set(parents)

    @classmethod
    def from_job_desc(cls, warm_start_config):
        """A ``WarmStartConfig`` from a DescribeHyperParameterTuningJob ``WarmStartConfig`` (or None)."""
        if (
            not warm_start_config
            or WARM_START_TYPE not in warm_start_config
            or PARENT_HYPERPARAMETER_TUNING_JOBS not in warm_start_config
        ):
            return None
        parents = [p[HYPERPARAMETER_TUNING_JOB_NAME] for p in warm_start_config[PARENT_HYPERPARAMETER_TUNING_JOBS]]
        return cls(warm_start_type=WarmStartTypes(warm_start_config[WARM_START_TYPE]), parents=parents)

    def to_input_req(self):
        """The ``WarmStartConfig`` of the request."""
        return {
            WARM_START_TYPE: self.type.value,
            PARENT_HYPERPARAMETER_TUNING_JOBS: [{HYPERPARAMETER_TUNING_JOB_NAME: parent} for parent in self.parents],
        }


class HyperbandStrategyConfig:
    """Hyperband's resource bounds (``MinResource``/``MaxResource``, e.g. epochs)."""

    def __init__(self, max_resource: int, min_resource: int):
        """Creates a ``HyperbandStrategyConfig``.

        Args:
            max_resource (int): The most resources (e.g. epochs) a training job may use.
            min_resource (int): The resources a training job uses before it may be stopped.
        """
        self.min_resource = min_resource
        self.max_resource = max_resource

    @classmethod
    def from_job_desc(cls, hyperband_strategy_config):
        """A ``HyperbandStrategyConfig`` from its request/response dict."""
        return cls(
            min_resource=hyperband_strategy_config[HYPERBAND_MIN_RESOURCE],
            max_resource=hyperband_strategy_config[HYPERBAND_MAX_RESOURCE],
        )

    def to_input_req(self):
        """The ``HyperbandStrategyConfig`` of the request."""
        return {HYPERBAND_MIN_RESOURCE: self.min_resource, HYPERBAND_MAX_RESOURCE: self.max_resource}


class StrategyConfig:
    """The ``StrategyConfig`` of a tuning job (Hyperband's configuration)."""

    def __init__(self, hyperband_strategy_config: HyperbandStrategyConfig):
        """Creates a ``StrategyConfig``.

        Args:
            hyperband_strategy_config (HyperbandStrategyConfig): Hyperband's configuration.
        """
        self.hyperband_strategy_config = hyperband_strategy_config

    @classmethod
    def from_job_desc(cls, strategy_config):
        """A ``StrategyConfig`` from its request/response dict."""
        return cls(
            hyperband_strategy_config=HyperbandStrategyConfig.from_job_desc(strategy_config[HYPERBAND_STRATEGY_CONFIG])
        )

    def to_input_req(self):
        """The ``StrategyConfig`` of the request."""
        return {HYPERBAND_STRATEGY_CONFIG: self.hyperband_strategy_config.to_input_req()}


class InstanceConfig:
    """One instance configuration of the training jobs a tuning job starts."""

    def __init__(
        self,
        instance_count: Union[int, PipelineVariable] = None,
        instance_type: Union[str, PipelineVariable] = None,
        volume_size: Union[int, PipelineVariable] = 30,
    ):
        """Creates an ``InstanceConfig``.

        Args:
            instance_count (int or PipelineVariable): The number of instances.
            instance_type (str or PipelineVariable): The instance type.
            volume_size (int or PipelineVariable): The volume size in GB (default: 30).
        """
        self.instance_count = instance_count
        self.instance_type = instance_type
        self.volume_size = volume_size

    @classmethod
    def from_job_desc(cls, instance_config):
        """An ``InstanceConfig`` from its request/response dict."""
        return cls(
            instance_count=instance_config["InstanceCount"],
            instance_type=instance_config["InstanceType"],
            volume_size=instance_config["VolumeSizeInGB"],
        )

    def to_input_req(self):
        """The ``InstanceConfigs`` entry of the request."""
        return {
            "InstanceCount": self.instance_count,
            "InstanceType": self.instance_type,
            "VolumeSizeInGB": self.volume_size,
        }


class TuningJobCompletionCriteriaConfig:
    """When a tuning job completes before its job limit.

    Locally ``target_objective_metric_value`` and ``max_number_of_training_jobs_not_improving``
    stop further training jobs from starting; ``complete_on_convergence`` is recorded only.
    """

    def __init__(
        self,
        max_number_of_training_jobs_not_improving: int = None,
        complete_on_convergence: bool = None,
        target_objective_metric_value: float = None,
    ):
        """Creates a ``TuningJobCompletionCriteriaConfig``.

        Args:
            max_number_of_training_jobs_not_improving (int): Complete after this many training
                jobs that do not improve the best objective.
            complete_on_convergence (bool): Complete when SageMaker detects convergence.
            target_objective_metric_value (float): Complete once the objective reaches this.
        """
        self.max_number_of_training_jobs_not_improving = max_number_of_training_jobs_not_improving
        self.complete_on_convergence = complete_on_convergence
        self.target_objective_metric_value = target_objective_metric_value

    @classmethod
    def from_job_desc(cls, completion_criteria_config):
        """A ``TuningJobCompletionCriteriaConfig`` from its request/response dict."""
        convergence = completion_criteria_config.get(CONVERGENCE_DETECTED) or {}
        complete_on_convergence = None
        if convergence.get(COMPLETE_ON_CONVERGENCE_DETECTED):
            complete_on_convergence = convergence[COMPLETE_ON_CONVERGENCE_DETECTED] == "Enabled"
        not_improving = completion_criteria_config.get(BEST_OBJECTIVE_NOT_IMPROVING) or {}
        return cls(
            max_number_of_training_jobs_not_improving=not_improving.get(MAX_NUMBER_OF_TRAINING_JOBS_NOT_IMPROVING)
            or None,
            complete_on_convergence=complete_on_convergence,
            target_objective_metric_value=completion_criteria_config.get(TARGET_OBJECTIVE_METRIC_VALUE),
        )

    def to_input_req(self):
        """The ``TuningJobCompletionCriteria`` of the request."""
        config = {}
        if self.max_number_of_training_jobs_not_improving is not None:
            config[BEST_OBJECTIVE_NOT_IMPROVING] = {
                MAX_NUMBER_OF_TRAINING_JOBS_NOT_IMPROVING: self.max_number_of_training_jobs_not_improving
            }
        if self.target_objective_metric_value is not None:
            config[TARGET_OBJECTIVE_METRIC_VALUE] = self.target_objective_metric_value
        if self.complete_on_convergence is not None:
            config[CONVERGENCE_DETECTED] = {
                COMPLETE_ON_CONVERGENCE_DETECTED: "Enabled" if self.complete_on_convergence else "Disabled"
            }
        return config


def _sdk_module(module: str) -> str:
    """The SDK module name of an estimator class: sagepipe's mirrors stand for ``sagemaker.X``."""
    if module == "sagepipe" or module.startswith("sagepipe."):
        return "sagemaker" + module[len("sagepipe") :]
    return module


class HyperparameterTuner:
    """Defines interaction with Amazon SageMaker hyperparameter tuning jobs."""

    TUNING_JOB_NAME_MAX_LENGTH = 32
    SAGEMAKER_ESTIMATOR_MODULE = "sagemaker_estimator_module"
    SAGEMAKER_ESTIMATOR_CLASS_NAME = "sagemaker_estimator_class_name"
    DEFAULT_ESTIMATOR_MODULE = "sagemaker.estimator"
    DEFAULT_ESTIMATOR_CLS_NAME = "Estimator"

    def __init__(
        self,
        estimator: EstimatorBase,
        objective_metric_name: Union[str, PipelineVariable],
        hyperparameter_ranges: Dict[Union[str, PipelineVariable], ParameterRange],
        metric_definitions: Optional[List[Dict[str, Union[str, PipelineVariable]]]] = None,
        strategy: Union[str, PipelineVariable] = "Bayesian",
        objective_type: Union[str, PipelineVariable] = "Maximize",
        max_jobs: Union[int, PipelineVariable] = None,
        max_parallel_jobs: Union[int, PipelineVariable] = 1,
        max_runtime_in_seconds: Optional[Union[int, PipelineVariable]] = None,
        tags=None,
        base_tuning_job_name: Optional[str] = None,
        warm_start_config: Optional[WarmStartConfig] = None,
        strategy_config: Optional[StrategyConfig] = None,
        completion_criteria_config: Optional[TuningJobCompletionCriteriaConfig] = None,
        early_stopping_type: Union[str, PipelineVariable] = "Off",
        estimator_name: Optional[str] = None,
        random_seed: Optional[int] = None,
        autotune: bool = False,
        hyperparameters_to_keep_static: Optional[List[str]] = None,
    ):
        """Creates a ``HyperparameterTuner``.

        Args:
            estimator (EstimatorBase): The estimator whose training jobs are tuned.
            objective_metric_name (str or PipelineVariable): The metric to optimize.
            hyperparameter_ranges (dict[str, ParameterRange]): The ranges to search.
            metric_definitions (list[dict]): ``Name``/``Regex`` of the metrics in the job's log.
            strategy (str or PipelineVariable): ``Bayesian`` (default), ``Random``, ``Hyperband``
                or ``Grid``. Locally Bayesian and Hyperband search like Random.
            objective_type (str or PipelineVariable): ``Maximize`` (default) or ``Minimize``.
            max_jobs (int or PipelineVariable): Maximum total training jobs (default 1; for Grid,
                every combination).
            max_parallel_jobs (int or PipelineVariable): Maximum parallel training jobs (default 1).
            max_runtime_in_seconds (int or PipelineVariable): Maximum runtime of the tuning job.
            tags (list[dict]): Tags (recorded).
            base_tuning_job_name (str): Prefix of the tuning job name.
            warm_start_config (WarmStartConfig): The warm start (recorded).
            strategy_config (StrategyConfig): Hyperband's configuration (recorded).
            completion_criteria_config (TuningJobCompletionCriteriaConfig): When to complete early.
            early_stopping_type (str or PipelineVariable): ``Off`` (default) or ``Auto`` (recorded).
            estimator_name (str): The estimator's name in a multi-algorithm tuner.
            random_seed (int): Seed of the search.
            autotune (bool): Let SageMaker choose the ranges (cannot run locally).
            hyperparameters_to_keep_static (list[str]): With autotune, the hyperparameters kept static.

        Raises:
            ValueError: No hyperparameter ranges without autotune, or misused
                ``hyperparameters_to_keep_static``.
        """
        if not hyperparameter_ranges and not autotune:
            raise ValueError("Need to specify hyperparameter ranges or set autotune=True.")
        if not autotune and hyperparameters_to_keep_static is not None:
            raise ValueError(
                "hyperparameters_to_keep_static parameter is set, however Autotune mode is not "
                "enabled. Either do not set value for hyperparameters_to_keep_static parameter, "
                "or enable Autotune mode by setting autotune=True."
            )
        if hyperparameters_to_keep_static is not None and len(hyperparameters_to_keep_static) != len(
            set(hyperparameters_to_keep_static)
        ):
            raise ValueError("Please remove duplicate names in hyperparameters_to_keep_static.")
        self.static_hyperparameters = None
        self.static_hyperparameters_dict = None
        self.auto_parameters = None
        self.auto_parameters_dict = None
        if estimator_name is not None:
            self.estimator = None
            self.objective_metric_name = None
            self._hyperparameter_ranges = None
            self.metric_definitions = None
            self.estimator_dict = {estimator_name: estimator}
            self.objective_metric_name_dict = {estimator_name: objective_metric_name}
            self._hyperparameter_ranges_dict = {estimator_name: hyperparameter_ranges}
            self.metric_definitions_dict = (
                {estimator_name: metric_definitions} if metric_definitions is not None else {}
            )
            self.hyperparameters_to_keep_static = None
            self.hyperparameters_to_keep_static_dict = {estimator_name: hyperparameters_to_keep_static}
        else:
            self.estimator = estimator
            self.objective_metric_name = objective_metric_name
            self._hyperparameter_ranges = hyperparameter_ranges
            self.metric_definitions = metric_definitions
            self.estimator_dict = None
            self.objective_metric_name_dict = None
            self._hyperparameter_ranges_dict = None
            self.metric_definitions_dict = None
            self.hyperparameters_to_keep_static = hyperparameters_to_keep_static
            self.hyperparameters_to_keep_static_dict = None
        self.strategy = strategy
        self.strategy_config = strategy_config
        self.completion_criteria_config = completion_criteria_config
        self.objective_type = objective_type
        # Grid runs every combination unless limited; the other strategies default to one job.
        self.max_jobs = max_jobs
        if max_jobs is None and strategy != GRID_SEARCH:
            self.max_jobs = 1
        self.max_parallel_jobs = max_parallel_jobs
        self.max_runtime_in_seconds = max_runtime_in_seconds
        self.tags = format_tags(tags)
        self.base_tuning_job_name = base_tuning_job_name
        self._current_job_name = None
        self.latest_tuning_job = None
        self.warm_start_config = warm_start_config
        self.early_stopping_type = early_stopping_type
        self.random_seed = random_seed
        self.instance_configs_dict = None
        self.instance_configs = None
        self.autotune = autotune

    @classmethod
    def create(
        cls,
        estimator_dict,
        objective_metric_name_dict,
        hyperparameter_ranges_dict,
        metric_definitions_dict=None,
        base_tuning_job_name=None,
        strategy="Bayesian",
        strategy_config=None,
        completion_criteria_config=None,
        objective_type="Maximize",
        max_jobs=None,
        max_parallel_jobs=1,
        max_runtime_in_seconds=None,
        tags=None,
        warm_start_config=None,
        early_stopping_type="Off",
        random_seed=None,
        autotune=False,
        hyperparameters_to_keep_static_dict=None,
    ):
        """A tuner of several estimators (``TrainingJobDefinitions``), keyed by estimator name.

        Args:
            estimator_dict (dict[str, EstimatorBase]): The estimators, by name.
            objective_metric_name_dict (dict[str, str]): Each estimator's objective metric.
            hyperparameter_ranges_dict (dict[str, dict[str, ParameterRange]]): Each estimator's ranges.
            metric_definitions_dict (dict[str, list[dict]]): Each estimator's metric definitions.
            base_tuning_job_name, strategy, strategy_config, completion_criteria_config,
            objective_type, max_jobs, max_parallel_jobs, max_runtime_in_seconds, tags,
            warm_start_config, early_stopping_type, random_seed, autotune: As for ``__init__``.
            hyperparameters_to_keep_static_dict (dict[str, list[str]]): Per estimator, with autotune.

        Returns:
            HyperparameterTuner: The multi-algorithm tuner.
        """
        if not estimator_dict:
            raise ValueError("At least one estimator should be provided")
        if None in estimator_dict:
            raise ValueError("Estimator names cannot be None")
        names = sorted(estimator_dict.keys())
        cls._validate_dict_argument("objective_metric_name_dict", objective_metric_name_dict, names, True)
        cls._validate_dict_argument("hyperparameter_ranges_dict", hyperparameter_ranges_dict, names, True)
        cls._validate_dict_argument("metric_definitions_dict", metric_definitions_dict, names)
        cls._validate_dict_argument("hyperparameters_to_keep_static_dict", hyperparameters_to_keep_static_dict, names)
        metric_definitions_dict = metric_definitions_dict or {}
        static_dict = hyperparameters_to_keep_static_dict or {}
        first = names[0]
        tuner = HyperparameterTuner(
            base_tuning_job_name=base_tuning_job_name,
            estimator_name=first,
            estimator=estimator_dict[first],
            objective_metric_name=objective_metric_name_dict[first],
            hyperparameter_ranges=hyperparameter_ranges_dict[first],
            metric_definitions=metric_definitions_dict.get(first),
            strategy=strategy,
            strategy_config=strategy_config,
            completion_criteria_config=completion_criteria_config,
            objective_type=objective_type,
            max_jobs=max_jobs,
            max_parallel_jobs=max_parallel_jobs,
            max_runtime_in_seconds=max_runtime_in_seconds,
            tags=format_tags(tags),
            warm_start_config=warm_start_config,
            early_stopping_type=early_stopping_type,
            random_seed=random_seed,
            autotune=autotune,
            hyperparameters_to_keep_static=static_dict.get(first),
        )
        for name in names[1:]:
            tuner._add_estimator(
                estimator_name=name,
                estimator=estimator_dict[name],
                objective_metric_name=objective_metric_name_dict[name],
                hyperparameter_ranges=hyperparameter_ranges_dict[name],
                metric_definitions=metric_definitions_dict.get(name),
                hyperparameters_to_keep_static=static_dict.get(name),
            )
        return tuner

    @classmethod
    def _validate_dict_argument(cls, name, value, allowed_keys, require_same_keys=False):
        """Check that an argument is a dict keyed by (all, or some of) the estimator names."""
        if value is None:
            return
        if not isinstance(value, dict):
            raise ValueError(f"Argument '{name}' must be a dictionary using {allowed_keys} as keys")
        keys = sorted(value.keys())
        if require_same_keys and keys != allowed_keys:
            raise ValueError(f"The keys of argument '{name}' must be the same as {allowed_keys}")
        if not require_same_keys and not set(keys).issubset(set(allowed_keys)):
            raise ValueError(f"The keys of argument '{name}' must be a subset of {allowed_keys}")

    def _add_estimator(
        self,
        estimator_name,
        estimator,
        objective_metric_name,
        hyperparameter_ranges,
        metric_definitions=None,
        hyperparameters_to_keep_static=None,
    ):
        """Add an estimator with its objective, ranges and metric definitions."""
        self.estimator_dict[estimator_name] = estimator
        self.objective_metric_name_dict[estimator_name] = objective_metric_name
        self._hyperparameter_ranges_dict[estimator_name] = hyperparameter_ranges
        if hyperparameters_to_keep_static is not None:
            self.hyperparameters_to_keep_static_dict[estimator_name] = hyperparameters_to_keep_static
        if metric_definitions is not None:
            self.metric_definitions_dict[estimator_name] = metric_definitions

    def override_resource_config(self, instance_configs):
        """Override the instance configuration of the estimators.

        Args:
            instance_configs (list[InstanceConfig] or dict[str, list[InstanceConfig]]): The
                configurations, for the one estimator or by estimator name.
        """
        if isinstance(instance_configs, dict):
            self._validate_dict_argument("instance_configs", instance_configs, list(self.estimator_dict.keys()))
            self.instance_configs_dict = instance_configs
        else:
            self.instance_configs = instance_configs
            if self.estimator_dict:
                self.instance_configs_dict = {list(self.estimator_dict.keys())[0]: instance_configs}

    def _first_estimator(self):
        return self.estimator or self.estimator_dict[sorted(self.estimator_dict.keys())[0]]

    @property
    def sagemaker_session(self):
        """The session of the (first) estimator."""
        return self._first_estimator().sagemaker_session

    @classmethod
    def _prepare_parameter_ranges_for_tuning(cls, parameter_ranges, estimator):
        processed = {}
        for range_type in ParameterRange.__all_types__:
            ranges = []
            for name, parameter in parameter_ranges.items():
                if parameter is not None and parameter.__name__ == range_type:
                    # Framework containers read categorical values as JSON.
                    if isinstance(parameter, CategoricalParameter) and isinstance(estimator, Framework):
                        ranges.append(parameter.as_json_range(name))
                    else:
                        ranges.append(parameter.as_tuning_range(name))
            processed[range_type + "ParameterRanges"] = ranges
        return processed

    def hyperparameter_ranges(self):
        """The ``ParameterRanges`` of the tuning job (Continuous, Categorical, Integer lists)."""
        if self._hyperparameter_ranges is None:
            return None
        return self._prepare_parameter_ranges_for_tuning(self._hyperparameter_ranges, self.estimator)

    def hyperparameter_ranges_dict(self):
        """The ranges of each estimator of a multi-algorithm tuner, by estimator name."""
        if self._hyperparameter_ranges_dict is None:
            return None
        return {
            name: self._prepare_parameter_ranges_for_tuning(
                self._hyperparameter_ranges_dict[name], self.estimator_dict[name]
            )
            for name in sorted(self.estimator_dict.keys())
        }

    @runnable_by_pipeline
    def fit(
        self,
        inputs=None,
        job_name: Optional[str] = None,
        include_cls_metadata: Union[bool, Dict[str, bool]] = False,
        estimator_kwargs: Optional[Dict[str, dict]] = None,
        wait: bool = True,
        **kwargs,
    ):
        """Start a tuning job (under a ``PipelineSession``: return ``TuningStep`` arguments).

        Args:
            inputs: The training data, as for ``EstimatorBase.fit()``; for a multi-algorithm
                tuner, a dict of those by estimator name.
            job_name (str): Tuning job name (popped from the step definition).
            include_cls_metadata (bool or dict[str, bool]): Add the estimator class and module
                as static hyperparameters (always for framework estimators).
            estimator_kwargs (dict[str, dict]): Other ``fit`` arguments per estimator name.
            wait (bool): Forced to False under a pipeline session.
        """
        if self.estimator is not None:
            self._prepare_estimator_for_tuning(self.estimator, inputs, job_name, **kwargs)
        else:
            names = sorted(self.estimator_dict.keys())
            self._validate_dict_argument("inputs", inputs, names)
            self._validate_dict_argument("include_cls_metadata", include_cls_metadata, names)
            self._validate_dict_argument("estimator_kwargs", estimator_kwargs, names)
            for name, estimator in self.estimator_dict.items():
                estimator_inputs = inputs.get(name) if inputs is not None else None
                extra = (estimator_kwargs or {}).get(name, {})
                self._prepare_estimator_for_tuning(estimator, estimator_inputs, job_name, **extra)
            if include_cls_metadata is None:
                include_cls_metadata = {}
        self._prepare_for_tuning(job_name, include_cls_metadata)
        self.sagemaker_session.create_tuning_job(**self._tuner_args(inputs))

    @classmethod
    def _prepare_estimator_for_tuning(cls, estimator, inputs, job_name, **kwargs):
        if isinstance(inputs, list):
            estimator._prepare_for_training(inputs, **kwargs)
        else:
            estimator._prepare_for_training(job_name)

    def _prepare_for_tuning(self, job_name=None, include_cls_metadata=False):
        """Prepare the job name, static and auto hyperparameters and tags."""
        if job_name is not None:
            self._current_job_name = job_name
        else:
            base_name = self.base_tuning_job_name or base_name_from_image(
                self._first_estimator().training_image_uri(), default_base_name=EstimatorBase.JOB_CLASS_NAME
            )
            self._current_job_name = name_from_base(base_name, max_length=self.TUNING_JOB_NAME_MAX_LENGTH, short=True)
        self.static_hyperparameters = None
        self.auto_parameters = None
        if self.estimator is not None:
            static = self._prepare_static_hyperparameters(
                self.estimator, self._hyperparameter_ranges, include_cls_metadata
            )
            self.static_hyperparameters, self.auto_parameters = self._prepare_auto_parameters(
                static, self.hyperparameters_to_keep_static
            )
        self.static_hyperparameters_dict = None
        self.auto_parameters_dict = None
        if self.estimator_dict is not None:
            self.static_hyperparameters_dict = {}
            self.auto_parameters_dict = {}
            for name in sorted(self.estimator_dict.keys()):
                include = (
                    include_cls_metadata.get(name, False)
                    if isinstance(include_cls_metadata, dict)
                    else include_cls_metadata
                )
                static = self._prepare_static_hyperparameters(
                    self.estimator_dict[name], self._hyperparameter_ranges_dict[name], include
                )
                keep = (self.hyperparameters_to_keep_static_dict or {}).get(name)
                (
                    self.static_hyperparameters_dict[name],
                    self.auto_parameters_dict[name],
                ) = self._prepare_auto_parameters(static, keep)
        estimator_tags = getattr(self._first_estimator(), "tags", None) or []
        if self.tags is None and estimator_tags:
            self.tags = []
        for tag in estimator_tags:
            if tag not in self.tags:
                self.tags.append(tag)

    @classmethod
    def _prepare_static_hyperparameters(cls, estimator, hyperparameter_ranges, include_cls_metadata):
        static = {str(k): to_string(v) for k, v in estimator.hyperparameters().items()}
        for name in hyperparameter_ranges or {}:
            static.pop(name, None)
        if include_cls_metadata or isinstance(estimator, Framework):
            static[cls.SAGEMAKER_ESTIMATOR_CLASS_NAME] = json.dumps(estimator.__class__.__name__)
            static[cls.SAGEMAKER_ESTIMATOR_MODULE] = json.dumps(_sdk_module(estimator.__module__))
        return static

    def _prepare_auto_parameters(self, static_hyperparameters, hyperparameters_to_keep_static):
        """Split the static hyperparameters into kept ones and Autotune's value hints."""
        if not self.autotune:
            return static_hyperparameters, None
        keep = hyperparameters_to_keep_static or []
        if not set(keep).issubset(set(static_hyperparameters.keys())):
            raise ValueError("Names in hyperparameters_to_keep_static must be members of estimator's hyperparameters.")
        kept = {k: v for k, v in static_hyperparameters.items() if k in keep}
        auto = {k: v for k, v in static_hyperparameters.items() if k not in keep}
        return kept, auto

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
        if self.strategy_config is not None:
            tuning_config["strategy_config"] = self.strategy_config.to_input_req()
        if self.objective_metric_name is not None:
            tuning_config["objective_type"] = self.objective_type
            tuning_config["objective_metric_name"] = self.objective_metric_name
        parameter_ranges = self.hyperparameter_ranges()
        if parameter_ranges is not None:
            tuning_config["parameter_ranges"] = parameter_ranges
        if self.auto_parameters is not None:
            tuning_config["auto_parameters"] = self.auto_parameters
        if self.completion_criteria_config is not None:
            tuning_config["completion_criteria_config"] = self.completion_criteria_config.to_input_req()
        args = {
            "job_name": self._current_job_name,
            "tuning_config": tuning_config,
            "tags": self.tags,
            "warm_start_config": self.warm_start_config.to_input_req() if self.warm_start_config else None,
            "autotune": self.autotune,
        }
        if self.estimator is not None:
            args["training_config"] = self._training_config(
                inputs, self.estimator, self.static_hyperparameters, self.metric_definitions, self.instance_configs
            )
        if self.estimator_dict is not None:
            ranges = self.hyperparameter_ranges_dict()
            args["training_config_list"] = [
                self._training_config(
                    inputs.get(name) if inputs is not None else None,
                    self.estimator_dict[name],
                    self.static_hyperparameters_dict[name],
                    self.metric_definitions_dict.get(name),
                    (self.instance_configs_dict or {}).get(name),
                    estimator_name=name,
                    objective_type=self.objective_type,
                    objective_metric_name=self.objective_metric_name_dict[name],
                    parameter_ranges=ranges[name],
                    auto_parameters=(self.auto_parameters_dict or {}).get(name),
                )
                for name in sorted(self.estimator_dict.keys())
            ]
        return args

    @staticmethod
    def _training_config(inputs, estimator, static_hyperparameters, metric_definitions, instance_configs, **extra):
        """The ``training_config`` of one estimator (``Session._map_training_config`` arguments)."""
        config = _load_config(inputs, estimator)
        del config["resource_config"]
        resource = {}
        if estimator.volume_kms_key is not None:
            resource["VolumeKmsKeyId"] = estimator.volume_kms_key
        if instance_configs is None:
            resource.update(
                InstanceCount=estimator.instance_count,
                InstanceType=estimator.instance_type,
                VolumeSizeInGB=estimator.volume_size,
            )
        else:
            resource["InstanceConfigs"] = [c.to_input_req() for c in instance_configs]
        config["hpo_resource_config"] = resource
        config["input_mode"] = estimator.input_mode
        config["metric_definitions"] = metric_definitions
        if isinstance(inputs, TrainingInput) and "InputMode" in inputs.config:
            config["input_mode"] = inputs.config["InputMode"]
        algorithm_arn = getattr(estimator, "algorithm_arn", None)
        if algorithm_arn is not None:
            config["algorithm_arn"] = algorithm_arn
        else:
            config["image_uri"] = estimator.training_image_uri()
        config["enable_network_isolation"] = estimator.enable_network_isolation()
        config["encrypt_inter_container_traffic"] = estimator.encrypt_inter_container_traffic
        config["use_spot_instances"] = estimator.use_spot_instances
        config["checkpoint_s3_uri"] = estimator.checkpoint_s3_uri
        config["checkpoint_local_path"] = estimator.checkpoint_local_path
        config["static_hyperparameters"] = static_hyperparameters
        config.update({k: v for k, v in extra.items() if v is not None})
        if estimator.max_retry_attempts is not None:
            config["max_retry_attempts"] = estimator.max_retry_attempts
        if estimator.environment is not None:
            config["environment"] = estimator.environment
        return config
