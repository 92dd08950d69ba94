"""The static environment rules (ED405-ED409): environments in the working tree, read as files.

Synthetic environments (pyvenv.cfg + dist-info folders, tests/probe_support.py) cover the edge cases;
real ones are made with the standard library's venv where that is cheap."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import venv
from pathlib import Path

import pytest
from probe_support import write_dist, write_venv

from envdoctor.sources.venv import Environment, parse_pyvenv_cfg, scan_site_packages

POSIX = pytest.mark.skipif(os.name == "nt", reason="POSIX environment layout")
HASH = "--hash=sha256:" + "ab" * 32


def results(repo, *codes: str) -> list[tuple[str, str, int]]:
    return [(f["code"], f["path"], f["line"]) for f in repo.findings("--select", ",".join(codes))]


def messages(repo, code: str) -> list[str]:
    return [f["message"] for f in repo.findings("--select", code)]


def real_venv(path: Path, **options) -> Path:
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt", **options).create(path)
    (site,) = path.glob("lib/python3*/site-packages")
    return site


# --- the reader ---------------------------------------------------------------------------------------------


def test_pyvenv_cfg_is_read_as_site_reads_it():
    cfg = parse_pyvenv_cfg("home = /usr/bin\nInclude-System-Site-Packages=TRUE\nnot a key\nversion = 3.11.2\n"
                           "version = 3.11.4\n", ".venv/pyvenv.cfg")
    assert cfg.get("include-system-site-packages") == "TRUE"
    assert cfg.line_of("include-system-site-packages") == 2
    assert cfg.get("version") == "3.11.4" and cfg.line_of("version") == 5  # the last one wins
    assert cfg.line_of("missing", "home") == 1


def test_site_packages_listing_reads_names_and_versions_lazily(tmp_path):
    site = tmp_path / "site-packages"
    write_dist(tmp_path, "site-packages", "Foo.Bar", "1.0", requires=["baz>=2; python_version < '4'"])
    (site / "old_pkg-0.9-py3.11.egg-info").mkdir()
    (site / "devpkg.egg-link").write_text("/src/devpkg\n.\n")
    (site / "stray.dist-info").write_text("not a folder")
    (site / "noversion.egg-info").mkdir()
    dists = {d.name: d for d in scan_site_packages(site, "env/site")}
    assert sorted(dists) == ["devpkg", "foo-bar", "old-pkg"]
    assert dists["old-pkg"].version == "0.9" and dists["devpkg"].version is None and dists["devpkg"].editable
    foo = dists["foo-bar"]
    assert "metadata" not in vars(foo)  # nothing read yet
    assert foo.metadata.requires[0].text == "baz>=2; python_version < '4'"
    assert foo.metadata.requires[0].line == 4
    assert len(foo.metadata.requires) == 1  # the description's "Requires-Dist:" is not a header
    assert foo.installer == "pip" and not foo.editable


def test_environment_version_sources(tmp_path):
    conda = tmp_path / "conda"
    (conda / "conda-meta").mkdir(parents=True)
    (conda / "conda-meta" / "python-3.11.9-h955ad1f_0.json").write_text("{}")
    (conda / "conda-meta" / "numpy-2.1.2-py311h71ddf71_0.json").write_text("{}")
    env = Environment("conda", conda, None)
    assert env.conda and env.version == "3.11.9" and env.version_source == ("conda/conda-meta/python-3.11.9-h955ad1f_0.json", 1)
    assert env.conda_packages == {"python", "numpy"}
    bare = tmp_path / "bare"
    (bare / "lib" / "python3.10" / "site-packages").mkdir(parents=True)
    assert Environment("bare", bare, parse_pyvenv_cfg("home = /x\n", "bare/pyvenv.cfg")).version == "3.10"
    uv = Environment("uv", tmp_path, parse_pyvenv_cfg("uv = 0.5.4\nversion_info = 3.13.0.final.0\n", "uv/pyvenv.cfg"))
    assert uv.version == "3.13.0" and uv.creator == "uv"


def test_no_environment_means_silence(repo):
    repo.write("pyproject.toml", '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.12"\n')
    repo.write("requirements.lock.txt", f"httpx==0.27.2 {HASH}\n")
    assert results(repo, "ED405", "ED406", "ED407", "ED408", "ED409") == []


def test_an_unreadable_pyvenv_cfg_is_one_ed001(repo):
    write_venv(repo.root)
    (repo.root / ".venv" / "pyvenv.cfg").write_bytes(b"home = /usr\x00/bin\n")
    assert results(repo, "ED001", "ED405", "ED406", "ED407", "ED408", "ED409") == [("ED001", ".venv/pyvenv.cfg", 1)]


def test_odd_environments_do_not_crash(repo):
    write_venv(repo.root, "a", extra="version = \nhome =\n")
    (repo.root / "b").mkdir()
    (repo.root / "b" / "pyvenv.cfg").write_text("")
    site = write_venv(repo.root, "c")
    (repo.root / site / "broken-1.0.dist-info").mkdir()  # no METADATA
    (repo.root / site / "weird-1.0.dist-info").mkdir()
    (repo.root / site / "weird-1.0.dist-info" / "METADATA").write_bytes(b"\xff\xfe\x00garbage: \n")
    os.symlink("nowhere", repo.root / site / "gone-1.0.dist-info")
    result = repo.check("--select", "ED4", "--format", "json")
    assert result.exit_code in (0, 1), result.output


# --- ED405 system-site-packages-visible ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["true", "True", "TRUE"])
def test_ed405_flags_system_site_packages(repo, value):
    write_venv(repo.root, system_site=value)
    assert results(repo, "ED405") == [("ED405", ".venv/pyvenv.cfg", 2)]
    assert f"`include-system-site-packages = {value}`" in messages(repo, "ED405")[0]


@pytest.mark.parametrize("value", ["false", "False", "yes", "1", ""])
def test_ed405_near_misses(repo, value):
    write_venv(repo.root, system_site=value)
    assert results(repo, "ED405") == []


def test_ed405_real_venv(repo):
    real_venv(repo.root / "env", system_site_packages=True)
    real_venv(repo.root / "clean")
    assert results(repo, "ED405") == [("ED405", "env/pyvenv.cfg", 2)]


def test_ed405_conda_prefix_has_no_pyvenv_cfg(repo):
    (repo.root / "conda" / "conda-meta").mkdir(parents=True)
    assert results(repo, "ED405") == []


# --- ED406 broken-environment -------------------------------------------------------------------------------


@POSIX
def test_ed406_dangling_home(repo, tmp_path):
    write_venv(repo.root, home=str(tmp_path / "gone" / "bin"))
    assert results(repo, "ED406") == [("ED406", ".venv/pyvenv.cfg", 1)]
    assert "points at a folder that no longer exists" in messages(repo, "ED406")[0]


@POSIX
def test_ed406_home_now_holds_another_version(repo, tmp_path):
    home = tmp_path / "brew" / "bin"
    home.mkdir(parents=True)
    (home / "python3.13").write_text("")
    (home / "python3").write_text("")
    write_venv(repo.root, version="3.12.4", home=str(home))
    assert results(repo, "ED406") == [("ED406", ".venv/pyvenv.cfg", 1)]
    assert "now holds Python 3.13, not the 3.12" in messages(repo, "ED406")[0]


@POSIX
def test_ed406_dangling_interpreter_link(repo, tmp_path):
    write_venv(repo.root)
    (repo.root / ".venv" / "bin").mkdir()
    os.symlink(str(tmp_path / "removed" / "python3.12"), repo.root / ".venv" / "bin" / "python")
    (message,) = messages(repo, "ED406")
    assert f"bin/python -> {tmp_path}/removed/python3.12 leads nowhere" in message


@POSIX
def test_ed406_link_now_runs_another_minor_version(repo, tmp_path):
    base = tmp_path / "usr" / "bin"
    base.mkdir(parents=True)
    (base / "python3.13").write_text("")
    os.symlink("python3.13", base / "python3")
    write_venv(repo.root, version="3.12.4")
    (repo.root / ".venv" / "bin").mkdir()
    os.symlink(str(base / "python3"), repo.root / ".venv" / "bin" / "python")
    assert results(repo, "ED406") == [("ED406", ".venv/pyvenv.cfg", 3)]
    assert "bin/python now runs Python 3.13" in messages(repo, "ED406")[0]


@POSIX
@pytest.mark.parametrize("case", ["healthy", "windows-home", "no-home", "copies", "home-without-pythons"])
def test_ed406_near_misses(repo, tmp_path, case):
    if case == "healthy":
        write_venv(repo.root)
    elif case == "windows-home":
        write_venv(repo.root, home="C:\\Python312")
    elif case == "no-home":
        (repo.root / ".venv").mkdir()
        (repo.root / ".venv" / "pyvenv.cfg").write_text("version = 3.12.4\n")
    elif case == "copies":
        write_venv(repo.root)
        (repo.root / ".venv" / "bin").mkdir()
        (repo.root / ".venv" / "bin" / "python").write_text("")  # a copy, not a link
    else:
        (tmp_path / "winlike").mkdir()
        write_venv(repo.root, home=str(tmp_path / "winlike"))
    assert results(repo, "ED406") == []


@POSIX
def test_ed406_real_venv_is_healthy(repo):
    real_venv(repo.root / ".venv")
    assert results(repo, "ED406") == []


# ED406's fix recreates the environment from the lock ED408 picks for it (red-team CI item 10).


def ed406_and_ed408_fixes(repo) -> tuple[str, str]:
    hints = {f["code"]: f["fix_hint"] for f in repo.findings("--select", "ED406,ED408")}
    return hints["ED406"], hints.get("ED408", "")


@POSIX
def test_ed406_recreates_from_a_requirements_lock_like_ed408(repo, tmp_path):
    repo.write("pyproject.toml", '[project]\nname = "app"\nversion = "1"\n')
    lock(repo, "anyio==4.6.2", "sniffio==1.3.1")
    write_venv(repo.root, home=str(tmp_path / "gone" / "bin"), dists=[("anyio", "4.6.2"), ("ipython", "8.29.0")])
    ed406, ed408 = ed406_and_ed408_fixes(repo)
    assert ed408 == "Re-sync it from the lock: `uv pip sync requirements.lock.txt`."
    assert ed406 == ("Delete .venv and recreate it from the lock "
                     "(`uv venv .venv && uv pip sync requirements.lock.txt`).")


@POSIX
def test_ed406_recreates_from_a_tool_lock_with_its_sync_command(repo, tmp_path):
    uv_project(repo)
    write_venv(repo.root, home=str(tmp_path / "gone" / "bin"), dists=[("anyio", "4.0.0")])
    ed406, ed408 = ed406_and_ed408_fixes(repo)
    assert ed408 == "Re-sync it from the lock: `uv sync`."
    assert ed406 == "Delete .venv and recreate it from the lock (`uv sync`)."


@POSIX
def test_ed406_without_a_lock_names_the_project_tool(repo, tmp_path):
    repo.write("pyproject.toml", '[project]\nname = "app"\nversion = "1"\n')
    write_venv(repo.root, home=str(tmp_path / "gone" / "bin"))
    ed406, _ = ed406_and_ed408_fixes(repo)
    assert ed406 == "Delete .venv and recreate it from the lock (`uv sync`)."


# --- ED407 environment-python-mismatch ----------------------------------------------------------------------


def project(repo, requires: str = ">=3.12") -> None:
    repo.write("pyproject.toml", f'[project]\nname = "inventory"\nversion = "1"\nrequires-python = "{requires}"\n')


def test_ed407_requires_python(repo):
    project(repo)
    write_venv(repo.root, version="3.11.9")
    assert results(repo, "ED407") == [("ED407", ".venv/pyvenv.cfg", 3)]
    assert "runs Python 3.11.9, which does not satisfy requires-python '>=3.12' of pyproject.toml" in messages(repo, "ED407")[0]


def test_ed407_nearest_pyproject_of_a_sub_project(repo):
    project(repo, ">=3.10")
    repo.write("services/api/pyproject.toml", '[project]\nname = "api"\nversion = "1"\nrequires-python = ">=3.13"\n')
    write_venv(repo.root, "services/api/.venv", version="3.12.4")
    write_venv(repo.root, ".venv", version="3.12.4")
    assert results(repo, "ED407") == [("ED407", "services/api/.venv/pyvenv.cfg", 3)]


def test_ed407_poetry_constraint(repo):
    repo.write("pyproject.toml", '[tool.poetry]\nname = "x"\n[tool.poetry.dependencies]\npython = "^3.12"\n')
    write_venv(repo.root, version="3.11.9")
    write_venv(repo.root, "ok", version="3.12.1")
    assert results(repo, "ED407") == [("ED407", ".venv/pyvenv.cfg", 3)]


def test_ed407_python_version_file(repo):
    repo.write(".python-version", "3.12\n")
    write_venv(repo.root, version="3.11.9")
    assert results(repo, "ED407") == [("ED407", ".venv/pyvenv.cfg", 3)]
    assert "but .python-version asks for 3.12" in messages(repo, "ED407")[0]


def test_ed407_python_version_exact_patch(repo):
    repo.write(".python-version", "3.12.4\n")
    write_venv(repo.root, version="3.12.7")
    assert results(repo, "ED407") == [("ED407", ".venv/pyvenv.cfg", 3)]


@pytest.mark.parametrize(("pin", "version"), [
    ("3.12\n", "3.12.7"), ("3.12.7\n", "3.12.7"), ("system\n", "3.9.1"), ("# comment\n3.12\n", "3.12.0"),
    ("3.11.9\n3.12\n", "3.12.2"),  # pyenv: several versions, any of them
    ("pypy3.10\n", "3.12.1"),  # another implementation: not judged against CPython
    ("miniconda3-latest\n", "3.8.0"), ("\n", "3.8.0"),
])
def test_ed407_python_version_near_misses(repo, pin, version):
    repo.write(".python-version", pin)
    write_venv(repo.root, version=version)
    assert results(repo, "ED407") == []


@pytest.mark.parametrize(("requires", "version"), [(">=3.12", "3.12.0"), (">=3.11.4", None), ("~=3.12", "3.13.0"),
                                                   ("not a specifier", "3.8.1")])
def test_ed407_requires_python_near_misses(repo, requires, version):
    project(repo, requires)
    if version is None:  # only lib/python3.11 tells the version: some 3.11.x may satisfy >=3.11.4
        (repo.root / ".venv" / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
        (repo.root / ".venv" / "pyvenv.cfg").write_text("home = /nowhere\n")
    else:
        write_venv(repo.root, version=version)
    assert results(repo, "ED407") == []


def test_ed407_real_venv_matches(repo):
    project(repo, f">={sys.version_info.major}.{sys.version_info.minor}")
    real_venv(repo.root / ".venv")
    assert results(repo, "ED407") == []


# --- ED408 environment-drift --------------------------------------------------------------------------------


def lock(repo, *lines: str, name: str = "requirements.lock.txt") -> None:
    repo.write(name, "".join(f"{line} {HASH}\n" for line in lines))


def test_ed408_one_finding_with_every_difference(repo):
    lock(repo, "anyio==4.6.2", "httpx==0.27.2", "sniffio==1.3.1")
    write_venv(repo.root, dists=[("anyio", "4.6.2"), ("httpx", "0.26.0"), ("ipython", "8.29.0"), ("pip", "24.2"),
                                 ("setuptools", "75.1.0")])
    assert results(repo, "ED408") == [("ED408", ".venv/pyvenv.cfg", 1)]
    (finding,) = repo.findings("--select", "ED408")
    assert finding["message"] == (
        "Environment .venv has drifted from requirements.lock.txt: 1 missing (sniffio); 1 at other versions "
        "(httpx 0.26.0 installed, 0.27.2 locked); 1 not in the lock (ipython). What runs here is not what the "
        "lock (and CI, and production) installs.")
    assert finding["fix_hint"] == "Re-sync it from the lock: `uv pip sync requirements.lock.txt`."


def test_ed408_markers_are_judged_for_the_environment(repo):
    lock(repo, "httpx==0.27.2", 'tomli==2.0.2 ; python_version < "3.11"', 'pywin32==308 ; sys_platform == "win32"',
         'uvloop==0.21.0 ; sys_platform == "linux"')
    write_venv(repo.root, version="3.12.4", dists=[("httpx", "0.27.2")])
    expected = [] if sys.platform != "linux" else ["uvloop"]
    found = repo.findings("--select", "ED408")
    assert [("missing (uvloop)" in f["message"]) for f in found] == [True] * len(expected)


def test_ed408_equal_versions_are_compared_as_versions(repo):
    lock(repo, "Django==5.1", "zope.interface==7.1.0")
    write_venv(repo.root, dists=[("django", "5.1.0"), ("zope.interface", "7.1")])
    assert results(repo, "ED408") == []


def test_ed408_the_project_and_editable_installs_are_not_extra(repo):
    repo.write("pyproject.toml", '[project]\nname = "Inventory"\nversion = "1"\n')
    lock(repo, "httpx==0.27.2")
    write_venv(repo.root, dists=[("httpx", "0.27.2"), ("inventory", "1"), ("sibling", "0.1", {"editable": True}),
                                 ("wheel", "0.44.0")])
    assert results(repo, "ED408") == []


def test_ed408_judged_against_the_lock_it_matches_best(repo):
    lock(repo, "httpx==0.27.2", name="requirements.lock.txt")
    lock(repo, "httpx==0.27.2", "pytest==8.3.3", "pluggy==1.5.0", name="requirements-dev.lock.txt")
    site = write_venv(repo.root, dists=[("httpx", "0.27.2"), ("pytest", "8.3.3"), ("pluggy", "1.5.0")])
    assert results(repo, "ED408") == []
    shutil.rmtree(repo.root / site / "pytest-8.3.3.dist-info")
    write_dist(repo.root, site, "pytest", "8.3.2")
    (message,) = messages(repo, "ED408")
    assert "drifted from requirements-dev.lock.txt" in message and "pytest 8.3.2 installed, 8.3.3 locked" in message


@pytest.mark.parametrize("text", [
    "httpx==0.27.2\n",  # pinned, but not a lock: not hashed, not generated, not named one
    "httpx>=0.27\n",  # not pinned
    f"-r base.txt\nhttpx==0.27.2 {HASH}\n",  # includes another file: not judged
])
def test_ed408_requirements_that_are_not_complete_locks(repo, text):
    repo.write("requirements.txt", text)
    write_venv(repo.root, dists=[("httpx", "0.26.0"), ("rich", "13.0")])
    assert results(repo, "ED408") == []


def test_ed408_generated_requirements_are_locks(repo):
    repo.write("requirements.txt", "# This file was autogenerated by uv via the following command:\n"
                                   "#    uv pip compile requirements.in\nhttpx==0.27.2\n")
    write_venv(repo.root, dists=[("httpx", "0.26.0")])
    assert results(repo, "ED408") == [("ED408", ".venv/pyvenv.cfg", 1)]


def test_ed408_environment_with_system_site_packages_is_not_judged(repo):
    lock(repo, "httpx==0.27.2")
    write_venv(repo.root, system_site="true", dists=[("httpx", "0.26.0")])
    assert results(repo, "ED408") == []


def test_ed408_lock_of_another_folder_does_not_apply(repo):
    lock(repo, "httpx==0.27.2", name="services/api/requirements.lock.txt")
    write_venv(repo.root, dists=[("httpx", "0.26.0")])
    assert results(repo, "ED408") == []


def test_ed408_real_venv(repo):
    lock(repo, "httpx==0.27.2")
    site = real_venv(repo.root / ".venv")
    write_dist(repo.root, str(site.relative_to(repo.root)), "httpx", "0.27.1")
    assert results(repo, "ED408") == [("ED408", ".venv/pyvenv.cfg", 1)]


# --- ED409 broken-requirements ------------------------------------------------------------------------------


def test_ed409_missing_and_incompatible(repo):
    site = write_venv(repo.root, dists=[
        ("requests", "2.32.3", {"requires": ["idna<4,>=2.5", "urllib3<3,>=1.21.1", "charset-normalizer<4,>=2"]}),
        ("urllib3", "1.20"), ("Charset_Normalizer", "3.4.0")])
    found = repo.findings("--select", "ED409")
    assert [(f["path"], f["line"]) for f in found] == [
        (f"{site}/requests-2.32.3.dist-info/METADATA", 4), (f"{site}/requests-2.32.3.dist-info/METADATA", 5)]
    assert found[0]["message"].startswith("requests 2.32.3 requires idna<4,>=2.5, but idna is not installed")
    assert found[1]["message"].startswith("requests 2.32.3 requires urllib3<3,>=1.21.1, but 1.20 is installed")


@pytest.mark.parametrize("requires", [
    'pysocks>=1.5.6; extra == "socks"',  # an extra nobody asked for
    "tomli>=1.1; python_version < '3.11'",  # a marker that excludes this environment
    "colorama; sys_platform == 'win32'",
    "urllib3>=2.2",  # satisfied
    "urllib3>=2.3.0rc1",  # a pre-release satisfies, as pip check says
    "Urllib3[socks]==2.3.0rc2",  # names are canonical; extras of the requirement are not checked
    "not a requirement ((",
    "devpkg>=5",  # an egg-link development install: version unknown, taken as satisfied
])
def test_ed409_near_misses(repo, requires):
    site = write_venv(repo.root, version="3.12.4",
                      dists=[("client", "1.0", {"requires": [requires]}), ("urllib3", "2.3.0rc2")])
    (repo.root / site / "devpkg.egg-link").write_text("/src/devpkg\n")
    assert results(repo, "ED409") == []


def test_ed409_egg_info_requires_txt(repo):
    site = write_venv(repo.root)
    egg = repo.root / site / "legacy-1.0-py3.12.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: legacy\nVersion: 1.0\n")
    (egg / "requires.txt").write_text("six>=1.16\n\n[socks]\npysocks\n\n[:sys_platform == \"win32\"]\npywin32\n")
    assert results(repo, "ED409") == [("ED409", f"{site}/legacy-1.0-py3.12.egg-info/requires.txt", 1)]


def test_ed409_system_site_packages_may_provide_what_is_missing(repo):
    write_venv(repo.root, system_site="true", dists=[("client", "1.0", {"requires": ["six"]})])
    assert results(repo, "ED409") == []


def test_ed409_conda_packages_count_as_installed(repo):
    conda = repo.root / "conda"
    (conda / "conda-meta").mkdir(parents=True)
    (conda / "conda-meta" / "python-3.12.4-h1_0.json").write_text("{}")
    (conda / "conda-meta" / "six-1.16.0-pyh1_0.json").write_text("{}")
    write_dist(repo.root, "conda/lib/python3.12/site-packages", "client", "1.0", requires=["six", "idna"],
               installer="conda")
    assert results(repo, "ED409") == [("ED409", "conda/lib/python3.12/site-packages/client-1.0.dist-info/METADATA", 5)]


def test_ed409_real_venv(repo):
    site = real_venv(repo.root / ".venv")
    rel = str(site.relative_to(repo.root))
    write_dist(repo.root, rel, "client", "1.0", requires=["helper>=2"])
    write_dist(repo.root, rel, "helper", "1.5")
    assert [f["code"] for f in repo.findings("--select", "ED409")] == ["ED409"]


def test_a_large_site_packages_stays_fast(repo):
    site = write_venv(repo.root)
    for index in range(1500):
        folder = repo.root / site / f"pkg{index}-1.0.dist-info"
        folder.mkdir()
        (folder / "METADATA").write_text(f"Name: pkg{index}\nVersion: 1.0\nRequires-Dist: pkg{(index + 1) % 1500}\n\n"
                                         + "description\n" * 2000)
    lock(repo, *[f"pkg{index}==1.0" for index in range(1500)])
    started = time.perf_counter()
    assert results(repo, "ED405", "ED406", "ED407", "ED408", "ED409") == []
    assert time.perf_counter() - started < 10


# --- ED408 with tool locks ----------------------------------------------------------------------------------

INDEX = 'source = { registry = "https://index.example.invalid/simple" }'


def uv_package(name: str, version: str, *, deps: str = "", more: str = "") -> str:
    return (f'[[package]]\nname = "{name}"\nversion = "{version}"\n{INDEX}\n'
            + (f"dependencies = [\n{deps}]\n" if deps else "") + more + "\n")


UV_LOCK = (
    'version = 1\nrevision = 3\nrequires-python = ">=3.12"\n\n'
    + uv_package("anyio", "4.6.2", deps='    { name = "idna" },\n    { name = "sniffio" },\n')
    + uv_package("colorama", "0.4.6") + uv_package("h2", "4.1.0")
    + uv_package("httpx", "0.27.2", deps='    { name = "anyio" },\n',
                 more='\n[package.optional-dependencies]\nhttp2 = [\n    { name = "h2" },\n]\n')
    + uv_package("idna", "3.10")
    + '[[package]]\nname = "inventory"\nversion = "1.0"\nsource = { editable = "." }\ndependencies = [\n'
      '    { name = "anyio" },\n    { name = "colorama", marker = "sys_platform == \'win32\'" },\n'
      '    { name = "httpx", extra = ["http2"] },\n]\n\n[package.optional-dependencies]\ncli = [\n'
      '    { name = "rich" },\n]\n\n[package.dev-dependencies]\ndev = [\n    { name = "pytest" },\n]\n'
      'docs = [\n    { name = "mkdocs" },\n]\n\n'
    + uv_package("mkdocs", "1.6.1") + uv_package("pytest", "8.3.3") + uv_package("rich", "13.9.4")
    + uv_package("sniffio", "1.3.1")
)
UV_INSTALLED = [("anyio", "4.6.2"), ("idna", "3.10"), ("sniffio", "1.3.1"), ("httpx", "0.27.2"), ("h2", "4.1.0"),
                ("pytest", "8.3.3"), ("inventory", "1.0", {"editable": True})]


def uv_project(repo, tool_uv: str = "") -> None:
    repo.write("pyproject.toml", '[project]\nname = "inventory"\nversion = "1.0"\nrequires-python = ">=3.12"\n'
                                 'dependencies = ["anyio", "httpx[http2]", "colorama; sys_platform == \'win32\'"]\n'
                                 + tool_uv)
    repo.write("uv.lock", UV_LOCK)


@pytest.mark.skipif(sys.platform == "win32", reason="the lock's colorama is for Windows")
def test_ed408_uv_lock_installed_exactly(repo):
    uv_project(repo)
    write_venv(repo.root, dists=UV_INSTALLED)
    assert results(repo, "ED408") == []


@pytest.mark.skipif(sys.platform == "win32", reason="the lock's colorama is for Windows")
def test_ed408_uv_lock_drift_follows_extras_markers_and_default_groups(repo):
    uv_project(repo)
    installed = [d for d in UV_INSTALLED if d[0] not in ("h2", "pytest")]
    write_venv(repo.root, dists=installed + [("idna", "3.9"), ("rich", "13.9.4"), ("colorama", "0.4.6"),
                                             ("ipython", "8.29.0")])
    # idna 3.9 beside 3.10 would hide the other version: install only 3.9
    site = ".venv/lib/python3.12/site-packages"
    shutil.rmtree(repo.root / site / "idna-3.10.dist-info")
    (message,) = messages(repo, "ED408")
    assert message.startswith("Environment .venv has drifted from uv.lock: 2 missing (h2, pytest); 1 at other "
                              "versions (idna 3.9 installed, 3.10 locked); 1 not in the lock (ipython).")
    assert repo.findings("--select", "ED408")[0]["fix_hint"] == "Re-sync it from the lock: `uv sync`."


def test_ed408_uv_default_groups_from_pyproject(repo):
    uv_project(repo, '\n[tool.uv]\ndefault-groups = ["docs"]\n')
    installed = [d for d in UV_INSTALLED if d[0] != "pytest"]
    write_venv(repo.root, dists=installed)
    (message,) = messages(repo, "ED408")
    assert "1 missing (mkdocs)" in message and "pytest" not in message


def test_ed408_uv_workspace_member_uses_the_root_lock(repo):
    uv_project(repo)
    repo.write("packages/tool/pyproject.toml", '[project]\nname = "tool"\nversion = "0.1"\n')
    write_venv(repo.root, "packages/tool/.venv", dists=[("anyio", "4.0.0")])
    (message,) = messages(repo, "ED408")
    assert "drifted from uv.lock" in message and "anyio 4.0.0 installed, 4.6.2 locked" in message


POETRY_LOCK = """\
# This file is automatically @generated by Poetry 2.1.1 and should not be changed by hand.

[[package]]
name = "brotli"
version = "1.1.0"
description = "compression"
optional = true
python-versions = "*"
groups = ["main"]
markers = "extra == \\"brotli\\""
files = []

[[package]]
name = "colorama"
version = "0.4.6"
description = "colours"
optional = false
python-versions = "*"
groups = ["dev"]
markers = "sys_platform == \\"win32\\""
files = []

[[package]]
name = "httpx"
version = "0.27.2"
description = "http"
optional = false
python-versions = ">=3.8"
groups = ["main"]
files = []

[[package]]
name = "mkdocs"
version = "1.6.1"
description = "docs"
optional = false
python-versions = ">=3.8"
groups = ["docs"]
files = []

[[package]]
name = "pytest"
version = "8.3.3"
description = "tests"
optional = false
python-versions = ">=3.8"
groups = ["dev"]
markers = {dev = "python_version >= \\"3.8\\""}
files = []

[metadata]
lock-version = "2.1"
python-versions = ">=3.12"
content-hash = "0000"
"""


def test_ed408_poetry_lock(repo):
    repo.write("pyproject.toml", '[tool.poetry]\nname = "inventory"\n\n[tool.poetry.group.docs]\noptional = true\n')
    repo.write("poetry.lock", POETRY_LOCK)
    write_venv(repo.root, dists=[("httpx", "0.27.2"), ("pytest", "8.3.3")])
    assert results(repo, "ED408") == []
    write_venv(repo.root, dists=[("black", "24.10.0")])
    shutil.rmtree(repo.root / ".venv/lib/python3.12/site-packages/pytest-8.3.3.dist-info")
    (finding,) = repo.findings("--select", "ED408")
    assert "1 missing (pytest); 1 not in the lock (black)" in finding["message"]
    assert finding["fix_hint"] == "Re-sync it from the lock: `poetry sync`."


PDM_LOCK = """\
[metadata]
groups = ["default", "dev", "socks"]
strategy = ["inherit_metadata"]
lock_version = "4.5.0"
content_hash = "sha256:0000"

[[metadata.targets]]
requires_python = ">=3.12"

[[package]]
name = "httpx"
version = "0.27.2"
requires_python = ">=3.8"
groups = ["default"]

[[package]]
name = "pysocks"
version = "1.7.1"
groups = ["socks"]

[[package]]
name = "pytest"
version = "8.3.3"
groups = ["dev"]
marker = "python_version >= \\"3.12\\""
"""


def test_ed408_pdm_lock(repo):
    repo.write("pyproject.toml", '[project]\nname = "inventory"\nversion = "1"\n'
                                 '[project.optional-dependencies]\nsocks = ["pysocks"]\n[dependency-groups]\ndev = ["pytest"]\n')
    repo.write("pdm.lock", PDM_LOCK)
    write_venv(repo.root, dists=[("httpx", "0.27.2"), ("pytest", "8.3.3")])
    assert results(repo, "ED408") == []
    shutil.rmtree(repo.root / ".venv/lib/python3.12/site-packages/pytest-8.3.3.dist-info")
    (finding,) = repo.findings("--select", "ED408")
    assert "1 missing (pytest)" in finding["message"] and finding["fix_hint"].endswith("`pdm sync --clean`.")


def test_ed408_pylock_and_its_markers(repo):
    repo.write("pylock.toml", 'lock-version = "1.0"\ncreated-by = "uv"\nrequires-python = ">=3.12"\n\n'
                              '[[packages]]\nname = "httpx"\nversion = "0.27.2"\n\n'
                              '[[packages]]\nname = "pywin32"\nversion = "308"\nmarker = "sys_platform == \'win32\'"\n')
    write_venv(repo.root, dists=[("httpx", "0.27.0")])
    (finding,) = repo.findings("--select", "ED408")
    assert finding["message"].startswith("Environment .venv has drifted from pylock.toml: 1 at other versions "
                                         "(httpx 0.27.0 installed, 0.27.2 locked).")


def test_ed408_pylock_with_extras_markers_judges_no_missing(repo):
    repo.write("pylock.toml", 'lock-version = "1.0"\n\n[[packages]]\nname = "httpx"\nversion = "0.27.2"\n'
                              'marker = "\'http2\' in extras"\n')
    write_venv(repo.root, dists=[("pip", "24.2")])
    assert results(repo, "ED408") == []


def test_ed408_pipfile_lock_default_section(repo):
    repo.write("Pipfile", '[packages]\nhttpx = "*"\n')
    repo.write("Pipfile.lock", json.dumps({
        "_meta": {"hash": {"sha256": "0"}, "pipfile-spec": 6, "requires": {}, "sources": []},
        "default": {"httpx": {"version": "==0.27.2", "markers": "python_version >= '3.8'"}},
        "develop": {"pytest": {"version": "==8.3.3"}}}, indent=4))
    write_venv(repo.root, dists=[("httpx", "0.27.2")])
    assert results(repo, "ED408") == []
    write_venv(repo.root, dists=[("pytest", "8.0.0")])
    (finding,) = repo.findings("--select", "ED408")
    assert "1 at other versions (pytest 8.0.0 installed, 8.3.3 locked)" in finding["message"]


def test_ed408_a_newer_lock_format_is_not_judged(repo):
    repo.write("uv.lock", UV_LOCK.replace("version = 1\nrevision = 3", "version = 2\nrevision = 0", 1))
    write_venv(repo.root, dists=[("ipython", "8.29.0")])
    assert results(repo, "ED408") == []


def test_a_long_metadata_header_is_read_whole(repo):
    site = write_venv(repo.root)
    folder = repo.root / site / "big-1.0.dist-info"
    folder.mkdir()
    classifiers = "".join(f"Classifier: Topic :: Item {i}\n" for i in range(1500))  # a header over 16 KiB
    (folder / "METADATA").write_text(f"Name: big\nVersion: 1.0\n{classifiers}Requires-Dist: absent-dep\n\nbody\n")
    assert results(repo, "ED409") == [("ED409", f"{site}/big-1.0.dist-info/METADATA", 1503)]


def _uv() -> str | None:
    import shutil as _shutil

    local = Path(sys.executable).parent / "uv"
    return str(local) if local.exists() else _shutil.which("uv")


@pytest.mark.skipif(_uv() is None or os.name == "nt", reason="uv is not installed here")
def test_a_real_uv_venv_is_read_and_probed(repo):
    import subprocess

    from envdoctor.probe import run_probe

    env = {**os.environ, "UV_NO_CONFIG": "1", "UV_PYTHON_DOWNLOADS": "never", "UV_OFFLINE": "1"}
    subprocess.run([_uv(), "venv", "--quiet", "--python", sys.executable, str(repo.root / ".venv")], check=True,
                   env=env, timeout=120, capture_output=True)
    cfg = (repo.root / ".venv" / "pyvenv.cfg").read_text()
    assert "uv = " in cfg and "version_info = " in cfg
    project(repo, f">={sys.version_info.major}.{sys.version_info.minor}")
    assert results(repo, "ED405", "ED406", "ED407", "ED408", "ED409") == []
    project(repo, f">{sys.version_info.major}.{sys.version_info.minor + 1}")
    assert [code for code, _, _ in results(repo, "ED407")] == ["ED407"]
    probe = run_probe(str(repo.root / ".venv" / "bin" / "python"))
    assert probe.in_venv and Path(probe.prefix) == repo.root / ".venv"
