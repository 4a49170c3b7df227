"""The Hugging Face model (mirror of ``sagemaker.huggingface.model``)."""

from sagepipe.model import FrameworkModel
from sagepipe.predictor import Predictor


class HuggingFacePredictor(Predictor):
    """A predictor of a Hugging Face endpoint (endpoints are not deployed by sagepipe)."""


def fetch_framework_and_framework_version(tensorflow_version, pytorch_version):
    """The base framework of a Hugging Face image: ``("tensorflow", v)`` or ``("pytorch", v)``."""
    if tensorflow_version is not None:
        return "tensorflow", tensorflow_version
    return "pytorch", pytorch_version


def _validate_pt_tf_versions(pytorch_version, tensorflow_version, image_uri):
    if image_uri is not None:
        return
    if tensorflow_version is not None and pytorch_version is not None:
        raise ValueError(
            "tensorflow_version and pytorch_version are both not None. "
            "Specify only tensorflow_version or pytorch_version."
        )
    if tensorflow_version is None and pytorch_version is None:
        raise ValueError(
            "tensorflow_version and pytorch_version are both None. "
            "Specify either tensorflow_version or pytorch_version."
        )


class HuggingFaceModel(FrameworkModel):
    """A Hugging Face model served by the Hugging Face inference toolkit (script mode).

    The code is always repacked into the model artifacts (``code/``). Locally a transform step
    serves it with the script's ``model_fn``/``input_fn``/``predict_fn``/``output_fn`` on the
    user's installed ``transformers``.
    """

    _framework_name = "huggingface"
    _passes_image_config = True

    def __init__(
        self,
        role=None,
        model_data=None,
        entry_point=None,
        transformers_version=None,
        tensorflow_version=None,
        pytorch_version=None,
        py_version=None,
        image_uri=None,
        predictor_cls=HuggingFacePredictor,
        model_server_workers=None,
        **kwargs,
    ):
        """Initialize a ``HuggingFaceModel``.

        Args:
            role (str): An IAM role ARN (recorded).
            model_data (str or PipelineVariable): The S3 location of the model artifacts.
            entry_point (str): The inference script.
            transformers_version (str): Transformers version of the image.
            tensorflow_version, pytorch_version (str): The base framework version (one of them).
            py_version (str): Python version of the image.
            image_uri (str): An image to use instead of the framework image.
            predictor_cls: Recorded.
            model_server_workers (int): ``SAGEMAKER_MODEL_SERVER_WORKERS``.
            **kwargs: Other arguments of :class:`sagepipe.model.FrameworkModel`.
        """
        from sagepipe.fw_utils import validate_version_or_image_args

        validate_version_or_image_args(transformers_version, py_version, image_uri)
        _validate_pt_tf_versions(pytorch_version, tensorflow_version, image_uri)
        if py_version == "py2":
            raise ValueError("py2 is not supported with HuggingFace images")
        self.framework_version = transformers_version
        self.pytorch_version = pytorch_version
        self.tensorflow_version = tensorflow_version
        self.py_version = py_version
        super().__init__(model_data, image_uri, role, entry_point, predictor_cls=predictor_cls, **kwargs)
        self._init_sagemaker_session_if_does_not_exist()
        self.model_server_workers = model_server_workers

    def _image_uri_arguments(self):
        base, version = fetch_framework_and_framework_version(self.tensorflow_version, self.pytorch_version)
        return {
            "version": self.framework_version,
            "py_version": self.py_version,
            "base_framework_version": base + version,
        }

    def _registered_framework(self):
        return fetch_framework_and_framework_version(self.tensorflow_version, self.pytorch_version)

    def _repack_on_serving(self) -> bool:
        return True
