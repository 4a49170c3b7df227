"""The TensorFlow script-mode estimator (mirror of ``sagemaker.tensorflow.estimator``).

Locally the training script runs with the user's own Python and TensorFlow; ``model_dir`` is
passed to it as on SageMaker (an S3 URI unless ``model_dir=False``); ``SM_MODEL_DIR`` is the local
directory whose contents become ``model.tar.gz``.
"""

from typing import Dict, Optional, Union

from sagepipe import image_uris, s3
from sagepipe.estimator import EstimatorBase, Framework, _default_sagemaker_metrics
from sagepipe.fw_utils import validate_version_or_image_args, version_tuple
from sagepipe.tensorflow.model import TensorFlowModel
from sagepipe.workflow import is_pipeline_variable
from sagepipe.workflow.entities import PipelineVariable


class TensorFlow(Framework):
    """Handle end-to-end training of TensorFlow scripts (script mode)."""

    _framework_name = "tensorflow"
    _HIGHEST_LEGACY_MODE_ONLY_VERSION = "1.10.0"

    def __init__(
        self,
        py_version: Optional[str] = None,
        framework_version: Optional[str] = None,
        model_dir: Optional[Union[str, PipelineVariable]] = None,
        image_uri: Optional[Union[str, PipelineVariable]] = None,
        distribution: Optional[Dict[str, str]] = None,
        compiler_config=None,
        **kwargs,
    ):
        """A TensorFlow estimator.

        Args:
            py_version (str): Python version of the image (e.g. ``py39``).
            framework_version (str): TensorFlow version; with ``py_version`` required unless
                ``image_uri`` is given. Versions up to 1.10 (legacy mode only) need ``image_uri``.
            model_dir (str or PipelineVariable or False): The ``model_dir`` hyperparameter
                (default: ``<output_path>/<job>/model``; False leaves it out).
            image_uri (str or PipelineVariable): An image to use instead of the framework image.
            distribution (dict): ``parameter_server``, ``mpi``, ``smdistributed`` or
                ``multi_worker_mirrored_strategy`` settings (hyperparameters; one local host).
            compiler_config: Not supported locally.
            **kwargs: ``entry_point``, ``source_dir``, ``hyperparameters`` and the other
                arguments of :class:`sagepipe.estimator.Framework`.
        """
        if compiler_config is not None:
            raise NotImplementedError("SageMaker Training Compiler (compiler_config=) only runs on AWS images.")
        validate_version_or_image_args(framework_version, py_version, image_uri)
        self.framework_version = framework_version
        self.py_version = py_version
        _default_sagemaker_metrics(kwargs, framework_version, "1.15")
        super().__init__(image_uri=image_uri, **kwargs)
        self.model_dir = model_dir
        self.distribution = distribution or {}
        self.compiler_config = None
        if py_version == "py2" and version_tuple(framework_version) > version_tuple("2.1.1"):
            raise AttributeError(
                "Python 2 containers are only available with 2.1.1 and lower versions. Please use a Python 3 container."
            )
        if self.image_uri is None and version_tuple(framework_version) <= version_tuple(
            self._HIGHEST_LEGACY_MODE_ONLY_VERSION
        ):
            legacy_image_uri = image_uris.retrieve(
                "tensorflow",
                self.sagemaker_session.boto_region_name,
                instance_type=self.instance_type,
                version=self.framework_version,
                py_version=self.py_version,
                image_scope="training",
            )
            raise ValueError(
                f"TF {self.framework_version} supports only legacy mode. Please supply the image URI directly with "
                f"'image_uri={legacy_image_uri}' and set 'model_dir=False'. If you are using any legacy parameters "
                "(training_steps, evaluation_steps, checkpoint_path, requirements_file), make sure to pass them "
                "directly as hyperparameters instead."
            )

    def hyperparameters(self):
        """The hyperparameters of the job, with ``model_dir`` and the distribution settings (JSON-encoded)."""
        hyperparameters = super().hyperparameters()
        additional = self._distribution_configuration(self.distribution)
        if self.model_dir is not False:
            self.model_dir = self.model_dir or self._default_s3_path(
                "model", mpi=additional.get(self.LAUNCH_MPI_ENV_NAME, False)
            )
            additional["model_dir"] = self.model_dir
        hyperparameters.update(EstimatorBase._json_encode_hyperparameters(additional))
        return hyperparameters

    def _default_s3_path(self, directory, mpi=False):
        if mpi:
            return "/opt/ml/model"
        if self._current_job_name:
            if is_pipeline_variable(self.output_path):
                return s3.default_bucket_uri(self.sagemaker_session, self._current_job_name, directory)
            return s3.s3_path_join(self.output_path, self._current_job_name, directory)
        return None

    def create_model(
        self,
        role=None,
        vpc_config_override="VPC_CONFIG_DEFAULT",
        entry_point=None,
        source_dir=None,
        dependencies=None,
        **kwargs,
    ) -> TensorFlowModel:
        """A ``TensorFlowModel`` serving this estimator's SavedModel (with ``entry_point`` handlers if given)."""
        kwargs["name"] = self._get_or_create_name(kwargs.get("name"))
        if "image_uri" not in kwargs:
            kwargs["image_uri"] = self.image_uri
        if "enable_network_isolation" not in kwargs:
            kwargs["enable_network_isolation"] = self.enable_network_isolation()
        return TensorFlowModel(
            model_data=self.model_data,
            role=role or self.role,
            container_log_level=self.container_log_level,
            framework_version=self.framework_version,
            sagemaker_session=self.sagemaker_session,
            vpc_config=self.get_vpc_config(vpc_config_override),
            entry_point=entry_point,
            source_dir=source_dir,
            dependencies=dependencies,
            **kwargs,
        )
