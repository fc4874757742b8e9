"""Which payload key fills which number field of a PVS device model.

Both PVS APIs carry the same device figures: the legacy DeviceList spells a key
``p_3phsum_kw``, varserver spells it ``p3phsumKw``. One table per model, in the
legacy spelling, serves both parsers, so a figure is mapped in one place. A figure
read on each leg of the split-phase service has its pair of keys, shared by every
device that reports it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from custom_components.solar_gateway.gateway.pvs.models import Legs

from .common import num

# A DeviceList key; a tuple lists older firmware's keys after it.
type Keys = str | tuple[str, ...]
# Model field -> its keys.
type FigureTable = Mapping[str, Keys]


@dataclass(frozen=True, slots=True)
class LegKeys:
    """The keys of one figure on L1 and on L2."""

    l1: Keys
    l2: Keys

    def varserver(self) -> LegKeys:
        """The same keys as varserver spells them."""
        return LegKeys(_varserver_keys(self.l1), _varserver_keys(self.l2))


VOLTAGE_LEGS: Final = LegKeys("v1n_v", "v2n_v")
GRID_VOLTAGE_LEGS: Final = LegKeys("v1n_grid_v", "v2n_grid_v")
PV_VOLTAGE_LEGS: Final = LegKeys("v1n_pv_v", "v2n_pv_v")
CURRENT_LEGS: Final = LegKeys(("i1_a", "i_a"), "i2_a")
POWER_LEGS: Final = LegKeys("p1_kw", "p2_kw")

METER_FIGURES: Final[FigureTable] = MappingProxyType(
    {
        "power_kw": "p_3phsum_kw",
        "reactive_kvar": "q_3phsum_kvar",
        "apparent_kva": "s_3phsum_kva",
        "power_factor": "tot_pf_rto",
        "frequency_hz": "freq_hz",
        "net_kwh": "net_ltea_3phsum_kwh",
        "pos_kwh": "pos_ltea_3phsum_kwh",
        "neg_kwh": "neg_ltea_3phsum_kwh",
        "voltage_v": "v12_v",
        "ct_scale": "ct_scl_fctr",
    }
)

INVERTER_FIGURES: Final[FigureTable] = MappingProxyType(
    {
        "power_kw": "p_3phsum_kw",
        "lifetime_kwh": "ltea_3phsum_kwh",
        "voltage_v": "vln_3phavg_v",
        "current_a": "i_3phsum_a",
        "frequency_hz": "freq_hz",
        # Firmware before 2021.11 reports DC power as p_mpptsum_kw.
        "dc_power_kw": ("p_mppt1_kw", "p_mpptsum_kw"),
        "dc_voltage_v": "v_mppt1_v",
        "dc_current_a": "i_mppt1_a",
        "temperature_c": "t_htsnk_degc",
    }
)

TRANSFER_SWITCH_FIGURES: Final[FigureTable] = MappingProxyType(
    {
        "temperature_c": "t_degc",
        "supply_v": "v_spply_v",
    }
)

# Only varserver reports a SunVault as one device; the same spelling rule holds.
ESS_FIGURES: Final[FigureTable] = MappingProxyType(
    {
        "power_kw": "p_3phsum_kw",
        "pos_kwh": "pos_ltea_3phsum_kwh",
        "neg_kwh": "neg_ltea_3phsum_kwh",
        "soc": "soc_val",
        "customer_soc": "customer_soc_val",
        "soh": "soh_val",
        "battery_v": "v_batt_v",
        "inverter_temperature_c": "t_invtr_degc",
        "max_charge_kw": "chrg_limit_pmax_kw",
        "max_discharge_kw": "dischrg_lim_pmax_kw",
        "min_cell_temperature_c": "min_t_batt_cell_degc",
        "max_cell_temperature_c": "max_t_batt_cell_degc",
    }
)


def read_figures(
    record: Mapping[str, object], table: FigureTable
) -> dict[str, float | None]:
    """Read each field of ``table`` from a DeviceList record.

    Of several keys the first one present with a value counts; "nan", blanks and
    junk read as None.
    """
    return {field: _read(record, keys) for field, keys in table.items()}


def read_legs(record: Mapping[str, object], keys: LegKeys) -> Legs:
    """Read one figure on both legs from a record (as ``read_figures`` does)."""
    return Legs(_read(record, keys.l1), _read(record, keys.l2))


def _read(record: Mapping[str, object], keys: Keys) -> float | None:
    if isinstance(keys, str):
        return num(record.get(keys))
    value = None
    for key in keys:
        if (value := record.get(key)) is not None:
            break
    return num(value)


def varserver_table(table: FigureTable) -> FigureTable:
    """Spell a table's keys as varserver does: ``p_3phsum_kw`` -> ``p3phsumKw``.

    Varserver has no older spellings, so only the first key of a tuple carries over.
    """
    return MappingProxyType(
        {field: _varserver_keys(keys) for field, keys in table.items()}
    )


def _varserver_keys(keys: Keys) -> str:
    return _camel(keys if isinstance(keys, str) else keys[0])


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
