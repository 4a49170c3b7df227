"""Local mode (mirror of ``sagemaker.local``).

The SDK's local mode runs jobs in Docker on this machine; sagepipe always runs locally, so
:class:`LocalSession` is a :class:`sagepipe.session.Session` (the store, the default bucket, the
SageMaker config) marked ``local_mode``. Pipelines built with it run like any other.
"""

from sagepipe.local.local_session import LocalSession

__all__ = ["LocalSession"]
