"""The README's snippets for the client and the pytest plugin run as written."""

import re
from pathlib import Path

import sagepipe

pytest_plugins = ["pytester"]

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def python_block(after_heading: str) -> str:
    section = README.split(after_heading, 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def example_pipeline_module() -> str:
    """The 30-second example, as a module whose build() returns its pipeline."""
    code = python_block("## A 30-second example").split("pipeline.upsert", 1)[0]
    return code + "\n\ndef build():\n    return pipeline\n"


def test_client_snippet(session, tmp_path, monkeypatch):
    namespace = {}
    exec(compile(example_pipeline_module(), "example", "exec"), namespace)
    pipeline = namespace["build"]()
    pipeline.sagemaker_session = session
    pipeline.start(parameters={"TrainParameter": 5}).wait()
    monkeypatch.setenv("SAGEPIPE_STORE", str(session.store_root))
    snippet = python_block("## boto3-shaped client")
    scope = {}
    exec(compile(snippet, "readme-client", "exec"), scope)
    assert isinstance(scope["sm"], sagepipe.client.LocalSageMakerClient)
    assert [s["StepName"] for s in scope["steps"]][-1] == "PreProcess"
    assert {p["Name"] for p in scope["params"]["PipelineParameters"]} == {"TrainParameter"}
    runs = scope["sm"].list_pipeline_executions(PipelineName="demo")["PipelineExecutionSummaries"]
    assert len(runs) == 2


def test_pipeline_coverage_snippet(pytester):
    pytester.mkpydir("my_project")
    (pytester.path / "my_project" / "pipeline.py").write_text(example_pipeline_module())
    pytester.makepyfile(test_coverage=python_block("## Testing pipelines with pytest"))
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", timeout=600)
    result.assert_outcomes(passed=3)
