"""Scikit-Learn defaults (mirror of ``sagemaker.sklearn.defaults``)."""

SKLEARN_NAME = "sklearn"
