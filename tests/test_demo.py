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
    full, rerun = out.stdout.split("selective re-run", 1)
    for step in ("Preprocess", "Train", "Evaluate", "CheckMse", "Register-RegisterModel", "Transform"):
        assert f"  {step} " in full and "Succeeded" in full.split(f"  {step} ", 1)[1].split("\n", 1)[0]
    assert "of Train + Evaluate with Eta=0.1, MaxDepth=4: Succeeded" in rerun
    assert "Preprocess" in rerun and "reused from" in rerun
    listed = rerun.split("\n", 1)[1]
    assert "CheckMse" not in listed and "Transform" not in listed  # downstream, not selected: not listed
    assert listed.count("test MSE:") == 1 and "Popping out" not in out.stdout + out.stderr
