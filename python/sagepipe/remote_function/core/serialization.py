"""Serialization of remote functions and their data (mirror of
``sagemaker.remote_function.core.serialization``).

:class:`CloudpickleSerializer` is how sagepipe pickles everything a ``@step`` function step
carries (the function, its arguments) and how results are read back. Objects "on S3" are files
of the store: ``<s3_uri>/payload.pkl``, the file name the SDK uses. sagepipe writes no
``metadata.json`` (no integrity hash or HMAC: the store is local and not shared with
untrusted writers).
"""

import functools
import io
import os
import types
from collections import ChainMap
from typing import Any, Callable, Optional

from sagepipe.remote_function.errors import DeserializationError, SerializationError

PAYLOAD_FILE_NAME = "payload.pkl"


class CloudpickleSerializer:
    """Serializer using cloudpickle.

    Code pickled by value keeps its file name: cloudpickle (3.0 and later) names every code
    object it pickles by value ``<dynamic-code>``, and a ``@step`` function is always pickled by
    value (its module attribute is the decorator's wrapper), so without this its tracebacks would
    show no file or source line, pdb no source, and breakpoints set by file and line would never
    match. Code signatures are unaffected: they hash sources by project-relative path
    (``sagepipe.workflow._code_signature``), never the pickle.
    """

    @staticmethod
    def serialize(obj: Any) -> bytes:
        """Pickle ``obj``; raises :class:`SerializationError` naming its type when it cannot."""
        import cloudpickle

        try:
            buffer = io.BytesIO()
            _payload_pickler()(buffer, protocol=cloudpickle.DEFAULT_PROTOCOL).dump(obj)
            return buffer.getvalue()
        except Exception as e:
            raise SerializationError(f"Error when serializing object of type [{type(obj).__name__}]: {e!r}") from e

    @staticmethod
    def deserialize(s3_uri: str, bytes_to_deserialize: bytes) -> Any:
        """Unpickle bytes read from ``s3_uri``; raises :class:`DeserializationError` naming it."""
        import cloudpickle

        try:
            return cloudpickle.loads(bytes_to_deserialize)
        except Exception as e:
            raise DeserializationError(f"Error when deserializing bytes downloaded from {s3_uri}: {e!r}") from e


def _payload_path(sagemaker_session: Any, s3_uri: str) -> str:
    return str(sagemaker_session.store.uri_to_path(f"{s3_uri.rstrip('/')}/{PAYLOAD_FILE_NAME}"))


def _write(sagemaker_session: Any, s3_uri: str, data: bytes) -> None:
    from sagepipe.workflow._function_payload import write_atomic

    path = _payload_path(sagemaker_session, s3_uri)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_atomic(path, data)


def _read(sagemaker_session: Any, s3_uri: str) -> bytes:
    from sagepipe._s3_objects import open_object

    try:
        with open_object(sagemaker_session.store, f"{s3_uri.rstrip('/')}/{PAYLOAD_FILE_NAME}") as f:
            return f.read()
    except FileNotFoundError as e:
        raise DeserializationError(str(e)) from None


def serialize_func_to_s3(func: Callable, sagemaker_session: Any, s3_uri: str, s3_kms_key: Optional[str] = None):
    """Pickle ``func`` to ``<s3_uri>/payload.pkl`` in the session's store."""
    _write(sagemaker_session, s3_uri, CloudpickleSerializer.serialize(func))


def deserialize_func_from_s3(sagemaker_session: Any, s3_uri: str) -> Callable:
    """The function pickled at ``<s3_uri>/payload.pkl``."""
    return CloudpickleSerializer.deserialize(f"{s3_uri}/{PAYLOAD_FILE_NAME}", _read(sagemaker_session, s3_uri))


def serialize_obj_to_s3(obj: Any, sagemaker_session: Any, s3_uri: str, s3_kms_key: Optional[str] = None):
    """Pickle ``obj`` to ``<s3_uri>/payload.pkl`` in the session's store."""
    _write(sagemaker_session, s3_uri, CloudpickleSerializer.serialize(obj))


def deserialize_obj_from_s3(sagemaker_session: Any, s3_uri: str) -> Any:
    """The object pickled at ``<s3_uri>/payload.pkl`` (e.g. a ``@step`` function's result)."""
    return CloudpickleSerializer.deserialize(f"{s3_uri}/{PAYLOAD_FILE_NAME}", _read(sagemaker_session, s3_uri))


def serialize_exception_to_s3(exc: Exception, sagemaker_session: Any, s3_uri: str, s3_kms_key: Optional[str] = None):
    """Pickle an exception to ``<s3_uri>/payload.pkl`` in the session's store."""
    _write(sagemaker_session, s3_uri, CloudpickleSerializer.serialize(exc))


def deserialize_exception_from_s3(sagemaker_session: Any, s3_uri: str) -> Any:
    """The exception pickled at ``<s3_uri>/payload.pkl``."""
    return CloudpickleSerializer.deserialize(f"{s3_uri}/{PAYLOAD_FILE_NAME}", _read(sagemaker_session, s3_uri))


@functools.cache
def _payload_pickler():
    import cloudpickle

    reduce_code = cloudpickle.Pickler.dispatch_table.get(types.CodeType)
    if reduce_code is None:  # a cloudpickle that reduces code objects some other way: as it does
        return cloudpickle.Pickler

    def reduce_code_keeping_file(code: types.CodeType):
        return _with_file_name, (_Reduced(reduce_code(code)), _absolute_file_name(code.co_filename, os.getcwd()))

    class PayloadPickler(cloudpickle.Pickler):
        dispatch_table = ChainMap({types.CodeType: reduce_code_keeping_file}, cloudpickle.Pickler.dispatch_table)

    return PayloadPickler


class _Reduced:
    """Pickles as the reduction it holds (how cloudpickle rebuilds a code object)."""

    def __init__(self, reduced):
        self._reduced = reduced

    def __reduce__(self):
        return self._reduced


def _with_file_name(code: types.CodeType, file_name: str) -> types.CodeType:
    """Unpickling: the rebuilt code object with its file name back."""
    return code if code.co_filename == file_name else code.replace(co_filename=file_name)


@functools.lru_cache(maxsize=256)
def _absolute_file_name(file_name: str, cwd: str) -> str:
    """The file name a step's code runs under: absolute when it names a file (a script run as
    ``runpy.run_path("script.py")`` has a relative one; a worker may run elsewhere), else as is
    (``<stdin>``, a notebook cell's)."""
    if file_name.startswith("<") or os.path.isabs(file_name):
        return file_name
    path = os.path.join(cwd, file_name)
    return os.path.normpath(path) if os.path.exists(path) else file_name
