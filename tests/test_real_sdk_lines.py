"""Run tests/real_sdk against each real SageMaker SDK line, each in its own virtualenv.

The lines are the ``sdk-v*`` extras of pyproject.toml. For each, a virtualenv with the real SDK
and the test tools is built once under ``.sdk-venvs/<line>`` (or ``$SAGEPIPE_SDK_VENVS/<line>``)
and reused while its stamp (requirements, Python version, extra packages) still matches. sagepipe
is not installed there: a ``.pth`` file puts this checkout's ``python/`` directory on its path, so
the Rust extension the editable install built is used as is, and a code change needs no rebuild.
"""

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SOURCE_DIR = REPO / "python"
VENVS_ENV = "SAGEPIPE_SDK_VENVS"
LINE_ENV = "SAGEPIPE_SDK_LINE"  # tells the inner smoke test which major version to expect
# What the tests in tests/real_sdk may use besides the SDK (sagepipe's own dependency included).
EXTRA_PACKAGES = (
    "cloudpickle>=2.0",
    "pytest",
    "pytest-timeout",
    "xgboost-cpu",
    "pandas",
    "scikit-learn",
    "pyyaml",
    "moto[server]>=5",
)
BUILD_TIMEOUT = 1800
RUN_TIMEOUT = 1200
# Outer-process settings that must not leak into the inner run (it sets up its own store and routing).
INNER_ENV_DROPPED = ("PYTHONPATH", "PYTHONHOME", "SAGEPIPE_STORE", "SAGEPIPE_ROUTE_AWS")


def sdk_lines():
    """``{"v2": ["sagemaker>=2.257,<3"], ...}`` from the pyproject's ``sdk-v*`` extras (their one home)."""
    text = (REPO / "pyproject.toml").read_text()
    return {m[1]: json.loads(m[2]) for m in re.finditer(r"^sdk-(v\d+) = (\[.*\])$", text, re.MULTILINE)}


LINES = sdk_lines()


def test_pyproject_declares_both_sdk_lines():
    assert LINES == {"v2": ["sagemaker>=2.257,<3"], "v3": ["sagemaker>=3"]}


def venvs_dir() -> Path:
    return Path(os.environ.get(VENVS_ENV) or REPO / ".sdk-venvs")


def venv_key(requirements):
    return {"requirements": list(requirements), "python": sys.version, "packages": list(EXTRA_PACKAGES)}


def _run_logged(args, log: Path, timeout: float, env) -> None:
    with log.open("a") as out:
        out.write(f"$ {' '.join(map(str, args))}\n")
        out.flush()
        done = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, env=env)
    if done.returncode != 0:
        tail = log.read_text()[-8000:]
        pytest.fail(f"{args[0]} ... failed ({done.returncode}); the end of {log}:\n{tail}", pytrace=False)


def ensure_venv(line: str, requirements) -> Path:
    """The virtualenv of ``line``, built first unless its stamp matches. Call with the line's lock held.

    The virtualenv is built in place, not in a temporary directory renamed at the end: its scripts
    and ``pyvenv.cfg`` hold its absolute path. The stamp is written last, so a build that fails or
    is interrupted is redone from scratch next time.
    """
    venv = venvs_dir() / line
    stamp = venv / "sagepipe-stamp.json"
    key = venv_key(requirements)
    if stamp.is_file() and json.loads(stamp.read_text()).get("key") == key:
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    log = venvs_dir() / f"{line}.build.log"
    log.write_text("")
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    started = time.monotonic()
    _run_logged([sys.executable, "-m", "venv", str(venv)], log, 300, env)
    python = venv / "bin" / "python"
    _run_logged([python, "-m", "pip", "install", *requirements, *EXTRA_PACKAGES], log, BUILD_TIMEOUT, env)
    seconds = round(time.monotonic() - started, 1)
    stamp.write_text(json.dumps({"key": key, "build_seconds": seconds}, indent=1))
    return venv


def point_at_this_checkout(venv: Path) -> None:
    """Make ``import sagepipe`` in ``venv`` load this checkout (rewritten each run: the cache
    directory may be shared by several checkouts, used one after another)."""
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    pth = Path(purelib) / "sagepipe-checkout.pth"
    if not pth.is_file() or pth.read_text() != f"{SOURCE_DIR}\n":
        pth.write_text(f"{SOURCE_DIR}\n")


def junit_counts(junit: Path):
    suites = ET.parse(junit).getroot()
    suite = suites if suites.tag == "testsuite" else suites.find("testsuite")
    counts = {name: int(suite.get(name, 0)) for name in ("tests", "failures", "errors", "skipped")}
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    return counts


@pytest.mark.parametrize("line", sorted(LINES))
@pytest.mark.timeout(BUILD_TIMEOUT + RUN_TIMEOUT + 300)  # building the virtualenv, then the run
def test_real_sdk_suite_passes_in_its_own_virtualenv(line, tmp_path):
    assert list((SOURCE_DIR / "sagepipe").glob("_core*.so")), (
        "the Rust extension is not built in python/sagepipe/: run pip install -e '.[test]' first"
    )
    venvs_dir().mkdir(parents=True, exist_ok=True)
    # One process at a time per line: building, and running (a rebuild must not replace the
    # virtualenv under a run that uses it). The lock file lives beside the virtualenv, which a
    # rebuild deletes.
    with open(venvs_dir() / f"{line}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        venv = ensure_venv(line, LINES[line])
        point_at_this_checkout(venv)
        junit = tmp_path / "junit.xml"
        env = {k: v for k, v in os.environ.items() if k not in INNER_ENV_DROPPED}
        env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", SAGEMAKER_SUPPRESS_V2_WARNING="1", **{LINE_ENV: line})
        # The inner virtualenv has no sagepipe distribution, so no pytest11 entry point: load the plugin by name.
        args = [venv / "bin" / "python", "-m", "pytest", "tests/real_sdk", "-q", "-rA"]
        args += ["-p", "sagepipe.pytest_plugin", "-p", "no:cacheprovider", f"--junitxml={junit}"]
        args += ["--basetemp", str(tmp_path / "inner")]
        done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    output = f"{done.stdout}\n{done.stderr}"[-20000:]
    assert done.returncode == 0, f"tests/real_sdk failed with SDK line {line}:\n{output}"
    counts = junit_counts(junit)
    assert counts["passed"] >= 1 and counts["skipped"] == 0, f"{counts} with SDK line {line}:\n{output}"
