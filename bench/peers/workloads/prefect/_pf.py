"""Start prefect's ephemeral API server (a uvicorn subprocess on 127.0.0.1 that
prefect itself stops at interpreter exit) before the timed region, so t_run is
the per-run cost a notebook user pays once the server is up; t_server is the
one-off start cost. Prefect 3 has no API-less mode: with PREFECT_API_URL unset
and server.ephemeral.enabled (the default profile) this is the lightest local mode."""

import time


def start_ephemeral_server():
    t0 = time.perf_counter()
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        from prefect.server.api.server import SubprocessASGIServer

        SubprocessASGIServer().start()
    return time.perf_counter() - t0
