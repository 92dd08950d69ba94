"""The interpreter probe: a small standard-library-only script run in the *target* interpreter.

`envdoctor doctor` and `envdoctor check --python PATH` ask an interpreter about itself by running

    PATH -I -S -c PROBE_SOURCE

- `-I` (isolated mode) ignores every `PYTHON*` environment variable, the user site and the current folder,
  so nothing of the project in the current directory can be imported and `PYTHONPATH` cannot redirect the
  probe's own imports. The variables that *would* change resolution are read by envdoctor itself from its
  own environment (see `RELEVANT_VARIABLES`), not by the probe.
- `-S` skips the `site` module's start-up: no `.pth` file and no `sitecustomize`/`usercustomize` of that
  environment runs (a `.pth` line starting with `import` is code). The probe imports `site` only for its
  path functions and computes what `site` would have done (the virtual environment from `pyvenv.cfg`, the
  user site and whether it would be enabled) without calling anything that processes `.pth` files.

The probe prints one JSON object on stdout. It is written in the Python subset that every CPython still in
use (3.8 and newer) accepts, and it only uses modules present in all of them. A probe that fails, times out
or prints something else becomes one `ProbeError` with a one-line reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any, Mapping

from envdoctor.config import ConfigError

PROBE_TIMEOUT_SECONDS = 20
MINIMUM_VERSION = (3, 8)

# Environment variables that change where Python or pip looks or installs; envdoctor reports them (ED411).
RELEVANT_VARIABLES = (
    "PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONNOUSERSITE", "PYTHONPLATLIBDIR",
    "PIP_USER", "PIP_BREAK_SYSTEM_PACKAGES", "PIP_TARGET", "PIP_PREFIX", "PIP_REQUIRE_VIRTUALENV",
    "UV_SYSTEM_PYTHON", "UV_BREAK_SYSTEM_PACKAGES", "VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV",
    "UV_PROJECT_ENVIRONMENT", "POETRY_VIRTUALENVS_PATH", "WORKON_HOME", "PIPENV_VENV_IN_PROJECT",
    "HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME",
)

# The probe itself. Keep it to the 3.8 subset (tests parse it with feature_version=(3, 8) and run it with
# every interpreter available): no walrus in comprehensions, no match, no `X | Y` types, no f-string `=`.
PROBE_SOURCE = r'''
import json
import os
import sys

import site  # with -S this only defines functions: site.main() (and so every .pth file) never runs


def read_cfg(path):
    values = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if "=" in line:
                    key, _, value = line.partition("=")
                    values[key.strip().lower()] = value.strip()
    except (OSError, ValueError):
        return None
    return values


def find_venv(executable):
    # What site.venv() does, without site.addsitepackages() (which would process .pth files).
    exe_dir = os.path.dirname(os.path.abspath(executable))
    site_prefix = os.path.dirname(exe_dir)
    for candidate in (os.path.join(exe_dir, "pyvenv.cfg"), os.path.join(site_prefix, "pyvenv.cfg")):
        if os.path.isfile(candidate):
            return site_prefix, candidate, read_cfg(candidate)
    return None, None, None


def site_dirs(prefixes):
    try:
        return [d for d in site.getsitepackages(prefixes) if isinstance(d, str)]
    except Exception:
        return []


def main():
    executable = sys.executable
    launcher = os.environ.get("__PYVENV_LAUNCHER__")  # macOS framework builds started through a venv
    venv_prefix, cfg_path, cfg = find_venv(launcher or executable)
    base_prefix = getattr(sys, "base_prefix", sys.prefix)
    base_exec_prefix = getattr(sys, "base_exec_prefix", sys.exec_prefix)
    legacy_base = None
    if venv_prefix is None and hasattr(sys, "real_prefix"):
        legacy_base = sys.real_prefix
    if venv_prefix is None:
        libdir = "python%d.%d" % sys.version_info[:2]
        orig = os.path.join(sys.prefix, "lib", libdir, "orig-prefix.txt")  # virtualenv < 20
        if os.path.isfile(orig):
            try:
                with open(orig, encoding="utf-8") as handle:
                    legacy_base = handle.read().strip() or None
            except OSError:
                legacy_base = None
    prefix = venv_prefix or sys.prefix
    system_site = True
    if cfg is not None:
        system_site = cfg.get("include-system-site-packages", "false").lower() == "true"
    base_prefixes = [base_prefix, base_exec_prefix] if base_exec_prefix != base_prefix else [base_prefix]
    if legacy_base:
        base_prefixes = [legacy_base]
    if venv_prefix is not None:
        own_site = site_dirs([venv_prefix])
    else:
        own_site = site_dirs([sys.prefix, sys.exec_prefix] if sys.exec_prefix != sys.prefix else [sys.prefix])
    try:
        user_base = site.getuserbase()
        user_site = site.getusersitepackages()
    except Exception:
        user_base = user_site = None
    # What site.check_enableusersite() would answer without -I, and site.venv() with it.
    user_site_enabled = True
    if hasattr(os, "getuid") and hasattr(os, "geteuid"):
        if os.geteuid() != os.getuid() or os.getegid() != os.getgid():
            user_site_enabled = False
    if cfg is not None and not system_site:
        user_site_enabled = False
    stdlib = os.path.dirname(os.__file__)
    implementation = getattr(sys, "implementation", None)
    print(json.dumps({
        "probe": 1,
        "executable": executable,
        "version": list(sys.version_info[:3]),
        "releaselevel": sys.version_info[3],
        "implementation": implementation.name if implementation is not None else "cpython",
        "platform": sys.platform,
        "prefix": prefix,
        "base_prefix": legacy_base or base_prefix,
        "base_exec_prefix": legacy_base or base_exec_prefix,
        "in_venv": venv_prefix is not None or legacy_base is not None,
        "pyvenv_cfg": cfg_path,
        "include_system_site_packages": system_site if cfg is not None else None,
        "site_packages": own_site,
        "base_site_packages": site_dirs(base_prefixes),
        "user_base": user_base,
        "user_site": user_site,
        "user_site_enabled": user_site_enabled,
        "stdlib": stdlib,
        "externally_managed": os.path.isfile(os.path.join(stdlib, "EXTERNALLY-MANAGED")),
    }, sort_keys=True))


main()
'''


class ProbeError(ConfigError):
    """The interpreter the user asked about could not be inspected: like a configuration error, one line
    on stderr and exit code 2."""


@dataclass(frozen=True)
class ProbeResult:
    """What the probe reported about one interpreter (paths as the interpreter sees them)."""

    executable: str
    version: tuple[int, int, int]
    releaselevel: str
    implementation: str
    platform: str
    prefix: str
    base_prefix: str
    base_exec_prefix: str
    in_venv: bool
    pyvenv_cfg: str | None
    include_system_site_packages: bool | None
    site_packages: tuple[str, ...]
    base_site_packages: tuple[str, ...]
    user_base: str | None
    user_site: str | None
    user_site_enabled: bool
    stdlib: str
    externally_managed: bool
    requested: str = ""  # the path envdoctor was asked to run
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)

    @property
    def short_version(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @classmethod
    def from_json(cls, data: Any, requested: str = "") -> ProbeResult:
        if not isinstance(data, dict) or data.get("probe") != 1:
            raise ProbeError("the probe's answer is not envdoctor probe output")

        def text(key: str, default: str | None = None) -> str | None:
            value = data.get(key, default)
            return value if isinstance(value, str) else default

        def texts(key: str) -> tuple[str, ...]:
            value = data.get(key)
            return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

        version = data.get("version")
        if not (isinstance(version, list) and len(version) == 3 and all(isinstance(v, int) for v in version)):
            raise ProbeError("the probe's answer has no version")
        prefix = text("prefix")
        if not prefix:
            raise ProbeError("the probe's answer has no prefix")
        include = data.get("include_system_site_packages")
        return cls(
            executable=text("executable", requested) or requested,
            version=(version[0], version[1], version[2]),
            releaselevel=text("releaselevel", "final") or "final",
            implementation=text("implementation", "cpython") or "cpython",
            platform=text("platform", "") or "",
            prefix=prefix,
            base_prefix=text("base_prefix", prefix) or prefix,
            base_exec_prefix=text("base_exec_prefix", prefix) or prefix,
            in_venv=bool(data.get("in_venv")),
            pyvenv_cfg=text("pyvenv_cfg"),
            include_system_site_packages=include if isinstance(include, bool) else None,
            site_packages=texts("site_packages"),
            base_site_packages=texts("base_site_packages"),
            user_base=text("user_base"),
            user_site=text("user_site"),
            user_site_enabled=bool(data.get("user_site_enabled")),
            stdlib=text("stdlib", "") or "",
            externally_managed=bool(data.get("externally_managed")),
            requested=requested,
            raw=data,
        )


def _probe_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment the probe runs with: the caller's, minus what could make Python run other code.

    `-I` already makes the interpreter ignore `PYTHON*` variables; they are removed anyway, except
    `PYTHONUSERBASE`, which `site.getuserbase()` reads to locate the user site (as it would without -I).
    """
    env = {k: v for k, v in environ.items() if not k.startswith("PYTHON") or k == "PYTHONUSERBASE"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # harmless under -I; documents intent for wrappers that read it
    return env


def run_probe(executable: str, environ: Mapping[str, str] | None = None,
              timeout: float = PROBE_TIMEOUT_SECONDS) -> ProbeResult:
    """Run the probe in `executable` and parse its answer; ProbeError with a one-line reason otherwise."""
    environ = os.environ if environ is None else environ
    executable = os.path.abspath(executable)  # the probe runs elsewhere; links are kept (a venv's python is one)
    if not os.path.exists(executable):
        raise ProbeError(f"no interpreter at {executable}")
    if os.path.isdir(executable):
        raise ProbeError(f"{executable} is a folder, not an interpreter")
    if not os.access(executable, os.X_OK):
        raise ProbeError(f"{executable} is not executable")
    try:
        proc = subprocess.run(
            [executable, "-I", "-S", "-c", PROBE_SOURCE], capture_output=True, timeout=timeout,
            env=_probe_environment(environ), cwd=tempfile.gettempdir(), stdin=subprocess.DEVNULL, check=False,
        )
    except subprocess.TimeoutExpired:
        raise ProbeError(f"{executable} did not answer within {timeout:.0f} seconds") from None
    except OSError as exc:
        raise ProbeError(f"{executable} cannot be run: {exc.strerror or exc}") from None
    stdout = proc.stdout.decode("utf-8", errors="replace").strip()
    if proc.returncode != 0 or not stdout:
        lines = [line.strip() for line in proc.stderr.decode("utf-8", errors="replace").splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {proc.returncode}"
        too_old = [line for line in lines if any(m in line for m in ("Unknown option", "SyntaxError"))]
        if too_old:
            reason = (f"it is too old (the probe needs Python {MINIMUM_VERSION[0]}.{MINIMUM_VERSION[1]} or "
                      f"newer): {too_old[0]}")
        raise ProbeError(f"{executable} failed to run the probe: {reason}")
    try:
        data = json.loads(stdout.splitlines()[-1])
    except ValueError:
        raise ProbeError(f"{executable} printed something other than the probe's answer") from None
    result = ProbeResult.from_json(data, requested=executable)
    if result.version[:2] < MINIMUM_VERSION:
        raise ProbeError(f"{executable} is Python {result.version_text}; envdoctor inspects Python "
                         f"{MINIMUM_VERSION[0]}.{MINIMUM_VERSION[1]} and newer (older ones are end-of-life)")
    return result


def relevant_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables of `environ` (default: envdoctor's own) that matter to the doctor."""
    environ = os.environ if environ is None else environ
    return {k: environ[k] for k in RELEVANT_VARIABLES if k in environ}
