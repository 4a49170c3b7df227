"""Put on ``PYTHONPATH`` of the processes sagepipe starts while it answers AWS calls locally, so
boto3 in a job (a processing script, the SDK's function-step driver) reads and writes the same
store. Only acts when ``SAGEPIPE_ROUTE_AWS`` is set; then runs the ``sitecustomize`` this one
shadows, if any.

Routing waits until the process imports ``botocore.session`` (which ``import boto3`` does):
importing botocore and sagepipe costs about half a second, which a job that never calls AWS
should not pay at start-up.
"""

import importlib.machinery
import os
import sys

_TRIGGER = "botocore.session"


def _route() -> None:
    try:
        from sagepipe._service import route_from_environment
    except ImportError:  # an interpreter without sagepipe (e.g. another virtualenv's)
        return
    route_from_environment()


class _RouteWhenBotocoreLoads:
    """A meta path finder: finds ``botocore.session`` through the other finders and routes once
    it has loaded. (Not an ``importlib.abc`` subclass: importing that takes 60 ms.)"""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _TRIGGER:
            return None
        sys.meta_path.remove(self)
        spec = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find else None
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            # importlib binds the submodule to its package only after this returns; routing
            # reads botocore.session now.
            sys.modules["botocore"].session = module
            _route()

        spec.loader.exec_module = exec_module  # this module's own loader instance
        return spec


def _route_on_import() -> None:
    if not os.environ.get("SAGEPIPE_ROUTE_AWS"):
        return
    if _TRIGGER in sys.modules:
        _route()
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


_route_on_import()
_run_shadowed()
