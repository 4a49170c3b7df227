"""The MXNet model (mirror of ``sagemaker.mxnet.model``)."""

from sagepipe.model import _VersionedFrameworkModel
from sagepipe.predictor import Predictor


class MXNetPredictor(Predictor):
    """A predictor of an MXNet endpoint (endpoints are not deployed by sagepipe)."""


class MXNetModel(_VersionedFrameworkModel):
    """An MXNet model served in script mode.

    Arguments: ``model_data``, ``role``, ``entry_point``, ``framework_version`` (default
    ``1.4.0``), ``py_version``, ``image_uri``, ``predictor_cls``, ``model_server_workers`` and
    those of :class:`sagepipe.model.FrameworkModel`. From MXNet 1.4.0 on the code is repacked into
    the model artifacts.
    """

    _framework_name = "mxnet"
    _LOWEST_MMS_VERSION = "1.4.0"

    def __init__(
        self,
        model_data,
        role=None,
        entry_point=None,
        framework_version: str = _LOWEST_MMS_VERSION,
        py_version=None,
        image_uri=None,
        predictor_cls=MXNetPredictor,
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
        return self._is_mms_version()
