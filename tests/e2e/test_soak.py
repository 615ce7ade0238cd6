"""Soak (slow): a steady stream of calls for 15 minutes (VOICETRAIL_SOAK_SECONDS to change) through the
local API. The worker processes' RSS is sampled every 10 s and reported; after warm-up it must stay flat
(growth < 20 %), and nothing may be lost, duplicated or answered 5xx."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import httpx
import pytest

from voicetrail.providers.vapi.auth import VapiAuthConfig
from voicetrail_cli.dev.local import LocalApi
from voicetrail_cli.dev.simulate.command import run_simulation, steady_pacer
from voicetrail_cli.dev.simulate.driver import HttpDriver, Signer
from voicetrail_cli.dev.simulate.evaluate import latency_line
from voicetrail_cli.dev.simulate.plan import SimConfig, plan_simulation
from voicetrail_cli.target import dynamodb_admin_client

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SECONDS = float(os.environ.get("VOICETRAIL_SOAK_SECONDS", "900"))
CALLS_PER_SECOND = 0.5  # x ~75 deliveries per call: ~35 requests/s, steady


def worker_rss_kb(parent: int) -> dict[int, int]:
    out: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("PPid", "0").strip()) == parent and "spawn_main" in Path(
            f"/proc/{entry}/cmdline"
        ).read_text(errors="replace"):
            out[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0])
    return out


def test_steady_load_keeps_memory_flat_and_loses_nothing(tmp_path: Path) -> None:
    calls = max(2, int(SECONDS * CALLS_PER_SECOND))
    plan = plan_simulation(SimConfig(calls=calls, turns=4, seed=1511))
    samples: list[tuple[float, dict[int, int]]] = []
    stop = threading.Event()
    with LocalApi(workers=3, log_path=str(tmp_path / "fn.log")) as api:

        def sample() -> None:
            start = time.monotonic()
            while not stop.is_set():
                samples.append((time.monotonic() - start, worker_rss_kb(os.getpid())))
                stop.wait(10)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        signer = Signer(VapiAuthConfig(), api.secrets.vapi, api.secrets.twilio, api.base_url)
        driver = HttpDriver(api.base_url, signer, concurrency=16)
        try:
            report = run_simulation(
                plan,
                driver,
                dynamodb=dynamodb_admin_client(api.dynamodb_endpoint),
                table=api.table,
                pace=steady_pacer(CALLS_PER_SECOND),
            )
        finally:
            stop.set()
            sampler.join()
            # moto's backends are shared by every server in this process: leave them empty.
            httpx.post(f"{api.dynamodb_endpoint}/moto-api/reset", timeout=120)
        samples.append((samples[-1][0] + 1 if samples else 0, worker_rss_kb(os.getpid())))
    totals = [(t, sum(r.values()) / 1024) for t, r in samples if r]
    warm = [mb for t, mb in totals if t >= report.stats.elapsed_s * 0.2]
    baseline, final, peak = warm[0], warm[-1], max(warm)
    growth = (final - baseline) / baseline
    print("\nSOAK " + latency_line(report.stats))
    print(
        f"SOAK workers RSS after warm-up {baseline:.1f} MB -> end {final:.1f} MB "
        f"(peak {peak:.1f} MB): {growth:+.1%}"
    )
    print("SOAK RSS samples (s, MB): " + json.dumps([(round(t), round(mb, 1)) for t, mb in totals]))
    print("SOAK " + json.dumps(report.summary()))
    assert report.failures() == dict.fromkeys(report.failures(), 0), report.summary()
    assert growth < 0.20
