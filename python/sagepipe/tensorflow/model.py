"""The TensorFlow Serving model (mirror of ``sagemaker.tensorflow.model``).

The container is TensorFlow Serving: it serves the SavedModel in the model artifacts, with an
optional ``inference.py`` (``input_handler``/``output_handler``) repacked into ``code/``. It is not
a script-mode server: locally a transform step cannot serve it and says so before running.
"""

import logging

from sagepipe import s3
from sagepipe._job_requests import container_def
from sagepipe.fw_utils import model_code_key_prefix
from sagepipe.model import FrameworkModel
from sagepipe.predictor import Predictor
from sagepipe.workflow import is_pipeline_variable
from sagepipe.workflow.pipeline_context import PipelineSession

logger = logging.getLogger(__name__)


class TensorFlowPredictor(Predictor):
    """A predictor of a TensorFlow Serving endpoint (endpoints are not deployed by sagepipe)."""


class TensorFlowModel(FrameworkModel):
    """A TensorFlow SavedModel served by TensorFlow Serving."""

    _framework_name = "tensorflow"
    LOG_LEVEL_PARAM_NAME = "SAGEMAKER_TFS_NGINX_LOGLEVEL"
    LOG_LEVEL_MAP = {
        logging.DEBUG: "debug",
        logging.INFO: "info",
        logging.WARNING: "warn",
        logging.ERROR: "error",
        logging.CRITICAL: "crit",
    }
    LATEST_EIA_VERSION = [2, 3]

    def __init__(
        self,
        model_data,
        role=None,
        entry_point=None,
        image_uri=None,
        framework_version=None,
        container_log_level=None,
        predictor_cls=TensorFlowPredictor,
        **kwargs,
    ):
        """Initialize a ``TensorFlowModel``.

        Args:
            model_data (str or PipelineVariable): The S3 location of the SavedModel artifacts.
            role (str): An IAM role ARN (recorded).
            entry_point (str): An optional ``inference.py`` with pre/post-processing handlers.
            image_uri (str): The serving image (default: from ``framework_version``).
            framework_version (str): TensorFlow Serving version.
            container_log_level (int): The nginx log level (``SAGEMAKER_TFS_NGINX_LOGLEVEL``).
            predictor_cls: Recorded.
            **kwargs: Other arguments of :class:`sagepipe.model.FrameworkModel`.

        Raises:
            ValueError: Neither ``framework_version`` nor ``image_uri``.
        """
        if framework_version is None and image_uri is None:
            raise ValueError(
                "Both framework_version and image_uri were None. Either specify framework_version or specify image_uri."
            )
        self.framework_version = framework_version
        # Two training versions have no serving image of the same number.
        self.inference_framework_version = {"2.12.0": "2.12.1", "2.16.2": "2.16.1"}.get(
            framework_version, framework_version
        )
        super().__init__(
            model_data=model_data,
            role=role,
            image_uri=image_uri,
            predictor_cls=predictor_cls,
            entry_point=entry_point,
            **kwargs,
        )
        self._container_log_level = container_log_level

    def _image_uri_arguments(self):
        return {"version": self.inference_framework_version}

    def _get_container_env(self):
        if not self._container_log_level:
            return self.env
        if self._container_log_level not in self.LOG_LEVEL_MAP:
            logger.warning("ignoring invalid container log level: %s", self._container_log_level)
            return self.env
        env = dict(self.env)
        env[self.LOG_LEVEL_PARAM_NAME] = self.LOG_LEVEL_MAP[self._container_log_level]
        return env

    def prepare_container_def(
        self,
        instance_type=None,
        accelerator_type=None,
        serverless_inference_config=None,
        accept_eula=None,
        model_reference_arn=None,
    ):
        """The TensorFlow Serving container; an ``entry_point`` is repacked into the model artifacts."""
        image_uri = self._serving_image(instance_type, accelerator_type, serverless_inference_config)
        env = self._get_container_env()
        bucket, key_prefix = s3.determine_bucket_and_prefix(
            bucket=self.bucket,
            key_prefix=model_code_key_prefix(self.key_prefix, self.name, image_uri),
            sagemaker_session=self.sagemaker_session,
        )
        model_data = self.model_data
        if self.entry_point and not is_pipeline_variable(self.model_data):
            model_data = s3.s3_path_join("s3://", bucket, key_prefix, "model.tar.gz")
            self._repack_now(model_data)
        elif self.entry_point and isinstance(self.sagemaker_session, PipelineSession):
            # Repacked at run time by the <name>-RepackModel-<i> step the ModelStep adds.
            self.sagemaker_session.context.need_runtime_repack.add(id(self))
            self.sagemaker_session.context.runtime_repack_output_prefix = s3.s3_path_join("s3://", bucket, key_prefix)
        return container_def(
            image_uri, model_data, env, accept_eula=accept_eula, model_reference_arn=model_reference_arn
        )
