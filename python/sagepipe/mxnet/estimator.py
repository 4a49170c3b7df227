"""The MXNet script-mode estimator (mirror of ``sagemaker.mxnet.estimator``)."""

from typing import Dict, Optional, Union

from sagepipe.estimator import Framework, _default_sagemaker_metrics
from sagepipe.fw_utils import validate_version_or_image_args, version_tuple
from sagepipe.mxnet.model import MXNetModel
from sagepipe.workflow.entities import PipelineVariable


class MXNet(Framework):
    """Handle end-to-end training of MXNet scripts (script mode)."""

    _framework_name = "mxnet"
    _LOWEST_SCRIPT_MODE_VERSION = ["1", "3"]

    def __init__(
        self,
        entry_point: Union[str, PipelineVariable],
        framework_version: Optional[str] = None,
        py_version: Optional[str] = None,
        source_dir: Optional[Union[str, PipelineVariable]] = None,
        hyperparameters: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        image_uri: Optional[Union[str, PipelineVariable]] = None,
        distribution: Optional[Dict[str, str]] = None,
        **kwargs,
    ):
        """An MXNet estimator.

        Args:
            entry_point (str or PipelineVariable): The training script.
            framework_version (str): MXNet version; with ``py_version`` required unless
                ``image_uri`` is given.
            py_version (str): Python version of the image (e.g. ``py37``).
            source_dir, hyperparameters, image_uri: As for :class:`sagepipe.estimator.Framework`.
            distribution (dict): ``parameter_server`` or ``mpi`` settings (hyperparameters of the
                container; one local host).
            **kwargs: Additional arguments of :class:`sagepipe.estimator.Framework`.
        """
        validate_version_or_image_args(framework_version, py_version, image_uri)
        self.framework_version = framework_version
        self.py_version = py_version
        _default_sagemaker_metrics(kwargs, framework_version, "1.6")
        super().__init__(entry_point, source_dir, hyperparameters, image_uri=image_uri, **kwargs)
        self._configure_distribution(distribution)

    def _configure_distribution(self, distribution):
        if distribution is None:
            return
        lowest = ".".join(self._LOWEST_SCRIPT_MODE_VERSION)
        if self.framework_version and version_tuple(self.framework_version) < version_tuple(lowest):
            raise ValueError(f"The distribution option is valid for only versions {lowest} and higher")
        if "parameter_server" in distribution:
            self._hyperparameters[self.LAUNCH_PS_ENV_NAME] = distribution["parameter_server"].get("enabled", False)
        if "mpi" in distribution:
            mpi = distribution["mpi"]
            self._hyperparameters[self.LAUNCH_MPI_ENV_NAME] = mpi.get("enabled", False)
            if mpi.get("processes_per_host"):
                self._hyperparameters[self.MPI_NUM_PROCESSES_PER_HOST] = mpi.get("processes_per_host")
                self._hyperparameters[self.MPI_CUSTOM_MPI_OPTIONS] = mpi.get("custom_mpi_options", "")

    def create_model(
        self,
        model_server_workers=None,
        role=None,
        vpc_config_override="VPC_CONFIG_DEFAULT",
        entry_point=None,
        source_dir=None,
        dependencies=None,
        image_uri=None,
        **kwargs,
    ) -> MXNetModel:
        """An ``MXNetModel`` serving this estimator's model artifacts with its code (or ``entry_point``)."""
        if "image_uri" not in kwargs:
            kwargs["image_uri"] = image_uri or self.image_uri
        model = self._create_framework_model(
            MXNetModel,
            role,
            vpc_config_override,
            entry_point,
            source_dir,
            dependencies,
            framework_version=self.framework_version,
            py_version=self.py_version,
            model_server_workers=model_server_workers,
            **kwargs,
        )
        if entry_point is None:
            # MMS images (1.4.0 on) repack the local script; older ones read the uploaded code.
            model.entry_point = self.entry_point if model._is_mms_version() else self._model_entry_point()
        return model
