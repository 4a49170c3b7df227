"""Classes for using MXNet with sagepipe (mirror of ``sagemaker.mxnet``)."""

from sagepipe.mxnet.processing import MXNetProcessor  # noqa: F401

__all__ = ["MXNetProcessor"]
