"""Endpoint predictors (mirror of ``sagemaker.predictor``).

A ``Predictor`` sends requests to a deployed SageMaker endpoint. sagepipe runs pipelines locally
and deploys no endpoints, so the class exists for imports and ``predictor_cls=`` arguments, and
constructing one fails saying what to use instead.
"""


class Predictor:
    """Base of every ``*Predictor`` class (framework and built-in algorithm predictors derive from it)."""

    def __init__(self, endpoint_name, sagemaker_session=None, *args, **kwargs):
        raise NotImplementedError(
            f"{type(self).__name__} sends requests to the SageMaker endpoint {endpoint_name!r}; sagepipe runs "
            "pipelines locally and deploys no endpoints. Use a TransformStep to run the model on data."
        )
