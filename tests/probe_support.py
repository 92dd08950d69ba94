"""Test support for the doctor: a probe answer stands in for running an interpreter, and synthetic
environments (pyvenv.cfg + dist-info folders) are written file by file.

`fake_probe` is also how tests/test_catalog.py runs the rule pages of the doctor's rules: a page's block
marked `probe=yes` holds what the probe of the interpreter in use answers (relative paths are relative to
the example's folder) plus, under "environ", the environment variables envdoctor runs with.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from envdoctor.probe import RELEVANT_VARIABLES, ProbeResult

PATH_KEYS = ("executable", "prefix", "base_prefix", "base_exec_prefix", "user_site", "user_base", "stdlib",
             "pyvenv_cfg")
LIST_KEYS = ("site_packages", "base_site_packages")


def probe_result(root: Path, data: dict[str, Any]) -> ProbeResult:
    """A ProbeResult from a (partial) probe answer; relative paths are taken relative to `root`."""
    data = dict(data)
    data.setdefault("probe", 1)
    data.setdefault("version", [3, 12, 4])
    data.setdefault("executable", "/usr/bin/python3")
    data.setdefault("prefix", "/usr")
    data.setdefault("base_prefix", data["prefix"])
    data.setdefault("user_site_enabled", True)

    def resolve(value: str) -> str:
        return value if value.startswith("/") else str(root / value)

    for key in PATH_KEYS:
        if isinstance(data.get(key), str):
            data[key] = resolve(data[key])
    for key in LIST_KEYS:
        if isinstance(data.get(key), list):
            data[key] = [resolve(v) for v in data[key]]
    return ProbeResult.from_json(data, requested=data["executable"])


def use_probe(monkeypatch, root: Path, data: dict[str, Any], environ: dict[str, str] | None = None) -> str:
    """Make every probe answer `data`; envdoctor's environment: only `environ` among the variables that
    matter, HOME beside the example's folder (so no real home is looked at). Returns the interpreter path to pass as --python."""
    result = probe_result(root, data)
    monkeypatch.setattr("envdoctor.doctor.run_probe", lambda path, environ=None, timeout=None: result)
    for variable in RELEVANT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(root.parent / "home"))
    for key, value in (environ or {}).items():
        monkeypatch.setenv(key, value)
    return result.executable


def fake_probe(monkeypatch, root: Path, blocks: Iterable[Any]) -> tuple[str, ...]:
    """For a rule page with a `probe=yes` block: patch the probe and return ("--python", path); else ()."""
    block = next((b for b in blocks if b.attributes.get("probe") == "yes"), None)
    if block is None:
        return ()
    data = json.loads(block.body)
    environ = data.pop("environ", {})
    return ("--python", use_probe(monkeypatch, root, data, environ))


def write_dist(root: Path, site: str, name: str, version: str, *, requires: Iterable[str] = (),
               installer: str | None = "pip", editable: bool = False) -> Path:
    """A `name-version.dist-info` folder in `site` (relative to root): METADATA, INSTALLER, RECORD."""
    folder = root / site / f"{name.replace('-', '_')}-{version}.dist-info"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (folder / "METADATA").write_text("\n".join(lines) + "\n\nA long description.\nRequires-Dist: not-a-header\n")
    (folder / "RECORD").write_text("")
    if installer is not None:
        (folder / "INSTALLER").write_text(installer + "\n")
    if editable:
        (folder / "direct_url.json").write_text(json.dumps({"url": "file:///src", "dir_info": {"editable": True}}))
    return folder


def write_venv(root: Path, rel: str = ".venv", *, version: str = "3.12.4", home: str | None = None,
               system_site: str = "false", extra: str = "", dists: Iterable[tuple] = ()) -> str:
    """A synthetic virtual environment as `python -m venv` writes it; returns its site-packages (relative).

    `home` defaults to a folder made beside the repository with a `pythonX.Y` in it (a healthy base)."""
    short = ".".join(version.split(".")[:2])
    if home is None:
        base = root.parent / f"base-python-{short}" / "bin"
        base.mkdir(parents=True, exist_ok=True)
        (base / f"python{short}").write_text("")
        home = str(base)
    cfg = (f"home = {home}\ninclude-system-site-packages = {system_site}\nversion = {version}\n"
           f"executable = {home}/python{short}\n{extra}")
    (root / rel).mkdir(parents=True, exist_ok=True)
    (root / rel / "pyvenv.cfg").write_text(cfg)
    site = f"{rel}/lib/python{short}/site-packages"
    (root / site).mkdir(parents=True, exist_ok=True)
    for dist in dists:
        name, dist_version, *rest = dist
        write_dist(root, site, name, dist_version, **(rest[0] if rest else {}))
    return site
