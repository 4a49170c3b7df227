"""Shared dagster set-up: a persistent instance in $DAGSTER_HOME (sqlite
storage, created on first use, telemetry off) for the runs that need one."""

import os


def instance():
    from dagster import DagsterInstance

    home = os.environ["DAGSTER_HOME"]
    os.makedirs(home, exist_ok=True)
    cfg = os.path.join(home, "dagster.yaml")
    if not os.path.exists(cfg):
        with open(cfg, "w") as f:
            f.write("telemetry:\n  enabled: false\n")
    return DagsterInstance.get()
