"""The lockfile readers (sources/lockfiles.py) and the content hashes of sources/staleness.py.

Hash expectations are the tools' own values: computed with Poetry 2.5.1 (`Locker._get_content_hash`),
PDM 2.29.4 (`PyProject.content_hash`) and pipenv 2026.10.3 (`Pipfile.calculate_hash`, and plette's
`Pipfile.get_hash` for the older algorithm) on exactly these texts.
"""

from __future__ import annotations

import json
import sys

import pytest
from lockfile_fixtures import fixture_text

from envdoctor.files import SourceError
from envdoctor.sources.lockfiles import (
    CondaLock,
    LockedPackage,
    PdmLock,
    PipfileLock,
    PoetryLock,
    PyLock,
    UvLock,
    lockfile_kind,
    parse_lockfile,
    parse_pipfile,
    read_requirements_lock,
)
from envdoctor.sources.staleness import pdm_content_hash, pipfile_hash, poetry_constraint, poetry_content_hash

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


# --- uv.lock ------------------------------------------------------------------------------------------------


def test_uv_lock_packages_and_recorded_inputs():
    lock = parse_lockfile(fixture_text("uv-project", "uv.lock"), "uv.lock")
    assert isinstance(lock, UvLock)
    assert lock.kind == "uv" and lock.unknown_version is None and lock.revision == 5
    assert lock.requires_python == ">=3.10.0, <4"
    locked = lock.locked()
    assert locked["click"] == [LockedPackage("click", "8.5.0", line=locked["click"][0].line, source="registry")]
    assert lock.packages[0].line == 9  # the [[package]] header of attrs
    assert lock.packages[0].name == "attrs"
    (root,) = [p for p in lock.projects if p.path == "."]
    assert root.name == "demo-app" and root.source_kind == "editable" and root.version == "0.1.0"
    requires = {r.name: r for r in root.requires_dist}
    assert requires["requests"].extras == ("socks", "security")
    assert requires["requests"].specifier == ">=2.31" and requires["requests"].marker == "sys_platform != 'win32'"
    assert requires["helper"].sourced and not requires["click"].sourced
    assert requires["attrs"].marker == "python_full_version < '3.12' and extra == 'fast'"
    assert root.provides_extras == ["fast"]
    assert {g: [r.name for r in rs] for g, rs in root.requires_dev.items()} == {
        "dev": ["colorama", "packaging", "sniffio"], "lint": ["packaging"]}
    assert [r.name for r in lock.manifest_requirements("constraints")] == ["urllib3"]
    assert [r.specifier for r in lock.manifest_requirements("overrides")] == [">=2020"]
    helper = next(p for p in lock.projects if p.name == "helper")
    assert helper.path == "libs/helper" and helper.source_kind == "editable"


def test_uv_workspace_lock():
    lock = parse_lockfile(fixture_text("uv-workspace", "uv.lock"), "uv.lock")
    assert lock.manifest_members == ["a", "b", "root"]
    by_name = {p.name: p for p in lock.projects}
    assert by_name["root"].source_kind == "virtual" and by_name["root"].path == "."
    assert by_name["a"].path == "packages/a" and [r.name for r in by_name["a"].requires_dist] == ["idna"]
    assert not by_name["b"].has_metadata  # dynamic dependencies: uv records none


@pytest.mark.parametrize(("text", "unknown", "newer_major"), [
    ("version = 1\nrevision = 5\n", False, False),
    ("version = 1\nrevision = 3\n", False, False),
    ("version = 1\n", False, False),
    ("version = 1\nrevision = 9\n", True, False),
    ("version = 2\nrevision = 0\n", True, True),
    ('version = "one"\n', True, False),
])
def test_uv_lock_versions(text, unknown, newer_major):
    lock = parse_lockfile(text + '[[package]]\nname = "six"\nversion = "1.17.0"\n', "uv.lock")
    assert bool(lock.unknown_version) is unknown
    assert lock.newer_major is newer_major
    assert [p.name for p in lock.packages] == ["six"]  # read as far as possible


def test_odd_but_parsable_uv_lock_does_not_crash():
    text = ('version = 1\nrequires-python = 3\nmanifest = "x"\npackage = [1, "two", {name = 3}, '
            '{name = "ok", source = "x", metadata = 4, dependencies = "no"},'
            '{name = "root", source = {editable = "."}, metadata = {requires-dist = [1, {name = 2}], '
            'requires-dev = {dev = "x"}, provides-extras = "x"}}]\n')
    lock = parse_lockfile(text, "sub/uv.lock")
    assert [p.name for p in lock.packages] == ["ok", "root"]
    assert lock.requires_python is None and lock.manifest == {}
    (root,) = lock.projects
    assert root.requires_dist == [] and root.requires_dev == {"dev": []} and root.provides_extras is None


# --- poetry.lock, pdm.lock ----------------------------------------------------------------------------------


def test_poetry_lock():
    lock = parse_lockfile(fixture_text("poetry-project", "poetry.lock"), "poetry.lock")
    assert isinstance(lock, PoetryLock)
    assert str(lock.generator_version) == "2.5.1" and lock.format_version == "2.1"
    assert lock.python_versions == "^3.10" and lock.content_hash and len(lock.content_hash) == 64
    six = lock.locked()["six"][0]
    assert six.version == "1.17.0" and six.marker == 'extra == "six"' and six.groups == ("main",)
    assert lock.locked()["attrs"][0].groups == ("dev",)
    assert six.line == fixture_text("poetry-project", "poetry.lock").splitlines().index('name = "six"')


def test_poetry_lock_versions_and_per_group_markers():
    text = ('# This file is automatically @generated by Poetry 9.0 and should not be changed by hand.\n'
            '[[package]]\nname = "a"\nversion = "1"\ngroups = ["main", "dev"]\n'
            'markers = {main = "sys_platform == \'linux\'", dev = "sys_platform == \'linux\'"}\n'
            '[package.dependencies]\nB = ">=1"\n'
            '[metadata]\nlock-version = "3.0"\ncontent-hash = "x"\n')
    lock = parse_lockfile(text, "poetry.lock")
    assert lock.unknown_version and lock.newer_major
    (package,) = lock.packages
    assert package.marker == "sys_platform == 'linux'" and package.dependencies == ("b",)
    assert not parse_lockfile(text.replace('"3.0"', '"2.0"'), "poetry.lock").unknown_version


def test_pdm_lock():
    lock = parse_lockfile(fixture_text("pdm-project", "pdm.lock"), "pdm.lock")
    assert isinstance(lock, PdmLock)
    assert lock.format_version == "4.5.1" and lock.unknown_version is None
    assert lock.groups == ["default", "dev", "lint"] and lock.requires_python == ">=3.10"
    assert lock.content_hash.startswith("sha256:")
    assert lock.locked()["colorama"][0].groups == ("dev",)
    newer = parse_lockfile('[metadata]\nlock_version = "4.9.0"\n', "pdm.lock")
    assert newer.unknown_version and not newer.newer_major
    assert parse_lockfile('[metadata]\nlock_version = "5.0"\n', "pdm.lock").newer_major


# --- pylock.toml, Pipfile.lock, conda-lock ------------------------------------------------------------------


def test_pylock():
    lock = parse_lockfile(fixture_text("uv-project", "pylock.toml"), "pylock.toml")
    assert isinstance(lock, PyLock)
    assert lock.created_by == "uv" and lock.format_version == "1.0" and lock.unknown_version is None
    assert lock.locked()["certifi"][0].marker == "sys_platform != 'win32'"
    assert lock.locked()["helper"][0].source == "directory"
    assert parse_lockfile('lock-version = "1.1"\n', "pylock.dev.toml").unknown_version
    assert lockfile_kind("x/pylock.dev.toml") == "pylock" and lockfile_kind("pylock.toml.bak") is None


def test_pipfile_lock_with_lines():
    text = fixture_text("pipenv-project", "Pipfile.lock")
    lock = parse_lockfile(text, "Pipfile.lock")
    assert isinstance(lock, PipfileLock)
    assert lock.format_version == "6" and set(lock.sections) == {"default", "develop", "docs"}
    lines = text.splitlines()
    assert lock.locked()["click"][0].line == lines.index('        "click": {') + 1
    assert lock.locked()["idna"][0].groups == ("docs",)
    assert lock.locked()["six"][0].marker == "python_version < '3.13'"
    assert lock.locked()["click"][0].version == "8.5.0"
    minified = parse_lockfile(json.dumps(json.loads(text)), "Pipfile.lock")
    assert {p.line for p in minified.packages} == {1}


def test_pipfile_lock_errors_and_newer_spec():
    with pytest.raises(SourceError) as info:
        parse_lockfile('{"_meta": {}, \n "default": {,}}', "Pipfile.lock")
    assert info.value.position[0] == 2
    with pytest.raises(SourceError):
        parse_lockfile("[1, 2]", "Pipfile.lock")
    assert parse_lockfile('{"_meta": {"pipfile-spec": 7}}', "Pipfile.lock").unknown_version


CONDA_LOCK = """\
version: 1
metadata:
  content_hash:
    linux-64: 0d5a1ef3b2c4
  channels:
  - url: conda-forge
    used_env_vars: []
  platforms:
  - linux-64
  sources:
  - environment.yml
package:
- name: python
  version: 3.12.7
  manager: conda
  platform: linux-64
  dependencies:
    libzlib: '>=1.3.1,<2.0a0'
  url: https://conda.example.invalid/conda-forge/linux-64/python-3.12.7-hc5c86c4_0_cpython.conda
  hash:
    md5: 0515111a9cdf69f83278f7c197db9807
  category: main
  optional: false
- name: Requests
  version: 2.32.3
  manager: pip
  platform: linux-64
  dependencies: {}
  url: https://files.example.invalid/requests-2.32.3-py3-none-any.whl
  hash:
    sha256: 70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6
  category: main
  optional: false
"""


@pytest.mark.parametrize(("text", "position", "words"), [
    # libyaml reports a control character at a byte offset: the position is the character's own
    ("version: 1\nmetadata:\n  platforms: [\"é\x9b\"]\n", (3, 17), "U+009B"),
    ("version: 1\npackage: [\n", (3, 1), "expected"),  # a syntax error keeps its place
])
def test_conda_lock_yaml_errors_have_line_and_column(text, position, words):
    with pytest.raises(SourceError) as info:
        parse_lockfile(text, "conda-lock.yml")
    assert info.value.position == position
    message = str(info.value)
    assert words in message and f"(line {position[0]}, column {position[1]})" in message
    assert "<unicode string>" not in message


def test_conda_lock():
    lock = parse_lockfile(CONDA_LOCK, "conda-lock.yml")
    assert isinstance(lock, CondaLock)
    assert lock.platforms == ["linux-64"] and lock.sources == ["environment.yml"]
    python, requests = lock.packages
    assert (python.name, python.version, python.source, python.platform, python.line) == (
        "python", "3.12.7", "conda", "linux-64", 13)
    assert python.dependencies == ("libzlib",)
    assert (requests.name, requests.source, requests.line) == ("requests", "pip", 24)
    assert parse_lockfile(CONDA_LOCK.replace("version: 1", "version: 2"), "x.conda-lock.yml").unknown_version
    with pytest.raises(SourceError) as info:
        parse_lockfile("version: 1\npackage: [\n", "conda-lock.yml")
    assert "YAML" in str(info.value)
    assert parse_lockfile("just text\n", "conda-lock.yml").packages == []


@pytest.mark.parametrize("name", ["uv.lock", "poetry.lock", "pdm.lock", "pylock.toml"])
def test_broken_toml_lock_is_a_source_error_with_its_line(name):
    with pytest.raises(SourceError) as info:
        parse_lockfile('version = 1\n[[package]]\nname = "x\n', name)
    assert info.value.position[0] == 3


def test_pipfile():
    pipfile = parse_pipfile(fixture_text("pipenv-project", "Pipfile"), "Pipfile")
    assert set(pipfile.categories) == {"packages", "dev-packages", "docs"}
    assert pipfile.line_of("packages", "Click") == 7 and pipfile.line_of("docs") == 13


# --- requirements files as locks -------------------------------------------------------------------------


def test_pip_compile_output():
    lock = read_requirements_lock(fixture_text("pip-compile", "requirements.txt"), "requirements.txt")
    assert lock.tool == "pip-compile" and lock.inputs == ["requirements.in"]
    assert lock.fully_pinned and lock.hashed
    assert lock.via["click"] == ("-r requirements.in",) and lock.via["idna"] == ("requests",)
    assert lock.locked()["requests"][0].version == "2.34.2"


def test_uv_pip_compile_output_with_multiline_via():
    lock = read_requirements_lock(fixture_text("uv-pip-compile", "requirements.txt"), "requirements.txt")
    assert lock.tool == "uv pip compile" and lock.inputs == ["requirements.in"]
    assert lock.via["idna"] == ("-r base.in", "requests")
    assert not lock.hashed and lock.fully_pinned


def test_uv_export_and_pdm_export_headers():
    lock = read_requirements_lock(fixture_text("uv-project", "requirements.lock.txt"), "requirements.lock.txt")
    assert lock.tool == "uv export" and lock.inputs == []
    assert lock.command.startswith("uv export --frozen --all-groups")
    assert lock.locked()["certifi"][0].marker == 'sys_platform != "win32"'
    pdm = read_requirements_lock("# This file is @generated by PDM.\n# Please do not edit it manually.\n\nsix==1.17.0\n",
                                 "requirements.txt")
    assert pdm.tool == "pdm export" and pdm.fully_pinned
    plain = read_requirements_lock("# pinned by hand\nsix>=1\n", "requirements.txt")
    assert plain.tool is None and not plain.fully_pinned and plain.locked()["six"][0].version is None


# --- content hashes, against the tools' own values ----------------------------------------------------------

POETRY_CASES = {
    'legacy': '[tool.poetry]\nname = "x"\nversion = "1"\n[tool.poetry.dependencies]\npython = "^3.10"\nrequests = "^2.31"\n',
    'project': '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.10"\ndependencies = ["requests>=2.31", "click (>=8,<9)"]\n[project.optional-dependencies]\ncli = ["rich"]\n[tool.poetry.group.dev.dependencies]\npytest = "^8"\n',
    'groups': '[project]\nname = "x"\nversion = "1"\ndependencies = ["requests>=2.31"]\n[dependency-groups]\ntest = ["pytest>=8", {include-group = "lint"}]\nlint = ["ruff"]\n',
    'groups-only': '[tool.poetry]\npackage-mode = false\n[dependency-groups]\ndev = ["pytest"]\n',
    'unicode': '[tool.poetry.dependencies]\npython = "^3.10"\n"zope.interface" = {version = "*", markers = "platform_python_implementation == \'CPython\' and os_name != \'nt\' # é"}\n',
}
POETRY_HASHES = {
    "legacy": ("26c6969f623198fe2dd1a88515868fd8de211ffb90faeaca7e7310ef7a99baa2",) * 2,
    "project": ("758f926098e3e4f11cb9008cffb58fe4a890c815c72519327ae56f2fc8900dc4",) * 2,
    "groups": ("36efc2a7c1949df29a7cfef34d2647c2480a57deb539fcf849e0d27d2c73e64c",
               "7e59256238a5841fb23aa66891d9a18b465064046be9865c89eaf80281673e3c"),
    "groups-only": ("5b0891bf0467bf6c8b3d0e3c6af1d6f11080a99058b75bc3bee83cee4e04f1ff",
                    "115cf985d932e9bf5f540555bbdd75decbb62cac81e399375fc19f6277f8c1d8"),
    "unicode": ("a1850ad491d613e39a04f341fc3c8ddacfea5d876dbead528ccfb814bf0128b1",) * 2,
}


@pytest.mark.parametrize("case", sorted(POETRY_CASES))
def test_poetry_content_hash_matches_poetry(case):
    data = tomllib.loads(POETRY_CASES[case])
    with_groups, without_groups = POETRY_HASHES[case]
    assert poetry_content_hash(data) == with_groups
    assert poetry_content_hash(data, with_dependency_groups=False) == without_groups


def test_poetry_fixture_lock_hash():
    data = tomllib.loads(fixture_text("poetry-project", "pyproject.toml"))
    lock = parse_lockfile(fixture_text("poetry-project", "poetry.lock"), "poetry.lock")
    assert poetry_content_hash(data) == lock.content_hash


PDM_CASES = {
    'basic': '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.10"\ndependencies = ["requests>=2.31"]\n[project.optional-dependencies]\nsocks = ["pysocks"]\n[dependency-groups]\nTest = ["pytest"]\n[tool.pdm.dev-dependencies]\ntest = ["coverage"]\nlint = ["ruff"]\n[tool.pdm.resolution]\nrespect-source-order = true\n[[tool.pdm.source]]\nname = "private"\nurl = "https://index.example.invalid/simple"\n',
    'empty': '[project]\nname = "x"\nversion = "1"\n',
}
PDM_HASHES = {"basic": "f372707e729b54a44c78d138da1584983d274afe09a51d49c6b70cbbc538f05c",
              "empty": "ece479d1fc26bbc1091a4114e084312c6b77c8f8fc20195e68cc6393ef0b33d9"}


@pytest.mark.parametrize("case", sorted(PDM_CASES))
def test_pdm_content_hash_matches_pdm(case):
    assert pdm_content_hash(tomllib.loads(PDM_CASES[case])) == PDM_HASHES[case]


def test_pdm_fixture_lock_hash():
    data = tomllib.loads(fixture_text("pdm-project", "pyproject.toml"))
    lock = parse_lockfile(fixture_text("pdm-project", "pdm.lock"), "pdm.lock")
    assert "sha256:" + pdm_content_hash(data) == lock.content_hash


PIPFILE_CASE = '[[source]]\nurl = "https://index.example.invalid/simple"\nverify_ssl = true\nname = "private"\n\n[packages]\nRequests = ">=2.31"\n"Zope.Interface" = {version = "*", markers = "os_name != \'nt\'"}\n\n[dev-packages]\npytest = "*"\n\n[docs]\nSphinx = "*"\n\n[scripts]\ntest = "pytest"\n\n[pipenv]\nallow_prereleases = false\n\n[requires]\npython_version = "3.12"\n'


def test_pipfile_hash_matches_pipenv_and_plette():
    data = tomllib.loads(PIPFILE_CASE)
    assert pipfile_hash(data, canonical_names=True) == "f40e91f8606949dc15b9e7f4d4094b578a20c5086b59502e60e100e74773ab6e"
    assert pipfile_hash(data, canonical_names=False) == "5f06f8cca9feb02852f4d0ed464821e68b08d82df82ba906241721773b49208f"


def test_pipfile_without_source_is_hashed_with_the_locks_default_source():
    data = tomllib.loads(fixture_text("pipenv-project", "Pipfile"))
    lock = parse_lockfile(fixture_text("pipenv-project", "Pipfile.lock"), "Pipfile.lock")
    assert pipfile_hash(data, canonical_names=True) == lock.content_hash
    sources = data.pop("source")
    assert pipfile_hash(data, canonical_names=True) is None  # pipenv's built-in default is not known here
    assert pipfile_hash(data, canonical_names=True, default_sources=sources) == lock.content_hash


@pytest.mark.parametrize(("constraint", "allowed", "refused"), [
    ("^1.2.3", ["1.2.3", "1.9"], ["1.2.2", "2.0"]),
    ("^0.2.3", ["0.2.9"], ["0.3.0"]),
    ("^0.0.3", ["0.0.3"], ["0.0.4"]),
    ("^2", ["2.9"], ["3.0"]),
    ("~1.2.3", ["1.2.9"], ["1.3.0"]),
    ("~1", ["1.9"], ["2.0"]),
    ("1.2.*", ["1.2.7"], ["1.3"]),
    (">=1.0,<2", ["1.5"], ["2.0"]),
    (">= 1.0, < 2", ["1.5"], ["2.0"]),
    ("1.0 || 3.0", ["1.0", "3.0"], ["2.0"]),
    ("1.4", ["1.4.0"], ["1.4.1"]),
    ("*", ["0.1"], []),
])
def test_poetry_constraints(constraint, allowed, refused):
    alternatives = poetry_constraint(constraint)
    assert alternatives is not None
    for version in allowed:
        assert any(a.contains(version) for a in alternatives), version
    for version in refused:
        assert not any(a.contains(version) for a in alternatives), version
    assert poetry_constraint("not a constraint") is None


def test_poetry_lock_before_groups_uses_categories():
    text = ('[[package]]\nname = "pytest"\nversion = "8.3.3"\ncategory = "dev"\noptional = false\n\n'
            '[[package]]\nname = "six"\nversion = "1.16.0"\n\n[metadata]\nlock-version = "1.1"\n')
    pytest_, six = parse_lockfile(text, "poetry.lock").packages
    assert pytest_.groups == ("dev",) and six.groups == ()


# --- odd but parsable input never crashes a reader, the project model or the rules ------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_KEYS = ["version", "revision", "requires-python", "package", "packages", "metadata", "manifest", "name", "source",
         "dependencies", "requires-dist", "requires-dev", "provides-extras", "editable", "virtual", "marker",
         "specifier", "extras", "groups", "markers", "content-hash", "content_hash", "lock-version", "lock_version",
         "created-by", "members", "constraints", "category", "dev"]
_SCALARS = st.one_of(st.integers(-3, 3), st.booleans(), st.sampled_from(["", ".", "x", "1.0", ">=1", "six",
                                                                          "python_version < '3.9'", "sha256:00"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4)), max_leaves=12)


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f'"{k}" = {_toml(v)}' for k, v in value.items()) + "}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=6))
def test_readers_take_any_structure(data):
    text = "".join(f'"{key}" = {_toml(value)}\n' for key, value in data.items())
    for name in ("uv.lock", "poetry.lock", "pdm.lock", "pylock.toml"):
        lock = parse_lockfile(text, name)
        assert all(isinstance(p.name, str) for p in lock.packages)
        lock.locked()
    parse_lockfile(json.dumps(data), "Pipfile.lock")
    parse_pipfile(text, "Pipfile").categories


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(pyproject=st.dictionaries(st.sampled_from(["project", "tool", "dependency-groups", "build-system"]),
                                 st.dictionaries(st.sampled_from(_KEYS + ["uv", "poetry", "pdm", "optional-dependencies",
                                                                           "dynamic", "workspace", "sources"]),
                                                 _VALUES, max_size=4), max_size=3),
       lock=st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=5))
def test_rules_take_any_structure(tmp_path_factory, pyproject, lock):
    from conftest import Repo

    root = tmp_path_factory.mktemp("odd")
    repo = Repo(root)
    repo.write("pyproject.toml", "".join(f'"{k}" = {_toml(v)}\n' for k, v in pyproject.items()))
    text = "".join(f'"{key}" = {_toml(value)}\n' for key, value in lock.items())
    for name in ("uv.lock", "poetry.lock", "pdm.lock", "pylock.toml"):
        repo.write(name, text)
    result = repo.check("--select", "ED2", "--format", "json")
    assert result.exit_code in (0, 1), result.output
