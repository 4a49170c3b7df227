"""Classes for using TensorFlow with sagepipe (mirror of ``sagemaker.tensorflow``)."""

from sagepipe.tensorflow.processing import TensorFlowProcessor  # noqa: F401

__all__ = ["TensorFlowProcessor"]
