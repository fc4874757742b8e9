"""The packaging gates hold for the real files and fail for broken copies."""

from collections.abc import Callable
import json
from pathlib import Path
import shutil
import textwrap

import homeassistant
from PIL import Image
import pytest
import yaml

from tests.conftest import PROJECT_ROOT

from .validators import (
    ALL_RULES,
    home_assistant_pins,
    scan_translations,
    validate_brand,
    validate_hacs,
    validate_icons,
    validate_manifest,
    validate_quality_scale,
    validate_translations,
)

INTEGRATION = PROJECT_ROOT / "custom_components" / "solar_gateway"
MINIMUM_HOME_ASSISTANT = "2026.10.0"


@pytest.fixture
def integration(tmp_path: Path) -> Path:
    """A copy of the integration's metadata and images to break (code added per test)."""
    copy = tmp_path / "solar_gateway"
    shutil.copytree(
        INTEGRATION,
        copy,
        ignore=shutil.ignore_patterns("__pycache__", "gateway", "*.py"),
    )
    return copy


def _edit_json(path: Path, change: Callable[[dict[str, object]], object]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def _write_module(integration: Path, name: str, source: str) -> None:
    (integration / name).write_text(textwrap.dedent(source), encoding="utf-8")


# --- the real files ------------------------------------------------------------------


def test_real_manifest_is_valid() -> None:
    """The shipped manifest passes every manifest rule."""
    assert validate_manifest(INTEGRATION) == []


def test_real_manifest_content() -> None:
    """The manifest says what the project is: a local-polling hub with zeroconf."""
    manifest = json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["domain"] == "solar_gateway" == INTEGRATION.name
    assert manifest["config_flow"] is True
    assert manifest["iot_class"] == "local_polling"
    assert manifest["integration_type"] == "hub"
    assert manifest["requirements"] == []
    assert {matcher["type"] for matcher in manifest["zeroconf"]} == {
        "_enphase-envoy._tcp.local.",
        "_pvs6._tcp.local.",
        "_pvs5._tcp.local.",
    }


def test_real_hacs_json_is_valid() -> None:
    """hacs.json has documented keys and the supported minimum Home Assistant."""
    path = PROJECT_ROOT / "hacs.json"
    assert validate_hacs(path, MINIMUM_HOME_ASSISTANT) == []
    assert json.loads(path.read_text(encoding="utf-8"))["homeassistant"] == (
        MINIMUM_HOME_ASSISTANT
    )


def test_installed_home_assistant_meets_hacs_minimum() -> None:
    """The version we develop and test against is one hacs.json admits."""
    from awesomeversion import AwesomeVersion
    from homeassistant.const import __version__

    minimum = json.loads((PROJECT_ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert AwesomeVersion(__version__) >= AwesomeVersion(minimum["homeassistant"])


def test_real_translations_cover_the_code() -> None:
    """en.json has every key the code uses and nothing else."""
    assert validate_translations(INTEGRATION) == []


def test_real_icons_are_valid() -> None:
    """icons.json refers only to translated entities and services."""
    assert validate_icons(INTEGRATION) == []


def test_real_quality_scale_is_valid() -> None:
    """quality_scale.yaml lists every rule once, with comments on exemptions."""
    assert validate_quality_scale(INTEGRATION / "quality_scale.yaml") == []


def test_real_brand_images_are_valid() -> None:
    """Brand images have the sizes and transparency Home Assistant expects."""
    assert validate_brand(INTEGRATION / "brand") == []


def test_rule_list_matches_home_assistant() -> None:
    """Our rule ids are the ones Home Assistant's own integrations declare.

    Platinum integrations must list every rule, so the union of their
    quality_scale.yaml files is the full list of the installed release.
    """
    components = Path(homeassistant.__file__).parent / "components"
    declared: set[str] = set()
    for path in components.glob("*/quality_scale.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        declared.update((data.get("rules") or {}).keys())
    assert declared == ALL_RULES


def test_home_assistant_pins_are_read() -> None:
    """The requirement check knows what Home Assistant ships."""
    pins = home_assistant_pins()
    assert "aiohttp" in pins
    assert "pyjwt" in pins


# --- manifest.json broken ------------------------------------------------------------


def test_unsorted_manifest_key_fails(integration: Path) -> None:
    """A key out of alphabetical order after domain and name is caught."""
    path = integration / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    reordered = {"domain": data.pop("domain"), "name": data.pop("name")}
    reordered["version"] = data.pop("version")
    reordered.update(data)
    path.write_text(json.dumps(reordered), encoding="utf-8")
    assert any("must be sorted" in p for p in validate_manifest(integration))


def test_name_before_domain_fails(integration: Path) -> None:
    """domain and name must open the manifest."""
    path = integration / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({"name": data.pop("name"), **data}), encoding="utf-8")
    assert any("first keys" in p for p in validate_manifest(integration))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: m.pop("version"), "'version' is missing"),
        (lambda m: m.update(version="not a version!"), "not a valid version"),
        (lambda m: m.update(domain="other"), "differs from folder"),
        (lambda m: m.update(documentation="http://example.com"), "https URL"),
        (lambda m: m.update(issue_tracker="github.com/x"), "https URL"),
        (lambda m: m.update(iot_class="local_magic"), "iot_class"),
        (lambda m: m.update(integration_type="gadget"), "integration_type"),
        (lambda m: m.update(codeowners=["someone"]), "codeowners"),
        (lambda m: m.update(config_flow="yes"), "wrong type"),
        (lambda m: m.update(zz_extra=1), "unknown key"),
        (lambda m: m.update(requirements=["pyenphase==2.0.0"]), "not shipped"),
        (lambda m: m.update(requirements=["aiohttp==0.1"]), "differs from"),
        (lambda m: m.update(requirements=["aiohttp>=3"]), "name==version"),
        (lambda m: m.update(zeroconf=[{"type": "_http._tcp.local"}]), "zeroconf type"),
        (lambda m: m.update(zeroconf=[{"kind": "x"}]), "malformed"),
        (lambda m: m.update(loggers=[""]), "loggers"),
    ],
)
def test_broken_manifest_fails(
    integration: Path, change: Callable[[dict[str, object]], object], expected: str
) -> None:
    """Each manifest rule catches its own breakage."""
    _edit_json(integration / "manifest.json", change)
    problems = validate_manifest(integration)
    assert any(expected in p for p in problems), problems


def test_manifest_that_is_not_json_fails(integration: Path) -> None:
    """A truncated manifest is reported, not raised."""
    (integration / "manifest.json").write_text('{"domain": ', encoding="utf-8")
    assert validate_manifest(integration)[0].startswith("manifest.json: cannot be read")


def test_requirement_pinned_like_home_assistant_passes(integration: Path) -> None:
    """A package Home Assistant ships, at its pinned version, is acceptable."""
    pinned = home_assistant_pins()["aiohttp"]
    _edit_json(
        integration / "manifest.json",
        lambda m: m.update(requirements=[f"aiohttp=={pinned}"]),
    )
    assert validate_manifest(integration) == []


# --- hacs.json broken ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            {"name": "X", "homeassistant": "2026.10.0", "iot_class": "x"},
            "not a documented",
        ),
        ({"homeassistant": "2026.10.0"}, "'name' is required"),
        ({"name": "X", "homeassistant": "2026.10"}, "is not YYYY.M.P"),
        ({"name": "X", "homeassistant": "2025.1.0"}, "is below"),
        ({"name": "X", "render_readme": "yes"}, "wrong type"),
        (["name"], "not a JSON object"),
    ],
)
def test_broken_hacs_json_fails(tmp_path: Path, content: object, expected: str) -> None:
    """Undocumented keys, a missing name and bad versions are caught."""
    path = tmp_path / "hacs.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    problems = validate_hacs(path, MINIMUM_HOME_ASSISTANT)
    assert any(expected in p for p in problems), problems


# --- translations --------------------------------------------------------------------

FLOW = """
    from homeassistant.config_entries import ConfigFlow, OptionsFlow
    from homeassistant.exceptions import HomeAssistantError

    class Flow(ConfigFlow, domain="solar_gateway"):
        async def async_step_user(self, user_input=None):
            errors = {}
            if user_input:
                errors["base"] = "cannot_connect"
                await self.async_set_unique_id("x")
                self._abort_if_unique_id_configured()
                return self.async_abort(reason="not_supported")
            return self.async_show_form(errors=errors)

        async def async_step_reauth_confirm(self, user_input=None):
            return self.async_update_reload_and_abort(self._get_reauth_entry())

    class Options(OptionsFlow):
        async def async_step_init(self, user_input=None):
            return self.async_show_menu(menu_options=["intervals"])

    def fail():
        raise HomeAssistantError(translation_domain="solar_gateway", translation_key="write_failed")
"""
SENSOR = """
    from homeassistant.components.sensor import SensorEntity, SensorEntityDescription

    DESCRIPTIONS = (SensorEntityDescription(key="solar", translation_key="solar_power"),)

    class Relay(SensorEntity):
        _attr_translation_key = "relay_state"
"""
STRINGS = {
    "config": {
        "step": {"user": {"title": "Connect", "data": {"host": "Host"}}},
        "error": {"cannot_connect": "Cannot connect"},
        "abort": {
            "already_configured": "Already configured",
            "not_supported": "Not supported",
            "reauth_successful": "Done",
        },
    },
    "options": {
        "step": {"init": {"menu_options": {"intervals": "Intervals"}}},
    },
    "entity": {
        "sensor": {
            "solar_power": {"name": "Solar power"},
            "relay_state": {"name": "Relay", "state": {"open": "Open"}},
        }
    },
    "exceptions": {"write_failed": {"message": "Write failed: {error}"}},
}


@pytest.fixture
def translated(integration: Path) -> Path:
    """An integration whose code uses every kind of translation key, all translated."""
    _write_module(integration, "config_flow.py", FLOW)
    _write_module(integration, "sensor.py", SENSOR)
    (integration / "translations" / "en.json").write_text(
        json.dumps(STRINGS), encoding="utf-8"
    )
    return integration


def test_scanner_finds_every_kind_of_key(translated: Path) -> None:
    """Steps, errors, aborts, menus, entities and exceptions are all found."""
    scan = scan_translations(translated)
    assert scan.problems == []
    assert scan.dynamic == []
    assert {".".join(use.path) for use in scan.uses} == {
        "config.step.user",
        "config.error.cannot_connect",
        "config.abort.already_configured",
        "config.abort.not_supported",
        "config.abort.reauth_successful",
        "options.step.init",
        "options.step.init.menu_options.intervals",
        "entity.sensor.solar_power",
        "entity.sensor.relay_state",
        "exceptions.write_failed.message",
    }
    assert validate_translations(translated) == []


@pytest.mark.parametrize(
    "missing",
    [
        ("config", "step", "user"),
        ("config", "error", "cannot_connect"),
        ("config", "abort", "already_configured"),
        ("config", "abort", "not_supported"),
        ("config", "abort", "reauth_successful"),
        ("options", "step", "init", "menu_options", "intervals"),
        ("entity", "sensor", "solar_power"),
        ("entity", "sensor", "relay_state"),
        ("exceptions", "write_failed", "message"),
    ],
)
def test_missing_translation_fails(translated: Path, missing: tuple[str, ...]) -> None:
    """Removing any used key from en.json is caught."""

    def remove(data: dict[str, object]) -> None:
        node: object = data
        for part in missing[:-1]:
            assert isinstance(node, dict)
            node = node[part]
        assert isinstance(node, dict)
        del node[missing[-1]]

    _edit_json(translated / "translations" / "en.json", remove)
    problems = validate_translations(translated)
    assert any(f"missing {'.'.join(missing)}" in p for p in problems), problems


def test_unused_translation_fails(translated: Path) -> None:
    """A key no code uses is caught (stale strings confuse translators)."""
    _edit_json(
        translated / "translations" / "en.json",
        lambda d: d["config"]["abort"].update(gone="Gone"),  # type: ignore[index]
    )
    assert "en.json: config.abort.gone is not used by the code" in (
        validate_translations(translated)
    )


RESOLVED = """
    from homeassistant.components.sensor import SensorEntityDescription
    from homeassistant.config_entries import ConfigFlow

    from .const import ABORT_WRONG

    KEY = "site_power"

    def _power(key, scale):
        return SensorEntityDescription(key=key, translation_key=key)

    DESCRIPTIONS = (_power("solar_power", 1), _power(key="grid_power", scale=1))
    SITE = SensorEntityDescription(key="site", translation_key=KEY)

    def _error_key(err):
        if err:
            return "cannot_connect"
        return "unknown"

    class Flow(ConfigFlow, domain="solar_gateway"):
        async def async_step_user(self, user_input=None):
            errors = {}
            if (error := await self._try()) is not None:
                errors["base"] = error
            errors["base"] = _error_key(user_input)
            return self.async_abort(reason=ABORT_WRONG if user_input else "x")

        async def _try(self):
            return None if self else "invalid_auth"
"""


def test_scanner_follows_constants_helpers_and_returns(integration: Path) -> None:
    """Keys passed through helpers, constants and return values are resolved."""
    _write_module(integration, "const.py", 'ABORT_WRONG = "wrong_device"\n')
    _write_module(integration, "sensor.py", RESOLVED)
    scan = scan_translations(integration)
    assert scan.dynamic == []
    assert {".".join(use.path) for use in scan.uses} == {
        "entity.sensor.solar_power",
        "entity.sensor.grid_power",
        "entity.sensor.site_power",
        "config.error.cannot_connect",
        "config.error.unknown",
        "config.error.invalid_auth",
        "config.abort.wrong_device",
        "config.abort.x",
    }


def test_dynamic_key_relaxes_only_its_section(integration: Path) -> None:
    """An f-string key cannot be checked; its section is spared the unused check only."""
    _write_module(
        integration,
        "sensor.py",
        """
        from homeassistant.components.sensor import SensorEntityDescription
        def phase(key, phase):
            return SensorEntityDescription(key=key, translation_key=f"{key}_{phase}")
        """,
    )
    (integration / "translations" / "en.json").write_text(
        json.dumps(
            {
                "entity": {"sensor": {"power_l1": {"name": "Power L1"}}},
                "exceptions": {"stale": {"message": "Stale"}},
            }
        )
    )
    scan = scan_translations(integration)
    assert [use.path for use in scan.dynamic] == [("entity", "sensor")]
    assert validate_translations(integration) == [
        "en.json: exceptions.stale.message is not used by the code"
    ]


def test_translation_key_of_unknown_kind_is_reported(integration: Path) -> None:
    """A translation_key outside a platform, flow, exception or issue is reported."""
    _write_module(integration, "helpers.py", 'thing = make(translation_key="x")\n')
    _write_module(
        integration, "entity.py", 'class E:\n    _attr_translation_key = "y"\n'
    )
    problems = validate_translations(integration)
    assert any("cannot tell what" in p for p in problems)
    assert any("cannot tell the platform" in p for p in problems)


def test_services_need_translations(integration: Path) -> None:
    """Every service in services.yaml needs its strings."""
    (integration / "services.yaml").write_text("set_reserve:\n  fields: {}\n")
    assert any(
        "missing services.set_reserve" in p for p in validate_translations(integration)
    )


# --- icons ---------------------------------------------------------------------------


def test_icon_for_untranslated_entity_fails(translated: Path) -> None:
    """icons.json may only name entities that exist in en.json."""
    (translated / "icons.json").write_text(
        json.dumps({"entity": {"sensor": {"ghost": {"default": "mdi:ghost"}}}})
    )
    assert any(
        "entity.sensor.ghost has no translation" in p
        for p in validate_icons(translated)
    )


def test_icon_must_be_mdi(translated: Path) -> None:
    """Icons are Material Design Icons names."""
    (translated / "icons.json").write_text(
        json.dumps({"entity": {"sensor": {"solar_power": {"default": "sun"}}}})
    )
    assert any("not an mdi: icon" in p for p in validate_icons(translated))


def test_icon_for_translated_entity_passes(translated: Path) -> None:
    """A well-formed icons.json passes."""
    (translated / "icons.json").write_text(
        json.dumps(
            {"entity": {"sensor": {"solar_power": {"default": "mdi:solar-power"}}}}
        )
    )
    assert validate_icons(translated) == []


# --- quality_scale.yaml --------------------------------------------------------------


def _quality_scale(
    integration: Path, change: Callable[[dict[str, object]], None]
) -> list[str]:
    path = integration / "quality_scale.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data["rules"])
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return validate_quality_scale(path)


def test_exempt_rule_without_comment_fails(integration: Path) -> None:
    """An exemption has to say why."""
    problems = _quality_scale(
        integration, lambda r: r.update({"docs-triggers": "exempt"})
    )
    assert "quality_scale.yaml: exempt rule 'docs-triggers' needs a comment" in problems


def test_unknown_rule_fails(integration: Path) -> None:
    """A made-up rule id is caught."""
    problems = _quality_scale(integration, lambda r: r.update({"super-fast": "done"}))
    assert "quality_scale.yaml: 'super-fast' is not a quality scale rule" in problems


def test_missing_rule_fails(integration: Path) -> None:
    """Every rule has to be declared."""
    problems = _quality_scale(integration, lambda r: r.pop("diagnostics"))
    assert "quality_scale.yaml: rule 'diagnostics' is not listed" in problems


def test_unknown_status_fails(integration: Path) -> None:
    """Statuses are todo, done or exempt."""
    problems = _quality_scale(
        integration, lambda r: r.update({"diagnostics": "almost"})
    )
    assert any("unknown status 'almost'" in p for p in problems)


# --- brand ---------------------------------------------------------------------------


def test_wrong_icon_size_fails(integration: Path) -> None:
    """icon.png must be 256x256."""
    Image.new("RGBA", (200, 200), (0, 0, 0, 0)).save(integration / "brand" / "icon.png")
    assert "brand: icon.png is 200x200, needs 256x256" in validate_brand(
        integration / "brand"
    )


def test_opaque_icon_fails(integration: Path) -> None:
    """A brand image must have a transparent background."""
    Image.new("RGB", (256, 256), (255, 255, 255)).save(
        integration / "brand" / "icon.png"
    )
    assert "brand: icon.png has no transparent background" in validate_brand(
        integration / "brand"
    )


def test_logo_too_small_fails(integration: Path) -> None:
    """Logos need their shortest side within the brands repository's bounds."""
    Image.new("RGBA", (300, 64), (0, 0, 0, 0)).save(integration / "brand" / "logo.png")
    assert any(
        "logo.png shortest side 64" in p for p in validate_brand(integration / "brand")
    )


def test_unknown_brand_file_and_missing_icon_fail(integration: Path) -> None:
    """Only names Home Assistant serves; icon.png is required."""
    brand = integration / "brand"
    (brand / "icon.png").rename(brand / "favicon.png")
    problems = validate_brand(brand)
    assert "brand: icon.png is missing" in problems
    assert "brand: favicon.png is not a brand image Home Assistant serves" in problems
