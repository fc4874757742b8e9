"""The simulated PVS serves any real varserver dump: whatever variables it has.

A real PVS answers the variables it has; dumps from the field lack some that
others have (``/sys/info/uptime``, livedata on a PVS5). Over every varserver set
of the corpus (when present) and every project fixture with any one variable
removed: ``/vars?match=/sys/`` answers, and its first answer is the dump's.
"""

from dataclasses import replace
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from custom_components.solar_gateway.gateway.capture import Capture, read_capture
from simulator import SimulatedGateway
from simulator.clock import ManualClock
from simulator.kinds import VARSERVER_DUMP

from .conftest import OPTIONS
from .test_envoy import corpus_sets, fixture_sets
from .test_pvs import basic

CORPUS_DUMPS = [f for f in corpus_sets("pvs") if (f / VARSERVER_DUMP).is_file()]
FIXTURE_DUMPS = [f for f in fixture_sets("pvs") if (f / VARSERVER_DUMP).is_file()]
SYS = "/vars?match=/sys/&fmt=obj"


def _dump(capture: Capture) -> dict[str, Any]:
    response = capture.get(VARSERVER_DUMP)
    assert response is not None
    dump: dict[str, Any] = json.loads(response.body)
    return dump


def _without(capture: Capture, name: str) -> Capture:
    """The capture with one variable removed from its dump."""
    dump = _dump(capture)
    del dump[name]
    response = capture.responses[VARSERVER_DUMP]
    body = json.dumps(dump).encode()
    return replace(
        capture,
        responses={**capture.responses, VARSERVER_DUMP: replace(response, body=body)},
    )


async def _first_sys_answer(
    capture: Capture, password: str, session: aiohttp.ClientSession, clock: ManualClock
) -> tuple[int, object]:
    """Log in and read ``/sys/`` once: the status and the answer."""
    options = replace(OPTIONS, owner_password=password)
    async with SimulatedGateway.start(
        capture, https_port=None, stream_port=None, clock=clock, options=options
    ) as gw:
        login = basic("ssm_owner", password)
        async with session.get(f"{gw.url}/auth?login", headers=login) as response:
            assert response.status == 200
            token = (await response.json())["session"]
        # Sent by hand: the cookie is marked Secure, and this is plain HTTP.
        cookie = {"Cookie": f"session={token}"}
        async with session.get(f"{gw.url}{SYS}", headers=cookie) as response:
            body = await response.text()
    return response.status, json.loads(body) if response.status == 200 else body


def _sys_part(dump: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in dump.items() if "/sys/" in name}


@pytest.mark.skipif(not CORPUS_DUMPS, reason="no varserver dump in the corpus")
@pytest.mark.parametrize("folder", CORPUS_DUMPS, ids=lambda path: path.name)
async def test_every_corpus_dump_is_served(
    folder: Path, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """A real dump is served as it is: its first ``/sys/`` answer is the dump's."""
    capture = read_capture(folder)
    dump = _dump(capture)
    password = str(dump["/sys/info/serialnum"])[-5:]
    status, answer = await _first_sys_answer(capture, password, session, clock)
    assert status == 200
    assert answer == _sys_part(dump)


@pytest.mark.parametrize("folder", FIXTURE_DUMPS, ids=lambda path: path.name)
async def test_a_dump_missing_any_one_variable_is_served(
    folder: Path, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Each variable of the fixture removed in turn (the serial too): the PVS still
    answers ``/sys/``, first with exactly what the dump holds."""
    capture = read_capture(folder)
    dump = _dump(capture)
    password = str(dump["/sys/info/serialnum"])[-5:]
    assert len(dump) > 30
    for name in dump:
        smaller = _without(capture, name)
        status, answer = await _first_sys_answer(smaller, password, session, clock)
        assert status == 200, f"without {name}: HTTP {status} {answer!r:.300}"
        assert answer == _sys_part(_dump(smaller)), f"without {name}"
