"""The Scikit-learn model (mirror of ``sagemaker.sklearn.model``)."""

from sagepipe.model import _VersionedFrameworkModel
from sagepipe.predictor import Predictor
from sagepipe.sklearn.defaults import SKLEARN_NAME


class SKLearnPredictor(Predictor):
    """A predictor of a Scikit-learn endpoint (endpoints are not deployed by sagepipe)."""


class SKLearnModel(_VersionedFrameworkModel):
    """A Scikit-learn model served in script mode (``model_fn``/``input_fn``/``predict_fn``/``output_fn``).

    Arguments: ``model_data``, ``role``, ``entry_point``, ``framework_version``, ``py_version``
    (only ``py3``), ``image_uri``, ``predictor_cls``, ``model_server_workers`` and those of
    :class:`sagepipe.model.FrameworkModel`. The code is uploaded beside the model, or repacked into
    it when network isolation is on.
    """

    _framework_name = SKLEARN_NAME
    _instance_type_required = False
    _registers_framework_version = False
    _serving_image_scope = None

    def __init__(
        self,
        model_data,
        role=None,
        entry_point=None,
        framework_version=None,
        py_version="py3",
        image_uri=None,
        predictor_cls=SKLearnPredictor,
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
        super()._validate_versions(framework_version, py_version, image_uri)
        if py_version and py_version != "py3":
            raise AttributeError("Scikit-learn image only supports Python 3. Please use 'py3' for py_version.")

    def _repack_on_serving(self) -> bool:
        return bool(self.enable_network_isolation())

    def prepare_container_def(self, instance_type=None, accelerator_type=None, *args, **kwargs):
        """The container definition (Scikit-learn images have no Elastic Inference)."""
        if accelerator_type:
            raise ValueError("Accelerator types are not supported for Scikit-Learn.")
        return super().prepare_container_def(instance_type, accelerator_type, *args, **kwargs)
