"""A ``@step`` function that calls boto3 reads and writes the store, in a worker process as in
this one, once ``install()`` routes AWS calls locally (workers inherit the routing)."""

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json
    import sys

    import sagepipe
    sagepipe.install(sdk="mirror")

    import boto3
    from sagemaker.workflow.function_step import step
    from sagemaker.workflow.pipeline import Pipeline
    from sagemaker.workflow.pipeline_context import PipelineSession

    @step(name="Copy")
    def copy():
        import os
        import boto3
        s3 = boto3.client("s3")
        text = s3.get_object(Bucket="data", Key="in.txt")["Body"].read().decode()
        s3.put_object(Bucket="data", Key="out.txt", Body=text.upper().encode())
        return {"read": text, "pid": os.getpid()}

    boto3.client("s3").put_object(Bucket="data", Key="in.txt", Body=b"from the parent")
    session = PipelineSession(function_step_mode=sys.argv[1])
    execution = Pipeline(name="boto-in-step", steps=[copy()], sagemaker_session=session).start()
    execution.wait()
    result = execution.result("Copy")
    written = boto3.client("s3").get_object(Bucket="data", Key="out.txt")["Body"].read().decode()
    print(json.dumps({"status": execution.describe()["PipelineExecutionStatus"], "result": result,
                      "written": written, "parent": __import__("os").getpid()}))
    """
)


def run(tmp_path, mode):
    env = dict(os.environ, SAGEPIPE_STORE=str(tmp_path / "store"), AWS_EC2_METADATA_DISABLED="true")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_DEFAULT_REGION"):
        env.pop(name, None)
    script = tmp_path / "boto_in_step.py"
    script.write_text(SCRIPT)
    out = subprocess.run([sys.executable, str(script), mode], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_worker_function_reads_and_writes_the_store_with_boto3(tmp_path):
    report = run(tmp_path, "worker")
    assert report["status"] == "Succeeded"
    assert report["result"]["read"] == "from the parent" and report["written"] == "FROM THE PARENT"
    assert report["result"]["pid"] != report["parent"]  # it ran in a worker process


def test_an_in_process_function_does_too(tmp_path):
    report = run(tmp_path, "in_process")
    assert report["status"] == "Succeeded" and report["written"] == "FROM THE PARENT"
    assert report["result"]["pid"] == report["parent"]
