"""Prepare config/ for scripts/develop: Home Assistant starts already set up.

Writes, before Home Assistant starts (it must not be running: it rewrites these files):

- ``configuration.yaml`` when absent (never touched once it exists), with the
  ``trusted_networks`` auth provider: a browser on this machine logs in without a
  password, as the single development user.
- ``automations.yaml``, ``scripts.yaml`` and ``scenes.yaml`` when absent (then the
  UI's), which ``configuration.yaml`` includes, and a link to the project's
  blueprints under ``blueprints/automation/solar_gateway``.
- ``.storage/http`` when absent: the web server listens on 127.0.0.1:8123 only.
- ``.storage/onboarding``: every onboarding step done.
- ``.storage/auth`` and ``.storage/auth_provider.homeassistant``: an owner, user ``dev``
  password ``dev``, and a long-lived access token for the REST and websocket APIs,
  written to ``develop_access_token``.
- ``.storage/core.config``: the instance's country, currency, units, time zone and
  location when it has none yet (no "country not configured" repair); values set
  since, in the UI or in YAML, are kept.
- ``.storage/core.config_entries``: one entry per simulated gateway (from the
  simulator's ``--json`` lines), rewritten at every start since the simulator makes
  new keys, tokens and perhaps ports each time. The entries this script created are
  listed in ``develop_entries.json``; only those are ever rewritten or removed (a
  simulated gateway no longer served, or all of them with ``--gateway HOST``). Entries
  the user added, on any address, are never touched.

Only what is named here is managed: other users, tokens, entries and settings in
these files are left as they are. Usage::

    python scripts/develop_config.py CONFIG_DIR [--simulator-json FILE | --gateway HOST]
"""

import argparse
import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import hashlib
import ipaddress
import json
import os
from pathlib import Path
import secrets
import sys
from typing import Any
from urllib.parse import urlsplit

import bcrypt
import jwt
from ulid_transform import ulid_at_time

DOMAIN = "solar_gateway"

# Storage versions Home Assistant 2026.10 reads (homeassistant/config_entries.py,
# auth/auth_store.py, auth/providers/homeassistant.py, components/onboarding).
ENTRIES_KEY, ENTRIES_VERSION, ENTRIES_MINOR = "core.config_entries", 1, 5
AUTH_KEY, AUTH_VERSION, AUTH_MINOR = "auth", 1, 1
PROVIDER_KEY, PROVIDER_VERSION, PROVIDER_MINOR = "auth_provider.homeassistant", 1, 1
ONBOARDING_KEY, ONBOARDING_VERSION, ONBOARDING_MINOR = "onboarding", 4, 1
HTTP_KEY, HTTP_VERSION, HTTP_MINOR = "http", 2, 2
CORE_KEY, CORE_VERSION, CORE_MINOR = "core.config", 1, 4
HTTP_HOST, HTTP_PORT = "127.0.0.1", 8123
ONBOARDING_STEPS = ("user", "core_config", "analytics", "integration")
# The config flow's ConfigFlow.VERSION / MINOR_VERSION.
ENTRY_VERSION, ENTRY_MINOR = 1, 1

SYSTEM_GROUPS = {
    "system-admin": "Administrators",
    "system-users": "Users",
    "system-read-only": "Read Only",
}
USERNAME = "dev"
PASSWORD = "dev"  # noqa: S105 - a development login on 127.0.0.1, said in the README
BCRYPT_ROUNDS = 12  # Home Assistant's own; tests lower it
# Fixed ids, so re-runs find what they made before.
USER_ID = hashlib.sha256(b"solar_gateway develop user").hexdigest()[:32]
CREDENTIAL_ID = hashlib.sha256(b"solar_gateway develop credential").hexdigest()[:32]
TOKEN_ID = hashlib.sha256(b"solar_gateway develop api token").hexdigest()[:32]
TOKEN_CLIENT_NAME = "scripts/develop"  # noqa: S105 - a label
ACCESS_TOKEN_DAYS = 3650
ACCESS_TOKEN_FILE = "develop_access_token"  # noqa: S105 - a file name
RENEW_BEFORE = timedelta(days=30)
# The entry ids this script created, so that it never touches the user's own.
MANAGED_ENTRIES_FILE = "develop_entries.json"
# The development instance's general settings: the simulated sites are in the US;
# the integration's units are metric. Home Assistant's own default location.
CORE_CONFIG: dict[str, Any] = {
    "latitude": 32.87336,
    "longitude": -117.22743,
    "elevation": 0,
    "unit_system_v2": "metric",
    "location_name": "Solar Gateway development",
    "time_zone": "UTC",
    "external_url": None,
    "internal_url": None,
    "currency": "USD",
    "country": "US",
    "language": "en",
    "radius": 100,
}

CONFIGURATION_YAML = """\
# Written by scripts/develop on its first run; edit freely (config/ is not committed).
# Name, location, units, country and time zone are in .storage/core.config, where
# Settings > System > General can change them.
homeassistant:
  # A browser on this machine logs in as the development user without a password;
  # "dev" / "dev" works too.
  auth_providers:
    - type: trusted_networks
      trusted_networks:
        - 127.0.0.1
        - ::1
      allow_bypass_login: true
    - type: homeassistant
  # No multi-factor modules: the default one needs packages the lock file lacks.
  auth_mfa_modules: []

# REST and websocket APIs, config entries and flows, discovery, history and the
# Energy dashboard's back end. The frontend is a default integration; the web server's
# settings (127.0.0.1:8123) live in .storage/http, where Home Assistant keeps them now.
api:
websocket_api:
config:
zeroconf:
recorder:
history:
energy:
system_log:

logger:
  default: info
  logs:
    custom_components.solar_gateway: debug

# What Settings > Automations & scenes makes is kept in these files (the
# integration's blueprint is under blueprints/automation/solar_gateway).
automation: !include automations.yaml
script: !include scripts.yaml
scene: !include scenes.yaml
"""
# The files the UI writes automations, scripts and scenes to, as it starts them.
UI_FILES = {"automations.yaml": "[]\n", "scripts.yaml": "{}\n", "scenes.yaml": "[]\n"}
# The project's blueprints, linked into the configuration so the demo offers them.
BLUEPRINTS = Path(__file__).resolve().parent.parent / "blueprints" / "automation"
BLUEPRINT_FOLDER = Path("blueprints") / "automation" / DOMAIN

type Json = dict[str, Any]


class DevelopConfigError(Exception):
    """Input or existing files that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class SimulatedGateway:
    """One gateway as the simulator's ``--json`` line describes it."""

    kind: str
    serial: str
    firmware: str
    model: str | None
    url: str
    https_url: str | None
    token: str | None

    @classmethod
    def from_json(cls, line: str) -> SimulatedGateway:
        """Parse one ``--json`` line."""
        try:
            raw = json.loads(line)
        except ValueError as err:
            raise DevelopConfigError(f"not a simulator --json line: {line!r}") from err
        if not isinstance(raw, dict):
            raise DevelopConfigError(f"not a simulator --json line: {line!r}")

        def text(name: str, *, required: bool = True) -> str | None:
            value = raw.get(name)
            if isinstance(value, str) and value:
                return value
            if value is None and not required:
                return None
            raise DevelopConfigError(f"simulator line lacks {name!r}: {line!r}")

        https_url = text("https_url", required=False)
        return cls(
            kind=str(text("kind")),
            serial=str(text("serial")),
            firmware=str(text("firmware")),
            model=text("model", required=False),
            # Hosts as a user would type them: no port when it is the usual one.
            url=str(text("url")).removesuffix(":80"),
            https_url=None if https_url is None else https_url.removesuffix(":443"),
            token=text("token", required=False),
        )

    def describe(self) -> str:
        """One line for the console."""
        return (
            f"simulated {self.kind} {self.serial} (firmware {self.firmware})"
            f" at {self.https_url or self.url}"
        )

    def title(self) -> str:
        """The entry title the config flow would give."""
        if self.kind == "envoy":
            return f"Envoy {self.serial}"
        return f"{self.model or 'PVS'} {self.serial}"

    def entry_data(self) -> dict[str, str]:
        """The entry data a user would end with for this gateway, via the config flow."""
        match self.kind:
            case "envoy" if self.token is not None:
                if self.https_url is None:
                    raise DevelopConfigError(f"Envoy {self.serial}: token but no HTTPS")
                return {
                    "host": self.https_url.removeprefix("https://"),
                    "brand": "enphase",
                    "auth_method": "token",
                    "token": self.token,
                }
            case "envoy":
                return {
                    "host": self.url.removeprefix("http://"),
                    "brand": "enphase",
                    "auth_method": "local",
                }
            case "pvs_varserver":
                if self.https_url is None:
                    raise DevelopConfigError(f"PVS {self.serial}: varserver, no HTTPS")
                # The client needs the scheme to reach HTTPS on a non-standard port.
                return {
                    "host": self.https_url,
                    "brand": "sunpower",
                    "password": self.serial[-5:],
                }
            case "pvs_legacy":
                return {"host": self.url.removeprefix("http://"), "brand": "sunpower"}
            case _:
                raise DevelopConfigError(f"unknown gateway kind {self.kind!r}")


def read_gateways(lines: Iterable[str]) -> list[SimulatedGateway]:
    """Parse the simulator's ``--json`` output (blank lines skipped)."""
    return [SimulatedGateway.from_json(line) for line in lines if line.strip()]


def is_loopback_host(host: object) -> bool:
    """Whether an entry's host (``1.2.3.4``, ``h:port``, ``https://h:port``) is local."""
    if not isinstance(host, str) or not host:
        return False
    name = urlsplit(host if "://" in host else f"//{host}").hostname
    if name is None:
        return False
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


# --- storage files -----------------------------------------------------------------


def _storage(key: str, version: int, minor: int, data: object) -> Json:
    return {"version": version, "minor_version": minor, "key": key, "data": data}


def read_json(path: Path) -> object:
    """Return a JSON file's content, None when absent; refuse what is not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as err:
        raise DevelopConfigError(f"{path}: not JSON ({err})") from err


def read_storage(path: Path, key: str, version: int) -> Json | None:
    """Return a storage file's content, None when absent; refuse other major versions."""
    if (content := read_json(path)) is None:
        return None
    if (
        not isinstance(content, dict)
        or content.get("key") != key
        or not isinstance(content.get("data"), dict)
    ):
        raise DevelopConfigError(f"{path}: not a Home Assistant {key!r} store")
    if content.get("version") != version:
        raise DevelopConfigError(
            f"{path}: version {content.get('version')}, this script writes {version}"
        )
    return content


def write_storage(path: Path, content: Json, *, private: bool = False) -> bool:
    """Write ``content`` as Home Assistant does; return whether the file changed."""
    try:
        # Same content, whatever the layout (Home Assistant's own differs): keep it.
        if json.loads(path.read_text(encoding="utf-8")) == content:
            return False
    except FileNotFoundError, ValueError:
        pass
    text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.develop-tmp")
    temporary.write_text(text, encoding="utf-8")
    if private:
        temporary.chmod(0o600)
    temporary.replace(path)
    return True


def update_onboarding(existing: Json | None) -> Json:
    """Mark every onboarding step done, keeping steps Home Assistant may add later."""
    content = existing or _storage(
        ONBOARDING_KEY, ONBOARDING_VERSION, ONBOARDING_MINOR, {"done": []}
    )
    done = content["data"].get("done")
    done = (
        [step for step in done if isinstance(step, str)]
        if isinstance(done, list)
        else []
    )
    content["data"]["done"] = done + [s for s in ONBOARDING_STEPS if s not in done]
    return content


def http_settings(now: datetime) -> Json:
    """The web server's settings: this machine only, on the usual port.

    Home Assistant keeps them in storage; YAML ones would be migrated as a trial it
    asks to confirm in the UI and reverts after five minutes otherwise.
    """
    stable = {
        "server_host": [HTTP_HOST],
        "server_port": HTTP_PORT,
        "cors_allowed_origins": ["https://cast.home-assistant.io"],
        "login_attempts_threshold": -1,
        "ip_ban_enabled": True,
        "ssl_profile": "modern",
        "use_x_frame_options": True,
        "created_at": now.isoformat(),
        "error": None,
        "error_message": None,
    }
    data = {"stable": stable, "pending": None, "yaml_migration_done": True}
    return _storage(HTTP_KEY, HTTP_VERSION, HTTP_MINOR, data)


def _list(data: Json, name: str) -> list[Json]:
    items = data.get(name)
    if items is None:
        items = data[name] = []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise DevelopConfigError(f"auth store: {name!r} is not a list of objects")
    return items


def update_auth(existing: Json | None, now: datetime) -> Json:
    """Ensure the development owner, its login and its long-lived API token."""
    content = existing or _storage(
        AUTH_KEY,
        AUTH_VERSION,
        AUTH_MINOR,
        {"users": [], "groups": [], "credentials": [], "refresh_tokens": []},
    )
    data = content["data"]
    groups = _list(data, "groups")
    known_groups = {group.get("id") for group in groups}
    groups.extend(
        {"id": group_id, "name": name}
        for group_id, name in SYSTEM_GROUPS.items()
        if group_id not in known_groups
    )
    users = _list(data, "users")
    if not any(user.get("id") == USER_ID for user in users):
        users.append(
            {
                "id": USER_ID,
                "group_ids": ["system-admin"],
                # A user who made their own owner stays the only one.
                "is_owner": not any(user.get("is_owner") for user in users),
                "is_active": True,
                "name": "Developer",
                "system_generated": False,
                "local_only": False,
            }
        )
    credentials = _list(data, "credentials")
    if not any(cred.get("id") == CREDENTIAL_ID for cred in credentials):
        credentials.append(
            {
                "id": CREDENTIAL_ID,
                "user_id": USER_ID,
                "auth_provider_type": "homeassistant",
                "auth_provider_id": None,
                "data": {"username": USERNAME},
            }
        )
    tokens = _list(data, "refresh_tokens")
    if not any(token.get("id") == TOKEN_ID for token in tokens):
        tokens.append(
            {
                "id": TOKEN_ID,
                "user_id": USER_ID,
                "client_id": None,
                "client_name": TOKEN_CLIENT_NAME,
                "client_icon": None,
                "token_type": "long_lived_access_token",
                "created_at": now.isoformat(),
                "access_token_expiration": ACCESS_TOKEN_DAYS * 86400.0,
                "token": secrets.token_hex(64),
                "jwt_key": secrets.token_hex(64),
                "last_used_at": None,
                "last_used_ip": None,
                "expire_at": None,
                "credential_id": None,
                "version": None,
            }
        )
    return content


def update_auth_provider(existing: Json | None) -> Json:
    """Ensure the ``dev`` login; a password changed since is kept."""
    content = existing or _storage(
        PROVIDER_KEY, PROVIDER_VERSION, PROVIDER_MINOR, {"users": []}
    )
    users = content["data"].setdefault("users", [])
    if not isinstance(users, list):
        raise DevelopConfigError("auth provider store: 'users' is not a list")
    if not any(isinstance(u, dict) and u.get("username") == USERNAME for u in users):
        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=BCRYPT_ROUNDS))
        users.append(
            {"username": USERNAME, "password": base64.b64encode(hashed).decode()}
        )
    return content


def access_token(auth: Json, existing: str | None, now: datetime) -> str:
    """Return an access token for the managed refresh token (kept while still good)."""
    refresh = next(t for t in auth["data"]["refresh_tokens"] if t.get("id") == TOKEN_ID)
    key = refresh["jwt_key"]
    if existing:
        try:
            # Expiry is judged at ``now`` below, not by the machine's clock.
            claims = jwt.decode(
                existing,
                key,
                algorithms=["HS256"],
                issuer=TOKEN_ID,
                options={"verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            pass
        else:
            if claims["exp"] > (now + RENEW_BEFORE).timestamp():
                return existing
    issued = int(now.timestamp())
    return jwt.encode(
        {"iss": TOKEN_ID, "iat": issued, "exp": issued + ACCESS_TOKEN_DAYS * 86400},
        key,
        algorithm="HS256",
    )


def _new_entry(gateway: SimulatedGateway, now: datetime) -> Json:
    stamp = now.isoformat()
    return {
        "created_at": stamp,
        "data": gateway.entry_data(),
        "discovery_keys": {},
        "disabled_by": None,
        "domain": DOMAIN,
        "entry_id": ulid_at_time(now.timestamp()),
        "minor_version": ENTRY_MINOR,
        "modified_at": stamp,
        "options": {},
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "subentries": [],
        "title": gateway.title(),
        "unique_id": gateway.serial,
        "version": ENTRY_VERSION,
    }


def update_core_config(existing: Json | None) -> Json:
    """Give the instance a country, currency and units where it has none."""
    if existing is None:
        return _storage(CORE_KEY, CORE_VERSION, CORE_MINOR, dict(CORE_CONFIG))
    data = existing["data"]
    for key in ("country", "currency", "unit_system_v2"):
        if data.get(key) is None:
            data[key] = CORE_CONFIG[key]
    return existing


def read_managed(path: Path) -> set[str] | None:
    """The entry ids this script created; None when it has no record yet."""
    if (content := read_json(path)) is None:
        return None
    entries = content.get("entries") if isinstance(content, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise DevelopConfigError(f"{path}: 'entries' is not a list of entry ids")
    return set(entries)


def update_entries(
    existing: Json | None,
    gateways: Sequence[SimulatedGateway],
    now: datetime,
    managed: set[str] | None,
) -> tuple[Json, list[str], set[str]]:
    """Rewrite the entries this script made; return content, report, managed ids.

    An entry it made for a simulated serial keeps its id, title, options and
    preferences (so devices and entities keep theirs); only its data is rewritten.
    One it made for a gateway no longer simulated is removed. Every other entry is
    the user's and stays as it is, even on a loopback address; a simulated gateway
    the user added themselves is not added a second time. Without a record (a
    configuration from before records were kept), entries for the simulated serials
    on loopback addresses are taken as the script's, as it made them.
    """
    content = existing or _storage(
        ENTRIES_KEY, ENTRIES_VERSION, ENTRIES_MINOR, {"entries": []}
    )
    entries = content["data"].get("entries")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise DevelopConfigError("config entries store: 'entries' is not a list")
    wanted = {gateway.serial: gateway for gateway in gateways}
    if managed is None:
        managed = {
            str(entry.get("entry_id"))
            for entry in entries
            if entry.get("domain") == DOMAIN
            and str(entry.get("unique_id")) in wanted
            and is_loopback_host(_host(entry))
        }
    result: list[Json] = []
    done: list[str] = []
    kept: set[str] = set()
    for entry in entries:
        entry_id = str(entry.get("entry_id"))
        if entry.get("domain") != DOMAIN:
            result.append(entry)
        elif entry_id not in managed:
            if wanted.pop(str(entry.get("unique_id")), None) is not None:
                done.append(
                    f"left {entry.get('title')} ({_host(entry)}) alone: you added "
                    "it, so its address and credentials are yours to keep current"
                )
            result.append(entry)
        elif (gateway := wanted.pop(str(entry.get("unique_id")), None)) is not None:
            if entry.get("data") != (new_data := gateway.entry_data()):
                entry["data"] = new_data
                entry["modified_at"] = now.isoformat()
                done.append(f"updated {entry.get('title')} ({new_data['host']})")
            result.append(entry)
            kept.add(entry_id)
        else:
            done.append(
                f"removed {entry.get('title')} ({_host(entry)}): simulator not running"
            )
    for gateway in wanted.values():
        entry = _new_entry(gateway, now)
        result.append(entry)
        kept.add(entry["entry_id"])
        done.append(f"added {entry['title']} ({entry['data']['host']})")
    content["data"]["entries"] = result
    return content, done, kept


def _host(entry: Json) -> object:
    data = entry.get("data")
    return data.get("host") if isinstance(data, dict) else None


# --- the whole folder --------------------------------------------------------------


def link_blueprints(config: Path) -> list[str]:
    """Link the project's blueprints into ``config``; say so when it was done."""
    link = config / BLUEPRINT_FOLDER
    target = BLUEPRINTS / DOMAIN
    if link.is_symlink() or link.exists():
        return []  # a link from an earlier run, or the user's own folder
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(os.path.relpath(target, link.parent), target_is_directory=True)
    return [f"blueprints linked at {link}"]


def prepare(
    config: Path,
    gateways: Sequence[SimulatedGateway],
    *,
    now: datetime | None = None,
) -> list[str]:
    """Prepare ``config`` (see the module docstring); return lines saying what changed."""
    now = now or datetime.now(UTC)
    storage = config / ".storage"
    report: list[str] = []
    config.mkdir(parents=True, exist_ok=True)
    yaml = config / "configuration.yaml"
    if not yaml.exists():
        yaml.write_text(CONFIGURATION_YAML, encoding="utf-8")
        report.append(f"wrote {yaml}")
    else:
        existing = yaml.read_text(encoding="utf-8")
        if "trusted_networks" not in existing:
            report.append(
                f"{yaml} predates the automatic login: log in as dev / dev, or add "
                "the auth_providers of scripts/develop_config.py to it"
            )
        if "automation:" not in existing:
            report.append(
                f"{yaml} predates automations: automations, scripts and scenes made "
                "in the UI load once you add the three !include lines of "
                "scripts/develop_config.py to it"
            )
    for name, empty in UI_FILES.items():
        if not (config / name).exists():  # then the UI's: never rewritten
            (config / name).write_text(empty, encoding="utf-8")
    report.extend(link_blueprints(config))

    http = storage / HTTP_KEY
    if not http.exists():  # once set, the web server's settings are the user's
        write_storage(http, http_settings(now))
        report.append(f"web server on {HTTP_HOST}:{HTTP_PORT}")

    core = storage / CORE_KEY
    if write_storage(
        core, update_core_config(read_storage(core, CORE_KEY, CORE_VERSION))
    ):
        report.append("country, currency and units set")

    onboarding = storage / ONBOARDING_KEY
    new = update_onboarding(
        read_storage(onboarding, ONBOARDING_KEY, ONBOARDING_VERSION)
    )
    if write_storage(onboarding, new):
        report.append("onboarding marked done")

    auth_path = storage / AUTH_KEY
    auth = update_auth(read_storage(auth_path, AUTH_KEY, AUTH_VERSION), now)
    if write_storage(auth_path, auth, private=True):
        report.append(f"development user {USERNAME!r} ready")
    provider_path = storage / PROVIDER_KEY
    provider = update_auth_provider(
        read_storage(provider_path, PROVIDER_KEY, PROVIDER_VERSION)
    )
    write_storage(provider_path, provider, private=True)
    token_path = config / ACCESS_TOKEN_FILE
    old_token = (
        token_path.read_text(encoding="utf-8").strip() if token_path.exists() else None
    )
    token = access_token(auth, old_token, now)
    if token != old_token:
        token_path.write_text(token + "\n", encoding="utf-8")
        token_path.chmod(0o600)
        report.append(f"API token written to {token_path}")

    entries_path = storage / ENTRIES_KEY
    managed_path = config / MANAGED_ENTRIES_FILE
    entries, done, managed = update_entries(
        read_storage(entries_path, ENTRIES_KEY, ENTRIES_VERSION),
        gateways,
        now,
        read_managed(managed_path),
    )
    write_storage(entries_path, entries)
    record = {
        "comment": "Config entries scripts/develop created and may rewrite or remove.",
        "entries": sorted(managed),
    }
    if (
        not managed_path.exists()
        or json.loads(managed_path.read_text("utf-8")) != record
    ):
        managed_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    report.extend(done)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("config", type=Path)
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--simulator-json", type=Path, help="the simulator's --json output"
    )
    source.add_argument("--gateway", help="a real gateway's host: no simulated entries")
    args = parser.parse_args(argv)
    try:
        gateways = (
            read_gateways(args.simulator_json.read_text(encoding="utf-8").splitlines())
            if args.simulator_json
            else []
        )
        report = prepare(args.config, gateways)
    except (DevelopConfigError, OSError) as err:
        print(f"develop: {err}", file=sys.stderr)
        return 2
    for line in [gateway.describe() for gateway in gateways] + report:
        print(f"develop: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
