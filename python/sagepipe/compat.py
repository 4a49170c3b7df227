"""Run unchanged SageMaker SDK scripts on sagepipe: ``sagepipe.install(sdk=...)``.

Two front ends, chosen by ``sdk``:

- ``mirror``: ``import sagemaker`` and every ``sagemaker.X`` for which ``sagepipe.X`` exists
  resolve to the sagepipe modules themselves (the same module objects, so ``isinstance`` checks
  and class identity hold across both names). A ``sagemaker.X`` with no local counterpart fails
  at import with a ``ModuleNotFoundError`` that says so. ``boto3.client("sagemaker")`` returns
  the local client (:func:`sagepipe.client`).
- ``real``: the installed SageMaker SDK (v2 or v3) is used as it is; the AWS calls it makes
  (SageMaker, S3, STS, and the IAM role checks of SDK v3) are answered from the local store
  (:mod:`sagepipe._service`), so its ``pipeline.upsert()`` and ``start()`` run the pipeline here.
- ``auto`` (default): ``real`` when a real ``sagemaker`` package is installed, else ``mirror``.

In both, botocore clients of S3 and STS answer from the store (with ``boto3=True``), and the jobs
sagepipe starts inherit that. Nothing changes until :func:`install` is called, so a real
``sagemaker`` package keeps working for code that does not opt in; :func:`uninstall` restores
everything (including ``sagemaker`` modules imported before :func:`install`).

Run a script with it installed::

    python -m sagepipe.compat [--sdk auto|mirror|real] my_pipeline.py [args...]
    sagepipe run [--sdk auto|mirror|real] my_pipeline.py
"""

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import runpy
import sys
import threading
from types import ModuleType
from typing import Any, Dict, Iterator, List, Optional, Sequence

__all__ = ["install", "uninstall", "installed", "mode", "real_sdk_installed", "run_script"]

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


_mode: Optional[str] = None  # "mirror" or "real" while installed
SDK_CHOICES = ("auto", "mirror", "real")


def installed() -> bool:
    """Whether :func:`install` is in effect (either way)."""
    return _mode is not None


def mode() -> Optional[str]:
    """``"mirror"`` or ``"real"`` while :func:`install` is in effect, else None."""
    return _mode


def real_sdk_installed() -> bool:
    """Whether a real ``sagemaker`` package (v2 or v3) is importable in this environment (a
    directory that merely is named ``sagemaker``, a namespace package, is not one)."""
    try:
        spec = importlib.machinery.PathFinder.find_spec(SDK_PACKAGE)
    except (ImportError, ValueError):
        return False
    return spec is not None and spec.loader is not None and spec.origin not in (None, "namespace")


def resolve_sdk(sdk: str) -> str:
    """The front end ``sdk`` means: ``auto`` is ``real`` when a real SDK is installed."""
    if sdk not in SDK_CHOICES:
        raise ValueError(f"sdk must be one of {list(SDK_CHOICES)}, not {sdk!r}")
    if sdk == "auto":
        return "real" if real_sdk_installed() else "mirror"
    return sdk


def install(boto3: bool = True, *, sdk: str = "auto") -> None:
    """Run SageMaker SDK code on sagepipe, with the SDK's mirror or with the real SDK.

    Idempotent; calling it with the other ``sdk`` switches. ``sagemaker`` modules already
    imported are set aside by the mirror and come back on :func:`uninstall`.

    Args:
        boto3: Answer boto3/botocore clients of SageMaker, S3 and STS locally (when boto3 is
            installed). With the real SDK this is how it reaches sagepipe, so it is always on,
            and IAM's role checks are answered too.
        sdk: ``mirror``: ``sagemaker.X`` resolves to ``sagepipe.X``. ``real``: the installed
            SageMaker SDK (v2 or v3) stays, and the AWS calls it makes are answered by the local
            store. ``auto`` (default): ``real`` when a real ``sagemaker`` is installed, else
            ``mirror``.
    """
    global _mode
    chosen = resolve_sdk(sdk)
    if chosen == "real" and not real_sdk_installed():
        raise ModuleNotFoundError(
            "sagepipe.install(sdk='real') needs the SageMaker SDK installed (pip install 'sagemaker<3' or "
            "'sagemaker>=3'); sdk='mirror' runs SDK v2 code without it",
            name=SDK_PACKAGE,
        )
    with _lock:
        if chosen != _mode:
            _remove()
        if chosen == "mirror":
            if _finder not in sys.meta_path:
                for name in [n for n in sys.modules if n == SDK_PACKAGE or n.startswith(SDK_PACKAGE + ".")]:
                    _stashed_modules[name] = sys.modules.pop(name)
                sys.meta_path.insert(0, _finder)
            if boto3:
                _patch_boto3()
                _route_aws(("s3", "sts"))
        else:
            _route_aws(("sagemaker", "s3", "sts", "iam"))
            _silence_sdk_telemetry()
        _mode = chosen


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    """Inside, AWS calls go to AWS whatever :func:`install` (or ``sagepipe._service.route``)
    set up here; it is set up again on leaving. For ``sagepipe deploy``, which talks to the
    real service from a process that answers it locally."""
    mode, patched = _mode, _original_boto3_client is not None
    services: Sequence[str] = ()
    root = os.environ.get("SAGEPIPE_STORE")  # the routed store, while routed
    if importlib.util.find_spec("botocore") is not None:
        from sagepipe import _service

        services = _service.routed_services()
    uninstall()
    try:
        yield
    finally:
        if mode is not None:
            install(boto3=patched or mode == "real", sdk=mode)
        elif services:
            from sagepipe import _service

            _service.route(services, root)


def uninstall() -> None:
    """Undo :func:`install`: forget the aliases, restore set-aside modules, send AWS calls to AWS."""
    global _mode
    with _lock:
        _remove()
        _mode = None


def _remove() -> None:
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in [n for n in sys.modules if n == SDK_PACKAGE or n.startswith(SDK_PACKAGE + ".")]:
        if sys.modules[name].__name__.startswith(LOCAL_PACKAGE):
            del sys.modules[name]
    sys.modules.update(_stashed_modules)
    _stashed_modules.clear()
    _unpatch_boto3()
    if _telemetry_finder in sys.meta_path:
        sys.meta_path.remove(_telemetry_finder)
    for (module, name), function in _silenced.items():
        setattr(module, name, function)
    _silenced.clear()
    if importlib.util.find_spec("botocore") is not None:
        from sagepipe import _service

        _service.unroute()


# The SDK's telemetry GETs an AWS URL per call (named after the account). Locally there is no
# account to report, and without network each attempt logs a traceback, so sagepipe drops them.
_SDK_TELEMETRY_MODULES = ("sagemaker.telemetry.telemetry_logging", "sagemaker.core.telemetry.telemetry_logging")


def _no_telemetry(*args: Any, **kwargs: Any) -> None:
    return None


_silenced: Dict[Any, Any] = {}  # (module, function name) -> the SDK's function, for uninstall


def _silence_telemetry(module: ModuleType) -> None:
    # v3 sends on a thread through the _sync function; v2 sends directly.
    for name in ("_send_telemetry_request_sync", "_send_telemetry_request"):
        if hasattr(module, name):
            _silenced.setdefault((module, name), getattr(module, name))
            setattr(module, name, _no_telemetry)
            return


class _TelemetryLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        _silence_telemetry(module)


class _TelemetryFinder(importlib.abc.MetaPathFinder):
    """Silences the SDK's telemetry module when it is imported (it may be imported later)."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname not in _SDK_TELEMETRY_MODULES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _TelemetryLoader(spec.loader)
        return spec


_telemetry_finder = _TelemetryFinder()


def _silence_sdk_telemetry() -> None:
    if _telemetry_finder not in sys.meta_path:
        sys.meta_path.insert(0, _telemetry_finder)
    for name in _SDK_TELEMETRY_MODULES:
        if name in sys.modules:
            _silence_telemetry(sys.modules[name])


def _route_aws(services) -> None:
    if importlib.util.find_spec("botocore") is None:
        return
    from sagepipe import _service

    _service.route(services)


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
    client._sagepipe_original = original  # type: ignore[attr-defined]  # a function attribute
    boto3.session.Session.client = client
    _original_boto3_client = original


def _unpatch_boto3() -> None:
    global _original_boto3_client
    if _original_boto3_client is None:
        return
    import boto3.session

    boto3.session.Session.client = _original_boto3_client
    _original_boto3_client = None


def run_script(path: str, argv: Sequence[str] = (), boto3: bool = True, sdk: str = "auto") -> Dict[str, Any]:
    """Run a Python script as ``__main__`` with :func:`install` in effect (it stays installed).

    The script's pipelines run here, so the SDK's "No Wait, No Logs" notice is not shown.

    Args:
        path: The script.
        argv: Its arguments (``sys.argv[1:]`` as the script sees it).
        boto3: Answer boto3 clients of SageMaker, S3 and STS locally too.
        sdk: ``auto``, ``mirror`` or ``real`` (see :func:`install`).

    Returns:
        The script's globals.
    """
    from sagepipe.workflow.pipeline_context import pipeline_session_notice_hidden

    install(boto3=boto3, sdk=sdk)
    saved_argv = sys.argv
    sys.argv = [path, *argv]
    try:
        with pipeline_session_notice_hidden():
            return runpy.run_path(path, run_name="__main__")
    finally:
        sys.argv = saved_argv


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m sagepipe.compat SCRIPT [ARGS...]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    sdk = "auto"
    if args[:1] == ["--sdk"] and len(args) > 1:
        sdk, args = args[1], args[2:]
    if not args or args[0] in ("-h", "--help"):
        print(
            "usage: python -m sagepipe.compat [--sdk auto|mirror|real] SCRIPT [ARGS...]\n\n"
            "Run a SageMaker SDK script unchanged on sagepipe."
        )
        return 0 if args else 2
    # Through the imported module, not this __main__ copy, so there is one finder and one state.
    importlib.import_module("sagepipe.compat").run_script(args[0], args[1:], sdk=sdk)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
