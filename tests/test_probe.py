"""The interpreter probe: valid on Python 3.8, run in real interpreters, isolated from the environment's
code (.pth files, sitecustomize, PYTHONPATH), and every failure one clear line."""

from __future__ import annotations

import ast
import glob
import json
import os
import shutil
import stat
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from envdoctor.probe import PROBE_SOURCE, ProbeError, ProbeResult, run_probe

POSIX = pytest.mark.skipif(os.name == "nt", reason="fake interpreters are shell scripts")


def _interpreters() -> list[str]:
    """Every CPython 3.8+ this machine has (pyenv's and the PATH's), besides the one running the tests."""
    found: dict[str, str] = {}
    candidates = [shutil.which(f"python3.{minor}") for minor in range(8, 16)]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")))
    for candidate in candidates:
        if not candidate:
            continue
        try:
            out = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] >= (3, 8))"],
                                 capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.stdout.strip() == "True":
            found.setdefault(os.path.realpath(candidate), candidate)
    return sorted(found.values())


INTERPRETERS = _interpreters()


def _make_venv(path: Path, *, system_site_packages: bool = False) -> Path:
    venv.EnvBuilder(with_pip=False, system_site_packages=system_site_packages, symlinks=os.name != "nt").create(path)
    return path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _site_packages(env: Path) -> Path:
    (site,) = env.glob("lib/python3*/site-packages") if os.name != "nt" else [env / "Lib" / "site-packages"]
    return site


def test_probe_source_is_python_3_8_syntax():
    ast.parse(PROBE_SOURCE, feature_version=(3, 8))
    compile(PROBE_SOURCE, "<probe>", "exec")


def test_probe_source_imports_only_the_standard_library():
    tree = ast.parse(PROBE_SOURCE)
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"json", "os", "sys", "site"}


def test_probe_of_the_running_interpreter():
    result = run_probe(sys.executable)
    assert result.version == tuple(sys.version_info[:3])
    assert Path(result.prefix).resolve() == Path(sys.prefix).resolve()
    assert Path(result.base_prefix).resolve() == Path(sys.base_prefix).resolve()
    assert result.in_venv == (sys.prefix != sys.base_prefix)
    assert result.implementation == sys.implementation.name


@pytest.mark.parametrize("python", INTERPRETERS or [sys.executable])
def test_probe_runs_on_every_available_cpython(python, tmp_path):
    base = run_probe(python)
    assert base.version[:2] >= (3, 8)
    assert not base.in_venv
    assert base.base_site_packages, "the base interpreter's site folders are reported"
    env_python = subprocess.run([python, "-m", "venv", "--without-pip", str(tmp_path / "env")],
                                capture_output=True, timeout=120)
    assert env_python.returncode == 0, env_python.stderr
    result = run_probe(str(tmp_path / "env" / "bin" / "python"))
    assert result.in_venv
    assert Path(result.prefix) == tmp_path / "env"
    assert result.version == base.version
    assert Path(result.base_prefix).resolve() == Path(base.prefix).resolve()
    assert result.include_system_site_packages is False
    assert result.user_site_enabled is False  # a venv without system site-packages hides the user site
    assert any(Path(p) == _site_packages(tmp_path / "env") for p in result.site_packages)


def test_probe_of_a_venv_with_system_site_packages(tmp_path):
    python = _make_venv(tmp_path / "env", system_site_packages=True)
    result = run_probe(str(python))
    assert result.in_venv and result.include_system_site_packages is True
    assert result.user_site_enabled == (os.name == "nt" or os.geteuid() == os.getuid())
    assert result.pyvenv_cfg == str(tmp_path / "env" / "pyvenv.cfg")


def test_the_probe_runs_no_pth_file_and_no_sitecustomize(tmp_path):
    python = _make_venv(tmp_path / "env")
    site = _site_packages(tmp_path / "env")
    markers = [tmp_path / "pth-ran", tmp_path / "sitecustomize-ran", tmp_path / "usercustomize-ran"]
    (site / "evil.pth").write_text(f"import os; open({str(markers[0])!r}, 'w').close()\n")
    (site / "sitecustomize.py").write_text(f"open({str(markers[1])!r}, 'w').close()\n")
    (site / "usercustomize.py").write_text(f"open({str(markers[2])!r}, 'w').close()\n")
    result = run_probe(str(python))
    assert result.in_venv
    assert not any(m.exists() for m in markers)
    # The same interpreter started normally does run them: the test above can fail.
    subprocess.run([str(python), "-c", "pass"], check=True, timeout=60)
    assert markers[0].exists() and markers[1].exists()


def test_pythonpath_cannot_shadow_the_probes_imports_and_userbase_is_honoured(tmp_path):
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    marker = tmp_path / "shadowed"
    (shadow / "json.py").write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit(3)\n")
    environ = {**os.environ, "PYTHONPATH": str(shadow), "PYTHONUSERBASE": str(tmp_path / "userbase")}
    result = run_probe(sys.executable, environ)
    assert not marker.exists()
    assert result.user_base == str(tmp_path / "userbase")
    assert result.user_site.startswith(str(tmp_path / "userbase"))


def test_a_project_module_in_the_current_folder_is_never_imported(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "site.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(tmp_path)
    run_probe(sys.executable)
    assert not marker.exists()


def _fake(tmp_path: Path, name: str, script: str, executable: bool = True) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + script)
    if executable:
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@POSIX
@pytest.mark.parametrize(("script", "expected"), [
    ("exit 1\n", "failed to run the probe: exit status 1"),
    ("echo 'Traceback (most recent call last):' >&2; echo 'ImportError: no module named json' >&2; exit 1\n",
     "failed to run the probe: ImportError: no module named json"),
    ("echo 'Unknown option: -I' >&2; echo 'usage: python [option]' >&2; exit 2\n",
     "it is too old (the probe needs Python 3.8 or newer): Unknown option: -I"),
    ("echo hello\n", "printed something other than the probe's answer"),
    ("echo '{\"probe\": 2}'\n", "not envdoctor probe output"),
    ("echo '{\"probe\": 1, \"version\": [3, 7, 17], \"prefix\": \"/usr\"}'\n",
     "is Python 3.7.17; envdoctor inspects Python 3.8 and newer"),
    ("echo '{\"probe\": 1, \"version\": \"3.12\", \"prefix\": \"/usr\"}'\n", "has no version"),
])
def test_a_failing_probe_is_one_clear_line(tmp_path, script, expected):
    with pytest.raises(ProbeError) as caught:
        run_probe(_fake(tmp_path, "python", script))
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


@POSIX
def test_probe_failures_before_running(tmp_path):
    for path, expected in [(str(tmp_path / "missing"), "no interpreter at"), (str(tmp_path), "is a folder"),
                           (_fake(tmp_path, "plain", "", executable=False), "is not executable")]:
        with pytest.raises(ProbeError, match=expected):
            run_probe(path)


@POSIX
def test_a_probe_that_hangs_times_out(tmp_path):
    with pytest.raises(ProbeError, match="did not answer within 1 seconds"):
        run_probe(_fake(tmp_path, "python", "sleep 30\n"), timeout=1)


def test_probe_result_tolerates_odd_types():
    result = ProbeResult.from_json({"probe": 1, "version": [3, 12, 1], "prefix": "/p", "site_packages": "x",
                                    "user_site": 5, "in_venv": "yes", "include_system_site_packages": "true"})
    assert result.site_packages == () and result.user_site is None
    assert result.include_system_site_packages is None
    assert result.base_prefix == "/p"


def test_probe_output_is_json_on_one_line():
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", PROBE_SOURCE], capture_output=True, text=True,
                          timeout=60)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["probe"] == 1
