"""Turn what an Envoy reported into the vendor-neutral site model.

Energy semantics (confirmed by real captures): a CT's ``actEnergyDlvd`` is energy
towards the house and ``actEnergyRcvd`` away from it, ``activePower`` is positive
towards the house. So a net-consumption CT's delivered energy is grid import and its
received energy grid export; a storage CT's delivered energy is battery discharge and
its received energy battery charge; a production CT's delivered energy is solar, and a
third-party PV (``pv3p``) CT's delivered energy is solar too.

Known firmware quirks handled here:
- CTs configured but disabled, or totals with ``activeCount`` 0, report zeros that
  mean "not measured": they are ignored.
- 3.x sometimes returns all zeros from ``/api/v1/production``, and 8.3 metered sites
  with CTs do too: a source whose figures are all 0 is skipped.
- 8.2.4264+ metered without a production CT keeps answering ``/api/v1/production``
  with stale figures (a few W, a lifetime far below the real one); 7.3.x with CTs
  installed but disabled answers power with every energy counter 0. Neither is used:
  the inverter total of ``/production.json`` is the truth there.
- 8.3.5433 reports total consumption equal to net consumption: the real figure is
  net consumption plus production, and is shown as such.
- Readings that cannot be true: a storage CT whose power contradicts the batteries'
  own report (even in sign), or that makes the house load negative, gives way to
  the batteries' report; a split-phase storage CT one of whose legs drops out (8.3.6087
  reads about half then) is absent for that read; a house load that still comes out
  negative is absent, never shown; the battery capacity is never below the energy
  available beside it; an AC Battery total whose ``readingTime`` is more than an hour
  older than the rest of ``/production.json`` is stale and left out of live figures.
- ``/production.json``'s inverter lifetime is unreliable on metered sites (it
  resets); it is only used when no better production source exists.
- AC Batteries are listed among the inverters (``devType`` 11) and in the detailed
  device data (``devName`` "acb"): they are batteries, never inverters or solar.
- Some 8.3 sites answer no inverter list while ``/ivp/pdm/device_data`` has every
  microinverter: inverters are built from the device data then.
- The inverter list and the device data report minutes apart: each inverter's power
  comes from whichever of the two reported last.
- A collar without a system controller keeps ``grid_state`` "on_grid" through an
  outage; its ``admin_state_str`` is what says the site is islanded.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
import logging
from typing import Protocol

from custom_components.solar_gateway.gateway.site import (
    Brand,
    Device,
    DeviceKind,
    GatewayIdentity,
    Measurement,
    MeasurementValue,
    Phase,
    Quantity,
    SiteFigures,
    SiteSnapshot,
    same_objects,
)

from .models import (
    ACB_DEV_TYPE,
    AcbTotals,
    CtMeter,
    CtType,
    EimReading,
    EnvoyData,
    EnvoyInfo,
    InventoryDevice,
    MeterChannel,
    PdmDevice,
    SimpleProduction,
)

_LOGGER = logging.getLogger(__name__)

MANUFACTURER = Brand.ENPHASE.manufacturer
_PHASES = (Phase.L1, Phase.L2, Phase.L3)
_CT_NAMES = {
    CtType.PRODUCTION: "Production CT",
    CtType.NET_CONSUMPTION: "Net consumption CT",
    CtType.TOTAL_CONSUMPTION: "Total consumption CT",
    CtType.STORAGE: "Storage CT",
    CtType.BACKFEED: "Backfeed CT",
    CtType.LOAD: "Load CT",
    CtType.EVSE: "EV charger CT",
    CtType.PV3P: "Third-party PV CT",
}
# Product names; the part numbers the gateway reports become the model id.
GATEWAY_MODEL = "IQ Gateway"
LEGACY_GATEWAY_MODEL = "Envoy"  # firmware 3.x: the Envoy before the IQ Gateway
INVERTER_MODEL = "Microinverter"
BATTERY_MODEL = "IQ Battery"
AC_BATTERY_MODEL = "AC Battery"
SYSTEM_CONTROLLER_MODEL = "IQ System Controller"
COLLAR_MODEL = "IQ Meter Collar"
COMBINER_MODEL = "IQ Combiner 6C"
RELAY_MODEL = "Dry contact relay"
GENERATOR_MODEL = "Generator"
# An IQ Battery 5P holds 5 kWh; 3T and 10T are built of 3.5 kWh units the gateway
# reports one by one, so their capacity does not tell them apart.
_BATTERY_MODELS_BY_CAPACITY = {5000.0: "IQ Battery 5P"}
# From this firmware, a metered gateway without a production CT serves stale figures
# from /api/v1/production.
_STALE_API_PRODUCTION_FROM = (8, 2, 4264)
# Collar states (admin_state_str) that say where the site is.
_COLLAR_OFF_GRID = "ENCMN_MDE_OFF_GRID"
_COLLAR_ON_GRID = "ENCMN_MDE_ON_GRID"
# A CT meter's own figures (per phase power, voltage, current...) are detail that
# changes every reading; the site figures carry its power from each one. Its device
# follows the readings at this pace, a new configuration at once.
METER_DEVICE_INTERVAL = timedelta(minutes=5)
# A reading this much older than the rest of its document is no live figure.
STALE_READING = timedelta(hours=1)
# Battery power (W) that is more than noise: two reports of opposite signs beyond it
# contradict each other; a storage CT leg below this share of the other, while that
# one carries more than this, has dropped out (the batteries load both legs alike).
_BATTERY_NOISE = 100.0
_LEG_DROPPED_SHARE = 0.25
# Implausible readings already logged, by gateway and kind: logged once, not per poll.
# The message names no serial: a log line shows none (diagnostics redact them).
_LOGGED: set[tuple[str, str]] = set()


def _log_once(serial: str, kind: str, message: str, *args: object) -> None:
    if (serial, kind) not in _LOGGED:
        _LOGGED.add((serial, kind))
        _LOGGER.warning(message, *args)


@dataclass(frozen=True, slots=True)
class _Flow:
    power: float | None = None
    energy: float | None = None


@dataclass(frozen=True, slots=True)
class _Counted:
    """Energy the gateway counts over its own day and week (Wh)."""

    today: float | None = None
    last_seven_days: float | None = None


def _solar_counted(data: EnvoyData) -> _Counted:
    """Today's and the last 7 days' production, as the Enphase app shows them."""
    production = data.production
    eim = _active_eim(production.production) if production else None
    if eim is not None and eim.lifetime_energy:
        return _Counted(eim.energy_today, eim.energy_last_seven_days)
    for simple in (data.api_production, data.legacy_production):
        if simple is not None and not simple.all_zero:
            return _Counted(simple.energy_today, simple.energy_last_seven_days)
    return _Counted()


def _measurements(
    *pairs: tuple[Quantity, MeasurementValue | None],
    phase: Phase | None = None,
) -> list[Measurement]:
    return [Measurement(q, v, phase) for q, v in pairs if v is not None]


def _active_eim(reading: EimReading | None) -> EimReading | None:
    if reading is None or not reading.active:
        return None
    return reading


def _ct_reading(meter: CtMeter | None) -> MeterChannel | None:
    if meter is None or meter.reading is None:
        return None
    return meter.reading.total


@dataclass(frozen=True, slots=True)
class _InverterView:
    """One microinverter's figures, all from the source that reported last."""

    serial: str
    power: float | None
    max_power: float | None
    last_report: datetime | None
    detail: PdmDevice | None


def _newer(detail: PdmDevice | None, listed: datetime | None) -> bool:
    if detail is None or detail.last_report is None:
        return False
    return listed is None or detail.last_report > listed


def _inverter_views(data: EnvoyData) -> list[_InverterView]:
    """Microinverters from the inverter list, else from the detailed device data."""
    details = {d.serial: d for d in data.pdm_devices if d.dev_name in (None, "pcu")}
    listed = [i for i in data.inverters if i.dev_type != ACB_DEV_TYPE]
    views: list[_InverterView] = []
    for inverter in listed:
        detail = details.get(inverter.serial)
        if _newer(detail, inverter.last_report):
            assert detail is not None
            views.append(
                _InverterView(
                    inverter.serial,
                    detail.power,
                    detail.max_power,
                    detail.last_report,
                    detail,
                )
            )
        else:
            views.append(
                _InverterView(
                    inverter.serial,
                    inverter.power,
                    inverter.max_power,
                    inverter.last_report,
                    detail,
                )
            )
    if listed:
        return views
    return [
        _InverterView(d.serial, d.power, d.max_power, d.last_report, d)
        for d in data.pdm_devices
        if d.dev_name == "pcu" and d.active is not False
    ]


def _api_production_stale(info: EnvoyInfo, data: EnvoyData) -> bool:
    version = info.firmware_version
    return (
        bool(info.metered)
        and bool(version)
        and version >= _STALE_API_PRODUCTION_FROM
        and data.ct(CtType.PRODUCTION) is None
    )


def _trusted(simple: SimpleProduction | None) -> SimpleProduction | None:
    if simple is None or simple.all_zero or simple.counters_missing:
        return None
    return simple


def _main_solar(data: EnvoyData) -> _Flow:
    if (ct := _ct_reading(data.ct(CtType.PRODUCTION))) is not None:
        return _Flow(ct.active_power, ct.energy_delivered)
    production = data.production
    eim = _active_eim(production.production) if production else None
    if eim is not None and eim.lifetime_energy:
        return _Flow(eim.power, eim.lifetime_energy)
    api = _trusted(data.api_production)
    if api is not None and _api_production_stale(data.info, data):
        api = None
    for simple in (api, _trusted(data.legacy_production)):
        if simple is not None:
            return _Flow(simple.power, simple.lifetime_energy or None)
    if production and production.inverters and production.inverters.active_count:
        totals = production.inverters
        return _Flow(totals.power, totals.lifetime_energy or None)
    powers = [v.power for v in _inverter_views(data) if v.power is not None]
    if powers:
        return _Flow(sum(powers), None)
    return _Flow()


def _solar(data: EnvoyData) -> _Flow:
    """The site's solar: Enphase production plus any third-party PV CT."""
    main = _main_solar(data)
    third = _ct_reading(data.ct(CtType.PV3P))
    if third is None:
        return main
    return _Flow(
        _add(main.power, third.active_power),
        _add(main.energy, third.energy_delivered),
    )


def _load(
    solar: float | None, grid: float | None, battery: float | None
) -> float | None:
    """The house's load: what solar, the grid and the battery supply together."""
    if solar is None or grid is None:
        return None
    return solar + grid + (battery or 0.0)


def _add(first: float | None, second: float | None) -> float | None:
    if first is None or second is None:
        return first if second is None else second
    return first + second


def _fresh_acb(data: EnvoyData) -> AcbTotals | None:
    """The AC Batteries' total of ``/production.json`` while it is live.

    Some gateways keep serving a total whose ``readingTime`` is days older than the
    rest of the document: that is no reading of now.
    """
    production = data.production
    acb = production.acb if production else None
    if production is None or acb is None or not acb.active_count:
        return None
    others = [
        entry.reading_time
        for entry in (
            production.inverters,
            production.production,
            production.net_consumption,
            production.total_consumption,
        )
        if entry is not None and entry.reading_time is not None
    ]
    if (
        acb.reading_time is not None
        and others
        and max(others) - acb.reading_time > STALE_READING
    ):
        return None
    return acb


def _batteries_own_power(data: EnvoyData) -> float | None:
    """What the batteries report of their own power (positive = discharging)."""
    powers = [p.real_power for p in data.ensemble_power if p.real_power is not None]
    acb = _fresh_acb(data)
    if acb is not None and acb.power is not None:
        powers.append(acb.power)
    return sum(powers) if powers else None


def _leg_dropped(meter: CtMeter) -> bool:
    """Whether one leg of a split-phase CT reads nothing while the other carries
    power: the total is then about half of what flows (8.3.6087 storage CT)."""
    if meter.config.phase_mode != "split":
        return False
    legs = [abs(p.active_power) for p in meter.phases if p.active_power is not None]
    if len(legs) != 2:
        return False
    low, high = sorted(legs)
    return high > _BATTERY_NOISE and low < high * _LEG_DROPPED_SHARE


def _contradicts(first: float, second: float) -> bool:
    """Two battery powers of opposite signs, each beyond noise."""
    return min(first, second) < -_BATTERY_NOISE and max(first, second) > _BATTERY_NOISE


def _battery_flow(
    data: EnvoyData,
    has_batteries: bool,
    solar: float | None,
    grid: float | None,
    *,
    report_current: bool,
) -> tuple[float | None, float | None, float | None]:
    """Battery power (positive = discharging), charged and discharged energy.

    The storage CT is the fresher power where it reads true; where it cannot be
    (a dropped leg, a negative house load with it, a sign against the batteries'
    own report read with it) the batteries' own report stands in. A report read
    minutes before the CT may be of another moment: its sign proves nothing then.
    """
    own = _batteries_own_power(data) if has_batteries else None
    storage = data.ct(CtType.STORAGE)
    if (ct := _ct_reading(storage)) is None:
        return own, None, None
    assert storage is not None
    power = ct.active_power
    serial = data.info.serial
    if power is not None and _leg_dropped(storage):
        _log_once(
            serial,
            "storage_leg",
            "Envoy: the storage CT reads one leg only (%s W); its power is "
            "left out of such reads",
            power,
        )
        power = own
    elif power is not None and own is not None:
        negative_load = (
            solar is not None and grid is not None and solar + grid + power < 0
        )
        if (report_current and _contradicts(power, own)) or negative_load:
            _log_once(
                serial,
                "storage_contradicts",
                "Envoy: the storage CT (%s W) contradicts the batteries' own "
                "report (%s W); the batteries' report is used",
                power,
                own,
            )
            power = own
    return power, ct.energy_received, ct.energy_delivered


def _has_batteries(data: EnvoyData) -> bool:
    if data.ensemble and data.ensemble.encharges:
        return True
    if _acb_serials(data):
        return True
    acb = data.production.acb if data.production else None
    return bool(acb and acb.active_count)


@dataclass(frozen=True, slots=True)
class _TotalConsumption:
    """The gateway's total consumption of ``/production.json`` (W, Wh)."""

    power: float | None
    lifetime_energy: float | None
    energy_today: float | None
    energy_last_seven_days: float | None


def _total_consumption(data: EnvoyData) -> _TotalConsumption | None:
    """Total consumption as ``/production.json`` reports it, corrected where the
    firmware (8.3.5433) reports net consumption in its place: the total is then net
    consumption plus production."""
    production = data.production
    if production is None:
        return None
    total = _active_eim(production.total_consumption)
    if total is None:
        return None
    net = _active_eim(production.net_consumption)
    if not (
        net is not None
        and total.power == net.power
        and total.lifetime_energy == net.lifetime_energy
    ):
        return _TotalConsumption(
            total.power,
            total.lifetime_energy,
            total.energy_today,
            total.energy_last_seven_days,
        )
    made = _active_eim(production.production)
    if made is None:
        return None
    # The gateway counts no day or week of net consumption (they read 0): the
    # total's day and week are unknown.
    return _TotalConsumption(
        _sum(net.power, made.power),
        _sum(net.lifetime_energy, made.lifetime_energy),
        None,
        None,
    )


def _sum(first: float | None, second: float | None) -> float | None:
    """Both added, or None when either is unknown."""
    return None if first is None or second is None else first + second


def _house_load(data: EnvoyData, load: float | None) -> float | None:
    """``load`` unless it is negative, which no house draws: then absent."""
    if load is None or load >= 0:
        return load
    serial = data.info.serial
    _log_once(
        serial,
        "negative_load",
        "Envoy: its CTs add up to a negative house load (%s W); the load is "
        "left out of such reads",
        round(load),
    )
    return None


def _ac_batteries(data: EnvoyData) -> list[InventoryDevice]:
    return [d for d in data.inventory if d.group == "ACB" and not d.deleted]


def _acb_serials(data: EnvoyData) -> list[str]:
    """AC Batteries from the inventory, the inverter list and the device data."""
    serials = [d.serial for d in _ac_batteries(data)]
    serials += [i.serial for i in data.inverters if i.dev_type == ACB_DEV_TYPE]
    serials += [d.serial for d in data.pdm_devices if d.dev_name == "acb"]
    return list(dict.fromkeys(serials))


def build_figures(data: EnvoyData, *, report_current: bool = False) -> SiteFigures:
    """The vendor-neutral ``SiteFigures`` from one ``EnvoyData``.

    ``report_current``: the batteries' own power report was read with the CT
    readings, so the two speak of the same moment.
    """
    solar = _solar(data)
    has_batteries = _has_batteries(data)

    grid_power = grid_import = grid_export = None
    if (net := _ct_reading(data.ct(CtType.NET_CONSUMPTION))) is not None:
        grid_power = net.active_power
        grid_import = net.energy_delivered
        grid_export = net.energy_received
    elif data.production and (eim := _active_eim(data.production.net_consumption)):
        grid_power = eim.power
    battery_power, charged, discharged = _battery_flow(
        data, has_batteries, solar.power, grid_power, report_current=report_current
    )

    consumption_power = consumption_energy = None
    total_ct = _ct_reading(data.ct(CtType.TOTAL_CONSUMPTION))
    total = _total_consumption(data)
    # The house's energy is counted where every flow into and out of it is: solar,
    # the grid and, on a battery site, the storage CT's charge and discharge.
    batteries_counted = not has_batteries or None not in (charged, discharged)
    counted_load_energy = (
        solar.energy
        + grid_import
        - grid_export
        + (discharged or 0.0)
        - (charged or 0.0)
        if batteries_counted
        and solar.energy is not None
        and grid_import is not None
        and grid_export is not None
        else None
    )
    if total_ct is not None:
        # What that CT measures, power and energy alike.
        consumption_power = total_ct.active_power
        consumption_energy = total_ct.energy_delivered
        if grid_power is None and None not in (consumption_power, solar.power):
            # House load minus solar (and battery) is what the grid supplies.
            grid_power = consumption_power - solar.power - (battery_power or 0.0)  # type: ignore[operator]
    elif total is not None:
        # The gateway's total consumption is production plus net consumption: on a
        # battery site it includes what charges the batteries. The house's load is
        # that total plus the battery's power (positive when discharging).
        consumption_power = (
            None if total.power is None else total.power + (battery_power or 0.0)
        )
        if net is not None and _ct_reading(data.ct(CtType.PRODUCTION)) is not None:
            # production.json is read every few minutes where the CTs answer: the
            # load from this poll's CT readings is fresher than its figure.
            consumption_power = _load(solar.power, grid_power, battery_power)
        if counted_load_energy is not None:
            consumption_energy = counted_load_energy
        elif batteries_counted and total.lifetime_energy is not None:
            consumption_energy = (
                total.lifetime_energy + (discharged or 0.0) - (charged or 0.0)
            )
    elif grid_power is not None and solar.power is not None:
        # Load = solar + grid + battery, from lifetime counters where all exist.
        consumption_power = _load(solar.power, grid_power, battery_power)
        consumption_energy = counted_load_energy
    consumption_power = _house_load(data, consumption_power)

    soc = available = capacity = reserve = very_low = None
    if has_batteries:
        if data.secctrl is not None:
            soc = data.secctrl.state_of_charge
            parts = [
                data.secctrl.encharge_available_energy,
                data.secctrl.acb_energy,
            ]
            known = [p for p in parts if p is not None]
            available = sum(known) if known else None
            capacity = data.secctrl.max_energy or None
            if capacity is not None and available is not None:
                # A capacity below what is available beside it cannot be true.
                capacity = max(capacity, available)
        else:
            socs = [
                e.state_of_charge
                for e in (data.ensemble.encharges if data.ensemble else ())
                if e.state_of_charge is not None
            ]
            if not socs and (acb := _fresh_acb(data)) is not None:
                socs = [s for s in (acb.state_of_charge,) if s is not None]
            soc = sum(socs) / len(socs) if socs else None
        if data.tariff and data.tariff.storage:
            reserve = data.tariff.storage.reserved_soc
            very_low = data.tariff.storage.very_low_soc

    grid_connected: bool | None = None
    if data.ensemble and data.ensemble.enpowers:
        state = data.ensemble.enpowers[0].mains_oper_state
        grid_connected = None if state is None else state == "closed"
    elif data.ensemble and data.ensemble.collars:
        collar = data.ensemble.collars[0]
        grid_connected = _collar_on_grid(collar.admin_state, collar.grid_state)

    solar_counted = _solar_counted(data)
    # The gateway's day and week of total consumption include battery charging,
    # which no counter of its own day separates: shown on sites without batteries.
    consumption_counted = (
        _Counted(total.energy_today, total.energy_last_seven_days)
        if total is not None and not has_batteries and total_ct is None
        else _Counted()
    )
    return SiteFigures(
        solar_power=solar.power,
        solar_energy=solar.energy,
        solar_energy_today=solar_counted.today,
        solar_energy_last_seven_days=solar_counted.last_seven_days,
        consumption_energy_today=consumption_counted.today,
        consumption_energy_last_seven_days=consumption_counted.last_seven_days,
        consumption_power=consumption_power,
        consumption_energy=consumption_energy,
        grid_power=grid_power,
        grid_import_energy=grid_import,
        grid_export_energy=grid_export,
        battery_power=battery_power,
        battery_charged_energy=charged,
        battery_discharged_energy=discharged,
        battery_state_of_charge=soc,
        battery_available_energy=available,
        battery_capacity=capacity,
        backup_reserve=reserve,
        battery_very_low_soc=very_low,
        grid_connected=grid_connected,
    )


def _collar_on_grid(admin_state: str | None, grid_state: str | None) -> bool | None:
    """Whether a collar's site is on the grid; its mode says so before grid_state."""
    if admin_state == _COLLAR_OFF_GRID:
        return False
    if admin_state == _COLLAR_ON_GRID:
        return True
    return None if grid_state is None else grid_state == "on_grid"


def _channel_measurements(
    channel: MeterChannel, phase: Phase | None
) -> list[Measurement]:
    return _measurements(
        (Quantity.POWER, channel.active_power),
        (Quantity.APPARENT_POWER, channel.apparent_power),
        (Quantity.REACTIVE_POWER, channel.reactive_power),
        (Quantity.ENERGY_DELIVERED, channel.energy_delivered),
        (Quantity.ENERGY_RECEIVED, channel.energy_received),
        (Quantity.VOLTAGE, channel.voltage),
        (Quantity.CURRENT, channel.current),
        (Quantity.FREQUENCY, channel.frequency),
        (Quantity.POWER_FACTOR, channel.power_factor),
        phase=phase,
    )


def _meters(data: EnvoyData, gateway: str) -> Iterable[Device]:
    for meter in data.ct_meters:
        config = meter.config
        kind = config.measurement_type or f"ct{config.eid}"
        # The metering status is shown as "problem"; the type is the device's name.
        measurements: list[Measurement] = []
        if config.status_flags:
            measurements.append(Measurement(Quantity.WORKING, False))
        elif config.metering_status is not None:
            measurements.append(
                Measurement(Quantity.WORKING, config.metering_status == "normal")
            )
        if meter.reading is not None:
            measurements += _channel_measurements(meter.reading.total, None)
            for phase, channel in zip(_PHASES, meter.phases, strict=False):
                measurements += _channel_measurements(channel, phase)
        yield Device(
            kind=DeviceKind.METER,
            serial=f"{gateway}_ct_{kind}",
            manufacturer=MANUFACTURER,
            model=_CT_NAMES.get(CtType(kind), "CT") if kind in CtType else "CT",
            name=_CT_NAMES.get(CtType(kind)) if kind in CtType else f"CT {kind}",
            parent=gateway,
            measurements=tuple(measurements),
            data_time=meter.reading.total.timestamp if meter.reading else None,
        )


def _inverters(data: EnvoyData, gateway: str) -> Iterable[Device]:
    inventory = {d.serial: d for d in data.inventory if d.group == "PCU"}
    for inverter in _inverter_views(data):
        detail = inverter.detail
        part = inventory.get(inverter.serial)
        measurements = _measurements(
            (Quantity.POWER, inverter.power),
            (Quantity.MAX_POWER, inverter.max_power),
            (Quantity.LAST_REPORT, inverter.last_report),
        )
        if detail is not None:
            measurements += _measurements(
                (Quantity.LIFETIME_ENERGY, detail.lifetime_energy),
                (Quantity.ENERGY_TODAY, detail.energy_today),
                (Quantity.VOLTAGE, detail.ac_voltage),
                (Quantity.CURRENT, detail.ac_current),
                (Quantity.FREQUENCY, detail.ac_frequency),
                (Quantity.DC_VOLTAGE, detail.dc_voltage),
                (Quantity.DC_CURRENT, detail.dc_current),
                (Quantity.TEMPERATURE, detail.temperature),
            )
        if part is not None:
            measurements += _measurements(
                (Quantity.PRODUCING, part.producing),
                (Quantity.COMMUNICATING, part.communicating),
                (Quantity.WORKING, part.operating),
            )
        yield Device(
            kind=DeviceKind.INVERTER,
            serial=inverter.serial,
            manufacturer=MANUFACTURER,
            model=INVERTER_MODEL,
            model_id=part.part_number if part else None,
            firmware=part.firmware if part else None,
            parent=gateway,
            measurements=tuple(measurements),
            data_time=inverter.last_report,
        )


def relay_serial(controller: str, relay_id: str) -> str:
    """The site serial of a dry contact relay wired to the system ``controller``."""
    return f"{controller}_relay_{relay_id}"


class _EnsemblePart(Protocol):
    """What every part of the ensemble inventory reports about itself."""

    @property
    def serial(self) -> str: ...
    @property
    def part_number(self) -> str | None: ...
    @property
    def firmware(self) -> str | None: ...
    @property
    def last_report(self) -> datetime | None: ...


def _ensemble_device(
    kind: DeviceKind,
    part: _EnsemblePart,
    model: str,
    parent: str,
    *pairs: tuple[Quantity, MeasurementValue | None],
) -> Device:
    """One part of the ensemble: its figures, then when it last reported."""
    return Device(
        kind=kind,
        serial=part.serial,
        manufacturer=MANUFACTURER,
        model=model,
        model_id=part.part_number,
        firmware=part.firmware,
        parent=parent,
        measurements=tuple(
            _measurements(*pairs, (Quantity.LAST_REPORT, part.last_report))
        ),
        data_time=part.last_report,
    )


def _ensemble(data: EnvoyData, gateway: str) -> Iterable[Device]:
    if data.ensemble is None:
        return
    power = {p.serial: p for p in data.ensemble_power}
    controller = data.ensemble.enpowers[0].serial if data.ensemble.enpowers else None
    for enpower in data.ensemble.enpowers:
        yield _ensemble_device(
            DeviceKind.SYSTEM_CONTROLLER,
            enpower,
            SYSTEM_CONTROLLER_MODEL,
            gateway,
            (Quantity.TEMPERATURE, enpower.temperature),
            (Quantity.COMMUNICATING, enpower.communicating),
            # Its relay's state is the site's grid connection, and the state it is
            # asked for the grid connection switch.
            (Quantity.MODE, enpower.grid_mode),
        )
    for battery in data.ensemble.encharges:
        live = power.get(battery.serial)
        dc_switch_on = (
            None if battery.dc_switch_off is None else not battery.dc_switch_off
        )
        yield _ensemble_device(
            DeviceKind.BATTERY,
            battery,
            _BATTERY_MODELS_BY_CAPACITY.get(battery.capacity or 0.0, BATTERY_MODEL),
            controller or gateway,
            (Quantity.STATE_OF_CHARGE, battery.state_of_charge),
            (Quantity.POWER, live.real_power if live else None),
            (Quantity.APPARENT_POWER, live.apparent_power if live else None),
            (Quantity.TEMPERATURE, battery.temperature),
            (Quantity.CAPACITY, battery.capacity),
            (Quantity.COMMUNICATING, battery.communicating),
            (Quantity.DC_SWITCH_ON, dc_switch_on),
            (Quantity.STATE, battery.admin_state),
        )
    for collar in data.ensemble.collars:
        # Its grid state is the site's grid connection.
        closed = None if collar.mid_state is None else collar.mid_state == "close"
        yield _ensemble_device(
            DeviceKind.COLLAR,
            collar,
            COLLAR_MODEL,
            gateway,
            (Quantity.TEMPERATURE, collar.temperature),
            (Quantity.COMMUNICATING, collar.communicating),
            (Quantity.RELAY_CLOSED, closed),
            (Quantity.STATE, collar.collar_state),
        )
    for combiner in data.ensemble.combiners:
        yield _ensemble_device(
            DeviceKind.COMBINER,
            combiner,
            COMBINER_MODEL,
            gateway,
            (Quantity.COMMUNICATING, combiner.communicating),
            (Quantity.STATE, combiner.admin_state),
        )
    if controller is None:
        return
    # Relays are wired to the system controller; without one they do not exist.
    settings = {s.id: s for s in data.dry_contact_settings}
    ids = [c.id for c in data.dry_contacts] or list(settings)
    status = {c.id: c.status for c in data.dry_contacts}
    for relay_id in ids:
        setting = settings.get(relay_id)
        state = status.get(relay_id)
        yield Device(
            kind=DeviceKind.RELAY,
            serial=relay_serial(controller, relay_id),
            manufacturer=MANUFACTURER,
            model=RELAY_MODEL,
            model_id=relay_id,
            name=setting.load_name if setting else None,
            parent=controller,
            # Its mode is a select; its state the binary sensor and the switch.
            measurements=tuple(
                _measurements(
                    (
                        Quantity.RELAY_CLOSED,
                        None if state is None else state == "closed",
                    ),
                )
            ),
        )
    generator = data.generator
    if generator is not None and generator.exists:
        yield Device(
            kind=DeviceKind.GENERATOR,
            serial=f"{controller}_generator",
            manufacturer=MANUFACTURER,
            model=GENERATOR_MODEL,
            parent=controller,
            # Its relay closes while it runs; its mode (on, off, auto) is a select.
            measurements=tuple(
                _measurements((Quantity.RELAY_CLOSED, generator.relay_closed))
            ),
        )


def _acbs(data: EnvoyData, gateway: str) -> Iterable[Device]:
    inventory = {d.serial: d for d in _ac_batteries(data)}
    listed = {i.serial: i for i in data.inverters if i.dev_type == ACB_DEV_TYPE}
    details = {d.serial: d for d in data.pdm_devices if d.dev_name == "acb"}
    for serial in _acb_serials(data):
        acb = inventory.get(serial)
        reports = [
            r.last_report
            for r in (listed.get(serial), details.get(serial))
            if r is not None and r.last_report is not None
        ]
        last_report = acb.last_report if acb else max(reports, default=None)
        yield Device(
            kind=DeviceKind.BATTERY,
            serial=serial,
            manufacturer=MANUFACTURER,
            model=AC_BATTERY_MODEL,
            model_id=acb.part_number if acb else None,
            firmware=acb.firmware if acb else None,
            parent=gateway,
            measurements=tuple(
                _measurements(
                    (Quantity.STATE_OF_CHARGE, acb.state_of_charge if acb else None),
                    (Quantity.TEMPERATURE, acb.temperature if acb else None),
                    (Quantity.COMMUNICATING, acb.communicating if acb else None),
                    (Quantity.STATE, acb.charge_status if acb else None),
                    (Quantity.LAST_REPORT, last_report),
                )
            ),
            data_time=last_report,
        )


def acb_total_serial(gateway: str) -> str:
    """The site serial of the AC Batteries' aggregate on a site with IQ Batteries."""
    return f"{gateway}_acb_total"


def _acb_total(data: EnvoyData, gateway: str) -> Iterable[Device]:
    """The AC Batteries together, as they report themselves, on a site that also has
    IQ Batteries: the site's battery figures are both kinds together, and this is
    the AC Batteries' own share (power and state only while their report is live)."""
    if not (data.ensemble and data.ensemble.encharges and _acb_serials(data)):
        return
    production = data.production
    totals = production.acb if production else None
    fresh = _fresh_acb(data)
    secctrl = data.secctrl
    soc = secctrl.acb_state_of_charge if secctrl else None
    energy = secctrl.acb_energy if secctrl else None
    if fresh is not None:
        soc = fresh.state_of_charge if soc is None else soc
        energy = fresh.energy_now if energy is None else energy
    if totals is None and secctrl is None:
        return
    yield Device(
        kind=DeviceKind.BATTERY,
        serial=acb_total_serial(gateway),
        manufacturer=MANUFACTURER,
        model=AC_BATTERY_MODEL,
        name="AC Batteries",
        parent=gateway,
        measurements=tuple(
            _measurements(
                (Quantity.POWER, fresh.power if fresh else None),
                (Quantity.STATE_OF_CHARGE, soc),
                (Quantity.AVAILABLE_ENERGY, energy),
                (Quantity.STATE, fresh.state if fresh else None),
            )
        ),
        data_time=totals.reading_time if totals else None,
    )


@dataclass(frozen=True, slots=True)
class _CachedPart:
    inputs: tuple[object, ...]
    held: tuple[object, ...]
    devices: tuple[Device, ...]
    built_at: float | None


@dataclass(slots=True)
class DeviceCache:
    """The devices last built from each part of the data, kept while it is unchanged.

    The client replaces only the parts of ``EnvoyData`` it read, so a part that is the
    same object as last time built the same devices: a live poll of the CTs does not
    rebuild 300 inverters.
    """

    _parts: dict[str, _CachedPart] = field(default_factory=dict)

    def devices(
        self,
        name: str,
        inputs: tuple[object, ...],
        build: Callable[[], Iterable[Device]],
        *,
        held: tuple[object, ...] = (),
        now: float | None = None,
        hold: float = 0.0,
    ) -> tuple[Device, ...]:
        """The devices ``build`` makes from ``inputs``, rebuilt only when one changed.

        New ``held`` inputs alone (readings that move with every poll) rebuild them
        only once ``hold`` seconds have passed since the last build, on the clock
        ``now`` is read from (None: at once).
        """
        cached = self._parts.get(name)
        if cached is not None and same_objects(cached.inputs, inputs):
            if same_objects(cached.held, held):
                return cached.devices
            if (
                now is not None
                and cached.built_at is not None
                and 0 <= now - cached.built_at < hold
            ):
                return cached.devices
        built = tuple(build())
        self._parts[name] = _CachedPart(inputs, held, built, now)
        return built


def gateway_model(firmware: str | None) -> str:
    """The gateway's product name: firmware 3.x runs on the original Envoy."""
    digits = (firmware or "").lstrip("DRQ")
    major = digits.split(".", 1)[0]
    if major.isdigit() and int(major) < 4:
        return LEGACY_GATEWAY_MODEL
    return GATEWAY_MODEL


def build_snapshot(
    identity: GatewayIdentity,
    data: EnvoyData,
    cache: DeviceCache | None = None,
    *,
    now: float | None = None,
    report_current: bool = False,
) -> SiteSnapshot:
    """The whole site: figures plus every device, the gateway first.

    With ``cache`` and the seconds of a monotonic clock as ``now``, the CT meters'
    own devices follow new readings once every ``METER_DEVICE_INTERVAL``: the site
    figures carry their power from every reading. ``report_current``: see
    ``build_figures``.
    """
    cache = cache or DeviceCache()
    gateway = identity.serial
    devices: list[Device] = list(
        cache.devices(
            "gateway",
            (identity, data.export_limit, data.pv_limit),
            lambda: [
                Device(
                    kind=DeviceKind.GATEWAY,
                    serial=gateway,
                    manufacturer=MANUFACTURER,
                    model=gateway_model(identity.firmware),
                    model_id=identity.model,
                    firmware=identity.firmware,
                    measurements=tuple(_limits(data)),
                )
            ],
        )
    )
    devices += cache.devices(
        "meters",
        (data.meter_configs,),
        lambda: _meters(data, gateway),
        held=(data.meter_readings,),
        now=now,
        hold=METER_DEVICE_INTERVAL.total_seconds(),
    )
    devices += cache.devices(
        "inverters",
        (data.inverters, data.pdm_devices, data.inventory),
        lambda: _inverters(data, gateway),
    )
    devices += cache.devices(
        "ensemble",
        (
            data.ensemble,
            data.ensemble_power,
            data.generator,
            data.dry_contacts,
            data.dry_contact_settings,
            data.inventory,
        ),
        lambda: _ensemble(data, gateway),
    )
    devices += cache.devices(
        "acbs",
        (data.inventory, data.inverters, data.pdm_devices),
        lambda: _acbs(data, gateway),
    )
    devices += cache.devices(
        "acb_total",
        (data.ensemble, data.production, data.secctrl, data.inventory, data.inverters),
        lambda: _acb_total(data, gateway),
    )
    return SiteSnapshot(
        identity=identity,
        figures=build_figures(data, report_current=report_current),
        devices=tuple(devices),
        data_time=_data_time(data),
    )


def with_live_figures(snapshot: SiteSnapshot, data: EnvoyData) -> SiteSnapshot:
    """``snapshot`` with the site figures of ``data``, its devices kept as they are.

    For streamed readings, a message a second: the site's power is what changes;
    the CT meters' own entities are written every few minutes and follow the next
    poll, so rebuilding every device for each message would be work for nothing.
    """
    return replace(snapshot, figures=build_figures(data), data_time=_data_time(data))


def _limits(data: EnvoyData) -> list[Measurement]:
    """The export limit and the production cap, as the installer set them."""
    export, pv = data.export_limit, data.pv_limit
    pairs: list[tuple[Quantity, MeasurementValue | None]] = []
    if export is not None:
        mode = "hard" if export.hard else "soft" if export.soft else "off"
        pairs.append((Quantity.EXPORT_LIMIT_MODE, mode if export.enabled else "off"))
        if export.enabled and export.limit is not None:
            quantity = (
                Quantity.EXPORT_LIMIT_SHARE
                if export.in_percent
                else Quantity.EXPORT_LIMIT
            )
            pairs.append((quantity, export.limit))
    if pv is not None and pv.percent is not None:
        pairs.append((Quantity.PRODUCTION_LIMIT, pv.percent if pv.enabled else 100.0))
    return _measurements(*pairs)


def _data_time(data: EnvoyData) -> datetime | None:
    times = [r.total.timestamp for r in data.meter_readings if r.total.timestamp]
    if times:
        return max(times)
    if data.production is not None:
        for eim in (data.production.production, data.production.net_consumption):
            if eim is not None and eim.active and eim.reading_time is not None:
                return eim.reading_time
        if data.production.inverters and data.production.inverters.reading_time:
            return data.production.inverters.reading_time
    return None
