"""The PyTorch processor (mirror of ``sagemaker.pytorch.processing``)."""

from sagepipe.processing import _SingleFrameworkProcessor
from sagepipe.pytorch.estimator import PyTorch


class PyTorchProcessor(_SingleFrameworkProcessor):
    """Handles processing tasks for jobs using PyTorch containers (a ``FrameworkProcessor``).

    Unless ``image_uri`` is given, the image is the PyTorch training image of ``framework_version``
    and ``py_version``.
    """

    estimator_cls = PyTorch
