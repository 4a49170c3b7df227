"""The PyTorch model (mirror of ``sagemaker.pytorch.model``)."""

from sagepipe.model import _VersionedFrameworkModel
from sagepipe.predictor import Predictor


class PyTorchPredictor(Predictor):
    """A predictor of a PyTorch endpoint (endpoints are not deployed by sagepipe)."""


class PyTorchModel(_VersionedFrameworkModel):
    """A PyTorch model served in script mode (``model_fn``/``input_fn``/``predict_fn``/``output_fn``).

    Arguments: ``model_data``, ``role``, ``entry_point``, ``framework_version`` (default
    ``1.3``), ``py_version``, ``image_uri``, ``predictor_cls``, ``model_server_workers`` and
    those of :class:`sagepipe.model.FrameworkModel`. From PyTorch 1.2 on the code is repacked
    into the model artifacts (``code/``), as the Multi Model Server images expect.
    """

    _framework_name = "pytorch"
    _LOWEST_MMS_VERSION = "1.2"

    def __init__(
        self,
        model_data,
        role=None,
        entry_point=None,
        framework_version: str = "1.3",
        py_version=None,
        image_uri=None,
        predictor_cls=PyTorchPredictor,
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
