"""Checks standing in for hassfest and the HACS action, which do not run here.

Every validator takes paths and returns a list of problems (empty when all is well), so
that the tests can run it on the real files and on deliberately broken copies.
"""

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
import json
from pathlib import Path
import re
from typing import Any, get_args, get_type_hints
from urllib.parse import urlparse

from awesomeversion import AwesomeVersion, AwesomeVersionException
import homeassistant
from homeassistant.components.brands.const import ALLOWED_IMAGES
from homeassistant.const import Platform
from homeassistant.loader import Manifest
from PIL import Image
import yaml

# --- manifest.json -------------------------------------------------------------------

# Keys Home Assistant's manifest schema knows (developers.home-assistant.io, "Integration
# manifest"; hassfest's manifest.py), with the JSON type each must have.
MANIFEST_KEYS: Mapping[str, type | tuple[type, ...]] = {
    "domain": str,
    "name": str,
    "after_dependencies": list,
    "bluetooth": list,
    "codeowners": list,
    "config_flow": bool,
    "dependencies": list,
    "dhcp": list,
    "disabled": str,
    "documentation": str,
    "homekit": dict,
    "import_executor": bool,
    "integration_type": str,
    "iot_class": str,
    "issue_tracker": str,
    "loggers": list,
    "mqtt": list,
    "quality_scale": str,
    "requirements": list,
    "single_config_entry": bool,
    "ssdp": list,
    "usb": list,
    "version": str,
    "zeroconf": list,
}
MANIFEST_REQUIRED = (
    "domain",
    "name",
    "codeowners",
    "config_flow",
    "documentation",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "loggers",
    "requirements",
    "version",
)
IOT_CLASSES = frozenset(
    {
        "assumed_state",
        "calculated",
        "cloud_polling",
        "cloud_push",
        "local_polling",
        "local_push",
    }
)
# The values Home Assistant's Manifest type allows for integration_type.
INTEGRATION_TYPES = frozenset(get_args(get_type_hints(Manifest)["integration_type"]))
ZEROCONF_TYPE = re.compile(r"^_[a-z0-9-]+\._(tcp|udp)\.local\.$")
DOMAIN_PATTERN = re.compile(r"^[a-z0-9_]+$")
REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(?P<version>\S+)$"
)


def _load_json(path: Path, problems: list[str]) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        problems.append(f"{path.name}: cannot be read as JSON ({err})")
        return None


def _https(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parsed = urlparse(value)
    return parsed.scheme == "https" and bool(parsed.netloc)


def home_assistant_pins() -> dict[str, str]:
    """Return the packages Home Assistant pins (package_constraints.txt), lower-cased."""
    path = Path(homeassistant.__file__).with_name("package_constraints.txt")
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if (match := REQUIREMENT.match(line.strip())) is not None:
            pins[_normalise(match["name"])] = match["version"]
    return pins


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def validate_manifest(integration_dir: Path) -> list[str]:
    """Check manifest.json as hassfest would for a custom integration."""
    problems: list[str] = []
    manifest = _load_json(integration_dir / "manifest.json", problems)
    if manifest is None:
        return problems
    if not isinstance(manifest, dict):
        return ["manifest.json: not a JSON object"]
    keys = list(manifest)
    if keys[:2] != ["domain", "name"]:
        problems.append("manifest.json: the first keys must be 'domain' then 'name'")
    if keys[2:] != sorted(keys[2:]):
        problems.append(
            f"manifest.json: keys after domain and name must be sorted: {keys[2:]}"
        )
    problems.extend(
        f"manifest.json: '{key}' is missing"
        for key in MANIFEST_REQUIRED
        if key not in manifest
    )
    for key, value in manifest.items():
        expected = MANIFEST_KEYS.get(key)
        if expected is None:
            problems.append(f"manifest.json: unknown key '{key}'")
        elif not isinstance(value, expected):
            problems.append(f"manifest.json: '{key}' has the wrong type")
    domain = manifest.get("domain")
    if domain != integration_dir.name:
        problems.append(
            f"manifest.json: domain {domain!r} differs from folder {integration_dir.name!r}"
        )
    if isinstance(domain, str) and not DOMAIN_PATTERN.match(domain):
        problems.append(f"manifest.json: domain {domain!r} is not lower_snake_case")
    problems.extend(
        f"manifest.json: '{key}' must be an https URL"
        for key in ("documentation", "issue_tracker")
        if key in manifest and not _https(manifest[key])
    )
    version = manifest.get("version")
    try:
        if not isinstance(version, str) or not AwesomeVersion(version).valid:
            problems.append(
                f"manifest.json: version {version!r} is not a valid version"
            )
    except AwesomeVersionException:
        problems.append(f"manifest.json: version {version!r} is not a valid version")
    if manifest.get("iot_class") not in IOT_CLASSES:
        problems.append(
            f"manifest.json: iot_class {manifest.get('iot_class')!r} unknown"
        )
    if manifest.get("integration_type") not in INTEGRATION_TYPES:
        problems.append(
            f"manifest.json: integration_type {manifest.get('integration_type')!r} unknown"
        )
    codeowners = manifest.get("codeowners", [])
    if isinstance(codeowners, list) and (
        not codeowners
        or not all(isinstance(o, str) and o.startswith("@") for o in codeowners)
    ):
        problems.append("manifest.json: codeowners must be a non-empty list of @names")
    loggers = manifest.get("loggers", [])
    if isinstance(loggers, list) and not all(isinstance(x, str) and x for x in loggers):
        problems.append("manifest.json: loggers must be logger names")
    problems.extend(_check_requirements(manifest.get("requirements", [])))
    problems.extend(_check_zeroconf(manifest.get("zeroconf", [])))
    if (
        manifest.get("config_flow") is True
        and not (integration_dir / "translations" / "en.json").is_file()
    ):
        problems.append("manifest.json: config_flow needs translations/en.json")
    return problems


def _check_requirements(requirements: object) -> list[str]:
    """Only packages Home Assistant already ships, at the version it pins."""
    if not isinstance(requirements, list):
        return []
    problems: list[str] = []
    pins = home_assistant_pins()
    for requirement in requirements:
        match = REQUIREMENT.match(requirement) if isinstance(requirement, str) else None
        if match is None:
            problems.append(
                f"manifest.json: requirement {requirement!r} is not name==version"
            )
            continue
        pinned = pins.get(_normalise(match["name"]))
        if pinned is None:
            problems.append(
                f"manifest.json: requirement {requirement!r} is not shipped by Home Assistant"
            )
        elif pinned != match["version"]:
            problems.append(
                f"manifest.json: requirement {requirement!r} differs from Home Assistant's {pinned}"
            )
    return problems


def _check_zeroconf(matchers: object) -> list[str]:
    if not isinstance(matchers, list):
        return []
    problems: list[str] = []
    for matcher in matchers:
        if isinstance(matcher, str):
            service_type = matcher
        elif isinstance(matcher, dict) and set(matcher) <= {
            "type",
            "name",
            "properties",
        }:
            service_type = matcher.get("type")
        else:
            problems.append(f"manifest.json: zeroconf matcher {matcher!r} is malformed")
            continue
        if not isinstance(service_type, str) or not ZEROCONF_TYPE.match(service_type):
            problems.append(
                f"manifest.json: zeroconf type {service_type!r} is malformed"
            )
    return problems


# --- hacs.json -----------------------------------------------------------------------

# The keys HACS documents for hacs.json (hacs.xyz/docs/publish/start).
HACS_KEYS: Mapping[str, type | tuple[type, ...]] = {
    "name": str,
    "content_in_root": bool,
    "zip_release": bool,
    "filename": str,
    "hide_default_branch": bool,
    "country": (str, list),
    "homeassistant": str,
    "hacs": str,
    "persistent_directory": str,
    "render_readme": bool,
}


def validate_hacs(path: Path, minimum_home_assistant: str | None = None) -> list[str]:
    """Check hacs.json: documented keys only, a name, a valid minimum version.

    With ``minimum_home_assistant`` the declared minimum must be at least that version
    (the oldest Home Assistant the project supports).
    """
    problems: list[str] = []
    data = _load_json(path, problems)
    if data is None:
        return problems
    if not isinstance(data, dict):
        return ["hacs.json: not a JSON object"]
    for key, value in data.items():
        expected = HACS_KEYS.get(key)
        if expected is None:
            problems.append(f"hacs.json: '{key}' is not a documented key")
        elif not isinstance(value, expected):
            problems.append(f"hacs.json: '{key}' has the wrong type")
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        problems.append("hacs.json: 'name' is required")
    version = data.get("homeassistant")
    if version is not None:
        parsed = AwesomeVersion(version) if isinstance(version, str) else None
        if (
            parsed is None
            or not parsed.valid
            or not re.match(r"^\d{4}\.\d+\.\d+$", version)
        ):
            problems.append(f"hacs.json: homeassistant {version!r} is not YYYY.M.P")
        elif minimum_home_assistant and parsed < AwesomeVersion(minimum_home_assistant):
            problems.append(
                f"hacs.json: homeassistant {version} is below {minimum_home_assistant}"
            )
    return problems


# --- translations --------------------------------------------------------------------

# Exceptions whose translation_key names an entry under "exceptions".
EXCEPTION_CLASSES = frozenset(
    {
        "HomeAssistantError",
        "ServiceValidationError",
        "ServiceNotFound",
        "ConfigEntryError",
        "ConfigEntryNotReady",
        "ConfigEntryAuthFailed",
        "UpdateFailed",
        "IntegrationError",
    }
)
ISSUE_FUNCTIONS = frozenset({"async_create_issue", "create_issue"})
# Platform names as they appear in class names: BinarySensor -> binary_sensor.
PLATFORM_BY_CAMEL = {
    "".join(part.title() for part in platform.value.split("_")): platform.value
    for platform in Platform
}
PLATFORM_NAMES = frozenset(platform.value for platform in Platform)


@dataclass(frozen=True, slots=True)
class KeyUse:
    """A translation entry the code needs, and where it is needed."""

    path: tuple[str, ...]
    where: str


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    for keyword in node.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _base_names(node: ast.ClassDef) -> list[str]:
    names = []
    for written in node.bases:
        base = written.value if isinstance(written, ast.Subscript) else written
        if isinstance(base, ast.Attribute):
            names.append(base.attr)
        elif isinstance(base, ast.Name):
            names.append(base.id)
    return names


def _flow_section(classes: list[ast.ClassDef]) -> str | None:
    for node in reversed(classes):
        bases = " ".join(_base_names(node))
        if "OptionsFlow" in bases:
            return "options"
        if "ConfigSubentryFlow" in bases:
            return None
        if "ConfigFlow" in bases:
            return "config"
    return None


def _platform_of(call_name: str, module: str) -> str | None:
    if call_name.endswith("EntityDescription"):
        stem = call_name.removesuffix("EntityDescription")
        for camel in sorted(PLATFORM_BY_CAMEL, key=len, reverse=True):
            if stem.endswith(camel):
                return PLATFORM_BY_CAMEL[camel]
    return module if module in PLATFORM_NAMES else None


type Function = ast.FunctionDef | ast.AsyncFunctionDef


class _Module:
    """What the resolver needs to know about one module: constants, functions, calls."""

    def __init__(self, tree: ast.Module, constants: Mapping[str, str]) -> None:
        self.constants = dict(constants)
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and (value := _literal(node.value)) is not None
            ):
                self.constants[node.targets[0].id] = value
        self.functions: dict[str, list[Function]] = {}
        self.calls: dict[str, list[ast.Call]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions.setdefault(node.name, []).append(node)
            elif isinstance(node, ast.Call) and (name := _call_name(node)):
                self.calls.setdefault(name, []).append(node)
        self.parent: dict[ast.AST, ast.AST] = {
            child: node
            for node in ast.walk(tree)
            for child in ast.iter_child_nodes(node)
        }

    def enclosing(self, node: ast.AST) -> Function | None:
        while (node := self.parent.get(node)) is not None:  # type: ignore[assignment]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None

    def resolve(
        self, expr: ast.expr | None, seen: frozenset[int] = frozenset()
    ) -> set[str] | None:
        """Return every string ``expr`` can be, or None when that cannot be told statically.

        Follows literals, module constants (and those of const.py), local variables,
        parameters (through the function's call sites in this module) and calls to
        functions of this module (through their return values).
        """
        if expr is None or id(expr) in seen:
            return None
        seen = seen | {id(expr)}
        if isinstance(expr, ast.Constant):
            if expr.value is None:
                return set()
            return {expr.value} if isinstance(expr.value, str) else None
        if isinstance(expr, ast.Await):
            return self.resolve(expr.value, seen)
        if isinstance(expr, ast.NamedExpr):
            return self.resolve(expr.value, seen)
        if isinstance(expr, ast.IfExp):
            return _union(
                self.resolve(expr.body, seen), self.resolve(expr.orelse, seen)
            )
        if isinstance(expr, ast.Name):
            return self._resolve_name(expr, seen)
        if isinstance(expr, ast.Call):
            name = _call_name(expr)
            definitions = self.functions.get(name)
            if not definitions:
                return None
            result: set[str] | None = set()
            for function in definitions:
                for node in ast.walk(function):
                    if (
                        isinstance(node, ast.Return)
                        and self.enclosing(node) is function
                    ):
                        result = _union(result, self.resolve(node.value, seen))
            return result
        return None

    def _resolve_name(self, expr: ast.Name, seen: frozenset[int]) -> set[str] | None:
        function = self.enclosing(expr)
        if function is not None:
            values: list[ast.expr] = []
            for node in ast.walk(function):
                if isinstance(node, ast.Assign):
                    values.extend(
                        node.value
                        for target in node.targets
                        if isinstance(target, ast.Name) and target.id == expr.id
                    )
                elif (
                    isinstance(node, ast.AnnAssign | ast.NamedExpr)
                    and isinstance(node.target, ast.Name)
                    and node.target.id == expr.id
                    and node.value is not None
                ):
                    values.append(node.value)
            if values:
                result: set[str] | None = set()
                for value in values:
                    result = _union(result, self.resolve(value, seen))
                return result
            parameters = [
                a.arg for a in (*function.args.posonlyargs, *function.args.args)
            ]
            keyword_only = [a.arg for a in function.args.kwonlyargs]
            if expr.id in parameters or expr.id in keyword_only:
                return self._resolve_parameter(function, expr.id, parameters, seen)
        if expr.id in self.constants:
            return {self.constants[expr.id]}
        return None

    def _resolve_parameter(
        self, function: Function, name: str, parameters: list[str], seen: frozenset[int]
    ) -> set[str] | None:
        calls = self.calls.get(function.name)
        if not calls:
            return None
        positional = [p for p in parameters if p not in {"self", "cls"}]
        result: set[str] | None = set()
        for call in calls:
            argument = _keyword(call, name)
            if argument is None and name in positional:
                index = positional.index(name)
                if index < len(call.args) and not any(
                    isinstance(a, ast.Starred) for a in call.args[: index + 1]
                ):
                    argument = call.args[index]
            if argument is None:
                return None
            result = _union(result, self.resolve(argument, seen))
        return result


def _union(left: set[str] | None, right: set[str] | None) -> set[str] | None:
    if left is None or right is None:
        return None
    return left | right


class _Collector(ast.NodeVisitor):
    """Walks one module and records the translation entries it needs.

    Keys the resolver cannot work out statically (an f-string, an enum's value) are
    recorded as *dynamic* under their section (e.g. ``entity.sensor``): the unused-key
    check then leaves that section alone instead of guessing.
    """

    def __init__(self, path: Path, module: _Module) -> None:
        self.path = path
        self.module_name = path.stem
        self.module = module
        self.uses: list[KeyUse] = []
        self.dynamic: list[KeyUse] = []
        self.problems: list[str] = []
        self.classes: list[ast.ClassDef] = []
        self.functions: list[str] = []

    def _where(self, node: ast.AST) -> str:
        return f"{self.path.name}:{getattr(node, 'lineno', 0)}"

    def _use(self, node: ast.AST, *path: str) -> None:
        self.uses.append(KeyUse(tuple(path), self._where(node)))

    def _use_keys(
        self,
        node: ast.AST,
        expr: ast.expr | None,
        prefix: tuple[str, ...],
        suffix: tuple[str, ...] = (),
    ) -> None:
        keys = self.module.resolve(expr)
        if keys is None:
            self.dynamic.append(KeyUse(prefix, self._where(node)))
            return
        for key in sorted(keys):
            self._use(node, *prefix, key, *suffix)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.append(node)
        self.generic_visit(node)
        self.classes.pop()

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    def _current_step(self) -> str | None:
        for name in reversed(self.functions):
            if name.startswith("async_step_"):
                return name.removeprefix("async_step_")
        return None

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._assignment(target, node.value, node)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._assignment(node.target, node.value, node)
        self.generic_visit(node)

    def _assignment(self, target: ast.expr, value: ast.expr, node: ast.AST) -> None:
        # Entity classes: _attr_translation_key = ...
        name = (
            target.id
            if isinstance(target, ast.Name)
            else target.attr
            if isinstance(target, ast.Attribute)
            else None
        )
        if name == "_attr_translation_key":
            if self.module_name not in PLATFORM_NAMES:
                self.problems.append(
                    f"{self._where(node)}: cannot tell the platform of a translation_key"
                )
            else:
                self._use_keys(node, value, ("entity", self.module_name))
            return
        section = _flow_section(self.classes)
        if section is None:
            return
        # Flow errors: errors["base"] = ... / errors = {"base": ...}
        if (
            isinstance(target, ast.Subscript)
            and isinstance(target.value, ast.Name)
            and target.value.id == "errors"
        ):
            self._use_keys(node, value, (section, "error"))
        elif isinstance(target, ast.Name) and target.id == "errors":
            self._error_dict(section, value, node)

    def _error_dict(self, section: str, value: ast.expr, node: ast.AST) -> None:
        if isinstance(value, ast.Dict):
            for item in value.values:
                self._use_keys(node, item, (section, "error"))

    def visit_Call(self, node: ast.Call) -> None:
        name = _call_name(node)
        section = _flow_section(self.classes)
        if section is not None:
            self._flow_call(section, name, node)
        translation_key = _keyword(node, "translation_key")
        if translation_key is not None:
            if name in EXCEPTION_CLASSES or name.endswith(("Error", "Exception")):
                self._use_keys(node, translation_key, ("exceptions",), ("message",))
            elif name in ISSUE_FUNCTIONS:
                self._use_keys(node, translation_key, ("issues",))
            elif name.endswith("SelectorConfig"):
                self._use_keys(node, translation_key, ("selector",))
            elif (platform := _platform_of(name, self.module_name)) is not None:
                self._use_keys(node, translation_key, ("entity", platform))
            else:
                self.problems.append(
                    f"{self._where(node)}: cannot tell what the translation_key of "
                    f"{name}() names"
                )
        self.generic_visit(node)

    def _flow_call(self, section: str, name: str, node: ast.Call) -> None:
        if name in {"async_show_form", "async_show_menu", "async_show_progress"}:
            step = _keyword(node, "step_id")
            step_id = _literal(step) if step is not None else self._current_step()
            if step_id is None:
                self.dynamic.append(KeyUse((section, "step"), self._where(node)))
                return
            self._use(node, section, "step", step_id)
            errors = _keyword(node, "errors")
            if errors is not None:
                self._error_dict(section, errors, node)
            if name == "async_show_menu":
                options = _keyword(node, "menu_options")
                if isinstance(options, ast.List | ast.Tuple):
                    for option in options.elts:
                        self._use_keys(
                            node, option, (section, "step", step_id, "menu_options")
                        )
        elif name == "async_abort":
            self._use_keys(node, _keyword(node, "reason"), (section, "abort"))
        elif name == "_abort_if_unique_id_configured":
            self._use(node, section, "abort", "already_configured")
        elif name == "_abort_if_unique_id_mismatch":
            reason = _keyword(node, "reason")
            if reason is None:
                self._use(node, section, "abort", "unique_id_mismatch")
            else:
                self._use_keys(node, reason, (section, "abort"))
        elif name in {"async_update_reload_and_abort", "async_update_and_abort"}:
            reason = _keyword(node, "reason")
            if reason is not None:
                self._use_keys(node, reason, (section, "abort"))
                return
            # Home Assistant picks the reason from the flow's source.
            step = self._current_step() or ""
            self._abort_by_source(node, section, step)

    def _abort_by_source(self, node: ast.AST, section: str, step: str) -> None:
        if step.startswith("reauth"):
            self._use(node, section, "abort", "reauth_successful")
        elif step.startswith("reconfigure"):
            self._use(node, section, "abort", "reconfigure_successful")
        else:
            # Reached from a shared helper: either source may apply.
            self._use(node, section, "abort", "reauth_successful")
            self._use(node, section, "abort", "reconfigure_successful")


@dataclass(frozen=True, slots=True)
class TranslationScan:
    """What the code needs from en.json."""

    uses: list[KeyUse]
    dynamic: list[KeyUse]  # sections with keys only known at run time
    problems: list[str]


def _constants(integration_dir: Path) -> dict[str, str]:
    const = integration_dir / "const.py"
    if not const.is_file():
        return {}
    return _Module(ast.parse(const.read_text(encoding="utf-8")), {}).constants


def scan_translations(integration_dir: Path) -> TranslationScan:
    """Scan the integration's modules for the translation entries they need."""
    scan = TranslationScan([], [], [])
    constants = _constants(integration_dir)
    for path in sorted(integration_dir.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        collector = _Collector(path, _Module(tree, constants))
        collector.visit(tree)
        scan.uses.extend(collector.uses)
        scan.dynamic.extend(collector.dynamic)
        scan.problems.extend(collector.problems)
    services = integration_dir / "services.yaml"
    if services.is_file():
        declared = yaml.safe_load(services.read_text(encoding="utf-8")) or {}
        scan.uses.extend(
            KeyUse(("services", str(service)), services.name) for service in declared
        )
    return scan


def _leaves(data: object, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*prefix, str(key)))
    else:
        yield prefix


def _lookup(data: object, path: Iterable[str]) -> object:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def validate_translations(integration_dir: Path) -> list[str]:
    """Every translation key the code uses is in en.json, and en.json has no others."""
    problems: list[str] = []
    strings = _load_json(integration_dir / "translations" / "en.json", problems)
    if strings is None:
        return problems
    if not isinstance(strings, dict):
        return ["en.json: not a JSON object"]
    scan = scan_translations(integration_dir)
    problems.extend(scan.problems)
    for use in scan.uses:
        value = _lookup(strings, use.path)
        if value is None or value == {}:
            problems.append(
                f"en.json: missing {'.'.join(use.path)} (used at {use.where})"
            )
    used = {use.path for use in scan.uses} | {use.path for use in scan.dynamic}
    # The flow title shows a placeholder when a flow sets title_placeholders.
    allowed_extra = {("title",)}
    if any(
        "title_placeholders" in path.read_text(encoding="utf-8")
        for path in integration_dir.glob("*.py")
    ):
        allowed_extra.add(("config", "flow_title"))
    for leaf in _leaves(strings):
        if not isinstance(_lookup(strings, leaf), str):
            problems.append(f"en.json: {'.'.join(leaf)} is not a string")
            continue
        covered = leaf in allowed_extra or any(
            leaf[: len(path)] == path for path in used
        )
        if not covered:
            problems.append(f"en.json: {'.'.join(leaf)} is not used by the code")
    return problems


def validate_icons(integration_dir: Path) -> list[str]:
    """icons.json only names entities and services that have translations."""
    problems: list[str] = []
    icons = _load_json(integration_dir / "icons.json", problems)
    strings = _load_json(integration_dir / "translations" / "en.json", problems)
    if problems:
        return problems
    if not isinstance(icons, dict):
        return ["icons.json: not a JSON object"]
    problems.extend(
        f"icons.json: unknown section '{section}'"
        for section in icons
        if section not in {"entity", "services"}
    )
    for platform, entities in (icons.get("entity") or {}).items():
        for key, icon in (entities or {}).items():
            if _lookup(strings, ("entity", platform, key)) is None:
                problems.append(
                    f"icons.json: entity.{platform}.{key} has no translation"
                )
            if not isinstance(icon, dict) or not (
                set(icon) <= {"default", "state", "range"} and "default" in icon
            ):
                problems.append(
                    f"icons.json: entity.{platform}.{key} needs a 'default' icon"
                )
    problems.extend(
        f"icons.json: service {service} has no translation"
        for service in icons.get("services") or {}
        if _lookup(strings, ("services", service)) is None
    )
    for leaf in _leaves(icons):
        value = _lookup(icons, leaf)
        if isinstance(value, str) and not value.startswith("mdi:"):
            problems.append(f"icons.json: {'.'.join(leaf)} is not an mdi: icon")
    return problems


# --- quality_scale.yaml --------------------------------------------------------------

# The rule ids of Home Assistant's Integration Quality Scale by tier. Source: Home
# Assistant core's script/hassfest/quality_scale.py, which the homeassistant package
# does not ship; the tests cross-check this list against the quality_scale.yaml files
# the installed package does ship, so a rule added or renamed upstream is noticed.
QUALITY_SCALE_RULES: Mapping[str, tuple[str, ...]] = {
    "bronze": (
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ),
    "silver": (
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ),
    "gold": (
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ),
    "platinum": ("async-dependency", "inject-websession", "strict-typing"),
}
ALL_RULES = frozenset(rule for rules in QUALITY_SCALE_RULES.values() for rule in rules)
STATUSES = frozenset({"todo", "done", "exempt"})


def validate_quality_scale(path: Path) -> list[str]:
    """Every rule listed once with a known status; every exemption explained."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        return [f"quality_scale.yaml: cannot be read ({err})"]
    rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, dict):
        return ["quality_scale.yaml: no 'rules' mapping"]
    problems: list[str] = []
    for rule, value in rules.items():
        if rule not in ALL_RULES:
            problems.append(f"quality_scale.yaml: '{rule}' is not a quality scale rule")
            continue
        if isinstance(value, str):
            status, comment = value, None
        elif isinstance(value, dict) and set(value) <= {"status", "comment"}:
            status, comment = value.get("status"), value.get("comment")
        else:
            problems.append(f"quality_scale.yaml: '{rule}' is malformed")
            continue
        if status not in STATUSES:
            problems.append(
                f"quality_scale.yaml: '{rule}' has unknown status {status!r}"
            )
        if status == "exempt" and not (isinstance(comment, str) and comment.strip()):
            problems.append(f"quality_scale.yaml: exempt rule '{rule}' needs a comment")
    problems.extend(
        f"quality_scale.yaml: rule '{rule}' is not listed"
        for rule in sorted(ALL_RULES - set(rules))
    )
    return problems


# --- brand images --------------------------------------------------------------------

# Sizes from Home Assistant's brands repository: icons square at 256 (512 for @2x);
# logos with their shortest side between 128 and 256 (256 and 512 for @2x).
ICON_SIZES = {
    "icon.png": 256,
    "icon@2x.png": 512,
    "dark_icon.png": 256,
    "dark_icon@2x.png": 512,
}
LOGO_SHORT_SIDE = {
    "logo.png": (128, 256),
    "logo@2x.png": (256, 512),
    "dark_logo.png": (128, 256),
    "dark_logo@2x.png": (256, 512),
}


def validate_brand(brand_dir: Path) -> list[str]:
    """Brand images: allowed names, right sizes, PNG with a transparent background."""
    problems = [
        f"brand: {required} is missing"
        for required in ("icon.png", "icon@2x.png", "logo.png")
        if not (brand_dir / required).is_file()
    ]
    for path in sorted(brand_dir.iterdir()) if brand_dir.is_dir() else []:
        if path.name not in ALLOWED_IMAGES:
            problems.append(
                f"brand: {path.name} is not a brand image Home Assistant serves"
            )
            continue
        try:
            with Image.open(path) as image:
                image.load()
                fmt, mode, size = image.format, image.mode, image.size
                corners = [
                    image.convert("RGBA").getpixel(xy)
                    for xy in (
                        (0, 0),
                        (size[0] - 1, 0),
                        (0, size[1] - 1),
                        (size[0] - 1, size[1] - 1),
                    )
                ]
        except OSError as err:
            problems.append(f"brand: {path.name} cannot be read ({err})")
            continue
        if fmt != "PNG":
            problems.append(f"brand: {path.name} is {fmt}, not PNG")
        if mode not in {"RGBA", "LA", "P"} or any(
            not isinstance(c, tuple) or c[3] != 0 for c in corners
        ):
            problems.append(f"brand: {path.name} has no transparent background")
        if (side := ICON_SIZES.get(path.name)) is not None and size != (side, side):
            problems.append(
                f"brand: {path.name} is {size[0]}x{size[1]}, needs {side}x{side}"
            )
        if (bounds := LOGO_SHORT_SIDE.get(path.name)) is not None and not (
            bounds[0] <= min(size) <= bounds[1]
        ):
            problems.append(
                f"brand: {path.name} shortest side {min(size)} is outside {bounds[0]}..{bounds[1]}"
            )
    return problems


# --- documentation and licence -------------------------------------------------------

# The quality scale's documentation rules and the README heading that satisfies each
# (developers.home-assistant.io, "Integration quality scale", rules docs-*). Rules
# for features the integration lacks (conditions, triggers) stay exempt.
DOCS_SECTIONS: Mapping[str, str] = {
    "docs-high-level-description": "What it does",
    "docs-supported-devices": "Supported hardware",
    "docs-installation-instructions": "Installation",
    "docs-installation-parameters": "Set-up parameters",
    "docs-configuration-parameters": "Options",
    "docs-data-update": "Data updates",
    "docs-supported-functions": "Entities",
    "docs-actions": "Actions and controls",
    "docs-examples": "Automation examples",
    "docs-use-cases": "Use cases",
    "docs-known-limitations": "Known limitations",
    "docs-troubleshooting": "Troubleshooting",
    "docs-removal-instructions": "Removal",
}
# Sections the project's own users need beyond the rules.
OTHER_SECTIONS = ("Prerequisites", "Replaying a diagnostics capture")
APACHE_MARKERS = (
    "Apache License",
    "Version 2.0, January 2004",
    "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
    "END OF TERMS AND CONDITIONS",
)


def heading_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    anchor = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return anchor.replace(" ", "-")


def readme_headings(text: str) -> set[str]:
    """The headings (any level) of a Markdown text, outside code blocks."""
    without_code = re.sub(r"```.*?```", "", text, flags=re.S)
    return {
        match.group(1).strip()
        for match in re.finditer(r"^#{1,6} (.+)$", without_code, re.MULTILINE)
    }


def validate_license(root: Path) -> list[str]:
    """An Apache-2.0 LICENSE with a copyright line, declared in pyproject.toml."""
    path = root / "LICENSE"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ["LICENSE: missing (HACS requires a licence)"]
    problems = [
        f"LICENSE: not the Apache-2.0 text (lacks {marker!r})"
        for marker in APACHE_MARKERS
        if marker not in text
    ]
    if not re.match(r"Copyright \d{4} \S", text):
        problems.append("LICENSE: does not open with the project's copyright line")
    try:
        pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        pyproject = ""
    if 'license = "Apache-2.0"' not in pyproject:
        problems.append('pyproject.toml: license is not "Apache-2.0"')
    return problems


def validate_docs(root: Path) -> list[str]:
    """The README has every section the docs rules need; the rules point at them."""
    try:
        readme = (root / "README.md").read_text(encoding="utf-8")
    except OSError:
        return ["README.md: missing"]
    headings = readme_headings(readme)
    problems = [
        f"README.md: no section {heading!r} ({rule})"
        for rule, heading in DOCS_SECTIONS.items()
        if heading not in headings
    ]
    problems.extend(
        f"README.md: no section {heading!r}"
        for heading in OTHER_SECTIONS
        if heading not in headings
    )
    anchors = {heading_anchor(heading) for heading in headings}
    problems.extend(
        f"README.md: link to #{link} has no heading"
        for link in sorted(set(re.findall(r"\]\(#([^)]+)\)", readme)))
        if link not in anchors
    )
    problems.extend(
        f"README.md: {target} does not exist"
        for target in sorted(set(re.findall(r"\]\(([^)#:]+)\)", readme)))
        if not (root / target).exists()
    )
    path = root / "custom_components" / "solar_gateway" / "quality_scale.yaml"
    try:
        rules = yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as err:
        return [*problems, f"quality_scale.yaml: cannot be read ({err})"]
    for rule, heading in DOCS_SECTIONS.items():
        value = rules.get(rule)
        status = value.get("status") if isinstance(value, dict) else value
        comment = value.get("comment", "") if isinstance(value, dict) else ""
        if status != "done":
            problems.append(f"quality_scale.yaml: '{rule}' is {status!r}, not done")
        elif f"README.md#{heading_anchor(heading)}" not in str(comment):
            problems.append(
                f"quality_scale.yaml: '{rule}' does not point at "
                f"README.md#{heading_anchor(heading)}"
            )
    return problems
