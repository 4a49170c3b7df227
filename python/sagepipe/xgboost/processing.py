"""The XGBoost processor (mirror of ``sagemaker.xgboost.processing``)."""

from sagepipe.processing import _SingleFrameworkProcessor
from sagepipe.xgboost.estimator import XGBoost


class XGBoostProcessor(_SingleFrameworkProcessor):
    """Handles processing tasks for jobs using XGBoost containers (a ``FrameworkProcessor``).

    Unless ``image_uri`` is given, the image is the XGBoost training image of ``framework_version``
    and ``py_version``.
    """

    estimator_cls = XGBoost
