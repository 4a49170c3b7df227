#!/usr/bin/env python3
"""Peer-tool benchmark harness (stdlib only).

Runs every workload script of every peer as a whole process, several times,
round-robin within a workload group (so machine drift hits all peers alike),
after one uncounted warm-up round. Per run it records the whole-process wall
time (perf_counter around spawn..reap), user+sys CPU and peak RSS from
wait4(), and the script's own `BENCH {...}` line (in-process timings such as
t_run = the pipeline run alone, after imports). It prints medians.

    python harness/bench.py                      # everything, 5 counted runs
    python harness/bench.py --groups W1,W4 --peers kedro,dagster --reps 7
    python harness/bench.py --list               # show the cases, run nothing

A peer is a directory under workloads/ following the contract in
workloads/sagepipe/README.md; sagepipe is picked up automatically once its
scripts exist (interpreter: $SAGEPIPE_PYTHON, default .venv/bin/python).
"""

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from common import BIG_STEPS, JOBS, RUNS, SLEEP_EVAL, SLEEP_PRE, SLEEP_TRAIN, dir_bytes  # noqa: E402
from ratios import ratio_rows, render_ratios  # noqa: E402

WL = os.path.join(ROOT, "workloads")
PY = os.path.join(ROOT, ".venv", "bin", "python")
PY_SM2 = os.path.join(ROOT, ".venv-sm", "bin", "python")
PY_SM3 = os.path.join(ROOT, ".venv-sm3", "bin", "python")
# sagepipe runs under the interpreter that has it installed: $SAGEPIPE_PYTHON, else the one
# running this harness (bench/run.sh uses the project's Python).
SP_PY = os.environ.get("SAGEPIPE_PYTHON", sys.executable)

SLEEPS_FULL = SLEEP_PRE + SLEEP_TRAIN + SLEEP_EVAL
SLEEPS_RERUN = SLEEP_TRAIN + SLEEP_EVAL

# Environment every run gets: offline, no telemetry, each tool's state under runs/.
BASE_ENV = {
    "DO_NOT_TRACK": "1",
    "KEDRO_DISABLE_TELEMETRY": "true",
    "PYTHONUNBUFFERED": "1",
    # prefect: no PREFECT_API_URL -> ephemeral local API server (a uvicorn child
    # on 127.0.0.1 that prefect stops at exit); state in PREFECT_HOME.
    "PREFECT_HOME": os.path.join(RUNS, "prefect_home"),
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # dagster: persistent instance (only where an API needs one).
    "DAGSTER_HOME": os.path.join(RUNS, "dagster_home"),
    # metaflow: local metadata + datastore under runs/metaflow.
    "USER": os.environ.get("USER", "bench"),
    "METAFLOW_DEFAULT_METADATA": "local",
    "METAFLOW_DEFAULT_DATASTORE": "local",
    "METAFLOW_DATASTORE_SYSROOT_LOCAL": os.path.join(RUNS, "metaflow"),
    # sagemaker: v3's workflow import builds a boto client (needs a region; no call is made).
    "AWS_DEFAULT_REGION": "us-east-1",
    "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
}
DROP_ENV = ("PREFECT_API_URL", "PREFECT_API_KEY", "PYTHONPATH")


def case(group, peer, name, argv, **kw):
    c = dict(
        group=group,
        peer=peer,
        name=name,
        argv=argv,
        cwd=ROOT,
        env={},
        reps=None,
        n=None,
        sleeps=None,
        store=None,
        clean=None,
        pair=None,
    )
    c.update(kw)
    return c


def wl(peer, script):
    return os.path.join(WL, peer, script)


W1_SIZES = (20, 100, 1000)


def build_cases():
    C = []
    # ---------------- W1: overhead chain (N no-op steps) ----------------
    # N=1000 only where a run stays under ~30 s (metaflow and a process per step: ~5 min).
    for n in W1_SIZES:
        C.append(case("W1", "baseline", f"call N={n}", [PY, wl("baseline", "w1_chain.py"), str(n)], n=n))
        if n <= 100:
            C.append(
                case("W1", "baseline", f"proc-per-step N={n}", [PY, wl("baseline", "w1_chain.py"), str(n), "proc"], n=n)
            )
        C.append(case("W1", "kedro", f"SequentialRunner N={n}", [PY, wl("kedro", "w1_chain.py"), str(n)], n=n))
        C.append(case("W1", "prefect", f"flow+tasks N={n}", [PY, wl("prefect", "w1_chain.py"), str(n)], n=n))
        C.append(
            case(
                "W1", "dagster", f"execute_in_process N={n}", [PY, wl("dagster", "w1_chain.py"), str(n), "inproc"], n=n
            )
        )
        if n <= 100:
            C.append(
                case(
                    "W1",
                    "metaflow",
                    f"run N={n}",
                    [PY, os.path.join(WL, "metaflow", "gen", f"chain{n}.py"), "--no-pylint", "run"],
                    n=n,
                )
            )
    # multiprocess executor: ~2 s per op (spawned child each), so N=20 only.
    C.append(case("W1", "dagster", "multiprocess N=20", [PY, wl("dagster", "w1_chain.py"), "20", "multiproc"], n=20))
    # ---------------- W2: fan-out 8 x ~0.5 s CPU + join ----------------
    for mode in ("inproc", "subproc"):
        env = {"BURN_MODE": mode}
        C.append(
            case(
                "W2",
                "baseline",
                f"sequential [{mode}]",
                [PY, wl("baseline", "w2_fanout.py"), "seq"],
                env=env,
                pair=("baseline", mode, "seq"),
            )
        )
        C.append(
            case(
                "W2",
                "baseline",
                f"mp.Pool(2) [{mode}]",
                [PY, wl("baseline", "w2_fanout.py"), "par"],
                env=env,
                pair=("baseline", mode, "par"),
            )
        )
    env = {"BURN_MODE": "inproc"}
    C.append(
        case(
            "W2",
            "kedro",
            "SequentialRunner",
            [PY, wl("kedro", "w2_fanout.py"), "seq"],
            env=env,
            pair=("kedro", "inproc", "seq"),
        )
    )
    C.append(
        case(
            "W2",
            "kedro",
            "ParallelRunner(2)",
            [PY, wl("kedro", "w2_fanout.py"), "par"],
            env=env,
            pair=("kedro", "inproc", "par"),
        )
    )
    C.append(
        case(
            "W2",
            "kedro",
            "ThreadRunner(2) [subproc]",
            [PY, wl("kedro", "w2_fanout.py"), "thread"],
            env={"BURN_MODE": "subproc"},
            pair=("kedro", "subproc", "par"),
        )
    )
    C.append(
        case(
            "W2",
            "prefect",
            "sequential calls",
            [PY, wl("prefect", "w2_fanout.py"), "seq"],
            env=env,
            pair=("prefect", "inproc", "seq"),
        )
    )
    C.append(
        case(
            "W2",
            "prefect",
            "ThreadPoolTaskRunner(2)",
            [PY, wl("prefect", "w2_fanout.py"), "thread"],
            env=env,
            pair=("prefect", "inproc", "thread"),
        )
    )
    C.append(
        case(
            "W2",
            "prefect",
            "ProcessPoolTaskRunner(2)",
            [PY, wl("prefect", "w2_fanout.py"), "proc"],
            env=env,
            pair=("prefect", "inproc", "par"),
        )
    )
    C.append(
        case(
            "W2",
            "prefect",
            "ThreadPoolTaskRunner(2) [subproc]",
            [PY, wl("prefect", "w2_fanout.py"), "thread"],
            env={"BURN_MODE": "subproc"},
            pair=("prefect", "subproc", "par"),
        )
    )
    C.append(
        case(
            "W2",
            "dagster",
            "in_process executor",
            [PY, wl("dagster", "w2_fanout.py"), "seq"],
            env=env,
            pair=("dagster", "inproc", "seq"),
        )
    )
    C.append(
        case(
            "W2",
            "dagster",
            "multiprocess executor(2)",
            [PY, wl("dagster", "w2_fanout.py"), "par"],
            env=env,
            pair=("dagster", "inproc", "par"),
        )
    )
    C.append(
        case(
            "W2",
            "metaflow",
            "run --max-workers 1",
            [PY, wl("metaflow", "w2_fanout.py"), "--no-pylint", "run", "--max-workers", "1"],
            env=env,
            pair=("metaflow", "inproc", "seq"),
        )
    )
    C.append(
        case(
            "W2",
            "metaflow",
            "run --max-workers 2",
            [PY, wl("metaflow", "w2_fanout.py"), "--no-pylint", "run", "--max-workers", "2"],
            env=env,
            pair=("metaflow", "inproc", "par"),
        )
    )
    # ---------------- W3: selective rerun ----------------
    # Each peer: 'full' (store cleaned first, untimed) then 'rerun' of train+evaluate.
    w3 = [
        (
            # Under sagepipe's interpreter (as W6): whole-process overhead then counts sagepipe's
            # work, not the two interpreters' different start-up (site .pth files).
            "baseline",
            "plain python, file hand-off",
            [SP_PY, wl("baseline", "w3_rerun.py")],
            os.path.join(RUNS, "baseline"),
        ),
        (
            "kedro",
            "PickleDataset; only_nodes(train,evaluate)",
            [PY, wl("kedro", "w3_rerun.py")],
            os.path.join(RUNS, "kedro"),
        ),
        (
            "prefect",
            "persist_result+INPUTS cache; flow rerun",
            [PY, wl("prefect", "w3_rerun.py")],
            os.path.join(RUNS, "prefect_home", "storage"),
        ),
        (
            "dagster",
            "fs IO manager; reexecution step_selection",
            [PY, wl("dagster", "w3_rerun.py")],
            os.path.join(RUNS, "dagster"),
        ),
        (
            "metaflow",
            "artifact; resume train",
            [PY, wl("metaflow", "w3_rerun.py"), "--no-pylint"],
            os.path.join(RUNS, "metaflow"),
        ),
    ]
    for peer, how, argv, store in w3:
        full = argv + (["run"] if peer == "metaflow" else ["full"])
        rerun = argv + (["resume", "train"] if peer == "metaflow" else ["rerun"])
        C.append(case("W3full", peer, f"full: {how}", full, sleeps=SLEEPS_FULL, store=store, clean=store))
        C.append(case("W3rerun", peer, f"rerun: {how}", rerun, sleeps=SLEEPS_RERUN, store=store))
    # ---------------- W4: import / start-up ----------------
    imports = [
        ("python", PY, "pass"),
        ("kedro", PY, "import kedro"),
        (
            "kedro",
            PY,
            "from kedro.pipeline import Pipeline, node; from kedro.io import DataCatalog; from kedro.runner import SequentialRunner",
        ),
        ("prefect", PY, "import prefect"),
        ("dagster", PY, "import dagster"),
        ("metaflow", PY, "import metaflow"),
        ("sagemaker2", PY_SM2, "import sagemaker"),
        ("sagemaker2", PY_SM2, "from sagemaker.workflow.pipeline import Pipeline"),
        ("sagemaker3", PY_SM3, "import sagemaker"),
        ("sagemaker3", PY_SM3, "from sagemaker.mlops.workflow.pipeline import Pipeline"),
    ]
    for peer, py, stmt in imports:
        if os.path.exists(py):
            C.append(case("W4", peer, stmt, [py, "-c", stmt], reps=7))
    # ---------------- W5: big pipeline, build + validate (+ plan) ----------------
    C.append(case("W5", "kedro", "Pipeline(nodes) + from_nodes(mid)", [PY, wl("kedro", "w5_big.py")]))
    C.append(case("W5", "dagster", "@job of aliased ops + get_subset(mid*)", [PY, wl("dagster", "w5_big.py")]))
    C.append(
        case(
            "W5",
            "metaflow",
            f"`check` of a {BIG_STEPS}-step split/join flow",
            [PY, os.path.join(WL, "metaflow", "gen", f"big{BIG_STEPS}.py"), "--no-pylint", "check"],
        )
    )
    if os.path.exists(PY_SM2):
        C.append(
            case("W5", "sagemaker2", "LambdaSteps + Pipeline.definition()", [PY_SM2, wl("sagemaker2", "w5_big.py")])
        )
    # ---------------- W6: processing jobs vs plain children ----------------
    # Under sagepipe's interpreter: its jobs' `python3` is that interpreter, so both pay the same start-up.
    C.append(case("W6", "baseline", f"{JOBS} x plain `python script.py`", [SP_PY, wl("baseline", "w6_processing.py")]))
    # ---------------- sagepipe (once it exists) ----------------
    sp = os.path.join(WL, "sagepipe")
    if os.path.exists(os.path.join(sp, "w1_chain.py")):
        for n in W1_SIZES:
            for mode in ("in_process", "worker"):
                C.append(
                    case(
                        "W1",
                        "sagepipe",
                        f"{mode} N={n}",
                        [SP_PY, wl("sagepipe", "w1_chain.py"), str(n), mode],
                        n=n,
                        clean=os.path.join(RUNS, f"sagepipe-w1-{mode}-{n}"),
                    )
                )
    sp_w2 = os.path.join(RUNS, "sagepipe-w2")
    if os.path.exists(os.path.join(sp, "w2_fanout.py")):
        for burn in ("inproc", "subproc"):
            e = {"BURN_MODE": burn}
            C.append(
                case(
                    "W2",
                    "sagepipe",
                    f"workers, max parallel 1 [{burn}]",
                    [SP_PY, wl("sagepipe", "w2_fanout.py"), "seq"],
                    env=e,
                    pair=("sagepipe", burn, "seq"),
                    clean=sp_w2,
                )
            )
            C.append(
                case(
                    "W2",
                    "sagepipe",
                    f"workers, max parallel 2 [{burn}]",
                    [SP_PY, wl("sagepipe", "w2_fanout.py"), "par"],
                    env=e,
                    pair=("sagepipe", burn, "par"),
                    clean=sp_w2,
                )
            )
        C.append(
            case(
                "W2",
                "sagepipe",
                "in_process, max parallel 2 [subproc]",
                [SP_PY, wl("sagepipe", "w2_fanout.py"), "par", "in_process"],
                env={"BURN_MODE": "subproc"},
                pair=("sagepipe", "subproc", "par"),
                clean=sp_w2,
            )
        )
    if os.path.exists(os.path.join(sp, "w3_rerun.py")):
        for mode, store_name in (("worker", "sagepipe"), ("in_process", "sagepipe-inproc")):
            store = os.path.join(RUNS, store_name)
            argv = [SP_PY, wl("sagepipe", "w3_rerun.py")]
            C.append(
                case(
                    "W3full",
                    "sagepipe",
                    f"full [{mode}]",
                    argv + ["full", mode],
                    sleeps=SLEEPS_FULL,
                    store=store,
                    clean=store,
                )
            )
            C.append(
                case(
                    "W3rerun",
                    "sagepipe",
                    f"rerun train+evaluate [{mode}]",
                    argv + ["rerun", mode],
                    sleeps=SLEEPS_RERUN,
                    store=store,
                )
            )
    # the same selective rerun with a 1 GiB output (sagepipe and the plain baseline)
    big = {"BENCH_PAYLOAD_MB": "1024"}
    store = os.path.join(RUNS, "baseline-1024mb")
    C.append(
        case(
            "W3full",
            "baseline",
            "full [1 GiB]",
            [SP_PY, wl("baseline", "w3_rerun.py"), "full"],
            env=big,
            sleeps=SLEEPS_FULL,
            store=store,
            clean=store,
        )
    )
    C.append(
        case(
            "W3rerun",
            "baseline",
            "rerun [1 GiB]",
            [SP_PY, wl("baseline", "w3_rerun.py"), "rerun"],
            env=big,
            sleeps=SLEEPS_RERUN,
            store=store,
        )
    )
    if os.path.exists(os.path.join(sp, "w3_rerun.py")):
        store = os.path.join(RUNS, "sagepipe-1024mb")
        argv = [SP_PY, wl("sagepipe", "w3_rerun.py")]
        C.append(
            case(
                "W3full",
                "sagepipe",
                "full [worker] [1 GiB]",
                argv + ["full", "worker"],
                env=big,
                sleeps=SLEEPS_FULL,
                store=store,
                clean=store,
            )
        )
        C.append(
            case(
                "W3rerun",
                "sagepipe",
                "rerun train+evaluate [worker] [1 GiB]",
                argv + ["rerun", "worker"],
                env=big,
                sleeps=SLEEPS_RERUN,
                store=store,
            )
        )
    if os.path.exists(os.path.join(sp, "import.txt")):
        stmt = open(os.path.join(sp, "import.txt")).read().strip()
        for s in ("import sagepipe", "from sagepipe.workflow.pipeline import Pipeline", stmt):
            C.append(case("W4", "sagepipe", s, [SP_PY, "-c", s], reps=7))
        if os.path.exists(PY_SM2):  # the same full import line against the real SDK
            s = stmt.replace("sagepipe", "sagemaker")
            C.append(case("W4", "sagemaker2", s, [PY_SM2, "-c", s], reps=7))
    if os.path.exists(os.path.join(sp, "w5_big.py")):
        C.append(
            case(
                "W5",
                "sagepipe",
                "@step DAG: build + definition + validate + plan",
                [SP_PY, wl("sagepipe", "w5_big.py"), "step"],
            )
        )
        C.append(
            case(
                "W5",
                "sagepipe",
                "LambdaSteps: build + definition + validate",
                [SP_PY, wl("sagepipe", "w5_big.py"), "lambda"],
            )
        )
    if os.path.exists(os.path.join(sp, "w6_processing.py")):
        C.append(
            case(
                "W6",
                "sagepipe",
                f"{JOBS} x ProcessingStep(ScriptProcessor)",
                [SP_PY, wl("sagepipe", "w6_processing.py")],
                clean=os.path.join(RUNS, "sagepipe-w6"),
            )
        )
    return C


# Exit status with which a workload says it cannot run yet (its message is on stderr).
SKIP_RC = 77


def prepare(cases):
    """Untimed set-up the workloads rely on."""
    os.makedirs(RUNS, exist_ok=True)
    for n in (20, 100):
        subprocess.run([PY, wl("metaflow", "gen_chain.py"), str(n)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([PY, wl("metaflow", "gen_big.py"), str(BIG_STEPS)], check=True, stdout=subprocess.DEVNULL)
    if any(c["group"] == "W5" and c["peer"] == "sagepipe" for c in cases):
        # the reference execution W5's selective plan needs (once: it runs 5,000 steps)
        env = {k: v for k, v in os.environ.items() if k not in DROP_ENV}
        subprocess.run([SP_PY, wl("sagepipe", "w5_big.py"), "step", "prepare"], check=True, env=env)
    home = BASE_ENV["DAGSTER_HOME"]
    os.makedirs(home, exist_ok=True)
    cfg = os.path.join(home, "dagster.yaml")
    if not os.path.exists(cfg):
        with open(cfg, "w") as f:
            f.write("telemetry:\n  enabled: false\n")


def sagepipe_revision():
    """The repository commit sagepipe was measured at, with the number of changed files (the
    working tree is what runs, so a dirty tree is part of the record)."""
    repo = os.path.dirname(os.path.dirname(ROOT))
    try:
        head = subprocess.run(
            ["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (f" + {len(dirty)} uncommitted changed file(s)" if dirty else "")


def run_once(c, logf, timeout):
    if c["clean"] and os.path.exists(c["clean"]):
        shutil.rmtree(c["clean"])
    if c["store"]:
        os.makedirs(c["store"], exist_ok=True)
    before = dir_bytes(c["store"]) if c["store"] else None
    env = {k: v for k, v in os.environ.items() if k not in DROP_ENV}
    env.update(BASE_ENV)
    env.update(c["env"])
    logf.write(f"\n===== {c['group']} {c['peer']} {c['name']} :: {' '.join(c['argv'])}\n")
    logf.flush()
    out_path = logf.name + ".cur"
    with open(out_path, "w") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(
            c["argv"],
            cwd=c["cwd"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        killer = threading.Timer(timeout, lambda: _killpg(p.pid))
        killer.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        killer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    leftover = _killpg(p.pid)  # anything the run left in its own process group
    text = open(out_path, errors="replace").read()
    logf.write(text)
    os.remove(out_path)
    bench = {}
    for line in text.splitlines():
        if line.startswith("BENCH "):
            bench = json.loads(line[6:])
    rec = dict(
        group=c["group"],
        peer=c["peer"],
        name=c["name"],
        rc=p.returncode,
        skipped=text.strip().splitlines()[-1] if p.returncode == SKIP_RC and text.strip() else None,
        wall=wall,
        cpu=ru.ru_utime + ru.ru_stime,
        maxrss_mb=ru.ru_maxrss / 1024,
        bench=bench,
        leftover=leftover,
        load1=os.getloadavg()[0],
        error=text.strip().splitlines()[-1][:300] if p.returncode and text.strip() else None,
    )
    if c["store"]:
        rec["store_delta"] = dir_bytes(c["store"]) - before
    return rec


def _killpg(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, nd=2):
    return "" if x is None else f"{x:.{nd}f}"


def summarize(cases, recs):
    by = {}
    for r in recs:
        by.setdefault((r["group"], r["peer"], r["name"]), []).append(r)
    rows = {}
    for c in cases:
        rs = [r for r in by.get((c["group"], c["peer"], c["name"]), []) if r["rc"] == 0]
        allr = by.get((c["group"], c["peer"], c["name"]), [])
        walls = [r["wall"] for r in rs]
        truns = [r["bench"].get("t_run") for r in rs]
        rows[(c["group"], c["peer"], c["name"])] = dict(
            c=c,
            k=len(rs),
            fails=len(allr) - len(rs),
            wall=med(walls),
            wmin=min(walls) if walls else None,
            wmax=max(walls) if walls else None,
            t_run=med(truns),
            cpu=med([r["cpu"] for r in rs]),
            rss=med([r["maxrss_mb"] for r in rs]),
            store=med([r.get("store_delta") for r in rs]),
            t_import=med([r["bench"].get("t_import") for r in rs]),
            t_server=med([r["bench"].get("t_server") for r in rs]),
            extra={
                k: med([r["bench"].get(k) for r in rs])
                for k in ("t_build", "t_validate", "t_plan", "ms_per_job", "selected")
            },
            skipped=next((r["skipped"] for r in allr if r.get("skipped")), None),
            error=next((r["error"] for r in allr if r["rc"] not in (0, SKIP_RC) and r.get("error")), None),
            runs=rs,
        )
    return rows


def render(cases, rows):
    L = []
    groups = []
    for c in cases:
        if c["group"] not in groups:
            groups.append(c["group"])
    for g in groups:
        rs = [v for k, v in rows.items() if k[0] == g]
        if not rs:
            continue
        if g == "W1":
            L += [
                "",
                "### W1 overhead chain (N no-op steps)",
                "",
                "| peer | case | runs | wall s median [min-max] | ms/step (wall/N) | in-proc run s | ms/step (run/N) | peak RSS MB |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for v in rs:
                n = v["c"]["n"]
                L.append(
                    f"| {v['c']['peer']} | {v['c']['name']} | {v['k']}{'!' + str(v['fails']) if v['fails'] else ''} | "
                    f"{fmt(v['wall'])} [{fmt(v['wmin'])}-{fmt(v['wmax'])}] | "
                    f"{fmt(v['wall'] and v['wall'] / n * 1000, 1)} | {fmt(v['t_run'], 3)} | "
                    f"{fmt(v['t_run'] and v['t_run'] / n * 1000, 2)} | {fmt(v['rss'], 0)} |"
                )
            # marginal per-step cost from N=20 -> N=100
            L += ["", "Marginal cost per extra step, (median(N=hi) - median(N=lo)) / (hi - lo):", ""]
            peers = {}
            for v in rs:
                key = (v["c"]["peer"], v["c"]["name"].rsplit(" N=", 1)[0])
                peers.setdefault(key, {})[v["c"]["n"]] = v
            for (peer, nm), d in peers.items():
                for lo, hi in ((20, 100), (100, 1000)):
                    if lo in d and hi in d and d[lo]["wall"] and d[hi]["wall"]:
                        mw = (d[hi]["wall"] - d[lo]["wall"]) / (hi - lo) * 1000
                        mr = (
                            (d[hi]["t_run"] - d[lo]["t_run"]) / (hi - lo) * 1000
                            if d[hi]["t_run"] is not None and d[lo]["t_run"] is not None
                            else None
                        )
                        L.append(
                            f"- {peer} {nm} (N={lo}->{hi}): {mw:.1f} ms/step whole-process"
                            + (f", {mr:.2f} ms/step in-process" if mr is not None else "")
                        )
        elif g == "W2":
            L += [
                "",
                "### W2 fan-out (8 x ~0.5 s CPU + join)",
                "",
                "| peer | case | runs | wall s median [min-max] | in-proc run s | cpu s | speedup vs sequential, same burn mode (paired median of in-proc run times) |",
                "|---|---|---|---|---|---|---|",
            ]
            seqs = {}
            for v in rs:
                p = v["c"]["pair"]
                if p and p[2] == "seq":
                    seqs[(p[0], p[1])] = v
            for v in rs:
                p = v["c"]["pair"]
                sp = ""
                s = None
                if p:  # own sequential run with the same burn mode, else the plain-Python one
                    s = seqs.get((p[0], p[1]))
                    if s is None:
                        s = seqs.get(("baseline", p[1]))
                if s and s is not v:
                    # pair run i of this case with run i of the sequential case (same round)
                    a = [x["bench"].get("t_run") or x["wall"] for x in s["runs"]]
                    b = [x["bench"].get("t_run") or x["wall"] for x in v["runs"]]
                    ratios = [x / y for x, y in zip(a, b) if y]
                    sp = f"{med(ratios):.2f}x" if ratios else ""
                    if sp and s["c"]["peer"] != v["c"]["peer"]:
                        sp += " (vs baseline sequential)"
                L.append(
                    f"| {v['c']['peer']} | {v['c']['name']} | {v['k']}{'!' + str(v['fails']) if v['fails'] else ''} | "
                    f"{fmt(v['wall'])} [{fmt(v['wmin'])}-{fmt(v['wmax'])}] | {fmt(v['t_run'])} | {fmt(v['cpu'])} | {sp} |"
                )
        elif g in ("W3full", "W3rerun"):
            title = "full run (all 4 steps)" if g == "W3full" else "selective rerun (train+evaluate, preprocess reused)"
            L += [
                "",
                f"### W3 {title}",
                "",
                "| peer | case | runs | wall s median [min-max] | overhead whole-process s (wall - sleeps) | overhead in-proc s (run - sleeps) | store growth MB |",
                "|---|---|---|---|---|---|---|",
            ]
            for v in rs:
                sl = v["c"]["sleeps"]
                L.append(
                    f"| {v['c']['peer']} | {v['c']['name']} | {v['k']}{'!' + str(v['fails']) if v['fails'] else ''} | "
                    f"{fmt(v['wall'])} [{fmt(v['wmin'])}-{fmt(v['wmax'])}] | {fmt(v['wall'] and v['wall'] - sl)} | "
                    f"{fmt(v['t_run'] and v['t_run'] - sl)} | {fmt(v['store'] and v['store'] / 2**20, 1)} |"
                )
        elif g == "W4":
            L += [
                "",
                "### W4 import / start-up (`python -c STMT`)",
                "",
                "| peer | statement | runs | wall s median [min-max] | peak RSS MB |",
                "|---|---|---|---|---|",
            ]
            for v in rs:
                L.append(
                    f"| {v['c']['peer']} | `{v['c']['name']}` | {v['k']}{'!' + str(v['fails']) if v['fails'] else ''} | "
                    f"{fmt(v['wall'], 3)} [{fmt(v['wmin'], 3)}-{fmt(v['wmax'], 3)}] | {fmt(v['rss'], 0)} |"
                )
        elif g == "W5":
            L += [
                "",
                f"### W5 big pipeline ({BIG_STEPS}-step layered DAG, up to 4 parents per step)",
                "",
                "| peer | case | runs | wall s median [min-max] | in-proc s (build+validate+plan) | build s | validate s | plan s | steps planned | peak RSS MB |",
                "|---|---|---|---|---|---|---|---|---|---|",
            ]
            for v in rs:
                x = v["extra"]
                L.append(
                    f"| {v['c']['peer']} | {v['c']['name']} | {runs_cell(v)} | "
                    f"{fmt(v['wall'])} [{fmt(v['wmin'])}-{fmt(v['wmax'])}] | {fmt(v['t_run'], 3)} | "
                    f"{fmt(x['t_build'], 3)} | {fmt(x['t_validate'], 3)} | {fmt(x['t_plan'], 3)} | "
                    f"{fmt(x['selected'], 0)} | {fmt(v['rss'], 0)} |"
                )
        elif g == "W6":
            L += [
                "",
                f"### W6 processing jobs ({JOBS} jobs, one at a time)",
                "",
                "| peer | case | runs | wall s median [min-max] | in-proc run s | ms per job | peak RSS MB |",
                "|---|---|---|---|---|---|---|",
            ]
            for v in rs:
                L.append(
                    f"| {v['c']['peer']} | {v['c']['name']} | {runs_cell(v)} | "
                    f"{fmt(v['wall'])} [{fmt(v['wmin'])}-{fmt(v['wmax'])}] | {fmt(v['t_run'], 3)} | "
                    f"{fmt(v['extra']['ms_per_job'], 1)} | {fmt(v['rss'], 0)} |"
                )
        notes = [f"- {v['c']['peer']} {v['c']['name']}: skipped: {v['skipped']}" for v in rs if v.get("skipped")]
        notes += [
            f"- {v['c']['peer']} {v['c']['name']}: {v['fails']} failed run(s), last error: `{v['error']}`"
            for v in rs
            if v["fails"] and not v.get("skipped") and v.get("error")
        ]
        if notes:
            L += [""] + notes
    return "\n".join(L)


def runs_cell(v):
    if v.get("skipped"):
        return "skipped"
    return f"{v['k']}{'!' + str(v['fails']) if v['fails'] else ''}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--groups", default="W1,W2,W3,W4,W5,W6", help="comma list of W1,W2,W3,W4,W5,W6")
    ap.add_argument("--peers", default="", help="comma list (default: all)")
    ap.add_argument("--reps", type=int, default=5, help="counted runs per case (W4 uses max(reps,7))")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument(
        "--quick",
        action="store_true",
        help="validate the harness: 1 counted run per case, no warm-up (numbers are indicative only)",
    )
    ap.add_argument("--timeout", type=float, default=300, help="per run, seconds")
    ap.add_argument("--match", default="", help="only cases whose name contains this substring")
    ap.add_argument("--skip", default="", help="comma list: leave out cases whose name contains any of these")
    ap.add_argument("--list", action="store_true")
    ap.add_argument(
        "--from-raw",
        nargs="+",
        metavar="RAW_JSONL",
        help="run nothing; re-render the table from earlier raw.jsonl files "
        "(a case's runs in a later file replace those in an earlier one)",
    )
    ap.add_argument("--out", default=os.path.join(ROOT, "results"))
    a = ap.parse_args()
    if a.quick:
        a.reps, a.warmup = 1, 0
    groups = set(a.groups.split(","))
    if "W3" in groups:
        groups |= {"W3full", "W3rerun"}
    peers = set(filter(None, a.peers.split(",")))
    cases = [
        c
        for c in build_cases()
        if c["group"] in groups
        and (not peers or c["peer"] in peers or (c["group"] == "W4" and c["peer"] == "python"))
        and a.match in c["name"]
        and not any(x and x in c["name"] for x in a.skip.split(","))
    ]
    if a.quick:
        for c in cases:
            c["reps"] = None
    if a.from_raw:
        per = {}
        for path in a.from_raw:
            got = {}
            for line in open(path):
                r = json.loads(line)
                if not r.get("warmup"):
                    got.setdefault((r["group"], r["peer"], r["name"]), []).append(r)
            per.update(got)
        recs = [r for rs in per.values() for r in rs]
        present = set(per)
        cases = [c for c in build_cases() if (c["group"], c["peer"], c["name"]) in present]
        print(f"# Peer benchmark results (from {', '.join(a.from_raw)})\n")
        rows = summarize(cases, recs)
        print(render(cases, rows))
        print(render_ratios(ratio_rows(rows)))
        return
    if a.list:
        for c in cases:
            print(c["group"], "|", c["peer"], "|", c["name"], "|", " ".join(c["argv"]))
        return
    prepare(cases)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    outdir = os.path.join(a.out, stamp)
    os.makedirs(outdir, exist_ok=True)
    recs = []
    with open(os.path.join(outdir, "runs.log"), "w") as logf, open(os.path.join(outdir, "raw.jsonl"), "w") as raw:
        order = ["W1", "W2", "W3full", "W3rerun", "W4", "W5", "W6"]
        for g in order:
            gc = [c for c in cases if c["group"] == g]
            if not gc:
                continue
            reps = max((c["reps"] or a.reps) for c in gc)
            reps = max(reps, a.reps)
            for rnd in range(a.warmup + reps):
                for c in gc:
                    want = max(c["reps"] or a.reps, a.reps)
                    if rnd >= a.warmup + want:
                        continue
                    r = run_once(c, logf, a.timeout)
                    r["round"] = rnd
                    r["warmup"] = rnd < a.warmup
                    raw.write(json.dumps(r) + "\n")
                    raw.flush()
                    tag = "warm-up" if r["warmup"] else f"run {rnd - a.warmup + 1}"
                    print(
                        f"[{g}] {c['peer']:<9} {c['name'][:55]:<55} {tag:<8} wall {r['wall']:7.2f}s"
                        f" rc={r['rc']} load={r['load1']:.1f}",
                        file=sys.stderr,
                        flush=True,
                    )
                    if not r["warmup"]:
                        recs.append(r)
    rows = summarize(cases, recs)
    revision = sagepipe_revision()
    head = [
        f"# Peer benchmark results {stamp}",
        "",
        f"host: {os.uname().nodename}, {os.cpu_count()} CPUs; python {sys.version.split()[0]}; "
        f"counted runs per case: {a.reps} (W4: >=7) after {a.warmup} warm-up round(s), round-robin within each group; "
        f"1-min load average during the runs: median {med([r['load1'] for r in recs]) or 0:.1f}, max {max([r['load1'] for r in recs] or [0]):.1f}.",
        f"sagepipe: {SP_PY} at commit {revision}.",
        "Medians throughout; '!k' after the run count = k failed runs (excluded).",
    ]
    ratios = ratio_rows(rows)
    text = "\n".join(head) + "\n" + render_ratios(ratios) + "\n" + render(cases, rows) + "\n"
    with open(os.path.join(outdir, "summary.md"), "w") as f:
        f.write(text)
    with open(os.path.join(outdir, "summary.json"), "w") as f:
        json.dump(
            {
                "stamp": stamp,
                "host": os.uname().nodename,
                "cpus": os.cpu_count(),
                "python": sys.version.split()[0],
                "sagepipe_revision": revision,
                "reps": a.reps,
                "warmup": a.warmup,
                "load1_median": med([r["load1"] for r in recs]),
                "ratios": ratios,
                "cases": [
                    dict(
                        group=k[0],
                        peer=k[1],
                        name=k[2],
                        runs=v["k"],
                        failed=v["fails"],
                        wall=v["wall"],
                        wall_min=v["wmin"],
                        wall_max=v["wmax"],
                        t_run=v["t_run"],
                        cpu=v["cpu"],
                        peak_rss_mb=v["rss"],
                        store_delta=v["store"],
                        skipped=v["skipped"],
                        error=v["error"],
                        **v["extra"],
                    )
                    for k, v in rows.items()
                ],
            },
            f,
            indent=1,
        )
    print(text)
    print(f"(raw runs: {outdir}/raw.jsonl, logs: {outdir}/runs.log)")


if __name__ == "__main__":
    main()
