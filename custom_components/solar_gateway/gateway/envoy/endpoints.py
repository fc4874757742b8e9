"""The Envoy endpoints this client reads, their data group and how each is parsed."""

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from enum import StrEnum

from custom_components.solar_gateway.gateway.client import DataGroup
from custom_components.solar_gateway.gateway.transport import Response

from .models import EnvoyData, ProductionJson, SimpleProduction
from .parsers.ensemble import (
    parse_ensemble_inventory,
    parse_ensemble_power,
    parse_generator,
    parse_secctrl,
)
from .parsers.generator import (
    parse_generator_config,
    parse_generator_mode,
    parse_generator_schedule,
)
from .parsers.inverters import parse_inventory, parse_inverters, parse_pdm_device_data
from .parsers.limits import (
    parse_dynamic_export_limit,
    parse_export_limit,
    parse_production_power,
    parse_pv_limit,
)
from .parsers.meters import parse_meter_readings, parse_meters
from .parsers.production import (
    parse_api_production,
    parse_production_html,
    parse_production_json,
)
from .parsers.settings import (
    parse_acb_config,
    parse_dry_contact_settings,
    parse_dry_contacts,
    parse_tariff,
)

INFO_PATH = "/info"
CHECK_JWT_PATH = "/auth/check_jwt"
RELAY_PATH = "/ivp/ensemble/relay"


class Endpoint(StrEnum):
    """A data endpoint (path with query) whose presence is detected at setup."""

    PRODUCTION_JSON = "/production.json?details=1"
    API_PRODUCTION = "/api/v1/production"
    PRODUCTION_PAGE = "/production"
    METERS = "/ivp/meters"
    METER_READINGS = "/ivp/meters/readings"
    INVERTERS = "/api/v1/production/inverters"
    PDM_DEVICE_DATA = "/ivp/pdm/device_data"
    INVENTORY = "/inventory.json?deleted=1"
    ENSEMBLE_INVENTORY = "/ivp/ensemble/inventory"
    ENSEMBLE_POWER = "/ivp/ensemble/power"
    SECCTRL = "/ivp/ensemble/secctrl"
    GENERATOR = "/ivp/ensemble/generator"
    DRY_CONTACTS = "/ivp/ensemble/dry_contacts"
    DRY_CONTACT_SETTINGS = "/ivp/ss/dry_contact_settings"
    TARIFF = "/admin/lib/tariff"
    GENERATOR_MODE = "/ivp/ss/gen_mode"
    GENERATOR_SCHEDULE = "/ivp/ss/gen_schedule"
    GENERATOR_CONFIG = "/ivp/ss/gen_config"
    # The gateway-wide record (its own EID); installer tokens only.
    PRODUCTION_POWER = "/ivp/mod/603980032/mode/power"
    EXPORT_LIMIT = "/ivp/ss/pel_settings"
    PV_LIMIT = "/ivp/sc/pvlimit"
    ACB_CONFIG = "/admin/lib/acb_config"
    # The limit the owner's automations may set; installer tokens only.
    DYNAMIC_EXPORT_LIMIT = "/ivp/ss/dpel"


# Which polling group reads each endpoint: CT and battery power change by the second,
# inverters report every 5 minutes, settings change when someone writes them.
GROUPS: Mapping[Endpoint, DataGroup] = {
    Endpoint.PRODUCTION_JSON: DataGroup.LIVE,
    Endpoint.API_PRODUCTION: DataGroup.LIVE,
    Endpoint.PRODUCTION_PAGE: DataGroup.LIVE,
    Endpoint.METER_READINGS: DataGroup.LIVE,
    Endpoint.ENSEMBLE_POWER: DataGroup.LIVE,
    Endpoint.SECCTRL: DataGroup.LIVE,
    Endpoint.DRY_CONTACTS: DataGroup.LIVE,
    Endpoint.GENERATOR: DataGroup.LIVE,
    Endpoint.INVERTERS: DataGroup.DEVICES,
    Endpoint.PDM_DEVICE_DATA: DataGroup.DEVICES,
    Endpoint.INVENTORY: DataGroup.DEVICES,
    Endpoint.ENSEMBLE_INVENTORY: DataGroup.DEVICES,
    Endpoint.METERS: DataGroup.SETTINGS,
    Endpoint.DRY_CONTACT_SETTINGS: DataGroup.SETTINGS,
    Endpoint.TARIFF: DataGroup.SETTINGS,
    Endpoint.GENERATOR_MODE: DataGroup.SETTINGS,
    Endpoint.GENERATOR_SCHEDULE: DataGroup.SETTINGS,
    Endpoint.GENERATOR_CONFIG: DataGroup.SETTINGS,
    Endpoint.PRODUCTION_POWER: DataGroup.SETTINGS,
    Endpoint.EXPORT_LIMIT: DataGroup.SETTINGS,
    Endpoint.PV_LIMIT: DataGroup.SETTINGS,
    Endpoint.ACB_CONFIG: DataGroup.SETTINGS,
    Endpoint.DYNAMIC_EXPORT_LIMIT: DataGroup.SETTINGS,
}

# Inside its group, an endpoint whose data changes slower than the group is polled is
# read again only once its last answer is this old (and at once after any write). The
# CT readings carry the site's power on every live poll; production.json then adds only
# the gateway's energy today and last seven days (production.json and ensemble power
# are read every live poll where they carry power the CTs do not); battery state of
# charge moves a percent in minutes; relays and the generator change when someone
# acts, which a write reads back.
REREAD_AFTER: Mapping[Endpoint, timedelta] = {
    Endpoint.PRODUCTION_JSON: timedelta(minutes=5),
    Endpoint.SECCTRL: timedelta(minutes=1),
    Endpoint.ENSEMBLE_POWER: timedelta(minutes=5),
    Endpoint.DRY_CONTACTS: timedelta(minutes=5),
    Endpoint.GENERATOR: timedelta(minutes=5),
}

# Setup detects endpoints in this order, so that what one answer shows decides whether
# the next is worth asking: which CTs answer decides the production documents, a
# system controller the relays, a generator's configuration its mode and schedule.
PROBE_ORDER: tuple[Endpoint, ...] = (
    Endpoint.METERS,
    Endpoint.METER_READINGS,
    Endpoint.INVENTORY,
    Endpoint.PDM_DEVICE_DATA,
    Endpoint.INVERTERS,
    Endpoint.PRODUCTION_JSON,
    Endpoint.API_PRODUCTION,
    Endpoint.PRODUCTION_PAGE,
    Endpoint.ENSEMBLE_INVENTORY,
    Endpoint.ENSEMBLE_POWER,
    Endpoint.SECCTRL,
    Endpoint.GENERATOR,
    Endpoint.DRY_CONTACTS,
    Endpoint.DRY_CONTACT_SETTINGS,
    Endpoint.TARIFF,
    Endpoint.GENERATOR_CONFIG,
    Endpoint.GENERATOR_MODE,
    Endpoint.GENERATOR_SCHEDULE,
    Endpoint.PRODUCTION_POWER,
    Endpoint.EXPORT_LIMIT,
    Endpoint.PV_LIMIT,
    Endpoint.ACB_CONFIG,
    Endpoint.DYNAMIC_EXPORT_LIMIT,
)


def _production_page(data: EnvoyData, response: Response) -> EnvoyData:
    body = response.text()
    if body.lstrip().startswith("{"):
        # Firmware 7+ serves the production.json document here.
        return replace(
            data, legacy_production=_simple(parse_production_json(response.json()))
        )
    return replace(data, legacy_production=parse_production_html(body))


def _simple(production: ProductionJson) -> SimpleProduction:
    source = (
        production.production
        if production.production and production.production.active
        else None
    )
    if source is not None:
        return SimpleProduction(
            power=source.power,
            energy_today=source.energy_today,
            energy_last_seven_days=source.energy_last_seven_days,
            lifetime_energy=source.lifetime_energy,
        )
    totals = production.inverters
    return SimpleProduction(
        power=totals.power if totals else None,
        energy_today=None,
        energy_last_seven_days=None,
        lifetime_energy=totals.lifetime_energy if totals else None,
    )


type Reader = Callable[[EnvoyData, Response], EnvoyData]

READERS: Mapping[Endpoint, Reader] = {
    Endpoint.PRODUCTION_JSON: lambda d, r: replace(
        d, production=parse_production_json(r.json())
    ),
    Endpoint.API_PRODUCTION: lambda d, r: replace(
        d, api_production=parse_api_production(r.json())
    ),
    Endpoint.PRODUCTION_PAGE: _production_page,
    Endpoint.METERS: lambda d, r: replace(d, meter_configs=parse_meters(r.json())),
    Endpoint.METER_READINGS: lambda d, r: replace(
        d, meter_readings=parse_meter_readings(r.json())
    ),
    Endpoint.INVERTERS: lambda d, r: replace(d, inverters=parse_inverters(r.json())),
    Endpoint.PDM_DEVICE_DATA: lambda d, r: replace(
        d, pdm_devices=parse_pdm_device_data(r.json())
    ),
    Endpoint.INVENTORY: lambda d, r: replace(d, inventory=parse_inventory(r.json())),
    Endpoint.ENSEMBLE_INVENTORY: lambda d, r: replace(
        d, ensemble=parse_ensemble_inventory(r.json())
    ),
    Endpoint.ENSEMBLE_POWER: lambda d, r: replace(
        d, ensemble_power=parse_ensemble_power(r.json())
    ),
    Endpoint.SECCTRL: lambda d, r: replace(d, secctrl=parse_secctrl(r.json())),
    Endpoint.GENERATOR: lambda d, r: replace(d, generator=parse_generator(r.json())),
    Endpoint.DRY_CONTACTS: lambda d, r: replace(
        d, dry_contacts=parse_dry_contacts(r.json())
    ),
    Endpoint.DRY_CONTACT_SETTINGS: lambda d, r: replace(
        d, dry_contact_settings=parse_dry_contact_settings(r.json())
    ),
    Endpoint.TARIFF: lambda d, r: replace(d, tariff=parse_tariff(r.json())),
    Endpoint.GENERATOR_MODE: lambda d, r: replace(
        d, generator_mode=parse_generator_mode(r.json())
    ),
    Endpoint.GENERATOR_SCHEDULE: lambda d, r: replace(
        d, generator_schedule=parse_generator_schedule(r.json())
    ),
    Endpoint.GENERATOR_CONFIG: lambda d, r: replace(
        d, generator_config=parse_generator_config(r.json())
    ),
    Endpoint.PRODUCTION_POWER: lambda d, r: replace(
        d, production_power=parse_production_power(r.json())
    ),
    Endpoint.EXPORT_LIMIT: lambda d, r: replace(
        d, export_limit=parse_export_limit(r.json())
    ),
    Endpoint.PV_LIMIT: lambda d, r: replace(d, pv_limit=parse_pv_limit(r.json())),
    Endpoint.ACB_CONFIG: lambda d, r: replace(d, acb_config=parse_acb_config(r.json())),
    Endpoint.DYNAMIC_EXPORT_LIMIT: lambda d, r: replace(
        d, dynamic_export_limit=parse_dynamic_export_limit(r.json())
    ),
}
