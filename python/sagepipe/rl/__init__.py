"""Reinforcement learning estimators (mirror of ``sagemaker.rl``)."""

from sagepipe.rl.estimator import (  # noqa: F401
    TOOLKIT_FRAMEWORK_VERSION_MAP,
    RLEstimator,
    RLFramework,
    RLToolkit,
)

__all__ = ["RLEstimator", "RLFramework", "RLToolkit", "TOOLKIT_FRAMEWORK_VERSION_MAP"]
