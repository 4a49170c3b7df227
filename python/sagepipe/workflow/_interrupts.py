"""Ctrl-C and interpreter exit for the executions this process runs: a script's Ctrl-C stops
them (a REPL's or notebook's only stops waiting), and the interpreter waits for them at exit."""

import atexit
import json
import os
import sys
import threading
import time
from typing import Dict, List, Optional

TICK = 0.2  # seconds between progress refreshes while waiting
_atexit_lock = threading.Lock()
_atexit_registered = False

STOP_GRACE = 3.0  # seconds a Ctrl-C waits for stopped executions to end before the process exits
_interrupted: Dict[str, str] = {}  # executions stopped because of Ctrl-C -> their store root
_store_roots: Dict[str, str] = {}  # executions this process started -> their store root
_reported = False  # whether the Ctrl-C summary line was printed
# Ctrl-Cs seen by _on_sigint. Its KeyboardInterrupt can be lost (raised inside a weakref callback
# or __del__, Python only prints "Exception ignored"), so loops that wait raise it again.
_sigint_count = 0


def interactive() -> bool:
    """Whether this is a REPL or notebook (there, Ctrl-C stops waiting, not the executions)."""
    if hasattr(sys, "ps1") or sys.flags.interactive:
        return True
    ipython = sys.modules.get("IPython")
    return bool(ipython is not None and getattr(ipython, "get_ipython", lambda: None)())


def _stop_live_executions() -> None:
    """Ask every execution this process runs to stop (their running steps are killed)."""
    from sagepipe import _core

    for arn in _core.live_executions():
        handle = _core.live_execution(arn)
        if handle is not None:
            handle.stop()
        _interrupted.setdefault(arn, _store_roots.get(arn, ""))


def _on_sigint(signum, frame) -> None:
    """Ctrl-C in a script stops the executions it runs, then interrupts it as usual."""
    global _sigint_count
    _sigint_count += 1
    _stop_live_executions()
    raise KeyboardInterrupt


def sigint_count() -> int:
    """How many Ctrl-Cs this process has seen (for ``raise_if_interrupted_since``)."""
    return _sigint_count


def _raise_if_interrupted_since(count: int) -> None:
    """Raise the KeyboardInterrupt of a Ctrl-C seen after ``count`` if Python lost it."""
    if _sigint_count != count:
        raise KeyboardInterrupt


def _quiet_interrupt_hook(hook):
    """``sys.excepthook`` that prints no traceback for a Ctrl-C that stopped executions (the
    one-line summary follows at exit), and defers to ``hook`` for everything else."""

    def excepthook(exc_type, exc, tb):
        if not (_interrupted and issubclass(exc_type, KeyboardInterrupt)):
            hook(exc_type, exc, tb)

    return excepthook


def _install_interrupt_handling() -> None:
    """Make Ctrl-C stop this script's executions: not in a REPL or notebook, not off the main
    thread, and never over a SIGINT handler the program installed itself."""
    import signal

    if interactive() or threading.current_thread() is not threading.main_thread():
        return  # (signal handlers can only be set from the main thread)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)
        sys.excepthook = _quiet_interrupt_hook(sys.excepthook)


def settle_interrupted(grace: float = STOP_GRACE) -> Optional[str]:
    """After a Ctrl-C: stop what still runs, wait up to ``grace`` seconds for it to end, and
    say in one line what was stopped (None if nothing ran). A second Ctrl-C stops the wait."""
    from sagepipe import _core

    _stop_live_executions()
    if not _interrupted:
        return None
    deadline = time.monotonic() + grace
    try:
        for arn in _interrupted:
            handle = _core.live_execution(arn)
            if handle is not None:
                handle.wait(max(deadline - time.monotonic(), 0.0))
    except KeyboardInterrupt:
        pass
    parts = []
    for arn, root in _interrupted.items():
        steps = _unfinished_steps(arn, root)
        part = arn + (f" (steps stopped: {', '.join(steps)})" if steps else "")
        if _core.live_execution(arn) is not None:
            part += f"; not ended after {grace:g} s: this process exits without waiting (the store records it Stopped)"
        parts.append(part)
    plural = "s" if len(parts) > 1 else ""
    return f"sagepipe: Ctrl-C stopped execution{plural} {'; '.join(parts)}"


def _unfinished_steps(arn: str, store_root: str) -> List[str]:
    """The steps of an execution that did not succeed or fail: those the stop ended."""
    from sagepipe import _core

    try:
        records = json.loads(_core.Store(store_root).load_steps(arn))
    except Exception:  # noqa: BLE001 - the summary line must not fail the exit
        return []
    return [r["StepName"] for r in records if r["StepStatus"] not in ("Succeeded", "Failed")]


def report_interrupt(line: Optional[str], code: int = 130) -> None:
    """Print the Ctrl-C summary (once), and leave at once if a stopped step still runs (an
    in-process step blocked outside Python): finalizing the interpreter would wait for it."""
    global _reported
    from sagepipe import _core

    if line and not _reported:
        print(line, file=sys.stderr, flush=True)
        _reported = True
    if _core.live_executions():
        sys.stdout.flush()
        os._exit(code)


def _drain_live_executions() -> None:
    """At interpreter exit, let executions this process started finish (Ctrl-C stops them)."""
    from sagepipe import _core

    # Executions started after a Ctrl-C the script caught are waited for like any other.
    arns = [arn for arn in _core.live_executions() if arn not in _interrupted]
    seen = _sigint_count
    # The notice is inside the try: a Ctrl-C the moment it shows (while print still returns)
    # stops the executions like any later one, without a traceback.
    try:
        if arns:
            print(
                f"sagepipe: waiting for {len(arns)} unfinished execution(s) to end (Ctrl-C stops them): "
                + ", ".join(arns),
                file=sys.stderr,
                flush=True,
            )
        for arn in arns:
            handle = _core.live_execution(arn)
            while handle is not None and not handle.wait(TICK):
                _raise_if_interrupted_since(seen)
    except KeyboardInterrupt:
        pass
    if _interrupted or _core.live_executions():
        report_interrupt(settle_interrupted())


def _ensure_exit_handling() -> None:
    """Once executions run: wait for them at interpreter exit, and let Ctrl-C stop them."""
    global _atexit_registered
    with _atexit_lock:
        if not _atexit_registered:
            atexit.register(_drain_live_executions)
            _atexit_registered = True
    _install_interrupt_handling()
