"""Classes for using PyTorch with sagepipe (mirror of ``sagemaker.pytorch``)."""

from sagepipe.pytorch.processing import PyTorchProcessor  # noqa: F401

__all__ = ["PyTorchProcessor"]
