"""The reinforcement learning estimator (mirror of ``sagemaker.rl.estimator``).

On SageMaker the job runs in an Amazon RL image (Coach or Ray on TensorFlow, MXNet or PyTorch);
the definition records that image. Locally the ``entry_point`` runs in script mode like any
framework estimator, with the Python and packages the user has installed: a script importing a
toolkit that is not installed fails with its own ImportError in the step's log.
"""

import enum
import logging
from typing import Dict, List, Optional, Union

from sagepipe.estimator import EstimatorBase, Framework
from sagepipe.workflow.entities import PipelineVariable

logger = logging.getLogger("sagepipe")

SAGEMAKER_ESTIMATOR = "sagemaker_estimator"
SAGEMAKER_ESTIMATOR_VALUE = "RLEstimator"
# The hyperparameter through which RL containers learn where the job's output goes.
SAGEMAKER_OUTPUT_LOCATION = "sagemaker_s3_output"
PYTHON_VERSION = "py3"

# The framework version behind each toolkit version (the RL images the service publishes).
TOOLKIT_FRAMEWORK_VERSION_MAP = {
    "coach": {
        "0.10.1": {"tensorflow": "1.11"},
        "0.10": {"tensorflow": "1.11"},
        "0.11.0": {"tensorflow": "1.11", "mxnet": "1.3"},
        "0.11.1": {"tensorflow": "1.12"},
        "0.11": {"tensorflow": "1.12", "mxnet": "1.3"},
        "1.0.0": {"tensorflow": "1.12"},
    },
    "ray": {
        "0.5.3": {"tensorflow": "1.11"},
        "0.5": {"tensorflow": "1.11"},
        "0.6.5": {"tensorflow": "1.12"},
        "0.6": {"tensorflow": "1.12"},
        "0.8.2": {"tensorflow": "2.1"},
        "0.8.5": {"tensorflow": "2.1", "pytorch": "1.5"},
        "1.6.0": {"tensorflow": "2.5.0", "pytorch": "1.8.1"},
    },
}

_FLOAT_REGEX = "[-+]?[0-9]*[.]?[0-9]+([eE][-+]?[0-9]+)?"


class RLToolkit(enum.Enum):
    """The RL toolkits with Amazon images."""

    COACH = "coach"
    RAY = "ray"


class RLFramework(enum.Enum):
    """The deep learning frameworks an RL toolkit image runs on."""

    TENSORFLOW = "tensorflow"
    MXNET = "mxnet"
    PYTORCH = "pytorch"


class RLEstimator(Framework):
    """Train reinforcement learning scripts (Coach or Ray) in script mode."""

    COACH_LATEST_VERSION_TF = "0.11.1"
    COACH_LATEST_VERSION_MXNET = "0.11.0"
    RAY_LATEST_VERSION = "1.6.0"

    def __init__(
        self,
        entry_point: Union[str, PipelineVariable],
        toolkit: Optional[RLToolkit] = None,
        toolkit_version: Optional[str] = None,
        framework: Optional[RLFramework] = None,
        source_dir: Optional[Union[str, PipelineVariable]] = None,
        hyperparameters: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        image_uri: Optional[Union[str, PipelineVariable]] = None,
        metric_definitions: Optional[List[Dict[str, Union[str, PipelineVariable]]]] = None,
        **kwargs,
    ):
        """An RL estimator.

        Args:
            entry_point (str or PipelineVariable): The training script (relative to
                ``source_dir`` if given).
            toolkit (RLToolkit): ``RLToolkit.COACH`` or ``RLToolkit.RAY``.
            toolkit_version (str): The toolkit version (a key of ``TOOLKIT_FRAMEWORK_VERSION_MAP``).
            framework (RLFramework): The framework the toolkit runs on.
            source_dir (str or PipelineVariable): Directory with the training code.
            hyperparameters (dict): Hyperparameters passed to the script as ``--name value``.
            image_uri (str or PipelineVariable): An image instead of the toolkit's (then
                ``toolkit``, ``toolkit_version`` and ``framework`` are ignored).
            metric_definitions (list[dict]): Metrics to extract from the logs (default: the
                toolkit's reward metrics).
            **kwargs: Additional arguments of :class:`sagepipe.estimator.Framework`.

        Raises:
            ValueError: ``toolkit`` or ``framework`` is not one of the enums.
            AttributeError: Neither ``image_uri`` nor all of toolkit, version and framework,
                or a combination without an image.
        """
        self._validate_images_args(toolkit, toolkit_version, framework, image_uri)
        self.toolkit = None
        self.toolkit_version = None
        self.framework = None
        self.framework_version = None
        if not image_uri:
            self._validate_toolkit_support(toolkit.value, toolkit_version, framework.value)
            self.toolkit = toolkit.value
            self.toolkit_version = toolkit_version
            self.framework = framework.value
            self.framework_version = TOOLKIT_FRAMEWORK_VERSION_MAP[self.toolkit][toolkit_version][self.framework]
            if not metric_definitions:
                metric_definitions = self.default_metric_definitions(toolkit)
        super().__init__(
            entry_point,
            source_dir,
            hyperparameters,
            image_uri=image_uri,
            metric_definitions=metric_definitions,
            **kwargs,
        )

    def create_model(
        self,
        role=None,
        vpc_config_override="VPC_CONFIG_DEFAULT",
        entry_point=None,
        source_dir=None,
        dependencies=None,
        **kwargs,
    ):
        """A model serving this estimator's artifacts.

        A ``FrameworkModel`` with ``image_uri``, else an ``MXNetModel`` (MXNet backend, with the
        code) or a ``TensorFlowModel`` (TensorFlow backend, Serving without the code).

        Raises:
            AttributeError: ``source_dir`` or ``dependencies`` without ``entry_point``.
            NotImplementedError: A Ray model (the service cannot host those).
        """
        from sagepipe.model import FrameworkModel
        from sagepipe.mxnet.model import MXNetModel
        from sagepipe.tensorflow.model import TensorFlowModel

        if not entry_point and (source_dir or dependencies):
            raise AttributeError("Please provide an `entry_point`.")
        base_args = dict(
            model_data=self.model_data,
            role=role or self.role,
            image_uri=kwargs.get("image_uri", self.image_uri),
            container_log_level=self.container_log_level,
            sagemaker_session=self.sagemaker_session,
            vpc_config=self.get_vpc_config(vpc_config_override),
            name=self._get_or_create_name(kwargs.get("name")),
        )
        code_args = dict(
            base_args,
            entry_point=entry_point or self._model_entry_point(),
            source_dir=source_dir or self._model_source_dir(),
            code_location=self.code_location,
            dependencies=dependencies or self.dependencies,
        )
        if self.image_uri:
            return FrameworkModel(**code_args)
        if self.toolkit == RLToolkit.RAY.value:
            raise NotImplementedError(
                "Automatic deployment of Ray models is not currently available. Train policy parameters are "
                "available in model checkpoints in the TrainingJob output."
            )
        if self.framework == RLFramework.TENSORFLOW.value:
            return TensorFlowModel(framework_version=self.framework_version, **base_args)
        if self.framework == RLFramework.MXNET.value:
            return MXNetModel(framework_version=self.framework_version, py_version=PYTHON_VERSION, **code_args)
        raise ValueError(f"An unknown RLFramework enum was passed in. framework: {self.framework}")

    def training_image_uri(self, region=None):
        """The training image: ``image_uri``, or the toolkit's image for the instance type."""
        from sagepipe import image_uris

        if self.image_uri:
            return self.image_uri
        return image_uris.retrieve(
            f"{self.toolkit}-{self.framework}",
            region or self.sagemaker_session.boto_region_name,
            version=self.toolkit_version,
            instance_type=self.instance_type,
        )

    def hyperparameters(self):
        """The hyperparameters of the job, with the output location and estimator name RL images read."""
        hyperparameters = super().hyperparameters()
        hyperparameters.update(
            EstimatorBase._json_encode_hyperparameters(
                {SAGEMAKER_OUTPUT_LOCATION: self.output_path, SAGEMAKER_ESTIMATOR: SAGEMAKER_ESTIMATOR_VALUE}
            )
        )
        return hyperparameters

    @classmethod
    def _validate_images_args(cls, toolkit, toolkit_version, framework, image_uri):
        if toolkit and toolkit not in list(RLToolkit):
            raise ValueError(f"Invalid type: {toolkit}, valid RL toolkits types are: {list(RLToolkit)}")
        if framework and framework not in list(RLFramework):
            raise ValueError(f"Invalid type: {framework}, valid RL frameworks types are: {list(RLFramework)}")
        given = {"toolkit": toolkit, "toolkit_version": toolkit_version, "framework": framework}
        if not image_uri:
            missing = [name for name, value in given.items() if not value]
            if missing:
                raise AttributeError("Please provide `{}` or `image_uri` parameter.".format("`, `".join(missing)))
        else:
            ignored = [name for name, value in given.items() if value]
            if ignored:
                logger.warning(
                    "Parameter `image_uri` is specified, `%s` are going to be ignored when choosing the image.",
                    "`, `".join(ignored),
                )

    @classmethod
    def _is_combination_supported(cls, toolkit, toolkit_version, framework) -> bool:
        return bool(TOOLKIT_FRAMEWORK_VERSION_MAP.get(toolkit, {}).get(toolkit_version, {}).get(framework))

    @classmethod
    def _validate_toolkit_support(cls, toolkit, toolkit_version, framework):
        if not cls._is_combination_supported(toolkit, toolkit_version, framework):
            raise AttributeError(
                f"Provided `{toolkit}-{toolkit_version}` and `{framework}` combination is not supported."
            )

    @classmethod
    def default_metric_definitions(cls, toolkit):
        """The reward metrics the toolkit's images log.

        Raises:
            ValueError: ``toolkit`` is not an ``RLToolkit``.
        """
        if toolkit is RLToolkit.COACH:
            return [
                {"Name": "reward-training", "Regex": "^Training>.*Total reward=(.*?),"},
                {"Name": "reward-testing", "Regex": "^Testing>.*Total reward=(.*?),"},
            ]
        if toolkit is RLToolkit.RAY:
            return [
                {"Name": "episode_reward_mean", "Regex": f"episode_reward_mean: ({_FLOAT_REGEX})"},
                {"Name": "episode_reward_max", "Regex": f"episode_reward_max: ({_FLOAT_REGEX})"},
            ]
        raise ValueError(f"An unknown RLToolkit enum was passed in. toolkit: {toolkit}")
