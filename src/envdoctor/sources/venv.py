"""Environments on disk, read statically: nothing in them is ever executed.

A virtual environment is a folder with a `pyvenv.cfg` (the standard-library venv writes `home`,
`include-system-site-packages`, `version`, `executable`, `command`; uv writes `home`, `implementation`,
`uv`, `version_info`, `include-system-site-packages`, `prompt`; virtualenv writes `virtualenv` and
`version_info`). A conda prefix is a folder with `conda-meta/` (one JSON per package, named
`name-version-build.json`). Both keep their installed distributions in `site-packages` as
`name-version.dist-info` folders (`METADATA`, `RECORD`, `INSTALLER`, PEP 610 `direct_url.json`) or, from
legacy installs, `*.egg-info` folders and `*.egg-link` files.

Speed: a site-packages folder with thousands of distributions is listed once; names and versions come
from the folder names; `METADATA` (only its header, read up to the first blank line), `INSTALLER` and
`direct_url.json` are read lazily, only for the distributions a rule asks about. Every read goes through
`envdoctor.files` (regular files only, bounded sizes).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envdoctor.files import SourceError, read_bytes, read_head, split_lines

# What `python -m venv` (or virtualenv) seeds into every environment: never "extra" packages.
SEED_PACKAGES = frozenset({"pip", "setuptools", "wheel", "distribute"})
METADATA_FIRST_BYTES = 16 * 1024  # a METADATA header (up to the first blank line) almost always fits
METADATA_HEAD_BYTES = 256 * 1024  # headers come first; the long description after them is not read
SMALL_FILE_BYTES = 64 * 1024  # INSTALLER, direct_url.json
_VERSION_RE = re.compile(r"^\s*(\d+)\.(\d+)(?:\.(\d+))?")
_LIB_PYTHON_RE = re.compile(r"^(?:python|pypy)(\d+)\.(\d+)t?$")
_EXE_VERSION_RE = re.compile(r"^python(\d+)\.(\d+)t?$")


# --- pyvenv.cfg -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CfgEntry:
    key: str  # lower-cased, as site.py reads it
    value: str
    line: int


@dataclass(frozen=True)
class PyvenvCfg:
    path: str
    entries: dict[str, CfgEntry]

    def get(self, key: str) -> str | None:
        entry = self.entries.get(key)
        return entry.value if entry is not None else None

    def line_of(self, *keys: str) -> int:
        for key in keys:
            if key in self.entries:
                return self.entries[key].line
        return 1


def parse_pyvenv_cfg(text: str, rel: str) -> PyvenvCfg:
    """site.py's reading: every line with `=` is `key = value`; keys are lower-cased; the last one wins."""
    entries: dict[str, CfgEntry] = {}
    for number, line in enumerate(split_lines(text), start=1):
        if "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().lower()
        if key:
            entries[key] = CfgEntry(key, value.strip(), number)
    return PyvenvCfg(rel, entries)


# --- installed distributions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dependency:
    """One `Requires-Dist` of an installed distribution."""

    text: str
    requirement: Requirement | None  # None when packaging cannot parse it
    line: int  # in the metadata file (1 for egg-info requires.txt lines: their line)


@dataclass(frozen=True)
class Metadata:
    path: Path  # the METADATA / PKG-INFO file
    name: str | None
    version: str | None
    requires: tuple[Dependency, ...]


def _parse_header(text: str) -> dict[str, list[tuple[str, int]]]:
    """RFC 822-style headers up to the first blank line, with the line of each; continuation lines joined."""
    headers: dict[str, list[tuple[str, int]]] = {}
    last: tuple[str, int] | None = None
    for number, line in enumerate(split_lines(text), start=1):
        if not line.strip():
            break
        if line[0] in " \t" and last is not None:
            key, index = last
            value, at = headers[key][index]
            headers[key][index] = (f"{value} {line.strip()}", at)
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        headers.setdefault(key, []).append((value.strip(), number))
        last = (key, len(headers[key]) - 1)
    return headers


def _dependency(text: str, line: int) -> Dependency:
    try:
        return Dependency(text, Requirement(text), line)
    except InvalidRequirement:
        return Dependency(text, None, line)


def _egg_requires(text: str) -> tuple[Dependency, ...]:
    """setuptools' requires.txt: a base section, then `[extra]`, `[:marker]` or `[extra:marker]` sections.
    Only what is installed without extras counts: the base section and `[:marker]` sections."""
    out: list[Dependency] = []
    marker: str | None = None
    active = True
    for number, raw in enumerate(split_lines(text), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            extra, _, condition = section.partition(":")
            active = not extra.strip()
            marker = condition.strip() or None
            continue
        if active:
            out.append(_dependency(f"{line}; {marker}" if marker else line, number))
    return tuple(out)


@dataclass
class Distribution:
    """One installed distribution, known by its folder name; the rest is read on first use."""

    name: str  # canonical (PEP 503)
    display_name: str  # as the folder spells it
    version: str | None  # None for a legacy `.egg-link` (development install) whose version is unknown
    folder: Path  # the .dist-info / .egg-info folder, or the .egg-link file
    kind: str  # "dist-info", "egg-info" or "egg-link"
    shown: str  # the folder's path as findings show it (relative to the scanned root when inside it)

    @cached_property
    def metadata(self) -> Metadata | None:
        """The header of METADATA (PKG-INFO and requires.txt for an egg-info), or None when unreadable."""
        if self.kind == "egg-link":
            return None
        name = "METADATA" if self.kind == "dist-info" else "PKG-INFO"
        path = self.folder if self.folder.is_file() else self.folder / name
        try:
            # Most headers end within a few KiB: read that much first, and more only when they do not.
            data = read_head(path, METADATA_FIRST_BYTES)
            if len(data) == METADATA_FIRST_BYTES and b"\n\n" not in data.replace(b"\r\n", b"\n"):
                data = read_head(path, METADATA_HEAD_BYTES)
        except SourceError:
            return None
        text = data.decode("utf-8", errors="replace")
        headers = _parse_header(text)
        requires: tuple[Dependency, ...]
        if self.kind == "dist-info":
            requires = tuple(_dependency(value, line) for value, line in headers.get("requires-dist", []))
        else:
            try:
                requires_txt = read_bytes(self.folder / "requires.txt", max_bytes=SMALL_FILE_BYTES)
                requires = _egg_requires(requires_txt.decode("utf-8", errors="replace"))
            except SourceError:
                requires = ()
        first = {key: values[0][0] for key, values in headers.items() if values}
        return Metadata(path, first.get("name"), first.get("version"), requires)

    @property
    def metadata_shown(self) -> str:
        return f"{self.shown}/{'METADATA' if self.kind == 'dist-info' else 'requires.txt'}"

    def _small(self, name: str) -> str | None:
        if self.kind != "dist-info":
            return None
        try:
            return read_bytes(self.folder / name, max_bytes=SMALL_FILE_BYTES).decode("utf-8", errors="replace")
        except SourceError:
            return None

    @cached_property
    def installer(self) -> str | None:
        """The INSTALLER file's first line (`pip`, `uv`, `conda`, ...), lower-cased, or None."""
        text = self._small("INSTALLER")
        first = text.strip().splitlines()[0].strip().lower() if text and text.strip() else ""
        return first or None

    @cached_property
    def direct_url(self) -> dict | None:
        text = self._small("direct_url.json")
        if text is None:
            return None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            return None
        return data if isinstance(data, dict) else None

    @property
    def editable(self) -> bool:
        """A PEP 610 editable install (or a legacy `.egg-link` development install)."""
        if self.kind == "egg-link":
            return True
        info = (self.direct_url or {}).get("dir_info")
        return isinstance(info, dict) and info.get("editable") is True

    @property
    def parsed_version(self) -> Version | None:
        try:
            return Version(self.version) if self.version else None
        except InvalidVersion:
            return None


def _split_folder_name(stem: str) -> tuple[str, str | None]:
    """`name-version` of a dist-info folder (names never hold '-' there; versions never do)."""
    name, sep, version = stem.partition("-")
    if not sep:
        return stem, None
    if "-" in version:  # egg-info: name-version-py3.11
        version = version.split("-", 1)[0]
    return name, version or None


def scan_site_packages(folder: Path, shown: str) -> list[Distribution]:
    """The distributions installed in one site-packages folder (a listing; nothing else is read)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    out: list[Distribution] = []
    for entry in entries:
        name = entry.name
        if name.endswith(".dist-info"):
            kind, stem = "dist-info", name[: -len(".dist-info")]
        elif name.endswith(".egg-info"):
            kind, stem = "egg-info", name[: -len(".egg-info")]
        elif name.endswith(".egg-link"):
            kind, stem = "egg-link", name[: -len(".egg-link")]
        else:
            continue
        try:
            # A dist-info is a folder; an egg-info a folder or (distutils) a PKG-INFO file; egg-link a file.
            if kind == "dist-info" and not entry.is_dir():
                continue
        except OSError:
            continue
        raw_name, version = _split_folder_name(stem)
        if kind == "egg-link":
            version = None
        elif version is None:
            continue  # `name.egg-info` without a version: a development install's metadata, not ours
        out.append(Distribution(canonicalize_name(raw_name), raw_name, version, Path(entry.path), kind,
                                f"{shown}/{name}"))
    return out


# --- environments -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InterpreterLink:
    """`bin/python*` in an environment: where the link points and whether that exists."""

    name: str  # e.g. "bin/python3"
    target: str | None  # the link as written (None: a real file, a copy)
    exists: bool  # the link (followed to the end) leads to an existing file
    resolved: str | None  # the final file, when it exists


@dataclass
class Environment:
    """A virtual environment or conda prefix in the working tree (or, for the doctor, the active one)."""

    path: str  # relative to the scanned root ('.venv', 'svc/api/.venv'), absolute when outside it
    directory: Path
    cfg: PyvenvCfg | None  # None for a conda prefix

    @property
    def conda(self) -> bool:
        return self.cfg is None and (self.directory / "conda-meta").is_dir()

    @property
    def cfg_path(self) -> str:
        return f"{self.path}/pyvenv.cfg"

    @property
    def home(self) -> str | None:
        return self.cfg.get("home") if self.cfg else None

    @property
    def include_system_site_packages(self) -> bool:
        value = self.cfg.get("include-system-site-packages") if self.cfg else None
        return value is not None and value.lower() == "true"  # site.py's test

    @property
    def creator(self) -> str:
        if self.cfg is None:
            return "conda"
        if self.cfg.get("uv") is not None:
            return "uv"
        if self.cfg.get("virtualenv") is not None:
            return "virtualenv"
        return "venv"

    @property
    def implementation(self) -> str:
        value = (self.cfg.get("implementation") if self.cfg else None) or "cpython"
        return value.strip().lower()

    # --- the Python version -------------------------------------------------------------------------------

    @cached_property
    def _version(self) -> tuple[str | None, str | None, int]:
        """(version text, where it was found as a path to show, line)."""
        if self.cfg is not None:
            for key in ("version", "version_info"):
                value = self.cfg.get(key)
                if value and _VERSION_RE.match(value):
                    return _VERSION_RE.match(value).group(0).strip(), self.cfg_path, self.cfg.line_of(key)
        if self.conda:
            found = self._conda_python()
            if found:
                return found
        libs = self.lib_versions
        if len(libs) == 1:
            return libs[0], f"{self.path}/lib/python{libs[0]}", 1
        return None, None, 1

    def _conda_python(self) -> tuple[str, str, int] | None:
        try:
            names = [e.name for e in os.scandir(self.directory / "conda-meta")]
        except OSError:
            return None
        for name in sorted(names):
            match = re.match(r"^python-(\d+\.\d+(?:\.\d+)?)-[^-]+\.json$", name)
            if match:
                return match.group(1), f"{self.path}/conda-meta/{name}", 1
        return None

    @property
    def version(self) -> str | None:
        """The environment's Python version as recorded ('3.11.7', or '3.11' when only that is known)."""
        return self._version[0]

    @property
    def version_source(self) -> tuple[str, int]:
        """Where the version is recorded: (path to show, line)."""
        return self._version[1] or self.path, self._version[2]

    @property
    def python_version(self) -> Version | None:
        try:
            return Version(self.version) if self.version else None
        except InvalidVersion:
            return None

    @property
    def short_version(self) -> str | None:
        version = self.python_version
        return f"{version.major}.{version.minor}" if version else None

    @cached_property
    def lib_versions(self) -> list[str]:
        """X.Y of each `lib/pythonX.Y` folder (POSIX layout)."""
        out = []
        try:
            for entry in os.scandir(self.directory / "lib"):
                match = _LIB_PYTHON_RE.match(entry.name)
                if match and entry.is_dir():
                    out.append(f"{match.group(1)}.{match.group(2)}")
        except OSError:
            pass
        return sorted(set(out))

    # --- interpreter links --------------------------------------------------------------------------------

    @cached_property
    def interpreter_links(self) -> list[InterpreterLink]:
        """`bin/python`, `bin/python3`, `bin/pythonX.Y` as they are on disk (POSIX layout only)."""
        bin_dir = self.directory / "bin"
        out: list[InterpreterLink] = []
        try:
            names = sorted(e.name for e in os.scandir(bin_dir))
        except OSError:
            return out
        for name in names:
            if name not in ("python", "python3") and not _EXE_VERSION_RE.match(name):
                continue
            path = bin_dir / name
            try:
                target = os.readlink(path) if path.is_symlink() else None
            except OSError:
                target = None
            exists = path.exists()
            resolved = None
            if exists:
                try:
                    resolved = str(path.resolve())
                except (OSError, RuntimeError):
                    resolved = None
            out.append(InterpreterLink(f"bin/{name}", target, exists, resolved))
        return out

    # --- installed distributions --------------------------------------------------------------------------

    @cached_property
    def site_packages(self) -> list[Path]:
        """The environment's site-packages folders (POSIX `lib/pythonX.Y/site-packages`, Windows
        `Lib/site-packages`); when several Python versions left folders, the recorded version's."""
        found: list[Path] = []
        short = self.short_version
        for lib in ("lib", "lib64", "Lib"):
            base = self.directory / lib
            if lib == "lib64" and base.is_symlink():
                continue  # venv's lib64 -> lib
            if lib == "Lib":
                if (base / "site-packages").is_dir():
                    found.append(base / "site-packages")
                continue
            try:
                entries = sorted(os.scandir(base), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                match = _LIB_PYTHON_RE.match(entry.name)
                if not match:
                    continue
                if short is not None and f"{match.group(1)}.{match.group(2)}" != short:
                    continue
                candidate = Path(entry.path) / "site-packages"
                if candidate.is_dir():
                    found.append(candidate)
        unique: dict[Path, Path] = {}
        for folder in found:
            try:
                unique.setdefault(folder.resolve(), folder)
            except (OSError, RuntimeError):
                continue
        return list(unique.values())

    def _shown(self, folder: Path) -> str:
        try:
            inside = folder.relative_to(self.directory).as_posix()
        except ValueError:
            return str(folder)
        return f"{self.path}/{inside}"

    @cached_property
    def distributions(self) -> list[Distribution]:
        """Every distribution in the site-packages folders (a listing; their files are read on demand)."""
        dists: list[Distribution] = []
        for folder in self.site_packages:
            dists.extend(scan_site_packages(folder, self._shown(folder)))
        return dists

    @cached_property
    def conda_packages(self) -> set[str]:
        """Canonical names of the conda packages in `conda-meta/` (`name-version-build.json`)."""
        try:
            names = [e.name for e in os.scandir(self.directory / "conda-meta")]
        except OSError:
            return set()
        return {canonicalize_name(n[:-5].rsplit("-", 2)[0]) for n in names if n.endswith(".json") and n.count("-") >= 2}

    @cached_property
    def by_name(self) -> dict[str, list[Distribution]]:
        out: dict[str, list[Distribution]] = {}
        for dist in self.distributions:
            out.setdefault(dist.name, []).append(dist)
        return out

    def marker_environment(self) -> dict[str, str] | None:
        """PEP 508 marker variables for this environment: its Python (as recorded), this machine's platform.

        None when the Python version is unknown (markers cannot be judged then)."""
        from packaging.markers import default_environment

        version = self.python_version
        if version is None:
            return None
        env = dict(default_environment())
        full = ".".join(str(p) for p in (version.release + (0, 0))[:3])
        env.update({
            "python_version": f"{version.major}.{version.minor}",
            "python_full_version": full,
            "implementation_version": full,
        })
        if self.implementation in ("pypy", "cpython", "graalpy"):
            env["implementation_name"] = self.implementation
            env["platform_python_implementation"] = {"pypy": "PyPy", "cpython": "CPython",
                                                     "graalpy": "GraalVM"}[self.implementation]
        return env


def is_environment(folder: Path) -> bool:
    """A virtual environment (pyvenv.cfg) or a conda prefix (conda-meta/)."""
    return (folder / "pyvenv.cfg").is_file() or (folder / "conda-meta").is_dir()


# --- the "environment" target ------------------------------------------------------------------------------


def _open(project, rel: str, directory: Path):  # -> Item | None
    from envdoctor.project import Item

    if (directory / "pyvenv.cfg").is_file():
        cfg_rel = f"{rel}/pyvenv.cfg"
        cfg = project.parsed("pyvenv", cfg_rel, parse_pyvenv_cfg)
        if cfg is None:
            return None  # unreadable: ED001 says so
        return Item(cfg_rel, Environment(rel, directory, cfg))
    if (directory / "conda-meta").is_dir():
        return Item(f"{rel}/conda-meta", Environment(rel, directory, None))
    return None


def environment_items(project):  # -> Iterator[Item]
    """The environments in the working tree, and, when the doctor probed an interpreter that is a virtual
    environment or a named conda environment elsewhere, that one too (shown by its absolute path)."""
    seen: set[Path] = set()
    for rel in project.environments:
        directory = project.root / rel
        item = _open(project, rel, directory)
        if item is not None:
            seen.add(directory.resolve())
            yield item
    interpreter = project.interpreter
    if interpreter is None or not interpreter.is_environment:
        return
    directory = Path(interpreter.probe.prefix)
    try:
        resolved = directory.resolve()
    except (OSError, RuntimeError):
        return
    if resolved in seen:
        return
    try:
        rel = resolved.relative_to(project.root).as_posix()
    except ValueError:
        rel = str(directory)
    item = _open(project, rel, directory)
    if item is not None:
        yield item
