"""``sagepipe.session``: the local stand-in for ``sagemaker.session.Session``.

A session decides where sagepipe keeps its records and artifacts (the *store*): the ``store``
argument, else the ``SAGEPIPE_STORE`` environment variable, else ``./.sagepipe`` in the current
directory. AWS arguments (boto sessions, clients) are accepted and ignored.

The SDK's defaults file applies as in the SDK (``sagemaker_config``, else the ``config.yaml``
files :func:`sagepipe.config.load_sagemaker_config` finds): ``DefaultS3Bucket`` and
``DefaultS3ObjectKeyPrefix`` here, job and pipeline defaults where requests are built.

S3 is the store: ``s3://bucket/key`` is the file ``<store>/s3/bucket/key``. The object methods
the SDK's job classes call (``upload_data``, ``upload_string_as_file_body``, ``read_s3_file``,
``list_s3_files``, ``download_data``) work on those files. Uploaded code (``*.py`` and
``sourcedir.tar.gz``) gets a ``.sagepipe-code.json`` sidecar (see :mod:`sagepipe._code_hash`).
The job request builders (``process``, ``train``, ...) come from
:class:`sagepipe._job_requests.JobRequests`.
"""

import functools
import os
from pathlib import Path
from typing import Any, List, Optional, Union

from sagepipe import _s3_objects
from sagepipe._endpoint_requests import EndpointRequests, production_variant  # noqa: F401
from sagepipe._job_requests import (  # noqa: F401  (SDK module path: sagemaker.session.*)
    JobRequests,
    container_def,
    get_create_model_package_request,
    get_model_package_args,
    pipeline_container_def,
)

# The local account is _core.LOCAL_ACCOUNT (spelt out here: importing the SDK's modules does not load
# the engine; tests/test_core_stub.py checks they agree).
DEFAULT_BUCKET = "sagemaker-local-000000000000"
_LOCAL_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"
STORE_ENV = "SAGEPIPE_STORE"


def default_store_root() -> Path:
    """The store directory used when no session names one."""
    return Path(os.environ.get(STORE_ENV) or Path.cwd() / ".sagepipe").absolute()


class Session(JobRequests, EndpointRequests):
    """A local session: the store location, a default bucket and a region name.

    Args:
        boto_session: Accepted for compatibility; unused.
        sagemaker_client: Accepted for compatibility; unused.
        sagemaker_runtime_client: Accepted for compatibility; unused.
        sagemaker_featurestore_runtime_client: Accepted for compatibility; unused.
        default_bucket: Bucket name used for default ``s3://`` locations
            (``sagemaker-local-000000000000`` if not given). Buckets map to folders in the store.
        settings (SessionSettings): Session settings (default: ``SessionSettings()``).
        sagemaker_metrics_client: Accepted for compatibility; unused.
        sagemaker_config (dict): The SDK defaults config; when not given, the ``config.yaml``
            files at the SDK's locations (see :mod:`sagepipe.config`), if any.
        default_bucket_prefix: Prefix put in front of default ``s3://`` keys (default: the
            config's ``DefaultS3ObjectKeyPrefix``).
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
        from sagepipe.config import (
            SESSION_DEFAULT_S3_BUCKET_PATH,
            SESSION_DEFAULT_S3_OBJECT_KEY_PREFIX_PATH,
            load_sagemaker_config,
            resolve_value_from_config,
            validate_sagemaker_config,
        )
        from sagepipe.session_settings import SessionSettings

        self.boto_session = boto_session
        self.sagemaker_client = sagemaker_client
        if sagemaker_config:
            validate_sagemaker_config(sagemaker_config)
            self.sagemaker_config = sagemaker_config
        else:
            self.sagemaker_config = load_sagemaker_config()
        self.settings = settings if settings is not None else SessionSettings()
        self._default_bucket = resolve_value_from_config(default_bucket, SESSION_DEFAULT_S3_BUCKET_PATH, None, self)
        self.default_bucket_prefix = resolve_value_from_config(
            default_bucket_prefix, SESSION_DEFAULT_S3_OBJECT_KEY_PREFIX_PATH, None, self
        )
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
        """The store directory of this session: given, or the default resolved on first use (an
        absolute path, so a later ``os.chdir`` does not move the store under a running pipeline)."""
        if self._store_root is None:
            self._store_root = default_store_root()
        return self._store_root

    @property
    def store(self):
        """The opened store (``sagepipe._core.Store``)."""
        root = self.store_root
        if self._store is None or Path(self._store.root) != root:
            from sagepipe._core import Store

            self._store = Store(str(root))
        return self._store

    @property
    def config(self) -> Optional[dict]:
        """The SDK defaults config (``sagemaker_config``)."""
        return self.sagemaker_config

    def expand_role(self, role: str) -> str:
        """Expand a role name into an ARN (a name becomes a local placeholder ARN)."""
        if "/" in role:
            return role
        return f"arn:aws:iam::{_LOCAL_ACCOUNT}:role/{role}"

    # -- S3 objects: files under <store>/s3 ----------------------------------------------------

    def _object_path(self, bucket: str, key: str = "") -> Path:
        return _s3_objects.object_path(self.store, bucket, key)

    def upload_data(self, path, bucket=None, key_prefix="data", callback=None, extra_args=None) -> str:
        """Upload a local file or directory to S3 (the store).

        Args:
            path (str): A local file or directory. A directory is uploaded recursively.
            bucket (str): The bucket (default: the session's default bucket).
            key_prefix (str): The key prefix of the uploaded objects (default: ``data``).
            callback: Accepted for compatibility; unused.
            extra_args: Accepted for compatibility; unused.

        Returns:
            str: ``s3://bucket/key_prefix`` for a directory, ``s3://bucket/key_prefix/<name>``
            for a file (SDK semantics).
        """
        from sagepipe.s3 import determine_bucket_and_prefix

        bucket, key_prefix = determine_bucket_and_prefix(bucket=bucket, key_prefix=key_prefix, sagemaker_session=self)
        path = os.fspath(path)
        if not os.path.exists(path):
            raise ValueError(f"upload_data: {path!r} does not exist")
        files = []
        key_suffix = None
        if os.path.isdir(path):
            for dirpath, _, filenames in os.walk(path):
                for name in filenames:
                    relative = "" if path == dirpath else os.path.relpath(dirpath, start=path) + "/"
                    files.append((os.path.join(dirpath, name), f"{key_prefix}/{relative}{name}"))
        else:
            name = os.path.basename(path)
            files.append((path, f"{key_prefix}/{name}"))
            key_suffix = name
        import shutil  # only for file uploads and downloads (it pulls in the archive modules)

        for local_path, key in files:
            _s3_objects.put_object(self._object_path(bucket, key), functools.partial(shutil.copyfile, local_path))
        s3_uri = f"s3://{bucket}/{key_prefix}"
        return f"{s3_uri}/{key_suffix}" if key_suffix else s3_uri

    def upload_string_as_file_body(self, body, bucket, key, kms_key=None) -> str:
        """Store ``body`` (str or bytes) as the object ``s3://bucket/key`` and return that URI."""
        data = body.encode() if isinstance(body, str) else bytes(body)
        _s3_objects.put_object(self._object_path(bucket, key), lambda tmp: tmp.write_bytes(data))
        return f"s3://{bucket}/{key}"

    def read_s3_bytes(self, bucket: str, key: str) -> bytes:
        """The content of the object ``s3://bucket/key``."""
        path = self._object_path(bucket, key)
        if not path.is_file():
            raise FileNotFoundError(f"s3://{bucket}/{key} does not exist in the store ({path})")
        return path.read_bytes()

    def read_s3_file(self, bucket: str, key_prefix: str) -> str:
        """The content of the object ``s3://bucket/key_prefix`` as UTF-8 text."""
        return self.read_s3_bytes(bucket, key_prefix).decode("utf-8")

    def list_s3_files(self, bucket: str, key_prefix: str) -> List[str]:
        """The keys (sorted) of the objects whose key starts with ``key_prefix``; sidecars excluded."""
        return sorted(key for key, path in _s3_objects.iter_objects(self.store, bucket, key_prefix) if path.is_file())

    def download_data(self, path, bucket, key_prefix="", extra_args=None) -> List[str]:
        """Copy the objects under ``s3://bucket/key_prefix`` into the local directory ``path``.

        Keys are made relative to ``key_prefix`` unless it names a file (has an extension), in
        which case the object's base name is used, as the SDK does.

        Returns:
            list[str]: The local paths written.
        """
        import shutil  # only for file uploads and downloads (it pulls in the archive modules)

        downloaded = []
        for key in self.list_s3_files(bucket, key_prefix):
            tail = os.path.basename(key)
            if not os.path.splitext(key_prefix)[1]:
                tail = os.path.relpath(key, key_prefix)
            destination = os.path.abspath(os.path.join(path, tail))
            if os.path.commonpath([destination, os.path.abspath(path)]) != os.path.abspath(path):
                raise ValueError(f"download_data: key {key!r} would be written outside {path!r}")
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            shutil.copyfile(self._object_path(bucket, key), destination)
            downloaded.append(destination)
        return downloaded

    def __repr__(self) -> str:
        return f"{type(self).__name__}(store={str(self.store_root)!r})"


def session_or_default(sagemaker_session: Optional["Session"] = None) -> "Session":
    """``sagemaker_session``, or a new :class:`Session` (the default store) when it is ``None``.

    What every job class, the S3 helpers and the registry do with a ``sagemaker_session`` left out, as the SDK.
    """
    return sagemaker_session if sagemaker_session is not None else Session()


def get_execution_role(sagemaker_session: Any = None, use_default: bool = False) -> str:
    """A placeholder role ARN: roles are accepted and recorded locally, never needed."""
    return f"arn:aws:iam::{_LOCAL_ACCOUNT}:role/sagepipe-local"
