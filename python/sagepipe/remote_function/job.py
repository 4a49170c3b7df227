"""Settings of remote-function jobs (mirror of ``sagemaker.remote_function.job``).

:class:`_JobSettings` is how a ``@step`` function step resolves its job settings, as the SDK
does: the decorator's arguments, else the SageMaker config's
``SageMaker.PythonSDK.Modules.RemoteFunction`` defaults, else the SDK's defaults. The resolved
settings are what the step's ``CreateTrainingJob``-shaped definition records; locally the
function runs in a worker process whatever the instance type or image says.
"""

import sys
from typing import Any, Dict, List, Optional

from sagepipe import config as _config

# Locally a function step runs on the user's own interpreter; the image name says which.
DEFAULT_IMAGE = "sagepipe-local/python:{major}.{minor}"
# The SDK requires an instance type; sagepipe records this one when neither the decorator nor
# the config names one, since none is needed to run locally.
DEFAULT_INSTANCE_TYPE = "ml.m5.large"


class _JobSettings:
    """The resolved settings of a remote-function job (keyword arguments as the SDK's)."""

    def __init__(
        self,
        *,
        dependencies: Optional[str] = None,
        pre_execution_commands: Optional[List[str]] = None,
        pre_execution_script: Optional[str] = None,
        environment_variables: Optional[Dict[str, Any]] = None,
        image_uri: Any = None,
        include_local_workdir: Optional[bool] = None,
        custom_file_filter: Any = None,
        instance_count: Any = 1,
        instance_type: Any = None,
        job_conda_env: Any = None,
        job_name_prefix: Optional[str] = None,
        keep_alive_period_in_seconds: Any = 0,
        max_retry_attempts: Any = 1,
        max_runtime_in_seconds: Any = 24 * 60 * 60,
        role: Optional[str] = None,
        s3_kms_key: Any = None,
        s3_root_uri: Optional[str] = None,
        sagemaker_session: Any = None,
        security_group_ids: Optional[List[Any]] = None,
        subnets: Optional[List[Any]] = None,
        tags: Optional[List[Dict[str, str]]] = None,
        volume_kms_key: Any = None,
        volume_size: Any = 30,
        encrypt_inter_container_traffic: Any = None,
        spark_config: Any = None,
        use_spot_instances: bool = False,
        max_wait_time_in_seconds: Optional[int] = None,
        disable_output_compression: bool = False,
        use_torchrun: bool = False,
        use_mpirun: bool = False,
        nproc_per_node: Optional[int] = None,
    ):
        from sagepipe.session import Session, get_execution_role

        session = sagemaker_session or Session()
        self.sagemaker_session = session

        def resolve(value, path, default=None):
            return _config.resolve_value_from_config(value, path, default, session)

        self.environment_variables = dict(
            resolve(environment_variables, _config.REMOTE_FUNCTION_ENVIRONMENT_VARIABLES, {})
        )
        self.environment_variables["AWS_DEFAULT_REGION"] = session.boto_region_name

        if spark_config and image_uri:
            raise ValueError("spark_config and image_uri cannot be specified at the same time!")
        if spark_config and job_conda_env:
            raise ValueError("Remote Spark jobs do not support job_conda_env.")
        self.image_uri = resolve(image_uri, _config.REMOTE_FUNCTION_IMAGE_URI) or DEFAULT_IMAGE.format(
            major=sys.version_info.major, minor=sys.version_info.minor
        )
        self.dependencies = resolve(dependencies, _config.REMOTE_FUNCTION_DEPENDENCIES)
        self.pre_execution_commands = resolve(pre_execution_commands, _config.REMOTE_FUNCTION_PRE_EXECUTION_COMMANDS)
        self.pre_execution_script = resolve(pre_execution_script, _config.REMOTE_FUNCTION_PRE_EXECUTION_SCRIPT)
        if self.pre_execution_commands is not None and self.pre_execution_script is not None:
            raise ValueError("Only one of pre_execution_commands or pre_execution_script can be specified!")
        self.include_local_workdir = resolve(
            include_local_workdir, _config.REMOTE_FUNCTION_INCLUDE_LOCAL_WORKDIR, False
        )
        self.custom_file_filter = custom_file_filter
        self.instance_type = resolve(instance_type, _config.REMOTE_FUNCTION_INSTANCE_TYPE, DEFAULT_INSTANCE_TYPE)
        self.instance_count = instance_count
        self.volume_size = volume_size
        self.max_runtime_in_seconds = max_runtime_in_seconds
        self.max_retry_attempts = max_retry_attempts
        self.keep_alive_period_in_seconds = keep_alive_period_in_seconds
        self.spark_config = spark_config
        self.use_spot_instances = use_spot_instances
        self.max_wait_time_in_seconds = max_wait_time_in_seconds
        self.job_conda_env = resolve(job_conda_env, _config.REMOTE_FUNCTION_JOB_CONDA_ENV)
        self.job_name_prefix = job_name_prefix
        self.encrypt_inter_container_traffic = resolve(
            encrypt_inter_container_traffic, _config.REMOTE_FUNCTION_ENABLE_INTER_CONTAINER_TRAFFIC_ENCRYPTION, False
        )
        self.enable_network_isolation = False
        role = resolve(role, _config.REMOTE_FUNCTION_ROLE_ARN)
        self.role = session.expand_role(role) if role else get_execution_role(session)
        prefix = (session.default_bucket_prefix or "").strip("/")
        default_root = f"s3://{session.default_bucket()}" + (f"/{prefix}" if prefix else "")
        self.s3_root_uri = resolve(s3_root_uri, _config.REMOTE_FUNCTION_S3_ROOT_URI, default_root)
        self.s3_kms_key = resolve(s3_kms_key, _config.REMOTE_FUNCTION_S3_KMS_KEY_ID)
        self.volume_kms_key = resolve(volume_kms_key, _config.REMOTE_FUNCTION_VOLUME_KMS_KEY_ID)
        subnets = resolve(subnets, _config.REMOTE_FUNCTION_VPC_CONFIG_SUBNETS)
        security_group_ids = resolve(security_group_ids, _config.REMOTE_FUNCTION_VPC_CONFIG_SECURITY_GROUP_IDS)
        # As the SDK's vpc_utils: a VPC config needs both lists, else there is none.
        self.vpc_config = (
            {"Subnets": subnets, "SecurityGroupIds": security_group_ids} if subnets and security_group_ids else None
        )
        self.tags = _config.append_config_tags(session, tags, _config.REMOTE_FUNCTION_TAGS)
        self.disable_output_compression = disable_output_compression
        self.use_torchrun = use_torchrun
        self.use_mpirun = use_mpirun
        self.nproc_per_node = nproc_per_node
