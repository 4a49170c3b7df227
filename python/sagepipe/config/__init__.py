"""The SageMaker Python SDK defaults file (mirror of ``sagemaker.config``).

The SDK reads ``config.yaml`` from an admin location and a user location (or the files or
directories named by ``SAGEMAKER_ADMIN_CONFIG_OVERRIDE`` and ``SAGEMAKER_USER_CONFIG_OVERRIDE``),
merges them (user over admin) and fills arguments the caller left out from it: the session's
default bucket and key prefix, the roles, environment, tags, network and KMS settings of jobs
and pipelines. sagepipe does the same with the same files, so a project's defaults apply locally.

Reading YAML needs PyYAML (``pip install 'sagepipe[config]'``); it is imported only when a
config file exists, and its absence is then an error naming the file. Config files on S3 are
not read (there is no S3 locally): naming one is an error.
"""

import copy
import logging
import os
import sys
from typing import Any, Dict, List, Optional

logger = logging.getLogger(__name__)

_APP_NAME = "sagemaker"
_CONFIG_FILE_NAME = "config.yaml"
ENV_VARIABLE_ADMIN_CONFIG_OVERRIDE = "SAGEMAKER_ADMIN_CONFIG_OVERRIDE"
ENV_VARIABLE_USER_CONFIG_OVERRIDE = "SAGEMAKER_USER_CONFIG_OVERRIDE"

# Key paths of the config schema (public: "Configuring and using defaults with the SageMaker
# Python SDK"). Only the ones sagepipe applies are listed.
SAGEMAKER = "SageMaker"
SESSION_DEFAULT_S3_BUCKET_PATH = "SageMaker.PythonSDK.Modules.Session.DefaultS3Bucket"
SESSION_DEFAULT_S3_OBJECT_KEY_PREFIX_PATH = "SageMaker.PythonSDK.Modules.Session.DefaultS3ObjectKeyPrefix"
PIPELINE_ROLE_ARN_PATH = "SageMaker.Pipeline.RoleArn"
PIPELINE_TAGS_PATH = "SageMaker.Pipeline.Tags"
PROCESSING_JOB_ROLE_ARN_PATH = "SageMaker.ProcessingJob.RoleArn"
PROCESSING_JOB_ENVIRONMENT_PATH = "SageMaker.ProcessingJob.Environment"
PROCESSING_JOB_NETWORK_CONFIG_PATH = "SageMaker.ProcessingJob.NetworkConfig"
PROCESSING_JOB_ENABLE_NETWORK_ISOLATION_PATH = f"{PROCESSING_JOB_NETWORK_CONFIG_PATH}.EnableNetworkIsolation"
PROCESSING_JOB_INTER_CONTAINER_ENCRYPTION_PATH = (
    f"{PROCESSING_JOB_NETWORK_CONFIG_PATH}.EnableInterContainerTrafficEncryption"
)
PROCESSING_JOB_SUBNETS_PATH = f"{PROCESSING_JOB_NETWORK_CONFIG_PATH}.VpcConfig.Subnets"
PROCESSING_JOB_SECURITY_GROUP_IDS_PATH = f"{PROCESSING_JOB_NETWORK_CONFIG_PATH}.VpcConfig.SecurityGroupIds"
PROCESSING_JOB_VOLUME_KMS_KEY_ID_PATH = "SageMaker.ProcessingJob.ProcessingResources.ClusterConfig.VolumeKmsKeyId"
PROCESSING_JOB_KMS_KEY_ID_PATH = "SageMaker.ProcessingJob.ProcessingOutputConfig.KmsKeyId"
PROCESSING_JOB_TAGS_PATH = "SageMaker.ProcessingJob.Tags"
TRAINING_JOB_ROLE_ARN_PATH = "SageMaker.TrainingJob.RoleArn"
TRAINING_JOB_ENVIRONMENT_PATH = "SageMaker.TrainingJob.Environment"
TRAINING_JOB_VPC_CONFIG_PATH = "SageMaker.TrainingJob.VpcConfig"
TRAINING_JOB_SUBNETS_PATH = f"{TRAINING_JOB_VPC_CONFIG_PATH}.Subnets"
TRAINING_JOB_SECURITY_GROUP_IDS_PATH = f"{TRAINING_JOB_VPC_CONFIG_PATH}.SecurityGroupIds"
TRAINING_JOB_ENABLE_NETWORK_ISOLATION_PATH = "SageMaker.TrainingJob.EnableNetworkIsolation"
TRAINING_JOB_INTER_CONTAINER_ENCRYPTION_PATH = "SageMaker.TrainingJob.EnableInterContainerTrafficEncryption"
TRAINING_JOB_VOLUME_KMS_KEY_ID_PATH = "SageMaker.TrainingJob.ResourceConfig.VolumeKmsKeyId"
TRAINING_JOB_KMS_KEY_ID_PATH = "SageMaker.TrainingJob.OutputDataConfig.KmsKeyId"
TRAINING_JOB_TAGS_PATH = "SageMaker.TrainingJob.Tags"
TRAINING_JOB_PROFILE_CONFIG_PATH = "SageMaker.TrainingJob.ProfilerConfig"
TRAINING_JOB_DISABLE_PROFILER_PATH = f"{TRAINING_JOB_PROFILE_CONFIG_PATH}.DisableProfiler"
TRANSFORM_JOB_ENVIRONMENT_PATH = "SageMaker.TransformJob.Environment"
TRANSFORM_OUTPUT_KMS_KEY_ID_PATH = "SageMaker.TransformJob.TransformOutput.KmsKeyId"
TRANSFORM_JOB_VOLUME_KMS_KEY_ID_PATH = "SageMaker.TransformJob.TransformResources.VolumeKmsKeyId"
TRANSFORM_JOB_TAGS_PATH = "SageMaker.TransformJob.Tags"
MODEL_EXECUTION_ROLE_ARN_PATH = "SageMaker.Model.ExecutionRoleArn"
MODEL_VPC_CONFIG_PATH = "SageMaker.Model.VpcConfig"
MODEL_ENABLE_NETWORK_ISOLATION_PATH = "SageMaker.Model.EnableNetworkIsolation"
MODEL_TAGS_PATH = "SageMaker.Model.Tags"
_REMOTE_FUNCTION = "SageMaker.PythonSDK.Modules.RemoteFunction"
REMOTE_FUNCTION_DEPENDENCIES = f"{_REMOTE_FUNCTION}.Dependencies"
REMOTE_FUNCTION_PRE_EXECUTION_COMMANDS = f"{_REMOTE_FUNCTION}.PreExecutionCommands"
REMOTE_FUNCTION_PRE_EXECUTION_SCRIPT = f"{_REMOTE_FUNCTION}.PreExecutionScript"
REMOTE_FUNCTION_ENVIRONMENT_VARIABLES = f"{_REMOTE_FUNCTION}.EnvironmentVariables"
REMOTE_FUNCTION_IMAGE_URI = f"{_REMOTE_FUNCTION}.ImageUri"
REMOTE_FUNCTION_INCLUDE_LOCAL_WORKDIR = f"{_REMOTE_FUNCTION}.IncludeLocalWorkDir"
REMOTE_FUNCTION_INSTANCE_TYPE = f"{_REMOTE_FUNCTION}.InstanceType"
REMOTE_FUNCTION_JOB_CONDA_ENV = f"{_REMOTE_FUNCTION}.JobCondaEnvironment"
REMOTE_FUNCTION_ROLE_ARN = f"{_REMOTE_FUNCTION}.RoleArn"
REMOTE_FUNCTION_S3_KMS_KEY_ID = f"{_REMOTE_FUNCTION}.S3KmsKeyId"
REMOTE_FUNCTION_S3_ROOT_URI = f"{_REMOTE_FUNCTION}.S3RootUri"
REMOTE_FUNCTION_TAGS = f"{_REMOTE_FUNCTION}.Tags"
REMOTE_FUNCTION_VOLUME_KMS_KEY_ID = f"{_REMOTE_FUNCTION}.VolumeKmsKeyId"
REMOTE_FUNCTION_VPC_CONFIG_SUBNETS = f"{_REMOTE_FUNCTION}.VpcConfig.Subnets"
REMOTE_FUNCTION_VPC_CONFIG_SECURITY_GROUP_IDS = f"{_REMOTE_FUNCTION}.VpcConfig.SecurityGroupIds"
REMOTE_FUNCTION_ENABLE_INTER_CONTAINER_TRAFFIC_ENCRYPTION = f"{_REMOTE_FUNCTION}.EnableInterContainerTrafficEncryption"


def _default_config_dirs() -> List[str]:
    """The admin and user config directories, where the SDK (platformdirs) looks for them."""
    home = os.path.expanduser("~")
    if sys.platform == "darwin":
        return [f"/Library/Application Support/{_APP_NAME}", f"{home}/Library/Application Support/{_APP_NAME}"]
    if sys.platform == "win32":
        program_data = os.environ.get("ALLUSERSPROFILE", r"C:\ProgramData")
        local_app_data = os.environ.get("LOCALAPPDATA", os.path.join(home, "AppData", "Local"))
        return [os.path.join(program_data, _APP_NAME), os.path.join(local_app_data, _APP_NAME)]
    xdg_dirs = (os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep)
    xdg_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    return [os.path.join(xdg_dirs[0], _APP_NAME), os.path.join(xdg_home, _APP_NAME)]


def default_config_paths() -> List[str]:
    """``[admin config path, user config path]`` as the SDK resolves them (overrides first)."""
    admin_dir, user_dir = _default_config_dirs()
    return [
        os.environ.get(ENV_VARIABLE_ADMIN_CONFIG_OVERRIDE) or os.path.join(admin_dir, _CONFIG_FILE_NAME),
        os.environ.get(ENV_VARIABLE_USER_CONFIG_OVERRIDE) or os.path.join(user_dir, _CONFIG_FILE_NAME),
    ]


def load_sagemaker_config(
    additional_config_paths: Optional[List[str]] = None, s3_resource: Any = None, repeat_log: bool = False
) -> Dict[str, Any]:
    """The merged defaults of the admin and user config files (``{}`` when there are none).

    A path the user named (override variables, ``additional_config_paths``) must exist; the
    default locations may be empty. A directory means its ``config.yaml``.
    """
    admin_dir, user_dir = _default_config_dirs()
    defaults = {os.path.join(admin_dir, _CONFIG_FILE_NAME), os.path.join(user_dir, _CONFIG_FILE_NAME)}
    merged: Dict[str, Any] = {}
    for path in default_config_paths() + list(additional_config_paths or []):
        if path.startswith("s3://"):
            raise ValueError(
                f"SageMaker config file {path}: sagepipe runs locally and cannot read config files from S3; "
                "point SAGEMAKER_USER_CONFIG_OVERRIDE/SAGEMAKER_ADMIN_CONFIG_OVERRIDE at a local file"
            )
        file_path = os.path.join(path, _CONFIG_FILE_NAME) if os.path.isdir(path) else path
        if not os.path.exists(file_path):
            if path in defaults:
                continue
            raise ValueError(f"Unable to load the config file from the location: {path}. Provide a valid file path")
        content = _load_yaml(file_path)
        if content:
            validate_sagemaker_config(content, source=file_path)
            _merge(merged, content)
            logger.info("Fetched defaults config from location: %s", file_path)
    return merged


def _load_yaml(file_path: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise ImportError(
            f"The SageMaker config file {file_path} needs PyYAML to be read: pip install pyyaml "
            "(or pip install 'sagepipe[config]'), or remove the file"
        ) from None
    with open(file_path) as f:
        return yaml.safe_load(f)


def validate_sagemaker_config(sagemaker_config: Optional[dict] = None, source: str = "sagemaker_config") -> None:
    """Reject what the SDK's schema rejects at the top level: a non-mapping, or a file without
    ``SchemaVersion: '1.0'``. (Deeper keys are looked up by path; unknown ones are ignored.)"""
    if not isinstance(sagemaker_config, dict):
        raise ValueError(f"{source}: the SageMaker config must be a mapping, got {type(sagemaker_config).__name__}")
    version = sagemaker_config.get("SchemaVersion")
    if version != "1.0":
        raise ValueError(f"{source}: SchemaVersion must be '1.0', got {version!r}")


def _merge(target: Dict[str, Any], source: Dict[str, Any]) -> None:
    """Deep-merge ``source`` into ``target``: mappings merge, anything else is replaced."""
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def get_config_value(key_path: str, config: Optional[dict]) -> Any:
    """The value at a dotted ``key_path`` of ``config`` (None when any part is missing)."""
    current: Any = config
    for key in key_path.split("."):
        if not isinstance(current, dict) or key not in current:
            return None
        current = current[key]
    return current


def get_sagemaker_config_value(sagemaker_session: Any, key: str, sagemaker_config: Optional[dict] = None) -> Any:
    """The config value at ``key`` of the session's config (or ``sagemaker_config`` when no session)."""
    if sagemaker_session is not None:
        config = getattr(sagemaker_session, "sagemaker_config", None)
    else:
        config = sagemaker_config
    value = get_config_value(key, config if isinstance(config, dict) else None)
    return copy.deepcopy(value)


def resolve_value_from_config(
    direct_input: Any = None,
    config_path: Optional[str] = None,
    default_value: Any = None,
    sagemaker_session: Any = None,
    sagemaker_config: Optional[dict] = None,
) -> Any:
    """``direct_input`` if given, else the config value at ``config_path``, else ``default_value``."""
    if direct_input is not None:
        return direct_input
    value = get_sagemaker_config_value(sagemaker_session, config_path, sagemaker_config) if config_path else None
    return value if value is not None else default_value


def resolve_class_attribute_from_config(
    clazz: Optional[type],
    instance: Any,
    attribute: str,
    config_path: str,
    default_value: Any = None,
    sagemaker_session: Any = None,
) -> Any:
    """``instance`` with ``attribute`` taken from the config (else ``default_value``) when unset.

    A missing ``instance`` is created as ``clazz()`` only when there is a value to set, so a
    config without the key leaves a caller's ``None`` alone.
    """
    value = get_sagemaker_config_value(sagemaker_session, config_path)
    if value is None:
        value = default_value
    if value is None:
        return instance
    if instance is None:
        if clazz is None:
            return None
        instance = clazz()
    if getattr(instance, attribute) is None:
        setattr(instance, attribute, value)
    return instance


def append_config_tags(sagemaker_session: Any, tags: Optional[List[dict]], config_path: str) -> Optional[List[dict]]:
    """``tags`` plus the config's tags at ``config_path`` whose keys the caller did not set."""
    config_tags = get_sagemaker_config_value(sagemaker_session, config_path)
    if not config_tags:
        return tags
    merged = list(tags or [])
    for tag in config_tags:
        if not any(existing.get("Key") == tag.get("Key") for existing in merged):
            merged.append(tag)
    return merged
