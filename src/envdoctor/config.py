"""Configuration: read once from `[tool.envdoctor]`, `envdoctor.toml` or `.envdoctor.toml`, merged with CLI
flags, and handed on as frozen plain data. Nothing downstream reads flags or files again."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from envdoctor.findings import Severity

CONFIG_FILES = ("envdoctor.toml", ".envdoctor.toml", "pyproject.toml")


class ConfigError(Exception):
    """A configuration problem the user must fix: reported as one line, exit code 2."""


@dataclass(frozen=True)
class DockerOptions:
    # Image names (fnmatch globs, e.g. "registry.internal:5000/*") never flagged by the base-image rules.
    allowed_images: tuple[str, ...] = ()
    # The build stage that is shipped (`docker build --target`); default: the last stage.
    target: str | None = None


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] | None = None  # None: the rules enabled by default
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    severity: tuple[tuple[str, Severity], ...] = ()
    fail_on: Severity = Severity.WARNING
    docker: DockerOptions = field(default_factory=DockerOptions)
    # Free-form tables for third-party rule packs: [tool.envdoctor.plugins.<name>].
    plugins: Mapping[str, Any] = field(default_factory=dict)
    source: Path | None = None  # the file this came from, for messages
    # The interpreter to probe (`envdoctor doctor`, `check --python PATH`); None: a static scan runs nothing.
    # Set from the command line only, never from a config file.
    python: str | None = None
    # Image reference (`python:3.12-slim`) -> its `sha256:` digest, from `check --digest-map FILE`: what
    # the ED102 fix pins to (envdoctor never asks a registry). Command line only.
    digest_map: Mapping[str, str] = field(default_factory=dict)


def load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    from envdoctor.files import SourceError, read_bytes

    try:
        data = read_bytes(path)  # regular files only, within the size limit (a FIFO would block open())
    except SourceError as exc:
        raise OSError(0, str(exc)) from None
    try:
        return tomllib.loads(data.decode("utf-8-sig"))
    except RecursionError:  # `a = [[[[...]]]]` thousands deep
        raise ValueError("nested too deeply") from None


def config_files(folder: Path) -> list[Path]:
    """The configuration files in `folder`, in the order envdoctor prefers them (CONFIG_FILES). A
    pyproject.toml counts when its text names a [tool.envdoctor] table: a text search, cheap enough to ask
    of every folder on the way up to a project root (find_config_file reads the one it uses as TOML)."""
    found = []
    for name in CONFIG_FILES:
        path = folder / name
        if path.is_file() and (name != "pyproject.toml" or _names_envdoctor(path)):
            found.append(path)
    return found


def _names_envdoctor(pyproject: Path) -> bool:
    try:
        return b"[tool.envdoctor" in pyproject.read_bytes()[: 1 << 20]
    except OSError:
        return False


def find_config_file(root: Path) -> Path | None:
    """The config file of `root`: envdoctor.toml, then .envdoctor.toml, then a pyproject.toml with
    a [tool.envdoctor] table."""
    for name in CONFIG_FILES:
        candidate = root / name
        if not candidate.is_file():
            continue
        if name != "pyproject.toml":
            return candidate
        try:
            tool = load_toml(candidate).get("tool")
            if isinstance(tool, dict) and "envdoctor" in tool:  # `tool = 5` is odd, not a crash
                return candidate
        except (OSError, ValueError):
            return None  # a broken pyproject is the scan's ED001, not a config error
    return None


def load_config(root: Path, explicit: Path | None = None) -> Config:
    path = explicit if explicit is not None else find_config_file(root)
    if path is None:
        return Config()
    try:
        data = load_toml(path)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ConfigError(f"invalid TOML in config file {path}: {exc}") from None
    if path.name == "pyproject.toml" or "tool" in data:
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"'tool' in config file {path} must be a table")
        table = tool.get("envdoctor", {})
        prefix = "tool.envdoctor"
    else:
        table, prefix = data, ""
    return parse_table(table, prefix=prefix, source=path)


def _where(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _str_list(value: Any, key: str, name: str | None = None) -> tuple[str, ...]:
    """`key` is where the value is, for messages; `name` how its key is written in the file (default: the
    last part of `key`)."""
    if isinstance(value, str):  # as ruff: a list is a list (`select = "ED1,ED2"` is one selector or two?)
        raise ConfigError(f"'{key}' must be a list of strings, not a string: write {name or key.rpartition('.')[2]} = "
                          f"[{', '.join(repr(v.strip()).replace(chr(39), chr(34)) for v in value.split(','))}]")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"'{key}' must be a list of strings")
    return tuple(v.strip() for v in value)


def _severity(value: Any, key: str) -> Severity:
    if not isinstance(value, str):
        raise ConfigError(f"'{key}' must be one of error, warning, info")
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise ConfigError(f"'{key}': {exc}") from None


def parse_table(table: Mapping[str, Any], *, prefix: str = "", source: Path | None = None) -> Config:
    """Turn a config table into a Config, rejecting unknown keys with their full name."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"'{prefix or 'config'}' must be a table")
    values: dict[str, Any] = {"source": source}
    for key, value in table.items():
        where = _where(prefix, key)
        if key in ("select", "extend-select", "ignore", "exclude", "extend-exclude"):
            values[key.replace("-", "_")] = _str_list(value, where)
        elif key == "per-file-ignores":
            if not isinstance(value, Mapping):
                raise ConfigError(f"'{where}' must be a table of glob = [codes]")
            values["per_file_ignores"] = tuple(
                (glob, _str_list(codes, f"{where}.{glob}", f'"{glob}"')) for glob, codes in value.items()
            )
        elif key == "severity":
            if not isinstance(value, Mapping):
                raise ConfigError(f"'{where}' must be a table of CODE = \"error|warning|info\"")
            values["severity"] = tuple((sel, _severity(sev, f"{where}.{sel}")) for sel, sev in value.items())
        elif key == "fail-on":
            values["fail_on"] = _severity(value, where)
        elif key == "docker":
            values["docker"] = _docker_options(value, where)
        elif key == "plugins":
            if not isinstance(value, Mapping):
                raise ConfigError(f"'{where}' must be a table")
            values["plugins"] = dict(value)
        else:
            raise ConfigError(f"unknown configuration key '{where}'" + (f" in {source}" if source else ""))
    return Config(**values)


def _docker_options(value: Any, where: str) -> DockerOptions:
    if not isinstance(value, Mapping):
        raise ConfigError(f"'{where}' must be a table")
    known = {f.name.replace("_", "-") for f in fields(DockerOptions)}
    options: dict[str, Any] = {}
    for key, item in value.items():
        if key not in known:
            raise ConfigError(f"unknown configuration key '{where}.{key}'")
        if key == "allowed-images":
            options["allowed_images"] = _str_list(item, f"{where}.{key}")
        elif key == "target":
            if not isinstance(item, str):
                raise ConfigError(f"'{where}.{key}' must be a string")
            options["target"] = item.lower()
    return DockerOptions(**options)


def with_overrides(config: Config, **overrides: Any) -> Config:
    """CLI flags win over the file; a None override means 'not given'."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(config, **given)
