"""Content hashes of uploaded code that ignore comment- and whitespace-only edits.

Every ``.py`` file and every ``sourcedir.tar.gz`` that sagepipe uploads into the store gets a
sidecar ``<uploaded path>.sagepipe-code.json``::

    {"normalized_sha256": "<hex>", "files": {"<member path>": "<hex>"}}

A ``.py`` file hashes to the SHA-256 of ``ast.dump(ast.parse(source))`` (no line/column
attributes), so comments, blank lines and formatting do not change it; a file that does not
parse, and every non-``.py`` file, hashes to the SHA-256 of its bytes. ``normalized_sha256``
hashes the per-file hashes in sorted member-path order. The engine compares these to decide
whether the code a step runs has changed.
"""

import ast
import hashlib
import io
import json
from pathlib import Path
from typing import Dict, Union


def sidecar_suffix() -> str:
    """What the store reads a code file's sidecar from: ``<file name><suffix>`` (the engine's
    ``CODE_SIDECAR_SUFFIX``, read when first asked so that building a pipeline loads no engine)."""
    from sagepipe import _core

    return _core.CODE_SIDECAR_SUFFIX


def __getattr__(name: str) -> str:
    if name == "SIDECAR_SUFFIX":  # the constant's old name, for code that imports it
        return sidecar_suffix()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def normalized_file_hash(name: str, data: bytes) -> str:
    """The hash of one file: its AST for Python source, its bytes otherwise.

    Args:
        name (str): The file name (only its suffix matters).
        data (bytes): The file content.
    """
    if name.endswith(".py"):
        try:
            tree = ast.parse(data, filename=name)
        except (SyntaxError, ValueError):
            return hashlib.sha256(data).hexdigest()
        return syntax_tree_hash(tree)
    return hashlib.sha256(data).hexdigest()


def syntax_tree_hash(tree: ast.AST) -> str:
    """The hash of parsed Python source: its AST without line and column attributes."""
    return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()


def combined_hash(files: Dict[str, str]) -> str:
    """The hash of a set of files: per-file hashes in sorted member-path order."""
    sha = hashlib.sha256()
    for member in sorted(files):
        sha.update(member.encode())
        sha.update(b"\0")
        sha.update(files[member].encode())
        sha.update(b"\n")
    return sha.hexdigest()


def code_signature(path: Union[str, Path]) -> dict:
    """The sidecar content for an uploaded code file (a script or a ``.tar.gz`` of sources).

    Args:
        path: The uploaded file.
    Returns:
        dict: ``{"normalized_sha256": ..., "files": {member: hash}}``.
    """
    path = Path(path)
    data = path.read_bytes()
    if path.name.endswith(".tar.gz"):
        import tarfile  # only for uploaded archives; definitions of function steps never need it

        files = {}
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                extracted = tar.extractfile(member) if member.isfile() else None
                if extracted is not None:
                    content = extracted.read()
                    name = member.name[2:] if member.name.startswith("./") else member.name
                    files[name] = normalized_file_hash(member.name, content)
    else:
        files = {path.name: normalized_file_hash(path.name, data)}
    return {"normalized_sha256": combined_hash(files), "files": files}


def needs_sidecar(path: Union[str, Path]) -> bool:
    """Whether an uploaded file is code that gets a sidecar (``*.py`` or ``sourcedir.tar.gz``)."""
    name = Path(path).name
    return name.endswith(".py") or name == "sourcedir.tar.gz"


def write_sidecar(path: Union[str, Path]) -> Path:
    """Write ``<path>.sagepipe-code.json`` next to an uploaded code file and return its path."""
    path = Path(path)
    sidecar = path.with_name(path.name + sidecar_suffix())
    tmp = sidecar.with_name(sidecar.name + ".tmp")
    tmp.write_text(json.dumps(code_signature(path), sort_keys=True))
    tmp.replace(sidecar)
    return sidecar
