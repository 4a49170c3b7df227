"""The XGBoost script-mode estimator (mirror of ``sagemaker.xgboost.estimator``)."""

from typing import Dict, Optional, Union

from sagepipe import image_uris
from sagepipe.estimator import Framework
from sagepipe.workflow.entities import PipelineVariable
from sagepipe.xgboost.defaults import XGBOOST_NAME, XGBOOST_UNSUPPORTED_VERSIONS
from sagepipe.xgboost.model import XGBoostModel


class XGBoost(Framework):
    """Handle end-to-end training of XGBoost scripts (script mode, ``framework_version`` required)."""

    _framework_name = XGBOOST_NAME

    def __init__(
        self,
        entry_point: Union[str, PipelineVariable],
        framework_version: str,
        source_dir: Optional[Union[str, PipelineVariable]] = None,
        hyperparameters: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        py_version: str = "py3",
        image_uri: Optional[Union[str, PipelineVariable]] = None,
        image_uri_region: Optional[str] = None,
        **kwargs,
    ):
        """An estimator that executes an XGBoost-based SageMaker Training Job.

        Args:
            entry_point (str or PipelineVariable): The training script (relative to
                ``source_dir`` if given).
            framework_version (str): XGBoost version (e.g. ``1.7-1``).
            source_dir (str or PipelineVariable): Directory with the training code.
            hyperparameters (dict): Hyperparameters passed to the script.
            py_version (str): Python version (only ``py3``).
            image_uri (str or PipelineVariable): An image to use instead of the framework image.
            image_uri_region (str): Region of the framework image (default: the session region).
            **kwargs: Additional arguments of :class:`sagepipe.estimator.Framework`.

        Raises:
            ValueError: An unsupported framework or Python version.
        """
        super().__init__(entry_point, source_dir, hyperparameters, image_uri=image_uri, **kwargs)
        self.py_version = py_version
        self.framework_version = framework_version
        if py_version != "py3":
            raise ValueError(f"Unsupported Python version: {py_version}.")
        if framework_version in XGBOOST_UNSUPPORTED_VERSIONS:
            raise ValueError(XGBOOST_UNSUPPORTED_VERSIONS[framework_version])
        if image_uri is None:
            self.image_uri = image_uris.retrieve(
                self._framework_name,
                image_uri_region or self.sagemaker_session.boto_region_name,
                version=framework_version,
                py_version=self.py_version,
                instance_type=kwargs.get("instance_type"),
                image_scope="training",
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
    ) -> XGBoostModel:
        """A ``XGBoostModel`` serving this estimator's model artifacts with its code (or ``entry_point``)."""
        return self._create_script_mode_model(
            XGBoostModel,
            model_server_workers,
            role,
            vpc_config_override,
            entry_point,
            source_dir,
            dependencies,
            **kwargs,
        )
