"""Pipeline definition config (mirror of ``sagemaker.workflow.pipeline_definition_config``)."""


class PipelineDefinitionConfig:
    """Pipeline Definition Configuration for SageMaker pipeline."""

    def __init__(self, use_custom_job_prefix: bool):
        """Create a `PipelineDefinitionConfig`.

        Args:
            use_custom_job_prefix (bool): A feature flag to toggle on/off custom name prefixing
                during pipeline orchestration (keeps ``*JobName`` fields in step arguments).
        """
        self.use_custom_job_prefix = use_custom_job_prefix
