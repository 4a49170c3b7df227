"""Classes for using PyTorch with sagepipe (mirror of ``sagemaker.pytorch``)."""

from sagepipe.pytorch.estimator import PyTorch  # noqa: F401
from sagepipe.pytorch.model import PyTorchModel, PyTorchPredictor  # noqa: F401
from sagepipe.pytorch.processing import PyTorchProcessor  # noqa: F401

__all__ = ["PyTorch", "PyTorchModel", "PyTorchPredictor", "PyTorchProcessor"]
