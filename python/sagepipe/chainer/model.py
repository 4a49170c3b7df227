"""The Chainer model (mirror of ``sagemaker.chainer.model``)."""

from sagepipe.model import _VersionedFrameworkModel
from sagepipe.predictor import Predictor


class ChainerPredictor(Predictor):
    """A predictor of a Chainer endpoint (endpoints are not deployed by sagepipe)."""


class ChainerModel(_VersionedFrameworkModel):
    """A Chainer model served in script mode; its code is uploaded beside the model (never repacked).

    Arguments: ``model_data``, ``role``, ``entry_point``, ``image_uri``, ``framework_version``,
    ``py_version``, ``predictor_cls``, ``model_server_workers`` and those of
    :class:`sagepipe.model.FrameworkModel`.
    """

    _framework_name = "chainer"

    def __init__(
        self,
        model_data,
        role=None,
        entry_point=None,
        image_uri=None,
        framework_version=None,
        py_version=None,
        predictor_cls=ChainerPredictor,
        model_server_workers=None,
        **kwargs,
    ):
        super().__init__(
            model_data,
            role,
            entry_point,
            framework_version=framework_version,
            py_version=py_version,
            image_uri=image_uri,
            predictor_cls=predictor_cls,
            model_server_workers=model_server_workers,
            **kwargs,
        )

    def _repack_on_serving(self) -> bool:
        return False
