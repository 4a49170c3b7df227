"""The Scikit-Learn script-mode estimator (mirror of ``sagemaker.sklearn.estimator``)."""

from typing import Dict, Optional, Union

from sagepipe import image_uris
from sagepipe.estimator import Framework
from sagepipe.sklearn.defaults import SKLEARN_NAME
from sagepipe.sklearn.model import SKLearnModel
from sagepipe.workflow import is_pipeline_variable
from sagepipe.workflow.entities import PipelineVariable

_GPU_INSTANCE_TYPES = [
    "ml.p2.xlarge",
    "ml.p2.8xlarge",
    "ml.p2.16xlarge",
    "ml.p3.xlarge",
    "ml.p3.8xlarge",
    "ml.p3.16xlarge",
]


class SKLearn(Framework):
    """Handle end-to-end training of Scikit-learn scripts (script mode)."""

    _framework_name = SKLEARN_NAME

    def __init__(
        self,
        entry_point: Union[str, PipelineVariable],
        framework_version: Optional[str] = None,
        py_version: str = "py3",
        source_dir: Optional[Union[str, PipelineVariable]] = None,
        hyperparameters: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        image_uri: Optional[Union[str, PipelineVariable]] = None,
        image_uri_region: Optional[str] = None,
        **kwargs,
    ):
        """Creates a SKLearn Estimator for the SageMaker Scikit-learn container.

        Args:
            entry_point (str or PipelineVariable): The training script (relative to
                ``source_dir`` if given).
            framework_version (str): Scikit-learn version (e.g. ``1.2-1``); required unless
                ``image_uri`` is given.
            py_version (str): Python version (only ``py3``).
            source_dir (str or PipelineVariable): Directory with the training code.
            hyperparameters (dict): Hyperparameters passed to the script.
            image_uri (str or PipelineVariable): An image to use instead of the framework image.
            image_uri_region (str): Region of the framework image (default: the session region).
            **kwargs: Additional arguments of :class:`sagepipe.estimator.Framework`.

        Raises:
            ValueError: Neither ``framework_version`` nor ``image_uri``, or a GPU instance type.
            AttributeError: ``instance_count`` other than 1, or ``py_version`` other than py3.
        """
        if framework_version is None and image_uri is None:
            raise ValueError(
                "framework_version or image_uri must be provided. "
                "framework_version is required for script mode estimator."
            )
        if py_version and py_version != "py3":
            raise AttributeError("Scikit-learn image only supports Python 3. Please use 'py3' for py_version.")
        self.framework_version = framework_version
        self.py_version = py_version
        instance_type = kwargs.get("instance_type")
        if not is_pipeline_variable(instance_type) and instance_type in _GPU_INSTANCE_TYPES:
            raise ValueError("GPU training is not supported for Scikit-Learn.")
        instance_count = kwargs.get("instance_count")
        if instance_count:
            message = (
                "Scikit-Learn does not support distributed training. Please remove the 'instance_count' argument "
                "or set 'instance_count=1' when initializing SKLearn."
            )
            if is_pipeline_variable(instance_count):
                raise TypeError(
                    f"Invalid type of instance_count (PipelineVariable - {type(instance_count)}). " + message
                )
            if instance_count != 1:
                raise AttributeError(message)
        super().__init__(
            entry_point, source_dir, hyperparameters, image_uri=image_uri, **dict(kwargs, instance_count=1)
        )
        if image_uri is None:
            self.image_uri = image_uris.retrieve(
                SKLearn._framework_name,
                image_uri_region or self.sagemaker_session.boto_region_name,
                version=self.framework_version,
                py_version=self.py_version,
                instance_type=instance_type,
            )

    def create_model(
        self,
        model_server_workers=None,
        role=None,
        vpc_config_override="VPC_CONFIG_DEFAULT",
        entry_point=None,
        source_dir=None,
        dependencies=None,
        **kwargs,
    ) -> SKLearnModel:
        """A ``SKLearnModel`` serving this estimator's model artifacts with its code (or ``entry_point``)."""
        if "enable_network_isolation" not in kwargs:
            kwargs["enable_network_isolation"] = self.enable_network_isolation()
        return self._create_script_mode_model(
            SKLearnModel,
            model_server_workers,
            role,
            vpc_config_override,
            entry_point,
            source_dir,
            dependencies,
            **kwargs,
        )
