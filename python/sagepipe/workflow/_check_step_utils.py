"""What the QualityCheck and ClarifyCheck steps share: config value objects and the job request."""

from sagepipe import s3
from sagepipe.model_monitor.model_monitoring import _MODEL_MONITOR_S3_PATH
from sagepipe.workflow.steps import _finish_job_request


class _ConfigValue:
    """Value semantics for the check configs (the SDK's are ``attrs`` classes): equality and repr."""

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]  # unhashable, as the SDK's class

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


def _processing_request(processor, inputs, outputs) -> dict:
    """The ``CreateProcessingJob`` request of a check job, shaped as a Processing step's arguments."""
    from sagepipe.processing import ProcessingJob

    normalized_inputs, normalized_outputs = processor._normalize_args(inputs=inputs, outputs=outputs)
    process_args = ProcessingJob._get_process_args(
        processor, normalized_inputs, normalized_outputs, experiment_config=dict()
    )
    request_dict = processor.sagemaker_session._get_process_request(**process_args)
    return _finish_job_request(request_dict, "ProcessingJobName")


def _check_step_request(step, base_request: dict, check_type: str, supplied: dict) -> dict:
    """A check step's definition entry: the base step entry, its cache config, then the check fields.

    ``supplied`` holds the step type's own fields (supplied baselines, the checked model), added last.
    """
    request = dict(base_request)
    if step.cache_config:
        request.update(step.cache_config.config)
    request.update(
        CheckType=check_type,
        ModelPackageGroupName=step.model_package_group_name,
        SkipCheck=step.skip_check,
        FailOnViolation=step.fail_on_violation,
        RegisterNewBaseline=step.register_new_baseline,
    )
    request.update(supplied)
    return request


def _model_monitor_uri(session, *parts) -> str:
    """``s3://<default bucket>/<default prefix>/model-monitor/<parts...>``, where the check jobs keep their files."""
    return s3.s3_path_join(
        "s3://", session.default_bucket(), session.default_bucket_prefix, _MODEL_MONITOR_S3_PATH, *parts
    )
