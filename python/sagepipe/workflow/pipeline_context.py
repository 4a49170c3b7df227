"""``PipelineSession`` and ``LocalPipelineSession`` (mirror of ``sagemaker.workflow.pipeline_context``).

Locally both mean the same thing: a :class:`sagepipe.session.Session` whose store keeps the
pipelines, executions and artifacts. ``function_step_mode`` chooses how ``@step`` functions run:
``"worker"`` (default: separate worker processes, parallel and isolated) or ``"in_process"``
(in this interpreter, so breakpoints and debuggers work). The ``SAGEPIPE_FUNCTION_MODE``
environment variable sets the default.
"""

import os
from typing import Any, Optional

from sagepipe.session import Session

_MODES = ("worker", "in_process")


class PipelineSession(Session):
    """A session for building and running pipelines locally.

    Accepts the SDK's arguments (all optional, AWS ones ignored) plus ``store`` and
    ``function_step_mode`` as keyword-only options.
    """

    def __init__(
        self,
        boto_session: Any = None,
        sagemaker_client: Any = None,
        default_bucket: Optional[str] = None,
        settings: Any = None,
        sagemaker_config: Any = None,
        default_bucket_prefix: Optional[str] = None,
        *,
        store: Any = None,
        function_step_mode: Optional[str] = None,
    ):
        super().__init__(
            boto_session=boto_session,
            sagemaker_client=sagemaker_client,
            default_bucket=default_bucket,
            settings=settings,
            sagemaker_config=sagemaker_config,
            default_bucket_prefix=default_bucket_prefix,
            store=store,
        )
        mode = function_step_mode or os.environ.get("SAGEPIPE_FUNCTION_MODE") or "worker"
        mode = mode.replace("-", "_")
        if mode not in _MODES:
            raise ValueError(f"function_step_mode must be one of {_MODES}, got {mode!r}")
        self.function_step_mode = mode
        self.context = None


class LocalPipelineSession(PipelineSession):
    """The SDK's local-mode session; locally the same as :class:`PipelineSession`."""

    local_mode = True

    def __init__(
        self,
        boto_session: Any = None,
        default_bucket: Optional[str] = None,
        s3_endpoint_url: Optional[str] = None,
        disable_local_code: bool = False,
        default_bucket_prefix: Optional[str] = None,
        *,
        store: Any = None,
        function_step_mode: Optional[str] = None,
    ):
        super().__init__(
            boto_session=boto_session,
            default_bucket=default_bucket,
            default_bucket_prefix=default_bucket_prefix,
            store=store,
            function_step_mode=function_step_mode,
        )
