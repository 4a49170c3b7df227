"""``sagepipe.session``: the local stand-in for ``sagemaker.session.Session``.

A session decides where sagepipe keeps its records and artifacts (the *store*): the ``store``
argument, else the ``SAGEPIPE_STORE`` environment variable, else ``./.sagepipe`` in the current
directory. AWS arguments (boto sessions, clients, configs) are accepted and ignored.
"""

import os
from pathlib import Path
from typing import Any, Optional, Union

DEFAULT_BUCKET = "sagemaker-local-000000000000"
DEFAULT_REGION = "us-east-1"
STORE_ENV = "SAGEPIPE_STORE"


def default_store_root() -> Path:
    """The store directory used when no session names one."""
    return Path(os.environ.get(STORE_ENV) or Path.cwd() / ".sagepipe").absolute()


class Session:
    """A local session: the store location, a default bucket and a region name.

    Args:
        boto_session: Accepted for compatibility; unused.
        sagemaker_client: Accepted for compatibility; unused.
        sagemaker_runtime_client: Accepted for compatibility; unused.
        sagemaker_featurestore_runtime_client: Accepted for compatibility; unused.
        default_bucket: Bucket name used for default ``s3://`` locations
            (``sagemaker-local-000000000000`` if not given). Buckets map to folders in the store.
        settings: Accepted for compatibility; unused.
        sagemaker_metrics_client: Accepted for compatibility; unused.
        sagemaker_config: Accepted for compatibility; unused.
        default_bucket_prefix: Prefix put in front of default ``s3://`` keys.
        store: Directory of the sagepipe store (see the module docstring).
    """

    local_mode = False

    def __init__(
        self,
        boto_session: Any = None,
        sagemaker_client: Any = None,
        sagemaker_runtime_client: Any = None,
        sagemaker_featurestore_runtime_client: Any = None,
        default_bucket: Optional[str] = None,
        settings: Any = None,
        sagemaker_metrics_client: Any = None,
        sagemaker_config: Any = None,
        default_bucket_prefix: Optional[str] = None,
        *,
        store: Union[str, os.PathLike, None] = None,
    ):
        self.boto_session = boto_session
        self.sagemaker_client = sagemaker_client
        self.sagemaker_config = sagemaker_config
        self.settings = settings
        self._default_bucket = default_bucket
        self.default_bucket_prefix = default_bucket_prefix
        self._store_root = Path(store).absolute() if store is not None else None
        self._store = None

    @property
    def boto_region_name(self) -> str:
        """The region name (``AWS_DEFAULT_REGION`` or ``us-east-1``); ARNs say ``local``."""
        return os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION

    def default_bucket(self) -> str:
        """The default bucket name."""
        return self._default_bucket or DEFAULT_BUCKET

    @property
    def store_root(self) -> Path:
        """The store directory of this session."""
        return self._store_root or default_store_root()

    @property
    def store(self):
        """The opened store (``sagepipe._core.Store``)."""
        root = self.store_root
        if self._store is None or Path(self._store.root) != root:
            from sagepipe._core import Store

            self._store = Store(str(root))
        return self._store

    def __repr__(self) -> str:
        return f"{type(self).__name__}(store={str(self.store_root)!r})"


def get_execution_role(sagemaker_session: Any = None, use_default: bool = False) -> str:
    """A placeholder role ARN: roles are accepted and recorded locally, never needed."""
    return "arn:aws:iam::000000000000:role/sagepipe-local"
