"""Debugger and profiler configurations of training jobs (mirror of ``sagemaker.debugger``).

They only shape the ``CreateTrainingJob`` request (``DebugHookConfig``, ``ProfilerConfig``,
``TensorBoardOutputConfig``) as the SDK does; nothing is collected locally. Debugger and profiler
*rules* (``Rule``, ``ProfilerRule``) are not supported.
"""

from typing import Dict, List, Optional, Union

from sagepipe.workflow.entities import PipelineVariable

# Regions where SageMaker Debugger / Profiler are unavailable (SDK fw_utils).
DEBUGGER_UNSUPPORTED_REGIONS = (
    "us-iso-east-1",
    "us-isob-east-1",
    "ap-southeast-3",
    "ap-southeast-4",
    "eu-south-2",
    "me-central-1",
    "ap-south-2",
    "eu-central-2",
    "us-gov-east-1",
)
PROFILER_UNSUPPORTED_REGIONS = DEBUGGER_UNSUPPORTED_REGIONS

__all__ = ["CollectionConfig", "DebuggerHookConfig", "ProfilerConfig", "TensorBoardOutputConfig"]


class CollectionConfig:
    """A Debugger tensor collection: a name and its parameters."""

    def __init__(self, name: Union[str, PipelineVariable], parameters: Optional[Dict] = None):
        self.name = name
        self.parameters = parameters

    def __eq__(self, other):
        if not isinstance(other, CollectionConfig):
            raise TypeError("CollectionConfig is only comparable with other CollectionConfig objects.")
        return self.name == other.name and self.parameters == other.parameters

    def __hash__(self):
        return hash((self.name, tuple(sorted((self.parameters or {}).items()))))

    def _to_request_dict(self):
        request = {"CollectionName": self.name}
        if self.parameters is not None:
            request["CollectionParameters"] = self.parameters
        return request


class DebuggerHookConfig:
    """The Debugger hook of a training job (``DebugHookConfig``)."""

    def __init__(
        self,
        s3_output_path: Optional[Union[str, PipelineVariable]] = None,
        container_local_output_path: Optional[Union[str, PipelineVariable]] = None,
        hook_parameters: Optional[Dict] = None,
        collection_configs: Optional[List[CollectionConfig]] = None,
    ):
        self.s3_output_path = s3_output_path
        self.container_local_output_path = container_local_output_path
        self.hook_parameters = hook_parameters
        self.collection_configs = collection_configs

    def _to_request_dict(self):
        request = {"S3OutputPath": self.s3_output_path}
        if self.container_local_output_path is not None:
            request["LocalPath"] = self.container_local_output_path
        if self.hook_parameters is not None:
            request["HookParameters"] = self.hook_parameters
        if self.collection_configs is not None:
            request["CollectionConfigurations"] = [c._to_request_dict() for c in self.collection_configs]
        return request


class TensorBoardOutputConfig:
    """Where TensorBoard output goes (``TensorBoardOutputConfig``)."""

    def __init__(self, s3_output_path, container_local_output_path=None):
        self.s3_output_path = s3_output_path
        self.container_local_output_path = container_local_output_path

    def _to_request_dict(self):
        request = {"S3OutputPath": self.s3_output_path}
        if self.container_local_output_path is not None:
            request["LocalPath"] = self.container_local_output_path
        return request


class ProfilerConfig:
    """The profiler configuration of a training job (``ProfilerConfig``)."""

    def __init__(
        self,
        s3_output_path: Optional[Union[str, PipelineVariable]] = None,
        system_monitor_interval_millis: Optional[Union[int, PipelineVariable]] = None,
        framework_profile_params=None,
        profile_params=None,
        disable_profiler: Optional[Union[bool, PipelineVariable]] = False,
    ):
        if framework_profile_params is not None or profile_params is not None:
            raise NotImplementedError("ProfilerConfig profiling parameters are not supported by sagepipe.")
        self.s3_output_path = s3_output_path
        self.system_monitor_interval_millis = system_monitor_interval_millis
        self.framework_profile_params = None
        self.profile_params = None
        self.disable_profiler = disable_profiler

    def _to_request_dict(self):
        request = {}
        if self.s3_output_path is not None and self.disable_profiler is False:
            request["S3OutputPath"] = self.s3_output_path
        request["DisableProfiler"] = self.disable_profiler
        if self.system_monitor_interval_millis is not None:
            request["ProfilingIntervalInMilliseconds"] = self.system_monitor_interval_millis
        return request
