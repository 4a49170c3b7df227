"""Drift check baselines of a model package (mirror of ``sagemaker.drift_check_baselines``)."""

from typing import Optional

from sagepipe.model_metrics import FileSource, MetricsSource, _pair, _quality_groups

__all__ = ["DriftCheckBaselines"]


class DriftCheckBaselines:
    """Accepts drift check baselines parameters for conversion to request dict."""

    def __init__(
        self,
        model_statistics: Optional[MetricsSource] = None,
        model_constraints: Optional[MetricsSource] = None,
        model_data_statistics: Optional[MetricsSource] = None,
        model_data_constraints: Optional[MetricsSource] = None,
        bias_config_file: Optional[FileSource] = None,
        bias_pre_training_constraints: Optional[MetricsSource] = None,
        bias_post_training_constraints: Optional[MetricsSource] = None,
        explainability_constraints: Optional[MetricsSource] = None,
        explainability_config_file: Optional[FileSource] = None,
    ):
        """Initialize a ``DriftCheckBaselines`` instance."""
        self.model_statistics = model_statistics
        self.model_constraints = model_constraints
        self.model_data_statistics = model_data_statistics
        self.model_data_constraints = model_data_constraints
        self.bias_config_file = bias_config_file
        self.bias_pre_training_constraints = bias_pre_training_constraints
        self.bias_post_training_constraints = bias_post_training_constraints
        self.explainability_constraints = explainability_constraints
        self.explainability_config_file = explainability_config_file

    def _to_request_dict(self):
        """Generates a request dictionary (empty groups left out, as the SDK)."""
        request = _quality_groups(self)
        bias = {}
        if self.bias_config_file is not None:
            bias["ConfigFile"] = self.bias_config_file._to_request_dict()
        bias.update(
            _pair(
                "PreTrainingConstraints",
                self.bias_pre_training_constraints,
                "PostTrainingConstraints",
                self.bias_post_training_constraints,
            )
        )
        if bias:
            request["Bias"] = bias
        explainability = _pair(
            "Constraints", self.explainability_constraints, "ConfigFile", self.explainability_config_file
        )
        if explainability:
            request["Explainability"] = explainability
        return request
