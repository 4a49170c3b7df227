"""The TensorFlow processor (mirror of ``sagemaker.tensorflow.processing``)."""

from sagepipe.processing import _SingleFrameworkProcessor
from sagepipe.tensorflow.estimator import TensorFlow


class TensorFlowProcessor(_SingleFrameworkProcessor):
    """Handles processing tasks for jobs using TensorFlow containers (a ``FrameworkProcessor``).

    Unless ``image_uri`` is given, the image is the TensorFlow training image of ``framework_version``
    and ``py_version``.
    """

    estimator_cls = TensorFlow
