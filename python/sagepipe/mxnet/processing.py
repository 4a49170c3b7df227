"""The MXNet processor (mirror of ``sagemaker.mxnet.processing``)."""

from sagepipe.mxnet.estimator import MXNet
from sagepipe.processing import _SingleFrameworkProcessor


class MXNetProcessor(_SingleFrameworkProcessor):
    """Handles processing tasks for jobs using MXNet containers (a ``FrameworkProcessor``).

    Unless ``image_uri`` is given, the image is the MXNet training image of ``framework_version``
    and ``py_version``.
    """

    estimator_cls = MXNet
