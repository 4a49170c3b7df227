"""The ratio table: sagepipe against the best peer and the plain-Python baseline measured in
the same run, next to the targets of issue 7. Input: bench.summarize() rows."""

from common import JOBS, SLEEP_EVAL, SLEEP_TRAIN

SLEEPS_RERUN = SLEEP_TRAIN + SLEEP_EVAL
# peers whose W1/W2 rows are orchestrators (the baseline rows are plain Python)
PEERS = ("kedro", "prefect", "dagster", "metaflow", "sagemaker2")


def _get(rows, group, peer, name):
    v = rows.get((group, peer, name))
    return v if v and v["k"] else None


def _best(cands):
    """(label, value) with the smallest value, ignoring missing ones."""
    cands = [(label, x) for label, x in cands if x is not None]
    return min(cands, key=lambda c: c[1]) if cands else (None, None)


def _div(a, b):
    return a / b if a is not None and b else None


def _paired_speedup(seq, par):
    a = [x["bench"].get("t_run") or x["wall"] for x in seq["runs"]]
    b = [x["bench"].get("t_run") or x["wall"] for x in par["runs"]]
    ratios = sorted(x / y for x, y in zip(a, b) if y)
    if not ratios:
        return None
    mid = len(ratios) // 2
    return ratios[mid] if len(ratios) % 2 else (ratios[mid - 1] + ratios[mid]) / 2


def ratio_rows(rows):
    """One dict per target: workload, metric, unit, sagepipe, best_peer, best_peer_value,
    baseline, ratio_peer, ratio_baseline, target, met (True/False/None = not measurable)."""
    out = []

    def add(workload, metric, unit, sp, peer=(None, None), base=None, target="", met=None, note=""):
        out.append(
            dict(
                workload=workload,
                metric=metric,
                unit=unit,
                sagepipe=sp,
                best_peer=peer[0],
                best_peer_value=peer[1],
                baseline=base,
                ratio_peer=_div(sp, peer[1]),
                ratio_baseline=_div(sp, base),
                target=target,
                met=met,
                note=note,
            )
        )

    # ---- W1: per-step overhead, in-process run / N (whole-process wall / N for metaflow)
    for n in (20, 100, 1000):
        peer_rows = [
            (f"{k[1]} {k[2]}", v)
            for k, v in rows.items()
            if k[0] == "W1" and k[1] in PEERS and v["k"] and v["c"]["n"] == n
        ]
        best = _best(
            [(label, (v["t_run"] if v["t_run"] is not None else v["wall"]) / n * 1000) for label, v in peer_rows]
        )
        base = _get(rows, "W1", "baseline", f"call N={n}")
        base_ms = base["t_run"] / n * 1000 if base else None
        for mode, limit in (("in_process", 0.1), ("worker", 1.0)):
            v = _get(rows, "W1", "sagepipe", f"{mode} N={n}")
            sp = v["t_run"] / n * 1000 if v else None
            r = _div(sp, best[1])
            add(
                "W1",
                f"ms/step, {mode}, N={n}",
                "ms",
                sp,
                best,
                base_ms,
                f"<= {limit:g} x best peer",
                None if r is None else r <= limit,
            )
    # ---- W2: speedup and wall against every peer's parallel executor
    for burn in ("inproc", "subproc"):
        seq = _get(rows, "W2", "sagepipe", f"workers, max parallel 1 [{burn}]")
        par = _get(rows, "W2", "sagepipe", f"workers, max parallel 2 [{burn}]")
        sp_speed = _paired_speedup(seq, par) if seq and par else None
        base_seq = _get(rows, "W2", "baseline", f"sequential [{burn}]")
        base_par = _get(rows, "W2", "baseline", f"mp.Pool(2) [{burn}]")
        base_speed = _paired_speedup(base_seq, base_par) if base_seq and base_par else None
        add(
            "W2",
            f"parallel speedup (2 workers) [{burn}]",
            "x",
            sp_speed,
            (None, None),
            base_speed,
            ">= 1.85",
            None if sp_speed is None else sp_speed >= 1.85,
        )
        peers = [
            (f"{k[1]} {k[2]}", v["wall"])
            for k, v in rows.items()
            if k[0] == "W2"
            and k[1] in PEERS
            and v["k"]
            and v["c"]["pair"]
            and v["c"]["pair"][1] == burn
            and v["c"]["pair"][2] == "par"
        ]
        best = _best(peers)
        sp = par["wall"] if par else None
        r = _div(sp, best[1])
        add(
            "W2",
            f"wall, parallel(2) [{burn}]",
            "s",
            sp,
            best,
            base_par["wall"] if base_par else None,
            "< every peer's parallel executor",
            None if r is None else r < 1,
        )
    # ---- W3: selective rerun overhead and store growth
    base = _get(rows, "W3rerun", "baseline", "rerun: plain python, file hand-off")
    for measure, key in (("in-process", "t_run"), ("whole-process", "wall")):
        peers = [
            (f"{k[1]}", v[key] - SLEEPS_RERUN)
            for k, v in rows.items()
            if k[0] == "W3rerun" and k[1] in PEERS and v["k"] and v[key] is not None
        ]
        best = _best(peers)
        base_o = base[key] - SLEEPS_RERUN if base and base[key] is not None else None
        for mode in ("worker", "in_process"):
            v = _get(rows, "W3rerun", "sagepipe", f"rerun train+evaluate [{mode}]")
            sp = v[key] - SLEEPS_RERUN if v and v[key] is not None else None
            met = None
            if sp is not None and base_o is not None:
                met = sp - base_o <= 0.05 and (best[1] is None or sp < best[1])
            add(
                "W3",
                f"rerun overhead s, {measure} [{mode}]",
                "s",
                sp,
                best,
                base_o,
                "<= baseline + 0.05 s and < every peer",
                met,
                note="" if sp is None or base_o is None else f"baseline + {sp - base_o:.3f} s",
            )
    for mode in ("worker", "in_process"):
        v = _get(rows, "W3rerun", "sagepipe", f"rerun train+evaluate [{mode}]")
        mb = v["store"] / 2**20 if v and v["store"] is not None else None
        add(
            "W3",
            f"store growth on rerun MB [{mode}]",
            "MB",
            mb,
            target="0 (< 1 MB of records, no copy)",
            met=None if mb is None else mb < 1,
        )
    small = _get(rows, "W3rerun", "sagepipe", "rerun train+evaluate [worker]")
    big = _get(rows, "W3rerun", "sagepipe", "rerun train+evaluate [worker] [1 GiB]")
    base_big = _get(rows, "W3rerun", "baseline", "rerun [1 GiB]")
    if small and big:
        sp_delta = big["t_run"] - small["t_run"]
        base_delta = base_big["t_run"] - base["t_run"] if base_big and base else None
        add(
            "W3",
            "rerun 1 GiB minus 100 MiB, in-process s [worker]",
            "s",
            sp_delta,
            (None, None),
            base_delta,
            "<= baseline's growth + 0.05 s (train reads its input)",
            None if base_delta is None else sp_delta - base_delta <= 0.05,
        )
        mb = big["store"] / 2**20 if big["store"] is not None else None
        add(
            "W3",
            "store growth on 1 GiB rerun MB [worker]",
            "MB",
            mb,
            target="0 (< 1 MB)",
            met=None if mb is None else mb < 1,
        )
    # ---- W4: imports
    sm_import = _get(rows, "W4", "sagemaker2", "import sagemaker")
    kedro_full = next(
        (v for k, v in rows.items() if k[0] == "W4" and k[1] == "kedro" and "runner" in k[2] and v["k"]), None
    )
    python = _get(rows, "W4", "python", "pass")
    sp_rows = [(k[2], v) for k, v in rows.items() if k[0] == "W4" and k[1] == "sagepipe" and v["k"]]
    for stmt, v in sp_rows:
        sm_same = _get(rows, "W4", "sagemaker2", stmt.replace("sagepipe", "sagemaker"))
        ref = sm_same or sm_import
        label = stmt if len(stmt) < 60 else stmt[:57] + "..."
        r = _div(v["wall"], ref["wall"]) if ref else None
        add(
            "W4",
            f"`{label}` vs same SDK 2.x import",
            "s",
            v["wall"],
            ("sagemaker2 " + ("same import" if sm_same else "import sagemaker"), ref["wall"] if ref else None),
            python["wall"] if python else None,
            "<= 1/20 of SDK 2.x",
            None if r is None else r <= 0.05,
        )
        if "step" in stmt or stmt.startswith("from sagepipe.workflow.pipeline"):
            rk = _div(v["wall"], kedro_full["wall"]) if kedro_full else None
            add(
                "W4",
                f"`{label}` vs kedro's full import",
                "s",
                v["wall"],
                ("kedro full import", kedro_full["wall"] if kedro_full else None),
                None,
                "< kedro",
                None if rk is None else rk < 1,
            )
    # ---- W5: big pipelines, time and memory
    sp = _get(rows, "W5", "sagepipe", "@step DAG: build + definition + validate + plan")
    peers = [(k[1], v) for k, v in rows.items() if k[0] == "W5" and k[1] in PEERS and v["k"]]
    planners = [(p, v) for p, v in peers if p in ("kedro", "dagster")]
    best = _best([(p, v["t_run"]) for p, v in planners])
    if sp:
        r = _div(sp["t_run"], best[1])
        add(
            "W5",
            "build+validate+plan s, in-process",
            "s",
            sp["t_run"],
            best,
            None,
            "<= 0.1 x fastest peer",
            None if r is None else r <= 0.1,
        )
        best_rss = _best([(p, v["rss"]) for p, v in peers])
        add(
            "W5",
            "peak RSS MB (whole process)",
            "MB",
            sp["rss"],
            best_rss,
            None,
            "< every peer",
            None if best_rss[1] is None else sp["rss"] < best_rss[1],
        )
    lam = _get(rows, "W5", "sagepipe", "LambdaSteps: build + definition + validate")
    sdk = _get(rows, "W5", "sagemaker2", "LambdaSteps + Pipeline.definition()")
    if lam:
        add(
            "W5",
            "LambdaSteps build+definition(+validate) s vs the real SDK",
            "s",
            lam["t_run"],
            ("sagemaker2", sdk["t_run"] if sdk else None),
            None,
            "(no target; same JSON)",
            None,
        )
        add(
            "W5",
            "LambdaSteps peak RSS MB vs the real SDK",
            "MB",
            lam["rss"],
            ("sagemaker2", sdk["rss"] if sdk else None),
            None,
            "(no target)",
            None,
        )
    # ---- W6: processing jobs
    base6 = _get(rows, "W6", "baseline", f"{JOBS} x plain `python script.py`")
    sp6 = rows.get(("W6", "sagepipe", f"{JOBS} x ProcessingStep(ScriptProcessor)"))
    if sp6 and sp6.get("skipped"):
        add(
            "W6",
            "extra ms per processing job vs plain child",
            "ms",
            None,
            target="<= 20 ms",
            note="skipped: " + sp6["skipped"],
        )
    elif sp6 and not sp6["k"]:
        add(
            "W6",
            "extra ms per processing job vs plain child",
            "ms",
            None,
            target="<= 20 ms",
            note=f"all runs failed: {sp6['error']}",
        )
    elif sp6 and base6:
        extra = sp6["extra"]["ms_per_job"] - base6["extra"]["ms_per_job"]
        add(
            "W6",
            "extra ms per processing job vs plain child",
            "ms",
            extra,
            (None, None),
            base6["extra"]["ms_per_job"],
            "<= 20 ms",
            extra <= 20,
        )
    return out


def render_ratios(ratio_list):
    def f(x, unit):
        if x is None:
            return ""
        return f"{x:.3f}" if unit in ("s", "ms") and abs(x) < 10 else f"{x:.2f}" if unit != "ms" else f"{x:.1f}"

    def r(x):
        return "" if x is None else (f"{x:.3f}" if x < 0.1 else f"{x:.2f}")

    L = [
        "",
        "### Ratios against the targets (sagepipe / best peer, sagepipe / baseline; same run)",
        "",
        "| workload | metric | sagepipe | best peer | best peer value | baseline | / best peer | / baseline | target | met |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for x in ratio_list:
        met = {True: "yes", False: "**no**", None: "-"}[x["met"]]
        L.append(
            f"| {x['workload']} | {x['metric']} | {f(x['sagepipe'], x['unit'])} | {x['best_peer'] or ''} | "
            f"{f(x['best_peer_value'], x['unit'])} | {f(x['baseline'], x['unit'])} | {r(x['ratio_peer'])} | "
            f"{r(x['ratio_baseline'])} | {x['target']} | {met}{' (' + x['note'] + ')' if x['note'] else ''} |"
        )
    return "\n".join(L)
