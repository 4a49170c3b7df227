"""``sagepipe.install()``: ``import sagemaker`` resolves to sagepipe, only after opting in.

Each check runs in a fresh interpreter, since installing the shim changes ``sys.modules``.
"""

import subprocess
import sys
import textwrap

import pytest


@pytest.fixture
def fake_sdk(tmp_path):
    """A stand-in for the real ``sagemaker`` package, first on ``sys.path``."""
    root = tmp_path / "site"
    (root / "sagemaker" / "workflow").mkdir(parents=True)
    (root / "sagemaker" / "__init__.py").write_text("REAL = True\n__version__ = '2.999-fake'\n")
    (root / "sagemaker" / "workflow" / "__init__.py").write_text("")
    (root / "sagemaker" / "workflow" / "pipeline.py").write_text("class Pipeline:\n    REAL = True\n")
    return root


def run_python(code: str, *path: str) -> str:
    prelude = f"import sys\nsys.path[:0] = {[str(p) for p in path]!r}\n"
    out = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_real_sdk_untouched_without_opt_in(fake_sdk):
    out = run_python(
        """
        import sagepipe, sagepipe.client, sagepipe.workflow.pipeline
        import sagemaker
        from sagemaker.workflow.pipeline import Pipeline
        assert sagemaker.REAL and Pipeline.REAL
        import boto3
        assert type(boto3.client("sagemaker", region_name="us-east-1")).__name__ == "SageMaker"
        print("untouched")
        """,
        fake_sdk,
    )
    assert out.strip() == "untouched"


def test_install_aliases_modules_and_boto3_then_uninstall_restores(fake_sdk):
    out = run_python(
        """
        import sagemaker as real
        import sagemaker.workflow.pipeline as real_pipeline
        import sagepipe
        sagepipe.install(sdk="mirror")  # auto would keep this (fake) real SDK

        import sagemaker
        from sagemaker.workflow.pipeline import Pipeline
        from sagemaker.workflow.pipeline_context import PipelineSession
        from sagemaker.workflow.function_step import step
        import sagepipe.workflow.pipeline, sagepipe.workflow.pipeline_context, sagepipe.session
        assert sagemaker is sagepipe
        assert Pipeline is sagepipe.workflow.pipeline.Pipeline
        assert sagemaker.workflow.pipeline is sagepipe.workflow.pipeline
        assert sagemaker.session.Session is sagepipe.session.Session is sagemaker.Session
        assert isinstance(PipelineSession(), sagemaker.session.Session)
        assert sagemaker.get_execution_role().startswith("arn:aws:iam::")
        assert sagemaker.workflow.pipeline.__spec__.name == "sagepipe.workflow.pipeline"
        import boto3
        assert type(boto3.client("sagemaker")).__name__ == "LocalSageMakerClient"
        assert type(boto3.session.Session().client("sagemaker")).__name__ == "LocalSageMakerClient"
        assert type(boto3.client("s3", region_name="us-east-1")).__name__ == "S3"
        try:
            import sagemaker.no_such_module
        except ModuleNotFoundError as e:
            assert "sagepipe has no local 'sagepipe.no_such_module'" in str(e), e
        else:
            raise AssertionError("expected ModuleNotFoundError")

        sagepipe.uninstall()
        import sagemaker
        assert sagemaker is real and sagemaker.REAL
        from sagemaker.workflow.pipeline import Pipeline
        assert Pipeline is real_pipeline.Pipeline
        assert type(boto3.client("sagemaker", region_name="us-east-1")).__name__ == "SageMaker"
        print("ok")
        """,
        fake_sdk,
    )
    assert out.strip() == "ok"


def test_every_sagepipe_module_is_reachable_as_sagemaker():
    """Generic mapping: any sagepipe.X (including SDK modules added later) is sagemaker.X."""
    out = run_python(
        """
        import importlib, pkgutil
        import sagepipe
        sagepipe.install(boto3=False)
        names = [m.name for m in pkgutil.walk_packages(sagepipe.__path__, "sagepipe.")
                 if not m.name.endswith("__main__") and "._" not in m.name]
        for name in names:
            alias = "sagemaker" + name[len("sagepipe"):]
            assert importlib.import_module(alias) is importlib.import_module(name), name
        print(len(names))
        """
    )
    assert int(out) >= 20


def test_sdk_top_level_names_resolve_lazily():
    out = run_python(
        """
        import sagepipe
        sagepipe.install(boto3=False)
        import sagemaker
        from sagemaker.workflow.pipeline_context import LocalPipelineSession
        assert sagemaker.LocalPipelineSession is LocalPipelineSession
        assert sagemaker.workflow is sagepipe.workflow
        try:
            sagemaker.NoSuchName
        except AttributeError as e:
            print("missing:", e)
        """
    )
    assert "has no attribute 'NoSuchName'" in out


def test_auto_keeps_an_installed_sdk_and_answers_its_aws_calls(fake_sdk, tmp_path):
    """``auto`` picks the real SDK when one is installed: its modules stay, and botocore clients
    of SageMaker, S3 and STS answer from the store until ``uninstall``."""
    out = run_python(
        f"""
        import os
        os.environ["SAGEPIPE_STORE"] = {str(tmp_path / "store")!r}
        import sagepipe, sagepipe.compat
        sagepipe.install()
        assert sagepipe.compat.mode() == "real"
        import sagemaker, boto3
        assert sagemaker.REAL
        sm = boto3.client("sagemaker")
        assert type(sm).__name__ == "SageMaker"  # botocore's own client, answered locally
        assert sm.list_pipelines()["PipelineSummaries"] == []
        assert boto3.client("sts").get_caller_identity()["Account"] == "000000000000"
        sagepipe.install(sdk="mirror")  # switching front ends
        assert sagepipe.compat.mode() == "mirror" and sagemaker is not __import__("sagemaker")
        sagepipe.uninstall()
        assert sagepipe.compat.mode() is None and __import__("sagemaker").REAL
        print("ok")
        """,
        fake_sdk,
    )
    assert out.strip() == "ok"


def test_auto_without_a_real_sdk_is_the_mirror():
    out = run_python(
        """
        import sagepipe, sagepipe.compat
        sagepipe.install(boto3=False)
        import sagemaker
        print(sagepipe.compat.mode(), sagemaker is sagepipe)
        """
    )
    assert out.split() == ["mirror", "True"]


def test_real_without_an_sdk_says_how_to_get_one():
    out = run_python(
        """
        import sagepipe
        try:
            sagepipe.install(sdk="real")
        except ModuleNotFoundError as e:
            print(e)
        """
    )
    assert "needs the SageMaker SDK installed (pip install 'sagemaker<3' or 'sagemaker>=3')" in out


def test_a_directory_named_sagemaker_is_not_a_real_sdk(tmp_path):
    """Regression: the SDK leaves a /tmp/sagemaker directory; as a namespace package on sys.path it
    made auto pick the real SDK (and --sdk real run without one)."""
    (tmp_path / "sagemaker" / "model-builder").mkdir(parents=True)
    out = run_python(
        """
        import sagepipe.compat
        print(sagepipe.compat.real_sdk_installed(), sagepipe.compat.resolve_sdk("auto"))
        """,
        tmp_path,
    )
    assert out.split() == ["False", "mirror"]
