"""An owner renames entities (their entity ids): they go on as before, under the new id.

Home Assistant 2026.11 changes an entity id in place for entities that say they can
(``async_entity_id_changed``); before, and for entities that do not, it removes the
entity and adds it again (a path that ends in 2027.11).
"""

import importlib
import inspect
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import Entity
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solar_gateway import PLATFORMS
from custom_components.solar_gateway.const import DOMAIN

from .fake_gateway import SERIAL, FakeGatewayClient
from .test_site_rules import _entity, entity_id, poll, setup


async def test_renamed_entities_keep_showing_and_following_the_gateway(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    fake_client: FakeGatewayClient,
    fake_entry: MockConfigEntry,
) -> None:
    """Solar power and solar energy renamed: the new ids show the same states at
    once and the old ones are gone; each poll writes each of them once; the energy
    counter keeps its guard (a dip after the rename is held)."""
    await setup(hass, fake_entry)
    registry = er.async_get(hass)
    renames = {
        entity_id(hass, f"{SERIAL}_solar_power"): "sensor.rooftop_power",
        entity_id(hass, f"{SERIAL}_solar_energy"): "sensor.rooftop_energy",
    }
    before = {new: hass.states.get(old) for old, new in renames.items()}
    added_again: list[Entity] = []
    original = Entity.async_added_to_hass

    async def counted(self: Entity) -> None:
        added_again.append(self)
        await original(self)

    with patch.object(Entity, "async_added_to_hass", counted):
        for old, new in renames.items():
            registry.async_update_entity(old, new_entity_id=new)
        await hass.async_block_till_done()
    # In place where Home Assistant can (2026.11 on), else removed and added again.
    in_place = hasattr(Entity, "async_entity_id_changed")
    assert len(added_again) == (0 if in_place else len(renames))

    for old, new in renames.items():
        assert hass.states.get(old) is None
        state, earlier = hass.states.get(new), before[new]
        assert state is not None
        assert earlier is not None
        assert (state.state, state.attributes) == (earlier.state, earlier.attributes)

    writes: list[str] = []

    @callback
    def written(event: Event) -> None:
        if event.data["entity_id"] in renames.values():
            writes.append(event.data["entity_id"])

    hass.bus.async_listen(EVENT_STATE_CHANGED, written)
    fake_client.set_figures(solar_power=1234.0, solar_energy=12_500_100.0)
    # Past the counter's one write a minute.
    await poll(hass, freezer, seconds=61)
    assert sorted(writes) == ["sensor.rooftop_energy", "sensor.rooftop_power"]
    assert hass.states.get("sensor.rooftop_power").state == "1234.0"
    assert hass.states.get("sensor.rooftop_energy").state == "12500.1"

    fake_client.set_figures(solar_energy=0.0)
    await poll(hass, freezer, seconds=61)
    assert hass.states.get("sensor.rooftop_energy").state == "12500.1"
    for old in renames:
        assert hass.states.get(old) is None


ADD_REMOVE = (
    "async_prepare_to_add_to_hass",
    "async_added_to_hass",
    "async_will_remove_from_hass",
)


def entity_classes() -> list[type[Entity]]:
    """Every entity class the integration's platforms define or use."""
    found: set[type[Entity]] = set()
    for platform in PLATFORMS:
        module = importlib.import_module(f"custom_components.{DOMAIN}.{platform}")
        for _, member in inspect.getmembers(module, inspect.isclass):
            if issubclass(member, Entity) and member.__module__.startswith(
                f"custom_components.{DOMAIN}"
            ):
                found.add(member)
    return sorted(found, key=lambda cls: cls.__qualname__)


def added_again_on_rename(entity_class: type) -> list[str]:
    """Our classes whose add or remove hooks no ``async_entity_id_changed`` of theirs
    (or of a subclass) covers: Home Assistant 2026.11 would add their entities
    again on a rename, by the rule it states for custom integrations."""
    # Home Assistant's own classes are its business, as in its rule.
    ours = [
        cls
        for cls in entity_class.__mro__
        if not cls.__module__.startswith(("homeassistant.", "builtins"))
    ]
    owners = [cls for cls in ours if "async_entity_id_changed" in cls.__dict__]
    return [
        cls.__qualname__
        for cls in ours
        if any(method in cls.__dict__ for method in ADD_REMOVE)
        and not any(issubclass(owner, cls) for owner in owners)
    ]


@pytest.mark.parametrize("entity_class", entity_classes(), ids=lambda c: c.__name__)
def test_every_entity_is_renamed_in_place(entity_class: type[Entity]) -> None:
    """Each entity class opts in to in-place entity id changes where it has add or
    remove hooks of its own."""
    assert added_again_on_rename(entity_class) == []


def test_a_class_with_its_own_add_hook_and_no_opt_in_is_found() -> None:
    """The rule finds a subclass that adds ``async_added_to_hass`` only."""
    (counter,) = [c for c in entity_classes() if c.__name__ == "SiteCounterSensor"]

    class Forgetful(counter):  # type: ignore[misc,valid-type]
        async def async_added_to_hass(self) -> None:
            await super().async_added_to_hass()

    assert added_again_on_rename(Forgetful) == [
        "test_a_class_with_its_own_add_hook_and_no_opt_in_is_found.<locals>.Forgetful"
    ]


async def test_the_hook_is_harmless_where_home_assistant_has_none(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """Called while Home Assistant has no such hook (before 2026.11, which never
    calls it), it changes nothing and raises nothing."""
    await setup(hass, fake_entry)
    uid = f"{SERIAL}_solar_energy"
    before = hass.states.get(entity_id(hass, uid))
    entity = _entity(hass, uid)
    entity.async_entity_id_changed("sensor.somewhere_else")
    assert hass.states.get(entity_id(hass, uid)) == before


async def test_the_hook_passes_the_change_on_where_home_assistant_has_one(
    hass: HomeAssistant, fake_client: FakeGatewayClient, fake_entry: MockConfigEntry
) -> None:
    """Where Home Assistant has the hook (2026.11 on), ours hands it the old id, so
    Home Assistant's own classes move their bookkeeping."""
    await setup(hass, fake_entry)
    entity = _entity(hass, f"{SERIAL}_solar_power")
    seen: list[str] = []

    def moved(self: Entity, old_entity_id: str) -> None:
        seen.append(old_entity_id)

    with patch.object(Entity, "async_entity_id_changed", moved, create=True):
        entity.async_entity_id_changed("sensor.somewhere_else")
    assert seen == ["sensor.somewhere_else"]
