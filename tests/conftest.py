import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # so worker processes can import the step functions of test modules
    sys.path.insert(0, HERE)

from suite_areas import AREA_OF, SLOW  # noqa: E402  (after the path insert above)


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items):
    for item in items:
        module = item.path.stem
        if module in AREA_OF:
            item.add_marker(AREA_OF[module])
        if module in SLOW:
            item.add_marker("slow")


@pytest.fixture
def session(tmp_path):
    """A pipeline session on a fresh store (function steps in worker processes)."""
    from sagepipe.workflow.pipeline_context import PipelineSession

    return PipelineSession(store=tmp_path / "store")


@pytest.fixture
def in_process_session(tmp_path):
    from sagepipe.workflow.pipeline_context import PipelineSession

    return PipelineSession(store=tmp_path / "store", function_step_mode="in_process")
