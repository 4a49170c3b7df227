"""Assertions on executions for tests (used by the pytest plugin, importable anywhere).

    from sagepipe.testing import assert_steps
    assert_steps(execution, ran=["Train", "Evaluate"], reused=["Preprocess"], skipped=["Register"])

Each step of an execution is in exactly one group: ``reused`` (Selective Execution),
``cache_hit``, ``skipped`` (no record: not selected, on the branch not taken, or never reached),
or ``ran`` (executed in this execution), which splits into ``succeeded``, ``failed`` and
``stopped``. A group given to :func:`assert_steps` must match exactly.
"""

import json
from typing import Dict, Iterable, List, Optional

from sagepipe import display

__all__ = ["assert_execution_status", "assert_step_failed", "assert_step_succeeded", "assert_steps", "step_groups"]

_GROUPS = ("ran", "succeeded", "failed", "stopped", "reused", "cache_hit", "skipped")


def step_groups(execution) -> Dict[str, List[str]]:
    """``{group: [step names]}`` of an execution, steps in pipeline order."""
    dag, states, _ = display.execution_states(execution)
    groups: Dict[str, List[str]] = {g: [] for g in _GROUPS}
    for name in dag["order"]:
        state = states[name]["state"]
        if state == "reused":
            groups["reused"].append(name)
        elif state == "cache-hit":
            groups["cache_hit"].append(name)
        elif state in ("not-selected", "not-run", "pending"):
            groups["skipped"].append(name)
        else:
            groups["ran"].append(name)
            if state in ("succeeded", "failed", "stopped"):
                groups[state].append(name)
    return groups


def _describe(execution, groups: Dict[str, List[str]]) -> str:
    status = execution.describe()["PipelineExecutionStatus"]
    shown = ", ".join(f"{g}={v}" for g, v in groups.items() if v)
    return f"execution {execution.arn} ({status}): {shown}"


def assert_steps(
    execution,
    ran: Optional[Iterable[str]] = None,
    succeeded: Optional[Iterable[str]] = None,
    failed: Optional[Iterable[str]] = None,
    stopped: Optional[Iterable[str]] = None,
    reused: Optional[Iterable[str]] = None,
    cache_hit: Optional[Iterable[str]] = None,
    skipped: Optional[Iterable[str]] = None,
) -> None:
    """Assert which steps ran, were reused, hit the cache or were skipped (each list exactly)."""
    expected = dict(
        ran=ran, succeeded=succeeded, failed=failed, stopped=stopped, reused=reused, cache_hit=cache_hit,
        skipped=skipped,
    )  # fmt: skip
    groups = step_groups(execution)
    wrong = [
        f"{g}: expected {sorted(want)}, got {sorted(groups[g])}"
        for g, want in expected.items()
        if want is not None and sorted(want) != sorted(groups[g])
    ]
    assert not wrong, "; ".join(wrong) + "\n" + _describe(execution, groups)


def assert_execution_status(execution, status: str = "Succeeded") -> None:
    """Assert the execution's ``PipelineExecutionStatus`` (with every failure reason if not)."""
    desc = execution.describe()
    if desc["PipelineExecutionStatus"] != status:
        reasons = [
            f"{r['StepName']}: {r.get('FailureReason')}"
            for r in json.loads(execution._store.load_steps(execution.arn))
            if r.get("FailureReason")
        ]
        raise AssertionError(
            f"expected {status}, got {desc['PipelineExecutionStatus']}"
            f"{': ' + desc['FailureReason'] if desc.get('FailureReason') else ''}"
            + "".join(f"\n  {r}" for r in reasons)
        )


def _assert_step_state(execution, step: str, state: str) -> None:
    groups = step_groups(execution)
    assert step in groups[state], f"step '{step}' is not {state}\n{_describe(execution, groups)}"


def assert_step_succeeded(execution, step: str) -> None:
    """Assert that ``step`` ran in this execution and succeeded."""
    _assert_step_state(execution, step, "succeeded")


def assert_step_failed(execution, step: str, reason_contains: Optional[str] = None) -> None:
    """Assert that ``step`` ran and failed (and its failure reason contains a text, if given)."""
    _assert_step_state(execution, step, "failed")
    if reason_contains is not None:
        reason = next(s.get("FailureReason") or "" for s in execution.list_steps() if s["StepName"] == step)
        assert reason_contains in reason, f"step '{step}' failed with {reason!r}, not mentioning {reason_contains!r}"
