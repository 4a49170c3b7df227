"""``ExecutionPlan``: what a start would do, per step (``Pipeline.plan()``)."""

from typing import Any, Dict, List, Optional


class ExecutionPlan:
    """What a start would do, per step: a plain data structure (``entries``) that prints readably.

    A reused step of a reference on SageMaker has ``fetch``: per place the selected steps read of
    its outputs, what is there on S3 and what of it a start would download.

    ``refused`` is ``None``, or the error message ``start()`` would raise (``UnsupportedStepError``)
    because steps that would run cannot run locally; those entries have the action ``refused``.
    """

    def __init__(
        self,
        pipeline: str,
        reference_arn: Optional[str],
        entries: List[Dict[str, Any]],
        definition: Optional[str] = None,
        refused: Optional[str] = None,
    ):
        self.pipeline = pipeline
        self.reference_arn = reference_arn
        self.entries = entries
        self.definition = definition
        self.refused = refused

    def _repr_html_(self) -> Optional[str]:
        """Jupyter view: the DAG coloured by what the run would do (``sagepipe.display``)."""
        from sagepipe.display import plan_html

        return plan_html(self) if self.definition else None

    def actions(self) -> Dict[str, str]:
        """``{step name: action}``."""
        return {e["step"]: e["action"] for e in self.entries}

    def __getitem__(self, step: str) -> Dict[str, Any]:
        for e in self.entries:
            if e["step"] == step:
                return e
        raise KeyError(step)

    def __str__(self) -> str:
        width = max([len(e["step"]) for e in self.entries] + [4])
        lines = [
            f"plan for pipeline '{self.pipeline}'"
            + (f" (reference {self.reference_arn})" if self.reference_arn else "")
        ]
        for e in self.entries:
            lines.append(f"  {e['step']:<{width}}  {e['action']:<20} {e['reason']}")
            for uri in e.get("artifacts", []):
                lines.append(f"  {'':<{width}}  {'':<20} reuses {uri}")
            for f in e.get("fetch", []):
                lines.append(f"  {'':<{width}}  {'':<20} {_fetch_line(f)}")
        if self.refused:
            # The reasons are on the entries above; the summary names the steps.
            refused = [e["step"] for e in self.entries if e["action"] == "refused"]
            lines.append(
                f"this run would be refused before anything runs: {len(refused)} step"
                f"{'' if len(refused) == 1 else 's'} cannot run locally ({', '.join(refused)})"
            )
        return "\n".join(lines)

    __repr__ = __str__


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    size, unit = n / 1024, "KiB"
    for larger in ("MiB", "GiB"):
        if size < 1024:
            break
        size, unit = size / 1024, larger
    return f"{size:.1f} {unit}"


def _fetch_line(f: Dict[str, Any]) -> str:
    """What a start would download of one place a SageMaker reference's step wrote."""
    objects = f"{f['objects']} object{'' if f['objects'] == 1 else 's'}, {_size(f['bytes'])}"
    if not f["objects"]:
        return f"reads {f['uri']} (nothing there on S3)"
    if not f["fetch_objects"]:
        return f"reads {f['uri']} ({objects}; fetched already)"
    if f["fetch_objects"] == f["objects"]:
        return f"fetches {f['uri']} ({objects})"
    return (
        f"fetches {f['uri']} ({f['fetch_objects']} of {objects}: {_size(f['fetch_bytes'])}; the rest fetched already)"
    )
