"""What identifies the code a ``@step`` function runs, for its payload's signature.

The signature of a payload (its ``.sig`` sidecar; see ``sagepipe._code_hash``) names every
project source file the function uses with a normalized hash, so a cache or a reuse check
sees an edit of the function or of a helper it calls. Only definitions sign code: the
payload format a worker loads (``_function_payload``) does not import this module, so a worker
pays for the AST hashing only if the user's own modules import ``function_step``.
"""

import ast
import functools
import inspect
import linecache
import os
import sys
import textwrap
import weakref
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Set, Tuple

from sagepipe._code_hash import combined_hash, normalized_file_hash, syntax_tree_hash


def signature(label: str, arguments_hash: str, code_files: Dict[str, str]) -> Dict[str, Any]:
    files = {"<arguments>": arguments_hash}
    files.update(code_files)
    return {"normalized_sha256": combined_hash(files), "label": label, "files": files}


def code_files(func) -> Dict[str, str]:
    """``{file or "file:qualname": normalized hash}`` of the project code ``func`` uses.

    Walks the function, the project-local functions and classes it refers to and the project
    modules it uses. Sources are hashed once per object and file version (see
    ``_source_hash``), so signing thousands of steps that share a function reads it once.
    """
    cwd = os.getcwd()
    files: Dict[str, str] = {}
    seen: Set[int] = set()
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


def file_version(path: str) -> Optional[Tuple[int, int, int, int]]:
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
        if version is not None and version == file_version(path):
            return path, text_hash
    try:
        path = inspect.getsourcefile(obj)
        if path is None or not _is_project_file(path):
            _remember_source(obj, (roots, None, None, None))
            return None
        version = file_version(path)
        if cached is not None and cached[1] == path:
            # The file changed since we hashed it; linecache, which trusts size and mtime
            # only, might still hold the old lines (an edit that restored the mtime).
            linecache.cache.pop(path, None)
        text_hash = _definition_hash(path, version, obj)
        if text_hash is None:
            text = textwrap.dedent(inspect.getsource(obj))
            text_hash = normalized_file_hash("source.py", text.encode())
    except (OSError, TypeError):
        return None
    _remember_source(obj, (roots, path, version, text_hash))
    return path, text_hash


class _FileDefinitions:
    """The functions and classes one version of a source file defines, from one parse of it:
    functions by (first line, decorators included, and name), as their code objects know them;
    classes by qualified name. A key defined twice maps to None (the caller asks ``inspect``)."""

    def __init__(self, version, tree: ast.Module):
        self.version = version
        self.nodes: Dict[Any, Optional[ast.stmt]] = {}
        self.hashes: Dict[Any, str] = {}
        self._index(tree.body, "")

    def _index(self, body, prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualname = prefix + node.name
                if isinstance(node, ast.ClassDef):
                    key: Any = ("class", qualname)
                    inner = qualname + "."
                else:
                    first = min([d.lineno for d in node.decorator_list] + [node.lineno])
                    key = ("function", first, node.name)
                    inner = qualname + ".<locals>."
                self.nodes[key] = None if key in self.nodes else node
                self._index(node.body, inner)
            else:
                # Definitions under if/for/while/with/try/match at this level: same prefix.
                for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                    self._index(getattr(node, field, None) or [], prefix)


# source file -> its definitions at the version last parsed, for the few files read last: an
# AST is ~2 KB per source line, and each function's hash is kept with it anyway (_source_hashes).
_file_definitions: "OrderedDict[str, _FileDefinitions]" = OrderedDict()
_FILES_KEPT = 8


def _definition_hash(path: str, version, obj) -> Optional[str]:
    """The hash ``normalized_file_hash`` gives ``obj``'s dedented source (its definition's AST,
    alone in a module), found in one parse of its file per file version instead of tokenizing
    the file per object as ``inspect.getsource`` does. None when the file does not parse or
    does not define ``obj`` unambiguously (a lambda, a definition that moved since import)."""
    if inspect.isclass(obj):
        key: Any = ("class", obj.__qualname__)
    else:
        code = obj.__code__  # its own first line and name (a wrapper may carry another __name__)
        key = ("function", code.co_firstlineno, code.co_name)
    found = _file_definitions.pop(path, None)
    if found is None or version is None or found.version != version:
        try:
            with open(path, "rb") as f:
                tree = ast.parse(f.read(), filename=path)
        except (OSError, SyntaxError, ValueError):
            return None
        found = _FileDefinitions(version, tree)
    if version is not None:
        _file_definitions[path] = found  # the most recently used last
        while len(_file_definitions) > _FILES_KEPT:
            _file_definitions.popitem(last=False)
    text_hash = found.hashes.get(key)
    if text_hash is None:
        node = found.nodes.get(key)
        if node is None:
            return None
        text_hash = syntax_tree_hash(ast.Module(body=[node], type_ignores=[]))
        found.hashes[key] = text_hash
    return text_hash


def _remember_source(obj, entry) -> None:
    try:
        _source_hashes[obj] = entry
    except TypeError:
        pass


def _module_hash(path: str) -> str:
    version = file_version(path)
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
    names: Set[str] = set()
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
