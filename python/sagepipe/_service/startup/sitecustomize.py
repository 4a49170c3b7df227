"""Put on ``PYTHONPATH`` of the processes sagepipe starts while it answers AWS calls locally, so
boto3 in a job (a processing script, the SDK's function-step driver) reads and writes the same
store. Only acts when ``SAGEPIPE_ROUTE_AWS`` is set; then runs the ``sitecustomize`` this one
shadows, if any.

Routing waits until the process imports ``botocore.session`` (as boto3 does): importing botocore
takes ~0.3 s, which a job that never calls AWS would otherwise pay at every start.
"""

import importlib.machinery
import os
import sys


def _route_now() -> None:
    try:
        from sagepipe._service import route_from_environment
    except ImportError:  # an interpreter without sagepipe (e.g. another virtualenv's)
        return
    route_from_environment()


class _RouteAfterLoading:  # an import loader (not importlib.abc.Loader: importing it takes ~30 ms)
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        # The import system binds `botocore.session` on its package only after this returns;
        # routing uses it now.
        parent, _, child = module.__name__.rpartition(".")
        setattr(sys.modules[parent], child, module)
        _route_now()


class _RouteWhenBotocoreLoads:  # a sys.meta_path finder
    """Routes right after ``botocore.session`` is imported, before any client can be made."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "botocore.session":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _RouteAfterLoading(spec.loader)
        return spec


def _route() -> None:
    if not os.environ.get("SAGEPIPE_ROUTE_AWS"):
        return
    if "botocore.session" in sys.modules:
        _route_now()
    else:
        sys.meta_path.insert(0, _RouteWhenBotocoreLoads())


def _run_shadowed() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    others = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", others)
    if spec is not None and spec.loader is not None:
        from importlib.util import module_from_spec

        module = module_from_spec(spec)
        spec.loader.exec_module(module)


_route()
_run_shadowed()
