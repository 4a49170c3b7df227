"""Classes for using TensorFlow with sagepipe (mirror of ``sagemaker.tensorflow``)."""

from sagepipe.tensorflow.estimator import TensorFlow  # noqa: F401
from sagepipe.tensorflow.model import TensorFlowModel, TensorFlowPredictor  # noqa: F401
from sagepipe.tensorflow.processing import TensorFlowProcessor  # noqa: F401

__all__ = ["TensorFlow", "TensorFlowModel", "TensorFlowPredictor", "TensorFlowProcessor"]
