"""Minimal mirror of ``sagemaker.lambda_helper`` (definition-time data only).

sagepipe does not talk to AWS Lambda: ``create``/``update``/``upsert``/``invoke``/``delete``
raise ``NotImplementedError``. A ``Lambda`` with a ``function_arn`` is enough to build
``LambdaStep`` definitions.
"""

from typing import Any, Dict, List, Optional


class Lambda:
    """Contains lambda function information (mirror of ``sagemaker.lambda_helper.Lambda``)."""

    def __init__(
        self,
        function_arn: Optional[str] = None,
        function_name: Optional[str] = None,
        execution_role_arn: Optional[str] = None,
        zipped_code_dir: Optional[str] = None,
        s3_bucket: Optional[str] = None,
        script: Optional[str] = None,
        handler: Optional[str] = None,
        session: Any = None,
        timeout: int = 120,
        memory_size: int = 128,
        runtime: str = "python3.8",
        vpc_config: Optional[Dict[str, Any]] = None,
        environment: Optional[Dict[str, Any]] = None,
        layers: Optional[List[str]] = None,
        architectures: Optional[List[str]] = None,
    ):
        """Constructs a Lambda instance (same arguments and validation as the SDK).

        Args:
            function_arn (str): The arn of the Lambda function.
            function_name (str): The name of the function (required to create one).
            execution_role_arn (str): The role to be attached to the Lambda function.
            zipped_code_dir (str): The path of the zipped code package of the Lambda function.
            s3_bucket (str): The bucket where zipped code is uploaded.
            script (str): The path of the Lambda function script for direct zipped upload.
            handler (str): The Lambda handler (``module.function``).
            session: Stored as-is (may be None).
            timeout (int): Timeout of the Lambda function in seconds. Default is 120 seconds.
            memory_size (int): Memory of the Lambda function in megabytes. Default is 128 MB.
            runtime (str): Runtime of the Lambda function. Default is python3.8.
            vpc_config (dict): VPC to deploy the Lambda function to.
            environment (dict): Environment variables of the Lambda function.
            layers (list): Lambda layer ARNs.
            architectures (list): Instruction set architectures.
        """
        self.function_arn = function_arn
        self.function_name = function_name
        self.zipped_code_dir = zipped_code_dir
        self.s3_bucket = s3_bucket
        self.script = script
        self.handler = handler
        self.execution_role_arn = execution_role_arn
        self.session = session
        self.timeout = timeout
        self.memory_size = memory_size
        self.runtime = runtime
        self.vpc_config = vpc_config or {}
        self.environment = environment or {}
        self.layers = layers or []
        self.architectures = architectures or []

        if function_arn is None and function_name is None:
            raise ValueError("Either function_arn or function_name must be provided.")

        if function_name is not None:
            if execution_role_arn is None:
                raise ValueError("execution_role_arn must be provided.")
            if zipped_code_dir is None and script is None:
                raise ValueError("Either zipped_code_dir or script must be provided.")
            if zipped_code_dir and script:
                raise ValueError("Provide either script or zipped_code_dir, not both.")
            if handler is None:
                raise ValueError("Lambda handler must be provided.")

        if zipped_code_dir is not None and s3_bucket is None:
            raise ValueError("s3_bucket must be provided.")

    def _unsupported(self, operation: str):
        raise NotImplementedError(
            f"Lambda.{operation}() is not supported by sagepipe (it does not call AWS Lambda). "
            "Pass function_arn= to reference an existing function."
        )

    def create(self):
        """Not supported locally."""
        self._unsupported("create")

    def update(self):
        """Not supported locally."""
        self._unsupported("update")

    def upsert(self):
        """Not supported locally."""
        self._unsupported("upsert")

    def invoke(self):
        """Not supported locally."""
        self._unsupported("invoke")

    def delete(self):
        """Not supported locally."""
        self._unsupported("delete")
