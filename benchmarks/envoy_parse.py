"""How much building the Envoy models costs next to decoding the JSON alone.

Run: ``.venv/bin/python benchmarks/envoy_parse.py``. Prints, for the largest Envoy
capture set of the corpus (when present) and for a synthetic site of 300 inverters and
12 batteries, the time to parse one full update (every endpoint, JSON decoding
included) and the time ``json.loads`` alone takes on the same bytes. Target: at most 2x.
"""

from collections.abc import Callable
import json
from pathlib import Path
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from multidict import CIMultiDict, CIMultiDictProxy

from custom_components.solar_gateway.gateway.envoy.endpoints import READERS, Endpoint
from custom_components.solar_gateway.gateway.envoy.models import EnvoyData, EnvoyInfo
from custom_components.solar_gateway.gateway.envoy.probe import identity_of
from custom_components.solar_gateway.gateway.envoy.site_mapping import build_snapshot
from custom_components.solar_gateway.gateway.transport import Response
from tests.conftest import corpus_root

HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())
T = 1735732800


def _file_name(path_qs: str) -> str:
    name = path_qs.lstrip("/").replace("/", "_")
    return name.replace("?", "_").replace("=", "_").replace("&", "_")


def _corpus_bodies(folder: Path) -> dict[Endpoint, bytes]:
    bodies: dict[Endpoint, bytes] = {}
    for endpoint in Endpoint:
        if endpoint is Endpoint.PRODUCTION_PAGE:
            continue
        for name in (
            _file_name(endpoint.value),
            _file_name(endpoint.value.split("?")[0]),
        ):
            file = folder / name
            if file.is_file():
                try:
                    json.loads(file.read_bytes())
                except ValueError:
                    break
                bodies[endpoint] = file.read_bytes()
                break
    return bodies


def _synthetic_bodies(inverters: int, batteries: int) -> dict[Endpoint, bytes]:
    serials = [f"4822{i:08d}" for i in range(inverters)]
    batts = [f"4923{i:08d}" for i in range(batteries)]
    channel = {
        "eid": 1,
        "timestamp": T,
        "actEnergyDlvd": 1234567.891,
        "actEnergyRcvd": 12.5,
        "apparentEnergy": 2e6,
        "reactEnergyLagg": 3e5,
        "reactEnergyLead": 1e3,
        "instantaneousDemand": 3000.5,
        "activePower": 3000.5,
        "apparentPower": 3100.2,
        "reactivePower": -5.5,
        "pwrFactor": 0.98,
        "voltage": 240.1,
        "current": 12.5,
        "freq": 60.0,
    }
    documents: dict[Endpoint, object] = {
        Endpoint.INVERTERS: [
            {
                "serialNumber": s,
                "lastReportDate": T,
                "devType": 1,
                "lastReportWatts": 250 + i % 50,
                "maxReportWatts": 300,
            }
            for i, s in enumerate(serials)
        ],
        Endpoint.PDM_DEVICE_DATA: {
            str(553648384 + 256 * i): {
                "devName": "pcu",
                "sn": s,
                "active": True,
                "modGone": False,
                "channels": [
                    {
                        "chanEid": 1627390225 + i,
                        "created": T,
                        "wattHours": {"today": 2100, "yesterday": 2400, "week": 15000},
                        "watts": {"now": 250, "nowUsed": 0, "max": 300},
                        "lastReading": {
                            "eid": 1627390225 + i,
                            "interval_type": 0,
                            "endDate": T,
                            "duration": 900,
                            "flags": 0,
                            "flags_hex": "0x0000000000000000",
                            "joulesProduced": 123750,
                            "acVoltageINmV": 240100,
                            "acFrequencyINmHz": 60010,
                            "dcVoltageINmV": 35200,
                            "dcCurrentINmA": 8800,
                            "channelTemp": 31,
                            "pwrConvErrSecs": 0,
                            "pwrConvMaxErrCycles": 0,
                            "joulesUsed": 0,
                            "leadingVArs": 177,
                            "laggingVArs": 20,
                            "acCurrentInmA": 1250,
                            "l1NAcVoltageInmV": 0,
                            "l2NAcVoltageInmV": 0,
                            "l3NAcVoltageInmV": 0,
                            "rssi": 106,
                            "issi": 70,
                        },
                        "lifetime": {
                            "createdTime": T - 10**7,
                            "duration": 10**7,
                            "joulesProduced": 3_600_000_000,
                        },
                    }
                ],
            }
            for i, s in enumerate(serials)
        },
        Endpoint.INVENTORY: [
            {
                "type": "PCU",
                "devices": [
                    {
                        "part_num": "800-01331-r02",
                        "installed": str(T),
                        "serial_num": s,
                        "device_status": ["envoy.global.ok"],
                        "last_rpt_date": str(T),
                        "admin_state": 2,
                        "dev_type": 1,
                        "created_date": str(T),
                        "img_load_date": "0",
                        "img_pnum_running": "521-00005-r06-v02.61.01",
                        "ptpn": "549-00040-r01-v02.61.01",
                        "chaneid": 1,
                        "device_control": [{"gficlearset": False}],
                        "producing": True,
                        "communicating": True,
                        "provisioned": True,
                        "operating": True,
                        "phase": "ph-a",
                    }
                    for s in serials
                ],
            }
        ],
        Endpoint.ENSEMBLE_INVENTORY: [
            {
                "type": "ENCHARGE",
                "devices": [
                    {
                        "part_num": "836-01826-r76",
                        "serial_num": b,
                        "installed": T,
                        "device_status": ["envoy.global.ok"],
                        "last_rpt_date": T,
                        "admin_state": 6,
                        "admin_state_str": "ENCHG_STATE_READY",
                        "created_date": T,
                        "img_load_date": T,
                        "img_pnum_running": "3.0.7545_rel/31.33",
                        "bmu_fw_version": "3.8.69",
                        "communicating": True,
                        "sleep_enabled": False,
                        "percentFull": 50,
                        "temperature": 20,
                        "maxCellTemp": 21,
                        "reported_enc_grid_state": "grid-tied",
                        "comm_level_sub_ghz": 0,
                        "comm_level_2_4_ghz": 0,
                        "led_status": 12,
                        "dc_switch_off": False,
                        "encharge_rev": 3,
                        "encharge_capacity": 5000,
                        "phase": "ph-a",
                        "der_index": 2,
                    }
                    for b in batts
                ],
            },
            {
                "type": "ENPOWER",
                "devices": [
                    {
                        "part_num": "865-00378-r27",
                        "serial_num": "482326107450",
                        "communicating": True,
                        "temperature": 83,
                        "mains_admin_state": "closed",
                        "mains_oper_state": "closed",
                    }
                ],
            },
        ],
        Endpoint.ENSEMBLE_POWER: {
            "devices:": [
                {
                    "serial_num": b,
                    "real_power_mw": -1324000,
                    "apparent_power_mva": -1324000,
                    "soc": 50,
                }
                for b in batts
            ]
        },
        Endpoint.METERS: [
            {
                "eid": 704643328 + 256 * i,
                "state": "enabled",
                "measurementType": t,
                "phaseMode": "three",
                "phaseCount": 3,
                "meteringStatus": "normal",
                "statusFlags": [],
            }
            for i, t in enumerate(("production", "net-consumption", "storage"))
        ],
        Endpoint.METER_READINGS: [
            dict(
                channel,
                eid=704643328 + 256 * i,
                channels=[dict(channel, eid=1778385169 + j) for j in range(3)],
            )
            for i in range(3)
        ],
        Endpoint.SECCTRL: {
            "agg_soc": 50,
            "Max_energy": 60000,
            "ENC_agg_soc": 50,
            "ENC_agg_avail_energy": 30000,
            "Enc_max_available_capacity": 60000,
            "ACB_agg_soc": 0,
            "ACB_agg_energy": 0,
            "configured_backup_soc": 20,
            "adjusted_backup_soc": 20,
        },
    }
    return {endpoint: json.dumps(doc).encode() for endpoint, doc in documents.items()}


def _best(function: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def measure(label: str, bodies: dict[Endpoint, bytes], repeat: int = 30) -> None:
    """Print parse time vs json.loads time for one full update."""
    info = EnvoyInfo(
        serial="000000000000",
        part_number="800-00664-r05",
        firmware="D8.2.4286",
        metered=True,
    )
    responses = [
        (e, Response("GET", e.value, 200, HEADERS, body)) for e, body in bodies.items()
    ]

    def decode_only() -> None:
        for _endpoint, response in responses:
            json.loads(response.body)

    def parse_models() -> None:
        data = EnvoyData(info=info)
        for endpoint, response in responses:
            data = READERS[endpoint](data, response)

    def parse_and_map() -> None:
        data = EnvoyData(info=info)
        for endpoint, response in responses:
            data = READERS[endpoint](data, response)
        build_snapshot(identity_of(info), data)

    size = sum(len(b) for b in bodies.values())
    decode = _best(decode_only, repeat)
    models = _best(parse_models, repeat)
    full = _best(parse_and_map, repeat)
    print(f"{label}: {len(bodies)} endpoints, {size / 1024:.1f} KiB")
    print(f"  json.loads alone:            {decode * 1e3:8.3f} ms")
    print(
        f"  decode + typed models:       {models * 1e3:8.3f} ms  ({models / decode:.2f}x)"
    )
    print(
        f"  building the models alone:   {(models - decode) * 1e3:8.3f} ms"
        f"  ({(models - decode) / decode:.2f}x json.loads; target <= 2x)"
    )
    print(
        f"  decode + models + site map:  {full * 1e3:8.3f} ms  ({full / decode:.2f}x)"
    )


def main() -> None:
    """Measure the largest corpus set and the synthetic site."""
    envoy = corpus_root() / "envoy"
    if envoy.is_dir():
        sets = [p for p in envoy.iterdir() if p.is_dir()]
        largest = max(
            sets, key=lambda p: sum(len(b) for b in _corpus_bodies(p).values())
        )
        measure(f"corpus {largest.name}", _corpus_bodies(largest))
    else:
        print(f"no corpus at {envoy}; skipping the corpus set")
    measure("synthetic 300 inverters + 12 batteries", _synthetic_bodies(300, 12))


if __name__ == "__main__":
    main()
