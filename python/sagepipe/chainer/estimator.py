"""The Chainer script-mode estimator (mirror of ``sagemaker.chainer.estimator``)."""

from typing import Dict, Optional, Union

from sagepipe.chainer.model import ChainerModel
from sagepipe.estimator import EstimatorBase, Framework
from sagepipe.fw_utils import validate_version_or_image_args
from sagepipe.workflow.entities import PipelineVariable


class Chainer(Framework):
    """Handle end-to-end training of Chainer scripts (script mode)."""

    _framework_name = "chainer"
    _use_mpi = "sagemaker_use_mpi"
    _num_processes = "sagemaker_num_processes"
    _process_slots_per_host = "sagemaker_process_slots_per_host"
    _additional_mpi_options = "sagemaker_additional_mpi_options"

    def __init__(
        self,
        entry_point: Union[str, PipelineVariable],
        use_mpi: Optional[Union[bool, PipelineVariable]] = None,
        num_processes: Optional[Union[int, PipelineVariable]] = None,
        process_slots_per_host: Optional[Union[int, PipelineVariable]] = None,
        additional_mpi_options: Optional[Union[str, PipelineVariable]] = None,
        source_dir: Optional[Union[str, PipelineVariable]] = None,
        hyperparameters: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        framework_version: Optional[str] = None,
        py_version: Optional[str] = None,
        image_uri: Optional[Union[str, PipelineVariable]] = None,
        **kwargs,
    ):
        """A Chainer estimator.

        Args:
            entry_point (str or PipelineVariable): The training script.
            use_mpi, num_processes, process_slots_per_host, additional_mpi_options: MPI
                settings, recorded as the container's hyperparameters (one local host).
            source_dir, hyperparameters, image_uri: As for :class:`sagepipe.estimator.Framework`.
            framework_version (str): Chainer version; with ``py_version`` required unless
                ``image_uri`` is given.
            py_version (str): Python version of the image (``py3``).
            **kwargs: Additional arguments of :class:`sagepipe.estimator.Framework`.
        """
        validate_version_or_image_args(framework_version, py_version, image_uri)
        self.framework_version = framework_version
        self.py_version = py_version
        super().__init__(entry_point, source_dir, hyperparameters, image_uri=image_uri, **kwargs)
        self.use_mpi = use_mpi
        self.num_processes = num_processes
        self.process_slots_per_host = process_slots_per_host
        self.additional_mpi_options = additional_mpi_options

    def hyperparameters(self):
        """The hyperparameters of the job, with the MPI settings that are set (JSON-encoded)."""
        hyperparameters = super().hyperparameters()
        additional = {
            Chainer._use_mpi: self.use_mpi,
            Chainer._num_processes: self.num_processes,
            Chainer._process_slots_per_host: self.process_slots_per_host,
            Chainer._additional_mpi_options: self.additional_mpi_options,
        }
        hyperparameters.update(EstimatorBase._json_encode_hyperparameters({k: v for k, v in additional.items() if v}))
        return hyperparameters

    def create_model(
        self,
        model_server_workers=None,
        role=None,
        vpc_config_override="VPC_CONFIG_DEFAULT",
        entry_point=None,
        source_dir=None,
        dependencies=None,
        **kwargs,
    ) -> ChainerModel:
        """A ``ChainerModel`` serving this estimator's model artifacts with its code (or ``entry_point``)."""
        return self._create_script_mode_model(
            ChainerModel,
            model_server_workers,
            role,
            vpc_config_override,
            entry_point,
            source_dir,
            dependencies,
            **kwargs,
        )
