"""A large Envoy site grown from a capture: the same gateway with many microinverters.

Every captured document stays as it was, field for field; the microinverters are
the capture's first one repeated under new serials and device ids, in the inverter
list, in the device data and in the count ``production.json`` gives. Optionally the
site is seen at dawn: each inverter's last report is from the evening before, with
nothing made today, and its lifetime counter is young (0 to 9 kWh).
"""

import copy
import json

from custom_components.solar_gateway.gateway.capture import Capture, CapturedResponse

from .envoy_live import JsonDict, dicts, number

INVERTER_LIST = "api_v1_production_inverters"
DEVICE_DATA = "ivp_pdm_device_data"
PRODUCTION = "production.json"
_FIRST_DEVICE_ID = 553648384  # the Envoy numbers device records 256 apart
_HOURS_BEFORE_DAWN = 10 * 3600
_JOULES_PER_KWH = 3_600_000


def _document(capture: Capture, name: str) -> object:
    response = capture.get(name)
    return None if response is None else response.json()


def _with(capture: Capture, documents: dict[str, object]) -> Capture:
    responses = dict(capture.responses)
    for name, document in documents.items():
        original = responses[name]
        responses[name] = CapturedResponse(
            status=original.status,
            headers=original.headers,
            body=json.dumps(document).encode(),
            path=original.path,
        )
    return Capture(responses, capture.notes)


def _serial(index: int) -> str:
    return f"4822{index:08d}"


def envoy_with_inverters(
    capture: Capture, count: int, *, dawn: bool = False
) -> Capture:
    """Return ``capture`` with ``count`` microinverters (see the module docstring)."""
    inverter_list = dicts(_document(capture, INVERTER_LIST))
    device_data = _document(capture, DEVICE_DATA)
    if not inverter_list or not isinstance(device_data, dict):
        raise ValueError("the capture has no inverter list and device data to grow")
    model = inverter_list[0]
    captured_time = int(number(model.get("lastReportDate")) or 0)
    evening = captured_time - _HOURS_BEFORE_DAWN
    items: list[JsonDict] = []
    for index in range(count):
        item = copy.deepcopy(model)
        item["serialNumber"] = _serial(index)
        if dawn:
            item["lastReportDate"] = evening - index
            item["lastReportWatts"] = 0
        items.append(item)

    records: dict[str, object] = {
        key: record
        for key, record in device_data.items()
        if not (isinstance(record, dict) and record.get("devName") == "pcu")
    }
    pcu = next(
        record
        for record in device_data.values()
        if isinstance(record, dict) and record.get("devName") == "pcu"
    )
    for index in range(count):
        record = copy.deepcopy(pcu)
        record["sn"] = _serial(index)
        device_id = _FIRST_DEVICE_ID + 256 * index
        for channel in dicts(record.get("channels")):
            channel["chanEid"] = device_id + 1
            reading = channel.get("lastReading")
            if isinstance(reading, dict):
                reading["eid"] = device_id + 1
                if dawn:
                    reading["endDate"] = evening - index
                    reading["joulesProduced"] = 0
            if dawn:
                _at_dawn(channel, index)
        records[str(device_id)] = record
    if "deviceCount" in records:
        records["deviceCount"] = len(
            [r for r in records.values() if isinstance(r, dict)]
        )

    documents: dict[str, object] = {INVERTER_LIST: items, DEVICE_DATA: records}
    production = _document(capture, PRODUCTION)
    if isinstance(production, dict):
        production = copy.deepcopy(production)
        for entry in dicts(production.get("production")):
            if entry.get("type") == "inverters":
                entry["activeCount"] = count
                if dawn:
                    entry["wNow"] = 0
        documents[PRODUCTION] = production
    return _with(capture, documents)


def _at_dawn(channel: JsonDict, index: int) -> None:
    """Nothing made today, a young lifetime counter, no power yet."""
    hours = channel.get("wattHours")
    if isinstance(hours, dict):
        hours["today"] = 0
    watts = channel.get("watts")
    if isinstance(watts, dict):
        watts["now"] = 0
    lifetime = channel.get("lifetime")
    if isinstance(lifetime, dict):
        lifetime["joulesProduced"] = (index % 10) * _JOULES_PER_KWH
