"""Where JSON parsing leaves the event loop: parse times against the thread hop.

Run: ``.venv/bin/python benchmarks/json_off_loop.py``. Prints the time
``json.loads`` takes on the largest documents of the project's fixtures (typical
sites), on the device data and inverter list of a 300-inverter Envoy grown from a
fixture, and the cost of one ``asyncio.to_thread`` hop. The transport parses bodies
above ``OFF_LOOP_JSON_BYTES`` in a thread: typical documents stay below it.
"""

import asyncio
import json
from pathlib import Path
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.solar_gateway.gateway.transport import OFF_LOOP_JSON_BYTES
from simulator.capture import load_source
from simulator.large_site import envoy_with_inverters

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def best_of(body: bytes, runs: int = 50) -> float:
    """The fastest of ``runs`` parses, in seconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        json.loads(body)
        best = min(best, time.perf_counter() - start)
    return best


async def hop(runs: int = 200) -> float:
    """The fastest of ``runs`` round trips through a worker thread, in seconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        await asyncio.to_thread(json.loads, b"{}")
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Measure and print."""
    print(f"threshold: {OFF_LOOP_JSON_BYTES} B")
    documents: list[tuple[str, bytes]] = []
    for folder in sorted(p for p in FIXTURES.glob("*/*") if p.is_dir()):
        for file in folder.iterdir():
            body = file.read_bytes()
            if body.lstrip()[:1] in (b"{", b"["):
                documents.append(
                    (f"{folder.parent.name}/{folder.name}/{file.name}", body)
                )
    documents.sort(key=lambda item: len(item[1]))
    site = envoy_with_inverters(load_source(FIXTURES / "envoy/metered_battery"), 300)
    for name in ("api_v1_production_inverters", "ivp_pdm_device_data"):
        response = site.get(name)
        assert response is not None
        documents.append((f"300 inverters: {name}", response.body))
    for name, body in documents[-8:]:
        where = "thread" if len(body) > OFF_LOOP_JSON_BYTES else "loop"
        print(f"{len(body):>9} B {best_of(body) * 1e3:8.3f} ms  {where:6} {name}")
    print(f"thread hop: {asyncio.run(hop()) * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
