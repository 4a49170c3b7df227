"""The XGBoost script-mode model (mirror of ``sagemaker.xgboost.model``)."""

from sagepipe.model import _VersionedFrameworkModel
from sagepipe.predictor import Predictor
from sagepipe.xgboost.defaults import XGBOOST_NAME, XGBOOST_UNSUPPORTED_VERSIONS


class XGBoostPredictor(Predictor):
    """A predictor of an XGBoost endpoint (endpoints are not deployed by sagepipe)."""


class XGBoostModel(_VersionedFrameworkModel):
    """An XGBoost model served in script mode by the XGBoost framework image.

    Arguments: ``model_data``, ``role``, ``entry_point``, ``framework_version``, ``image_uri``,
    ``py_version`` (only ``py3``), ``predictor_cls``, ``model_server_workers`` and those of
    :class:`sagepipe.model.FrameworkModel`. The code is uploaded beside the model, or repacked into
    it when network isolation is on.
    """

    _framework_name = XGBOOST_NAME
    _instance_type_required = False
    _registers_framework_version = False
    _serving_image_scope = None

    def __init__(
        self,
        model_data,
        role=None,
        entry_point=None,
        framework_version=None,
        image_uri=None,
        py_version="py3",
        predictor_cls=XGBoostPredictor,
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

    def _validate_versions(self, framework_version, py_version, image_uri) -> None:
        if py_version != "py3":
            raise ValueError(f"Unsupported Python version: {py_version}.")
        if framework_version in XGBOOST_UNSUPPORTED_VERSIONS:
            raise ValueError(XGBOOST_UNSUPPORTED_VERSIONS[framework_version])

    def _image_uri_arguments(self):
        return {"version": self.framework_version}

    def _repack_on_serving(self) -> bool:
        return bool(self.enable_network_isolation())
