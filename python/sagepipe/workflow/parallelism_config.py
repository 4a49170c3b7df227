"""Pipeline parallelism configuration (mirror of ``sagemaker.workflow.parallelism_config``)."""

from sagepipe.workflow.entities import RequestType


class ParallelismConfiguration:
    """Parallelism config for SageMaker pipeline."""

    def __init__(self, max_parallel_execution_steps: int):
        """Create a ParallelismConfiguration.

        Args:
            max_parallel_execution_steps (int): max number of steps which could be parallelized
        """
        self.max_parallel_execution_steps = max_parallel_execution_steps

    def to_request(self) -> RequestType:
        """Returns: the request structure."""
        return {
            "MaxParallelExecutionSteps": self.max_parallel_execution_steps,
        }
