"""Run unchanged SageMaker SDK scripts on sagepipe: ``sagepipe.install()``.

After :func:`install`, ``import sagemaker`` and every ``sagemaker.X`` for which ``sagepipe.X``
exists (``sagemaker.workflow.pipeline``, ``sagemaker.session``, ``sagemaker.processing``, ...)
resolve to the sagepipe modules themselves: the same module objects, so ``isinstance`` checks
and class identity hold across both names. A ``sagemaker.X`` with no local counterpart fails at
import with a ``ModuleNotFoundError`` that says so. With ``boto3=True`` (the default),
``boto3.client("sagemaker")`` and ``boto3.Session().client("sagemaker")`` return the local
client (:func:`sagepipe.client`); other services are untouched.

Nothing changes until :func:`install` is called, so a real ``sagemaker`` package in the same
environment keeps working for code that does not opt in; :func:`uninstall` restores it
(including ``sagemaker`` modules imported before :func:`install`).

Run a script with the shim installed::

    python -m sagepipe.compat my_pipeline.py [args...]     # or: sagepipe run my_pipeline.py
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import runpy
import sys
import threading
from types import ModuleType
from typing import Any, Dict, List, Optional, Sequence

__all__ = ["install", "uninstall", "installed", "run_script"]

SDK_PACKAGE = "sagemaker"
LOCAL_PACKAGE = "sagepipe"

_lock = threading.Lock()
_stashed_modules: Dict[str, ModuleType] = {}
_original_boto3_client: Optional[Any] = None


def _local_name(sdk_name: str) -> str:
    return LOCAL_PACKAGE + sdk_name[len(SDK_PACKAGE) :]


class _AliasLoader(importlib.abc.Loader):
    """Puts the sagepipe module itself into ``sys.modules`` under the ``sagemaker`` name.

    ``create_module`` returns a throw-away module; ``exec_module`` swaps in the real one, which
    the import system then returns (it re-reads ``sys.modules`` after loading), so the sagepipe
    module's own ``__spec__`` and ``__name__`` stay untouched.
    """

    def __init__(self, local_name: str):
        self.local_name = local_name

    def create_module(self, spec):
        return None

    def exec_module(self, module: ModuleType) -> None:
        sys.modules[module.__name__] = importlib.import_module(self.local_name)


class SageMakerAliasFinder(importlib.abc.MetaPathFinder):
    """Meta path finder mapping ``sagemaker[.X...]`` to ``sagepipe[.X...]``."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname != SDK_PACKAGE and not fullname.startswith(SDK_PACKAGE + "."):
            return None
        local = _local_name(fullname)
        try:
            found = importlib.util.find_spec(local)
        except ModuleNotFoundError:
            found = None
        if found is None:
            raise ModuleNotFoundError(
                f"No module named '{fullname}' under sagepipe.install(): sagepipe has no local '{local}' "
                "(see docs/sagemaker-api-support.md for what runs locally)",
                name=fullname,
            )
        return importlib.machinery.ModuleSpec(
            fullname, _AliasLoader(local), is_package=found.submodule_search_locations is not None
        )


_finder = SageMakerAliasFinder()


def installed() -> bool:
    """Whether :func:`install` is in effect."""
    return _finder in sys.meta_path


def install(boto3: bool = True) -> None:
    """Make ``sagemaker`` imports (and optionally ``boto3.client("sagemaker")``) local.

    Idempotent. ``sagemaker`` modules already imported (e.g. the real SDK) are set aside and
    come back on :func:`uninstall`.

    Args:
        boto3: Also route ``boto3.client("sagemaker")`` to :func:`sagepipe.client` (only when
            boto3 is installed).
    """
    with _lock:
        if not installed():
            for name in [n for n in sys.modules if n == SDK_PACKAGE or n.startswith(SDK_PACKAGE + ".")]:
                _stashed_modules[name] = sys.modules.pop(name)
            sys.meta_path.insert(0, _finder)
        if boto3:
            _patch_boto3()


def uninstall() -> None:
    """Undo :func:`install`: forget the aliases, restore set-aside modules and boto3."""
    with _lock:
        if _finder in sys.meta_path:
            sys.meta_path.remove(_finder)
        for name in [n for n in sys.modules if n == SDK_PACKAGE or n.startswith(SDK_PACKAGE + ".")]:
            if sys.modules[name].__name__.startswith(LOCAL_PACKAGE):
                del sys.modules[name]
        sys.modules.update(_stashed_modules)
        _stashed_modules.clear()
        _unpatch_boto3()


def _patch_boto3() -> None:
    global _original_boto3_client
    if _original_boto3_client is not None or importlib.util.find_spec("boto3") is None:
        return
    import boto3.session

    original = boto3.session.Session.client

    def client(self, service_name, *args, **kwargs):
        if service_name == "sagemaker":
            from sagepipe.client import client as local_client

            return local_client()
        return original(self, service_name, *args, **kwargs)

    client.__doc__ = original.__doc__
    client._sagepipe_original = original
    boto3.session.Session.client = client
    _original_boto3_client = original


def _unpatch_boto3() -> None:
    global _original_boto3_client
    if _original_boto3_client is None:
        return
    import boto3.session

    boto3.session.Session.client = _original_boto3_client
    _original_boto3_client = None


def run_script(path: str, argv: Sequence[str] = (), boto3: bool = True) -> Dict[str, Any]:
    """Run a Python script as ``__main__`` with the shim installed (it stays installed).

    Args:
        path: The script.
        argv: Its arguments (``sys.argv[1:]`` as the script sees it).
        boto3: Route ``boto3.client("sagemaker")`` to the local client too.

    Returns:
        The script's globals.
    """
    install(boto3=boto3)
    saved_argv = sys.argv
    sys.argv = [path, *argv]
    try:
        return runpy.run_path(path, run_name="__main__")
    finally:
        sys.argv = saved_argv


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m sagepipe.compat SCRIPT [ARGS...]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print("usage: python -m sagepipe.compat SCRIPT [ARGS...]\n\nRun a SageMaker SDK script unchanged on sagepipe.")
        return 0 if args else 2
    # Through the imported module, not this __main__ copy, so there is one finder and one state.
    importlib.import_module("sagepipe.compat").run_script(args[0], args[1:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
