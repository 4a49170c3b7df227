"""Classes for using MXNet with sagepipe (mirror of ``sagemaker.mxnet``)."""

from sagepipe.mxnet.estimator import MXNet  # noqa: F401
from sagepipe.mxnet.model import MXNetModel, MXNetPredictor  # noqa: F401
from sagepipe.mxnet.processing import MXNetProcessor  # noqa: F401

__all__ = ["MXNet", "MXNetModel", "MXNetPredictor", "MXNetProcessor"]
