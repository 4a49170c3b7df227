"""The PyTorch script-mode estimator (mirror of ``sagemaker.pytorch.estimator``).

Locally the training script runs with the Python and the ``torch`` the user has installed (not the
image's); a script importing a framework that is not installed fails with its own ImportError in
the step's log.
"""

from typing import Dict, Optional, Union

from sagepipe.estimator import EstimatorBase, Framework, _default_sagemaker_metrics
from sagepipe.fw_utils import validate_version_or_image_args
from sagepipe.pytorch.model import PyTorchModel
from sagepipe.workflow.entities import PipelineVariable


def torch_distribution_configuration(estimator, distribution, with_smdistributed: bool):
    """The hyperparameters of a PyTorch-based job's ``pytorchddp``/``torch_distributed`` strategy.

    Shared by ``PyTorch`` and ``HuggingFace``; ``with_smdistributed`` adds the smdistributed
    settings to ``torch_distributed`` (PyTorch's rule). Other strategies are
    :meth:`Framework._distribution_configuration`'s.
    """
    config = {}
    if "pytorchddp" in distribution:
        if distribution["pytorchddp"].get("enabled", False):
            config[PyTorch.LAUNCH_PYTORCH_DDP_ENV_NAME] = True
            if estimator.instance_type is not None:
                config[PyTorch.INSTANCE_TYPE_ENV_NAME] = estimator.instance_type
            return config
    elif "torch_distributed" in distribution and distribution["torch_distributed"].get("enabled", False):
        if with_smdistributed and "smdistributed" in distribution:
            config = estimator._distribution_configuration(distribution=distribution)
        config[PyTorch.LAUNCH_TORCH_DISTRIBUTED_ENV_NAME] = True
        if estimator.instance_type is not None:
            config[PyTorch.INSTANCE_TYPE_ENV_NAME] = estimator.instance_type
        return config
    return estimator._distribution_configuration(distribution=distribution)


class PyTorch(Framework):
    """Handle end-to-end training of PyTorch scripts (script mode)."""

    _framework_name = "pytorch"
    LAUNCH_PYTORCH_DDP_ENV_NAME = "sagemaker_pytorch_ddp_enabled"
    LAUNCH_TORCH_DISTRIBUTED_ENV_NAME = "sagemaker_torch_distributed_enabled"
    INSTANCE_TYPE_ENV_NAME = "sagemaker_instance_type"

    def __init__(
        self,
        entry_point: Optional[Union[str, PipelineVariable]] = None,
        framework_version: Optional[str] = None,
        py_version: Optional[str] = None,
        source_dir: Optional[Union[str, PipelineVariable]] = None,
        hyperparameters: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        image_uri: Optional[Union[str, PipelineVariable]] = None,
        distribution: Optional[Dict] = None,
        compiler_config=None,
        training_recipe: Optional[str] = None,
        recipe_overrides: Optional[Dict] = None,
        **kwargs,
    ):
        """A PyTorch estimator.

        Args:
            entry_point (str or PipelineVariable): The training script (relative to
                ``source_dir`` if given).
            framework_version (str): PyTorch version (e.g. ``2.1``); with ``py_version``
                required unless ``image_uri`` is given.
            py_version (str): Python version of the image (e.g. ``py310``).
            source_dir (str or PipelineVariable): Directory with the training code.
            hyperparameters (dict): Hyperparameters passed to the script as ``--name value``.
            image_uri (str or PipelineVariable): An image to use instead of the framework image.
            distribution (dict): ``torch_distributed``, ``pytorchddp``, ``smdistributed`` or
                ``mpi`` settings, recorded as the container's hyperparameters (one local host).
            compiler_config, training_recipe, recipe_overrides: Not supported locally.
            **kwargs: Additional arguments of :class:`sagepipe.estimator.Framework`.

        Raises:
            ValueError: No ``entry_point``, or neither versions nor ``image_uri``.
            NotImplementedError: ``compiler_config`` or ``training_recipe``.
        """
        if training_recipe is not None or recipe_overrides is not None:
            raise NotImplementedError(
                "PyTorch(training_recipe=...) fetches SageMaker HyperPod recipes from the network; "
                "sagepipe does not support it. Pass entry_point= and hyperparameters=."
            )
        if compiler_config is not None:
            raise NotImplementedError("SageMaker Training Compiler (compiler_config=) only runs on AWS images.")
        if entry_point is None:
            raise ValueError("Argument entry_point must be set when training_recipe is not provided")
        validate_version_or_image_args(framework_version, py_version, image_uri)
        self.framework_version = framework_version
        self.py_version = py_version
        _default_sagemaker_metrics(kwargs, framework_version, "1.3")
        super().__init__(entry_point, source_dir, hyperparameters, image_uri=image_uri, **kwargs)
        if distribution is not None and "pytorchddp" in distribution:
            if "smdistributed" in distribution:
                raise ValueError(
                    "Cannot use both pytorchddp and smdistributed distribution options together.", distribution
                )
            # The SDK runs pytorchddp as smdistributed data parallelism.
            distribution = dict(distribution, smdistributed={"dataparallel": distribution["pytorchddp"]})
            del distribution["pytorchddp"]
        self.distribution = distribution or {}
        self.compiler_config = None

    def hyperparameters(self):
        """The hyperparameters of the job, with those of the distribution strategy (JSON-encoded)."""
        hyperparameters = super().hyperparameters()
        additional = torch_distribution_configuration(self, self.distribution, with_smdistributed=True)
        hyperparameters.update(EstimatorBase._json_encode_hyperparameters(additional))
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
    ) -> PyTorchModel:
        """A ``PyTorchModel`` serving this estimator's model artifacts with its code (or ``entry_point``)."""
        return self._create_script_mode_model(
            PyTorchModel,
            model_server_workers,
            role,
            vpc_config_override,
            entry_point,
            source_dir,
            dependencies,
            **kwargs,
        )
