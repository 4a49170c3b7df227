"""The sagepipe pytest plugin (registered through the ``pytest11`` entry point).

With sagepipe installed, every test gets its own store: ``SAGEPIPE_STORE`` points into the
test's temporary directory, so no test sees another's runs and nothing is written into the
working tree (turn it off with ``sagepipe_isolated_store = false`` in the pytest ini options).

Fixtures:
    sagepipe_store: the test's store directory (a ``pathlib.Path``; created on first use).
    sagepipe_session: a ``PipelineSession`` on that store.
    sagepipe_client: ``sagepipe.client()`` on that store (the boto3-shaped client).
    run_pipeline: ``run_pipeline(pipeline, selective_execution_config=None, **parameters)``
        starts the pipeline on the test's session and returns the finished execution.

Assertions live in :mod:`sagepipe.testing` (``assert_steps``, ``assert_step_succeeded``...).
"""

import hashlib
from pathlib import Path
from typing import Any, Callable

import pytest

from sagepipe.session import STORE_ENV

_INI = "sagepipe_isolated_store"


def pytest_addoption(parser) -> None:
    parser.addini(_INI, "give every test its own sagepipe store (default true)", type="bool", default=True)


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "sagepipe_shared_store: use the ambient sagepipe store in this test")


def _test_store(request, tmp_path_factory) -> Path:
    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
    return tmp_path_factory.getbasetemp() / "sagepipe-stores" / digest


@pytest.fixture(autouse=True)
def _sagepipe_isolated_store(request, tmp_path_factory, monkeypatch):
    """Point ``SAGEPIPE_STORE`` at a per-test directory (only created if the test uses it)."""
    if request.config.getini(_INI) and request.node.get_closest_marker("sagepipe_shared_store") is None:
        monkeypatch.setenv(STORE_ENV, str(_test_store(request, tmp_path_factory)))
    yield


@pytest.fixture
def sagepipe_store(request, tmp_path_factory) -> Path:
    """The test's own store directory."""
    path = _test_store(request, tmp_path_factory)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def sagepipe_session(sagepipe_store):
    """A ``PipelineSession`` on the test's store."""
    from sagepipe.workflow.pipeline_context import PipelineSession

    return PipelineSession(store=sagepipe_store)


@pytest.fixture
def sagepipe_client(sagepipe_session):
    """The boto3-shaped local SageMaker client on the test's store."""
    from sagepipe.client import client

    return client(sagemaker_session=sagepipe_session)


@pytest.fixture
def run_pipeline(sagepipe_session) -> Callable[..., Any]:
    """Run a pipeline to the end on the test's session: ``run_pipeline(pipeline, **parameters)``."""

    def run(pipeline, selective_execution_config=None, timeout: float = 600.0, **parameters):
        pipeline.sagemaker_session = sagepipe_session
        execution = pipeline.start(parameters=parameters, selective_execution_config=selective_execution_config)
        execution.wait(delay=1, max_attempts=max(int(timeout), 1), progress=False)
        return execution

    return run
