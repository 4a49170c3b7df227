"""S3 helpers over the local store (mirror of ``sagemaker.s3`` and ``sagemaker.s3_utils``).

``s3://bucket/key`` is the file ``<store>/s3/bucket/key`` of the session's store; see
:class:`sagepipe.session.Session` for the object operations these helpers call.
"""

from functools import reduce
from typing import Optional, Tuple
from urllib.parse import urlparse

__all__ = [
    "S3Downloader",
    "S3Uploader",
    "determine_bucket_and_prefix",
    "is_s3_url",
    "parse_s3_url",
    "s3_path_join",
]


def parse_s3_url(url: str) -> Tuple[str, str]:
    """Returns an (s3 bucket, key name/prefix) tuple from a url with an s3 scheme.

    Raises:
        ValueError: If the url does not use the ``s3`` scheme.
    """
    parsed_url = urlparse(url)
    if parsed_url.scheme != "s3":
        raise ValueError(f"Expecting 's3' scheme, got: {parsed_url.scheme} in {url}.")
    return parsed_url.netloc, parsed_url.path.lstrip("/")


def is_s3_url(url: str) -> bool:
    """Whether ``url`` uses the ``s3`` scheme."""
    return urlparse(url).scheme == "s3"


def s3_path_join(*args, with_end_slash: bool = False) -> str:
    """Join S3 path parts with ``/``, dropping empty parts and duplicate slashes (SDK semantics).

    Args:
        *args: The parts; ``None`` and ``""`` are skipped.
        with_end_slash (bool): Whether the result ends with ``/``.
    """
    delimiter = "/"
    non_empty_args = [item for item in args if item is not None and item != ""]
    merged_path = ""
    for index, path in enumerate(non_empty_args):
        if index == 0 or (merged_path and merged_path[-1] == delimiter) or (path and path[0] == delimiter):
            merged_path += path
        else:
            merged_path += delimiter + path
    if with_end_slash and merged_path and merged_path[-1] != delimiter:
        merged_path += delimiter

    def drop_repeated_delimiter(sequence, next_char):
        if sequence[-1] == delimiter and next_char == delimiter:
            return sequence
        return sequence + next_char

    filtered_path = merged_path
    if filtered_path:
        if filtered_path.startswith("s3://"):
            filtered_path = reduce(drop_repeated_delimiter, filtered_path[5:], filtered_path[:5])
        else:
            filtered_path = reduce(drop_repeated_delimiter, filtered_path)
    filtered_path = filtered_path.lstrip(delimiter)
    if not with_end_slash and filtered_path != "s3://":
        filtered_path = filtered_path.rstrip(delimiter)
    return filtered_path


def determine_bucket_and_prefix(bucket: Optional[str] = None, key_prefix: Optional[str] = None, sagemaker_session=None):
    """The bucket and key prefix to use: the given bucket, else the session's default bucket/prefix."""
    if bucket:
        return bucket, key_prefix
    return sagemaker_session.default_bucket(), s3_path_join(sagemaker_session.default_bucket_prefix, key_prefix)


def default_bucket_uri(sagemaker_session, *parts, with_end_slash: bool = False) -> str:
    """``s3://<the session's default bucket>/<its default bucket prefix>/<parts>``.

    Where the SDK puts what a job was given no location for (uploaded code and inputs, outputs).
    """
    return s3_path_join(
        "s3://",
        sagemaker_session.default_bucket(),
        sagemaker_session.default_bucket_prefix,
        *parts,
        with_end_slash=with_end_slash,
    )


def pipeline_execution_uri(sagemaker_session, pipeline_name, step_name, *parts):
    """The SDK's default output location of a pipeline step, resolved per execution.

    ``Join("/", ["s3:/", bucket, [prefix], pipeline, Execution.PipelineExecutionId, step, *parts])``.
    """
    from sagepipe.workflow.execution_variables import ExecutionVariables
    from sagepipe.workflow.functions import Join

    bucket = sagemaker_session.default_bucket()
    prefix = sagemaker_session.default_bucket_prefix
    return Join(
        on="/",
        values=[
            "s3:/",
            bucket,
            *([prefix] if prefix else []),
            pipeline_name,
            ExecutionVariables.PIPELINE_EXECUTION_ID,
            step_name,
            *parts,
        ],
    )


def _session(sagemaker_session):
    from sagepipe.session import session_or_default  # here: sagepipe.session's imports reach this module

    return session_or_default(sagemaker_session)


class S3Uploader:
    """Contains static methods for uploading directories or files to S3."""

    @staticmethod
    def upload(local_path, desired_s3_uri, kms_key=None, sagemaker_session=None, callback=None) -> str:
        """Upload a file or directory to ``desired_s3_uri`` (a prefix) and return its S3 URI."""
        bucket, key_prefix = parse_s3_url(url=desired_s3_uri)
        return _session(sagemaker_session).upload_data(path=local_path, bucket=bucket, key_prefix=key_prefix)

    @staticmethod
    def upload_string_as_file_body(body: str, desired_s3_uri=None, kms_key=None, sagemaker_session=None) -> str:
        """Store ``body`` as the object ``desired_s3_uri`` and return that URI."""
        bucket, key = parse_s3_url(desired_s3_uri)
        _session(sagemaker_session).upload_string_as_file_body(body=body, bucket=bucket, key=key, kms_key=kms_key)
        return desired_s3_uri

    @staticmethod
    def upload_bytes(b, s3_uri, kms_key=None, sagemaker_session=None) -> str:
        """Store bytes (or a ``BytesIO``) as the object ``s3_uri`` and return that URI."""
        data = b.getvalue() if hasattr(b, "getvalue") else bytes(b)
        bucket, key = parse_s3_url(s3_uri)
        _session(sagemaker_session).upload_string_as_file_body(body=data, bucket=bucket, key=key)
        return s3_uri


class S3Downloader:
    """Contains static methods for downloading directories or files from S3."""

    @staticmethod
    def download(s3_uri, local_path, kms_key=None, sagemaker_session=None):
        """Download the objects under ``s3_uri`` into ``local_path``; returns the local paths."""
        bucket, key_prefix = parse_s3_url(url=s3_uri)
        return _session(sagemaker_session).download_data(path=local_path, bucket=bucket, key_prefix=key_prefix)

    @staticmethod
    def read_file(s3_uri, sagemaker_session=None) -> str:
        """The content of the object ``s3_uri`` as text."""
        bucket, key = parse_s3_url(url=s3_uri)
        return _session(sagemaker_session).read_s3_file(bucket=bucket, key_prefix=key)

    @staticmethod
    def read_bytes(s3_uri, sagemaker_session=None) -> bytes:
        """The content of the object ``s3_uri`` as bytes."""
        bucket, key = parse_s3_url(s3_uri)
        return _session(sagemaker_session).read_s3_bytes(bucket=bucket, key=key)

    @staticmethod
    def list(s3_uri, sagemaker_session=None):
        """The S3 URIs of the objects under ``s3_uri``."""
        bucket, key_prefix = parse_s3_url(url=s3_uri)
        keys = _session(sagemaker_session).list_s3_files(bucket=bucket, key_prefix=key_prefix)
        return [s3_path_join("s3://", bucket, key) for key in keys]
