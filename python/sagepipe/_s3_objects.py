"""S3 objects as files under the store: ``s3://bucket/key`` is ``<store>/s3/bucket/key``, but for
small ``@step`` results, which the store keeps inline until something needs them as files.

The one home of the rules both the mirror's ``Session`` and the local S3 service follow: an
object is written to a temporary name and renamed (a reader never sees half an object), uploaded
code gets its content-hash sidecar, and listings hide sidecars and temporary files.
"""

import io
import os
import re
import threading
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Tuple

from sagepipe._code_hash import needs_sidecar, sidecar_suffix, write_sidecar

_TMP_SUFFIX = ".tmp"
# put_object's temporaries, ".<name>.<pid>-<thread>.tmp" (a key like ".cache.tmp" stays listed)
_TMP_NAME = re.compile(r"\..+\.[0-9]+-[0-9]+" + re.escape(_TMP_SUFFIX))


def object_path(store, bucket: str, key: str = "") -> Path:
    """The file (or, for a prefix, the directory) of ``s3://bucket/key`` in ``store``. Small
    step outputs the store keeps in its database become files first (at or under the key; for
    the bucket itself, only when its objects are listed: ``iter_objects``)."""
    uri = f"s3://{bucket}/{key}"
    if key:
        store.materialize(uri)
    return Path(store.uri_to_path(uri))


def open_object(store, uri: str) -> BinaryIO:
    """The object ``uri`` opened for reading: its bytes, when the store keeps it inline (a small
    ``@step`` result), else its file. ``FileNotFoundError`` when it has neither."""
    data = store.inline_object(uri)
    if data is not None:
        return io.BytesIO(data)
    path = store.uri_to_path(uri)
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"{uri} does not exist in the store ({path})") from None


def put_object(target: Path, write: Callable[[Path], object]) -> None:
    """Write an object atomically: ``write(tmp)`` fills a temporary file that replaces ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # One temporary per writer: threads writing the same key must not share (and truncate) one.
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}{_TMP_SUFFIX}")
    try:
        write(tmp)
        tmp.replace(target)
    finally:
        if tmp.exists():
            tmp.unlink()
    if needs_sidecar(target):
        write_sidecar(target)


def delete_object(path: Path) -> None:
    """Delete an object's file and the sidecar ``put_object`` gave it."""
    path.unlink()
    sidecar = path.with_name(path.name + sidecar_suffix())
    if sidecar.exists():
        sidecar.unlink()


def is_hidden(name: str) -> bool:
    """Store bookkeeping next to objects (code sidecars, half-written temporaries), not objects."""
    return name.endswith(sidecar_suffix()) or _TMP_NAME.fullmatch(name) is not None


def iter_objects(store, bucket: str, prefix: str = "") -> Iterator[Tuple[str, Path]]:
    """``(key, path)`` of every object of ``bucket`` whose key starts with ``prefix``, unsorted.

    Only the directory the prefix's last complete folder names is walked. Folders are not
    objects (an empty one is what a job left without output).
    """
    root = Path(store.uri_to_path(f"s3://{bucket}/"))
    folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
    try:
        store.materialize(f"s3://{bucket}/{folder}")
        start = Path(store.uri_to_path(f"s3://{bucket}/{folder}"))
    except Exception:  # noqa: BLE001 - a prefix no key can have ('..' parts) lists nothing
        return
    if not start.is_dir():
        return
    for dirpath, _, filenames in os.walk(start):
        relative = os.path.relpath(dirpath, root).replace(os.sep, "/")
        base = "" if relative == "." else relative + "/"
        for name in filenames:
            key = base + name
            if key.startswith(prefix) and not is_hidden(name):
                yield key, Path(dirpath) / name
