"""Model metrics of a model package (mirror of ``sagemaker.model_metrics``)."""

from typing import Optional, Union

from sagepipe.workflow.entities import PipelineVariable

__all__ = ["FileSource", "MetricsSource", "ModelMetrics"]


class ModelMetrics:
    """Accepts model metrics parameters for conversion to request dict."""

    def __init__(
        self,
        model_statistics: Optional["MetricsSource"] = None,
        model_constraints: Optional["MetricsSource"] = None,
        model_data_statistics: Optional["MetricsSource"] = None,
        model_data_constraints: Optional["MetricsSource"] = None,
        bias: Optional["MetricsSource"] = None,
        explainability: Optional["MetricsSource"] = None,
        bias_pre_training: Optional["MetricsSource"] = None,
        bias_post_training: Optional["MetricsSource"] = None,
    ):
        """Initialize a ``ModelMetrics`` instance (each argument a :class:`MetricsSource`)."""
        self.model_statistics = model_statistics
        self.model_constraints = model_constraints
        self.model_data_statistics = model_data_statistics
        self.model_data_constraints = model_data_constraints
        self.bias = bias
        self.bias_pre_training = bias_pre_training
        self.bias_post_training = bias_post_training
        self.explainability = explainability

    def _to_request_dict(self):
        """Generates a request dictionary (``Bias`` and ``Explainability`` always present, as the SDK)."""
        request = _quality_groups(self)
        bias = {}
        if self.bias is not None:
            bias["Report"] = self.bias._to_request_dict()
        if self.bias_pre_training is not None:
            bias["PreTrainingReport"] = self.bias_pre_training._to_request_dict()
        if self.bias_post_training is not None:
            bias["PostTrainingReport"] = self.bias_post_training._to_request_dict()
        request["Bias"] = bias
        explainability = {}
        if self.explainability is not None:
            explainability["Report"] = self.explainability._to_request_dict()
        request["Explainability"] = explainability
        return request


def _quality_groups(metrics) -> dict:
    """The ``ModelQuality`` and ``ModelDataQuality`` groups of model metrics or drift check baselines.

    Each holds the ``Statistics`` and ``Constraints`` given; a group with neither is left out.
    """
    request = {}
    model_quality = _pair("Statistics", metrics.model_statistics, "Constraints", metrics.model_constraints)
    if model_quality:
        request["ModelQuality"] = model_quality
    model_data_quality = _pair(
        "Statistics", metrics.model_data_statistics, "Constraints", metrics.model_data_constraints
    )
    if model_data_quality:
        request["ModelDataQuality"] = model_data_quality
    return request


def _pair(first_key, first, second_key, second) -> dict:
    out = {}
    if first is not None:
        out[first_key] = first._to_request_dict()
    if second is not None:
        out[second_key] = second._to_request_dict()
    return out


class MetricsSource:
    """A metrics file: its content type, S3 URI and optional digest."""

    def __init__(
        self,
        content_type: Union[str, PipelineVariable],
        s3_uri: Union[str, PipelineVariable],
        content_digest: Optional[Union[str, PipelineVariable]] = None,
    ):
        self.content_type = content_type
        self.s3_uri = s3_uri
        self.content_digest = content_digest

    def _to_request_dict(self):
        request = {"ContentType": self.content_type, "S3Uri": self.s3_uri}
        if self.content_digest is not None:
            request["ContentDigest"] = self.content_digest
        return request


class FileSource:
    """A file: its S3 URI and optional digest and content type."""

    def __init__(
        self,
        s3_uri: Union[str, PipelineVariable],
        content_digest: Optional[Union[str, PipelineVariable]] = None,
        content_type: Optional[Union[str, PipelineVariable]] = None,
    ):
        self.content_type = content_type
        self.s3_uri = s3_uri
        self.content_digest = content_digest

    def _to_request_dict(self):
        request = {"S3Uri": self.s3_uri}
        if self.content_digest is not None:
            request["ContentDigest"] = self.content_digest
        if self.content_type is not None:
            request["ContentType"] = self.content_type
        return request
