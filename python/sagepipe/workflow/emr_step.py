"""EMRStep definition (mirror of ``sagemaker.workflow.emr_step``)."""

from typing import Any, Dict, List, Optional, Union

from sagepipe.workflow.entities import RequestType
from sagepipe.workflow.properties import Properties
from sagepipe.workflow.retry import StepRetryPolicy
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.steps import CacheConfig, ConfigurableRetryStep, Step, StepTypeEnum


class EMRStepConfig:
    """Config for a Hadoop Jar step."""

    def __init__(self, jar, args: List[str] = None, main_class: str = None, properties: List[dict] = None):
        """Create a definition for input data used by an EMR cluster (job flow) step.

        Args:
            jar(str): A path to a JAR file run during the step.
            args(List[str]): Command line arguments passed to the JAR file's main function.
            main_class(str): The name of the main class in the specified Java file.
            properties(List(dict)): A list of key-value pairs that are set when the step runs.
        """
        self.jar = jar
        self.args = args
        self.main_class = main_class
        self.properties = properties

    def to_request(self) -> RequestType:
        """Convert EMRStepConfig object to request dict."""
        config = {"HadoopJarStep": {"Jar": self.jar}}
        if self.args is not None:
            config["HadoopJarStep"]["Args"] = self.args
        if self.main_class is not None:
            config["HadoopJarStep"]["MainClass"] = self.main_class
        if self.properties is not None:
            config["HadoopJarStep"]["Properties"] = self.properties
        return config


INSTANCES = "Instances"
INSTANCEGROUPS = "InstanceGroups"
INSTANCEFLEETS = "InstanceFleets"
ERR_STR_WITH_NAME_AUTO_TERMINATION_OR_STEPS = (
    "In EMRStep {step_name}, cluster_config should not contain any of the Name, AutoTerminationPolicy and/or Steps."
)

ERR_STR_WITHOUT_INSTANCE = "In EMRStep {step_name}, cluster_config must contain " + INSTANCES + "."

ERR_STR_WITH_KEEPJOBFLOW_OR_TERMINATIONPROTECTED = (
    "In EMRStep {step_name}, " + INSTANCES + " should not contain KeepJobFlowAliveWhenNoSteps or TerminationProtected."
)

ERR_STR_BOTH_OR_NONE_INSTANCEGROUPS_OR_INSTANCEFLEETS = (
    "In EMRStep {step_name}, " + INSTANCES + " should contain either " + INSTANCEGROUPS + " or " + INSTANCEFLEETS + "."
)

ERR_STR_WITH_BOTH_CLUSTER_ID_AND_CLUSTER_CFG = (
    "EMRStep {step_name} can not have both cluster_id"
    "or cluster_config."
    "To use EMRStep with "
    "cluster_config, cluster_id "
    "must be explicitly set to None."
)

ERR_STR_WITH_EXEC_ROLE_ARN_AND_WITHOUT_CLUSTER_ID = (
    "EMRStep {step_name} cannot have execution_role_arn"
    "without cluster_id."
    "To use EMRStep with "
    "execution_role_arn, cluster_id "
    "must not be None."
)

ERR_STR_WITHOUT_CLUSTER_ID_AND_CLUSTER_CFG = "EMRStep {step_name} must have either cluster_id or cluster_config"


class EMRStep(ConfigurableRetryStep):
    """EMR step for workflow."""

    def _validate_cluster_config(self, cluster_config, step_name):
        """Validates user provided cluster_config."""
        if "Name" in cluster_config or "AutoTerminationPolicy" in cluster_config or "Steps" in cluster_config:
            raise ValueError(ERR_STR_WITH_NAME_AUTO_TERMINATION_OR_STEPS.format(step_name=step_name))

        if INSTANCES not in cluster_config:
            raise ValueError(ERR_STR_WITHOUT_INSTANCE.format(step_name=step_name))

        if (
            "KeepJobFlowAliveWhenNoSteps" in cluster_config[INSTANCES]
            or "TerminationProtected" in cluster_config[INSTANCES]
        ):
            raise ValueError(ERR_STR_WITH_KEEPJOBFLOW_OR_TERMINATIONPROTECTED.format(step_name=step_name))

        if (INSTANCEGROUPS in cluster_config[INSTANCES] and INSTANCEFLEETS in cluster_config[INSTANCES]) or (
            INSTANCEGROUPS not in cluster_config[INSTANCES] and INSTANCEFLEETS not in cluster_config[INSTANCES]
        ):
            raise ValueError(ERR_STR_BOTH_OR_NONE_INSTANCEGROUPS_OR_INSTANCEFLEETS.format(step_name=step_name))

    def __init__(
        self,
        name: str,
        display_name: str,
        description: str,
        cluster_id: str,
        step_config: EMRStepConfig,
        depends_on: Optional[List[Union[str, Step, StepCollection]]] = None,
        cache_config: CacheConfig = None,
        cluster_config: Dict[str, Any] = None,
        execution_role_arn: str = None,
        retry_policies: Optional[List[StepRetryPolicy]] = None,
    ):
        """Constructs an `EMRStep`.

        Args:
            name(str): The name of the EMR step.
            display_name(str): The display name of the EMR step.
            description(str): The description of the EMR step.
            cluster_id(str): The ID of the running EMR cluster (or None with cluster_config).
            step_config(EMRStepConfig): One StepConfig to be executed by the job flow.
            depends_on (List[Union[str, Step, StepCollection]]): explicit dependencies.
            cache_config(CacheConfig): A `CacheConfig` instance.
            cluster_config(Dict[str, Any]): The recipe of the EMR cluster (``RunJobFlow`` request
                without Name, Steps, AutoTerminationPolicy, Instances.KeepJobFlowAliveWhenNoSteps
                and Instances.TerminationProtected). Requires ``cluster_id=None``.
            execution_role_arn(str): The runtime role ARN (only with ``cluster_id``).
            retry_policies(List[StepRetryPolicy]): Retry policies of the step.
        """
        super().__init__(
            name,
            StepTypeEnum.EMR,
            display_name,
            description,
            depends_on,
            retry_policies,
        )

        emr_step_args = {"StepConfig": step_config.to_request()}
        root_property = Properties(step_name=name, shape_name="Step", service_name="emr")

        if cluster_id is None and cluster_config is None:
            raise ValueError(ERR_STR_WITHOUT_CLUSTER_ID_AND_CLUSTER_CFG.format(step_name=name))

        if cluster_id is not None and cluster_config is not None:
            raise ValueError(ERR_STR_WITH_BOTH_CLUSTER_ID_AND_CLUSTER_CFG.format(step_name=name))

        if execution_role_arn is not None and cluster_id is None:
            raise ValueError(ERR_STR_WITH_EXEC_ROLE_ARN_AND_WITHOUT_CLUSTER_ID.format(step_name=name))

        if cluster_id is not None:
            emr_step_args["ClusterId"] = cluster_id
            root_property.__dict__["ClusterId"] = cluster_id
            if execution_role_arn is not None:
                emr_step_args["ExecutionRoleArn"] = execution_role_arn
                root_property.__dict__["ExecutionRoleArn"] = execution_role_arn
        elif cluster_config is not None:
            self._validate_cluster_config(cluster_config, name)
            emr_step_args["ClusterConfig"] = cluster_config
            root_property.__dict__["ClusterConfig"] = cluster_config

        self.args = emr_step_args
        self.cache_config = cache_config
        self._properties = root_property

    @property
    def arguments(self) -> RequestType:
        """The arguments dict that is used to call `AddJobFlowSteps`."""
        return self.args

    @property
    def properties(self) -> RequestType:
        """A Properties object representing the EMR DescribeStepResponse model."""
        return self._properties
