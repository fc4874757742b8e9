"""Parse time of PVS DeviceLists next to ``json.loads`` of the same bytes.

Run: ``.venv/bin/python benchmarks/pvs_parse.py``. Parsing here is what the client
does per DeviceList: ``json.loads`` plus conversion into typed models. Target: at most
2x ``json.loads`` alone. Uses the corpus captures (``SOLAR_GATEWAY_CORPUS``) when
present and a synthetic 200-inverter DeviceList.
"""

from collections.abc import Callable
import json
import os
from pathlib import Path
import sys
import timeit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.solar_gateway.gateway.pvs.parsers.common import load_json_object
from custom_components.solar_gateway.gateway.pvs.parsers.legacy import parse_device_list


def corpus_root() -> Path:
    """The corpus folder, as the tests find it."""
    configured = os.environ.get("SOLAR_GATEWAY_CORPUS")
    if configured:
        return Path(configured).expanduser().resolve()
    return Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def synthetic(inverters: int) -> bytes:
    """A DeviceList of a supervisor, two meters and ``inverters`` inverters."""
    now = "2025,06,01,18,05,00"
    devices: list[dict[str, object]] = [
        {
            "SERIAL": "ZT000000000000A0001",
            "DEVICE_TYPE": "PVS",
            "MODEL": "PV Supervisor PVS6",
            "SWVER": "2025.05, Build 61800",
            "DATATIME": now,
            "CURTIME": now,
            "dl_uptime": "123456",
            "dl_cpu_load": "0.4",
            "dl_mem_used": "80000",
            "dl_flash_avail": "90000",
            "STATE": "working",
        },
    ]
    for role in ("p", "c"):
        devices.append(  # noqa: PERF401
            {
                "SERIAL": f"PVS6M0000000{role}",
                "TYPE": f"PVS5-METER-{role.upper()}",
                "DEVICE_TYPE": "Power Meter",
                "MODEL": f"PVS6M0400{role}",
                "DATATIME": now,
                "subtype": "NET_CONSUMPTION_LOADSIDE",
                "p_3phsum_kw": "1.2345",
                "net_ltea_3phsum_kwh": "12345.6789",
                "pos_ltea_3phsum_kwh": "23456.7",
                "neg_ltea_3phsum_kwh": "11111.0211",
                "q_3phsum_kvar": "0.1",
                "s_3phsum_kva": "1.3",
                "tot_pf_rto": "0.99",
                "freq_hz": "60",
                "v12_v": "242.1",
                "v1n_v": "121.0",
                "v2n_v": "121.1",
                "i1_a": "5.1",
                "i2_a": "5.2",
                "p1_kw": "0.6",
                "p2_kw": "0.6",
                "STATE": "working",
            }
        )
    for index in range(inverters):
        devices.append(  # noqa: PERF401
            {
                "SERIAL": f"E0012220500{index:04d}",
                "TYPE": "SOLARBRIDGE",
                "STATE": "working",
                "STATEDESCR": "Working",
                "MODEL": "AC_Module_Type_G",
                "DESCR": f"Inverter E0012220500{index:04d}",
                "DEVICE_TYPE": "Inverter",
                "hw_version": "4403",
                "interface": "mime",
                "PANEL": "SPR-A400-G-AC",
                "slave": 0,
                "SWVER": "4.21.4",
                "PORT": "",
                "MOD_SN": "",
                "NMPLT_SKU": "",
                "DATATIME": now,
                "ltea_3phsum_kwh": f"{1000 + index * 1.5:.4f}",
                "p_3phsum_kw": "0.3101",
                "vln_3phavg_v": "243.21",
                "i_3phsum_a": "1.23",
                "p_mppt1_kw": "0.3225",
                "v_mppt1_v": "56.12",
                "i_mppt1_a": "5.31",
                "t_htsnk_degc": "41",
                "freq_hz": "59.99",
                "stat_ind": "0",
                "origin": "data_logger",
                "OPERATION": "noop",
                "CURTIME": now,
            }
        )
    return json.dumps({"devices": devices, "result": "succeed"}, indent=1).encode()


def best(func: Callable[[], object], number: int) -> float:
    """Best per-call time in ms over 5 repeats."""
    return min(timeit.repeat(func, number=number, repeat=5)) / number * 1000


def measure(name: str, body: bytes) -> float:
    """Print the timings for one DeviceList; return models / json.loads.

    The target is on building the models (the same measure as the Envoy benchmark):
    decoding is the floor every parser pays, the models are what we add on top.
    """
    number = max(20, 2_000_000 // max(len(body), 1))
    loads = best(lambda: json.loads(body), number)
    decoded = load_json_object(body, "DeviceList")
    models = best(lambda: parse_device_list(decoded), number)
    whole = best(
        lambda: parse_device_list(load_json_object(body, "DeviceList")), number
    )
    ratio = models / loads
    print(
        f"{name:32} {len(body) / 1024:8.1f} KiB  json.loads {loads:7.3f} ms  "
        f"models {models:7.3f} ms ({ratio:4.2f}x)  decode+models {whole:7.3f} ms "
        f"({whole / loads:4.2f}x)"
    )
    return ratio


def main() -> None:
    """Run every case and print the worst ratio."""
    ratios = [
        measure(f"corpus/{path.parent.name}", path.read_bytes())
        for path in sorted((corpus_root() / "pvs").glob("*/DeviceList.json"))
    ]
    ratios.append(measure("synthetic 200 inverters", synthetic(200)))
    print(f"worst models / json.loads {max(ratios):.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
