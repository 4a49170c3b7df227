"""Processes sagepipe starts while it routes AWS calls (jobs, workers) route boto3 to the same
store, and only when they import botocore: a job that never calls AWS does not import it.

Each check is a fresh interpreter with the environment ``sagepipe._service.route`` exports.
"""

import os
import subprocess
import sys
import textwrap

from sagepipe import _service

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(_service.__file__)))


def run_routed(code: str, store) -> str:
    env = dict(os.environ)
    env.update(
        SAGEPIPE_ROUTE_AWS="s3,sts",
        SAGEPIPE_STORE=str(store),
        AWS_DEFAULT_REGION="us-east-1",
        PYTHONPATH=os.pathsep.join([_service.STARTUP_DIR, PYTHON_DIR, env.get("PYTHONPATH", "")]),
    )
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.strip()


def test_a_job_that_uses_boto3_reads_and_writes_the_store(tmp_path):
    out = run_routed(
        """
        import sys
        assert "botocore" not in sys.modules  # nothing imported before the script asks for it
        import boto3
        boto3.client("s3").put_object(Bucket="b", Key="from/job.txt", Body=b"hello")
        print(boto3.client("sts").get_caller_identity()["Account"])
        """,
        tmp_path,
    )
    assert out == "000000000000"
    assert (tmp_path / "s3" / "b" / "from" / "job.txt").read_bytes() == b"hello"


def test_botocore_alone_is_routed_too(tmp_path):
    out = run_routed(
        """
        import botocore.session
        client = botocore.session.get_session().create_client("sts")
        print(client.get_caller_identity()["Account"])
        """,
        tmp_path,
    )
    assert out == "000000000000"


def test_a_job_that_never_calls_aws_does_not_import_botocore(tmp_path):
    out = run_routed("import sys, json; print(json.dumps('botocore' in sys.modules))", tmp_path)
    assert out == "false"
