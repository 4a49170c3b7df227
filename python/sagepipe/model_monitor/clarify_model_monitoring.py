"""Clarify monitoring analysis configs (mirror of ``sagemaker.model_monitor.clarify_model_monitoring``).

``ClarifyCheckStep`` stores one of these next to its baselining job, as the SDK does, so a
monitoring schedule created later from the registered baseline can reuse it.
"""

import json
import uuid

from sagepipe import s3


class BiasAnalysisConfig:
    """The analysis config of a bias monitoring job."""

    def __init__(self, bias_config, headers=None, label=None):
        """Build it from a ``sagepipe.clarify.BiasConfig``, the dataset headers and the label."""
        self.analysis_config = bias_config.get_config()
        if headers is not None:
            self.analysis_config["headers"] = headers
        if label is not None:
            self.analysis_config["label"] = label

    def _to_dict(self):
        return self.analysis_config


class ExplainabilityAnalysisConfig:
    """The analysis config of an explainability monitoring job."""

    def __init__(self, explainability_config, model_config, headers=None, label_headers=None):
        """Build it from an explainability config (``SHAPConfig``) and a ``ModelConfig``."""
        predictor_config = model_config.get_predictor_config()
        self.analysis_config = {
            "methods": explainability_config.get_explainability_config(),
            "predictor": predictor_config,
        }
        if headers is not None:
            self.analysis_config["headers"] = headers
        if label_headers is not None:
            predictor_config["label_headers"] = label_headers

    def _to_dict(self):
        return self.analysis_config


def _upload_analysis_config(analysis_config, output_s3_uri, job_definition_name, sagemaker_session, kms_key=None):
    """Store ``analysis_config`` under ``output_s3_uri/<job definition>/<uuid>/analysis_config.json``."""
    s3_uri = s3.s3_path_join(output_s3_uri, job_definition_name, str(uuid.uuid4()), "analysis_config.json")
    return s3.S3Uploader.upload_string_as_file_body(
        json.dumps(analysis_config), desired_s3_uri=s3_uri, sagemaker_session=sagemaker_session, kms_key=kms_key
    )
