"""Classes for using XGBoost with sagepipe (mirror of ``sagemaker.xgboost``)."""

from sagepipe.xgboost.estimator import XGBoost  # noqa: F401
from sagepipe.xgboost.processing import XGBoostProcessor  # noqa: F401

__all__ = ["XGBoost", "XGBoostProcessor"]
