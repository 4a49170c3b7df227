"""How a ``@step`` function travels from the definition to a worker.

At definition time the function and its arguments are pickled (cloudpickle) into the store,
at ``<s3_base_uri>/<step>/<func_step_s3_dir>/function.pkl``. Pipeline variables among the
arguments (parameters, execution variables, properties, outputs of other function steps) are
replaced by placeholders; their expressions go into the step's ``--property_references``, the
engine evaluates them at run time, and the worker puts the values back in place.
"""

import functools
import hashlib
import inspect
import json
import linecache
import os
import sys
import textwrap
import weakref
from typing import Any, Dict, List, Optional, Tuple

from sagepipe._code_hash import SIDECAR_SUFFIX, combined_hash, normalized_file_hash

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

    if type(obj) in _PLAIN_SCALARS:
        return obj
    if isinstance(obj, DelayedReturn):
        key = f"Steps.{obj._step.name}.OutputDataConfig.S3OutputPath"
        refs.append((key, {"Std:Join": {"On": "", "Values": [{"Get": key}]}}))
        return _StepResultRef(key, tuple(obj._reference_path))
    if isinstance(obj, PipelineVariable):
        expr = obj.expr
        key = reference_key(expr)
        refs.append((key, expr))
        return _Ref(key)
    if isinstance(obj, (list, tuple)):
        items = [replace_pipeline_variables(v, refs) for v in obj]
        return type(obj)(items) if not hasattr(obj, "_fields") else type(obj)(*items)
    if isinstance(obj, dict):
        return {k: replace_pipeline_variables(v, refs) for k, v in obj.items()}
    return obj


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
    payload_root: str, func, args: tuple, kwargs: dict, code_files: Optional[Dict[str, str]] = None
) -> Tuple[str, List[Tuple[str, Any]]]:
    """Pickle the function and its arguments under ``payload_root/<content hash>/``.

    Returns the directory name (the step's ``--func_step_s3_dir``) and the property references.
    Content addressing makes rebuilding an unchanged pipeline write nothing new. ``code_files``
    is ``_code_files(func)`` when the caller already has it.
    """
    import cloudpickle

    refs: List[Tuple[str, Any]] = []
    payload = {
        "func": func,
        "args": replace_pipeline_variables(tuple(args), refs),
        "kwargs": replace_pipeline_variables(dict(kwargs), refs),
    }
    data = cloudpickle.dumps(payload)
    data_sha256 = hashlib.sha256(data).hexdigest()
    digest = data_sha256[:20]
    target = os.path.join(payload_root, digest)
    path = os.path.join(target, PAYLOAD_FILE)
    # The sidecar is always checked against the code now (functions pickled by reference can
    # change while the pickle stays the same), but a payload this process already wrote with the
    # same code signature is not read or written again: rebuilds of a pipeline change nothing.
    if code_files is None:
        code_files = _code_files(func)
    label = _label(func)
    content = repr((data_sha256, label, sorted(code_files.items())))
    # The sidecar's file version is part of the memo: another process sharing the store may
    # have rewritten it with its own code's signature since.
    sidecar_version = _file_version(path + SIDECAR_SUFFIX)
    if (
        sidecar_version is not None
        and WRITTEN_PAYLOADS.matches(path, repr((content, sidecar_version)))
        and os.path.exists(path)
    ):
        return digest, refs
    sidecar = json.dumps(_signature(label, _arguments_hash(payload), code_files)).encode()
    try:
        with open(path + SIDECAR_SUFFIX, "rb") as f:
            unchanged = f.read() == sidecar
    except OSError:
        unchanged = False
    if not unchanged:
        os.makedirs(target, exist_ok=True)
        write_atomic(path + SIDECAR_SUFFIX, sidecar)
    if not os.path.exists(path):
        write_atomic(path, data)
    WRITTEN_PAYLOADS.add(path, repr((content, _file_version(path + SIDECAR_SUFFIX))))
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


def write_atomic(path: str, data: bytes) -> None:
    """Write a file so no reader ever sees it half written (temporary file, then rename)."""
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _label(func) -> str:
    return f"function {getattr(func, '__qualname__', getattr(func, '__name__', 'function'))}"


def _arguments_hash(payload: Dict[str, Any]) -> str:
    import cloudpickle

    return hashlib.sha256(cloudpickle.dumps((payload["args"], payload["kwargs"]))).hexdigest()


def _signature(label: str, arguments_hash: str, code_files: Dict[str, str]) -> Dict[str, Any]:
    files = {"<arguments>": arguments_hash}
    files.update(code_files)
    return {"normalized_sha256": combined_hash(files), "label": label, "files": files}


def _code_files(func) -> Dict[str, str]:
    """``{file or "file:qualname": normalized hash}`` of the project code ``func`` uses.

    Walks the function, the project-local functions and classes it refers to and the project
    modules it uses. Sources are hashed once per object and file version (see
    ``_source_hash``), so signing thousands of steps that share a function reads it once.
    """
    cwd = os.getcwd()
    files: Dict[str, str] = {}
    seen = set()
    queue = [func]
    while queue and len(seen) < 200:
        obj = queue.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if inspect.ismodule(obj):
            path = getattr(obj, "__file__", None)
            if path and _is_project_file(path):
                files[_relpath(path, cwd)] = _module_hash(path)
            continue
        source = inspect.unwrap(obj) if callable(obj) else obj
        found = _source_hash(source)
        if found is None:
            continue
        path, text_hash = found
        files[f"{_relpath(path, cwd)}:{source.__qualname__}"] = text_hash
        queue.extend(_used_objects(obj))
    return files


def _file_version(path: str) -> Optional[Tuple[int, int, int, int]]:
    """What tells an edited file apart: size, mtime, inode and ctime (an edit that restores the
    mtime, as ``cp -p`` or ``touch -d`` do, still moves the ctime). A same-size edit within one
    timestamp tick goes unseen, as it does for ``linecache``."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)


# function or class -> (library roots, source file, file version, hash of its source); weak so
# the cache never keeps a function alive. A new process starts empty.
_source_hashes: "weakref.WeakKeyDictionary[Any, Tuple[Any, Optional[str], Any, Optional[str]]]" = (
    weakref.WeakKeyDictionary()
)
_module_hashes: Dict[str, Tuple[Tuple[int, int, int, int], str]] = {}
_relpaths: Dict[Tuple[str, str], str] = {}


def _source_hash(obj) -> Optional[Tuple[str, str]]:
    """``(source file, normalized hash of the dedented source)`` of a project-local function
    or class, else None. Cached per object until its file changes or ``sys.path`` does."""
    if not (inspect.isfunction(obj) or inspect.isclass(obj)):
        return None
    roots = _library_roots(tuple(sys.path))
    try:
        cached = _source_hashes.get(obj)
    except TypeError:  # not weakly referenceable or not hashable: no caching
        cached = None
    if cached is not None and cached[0] is roots:
        _, path, version, text_hash = cached
        if path is None or text_hash is None:
            return None
        if version is not None and version == _file_version(path):
            return path, text_hash
    try:
        path = inspect.getsourcefile(obj)
        if path is None or not _is_project_file(path):
            _remember_source(obj, (roots, None, None, None))
            return None
        version = _file_version(path)
        if cached is not None and cached[1] == path:
            # The file changed since we hashed it; linecache, which trusts size and mtime
            # only, might still hold the old lines (an edit that restored the mtime).
            linecache.cache.pop(path, None)
        text = textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):
        return None
    text_hash = normalized_file_hash("source.py", text.encode())
    _remember_source(obj, (roots, path, version, text_hash))
    return path, text_hash


def _remember_source(obj, entry) -> None:
    try:
        _source_hashes[obj] = entry
    except TypeError:
        pass


def _module_hash(path: str) -> str:
    version = _file_version(path)
    cached = _module_hashes.get(path)
    if version is not None and cached is not None and cached[0] == version:
        return cached[1]
    with open(path, "rb") as f:
        text_hash = normalized_file_hash(path, f.read())
    if version is not None:
        _module_hashes[path] = (version, text_hash)
    return text_hash


def _relpath(path: str, cwd: str) -> str:
    key = (path, cwd)
    rel = _relpaths.get(key)
    if rel is None:
        rel = _relpaths[key] = os.path.relpath(path, cwd)
    return rel


def _used_objects(obj) -> List[Any]:
    """Globals and closure values a function's code (nested code included) refers to."""
    if inspect.isclass(obj):
        return [v for v in vars(obj).values() if inspect.isfunction(v)]
    if not inspect.isfunction(obj):
        return []
    names = set()
    codes = [obj.__code__]
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if inspect.iscode(c))
    used = [obj.__globals__[n] for n in sorted(names) if n in obj.__globals__]
    for cell in obj.__closure__ or ():
        try:
            used.append(cell.cell_contents)
        except ValueError:  # an empty cell
            pass
    return used


def _is_project_file(path: str) -> bool:
    """A source file of the user's project: not the standard library, an installed package,
    or sagepipe itself."""
    real = os.path.realpath(path)
    if not os.path.isfile(real) or not real.endswith(".py"):
        return False
    return not any(real.startswith(root + os.sep) for root in _library_roots(tuple(sys.path)))


@functools.lru_cache(maxsize=8)
def _library_roots(search_path: Tuple[str, ...]) -> Tuple[str, ...]:
    import sysconfig

    import sagepipe

    roots = {os.path.dirname(os.path.realpath(sagepipe.__file__))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path))
    roots.update(os.path.realpath(p) for p in search_path if p and "site-packages" in p)
    return tuple(sorted(roots))
