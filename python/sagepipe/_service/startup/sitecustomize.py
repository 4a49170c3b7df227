"""Put on ``PYTHONPATH`` of the processes sagepipe starts while it answers AWS calls locally, so
boto3 in a job (a processing script, the SDK's function-step driver) reads and writes the same
store. Only acts when ``SAGEPIPE_ROUTE_AWS`` is set; then runs the ``sitecustomize`` this one
shadows, if any."""

import importlib.machinery
import importlib.util
import os
import sys


def _route() -> None:
    if not os.environ.get("SAGEPIPE_ROUTE_AWS"):
        return
    try:
        from sagepipe._service import route_from_environment
    except ImportError:  # an interpreter without sagepipe (e.g. another virtualenv's)
        return
    route_from_environment()


def _run_shadowed() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    others = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", others)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


_route()
_run_shadowed()
