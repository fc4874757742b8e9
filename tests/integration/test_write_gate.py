"""The gate between polls and control writes of one gateway."""

import asyncio
from contextlib import suppress

from custom_components.solar_gateway.coordinator import WriteGate


async def settle() -> None:
    """Let every ready task run until it blocks."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_polls_run_together_and_a_write_runs_alone() -> None:
    """Polls share the gate; a write waits for them, and later polls wait for it."""
    gate = WriteGate()
    events: list[str] = []
    release_polls = asyncio.Event()
    release_write = asyncio.Event()

    async def poll(name: str, release: asyncio.Event) -> None:
        async with gate.poll():
            events.append(f"{name} start")
            await release.wait()
            events.append(f"{name} end")

    async def write() -> None:
        async with gate.write():
            events.append("write start")
            await release_write.wait()
            events.append("write end")

    first = asyncio.create_task(poll("live", release_polls))
    second = asyncio.create_task(poll("devices", release_polls))
    await settle()
    assert events == ["live start", "devices start"]  # together

    writing = asyncio.create_task(write())
    await settle()
    late = asyncio.create_task(poll("settings", asyncio.Event()))
    await settle()
    assert events == ["live start", "devices start"]  # the write waits for both

    release_polls.set()
    await asyncio.gather(first, second)
    await settle()
    # The write goes before the poll that came while it waited.
    assert events[-1] == "write start"
    assert not late.done()

    release_write.set()
    await writing
    await settle()
    assert events[-2:] == ["write end", "settings start"]
    late.cancel()
    with suppress(asyncio.CancelledError):
        await late
