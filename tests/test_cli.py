"""The ``sagepipe`` command line, end to end in real subprocesses."""

import json
import os
import pty
import shutil
import subprocess
import sys
import time

import cli_lib
import pytest
import store_lib

HERE = os.path.dirname(os.path.abspath(__file__))
SDK_SCRIPT = os.path.join(HERE, "fixtures", "scripts", "sdk_pipeline.py")
COMMANDS = ["run", "plan", "show", "executions", "steps", "params", "logs", "stop", "demo", "gc"]
MISSING_ARN = "arn:aws:sagemaker:local:000000000000:pipeline/cli-demo/execution/abcdefabcdef"


@pytest.fixture
def cli(tmp_path):
    """``cli(*args)`` runs ``python -m sagepipe.cli`` on a fresh store in ``tmp_path``."""
    store = str(tmp_path / "store")
    python_path = os.pathsep.join([HERE, os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, CLI_WORKDIR=str(tmp_path), PYTHONPATH=python_path)
    env.pop("SAGEPIPE_PROGRESS", None)

    def run(*args, store_arg=True, extra_env=None, timeout=300):
        store_option = ["--store", store] if store_arg else []  # before any `--` meant for a script
        cmd = [sys.executable, "-m", "sagepipe.cli", *args[:1], *store_option, *args[1:]]
        return subprocess.run(
            cmd, cwd=str(tmp_path), env=dict(env, **(extra_env or {})), capture_output=True, text=True, timeout=timeout
        )

    run.store, run.env, run.workdir = store, env, str(tmp_path)
    return run


def ok(result, code=0):
    assert result.returncode == code, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


def test_help_everywhere(cli):
    top = ok(cli("--help", store_arg=False))
    for command in COMMANDS:
        assert command in top.stdout
        sub = ok(cli(command, "--help", store_arg=False))
        assert "--store" in sub.stdout, command
        # The demo prints a report for people, so its help offers no --json.
        assert ("--json" in sub.stdout) == (command != "demo"), command
    assert "exit codes" in top.stdout


def test_entry_point_is_installed():
    from importlib.metadata import entry_points

    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts.get("sagepipe") == "sagepipe.cli:main"


def test_usage_errors_exit_2(cli):
    assert ok(cli("frobnicate", store_arg=False), 2)
    assert "can only be run" in ok(cli("plan", SDK_SCRIPT), 2).stderr
    both = ok(cli("run", "cli_lib:pipeline", "--select", "Train", "--resume", MISSING_ARN), 2)
    assert "cannot be combined" in both.stderr
    assert "only applies with --select" in ok(cli("plan", "cli_lib:pipeline", "--reference", "latest"), 2).stderr
    assert "Name=Value" in ok(cli("run", "cli_lib:pipeline", "-p", "Lr"), 2).stderr
    assert "Unknown" in ok(cli("plan", "cli_lib:pipeline", "--select", "Unknown"), 2).stderr


def test_not_found_exits_3(cli):
    assert ok(cli("steps", MISSING_ARN), 3)
    assert ok(cli("params", MISSING_ARN), 3)
    assert ok(cli("run", "missing.json"), 3)
    assert ok(cli("show", "no-such-pipeline"), 3)
    assert ok(cli("run", "cli_lib:nothing_here"), 3)


def test_unchanged_sdk_script_runs_through_sagepipe_run(cli):
    result = ok(cli("run", SDK_SCRIPT))
    assert "STEPS BigEnough,Make,Total" in result.stdout
    assert "STATUS Succeeded" in result.stdout
    assert "RESULT {'sum': 6}" in result.stdout
    assert "SESSION sagepipe.workflow.pipeline_context True" in result.stdout
    # the script's arguments reach it; a run that fails makes `sagepipe run` exit 1
    failed = ok(cli("run", SDK_SCRIPT, "--", "2"), 1)
    assert "STATUS Failed" in failed.stdout
    listed = json.loads(ok(cli("executions", "sdk-script", "--json")).stdout)
    assert [e["PipelineExecutionStatus"] for e in listed] == ["Failed", "Succeeded"]
    assert ok(cli("run", SDK_SCRIPT, "-p", "Count=3"), 2)


def test_python_dash_m_compat_runs_a_script(cli):
    result = subprocess.run(
        [sys.executable, "-m", "sagepipe.compat", SDK_SCRIPT],
        cwd=cli.workdir,
        env=dict(cli.env, SAGEPIPE_STORE=cli.store),
        capture_output=True,
        text=True,
        timeout=300,
    )
    ok(result)
    assert "STATUS Succeeded" in result.stdout


def test_run_select_resume_and_inspect(cli):
    first = json.loads(ok(cli("run", "cli_lib:pipeline", "-p", "Lr=2", "--json", "--display-name", "first")).stdout)
    assert first["PipelineExecutionStatus"] == "Succeeded"
    arn = first["PipelineExecutionArn"]
    assert {s["StepName"] for s in first["PipelineExecutionSteps"]} == {"Prepare", "Train", "LossOk"}

    plan = json.loads(ok(cli("plan", "cli_lib:pipeline", "--select", "Train", "--json")).stdout)
    assert plan["ReferenceExecutionArn"] == arn
    assert {e["step"]: e["action"] for e in plan["Steps"]}["Prepare"] == "reuse"
    assert "reuse" in ok(cli("plan", "cli_lib:pipeline", "--select", "Train", "--reference", arn)).stdout

    rerun = json.loads(ok(cli("run", "cli_lib:pipeline", "--select", "Train", "-p", "Lr=4", "--json")).stdout)
    steps = {s["StepName"]: s for s in rerun["PipelineExecutionSteps"]}
    assert steps["Prepare"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": arn}
    assert set(steps) == {"Prepare", "Train"}
    assert open(os.path.join(cli.workdir, "Prepare.count")).read() == "1"
    params = json.loads(ok(cli("params", rerun["PipelineExecutionArn"], "--json")).stdout)
    assert params == [{"Name": "Lr", "Value": "4.0"}]
    assert ok(cli("params", arn)).stdout.strip() == "Lr=2.0"

    table = ok(cli("steps", rerun["PipelineExecutionArn"])).stdout
    assert "reused from " + arn.rsplit("/", 1)[-1] in table
    prepare_row = next(line for line in table.splitlines() if line.startswith("Prepare "))
    assert " s " not in prepare_row  # no duration of the run it is reused from
    assert "training with lr=4.0" in ok(cli("logs", rerun["PipelineExecutionArn"], "Train")).stdout
    assert ok(cli("logs", arn, "NoSuchStep"), 3)

    with open(os.path.join(cli.workdir, "Train.mode"), "w") as f:
        f.write("bad")
    failed = ok(cli("run", "cli_lib:pipeline", "--quiet"), 1)
    assert "Failed" in failed.stdout and failed.stderr == ""
    failed_arn = failed.stdout.split()[0]
    os.remove(os.path.join(cli.workdir, "Train.mode"))
    resumed = json.loads(ok(cli("run", "cli_lib:pipeline", "--resume", failed_arn, "--json")).stdout)
    resumed_steps = {s["StepName"]: s for s in resumed["PipelineExecutionSteps"]}
    assert resumed_steps["Prepare"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": failed_arn}
    assert resumed_steps["Train"]["StepStatus"] == "Succeeded"

    executions = json.loads(ok(cli("executions", "--json", "--limit", "2")).stdout)
    assert [e["PipelineExecutionArn"] for e in executions][1] == failed_arn
    assert "first" in ok(cli("executions")).stdout


def test_changed_selection(cli):
    ok(cli("run", "cli_lib:pipeline", "--quiet"))
    plan = json.loads(ok(cli("plan", "cli_lib:pipeline", "--changed", "-p", "Lr=3", "--json")).stdout)
    actions = {e["step"]: e["action"] for e in plan["Steps"]}
    assert actions["Prepare"] == "reuse" and actions["Train"] == "run", actions
    ok(cli("run", "cli_lib:pipeline", "--changed", "-p", "Lr=3", "--quiet"))
    assert open(os.path.join(cli.workdir, "Prepare.count")).read() == "1"
    assert open(os.path.join(cli.workdir, "Train.count")).read() == "2"
    # Regression: `plan` must answer as `run` does; both inherit the reference's parameters
    # (Lr=3 now), so nothing changed for either of them.
    assert "no step changed" in ok(cli("plan", "cli_lib:pipeline", "--changed"), 2).stderr
    assert "no step changed" in ok(cli("run", "cli_lib:pipeline", "--changed", "--quiet"), 2).stderr


def test_definition_json_target_and_exit_codes(cli, tmp_path):
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(cli_lib.PARAMETER_ONLY_DEFINITION))
    failed = ok(cli("run", str(path), "-p", "Threshold=1"), 1)
    assert "pipeline/gate/execution/" in failed.stdout and "Failed" in failed.stdout
    ok(cli("run", str(path), "-p", "Threshold=7", "--name", "gate"))
    shown = ok(cli("show", "gate")).stdout
    assert "Below (Fail)" in shown and "<- Gate (else)" in shown
    broken = tmp_path / "broken.json"
    broken.write_text('{"Version": "2020-12-01", "Steps": [{"Name": "A", "Type": "Nope"}]}')
    assert ok(cli("run", str(broken)), 2)


def test_show_text_json_and_html(cli, tmp_path):
    text = ok(cli("show", "cli_lib:pipeline")).stdout
    assert "Train (Training)  <- Prepare" in text
    run = json.loads(ok(cli("run", "cli_lib:pipeline", "--json", "--quiet")).stdout)
    out = tmp_path / "execution.html"
    states = json.loads(ok(cli("show", run["PipelineExecutionArn"], "--json", "--html", str(out))).stdout)["states"]
    assert states == {"Prepare": "succeeded", "Train": "succeeded", "LossOk": "succeeded", "LossTooHigh": "not-run"}
    page = out.read_text()
    assert page.count('class="step"') == 4 and "<svg" in page


def test_progress_lines_when_not_a_tty(cli):
    shown = ok(cli("run", "cli_lib:pipeline")).stderr
    assert "[sagepipe]   Train: succeeded" in shown
    assert "[sagepipe] cli-demo" in shown
    assert "[sagepipe]" not in ok(cli("run", "cli_lib:pipeline", "-q")).stderr
    assert "[sagepipe]" not in ok(cli("run", "cli_lib:pipeline", extra_env={"SAGEPIPE_PROGRESS": "0"})).stderr


def test_progress_updates_in_place_on_a_tty(cli):
    controller, terminal = pty.openpty()
    cmd = [sys.executable, "-m", "sagepipe.cli", "run", "cli_lib:pipeline", "--store", cli.store]
    proc = subprocess.Popen(cmd, cwd=cli.workdir, env=cli.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=terminal)  # fmt: skip
    os.close(terminal)
    stdout, _ = proc.communicate(timeout=300)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert proc.returncode == 0, stdout
    text = shown.decode()
    assert "\x1b[2K" in text  # lines cleared and rewritten
    assert "+ Train" in text and "succeeded" in text


def test_stop_from_another_process(cli):
    with open(os.path.join(cli.workdir, "Train.mode"), "w") as f:
        f.write("slow")
    runner = subprocess.Popen(
        [sys.executable, "-m", "sagepipe.cli", "run", "cli_lib:pipeline", "--quiet", "--store", cli.store],
        cwd=cli.workdir, env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        arn = None
        for _ in range(300):
            listed = json.loads(ok(cli("executions", "--json")).stdout)
            if listed:
                arn = listed[0]["PipelineExecutionArn"]
                steps = json.loads(ok(cli("steps", arn, "--json")).stdout)
                if any(s["StepName"] == "Train" for s in steps):
                    break
            time.sleep(0.1)
        assert arn is not None
        stopped = ok(cli("stop", arn, "--json"))
        assert json.loads(stopped.stdout)["PipelineExecutionStatus"] == "Stopped"
        assert runner.wait(timeout=60) == 1
        assert ok(cli("stop", arn), 1).stderr.strip().endswith("already Stopped")
        followed = ok(cli("logs", arn, "Prepare", "-f"))
        assert "prepared 3 rows" in followed.stdout
    finally:
        if runner.poll() is None:
            runner.kill()


def test_gc_keeps_what_kept_executions_reuse(cli):
    first = json.loads(ok(cli("run", "cli_lib:pipeline", "--json", "--quiet")).stdout)["PipelineExecutionArn"]
    second = json.loads(ok(cli("run", "cli_lib:pipeline", "--json", "--quiet")).stdout)["PipelineExecutionArn"]
    rerun = json.loads(
        ok(cli("run", "cli_lib:pipeline", "--select", "Train", "--reference", first, "--json", "--quiet")).stdout
    )["PipelineExecutionArn"]
    plan = json.loads(ok(cli("gc", "--keep", "1", "--dry-run", "--json")).stdout)
    kept = {k["PipelineExecutionArn"]: k["Reason"] for k in plan["keep"]}
    assert set(kept) == {rerun, first}
    assert "reused by kept execution" in kept[first]
    assert plan["delete"] == [second]
    assert plan["artifacts"] and all(f"/{second.rsplit('/', 1)[-1]}/" in uri for uri in plan["artifacts"])
    everything = json.loads(ok(cli("gc", "--keep", "0", "--dry-run", "--json")).stdout)
    assert len(everything["delete"]) == 3
    assert json.loads(ok(cli("gc", "--keep", "0", "--older-than", "1d", "--dry-run", "--json")).stdout)["delete"] == []
    assert ok(cli("gc", "--older-than", "yesterday", "--dry-run"), 2)

    ok(cli("gc", "--keep", "1"))
    remaining = [e["PipelineExecutionArn"] for e in json.loads(ok(cli("executions", "--json")).stdout)]
    assert sorted(remaining) == sorted([rerun, first])
    # What the kept selective run reuses is still there: it can be planned against again.
    ok(cli("plan", "cli_lib:pipeline", "--select", "Train", "--reference", rerun))


def test_demo_command(cli):
    result = ok(cli("demo"), 0)
    assert "selective re-run of Train + Evaluate with Eta=0.1, MaxDepth=4: Succeeded" in result.stdout
    assert len(json.loads(ok(cli("executions", "abalone-demo", "--json")).stdout)) == 2


def _arn_of_latest(cli):
    return json.loads(ok(cli("executions", "--json", "--limit", "1")).stdout)[0]["PipelineExecutionArn"]


def test_execution_ids_latest_and_pipeline_latest_name_executions(cli, tmp_path):
    ok(cli("run", "cli_lib:pipeline", "--quiet"))
    ok(cli("run", "cli_lib:pipeline", "--quiet", "-p", "Lr=2"))
    arn = _arn_of_latest(cli)
    execution_id = arn.rsplit("/", 1)[1]
    for name in (execution_id, execution_id[:6], "latest", "cli-demo/latest"):
        assert ok(cli("params", name)).stdout.strip() == "Lr=2.0", name
        assert json.loads(ok(cli("steps", name, "--json")).stdout) == json.loads(
            ok(cli("steps", arn, "--json")).stdout
        ), name
        assert "training with lr=2.0" in ok(cli("logs", name, "Train")).stdout, name
        assert ok(cli("show", name)).stdout.splitlines()[0] == arn, name
        assert ok(cli("stop", name), 1).stderr.strip() == f"{arn} already Succeeded", name
    # --reference and --resume take them too ('latest': of the pipeline being run)
    first = json.loads(ok(cli("executions", "--json")).stdout)[1]["PipelineExecutionArn"]
    plan = json.loads(ok(cli("plan", "cli_lib:pipeline", "--select", "Train", "--reference",
                             first.rsplit("/", 1)[1], "--json")).stdout)  # fmt: skip
    assert plan["ReferenceExecutionArn"] == first
    resumed = ok(cli("run", "cli_lib:pipeline", "--resume", "latest"), 2).stderr
    assert f"execution {arn} has no step left to resume" in resumed, resumed
    # Unknown names: not found, with what is there
    assert "no execution id starts with 'zzzz'" in ok(cli("steps", "zzzz"), 3).stderr
    assert "did you mean 'cli-demo'" in ok(cli("steps", "cli-dmeo/latest"), 3).stderr
    assert "names no execution" in ok(cli("steps", "not an id"), 2).stderr
    # The same id in two pipelines (a store put together from two): ambiguous, candidates listed.
    # The copy: the pipeline's directory (locks, logs) and its records, under another name.
    pipelines = os.path.join(cli.store, "pipelines")
    shutil.copytree(os.path.join(pipelines, "cli-demo"), os.path.join(pipelines, "cli-demo-copy"))
    source = "pipelines/cli-demo/"
    records = store_lib.read_records(cli.store, source)
    store_lib.write_records(cli.store, {"pipelines/cli-demo-copy/" + p[len(source) :]: d for p, d in records.items()})
    ambiguous = ok(cli("steps", execution_id), 2).stderr
    assert f"pipeline/cli-demo/execution/{execution_id}" in ambiguous, ambiguous
    assert f"pipeline/cli-demo-copy/execution/{execution_id}" in ambiguous, ambiguous


def test_logs_suggests_a_close_step_name(cli):
    ok(cli("run", "cli_lib:pipeline", "--quiet"))
    missing = ok(cli("logs", "latest", "Trian"), 3).stderr
    assert "has no step 'Trian' (did you mean 'Train'?)" in missing, missing
    assert "did you mean" not in ok(cli("logs", "latest", "Zebra"), 3).stderr


def _one_line_error(result):
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_targets_that_cannot_load_are_one_line_errors(cli, tmp_path):
    needs = _one_line_error(ok(cli("run", "cli_lib:pipeline_in"), 2))
    assert "'cli_lib:pipeline_in' is a function that needs arguments (workdir, learning_rate)" in needs, needs
    assert "needs arguments" in _one_line_error(ok(cli("plan", "cli_lib:pipeline_in"), 2))
    script = tmp_path / "my_pipeline.py"
    script.write_text("import os\nimport not_installed_anywhere_xyz\n\npipeline = None\n")
    for target in (str(script), f"{script}:pipeline"):
        line = _one_line_error(ok(cli("run", target), 2))
        assert "my_pipeline.py line 2" in line, line
        assert "module 'not_installed_anywhere_xyz' is not installed in this environment" in line, line
    (tmp_path / "broken_module.py").write_text("from sagemaker.workflow.no_such_module import Thing\n")
    line = _one_line_error(ok(cli("show", "broken_module:pipeline"), 2))
    assert "broken_module.py line 1" in line and "sagepipe has no module 'sagemaker.workflow.no_such_module'" in line


def test_plan_takes_a_stored_pipeline_name(cli):
    ok(cli("run", "cli_lib:pipeline", "--quiet"))
    plan = ok(cli("plan", "cli-demo", "--select", "Train")).stdout
    assert "plan for pipeline 'cli-demo' (reference " in plan and "Prepare" in plan and "reuse" in plan, plan
    assert "did you mean 'cli-demo'" in ok(cli("plan", "cli-dmeo"), 3).stderr


def test_read_only_commands_create_no_store(cli, tmp_path):
    missing = str(tmp_path / "no-store-here")
    arn = "arn:aws:sagemaker:local:000000000000:pipeline/p/execution/abcdefabcdef"
    for args, code in [
        (["executions"], 0),
        (["executions", "p"], 3),
        (["steps", arn], 3),
        (["steps", "latest"], 3),
        (["params", arn], 3),
        (["logs", arn, "Train"], 3),
        (["show", "p"], 3),
        (["show", "abcdefabcdef"], 3),
    ]:
        result = ok(cli(args[0], "--store", missing, *args[1:], store_arg=False), code)
        assert not os.path.exists(missing), (args, result.stderr)
    assert "nothing has run with the store at" in ok(cli("executions", "--store", missing, store_arg=False)).stderr


def test_selection_errors_report_every_problem(cli):
    ok(cli("run", "cli_lib:pipeline", "--quiet"))
    both = ok(cli("plan", "cli_lib:pipeline", "--select", "Prepare,LossOk,Trainn"), 2).stderr
    assert "2 problems in selective execution" in both, both
    assert "'Trainn' is not in pipeline 'cli-demo' (did you mean 'Train'?)" in both, both
    assert "not selected: [Train]" in both, both


def test_run_prints_the_failed_step_and_its_reason(cli, tmp_path):
    with open(os.path.join(cli.workdir, "Train.mode"), "w") as f:
        f.write("bad")
    failed = ok(cli("run", "cli_lib:pipeline"), 1).stdout
    assert "Train failed: RuntimeError: Train.mode says bad  (sagepipe logs " in failed, failed
    gate = tmp_path / "gate.json"
    gate.write_text(json.dumps(cli_lib.PARAMETER_ONLY_DEFINITION))
    instant = ok(cli("run", str(gate), "-p", "Threshold=1"), 1).stdout
    assert "Below failed: below 5" in instant, instant


def test_store_option_is_the_default_store_of_the_target(cli, tmp_path):
    """A module whose pipeline uploads its processing script at build time (PipelineSession() on
    the default store) runs under `--store DIR`: the code lands in DIR, which the run reads, and
    nothing goes to ./.sagepipe."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "job.py").write_text("open('/opt/ml/processing/out/done.txt', 'w').write('ok')\n")
    (project / "flow.py").write_text(
        "import os\n"
        "from sagepipe.processing import ProcessingOutput, ScriptProcessor\n"
        "from sagepipe.workflow.pipeline import Pipeline\n"
        "from sagepipe.workflow.pipeline_context import PipelineSession\n"
        "from sagepipe.workflow.steps import ProcessingStep\n"
        "here = os.path.dirname(os.path.abspath(__file__))\n"
        "session = PipelineSession()\n"
        "processor = ScriptProcessor(image_uri='python', command=['python3'], role='r',\n"
        "                            instance_type='ml.m5.large', instance_count=1, sagemaker_session=session)\n"
        "args = processor.run(outputs=[ProcessingOutput(output_name='out', source='/opt/ml/processing/out')],\n"
        "                     code=os.path.join(here, 'job.py'))\n"
        "pipeline = Pipeline(name='store-option', steps=[ProcessingStep(name='Job', step_args=args)],\n"
        "                    sagemaker_session=session)\n"
    )
    ok(cli("run", "proj.flow:pipeline", "--quiet"))
    listed = json.loads(ok(cli("executions", "store-option", "--json")).stdout)
    assert [e["PipelineExecutionStatus"] for e in listed] == ["Succeeded"]
    assert not (tmp_path / ".sagepipe").exists()


def test_run_takes_a_stored_pipelines_name(cli):
    """A pipeline stored by either SDK (here the mirror's upsert through the CLI's first run) runs
    by name, selectively too: what `sagepipe run --sdk real` users have for SDK-built pipelines."""
    first = json.loads(ok(cli("run", "cli_lib:pipeline", "--json")).stdout)
    assert first["PipelineExecutionStatus"] == "Succeeded"
    name = first["PipelineExecutionArn"].split(":pipeline/")[1].split("/")[0]
    again = json.loads(ok(cli("run", name, "--json")).stdout)
    assert again["PipelineExecutionStatus"] == "Succeeded"
    selective = json.loads(ok(cli("run", name, "--select", "Train", "--json")).stdout)
    steps = {s["StepName"]: s for s in selective["PipelineExecutionSteps"]}
    assert "SelectiveExecutionResult" not in steps["Train"]
    assert all("SelectiveExecutionResult" in s for n, s in steps.items() if n != "Train"), steps
    unknown = ok(cli("run", "no-such-pipeline"), 3).stderr
    assert "pipeline 'no-such-pipeline' does not exist; a TARGET is a stored pipeline's name" in unknown


def test_sdk_real_without_the_sdk_is_a_usage_error(cli, tmp_path):
    script = tmp_path / "plain.py"
    script.write_text("print('ran')\n")
    for target in (str(script), f"{script}:pipeline"):
        result = ok(cli("run", "--sdk", "real", target), 2)
        assert "ran" not in result.stdout
        assert "--sdk real: sagepipe.install(sdk='real') needs the SageMaker SDK installed" in result.stderr
