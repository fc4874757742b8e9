"""scripts/develop_config.py: config/ is ready for Home Assistant, and stays the user's.

The files it writes are loaded here by Home Assistant's own stores (served from the
test's ``hass_storage``), so a format or version Home Assistant would refuse fails.
"""

from datetime import UTC, datetime, timedelta
import importlib.util
import json
from pathlib import Path
import re
import stat
import subprocess
from types import ModuleType
from typing import Any

from homeassistant import config as conf_util, config_entries
from homeassistant.auth import auth_manager_from_config
from homeassistant.auth.providers import homeassistant as ha_provider
from homeassistant.components import onboarding
from homeassistant.components.http import config as http_config
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util.unit_system import METRIC_SYSTEM
import jwt
import pytest

from tests.conftest import PROJECT_ROOT

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # in the past: HA checks tokens now
UNCHECKED: Any = {"verify_exp": False, "verify_iat": False}
ENVOY_LINE = json.dumps(
    {
        "kind": "envoy",
        "address": "127.0.0.2",
        "url": "http://127.0.0.2:80",
        "https_url": "https://127.0.0.2:443",
        "serial": "202400000789",
        "firmware": "D8.2.4286",
        "model": "800-00664-r05",
        "token": "header.claims.signature-1",
    }
)
PVS_LINE = json.dumps(
    {
        "kind": "pvs_varserver",
        "address": "127.0.0.3",
        "url": "http://127.0.0.3",
        "https_url": "https://127.0.0.3",
        "serial": "ZT244285000549W8841",
        "firmware": "2025.10.02.61846",
        "model": "PVS6",
        "token": None,
    }
)


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "develop_config", PROJECT_ROOT / "scripts" / "develop_config.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dc = _load_script()


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cheapest bcrypt cost: the hash format is the same."""
    monkeypatch.setattr(dc, "BCRYPT_ROUNDS", 4)


def _gateways(*lines: str) -> list[Any]:
    return dc.read_gateways(lines or (ENVOY_LINE, PVS_LINE))


def _store(config: Path, key: str) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(
        (config / ".storage" / key).read_text(encoding="utf-8")
    )
    return content


def _entries(config: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = _store(config, "core.config_entries")["data"][
        "entries"
    ]
    return entries


def _snapshot(config: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(config)): path.read_bytes()
        for path in sorted(config.rglob("*"))
        if path.is_file()
    }


def _edit_store(config: Path, key: str, content: dict[str, Any]) -> None:
    (config / ".storage" / key).write_text(json.dumps(content), encoding="utf-8")


async def test_home_assistant_loads_what_it_writes(
    hass: HomeAssistant, hass_storage: dict[str, Any], tmp_path: Path
) -> None:
    """Onboarding done, both entries, the dev login and API token all load in HA."""
    dc.prepare(tmp_path, _gateways(), now=NOW)
    for key in (
        "onboarding",
        "auth",
        "auth_provider.homeassistant",
        "core.config_entries",
        "http",
        "core.config",
    ):
        hass_storage[key] = _store(tmp_path, key)

    # Country and units set: no "country not configured" repair.
    await hass.config.async_load()
    assert (hass.config.country, hass.config.currency) == ("US", "USD")
    assert hass.config.units is METRIC_SYSTEM

    conf = await http_config.async_load_config(hass, {})
    assert (conf["server_host"], conf["server_port"]) == (["127.0.0.1"], 8123)
    http_store = hass.data[http_config.DATA_STORE]
    assert http_store.active_config_type is http_config.ActiveConfigType.STABLE
    assert http_store.revert_deadline is None

    assert await async_setup_component(hass, "onboarding", {})
    assert onboarding.async_is_onboarded(hass)

    manager = config_entries.ConfigEntries(hass, {})
    await manager.async_initialize()
    entries = {
        entry.unique_id: entry for entry in manager.async_entries("solar_gateway")
    }
    assert entries.keys() == {"202400000789", "ZT244285000549W8841"}
    envoy, pvs = entries["202400000789"], entries["ZT244285000549W8841"]
    assert envoy.title == "Envoy 202400000789"
    assert dict(envoy.data) == {
        "host": "127.0.0.2",
        "brand": "enphase",
        "auth_method": "token",
        "token": "header.claims.signature-1",
    }
    assert pvs.title == "PVS6 ZT244285000549W8841"
    assert dict(pvs.data) == {
        "host": "https://127.0.0.3",
        "brand": "sunpower",
        "password": "W8841",
    }
    assert (envoy.version, envoy.minor_version, envoy.source) == (1, 1, "user")

    auth = await auth_manager_from_config(
        hass,
        [
            {"type": "homeassistant"},
            {
                "type": "trusted_networks",
                "trusted_networks": ["127.0.0.1"],
                "allow_bypass_login": True,
            },
        ],
        [],
    )
    users = [user for user in await auth.async_get_users() if not user.system_generated]
    assert [(user.name, user.is_owner, user.is_admin) for user in users] == [
        ("Developer", True, True)
    ]
    token = (tmp_path / "develop_access_token").read_text(encoding="utf-8").strip()
    refresh = auth.async_validate_access_token(token)
    assert refresh is not None
    assert refresh.user is users[0]
    assert refresh.token_type == "long_lived_access_token"

    provider = auth.get_auth_provider("homeassistant", None)
    assert isinstance(provider, ha_provider.HassAuthProvider)
    await provider.async_initialize()
    provider.data.validate_login("dev", "dev")
    with pytest.raises(ha_provider.InvalidAuth):
        provider.data.validate_login("dev", "wrong")
    credentials = await provider.async_get_or_create_credentials({"username": "dev"})
    assert not credentials.is_new
    assert (await auth.async_get_user_by_credentials(credentials)) is users[0]


def test_first_run_writes_configuration_with_automatic_login(tmp_path: Path) -> None:
    """configuration.yaml trusts this machine; secrets are private files."""
    report = dc.prepare(tmp_path, _gateways(), now=NOW)
    yaml = (tmp_path / "configuration.yaml").read_text(encoding="utf-8")
    assert "type: trusted_networks" in yaml
    assert "allow_bypass_login: true" in yaml
    assert "\nhttp:" not in yaml  # in storage: YAML would be a trial to confirm
    for name in (".storage/auth", ".storage/auth_provider.homeassistant"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "develop_access_token").stat().st_mode) == 0o600
    assert "added Envoy 202400000789 (127.0.0.2)" in report
    assert "added PVS6 ZT244285000549W8841 (https://127.0.0.3)" in report
    assert _store(tmp_path, "onboarding") == {
        "version": 4,
        "minor_version": 1,
        "key": "onboarding",
        "data": {"done": ["user", "core_config", "analytics", "integration"]},
    }
    header = _store(tmp_path, "core.config_entries")
    assert (header["version"], header["minor_version"]) == (1, 5)


def test_rerun_with_the_same_simulator_changes_nothing(tmp_path: Path) -> None:
    """Idempotent: same input, same bytes, nothing reported."""
    dc.prepare(tmp_path, _gateways(), now=NOW)
    before = _snapshot(tmp_path)
    assert dc.prepare(tmp_path, _gateways(), now=NOW + timedelta(days=3)) == []
    assert _snapshot(tmp_path) == before


def test_stores_home_assistant_rewrote_are_left_alone(tmp_path: Path) -> None:
    """Home Assistant saves the same content in its own layout: not rewritten."""
    dc.prepare(tmp_path, _gateways(), now=NOW)
    auth = tmp_path / ".storage" / "auth"
    compact = json.dumps(json.loads(auth.read_text(encoding="utf-8")))
    auth.write_text(compact, encoding="utf-8")
    assert dc.prepare(tmp_path, _gateways(), now=NOW) == []
    assert auth.read_text(encoding="utf-8") == compact


def test_restart_rewrites_only_the_simulated_entries_data(tmp_path: Path) -> None:
    """A new token and new ports reach the entries; ids and user settings stay."""
    dc.prepare(tmp_path, _gateways(), now=NOW)
    content = _store(tmp_path, "core.config_entries")
    envoy = next(
        e for e in content["data"]["entries"] if e["unique_id"] == "202400000789"
    )
    envoy["title"] = "My roof"
    envoy["options"] = {"live_interval": 30}
    envoy["pref_disable_polling"] = True
    _edit_store(tmp_path, "core.config_entries", content)
    ids = {e["unique_id"]: e["entry_id"] for e in _entries(tmp_path)}

    moved = json.loads(ENVOY_LINE) | {
        "https_url": "https://127.0.0.1:40001",
        "token": "header.claims.signature-2",
    }
    later = NOW + timedelta(hours=1)
    report = dc.prepare(tmp_path, _gateways(json.dumps(moved), PVS_LINE), now=later)

    assert report == ["updated My roof (127.0.0.1:40001)"]
    entries = {e["unique_id"]: e for e in _entries(tmp_path)}
    assert {uid: e["entry_id"] for uid, e in entries.items()} == ids
    envoy = entries["202400000789"]
    assert envoy["data"]["host"] == "127.0.0.1:40001"
    assert envoy["data"]["token"] == "header.claims.signature-2"
    assert envoy["title"] == "My roof"
    assert envoy["options"] == {"live_interval": 30}
    assert envoy["pref_disable_polling"] is True
    assert envoy["modified_at"] == later.isoformat()
    assert entries["ZT244285000549W8841"]["modified_at"] == NOW.isoformat()


def test_users_own_changes_are_kept(tmp_path: Path) -> None:
    """Their configuration.yaml, entries, users, password and onboarding steps stay."""
    dc.prepare(tmp_path, _gateways(), now=NOW)
    yaml = tmp_path / "configuration.yaml"
    yaml.write_text("homeassistant:\n  name: Mine\n", encoding="utf-8")

    content = _store(tmp_path, "core.config_entries")
    own = [
        {"domain": "sun", "entry_id": "SUN", "data": {}},
        {
            "domain": "solar_gateway",
            "entry_id": "REAL",
            "data": {"host": "envoy.local"},
        },
    ]
    content["data"]["entries"].extend(own)
    _edit_store(tmp_path, "core.config_entries", content)
    auth = _store(tmp_path, "auth")
    auth["data"]["users"].append(
        {"id": "someone", "name": "Someone", "is_owner": False}
    )
    _edit_store(tmp_path, "auth", auth)
    provider = _store(tmp_path, "auth_provider.homeassistant")
    provider["data"]["users"][0]["password"] = "changed"
    _edit_store(tmp_path, "auth_provider.homeassistant", provider)
    http = _store(tmp_path, "http")
    http["data"]["stable"]["server_host"] = ["0.0.0.0"]  # noqa: S104 - the user's
    _edit_store(tmp_path, "http", http)
    steps = _store(tmp_path, "onboarding")
    steps["data"]["done"].insert(0, "future_step")
    _edit_store(tmp_path, "onboarding", steps)
    token = (tmp_path / "develop_access_token").read_text(encoding="utf-8")

    report = dc.prepare(tmp_path, _gateways(), now=NOW)

    assert yaml.read_text(encoding="utf-8") == "homeassistant:\n  name: Mine\n"
    assert any("predates the automatic login" in line for line in report)
    assert _entries(tmp_path)[-2:] == own
    assert len(_entries(tmp_path)) == 4
    assert [u["id"] for u in _store(tmp_path, "auth")["data"]["users"]] == [
        dc.USER_ID,
        "someone",
    ]
    assert _store(tmp_path, "http") == http
    users = _store(tmp_path, "auth_provider.homeassistant")["data"]["users"]
    assert users == [{"username": "dev", "password": "changed"}]
    assert _store(tmp_path, "onboarding")["data"]["done"] == [
        "future_step",
        "user",
        "core_config",
        "analytics",
        "integration",
    ]
    assert (tmp_path / "develop_access_token").read_text(encoding="utf-8") == token


def test_an_existing_owner_stays_the_only_owner(tmp_path: Path) -> None:
    """Someone who onboarded by hand keeps ownership; the dev user is an admin."""
    (tmp_path / ".storage").mkdir()
    owner = {
        "id": "theirs",
        "group_ids": ["system-admin"],
        "is_owner": True,
        "is_active": True,
        "name": "Owner",
        "system_generated": False,
    }
    _edit_store(
        tmp_path,
        "auth",
        {
            "version": 1,
            "minor_version": 1,
            "key": "auth",
            "data": {"users": [owner], "groups": [{"id": "system-admin"}]},
        },
    )
    dc.prepare(tmp_path, [], now=NOW)
    data = _store(tmp_path, "auth")["data"]
    assert [(u["id"], u["is_owner"]) for u in data["users"]] == [
        ("theirs", True),
        (dc.USER_ID, False),
    ]
    assert [g["id"] for g in data["groups"]] == [
        "system-admin",
        "system-users",
        "system-read-only",
    ]
    assert data["credentials"][0]["data"] == {"username": "dev"}


def test_real_gateway_mode_removes_simulated_entries(tmp_path: Path) -> None:
    """--gateway: the simulated entries go (nothing serves them), the user's stay."""
    dc.prepare(tmp_path, _gateways(), now=NOW)
    content = _store(tmp_path, "core.config_entries")
    content["data"]["entries"] += [
        {"domain": "solar_gateway", "entry_id": "REAL", "data": {"host": "192.0.2.7"}},
        {"domain": "solar_gateway", "entry_id": "MINE", "data": {"host": "[::1]:8080"}},
        {"domain": "solar_gateway", "entry_id": "ODD", "data": "not a mapping"},
    ]
    _edit_store(tmp_path, "core.config_entries", content)

    report = dc.prepare(tmp_path, [], now=NOW)

    assert [e["entry_id"] for e in _entries(tmp_path)] == ["REAL", "MINE", "ODD"]
    assert report == [
        "removed Envoy 202400000789 (127.0.0.2): simulator not running",
        "removed PVS6 ZT244285000549W8841 (https://127.0.0.3): simulator not running",
    ]


def test_a_simulator_from_an_earlier_run_with_other_gateways_is_removed(
    tmp_path: Path,
) -> None:
    """Entries for simulated serials no longer served would poll a dead address."""
    dc.prepare(tmp_path, _gateways(ENVOY_LINE), now=NOW)
    dc.prepare(tmp_path, _gateways(PVS_LINE), now=NOW)
    assert [e["unique_id"] for e in _entries(tmp_path)] == ["ZT244285000549W8841"]


def test_users_loopback_entries_survive_a_restart(tmp_path: Path) -> None:
    """Gateways the user added on loopback addresses are theirs, running or not."""
    dc.prepare(tmp_path, _gateways(), now=NOW)
    content = _store(tmp_path, "core.config_entries")
    theirs = [
        {
            "domain": "solar_gateway",
            "entry_id": f"THEIRS{n}",
            "unique_id": serial,
            "title": f"Replay {n}",
            "data": {"host": f"127.0.0.1:{port}", "brand": "sunpower"},
        }
        for n, (serial, port) in enumerate((("A1", 8080), ("B2", 8090)))
    ]
    content["data"]["entries"] += theirs
    _edit_store(tmp_path, "core.config_entries", content)

    report = dc.prepare(tmp_path, _gateways(), now=NOW + timedelta(hours=1))

    assert report == []
    assert _entries(tmp_path)[-2:] == theirs
    assert len(_entries(tmp_path)) == 4


def test_a_simulated_gateway_the_user_added_is_not_added_twice(
    tmp_path: Path,
) -> None:
    """The user's own entry for a simulated serial stays theirs; no duplicate."""
    (tmp_path / ".storage").mkdir()
    own = {
        "domain": "solar_gateway",
        "entry_id": "MINE",
        "unique_id": "202400000789",
        "title": "Envoy by hand",
        "data": {"host": "127.0.0.9:8000", "brand": "enphase"},
    }
    dc.write_storage(
        tmp_path / ".storage" / "core.config_entries",
        dc._storage("core.config_entries", 1, 5, {"entries": [own]}),
    )
    (tmp_path / dc.MANAGED_ENTRIES_FILE).write_text('{"entries": []}')

    report = dc.prepare(tmp_path, _gateways(), now=NOW)

    assert [e["unique_id"] for e in _entries(tmp_path)] == [
        "202400000789",
        "ZT244285000549W8841",
    ]
    assert _entries(tmp_path)[0] == own
    assert any(line.startswith("left Envoy by hand") for line in report)
    managed = json.loads((tmp_path / dc.MANAGED_ENTRIES_FILE).read_text())
    assert managed["entries"] == [_entries(tmp_path)[1]["entry_id"]]


def test_entries_of_a_configuration_without_record_are_adopted(
    tmp_path: Path,
) -> None:
    """A config/ from before the record: the simulated entries keep their ids."""
    dc.prepare(tmp_path, _gateways(), now=NOW)
    ids = [e["entry_id"] for e in _entries(tmp_path)]
    (tmp_path / dc.MANAGED_ENTRIES_FILE).unlink()

    moved = json.loads(ENVOY_LINE) | {"https_url": "https://127.0.0.1:40001"}
    report = dc.prepare(tmp_path, _gateways(json.dumps(moved), PVS_LINE), now=NOW)

    assert report == ["updated Envoy 202400000789 (127.0.0.1:40001)"]
    assert [e["entry_id"] for e in _entries(tmp_path)] == ids
    managed = json.loads((tmp_path / dc.MANAGED_ENTRIES_FILE).read_text())
    assert managed["entries"] == sorted(ids)


@pytest.mark.parametrize(
    "content", ["not json", '{"entries": "x"}', '{"entries": [1]}', "[]"]
)
def test_bad_record_of_entries_is_refused(tmp_path: Path, content: str) -> None:
    """A damaged develop_entries.json stops the script rather than guessing."""
    dc.prepare(tmp_path, [], now=NOW)
    (tmp_path / dc.MANAGED_ENTRIES_FILE).write_text(content)
    with pytest.raises(dc.DevelopConfigError, match=r"develop_entries\.json"):
        dc.prepare(tmp_path, [], now=NOW)


def test_country_and_units_fill_only_what_is_missing(tmp_path: Path) -> None:
    """A new instance gets the US and metric; a country chosen since is kept."""
    dc.prepare(tmp_path, [], now=NOW)
    data = _store(tmp_path, "core.config")["data"]
    assert (data["country"], data["currency"], data["unit_system_v2"]) == (
        "US",
        "USD",
        "metric",
    )
    content = _store(tmp_path, "core.config")
    content["data"] |= {"country": "DE", "currency": None, "location_name": "Home"}
    _edit_store(tmp_path, "core.config", content)

    assert dc.prepare(tmp_path, [], now=NOW) == ["country, currency and units set"]
    data = _store(tmp_path, "core.config")["data"]
    assert (data["country"], data["currency"], data["location_name"]) == (
        "DE",
        "USD",
        "Home",
    )


def test_expiring_api_token_is_renewed(tmp_path: Path) -> None:
    """The access token file is rewritten when invalid or close to its end."""
    dc.prepare(tmp_path, [], now=NOW)
    path = tmp_path / "develop_access_token"
    path.write_text("garbage\n", encoding="utf-8")
    assert dc.prepare(tmp_path, [], now=NOW) == [f"API token written to {path}"]
    first = path.read_text(encoding="utf-8").strip()
    key = _store(tmp_path, "auth")["data"]["refresh_tokens"][0]["jwt_key"]
    claims = jwt.decode(
        first, key, algorithms=["HS256"], issuer=dc.TOKEN_ID, options=UNCHECKED
    )
    assert claims["exp"] - claims["iat"] == 3650 * 86400

    near_end = datetime.fromtimestamp(claims["exp"], UTC) - timedelta(days=10)
    dc.prepare(tmp_path, [], now=near_end)
    renewed = path.read_text(encoding="utf-8").strip()
    assert jwt.decode(renewed, key, algorithms=["HS256"], options=UNCHECKED)[
        "iat"
    ] == int(near_end.timestamp())


@pytest.mark.parametrize(
    ("line", "data"),
    [
        (
            {"kind": "envoy", "url": "http://127.0.0.1:4000", "token": None},
            {"host": "127.0.0.1:4000", "brand": "enphase", "auth_method": "local"},
        ),
        (
            {"kind": "pvs_legacy", "url": "http://127.0.0.4", "model": None},
            {"host": "127.0.0.4", "brand": "sunpower"},
        ),
    ],
)
def test_entry_data_for_other_kinds(line: dict[str, Any], data: dict[str, str]) -> None:
    """Older Envoys (no token) and legacy PVS get plain HTTP hosts."""
    base = {"serial": "123456", "firmware": "1.0", "https_url": None}
    (gateway,) = _gateways(json.dumps(base | line))
    assert gateway.entry_data() == data
    expected_title = "Envoy 123456" if line["kind"] == "envoy" else "PVS 123456"
    assert gateway.title() == expected_title


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        "[1, 2]",
        json.dumps({"kind": "envoy", "serial": "1", "firmware": "7"}),
        json.dumps(json.loads(ENVOY_LINE) | {"serial": 5}),
    ],
)
def test_bad_simulator_lines_are_refused(line: str) -> None:
    """Output that is not the simulator's --json ends as a typed error."""
    with pytest.raises(dc.DevelopConfigError):
        dc.read_gateways([line])


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "inverter"},
        {"https_url": None},
    ],
)
def test_unusable_gateways_are_refused(change: dict[str, Any]) -> None:
    """An unknown kind, or a token gateway without HTTPS, cannot become an entry."""
    (gateway,) = _gateways(json.dumps(json.loads(ENVOY_LINE) | change))
    with pytest.raises(dc.DevelopConfigError):
        gateway.entry_data()
    (pvs,) = _gateways(json.dumps(json.loads(PVS_LINE) | {"https_url": None}))
    with pytest.raises(dc.DevelopConfigError):
        pvs.entry_data()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.2", True),
        ("127.0.0.1:8080", True),
        ("https://127.0.0.3", True),
        ("[::1]:80", True),
        ("localhost", True),
        ("envoy.local", False),
        ("192.168.1.20", False),
        ("https://172.27.153.1", False),
        ("", False),
        (None, False),
        ("http://", False),
    ],
)
def test_loopback_hosts(host: object, loopback: bool) -> None:
    """Only hosts on this machine count as simulated."""
    assert dc.is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"key": "something_else", "version": 1, "data": {}}),
        json.dumps({"key": "core.config_entries", "version": 2, "data": {}}),
        json.dumps(
            {"key": "core.config_entries", "version": 1, "data": {"entries": {}}}
        ),
    ],
)
def test_unreadable_stores_stop_the_script(
    tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store it cannot merge with is reported, not overwritten."""
    storage = tmp_path / ".storage"
    storage.mkdir()
    (storage / "core.config_entries").write_text(content, encoding="utf-8")
    assert dc.main([str(tmp_path), "--gateway", "envoy.local"]) == 2
    assert capsys.readouterr().err.startswith("develop: ")
    assert (storage / "core.config_entries").read_text(encoding="utf-8") == content


def test_bad_auth_store_is_refused(tmp_path: Path) -> None:
    """An auth store whose lists are not lists is not rewritten."""
    (tmp_path / ".storage").mkdir()
    bad = {"version": 1, "key": "auth", "data": {"users": {}}}
    _edit_store(tmp_path, "auth", bad)
    with pytest.raises(dc.DevelopConfigError):
        dc.prepare(tmp_path, [], now=NOW)
    provider = {
        "version": 1,
        "key": "auth_provider.homeassistant",
        "data": {"users": 3},
    }
    with pytest.raises(dc.DevelopConfigError):
        dc.update_auth_provider(provider)


def test_command_line_reads_the_simulator_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """scripts/develop passes the simulator's --json output as a file."""
    output = tmp_path / "simulator.jsonl"
    output.write_text(f"{ENVOY_LINE}\n\n{PVS_LINE}\n", encoding="utf-8")
    config = tmp_path / "config"
    assert dc.main([str(config), "--simulator-json", str(output)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[:2] == [
        "develop: simulated envoy 202400000789 (firmware D8.2.4286) at https://127.0.0.2",
        (
            "develop: simulated pvs_varserver ZT244285000549W8841"
            " (firmware 2025.10.02.61846) at https://127.0.0.3"
        ),
    ]
    assert "develop: added Envoy 202400000789 (127.0.0.2)" in printed
    assert len(_entries(config)) == 2


def test_develop_script_is_valid_bash_serving_existing_fixtures() -> None:
    """scripts/develop parses, and the fixtures it serves exist."""
    script = PROJECT_ROOT / "scripts" / "develop"
    check = subprocess.run(  # noqa: S603 - fixed tool and file
        ["/bin/bash", "-n", str(script)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr
    (fixtures,) = re.findall(r"^FIXTURES=\((.*)\)$", script.read_text(), re.MULTILINE)
    for fixture in fixtures.split():
        assert (PROJECT_ROOT / fixture).is_dir(), fixture


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--capture", "/nonexistent/diagnostics.json"], "--capture needs"),
        (["--gateway", "192.0.2.1", "--capture", "/"], "exclude each other"),
        (["--gateway"], "--gateway needs"),
    ],
)
def test_develop_refuses_bad_arguments_before_starting(
    args: list[str], message: str
) -> None:
    """Wrong options stop scripts/develop before it touches config/ or starts hass."""
    result = subprocess.run(  # noqa: S603 - the project's own script
        [str(PROJECT_ROOT / "scripts" / "develop"), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr


async def test_an_automation_from_the_blueprint_loads(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """The demo's configuration loads automations made in the UI: one made from the
    project's blueprint, as the UI writes it to automations.yaml, runs."""
    dc.prepare(tmp_path, _gateways(), now=NOW)
    link = tmp_path / "blueprints" / "automation" / "solar_gateway"
    assert link.is_symlink()
    assert (link / "limit_solar_negative_price.yaml").is_file()
    automation = {
        "id": "1733400000000",
        "alias": "Stop solar while the price is negative",
        "use_blueprint": {
            "path": "solar_gateway/limit_solar_negative_price.yaml",
            "input": {
                "price_sensor": "sensor.grid_price",
                # The gateway's device id, as the UI's device picker gives it.
                "gateway": "4e3f2c1b0a9d8e7f6a5b4c3d2e1f0a9b",
            },
        },
    }
    (tmp_path / "automations.yaml").write_text(
        json.dumps([automation]), encoding="utf-8"
    )
    hass.config.config_dir = str(tmp_path)
    config = await conf_util.async_hass_config_yaml(hass)
    assert {"automation", "script", "scene"} <= set(config)
    for domain in ("automation", "script", "scene"):
        assert await async_setup_component(hass, domain, config)
    await hass.async_block_till_done()
    state = hass.states.get("automation.stop_solar_while_the_price_is_negative")
    assert state is not None
    assert state.state == "on"
    assert state.attributes["id"] == "1733400000000"


def test_an_older_configuration_is_told_about_automations(tmp_path: Path) -> None:
    """A configuration.yaml from before is kept, and the report says what to add."""
    (tmp_path / "configuration.yaml").write_text(
        "homeassistant:\n  auth_providers:\n    - type: trusted_networks\n",
        encoding="utf-8",
    )
    report = dc.prepare(tmp_path, _gateways(), now=NOW)
    assert any("predates automations" in line for line in report)
    assert (tmp_path / "automations.yaml").read_text(encoding="utf-8") == "[]\n"
    # The UI's files are its own once they exist.
    (tmp_path / "scripts.yaml").write_text("mine: {}\n", encoding="utf-8")
    dc.prepare(tmp_path, _gateways(), now=NOW)
    assert (tmp_path / "scripts.yaml").read_text(encoding="utf-8") == "mine: {}\n"
