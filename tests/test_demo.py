"""The README's main job runs as documented."""

import subprocess
import sys


def test_demo_full_run_then_selective_rerun(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "sagepipe.demo", "--store", str(tmp_path / "store")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "full run: Succeeded" in out.stdout
    assert "selective re-run of Train + Evaluate with RidgeAlpha=25: Succeeded" in out.stdout
    assert "reused from" in out.stdout
    rerun = out.stdout.split("selective re-run", 1)[1]
    assert "CheckMSE" not in rerun.split("\n", 1)[1]  # downstream, not selected: not listed
