"""Call placement: request latency per provider, and 200 concurrent calls.

The burst runs against ``dialer simulate`` in its own process (as a real provider is on
another machine), so the simulator's work is not charged to the client.

Latency is the time from ``CallService.place_call()`` being called to the call request
arriving at the simulator (its handler's first instruction), over loopback, the full path:
number parsing, capability checks, the call record written to SQLite, the HTTP request.
A raw ``httpx`` POST of the same body to the same server is measured in the same run as the
baseline, so the dialer's own overhead shows as a ratio.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

from benchmarks.table import Row
from dialer.app.demo import demo_accounts, demo_secrets
from dialer.app.service import CallService
from dialer.core.accounts import ProviderKind
from dialer.core.limits import NO_LIMITS
from dialer.core.paths import AppPaths
from dialer.history.factory import open_history
from dialer.simulator import ProviderSimulator, SimulatorAddress, SimulatorConfig

CUSTOMER = "+91 88671 35000"
P50_TARGET_MS, P99_TARGET_MS = 2.0, 10.0
BURST, BURST_DELAY, BURST_TARGET_S = 200, 2.0, 2.5


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _quiet_config(answer_delay: float = 0.0) -> SimulatorConfig:
    # Simulated calls that ring for an hour keep the simulator's own work out of the timings.
    return SimulatorConfig(answer_delay=answer_delay, ring_seconds=3600, talk_seconds=3600)


async def _latencies(
    sim: ProviderSimulator, service: CallService, account: str, count: int
) -> list[float]:
    await service.place_call(CUSTOMER, account=account)  # warm-up: login, pools, caches
    samples = []
    for _ in range(count):
        sim.clear_requests()
        started = time.perf_counter()
        await service.place_call(CUSTOMER, account=account)
        arrived = [r.arrived for r in sim.requests if r.provider is not None][-1]
        samples.append((arrived - started) * 1000)
    return samples


async def _baseline(sim: ProviderSimulator, count: int) -> list[float]:
    import httpx

    url = sim.account_url(ProviderKind.C2C_V2) + "voice/c2c"
    creds = sim.config.credentials
    body = {"bridge": creds.c2c_bridges[0], "from": "919876543210", "to": "918867135000"}
    headers = {"Authorization": f"Bearer {creds.c2c_token}", "Accept": "application/json"}
    samples = []
    async with httpx.AsyncClient() as client:
        await client.post(url, json=body, headers=headers)
        for _ in range(count):
            sim.clear_requests()
            started = time.perf_counter()
            await client.post(url, json=body, headers=headers)
            samples.append((sim.requests[-1].arrived - started) * 1000)
    return samples


async def _burst(service: CallService, account: str) -> tuple[float, int]:
    await service.place_call(CUSTOMER, account=account)  # warm-up outside the measurement
    started = time.perf_counter()
    # Each to another customer: the service refuses a second identical call while the first
    # is being placed (a double click), which is not what a burst of an agent team is.
    results = await asyncio.gather(
        *(service.place_call(f"+91886713{n:04d}", account=account) for n in range(BURST)),
        return_exceptions=True,
    )
    wall = time.perf_counter() - started
    return wall, sum(1 for r in results if isinstance(r, BaseException))


async def _raw_burst(sim: SimulatorAddress) -> float:
    """The floor: the same burst as bare httpx POSTs, spread over as many clients."""
    import httpx

    url = sim.account_url(ProviderKind.C2C_V2) + "voice/c2c"
    creds = sim.config.credentials
    body = {"bridge": creds.c2c_bridges[0], "from": "919876543210", "to": "918867135000"}
    headers = {"Authorization": f"Bearer {creds.c2c_token}"}
    clients = [httpx.AsyncClient() for _ in range(BURST // 16 + 1)]
    started = time.perf_counter()
    await asyncio.gather(
        *(clients[n % len(clients)].post(url, json=body, headers=headers) for n in range(BURST))
    )
    wall = time.perf_counter() - started
    for client in clients:
        await client.aclose()
    return wall


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _simulator_process(
    answer_delay: float,
    *,
    ring_seconds: float = 3600,
    talk_seconds: float = 3600,
    port: int | None = None,
    webhook_url: str | None = None,
) -> Iterator[SimulatorAddress]:
    """``dialer simulate`` in its own process: the provider is not on the client's CPU.
    ``port`` and ``webhook_url`` are for a receiver that must be known before it starts."""
    port = port or _free_port()
    with tempfile.TemporaryDirectory() as home:
        command = [sys.executable, "-m", "dialer", "simulate", "--port", str(port),
                   "--answer-delay", str(answer_delay), "--ring-seconds", str(ring_seconds),
                   "--talk-seconds", str(talk_seconds)]  # fmt: skip
        if webhook_url is not None:
            command += ["--webhook-url", webhook_url]
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "DIALER_HOME": home},
        )
        try:
            assert proc.stdout is not None
            proc.stdout.readline()  # the banner: it is listening
            yield SimulatorAddress(f"http://127.0.0.1:{port}/")
        finally:
            proc.terminate()
            proc.communicate(timeout=10)


async def run(*, quick: bool = False) -> list[Row]:
    count = 100 if quick else 1000
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with ProviderSimulator(_quiet_config()) as sim:
            accounts = demo_accounts(sim, limits=NO_LIMITS)
            history = open_history(AppPaths.under(Path(tmp) / "latency").ensure())
            service = CallService(accounts, demo_secrets(sim), history)
            base = _percentile(await _baseline(sim, count), 50)
            rows.append(Row(f"raw httpx POST, p50 over {count} (baseline)", f"{base:.3f} ms"))
            for account in accounts.list():
                samples = await _latencies(sim, service, account.name, count)
                p50, p99 = _percentile(samples, 50), _percentile(samples, 99)
                rows.append(Row(
                    f"{account.provider}: place_call -> request arrives, p50",
                    f"{p50:.3f} ms ({p50 / base:.1f}x baseline)",
                    f"<= {P50_TARGET_MS:g} ms", p50 <= P50_TARGET_MS,
                ))  # fmt: skip
                rows.append(Row(
                    f"{account.provider}: place_call -> request arrives, p99",
                    f"{p99:.3f} ms", f"<= {P99_TARGET_MS:g} ms", p99 <= P99_TARGET_MS,
                ))  # fmt: skip
                rows.append(Row(
                    f"{account.provider}: mean (stdev) over {count}",
                    f"{statistics.mean(samples):.3f} ms ({statistics.stdev(samples):.3f})",
                ))  # fmt: skip
            await service.aclose()
            history.close()
        gc.collect()
        with _simulator_process(BURST_DELAY) as remote:
            floor = await _raw_burst(remote)
            rows.append(Row(
                f"raw httpx: {BURST} concurrent POSTs, server answers after {BURST_DELAY:g} s "
                "(baseline)", f"{floor:.2f} s wall",
            ))  # fmt: skip
            accounts = demo_accounts(remote, limits=NO_LIMITS)
            history = open_history(AppPaths.under(Path(tmp) / "burst").ensure())
            service = CallService(accounts, demo_secrets(remote), history)
            for account in accounts.list():
                cold, failures = await _burst(service, account.name)  # fresh connection pools
                wall, more = await _burst(service, account.name)  # warm, as in a running app
                tracemalloc.start()
                _, most = await _burst(service, account.name)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                failures += more + most
                rows.append(Row(
                    f"{account.provider}: {BURST} concurrent calls, server answers after "
                    f"{BURST_DELAY:g} s",
                    f"{wall:.2f} s wall ({wall / floor:.2f}x baseline; first burst {cold:.2f} s), "
                    f"{failures} failed, peak Python heap {peak / 1e6:.1f} MB",
                    f"<= {BURST_TARGET_S:g} s, 0 failed",
                    wall <= BURST_TARGET_S and failures == 0,
                ))  # fmt: skip
            await service.aclose()
            history.close()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(Row("peak resident memory of the whole run", f"{peak_rss:.0f} MB"))
    return rows
