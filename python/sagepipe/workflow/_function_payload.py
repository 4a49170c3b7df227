"""How a ``@step`` function travels from the definition to a worker.

At definition time the function and its arguments are pickled (cloudpickle) into the store,
at ``<s3_base_uri>/<step>/<func_step_s3_dir>/function.pkl``. Pipeline variables among the
arguments (parameters, execution variables, properties, outputs of other function steps) are
replaced by placeholders; their expressions go into the step's ``--property_references``, the
engine evaluates them at run time, and the worker puts the values back in place.

Pickling is ``sagepipe.remote_function.core.serialization.CloudpickleSerializer`` (the SDK's
serializer): functions pickled by value keep their source file names there, so a step's
traceback, pdb and breakpoints set by file and line see the user's file.
"""

import contextlib
import functools
import hashlib
import json
import os
import pickle
import threading
from typing import Any, Dict, List, Optional, Tuple

# _Reduced and _with_file_name: payloads pickled before serialization moved name them here.
from sagepipe.remote_function.core.serialization import (  # noqa: F401
    CloudpickleSerializer,
    _Reduced,
    _with_file_name,
)

PAYLOAD_FILE = "function.pkl"
RESULT_FILE = "payload.pkl"
EXCEPTION_FILE = "exception.pkl"
JSON_RESULTS_FILE = "results.json"
JSON_SERIALIZED_RESULT_KEY = "Result"


_PLAIN_SCALARS = frozenset({str, int, float, bool, type(None), bytes})


class _Ref:
    """Stands for a pipeline variable; replaced by the value of ``property_references[key]``."""

    def __init__(self, key: str):
        self.key = key


class _StepResultRef:
    """Stands for the output of another function step (``DelayedReturn``), optionally indexed."""

    def __init__(self, key: str, path: Tuple[Any, ...]):
        self.key = key
        self.path = path


def reference_key(expr: Any) -> str:
    """A stable text key for an expression (the SDK's ``--property_references`` names)."""
    if isinstance(expr, dict) and set(expr) == {"Get"}:
        return expr["Get"]
    return "Expr." + hashlib.sha256(repr(expr).encode()).hexdigest()[:16]


def replace_pipeline_variables(obj: Any, refs: List[Tuple[str, Any]]) -> Any:
    """Copy of ``obj`` with pipeline variables replaced by placeholders; ``refs`` collects
    ``(key, expression)`` pairs for the step's ``--property_references``."""
    from sagepipe.workflow.entities import PipelineVariable
    from sagepipe.workflow.function_step import DelayedReturn

    def replace(obj: Any) -> Any:
        if type(obj) in _PLAIN_SCALARS:
            return obj
        if isinstance(obj, DelayedReturn):
            key = f"Steps.{obj._step.name}.OutputDataConfig.S3OutputPath"
            refs.append((key, {"Std:Join": {"On": "", "Values": [{"Get": key}]}}))
            return _StepResultRef(key, tuple(item for _, item in obj._reference_path))
        if isinstance(obj, PipelineVariable):
            expr = obj.expr
            key = reference_key(expr)
            refs.append((key, expr))
            return _Ref(key)
        if isinstance(obj, (list, tuple)):
            items = [replace(v) for v in obj]
            return type(obj)(items) if not hasattr(obj, "_fields") else type(obj)(*items)
        if isinstance(obj, dict):
            return {k: replace(v) for k, v in obj.items()}
        return obj

    return replace(obj)


def _plain(obj: Any) -> bool:
    """Whether ``obj`` is only scalars, placeholders, lists, tuples and dicts (exact types): then
    the standard pickler writes the very bytes cloudpickle would, several times faster."""
    kind = type(obj)
    if kind in _PLAIN_SCALARS or kind is _Ref:
        return True
    if kind is _StepResultRef:
        return _plain(obj.path)
    if kind is list or kind is tuple:
        return all(_plain(v) for v in obj)
    if kind is dict:
        return all(type(k) in _PLAIN_SCALARS and _plain(v) for k, v in obj.items())
    return False


def _pickle(obj: Any, plain: bool) -> bytes:
    if plain:
        return pickle.dumps(obj, protocol=_pickle_protocol())
    return CloudpickleSerializer.serialize(obj)


@functools.cache
def _pickle_protocol() -> int:
    import cloudpickle

    return cloudpickle.DEFAULT_PROTOCOL


def restore_pipeline_variables(obj: Any, values: Dict[str, Any], load_result) -> Any:
    """Put run-time values in place of placeholders (inverse of ``replace_pipeline_variables``)."""
    if isinstance(obj, _StepResultRef):
        value = load_result(values[obj.key])
        for key in obj.path:
            value = value[key]
        return value
    if isinstance(obj, _Ref):
        return values[obj.key]
    if isinstance(obj, (list, tuple)):
        items = [restore_pipeline_variables(v, values, load_result) for v in obj]
        return type(obj)(items) if not hasattr(obj, "_fields") else type(obj)(*items)
    if isinstance(obj, dict):
        return {k: restore_pipeline_variables(v, values, load_result) for k, v in obj.items()}
    return obj


def write_payload(
    payload_root: str,
    func,
    args: tuple,
    kwargs: dict,
    code_files: Optional[Dict[str, str]] = None,
    func_pickle: Optional[bytes] = None,
) -> Tuple[str, List[Tuple[str, Any]]]:
    """Pickle the function and its arguments under ``payload_root/<content hash>/``.

    Returns the directory name (the step's ``--func_step_s3_dir``) and the property references.
    Content addressing makes rebuilding an unchanged pipeline write nothing new. ``code_files``
    is ``code_files(func)`` (``_code_signature``) and ``func_pickle`` is
    ``CloudpickleSerializer.serialize(func)`` when the caller already has them.
    """
    from sagepipe._code_hash import sidecar_suffix
    from sagepipe.workflow._code_signature import code_files as find_code_files
    from sagepipe.workflow._code_signature import file_version, signature

    refs: List[Tuple[str, Any]] = []
    # The function is pickled on its own so that one compilation pickles each function once,
    # however many steps call it (the pickle of a function pickled by value is most of a step's).
    payload = {
        "func_pickle": func_pickle if func_pickle is not None else CloudpickleSerializer.serialize(func),
        "args": replace_pipeline_variables(tuple(args), refs),
        "kwargs": replace_pipeline_variables(dict(kwargs), refs),
    }
    plain = _plain(payload["args"]) and _plain(payload["kwargs"])
    data = _pickle(payload, plain)
    data_sha256 = hashlib.sha256(data).hexdigest()
    digest = data_sha256[:20]
    target = os.path.join(payload_root, digest)
    path = os.path.join(target, PAYLOAD_FILE)
    # The sidecar is always checked against the code now (functions pickled by reference can
    # change while the pickle stays the same), but a payload this process already wrote with the
    # same code signature is not read or written again: rebuilds of a pipeline change nothing.
    if code_files is None:
        code_files = find_code_files(func)
    label = _label(func)
    content = repr((data_sha256, label, sorted(code_files.items())))
    # The sidecar's file version is part of the memo: another process sharing the store may
    # have rewritten it with its own code's signature since.
    sidecar_version = file_version(path + sidecar_suffix())
    if (
        sidecar_version is not None
        and WRITTEN_PAYLOADS.matches(path, repr((content, sidecar_version)))
        and os.path.exists(path)
    ):
        return digest, refs
    sidecar = json.dumps(signature(label, _arguments_hash(payload, plain), code_files)).encode()
    try:
        with open(path + sidecar_suffix(), "rb") as f:
            unchanged = f.read() == sidecar
    except OSError:
        unchanged = False
    if not unchanged:
        os.makedirs(target, exist_ok=True)
        write_atomic(path + sidecar_suffix(), sidecar)
    if not os.path.exists(path):
        write_atomic(path, data)
    WRITTEN_PAYLOADS.add(path, repr((content, file_version(path + sidecar_suffix()))))
    return digest, refs


class _WrittenPayloads:
    """The payload files this process wrote or verified, and what they hold (pickle digest,
    label, code files), as ``{digest of path: digest of content}``.

    New entries wait in one byte buffer and join the table at ``settle()`` (the start of the
    next compilation). Thousands of small objects made while a definition is being built would
    pin the allocator arenas its temporary requests use: ~30 MB more RSS for 5,000 steps.
    """

    def __init__(self):
        self._table: Dict[bytes, bytes] = {}
        self._pending = bytearray()

    @staticmethod
    def _digest(text: str) -> bytes:
        return hashlib.blake2b(text.encode(), digest_size=16).digest()

    def matches(self, path: str, content: str) -> bool:
        return self._table.get(self._digest(path)) == self._digest(content)

    def add(self, path: str, content: str) -> None:
        self._pending += self._digest(path) + self._digest(content)

    def settle(self) -> None:
        pending, self._pending = self._pending, bytearray()
        for i in range(0, len(pending), 32):
            self._table[bytes(pending[i : i + 16])] = bytes(pending[i + 16 : i + 32])


WRITTEN_PAYLOADS = _WrittenPayloads()


def load_payload(path: str) -> Dict[str, Any]:
    """The payload ``write_payload`` wrote at ``path``: ``{"func", "args", "kwargs"}``. Payloads
    written before functions were pickled on their own hold the function itself."""
    import cloudpickle

    with open(path, "rb") as f:
        payload = cloudpickle.load(f)
    if "func" not in payload:
        payload["func"] = cloudpickle.loads(payload.pop("func_pickle"))
    return payload


def write_atomic(path: str, data: bytes) -> None:
    """Write a file so no reader ever sees it half written (temporary file, then rename)."""
    # Unique per thread too: in-process steps and definitions may write from several threads.
    tmp = f"{path}.tmp.{os.getpid()}.{threading.get_ident()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _label(func) -> str:
    """The function's name as the code signature shows it (the engine adds the kind: "function fit")."""
    return getattr(func, "__qualname__", getattr(func, "__name__", "<function>"))


def _arguments_hash(payload: Dict[str, Any], plain: bool) -> str:
    import cloudpickle

    arguments = (payload["args"], payload["kwargs"])
    # cloudpickle's own pickler, not the payload's: code in the arguments hashes the same from any checkout
    data = pickle.dumps(arguments, protocol=_pickle_protocol()) if plain else cloudpickle.dumps(arguments)
    return hashlib.sha256(data).hexdigest()
