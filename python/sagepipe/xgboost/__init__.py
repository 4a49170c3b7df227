"""Classes for using XGBoost with sagepipe (mirror of ``sagemaker.xgboost``)."""

from sagepipe.xgboost.defaults import XGBOOST_NAME  # noqa: F401
from sagepipe.xgboost.estimator import XGBoost  # noqa: F401
from sagepipe.xgboost.model import XGBoostModel, XGBoostPredictor  # noqa: F401
from sagepipe.xgboost.processing import XGBoostProcessor  # noqa: F401

__all__ = ["XGBOOST_NAME", "XGBoost", "XGBoostModel", "XGBoostPredictor", "XGBoostProcessor"]
