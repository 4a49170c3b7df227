"""SageMaker Clarify configuration (mirror of ``sagemaker.clarify``).

These classes build the ``analysis_config.json`` a Clarify processing job reads; pipelines use
them through ``ClarifyCheckStep`` or ``SageMakerClarifyProcessor.run_*`` (``ProcessingStep``
arguments under a ``PipelineSession``). The Clarify container is not available locally: a
pipeline holding such a step builds the SDK's definition, and running it fails before the
execution starts unless a local runner is registered (for the ``ClarifyCheck`` type, or for the
Clarify image of a processing step).
"""

import copy
import functools
import json
import re
from enum import Enum
from typing import Any, Dict, List, Optional, Union

from sagepipe import image_uris, s3
from sagepipe.processing import ProcessingInput, ProcessingOutput, Processor
from sagepipe.session import session_or_default
from sagepipe.utils import format_tags, name_from_base


class DatasetType(Enum):
    """Dataset types Clarify reads."""

    TEXTCSV = "text/csv"
    JSONLINES = "application/jsonlines"
    JSON = "application/json"
    PARQUET = "application/x-parquet"
    IMAGE = "application/x-image"


def _set(value, key, dictionary):
    """Set ``dictionary[key] = value`` unless ``value`` is None (the analysis config omits unset keys)."""
    if value is not None:
        dictionary[key] = value


class DataConfig:
    """Config of the input and output datasets of a Clarify job."""

    def __init__(
        self,
        s3_data_input_path: str,
        s3_output_path: str,
        s3_analysis_config_output_path: Optional[str] = None,
        label: Optional[str] = None,
        headers: Optional[List[str]] = None,
        features: Optional[str] = None,
        dataset_type: str = "text/csv",
        s3_compression_type: str = "None",
        joinsource: Optional[Union[str, int]] = None,
        facet_dataset_uri: Optional[str] = None,
        facet_headers: Optional[List[str]] = None,
        predicted_label_dataset_uri: Optional[str] = None,
        predicted_label_headers: Optional[List[str]] = None,
        predicted_label: Optional[Union[str, int]] = None,
        excluded_columns: Optional[Union[List[int], List[str]]] = None,
        segmentation_config: Optional[list] = None,
        time_series_data_config=None,
    ):
        """Initializes the dataset configuration.

        Args:
            s3_data_input_path (str): Dataset S3 prefix or object URI.
            s3_output_path (str): S3 prefix of the analysis results.
            s3_analysis_config_output_path (str): S3 prefix of the analysis config
                (default: ``s3_output_path``).
            label (str): Target column (name, index or JMESPath).
            headers ([str]): Column names of the dataset.
            features (str): JMESPath of the features (required for ``application/json``).
            dataset_type (str): ``text/csv``, ``application/jsonlines``, ``application/json``,
                ``application/x-parquet`` or ``application/x-image``.
            s3_compression_type (str): ``None`` or ``Gzip``.
            joinsource, facet_dataset_uri, facet_headers, predicted_label_dataset_uri,
            predicted_label_headers, predicted_label, excluded_columns: As in the SDK.
            segmentation_config: Objects with ``to_dict()``, recorded as ``segment_config``.
            time_series_data_config: An object with ``get_time_series_data_config()``.

        Raises:
            ValueError: An unknown dataset type or an argument the dataset type does not allow.
        """
        known_types = [t.value for t in DatasetType]
        if dataset_type not in known_types:
            raise ValueError(
                f"Invalid dataset_type '{dataset_type}'. "
                "Please check the API documentation for the supported dataset types."
            )
        if dataset_type not in ("text/csv", "application/jsonlines", "application/json", "application/x-parquet"):
            if predicted_label:
                raise ValueError(f"The parameter 'predicted_label' is not supported for dataset_type '{dataset_type}'.")
            if excluded_columns:
                raise ValueError(
                    f"The parameter 'excluded_columns' is not supported for dataset_type '{dataset_type}'."
                )
        if dataset_type != "text/csv":
            if facet_dataset_uri or facet_headers:
                raise ValueError(
                    "The parameters 'facet_dataset_uri' and 'facet_headers' are not supported "
                    f"for dataset_type '{dataset_type}'."
                )
            if predicted_label_dataset_uri or predicted_label_headers:
                raise ValueError(
                    "The parameters 'predicted_label_dataset_uri' and 'predicted_label_headers' are not supported "
                    f"for dataset_type '{dataset_type}'."
                )
        if time_series_data_config and dataset_type != "application/json":
            raise ValueError("Currently time series explainability only supports JSON format data.")
        if dataset_type == "application/json" and features is None and not time_series_data_config:
            raise ValueError("features JMESPath is required for application/json dataset_type")
        self.s3_data_input_path = s3_data_input_path
        self.s3_output_path = s3_output_path
        self.s3_analysis_config_output_path = s3_analysis_config_output_path
        self.s3_data_distribution_type = "FullyReplicated"
        self.s3_compression_type = s3_compression_type
        self.label = label
        self.headers = headers
        self.features = features
        self.facet_dataset_uri = facet_dataset_uri
        self.facet_headers = facet_headers
        self.predicted_label_dataset_uri = predicted_label_dataset_uri
        self.predicted_label_headers = predicted_label_headers
        self.predicted_label = predicted_label
        self.excluded_columns = excluded_columns
        self.segmentation_configs = segmentation_config
        self.analysis_config = {"dataset_type": dataset_type}
        for key, value in (
            ("features", features),
            ("headers", headers),
            ("label", label),
            ("joinsource_name_or_index", joinsource),
            ("facet_dataset_uri", facet_dataset_uri),
            ("facet_headers", facet_headers),
            ("predicted_label_dataset_uri", predicted_label_dataset_uri),
            ("predicted_label_headers", predicted_label_headers),
            ("predicted_label", predicted_label),
            ("excluded_columns", excluded_columns),
        ):
            _set(value, key, self.analysis_config)
        if segmentation_config:
            self.analysis_config["segment_config"] = [item.to_dict() for item in segmentation_config]
        if time_series_data_config:
            self.analysis_config["time_series_data_config"] = time_series_data_config.get_time_series_data_config()

    def get_config(self):
        """Returns the dataset part of the analysis config."""
        return copy.deepcopy(self.analysis_config)


class BiasConfig:
    """Config of the sensitive groups of a dataset."""

    def __init__(
        self,
        label_values_or_threshold: List[Union[int, float, str]],
        facet_name: Union[str, int, List[str], List[int]],
        facet_values_or_threshold: Optional[Union[int, float, str, list]] = None,
        group_name: Optional[str] = None,
    ):
        """Initializes the bias configuration.

        Args:
            label_values_or_threshold (list): Label values (or a threshold) of the positive outcome.
            facet_name (str or int or list): Sensitive column(s).
            facet_values_or_threshold (list): Values or threshold of the sensitive group(s); for a
                list of facets, one entry per facet.
            group_name (str): Group column for the conditional demographic disparity metrics.

        Raises:
            ValueError: The numbers of facet names and facet values differ.
        """
        if isinstance(facet_name, list):
            if not facet_name:
                raise ValueError("Please provide at least one facet")
            if facet_values_or_threshold is None:
                facet_list = [{"name_or_index": name} for name in facet_name]
            elif len(facet_values_or_threshold) == len(facet_name):
                facet_list = []
                for name, value in zip(facet_name, facet_values_or_threshold):
                    facet = {"name_or_index": name}
                    _set(value, "value_or_threshold", facet)
                    facet_list.append(facet)
            else:
                raise ValueError("The number of facet names doesn't match the number of facet values")
        else:
            facet = {"name_or_index": facet_name}
            _set(facet_values_or_threshold, "value_or_threshold", facet)
            facet_list = [facet]
        self.analysis_config = {"label_values_or_threshold": label_values_or_threshold, "facet": facet_list}
        _set(group_name, "group_variable", self.analysis_config)

    def get_config(self):
        """Returns the bias part of the analysis config."""
        return copy.deepcopy(self.analysis_config)


_ACCEPT_TYPES = ("text/csv", "application/jsonlines", "application/json")
_CONTENT_TYPES = (
    "text/csv",
    "application/jsonlines",
    "application/json",
    "image/jpeg",
    "image/jpg",
    "image/png",
    "application/x-npy",
)


class ModelConfig:
    """Config of the model (and the shadow endpoint) a Clarify job queries."""

    def __init__(
        self,
        model_name: Optional[str] = None,
        instance_count: Optional[int] = None,
        instance_type: Optional[str] = None,
        accept_type: Optional[str] = None,
        content_type: Optional[str] = None,
        content_template: Optional[str] = None,
        record_template: Optional[str] = None,
        custom_attributes: Optional[str] = None,
        accelerator_type: Optional[str] = None,
        endpoint_name_prefix: Optional[str] = None,
        target_model: Optional[str] = None,
        endpoint_name: Optional[str] = None,
        time_series_model_config=None,
    ):
        """Initializes the model configuration.

        Either ``model_name``, ``instance_count`` and ``instance_type`` (a shadow endpoint is
        created), or ``endpoint_name`` (an existing endpoint), not both.

        Raises:
            ValueError: Neither or both of the two forms, or an invalid type or template.
        """
        with_model = all([model_name, instance_count, instance_type])
        with_endpoint = bool(endpoint_name)
        if with_model == with_endpoint:
            raise ValueError("Give either model_name, instance_count and instance_type, or endpoint_name (not both).")
        if endpoint_name and endpoint_name_prefix:
            raise ValueError("endpoint_name_prefix cannot be used with endpoint_name.")
        self.predictor_config = (
            {"model_name": model_name, "instance_type": instance_type, "initial_instance_count": instance_count}
            if not endpoint_name
            else {"endpoint_name": endpoint_name}
        )
        if endpoint_name_prefix:
            if re.search("^[a-zA-Z0-9](-*[a-zA-Z0-9])", endpoint_name_prefix) is None:
                raise ValueError("Invalid endpoint_name_prefix. Please follow pattern ^[a-zA-Z0-9](-*[a-zA-Z0-9]).")
            self.predictor_config["endpoint_name_prefix"] = endpoint_name_prefix
        if accept_type is not None:
            if accept_type not in _ACCEPT_TYPES:
                raise ValueError(f"Invalid accept_type {accept_type}. Please choose text/csv or application/jsonlines.")
            if time_series_model_config and accept_type == "text/csv":
                raise ValueError("``accept_type`` must be JSON or JSONLines for time series explainability.")
            self.predictor_config["accept_type"] = accept_type
        if content_type is not None:
            if content_type not in _CONTENT_TYPES:
                raise ValueError(
                    f"Invalid content_type {content_type}. Please choose text/csv or application/jsonlines."
                )
            if content_type == "application/jsonlines":
                if content_template is None:
                    raise ValueError(f"content_template field is required for content_type {content_type}")
                if "$features" not in content_template:
                    raise ValueError(
                        f"Invalid content_template {content_template}. Please include a placeholder $features."
                    )
            if content_type == "application/json":
                if content_template is None or record_template is None:
                    raise ValueError(
                        f"content_template and record_template are required for content_type {content_type}"
                    )
                if "$record" not in content_template:
                    raise ValueError(
                        f"Invalid content_template {content_template}. "
                        "Please include either placeholder $records or $record."
                    )
            if time_series_model_config and content_type not in ("application/json", "application/jsonlines"):
                raise ValueError("``content_type`` must be JSON or JSONLines for time series explainability.")
            self.predictor_config["content_type"] = content_type
        _set(content_template, "content_template", self.predictor_config)
        _set(record_template, "record_template", self.predictor_config)
        _set(custom_attributes, "custom_attributes", self.predictor_config)
        _set(accelerator_type, "accelerator_type", self.predictor_config)
        _set(target_model, "target_model", self.predictor_config)
        if time_series_model_config:
            self.predictor_config["time_series_predictor_config"] = (
                time_series_model_config.get_time_series_model_config()
            )

    def get_predictor_config(self):
        """Returns the predictor part of the analysis config."""
        return copy.deepcopy(self.predictor_config)


class ModelPredictedLabelConfig:
    """How to read the predicted label (or scores) from the model output."""

    def __init__(
        self,
        label: Optional[Union[str, int]] = None,
        probability: Optional[Union[str, int]] = None,
        probability_threshold: Optional[float] = None,
        label_headers: Optional[List[str]] = None,
    ):
        """Initializes the predicted-label configuration.

        Raises:
            TypeError: ``probability_threshold`` cannot be read as a float.
        """
        self.label = label
        self.probability = probability
        self.probability_threshold = probability_threshold
        self.label_headers = label_headers
        if probability_threshold is not None:
            try:
                float(probability_threshold)
            except ValueError:
                raise TypeError(
                    f"Invalid probability_threshold {probability_threshold}. "
                    "Please choose one that can be cast to float."
                ) from None
        self.predictor_config = {}
        _set(label, "label", self.predictor_config)
        _set(probability, "probability", self.predictor_config)
        _set(label_headers, "label_headers", self.predictor_config)

    def get_predictor_config(self):
        """Returns ``(probability_threshold, predictor config)``."""
        return self.probability_threshold, copy.deepcopy(self.predictor_config)


class ExplainabilityConfig:
    """Base of the explainability method configs."""

    def get_explainability_config(self):
        """Returns the ``methods`` part of the analysis config."""
        raise NotImplementedError(f"{type(self).__name__} must define get_explainability_config()")


class PDPConfig(ExplainabilityConfig):
    """Partial dependence plots."""

    def __init__(self, features: Optional[List] = None, grid_resolution: int = 15, top_k_features: int = 10):
        """Initializes the PDP config (``features`` to plot, ``grid_resolution``, ``top_k_features``)."""
        self.pdp_config = {"grid_resolution": grid_resolution, "top_k_features": top_k_features}
        _set(features, "features", self.pdp_config)

    def get_explainability_config(self):
        """Returns ``{"pdp": ...}``."""
        return copy.deepcopy({"pdp": self.pdp_config})


class SHAPConfig(ExplainabilityConfig):
    """Kernel SHAP feature attributions."""

    def __init__(
        self,
        baseline: Optional[Union[str, List, Dict]] = None,
        num_samples: Optional[int] = None,
        agg_method: Optional[str] = None,
        use_logit: bool = False,
        save_local_shap_values: bool = True,
        seed: Optional[int] = None,
        num_clusters: Optional[int] = None,
        text_config=None,
        image_config=None,
        features_to_explain: Optional[List[Union[str, int]]] = None,
    ):
        """Initializes the SHAP config.

        Raises:
            ValueError: An unknown ``agg_method``, ``baseline`` with ``num_clusters``, or
                ``features_to_explain`` with text or image features.
        """
        if agg_method is not None and agg_method not in ("mean_abs", "median", "mean_sq"):
            raise ValueError(f"Invalid agg_method {agg_method}. Please choose mean_abs, median, or mean_sq.")
        if num_clusters is not None and baseline is not None:
            raise ValueError("Baseline and num_clusters cannot be provided together. Please specify one of the two.")
        if features_to_explain is not None and (text_config is not None or image_config is not None):
            raise ValueError("`features_to_explain` is not supported for datasets containing text features or images.")
        self.shap_config = {"use_logit": use_logit, "save_local_shap_values": save_local_shap_values}
        _set(baseline, "baseline", self.shap_config)
        _set(num_samples, "num_samples", self.shap_config)
        _set(agg_method, "agg_method", self.shap_config)
        _set(seed, "seed", self.shap_config)
        _set(num_clusters, "num_clusters", self.shap_config)
        if text_config:
            self.shap_config["text_config"] = text_config.get_text_config()
        if image_config:
            self.shap_config["image_config"] = image_config.get_image_config()
        _set(features_to_explain, "features_to_explain", self.shap_config)

    def get_explainability_config(self):
        """Returns ``{"shap": ...}``."""
        return copy.deepcopy({"shap": self.shap_config})


class SageMakerClarifyProcessor(Processor):
    """The Clarify processing job (its container computes bias metrics and explanations).

    sagepipe builds its requests (``ClarifyCheckStep`` uses it); the Clarify container does not
    run locally.
    """

    _CLARIFY_DATA_INPUT = "/opt/ml/processing/input/data"
    _CLARIFY_CONFIG_INPUT = "/opt/ml/processing/input/config"
    _CLARIFY_OUTPUT = "/opt/ml/processing/output"

    def __init__(
        self,
        role: Optional[str] = None,
        instance_count: int = None,
        instance_type: str = None,
        volume_size_in_gb: int = 30,
        volume_kms_key: Optional[str] = None,
        output_kms_key: Optional[str] = None,
        max_runtime_in_seconds: Optional[int] = None,
        sagemaker_session=None,
        env: Optional[Dict[str, str]] = None,
        tags=None,
        network_config=None,
        job_name_prefix: Optional[str] = None,
        version: Optional[str] = None,
        skip_early_validation: bool = False,
    ):
        """Initializes the processor with the Clarify image of the session's region."""
        sagemaker_session = session_or_default(sagemaker_session)
        container_uri = image_uris.retrieve("clarify", sagemaker_session.boto_region_name, version)
        self._last_analysis_config = None
        self.job_name_prefix = job_name_prefix
        self.skip_early_validation = skip_early_validation
        super().__init__(
            role,
            container_uri,
            instance_count,
            instance_type,
            None,  # the container has its own entry point
            volume_size_in_gb,
            volume_kms_key,
            output_kms_key,
            max_runtime_in_seconds,
            None,
            sagemaker_session,
            env,
            format_tags(tags),
            network_config,
        )

    def run(self, **_):
        """Clarify jobs are started with the ``run_*`` methods (as in the SDK)."""
        raise NotImplementedError(
            "Please choose a method of run_pre_training_bias, run_post_training_bias or run_explainability."
        )

    def _run(
        self,
        data_config,
        analysis_config: Dict[str, Any],
        wait,
        logs,
        job_name,
        kms_key,
        experiment_config,
        default_job_base_name: str,
    ):
        """Store ``analysis_config.json`` where the SDK uploads it and run the Clarify processing job.

        Without ``job_name`` the job is named from ``job_name_prefix``, else from the analysis's
        ``default_job_base_name`` (``Clarify-Bias``, ...), with a timestamp.

        Under a ``PipelineSession`` this returns the ``ProcessingStep`` arguments. The SDK first
        validates the config against its JSON schema (unless ``skip_early_validation``); sagepipe
        does not ship that schema, so the Clarify container is the judge.
        """
        job_name = job_name or name_from_base(self.job_name_prefix or default_job_base_name)
        self._last_analysis_config = analysis_config
        data_input, config_input, result_output = _analysis_job_io(
            data_config, analysis_config, self.sagemaker_session, kms_key
        )
        return super().run(
            inputs=[data_input, config_input],
            outputs=[result_output],
            wait=wait,
            logs=logs,
            job_name=job_name,
            kms_key=kms_key,
            experiment_config=experiment_config,
        )

    def run_pre_training_bias(
        self,
        data_config: DataConfig,
        data_bias_config: BiasConfig,
        methods: Union[str, List[str]] = "all",
        wait: bool = True,
        logs: bool = True,
        job_name: Optional[str] = None,
        kms_key: Optional[str] = None,
        experiment_config: Optional[Dict[str, str]] = None,
    ):
        """A Clarify job computing pre-training bias metrics (``methods``) of the dataset."""
        analysis_config = _AnalysisConfigGenerator.bias_pre_training(data_config, data_bias_config, methods)
        return self._run(
            data_config, analysis_config, wait, logs, job_name, kms_key, experiment_config, "Clarify-Pretraining-Bias"
        )

    def run_post_training_bias(
        self,
        data_config: DataConfig,
        data_bias_config: BiasConfig,
        model_config: Optional[ModelConfig] = None,
        model_predicted_label_config: Optional[ModelPredictedLabelConfig] = None,
        methods: Union[str, List[str]] = "all",
        wait: bool = True,
        logs: bool = True,
        job_name: Optional[str] = None,
        kms_key: Optional[str] = None,
        experiment_config: Optional[Dict[str, str]] = None,
    ):
        """A Clarify job computing post-training bias metrics of a model's predictions."""
        analysis_config = _AnalysisConfigGenerator.bias_post_training(
            data_config, data_bias_config, model_predicted_label_config, methods, model_config
        )
        return self._run(
            data_config, analysis_config, wait, logs, job_name, kms_key, experiment_config, "Clarify-Posttraining-Bias"
        )

    def run_bias(
        self,
        data_config: DataConfig,
        bias_config: BiasConfig,
        model_config: Optional[ModelConfig] = None,
        model_predicted_label_config: Optional[ModelPredictedLabelConfig] = None,
        pre_training_methods: Union[str, List[str]] = "all",
        post_training_methods: Union[str, List[str]] = "all",
        wait: bool = True,
        logs: bool = True,
        job_name: Optional[str] = None,
        kms_key: Optional[str] = None,
        experiment_config: Optional[Dict[str, str]] = None,
    ):
        """A Clarify job computing pre- and post-training bias metrics."""
        analysis_config = _AnalysisConfigGenerator.bias(
            data_config,
            bias_config,
            model_config,
            model_predicted_label_config,
            pre_training_methods,
            post_training_methods,
        )
        return self._run(data_config, analysis_config, wait, logs, job_name, kms_key, experiment_config, "Clarify-Bias")

    def run_explainability(
        self,
        data_config: DataConfig,
        model_config: ModelConfig,
        explainability_config: Union[ExplainabilityConfig, List],
        model_scores: Optional[Union[int, str, ModelPredictedLabelConfig]] = None,
        wait: bool = True,
        logs: bool = True,
        job_name: Optional[str] = None,
        kms_key: Optional[str] = None,
        experiment_config: Optional[Dict[str, str]] = None,
    ):
        """A Clarify job explaining a model's predictions (SHAP and/or PDP)."""
        analysis_config = _AnalysisConfigGenerator.explainability(
            data_config, model_config, model_scores, explainability_config
        )
        return self._run(
            data_config, analysis_config, wait, logs, job_name, kms_key, experiment_config, "Clarify-Explainability"
        )

    def run_bias_and_explainability(
        self,
        data_config: DataConfig,
        model_config: ModelConfig,
        explainability_config: Union[ExplainabilityConfig, List[ExplainabilityConfig]],
        bias_config: BiasConfig,
        pre_training_methods: Union[str, List[str]] = "all",
        post_training_methods: Union[str, List[str]] = "all",
        model_predicted_label_config: ModelPredictedLabelConfig = None,
        wait=True,
        logs=True,
        job_name=None,
        kms_key=None,
        experiment_config=None,
    ):
        """A Clarify job computing bias metrics and explanations in one analysis."""
        analysis_config = _AnalysisConfigGenerator.bias_and_explainability(
            data_config,
            model_config,
            model_predicted_label_config,
            explainability_config,
            bias_config,
            pre_training_methods,
            post_training_methods,
        )
        return self._run(
            data_config,
            analysis_config,
            wait,
            logs,
            job_name,
            kms_key,
            experiment_config,
            "Clarify-Bias-And-Explainability",
        )


class _AnalysisConfigGenerator:
    """Builds the ``analysis_config.json`` of each kind of Clarify job (the SDK's rules)."""

    @classmethod
    def bias_pre_training(cls, data_config, bias_config, methods):
        analysis_config = {**data_config.get_config(), **bias_config.get_config()}
        return cls._add_methods(analysis_config, pre_training_methods=methods)

    @classmethod
    def bias_post_training(cls, data_config, bias_config, model_predicted_label_config, methods, model_config):
        analysis_config = {**data_config.get_config(), **bias_config.get_config()}
        analysis_config = cls._add_methods(analysis_config, post_training_methods=methods)
        return cls._add_predictor(analysis_config, model_config, model_predicted_label_config)

    @classmethod
    def bias(
        cls,
        data_config,
        bias_config,
        model_config,
        model_predicted_label_config,
        pre_training_methods="all",
        post_training_methods="all",
    ):
        analysis_config = {**data_config.get_config(), **bias_config.get_config()}
        analysis_config = cls._add_methods(
            analysis_config, pre_training_methods=pre_training_methods, post_training_methods=post_training_methods
        )
        return cls._add_predictor(analysis_config, model_config, model_predicted_label_config)

    @classmethod
    def explainability(cls, data_config, model_config, model_predicted_label_config, explainability_config):
        analysis_config = cls._add_predictor(data_config.get_config(), model_config, model_predicted_label_config)
        return cls._add_methods(analysis_config, explainability_config=explainability_config)

    @classmethod
    def bias_and_explainability(
        cls,
        data_config,
        model_config,
        model_predicted_label_config,
        explainability_config,
        bias_config,
        pre_training_methods="all",
        post_training_methods="all",
    ):
        analysis_config = {**data_config.get_config(), **bias_config.get_config()}
        analysis_config = cls._add_methods(
            analysis_config,
            pre_training_methods=pre_training_methods,
            post_training_methods=post_training_methods,
            explainability_config=explainability_config,
        )
        return cls._add_predictor(analysis_config, model_config, model_predicted_label_config)

    @classmethod
    def _add_predictor(cls, analysis_config, model_config, model_predicted_label_config):
        analysis_config = {**analysis_config}
        if isinstance(model_config, ModelConfig):
            analysis_config["predictor"] = model_config.get_predictor_config()
        else:
            if "shap" in analysis_config["methods"] or "pdp" in analysis_config["methods"]:
                raise ValueError("model_config must be provided when explainability methods are selected.")
            if "predicted_label_dataset_uri" not in analysis_config and "predicted_label" not in analysis_config:
                raise ValueError(
                    "model_config must be provided when `predicted_label_dataset_uri` or `predicted_label` "
                    "are not provided in data_config."
                )
        if isinstance(model_predicted_label_config, ModelPredictedLabelConfig):
            probability_threshold, predictor_config = model_predicted_label_config.get_predictor_config()
            if predictor_config and "predictor" in analysis_config:
                analysis_config["predictor"].update(predictor_config)
            _set(probability_threshold, "probability_threshold", analysis_config)
        elif "predictor" in analysis_config:
            _set(model_predicted_label_config, "label", analysis_config["predictor"])
        return analysis_config

    @classmethod
    def _add_methods(
        cls, analysis_config, pre_training_methods=None, post_training_methods=None, explainability_config=None
    ):
        if not any([pre_training_methods, post_training_methods, explainability_config]):
            raise AttributeError(
                "analysis_config must have at least one working method: One of the `pre_training_methods`, "
                "`post_training_methods`, `explainability_config`."
            )
        analysis_config = {**analysis_config}
        methods = dict(analysis_config.get("methods", {}))
        methods["report"] = {"name": "report", "title": "Analysis Report"}
        if pre_training_methods:
            methods["pre_training_bias"] = {"methods": pre_training_methods}
        if post_training_methods:
            methods["post_training_bias"] = {"methods": post_training_methods}
        if explainability_config is not None:
            methods.update(cls._merge_explainability_configs(explainability_config))
        analysis_config["methods"] = methods
        return analysis_config

    @classmethod
    def _merge_explainability_configs(cls, explainability_config):
        if not isinstance(explainability_config, list):
            methods = explainability_config.get_explainability_config()
            if isinstance(explainability_config, PDPConfig) and "features" not in methods["pdp"]:
                raise ValueError("PDP features must be provided when ShapConfig is not provided")
            return methods
        if not explainability_config:
            raise ValueError("Please provide at least one explainability config.")
        methods = {}
        for config in explainability_config:
            methods.update(config.get_explainability_config())
        if len(methods) != len(explainability_config):
            raise ValueError("Duplicate explainability configs are provided")
        if "shap" not in methods and "features" not in methods["pdp"]:
            raise ValueError("PDP features must be provided when ShapConfig is not provided")
        return methods


class ProcessingOutputHandler:
    """Chooses the upload mode of the Clarify output."""

    class S3UploadMode(Enum):
        """Upload modes of a processing output."""

        CONTINUOUS = "Continuous"
        ENDOFJOB = "EndOfJob"

    @classmethod
    def get_s3_upload_mode(cls, analysis_config: dict) -> str:
        """Image datasets stream their (large) results; every other dataset uploads at the end."""
        if analysis_config["dataset_type"] == DatasetType.IMAGE.value:
            return cls.S3UploadMode.CONTINUOUS.value
        return cls.S3UploadMode.ENDOFJOB.value


def _store_analysis_config(analysis_config: dict, s3_output_path, sagemaker_session, kms_key) -> str:
    """Store ``analysis_config`` as ``analysis_config.json`` under the ``s3_output_path`` prefix; return its URI."""
    return s3.S3Uploader.upload_string_as_file_body(
        body=json.dumps(analysis_config),
        desired_s3_uri=s3.s3_path_join(s3_output_path, "analysis_config.json"),
        kms_key=kms_key,
        sagemaker_session=sagemaker_session,
    )


def _analysis_job_io(data_config, analysis_config: dict, sagemaker_session, kms_key):
    """Store ``analysis_config.json`` and build the Clarify job's dataset input, config input and result output.

    The config goes under ``s3_analysis_config_output_path`` (default ``s3_output_path``), where the
    SDK uploads it. Returns ``(data_input, config_input, result_output)``.
    """
    config_uri = _store_analysis_config(
        analysis_config,
        data_config.s3_analysis_config_output_path or data_config.s3_output_path,
        sagemaker_session,
        kms_key,
    )
    # Both inputs are whole S3 prefixes copied into the container before the job starts.
    prefix_input = functools.partial(ProcessingInput, s3_data_type="S3Prefix", s3_input_mode="File")
    data_input = prefix_input(
        source=data_config.s3_data_input_path,
        destination=SageMakerClarifyProcessor._CLARIFY_DATA_INPUT,
        input_name="dataset",
        s3_data_distribution_type=data_config.s3_data_distribution_type,
        s3_compression_type=data_config.s3_compression_type,
    )
    config_input = prefix_input(
        source=config_uri,
        destination=SageMakerClarifyProcessor._CLARIFY_CONFIG_INPUT,
        input_name="analysis_config",
        s3_compression_type="None",
    )
    result_output = ProcessingOutput(
        source=SageMakerClarifyProcessor._CLARIFY_OUTPUT,
        destination=data_config.s3_output_path,
        output_name="analysis_result",
        s3_upload_mode=ProcessingOutputHandler.get_s3_upload_mode(analysis_config),
    )
    return data_input, config_input, result_output
