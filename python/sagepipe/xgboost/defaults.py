"""XGBoost defaults (mirror of ``sagemaker.xgboost.defaults``)."""

XGBOOST_NAME = "xgboost"
XGBOOST_UNSUPPORTED_VERSIONS = {
    "1.1": (
        "XGBoost 1.1 is not supported on SageMaker because XGBoost 1.1 has broken capability to run prediction "
        "when the test input has fewer features than the training data in LIBSVM inputs. Consider using "
        "SageMaker XGBoost 1.2-1."
    ),
}
