"""ED203 lockfile-stale: what it must flag and the near-misses.

The uv cases were each checked against `uv lock --check` (uv 0.13.9) on the same files, the Poetry cases
against `poetry check --lock` (2.5.1), the PDM cases against `pdm lock --check` (2.29.4) and the Pipfile
cases against `pipenv verify` (2026.10.3): "stale" below is the tool's verdict, and so is "fresh".
"""

from __future__ import annotations

import json

import pytest
from lockfile_fixtures import edit, install


EXPORTS = ("pylock.toml", "requirements.lock.txt")  # checked on their own below


def stale(repo, *args):
    return [(f["path"], f["line"], f["message"]) for f in repo.findings("--select", "ED203", *args)]


# --- uv.lock ------------------------------------------------------------------------------------------------

UV_FRESH = [  # edits uv does not consider stale
    ("whitespace", '"Click>=8.1.0",', '"Click >= 8.1.0"   ,'),
    ("trailing .0", '"Click>=8.1.0"', '"click>=8.1"'),
    ("name case", '"six ;', '"SIX ;'),
    ("redundant marker removed", "\"six ; python_version >= '3.8'\"", '"six"'),
    ("redundant marker changed", "python_version >= '3.8'", "python_version >= '3.9'"),
    ("requires-python .0", '">=3.10.0, <4"', '">=3.10,<4"'),
    ("requires-python order", '">=3.10.0, <4"', '"<4.0,>=3.10"'),
    ("extras order", "requests[socks,Security]", "requests[security,socks]"),
    ("marker quotes", "sys_platform != 'win32'", 'sys_platform!=\\"win32\\"'),
    ("python_version as python_full_version", "python_version < '3.12'", "python_full_version < '3.12'"),
    ("marker implied by requires-python", "python_version < '3.12'", "python_version < '3.12' and python_version >= '3.9'"),
    ("description", 'version = "0.1.0"\n', 'version = "0.1.0"\ndescription = "An app."\n'),
    ("version spelled differently", 'version = "0.1.0"', 'version = "0.1"'),
    ("urls", "[project.optional-dependencies]", '[project.urls]\nHome = "https://example.invalid"\n\n[project.optional-dependencies]'),
    ("index added", "[tool.uv.sources]", '[[tool.uv.index]]\nname = "x"\nurl = "https://index.example.invalid/simple"\n\n[tool.uv.sources]'),
    ("group reordered", 'dev = ["colorama", {include-group = "lint"}]', 'dev = [{include-group = "lint"}, "colorama"]'),
    ("extra name case", "Fast = [", "fast = ["),
    ("constraint .0", '["urllib3<3"]', '["urllib3<3.0"]'),
    ("duplicate specifier", '"Click>=8.1.0"', '"Click>=8.1.0,>=8.1"'),
    ("subsumed duplicate", '    "helper",\n', "    \"helper\",\n    \"Click>=8.1; sys_platform == 'win32'\",\n"),
    ("redundant marker added", '"Click>=8.1.0"', "\"Click>=8.1.0; python_version >= '3.10' or sys_platform == 'linux'\""),
    ("extra marker written out", '"idna"]', "\"idna; extra == 'fast'\"]"),
    ("legacy dev-dependencies moved to the group", 'dev-dependencies = ["sniffio"]\n', ""),
    # uv records a source's path relative to the lock's folder, normalised.
    ("source path spelled ./", 'path = "libs/helper"', 'path = "./libs/helper"'),
    ("source path trailing slash", 'path = "libs/helper"', 'path = "libs/helper/"'),
    ("source path with ..", 'path = "libs/helper"', 'path = "libs/../libs/helper"'),
    ("source keys reordered", '{ path = "libs/helper", editable = true }', '{ editable = true, path = "libs/helper" }'),
    ("source name case", "helper = { path", "Helper = { path"),
    # Not compared (precision first): an absolute path, several sources with markers.
    ("source absolute path", 'path = "libs/helper"', 'path = "/srv/libs/helper"'),
    ("source list with markers", '{ path = "libs/helper", editable = true }',
     "[{ path = \"libs/other\", marker = \"sys_platform == 'win32'\" }, { path = \"libs/helper\", editable = true }]"),
    # Without requires-python uv takes the interpreter's version: unknowable statically, not reported.
    ("requires-python removed", 'requires-python = ">=3.10.0, <4"\n', ""),
]


@pytest.mark.parametrize(("label", "old", "new"), UV_FRESH, ids=[c[0] for c in UV_FRESH])
def test_uv_fresh(repo, label, old, new):
    install(repo, "uv-project", skip=EXPORTS)
    edit(repo, "pyproject.toml", old, new)
    if label.startswith("legacy"):
        edit(repo, "pyproject.toml", 'dev = ["colorama",', 'dev = ["sniffio", "colorama",')
    assert stale(repo) == []


UV_STALE = [  # (label, old, new, line, words in the message)
    ("requires-python", '">=3.10.0, <4"', '">=3.10"', 4, "requires-python '>=3.10' changed"),
    ("tightened", '"Click>=8.1.0"', '"Click>=8.2"', 6, "'Click>=8.2' in [project] dependencies changed (uv.lock records 'click>=8.1.0')"),
    ("added", '    "helper",\n', '    "helper",\n    "idna",\n', 10, "'idna' in [project] dependencies was added"),
    ("removed", '    "helper",\n', "", 5, "'helper' in [project] dependencies was removed"),
    ("extra dropped", "requests[socks,Security]", "requests[socks]", 8, "changed"),
    ("marker changed", "python_version < '3.12'", "python_version < '3.13'", 13, "in the extra 'fast' changed"),
    ("version", 'version = "0.1.0"', 'version = "0.2.0"', 3, "the version changed from 0.1.0 to 0.2.0"),
    ("group", 'lint = ["packaging>=24"]', 'lint = ["packaging>=24", "idna"]', 17, "'idna' in the dependency group 'lint' was added"),
    ("extra added", "Fast = [", 'other = ["idna"]\nFast = [', 13, "the extra 'other' was added"),
    ("empty extra added", "Fast = [", "other = []\nFast = [", 13, "the extra 'other' was added"),
    ("constraint", '["urllib3<3"]', '["urllib3<2.9"]', 20, "in [tool.uv] constraint-dependencies changed"),
    ("override", '["certifi>=2020"]', '["certifi>=2021"]', 21, "in [tool.uv] override-dependencies changed"),
    ("no build system", '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n', "", 1,
     "is no longer packaged"),
    ("package = false", "[tool.uv]\n", "[tool.uv]\npackage = false\n", 20, "is no longer packaged"),
    ("narrower duplicate", '    "helper",\n', "    \"helper\",\n    \"Click>=8.2; python_version >= '3.99'\",\n", 10, "was added"),
    ("source editable dropped", '{ path = "libs/helper", editable = true }', '{ path = "libs/helper" }', 25,
     "the source of 'helper' in [project] dependencies changed ([tool.uv.sources] says the path 'libs/helper' "
     "(not editable); uv.lock records the editable path 'libs/helper')"),
    ("source path changed", 'path = "libs/helper"', 'path = "libs/helper2"', 25,
     "says the editable path 'libs/helper2'; uv.lock records the editable path 'libs/helper')"),
    ("source removed", 'helper = { path = "libs/helper", editable = true }', "", 9,
     "the source of 'helper' in [project] dependencies changed ([tool.uv.sources] names no source (the package "
     "index); uv.lock records the editable path 'libs/helper')"),
    ("impossible marker", '    "helper",\n', "    \"helper\",\n    \"idna; python_version >= '4.5'\",\n", 10, "was added"),
]


@pytest.mark.parametrize(("label", "old", "new", "line", "words"), UV_STALE, ids=[c[0] for c in UV_STALE])
def test_uv_stale(repo, label, old, new, line, words):
    install(repo, "uv-project", skip=EXPORTS)
    edit(repo, "pyproject.toml", old, new)
    (finding,) = stale(repo)
    assert finding[0] == "pyproject.toml" and finding[1] == line
    assert finding[2].startswith("uv.lock is stale for project 'Demo_App' (the repository root): ")
    assert words in finding[2]


def test_uv_several_changes_are_listed_with_a_count(repo):
    install(repo, "uv-project", skip=EXPORTS)
    edit(repo, "pyproject.toml", '    "helper",\n', '    "helper",\n    "idna",\n    "anyio",\n    "h11",\n    "httpx",\n')
    (finding,) = stale(repo)
    assert "'idna' in [project] dependencies was added; 'anyio'" in finding[2]
    assert finding[2].endswith("; and 1 more change.")


# Compatible releases and prefix matches keep their trailing zeros (`~=2.10.0` is `>=2.10.0,<2.11`, `~=2.10`
# is `>=2.10,<3`); specifiers that admit the same versions are the same (`~=2.10` is `>=2.10,<3`), except
# where a bound names a pre-release (uv draws `<3` and `<3.0.dev0` apart). Each verdict is uv 0.13.9's.
UV_SPECIFIERS = [  # (what uv.lock records, what pyproject.toml now says, stale)
    ("~=2.10", "~=2.10.0", True),
    ("~=2.10.0", "~=2.10", True),
    ("~=2.10", "~=2.10.0.0", True),
    ("==2.32.*", "==2.32.0.*", True),
    ("~=2.10", ">=2.10", True),
    ("~=2.10", ">=2.10,<3.0.dev0", True),
    ("~=2.10", ">=2.10.0rc1,<3", True),
    ("~=2.10", ">=2.10,<3", False),
    ("~=2.10", "<3.0,>=2.10.0", False),
    ("~=2.10", ">=2.10,==2.*", False),
    ("~=2.10.0", ">=2.10,<2.11", False),
    ("==2.32.*", "== 2.32.*", False),
]


@pytest.mark.parametrize(("recorded", "declared", "is_stale"), UV_SPECIFIERS,
                         ids=[f"{r} to {d}" for r, d, _ in UV_SPECIFIERS])
def test_uv_specifiers_compared_by_the_versions_they_admit(repo, recorded, declared, is_stale):
    install(repo, "uv-project", skip=EXPORTS)
    edit(repo, "uv.lock", '{ name = "click", specifier = ">=8.1.0" }', f'{{ name = "click", specifier = "{recorded}" }}')
    edit(repo, "pyproject.toml", '"Click>=8.1.0"', f'"Click{recorded}"')
    assert stale(repo) == []
    edit(repo, "pyproject.toml", f'"Click{recorded}"', f'"Click{declared}"')
    findings = stale(repo)
    if is_stale:
        ((path, line, message),) = findings
        assert (path, line) == ("pyproject.toml", 6)
        assert f"'Click{declared}' in [project] dependencies changed (uv.lock records 'click{recorded}')" in message
    else:
        assert findings == []


@pytest.mark.parametrize(("declared", "is_stale"), [(">=3.10.dev0, <4", False), (">=3.10rc1,<4", False),
                                                    (">=3.10,<4.0", False), (">=3.9.99,<4", True),
                                                    (">3.9,<4", True), (">=3.10,<4,!=3.10.0", True),
                                                    (">=3.10,<4,!=3.12.0", False), (">=3.10,<4,!=3.13.*", False),
                                                    (">=3.10,<3.13,!=3.12.*", True)])
def test_uv_requires_python_compared_by_final_releases(repo, declared, is_stale):
    # uv records `>=3.11.dev0` as `>=3.11`: its Python range keeps release numbers only, and only its bounds
    # (checked with uv 0.13.9: an exclusion inside the range leaves `uv lock --check` passing and `uv lock`
    # rewriting nothing; one at an edge, `!=3.10.0` after `>=3.10`, moves the bound)
    install(repo, "uv-project", skip=EXPORTS)
    edit(repo, "pyproject.toml", '">=3.10.0, <4"', f'"{declared}"')
    findings = stale(repo)
    assert len(findings) == is_stale
    if is_stale:
        assert f"requires-python '{declared}' changed" in findings[0][2] and findings[0][1] == 4


def test_uv_workspace(repo):
    install(repo, "uv-workspace")
    assert stale(repo) == []
    edit(repo, "packages/a/pyproject.toml", '["idna>=3"]', '["IDNA>=3.0"]')  # the same, spelled differently
    edit(repo, "packages/a/pyproject.toml", '">=3.10"', '">=3.9"')  # the intersection is still >=3.11
    assert stale(repo) == []
    edit(repo, "packages/a/pyproject.toml", 'test = ["attrs"]', 'test = ["attrs", "six"]')
    edit(repo, "packages/a/pyproject.toml", 'version = "0.1"', 'version = "0.2"')
    ((path, line, message),) = stale(repo)
    assert (path, line) == ("packages/a/pyproject.toml", 3)
    assert message.startswith("uv.lock is stale for project 'a' (packages/a): the version changed from 0.1 to 0.2; "
                              "'six' in the dependency group 'test' was added")


def test_uv_workspace_members_added_removed_and_requires_python(repo):
    install(repo, "uv-workspace")
    repo.write("packages/c/pyproject.toml", '[project]\nname = "c"\nversion = "1"\ndependencies = []\n')
    edit(repo, "pyproject.toml", 'members = ["packages/*"]', 'members = ["packages/*"]\nexclude = ["packages/b"]')
    edit(repo, "packages/a/pyproject.toml", '">=3.10"', '">=3.12"')
    findings = stale(repo)
    assert [(p, line) for p, line, _ in findings] == [("packages/c/pyproject.toml", 2), ("pyproject.toml", 8)]
    assert "the project 'c' is not recorded in uv.lock" in findings[0][2]
    assert findings[1][2] == (
        "uv.lock is stale for project 'root' (the repository root): the workspace member 'b' was removed; "
        "requires-python '>=3.12' of packages/a/pyproject.toml changed the workspace's Python range (uv.lock "
        "records '>=3.11', the intersection of the members').")


def test_uv_workspace_member_scanned_alone(repo):
    install(repo, "uv-workspace")
    edit(repo, "packages/a/pyproject.toml", '["idna>=3"]', '["idna>=3", "six"]')
    ((path, line, message),) = stale(repo, str(repo.root / "packages" / "a"))
    assert (path, line) == ("packages/a/pyproject.toml", 5) and "'six' in [project] dependencies was added" in message


def test_uv_dynamic_dependencies_are_not_judged(repo):
    install(repo, "uv-workspace")
    repo.write("packages/b/requirements.txt", "six\n")  # whatever b's build backend reads
    assert stale(repo) == []


def test_uv_virtual_workspace_root_groups(repo):
    repo.write("pyproject.toml", '[dependency-groups]\ndev = ["six", "idna"]\n\n[tool.uv.workspace]\nmembers = []\n')
    repo.write("uv.lock", 'version = 1\nrevision = 5\nrequires-python = ">=3.11"\n\n[manifest.dependency-groups]\n'
                          'dev = [{ name = "six" }]\n')
    ((path, line, message),) = stale(repo)
    assert (path, line) == ("pyproject.toml", 2) and "'idna' in the dependency group 'dev' was added" in message


def test_uv_newer_major_version_is_not_judged(repo):
    install(repo, "uv-project", skip=EXPORTS)
    edit(repo, "uv.lock", "version = 1\n", "version = 2\n")
    edit(repo, "pyproject.toml", '"Click>=8.1.0"', '"Click>=8.2"')
    assert stale(repo) == []
    edit(repo, "uv.lock", "version = 2\nrevision = 5\n", "version = 1\nrevision = 7\n")  # a newer revision is read
    assert len(stale(repo)) == 1


def test_uv_odd_pyproject_is_not_judged(repo):
    install(repo, "uv-project", skip=EXPORTS)
    edit(repo, "pyproject.toml", '"Click>=8.1.0",', '"Click>=8.1.0", "not a requirement!",')
    assert stale(repo) == []


# --- poetry.lock ----------------------------------------------------------------------------------------------

POETRY_FRESH = [
    ("whitespace", 'click = "^8.1"', 'click   =   "^8.1"'),
    ("version bump", 'version = "0.1.0"', 'version = "0.2.0"'),
    ("description", 'description = ""', 'description = "x"'),
    ("comment", 'click = "^8.1"', 'click = "^8.1"  # the CLI'),
    ("inline table as a table", 'Six = { version = ">=1.16", optional = true }\n',
     '\n[tool.poetry.dependencies.Six]\nversion = ">=1.16"\noptional = true\n'),
    ("inline table key order", 'Six = { version = ">=1.16", optional = true }', 'Six = { optional = true, version = ">=1.16" }'),
]


@pytest.mark.parametrize(("label", "old", "new"), POETRY_FRESH, ids=[c[0] for c in POETRY_FRESH])
def test_poetry_fresh(repo, label, old, new):
    install(repo, "poetry-project")
    edit(repo, "pyproject.toml", old, new)
    assert stale(repo) == []


POETRY_STALE = [
    ("added", 'click = "^8.1"', 'click = "^8.1"\nidna = "^3"', 11, "'idna ^3' is not in poetry.lock (added since it was written)"),
    ("removed", 'click = "^8.1"\n', "", 8, "'click' is locked but no longer declared (removed since poetry.lock was written)"),
    ("changed, unsatisfied", 'click = "^8.1"', 'click = "^9.0"', 10, "'click ^9.0' does not allow the locked version 8.5.0"),
    ("changed, satisfied", 'click = "^8.1"', 'click = "^8.2"', 8, "its content-hash no longer matches"),
    ("python", 'python = "^3.10"', 'python = "^3.11"', 9, "the Python constraint '^3.11' changed (poetry.lock records '^3.10')"),
    ("group", 'attrs = ">=23"', 'attrs = ">=23"\ncolorama = "*"', 18, "'colorama' is not in poetry.lock"),
    ("extras", 'six = ["six"]', 'six = ["six"]\nall = ["six"]', 8, "its content-hash no longer matches"),
    ("source", 'priority = "primary"', 'priority = "supplemental"', 8, "its content-hash no longer matches"),
    ("moved to dev", 'click = "^8.1"\n', "", 8, "removed"),
]


@pytest.mark.parametrize(("label", "old", "new", "line", "words"), POETRY_STALE, ids=[c[0] for c in POETRY_STALE])
def test_poetry_stale(repo, label, old, new, line, words):
    install(repo, "poetry-project")
    edit(repo, "pyproject.toml", old, new)
    ((path, found_line, message),) = stale(repo)
    assert (path, found_line) == ("pyproject.toml", line)
    assert message.startswith("poetry.lock is stale for project 'demo' (the repository root): ")
    assert words in message


def test_poetry_dependency_moved_between_groups_is_named(repo):
    install(repo, "poetry-project")
    edit(repo, "pyproject.toml", 'attrs = ">=23"', 'attrs = ">=23"\nclick = "^8.1"')
    edit(repo, "pyproject.toml", 'click = "^8.1"\n', "")
    ((_, _, message),) = stale(repo)
    assert "'click ^8.1' is not locked for the group 'dev' in poetry.lock" in message


def test_poetry_locks_before_2_3_were_hashed_without_dependency_groups(repo):
    from envdoctor.sources.staleness import poetry_content_hash
    from envdoctor.sources.toml import parse_toml

    pyproject = ('[project]\nname = "x"\nversion = "1"\ndependencies = ["six"]\n\n'
                 '[dependency-groups]\ndev = ["pytest"]\n')
    old_hash = poetry_content_hash(parse_toml(pyproject).data, with_dependency_groups=False)
    lock = ('# This file is automatically @generated by Poetry {v} and should not be changed by hand.\n\n'
            '[[package]]\nname = "six"\nversion = "1.17.0"\ngroups = ["main"]\nfiles = []\n\n'
            '[metadata]\nlock-version = "2.1"\npython-versions = "*"\ncontent-hash = "' + old_hash + '"\n')
    repo.write("pyproject.toml", pyproject)
    repo.write("poetry.lock", lock.format(v="2.2.1"))
    assert stale(repo) == []
    repo.write("poetry.lock", lock.format(v="2.3.0"))  # a 2.3 lock would have hashed the groups too
    ((_, line, message),) = stale(repo)
    assert "'pytest' is not in poetry.lock (added since it was written)" in message and line == 7


# --- pdm.lock ---------------------------------------------------------------------------------------------------

PDM_CASES = [  # (label, old, new, expected words or None when fresh)
    ("version bump", 'version = "0.1.0"', 'version = "0.2.0"', None),
    ("group name case", 'Dev = ["colorama"]', 'dev = ["colorama"]', None),
    ("distribution", "distribution = false", "distribution = true", None),
    ("whitespace is hashed", '"click>=8.1"', '"click >= 8.1"', "its content_hash no longer matches"),
    ("reordering is hashed", '["click>=8.1", "Six; python_version < \'3.13\'"]',
     '["Six; python_version < \'3.13\'", "click>=8.1"]', "reordering or reformatting"),
    ("added", '"click>=8.1",', '"click>=8.1", "attrs",', "'attrs' is not locked as a default dependency in pdm.lock"),
    ("removed", '"click>=8.1", ', "", "'click' is locked but no longer declared"),
    ("changed", '"click>=8.1"', '"click>=9"', "'click>=9' does not allow the locked version 8.5.0"),
    ("group", 'lint = ["packaging"]', 'lint = ["packaging", "six"]', "'six' is not locked for the group 'lint'"),
    ("requires-python", '">=3.10"', '">=3.11"', "requires-python '>=3.11' changed (pdm.lock's target records '>=3.10')"),
]


@pytest.mark.parametrize(("label", "old", "new", "words"), PDM_CASES, ids=[c[0] for c in PDM_CASES])
def test_pdm(repo, label, old, new, words):
    install(repo, "pdm-project")
    assert stale(repo) == []
    edit(repo, "pyproject.toml", old, new)
    findings = stale(repo)
    if words is None:
        assert findings == []
    else:
        ((path, _, message),) = findings
        assert path == "pyproject.toml" and words in message


@pytest.mark.parametrize(("old", "new", "line", "words"), [
    ('lint = ["packaging"]\n', 'lint = ["packaging"]\ntyping = ["mypy"]\n', 19,
     "the dependency group 'typing' in [tool.pdm.dev-dependencies] was added ('mypy') (pdm.lock has no such group)"),
    ('Dev = ["colorama"]\n', 'Dev = ["colorama"]\nDocs = []\n', 12,
     "the dependency group 'Docs' in [dependency-groups] was added (pdm.lock has no such group)"),
])
def test_pdm_added_dependency_group_is_named_at_its_line(repo, old, new, line, words):
    install(repo, "pdm-project")
    edit(repo, "pyproject.toml", old, new)
    ((path, found_line, message),) = stale(repo)
    assert (path, found_line) == ("pyproject.toml", line)
    assert message.endswith(words + ".")


def test_pdm_group_missing_from_the_lock_with_another_change_is_not_called_added(repo):
    # A group left out with `pdm lock -G` is still hashed: when removing the new group does not explain the
    # hash, it is not named as added (the generic hash message remains).
    install(repo, "pdm-project")
    edit(repo, "pyproject.toml", 'lint = ["packaging"]\n', 'lint = ["packaging"]\ntyping = ["mypy"]\n')
    edit(repo, "pyproject.toml", '"click>=8.1"', '"click >= 8.1"')
    ((path, line, message),) = stale(repo)
    assert "was added" not in message and "its content_hash no longer matches" in message and line == 5


def test_pdm_lock_inputs_and_workspaces_are_not_hash_checked(repo):
    install(repo, "pdm-project")
    edit(repo, "pyproject.toml", '"click>=8.1"', '"click >= 8.1"')
    edit(repo, "pdm.lock", "[metadata]\n", '[metadata]\nlock_inputs = { dependencies = ["click>=8.1"] }\n')
    assert stale(repo) == []
    edit(repo, "pyproject.toml", '"click >= 8.1"', '"click>=9"')  # still named when certain
    assert "'click>=9' does not allow" in stale(repo)[0][2]


# --- Pipfile.lock -----------------------------------------------------------------------------------------------

PIPENV_CASES = [
    ("name case", 'Click = ">=8.1"', 'click = ">=8.1"', None),
    ("whitespace", 'Click = ">=8.1"', 'Click   = ">=8.1"', None),
    ("scripts", "[requires]", '[scripts]\ntest = "pytest"\n\n[requires]', None),
    ("added", 'Click = ">=8.1"', 'Click = ">=8.1"\nidna = "*"', "'idna' is not in Pipfile.lock"),
    ("tightened", 'Click = ">=8.1"', 'Click = ">=8.2"', "its _meta.hash no longer matches the Pipfile"),
    ("changed", 'Click = ">=8.1"', 'Click = ">=9"', "'Click >=9' does not allow the locked version 8.5.0"),
    ("requires", 'python_version = "3.11"', 'python_version = "3.12"', "[requires] changed"),
    ("category", 'idna = "*"', 'idna = "*"\nsix = "*"', "'six' is not in the 'docs' section of Pipfile.lock"),
    ("source", "verify_ssl = false", "verify_ssl = true", "[[source]] changed"),
]


@pytest.mark.parametrize(("label", "old", "new", "words"), PIPENV_CASES, ids=[c[0] for c in PIPENV_CASES])
def test_pipenv(repo, label, old, new, words):
    install(repo, "pipenv-project")
    assert stale(repo) == []
    edit(repo, "Pipfile", old, new)
    findings = stale(repo)
    if words is None:
        assert findings == []
    else:
        ((path, _, message),) = findings
        assert path == "Pipfile" and message.startswith("Pipfile.lock is stale for project at the repository root: ")
        assert words in message


def test_pipfile_without_source_is_hashed_with_the_source_the_lock_records(repo):
    # pipenv hashes a Pipfile without [[source]] with its built-in default source, which the lock records.
    install(repo, "pipenv-project")
    text = (repo.root / "Pipfile").read_text()
    repo.write("Pipfile", text[text.index("[packages]"):])
    assert stale(repo) == []
    edit(repo, "Pipfile", 'Click = ">=8.1"', 'Click = ">=8.2"')
    assert "its _meta.hash no longer matches" in stale(repo)[0][2]
    lock = json.loads((repo.root / "Pipfile.lock").read_text())
    del lock["_meta"]["sources"]
    repo.write("Pipfile.lock", json.dumps(lock))
    assert stale(repo) == []  # the default source is not known here: not judged


# --- requirements files -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fixture", "old", "new", "where", "words"), [
    ("pip-compile", "requests\n", "requests\nhttpx\n", ("requirements.in", 3), "'httpx' is not in requirements.txt"),
    ("pip-compile", "click>=8.1", "click>=9", ("requirements.in", 1), "'click>=9' does not allow the locked version 8.5.0"),
    ("pip-compile", "requests\n", "", ("requirements.in", 1), "'requests' is pinned for -r requirements.in but no longer declared"),
    ("uv-pip-compile", "click>=8.1\n", "click>=8.1\nanyio\n", ("requirements.in", 2), "'anyio' is not in requirements.txt"),
])
def test_compiled_requirements(repo, fixture, old, new, where, words):
    install(repo, fixture)
    assert stale(repo) == []
    edit(repo, "requirements.in", old, new)
    ((path, line, message),) = stale(repo)
    assert (path, line) == where and words in message
    assert message.startswith("requirements.txt is stale for project at the repository root: ")


def test_compiled_requirements_follow_included_inputs(repo):
    install(repo, "uv-pip-compile")
    edit(repo, "base.in", "idna\n", "idna\nsix\n")
    ((path, line, message),) = stale(repo)
    assert (path, line) == ("base.in", 2) and "'six' is not in requirements.txt" in message


@pytest.mark.parametrize(("requirements_in", "label"), [
    ("click>=8.1\nrequests\nclick>=8.2\n", "a tightened range the pin still satisfies: not knowable"),
    ("click>=8.1\nrequests\npywin32; sys_platform == 'win32'\n", "a marker the compiling machine did not match"),
    ("click>=8.1\nrequests\n-e ./libs/x\n", "an editable path"),
    ("click>=8.1\nRequests\n", "name case"),
])
def test_compiled_requirements_near_misses(repo, requirements_in, label):
    install(repo, "pip-compile")
    repo.write("requirements.in", requirements_in)
    assert stale(repo) == [], label


def test_requirements_without_input_or_header_are_not_judged(repo):
    repo.write("requirements.txt", "click==8.5.0\n")
    repo.write("dev-requirements.in", "pytest\n")  # not this file's input
    assert stale(repo) == []


def test_uv_export_against_pyproject(repo):
    install(repo, "uv-project", skip=("uv.lock", "pylock.toml"))  # the export is the committed lock
    assert stale(repo) == []
    edit(repo, "pyproject.toml", 'lint = ["packaging>=24"]', 'lint = ["packaging>=24", "anyio"]')
    edit(repo, "pyproject.toml", '"Click>=8.1.0"', '"Click>=9"')
    ((path, line, message),) = stale(repo)
    assert (path, line) == ("pyproject.toml", 6)
    assert message.startswith("requirements.lock.txt is stale for project 'Demo_App' (the repository root): ")
    assert "'Click>=9' does not allow the locked version 8.5.0" in message
    assert "'anyio' is not in requirements.lock.txt" in message


def test_uv_export_respects_its_command(repo):
    install(repo, "uv-project", skip=("uv.lock", "pylock.toml"))
    edit(repo, "requirements.lock.txt", "--all-groups ", "--no-dev ")
    edit(repo, "pyproject.toml", 'lint = ["packaging>=24"]', 'lint = ["packaging>=24", "anyio"]')  # not exported
    assert stale(repo) == []


def test_pylock_against_pyproject(repo):
    install(repo, "uv-project", skip=("uv.lock", "requirements.lock.txt"))
    assert stale(repo) == []
    edit(repo, "pyproject.toml", '    "helper",\n', '    "helper",\n    "anyio",\n')
    ((path, line, message),) = stale(repo)
    assert (path, line) == ("pyproject.toml", 10) and "'anyio' is not in pylock.toml" in message


def test_pylock_of_something_else_is_not_judged(repo):
    repo.write("pyproject.toml", '[project]\nname = "x"\nversion = "1"\ndependencies = ["flask"]\n')
    repo.write("pylock.toml", 'lock-version = "1.0"\ncreated-by = "pip"\n[[packages]]\nname = "sphinx"\nversion = "8.1.3"\n')
    assert stale(repo) == []


def test_broken_and_odd_locks_never_crash(repo):
    repo.write("pyproject.toml", '[project]\nname = "x"\nversion = "1"\ndependencies = ["six"]\n'
                                 '[tool.poetry]\ndependencies = 3\n[tool.uv]\nsources = 4\nconstraint-dependencies = "x"\n')
    repo.write("uv.lock", 'version = 1\npackage = [{name = "x", source = {virtual = "."}, metadata = {requires-dist = 5}}]\n')
    repo.write("a/pyproject.toml", '[project]\nname = "a"\n')
    repo.write("a/poetry.lock", '[metadata]\ncontent-hash = 5\n[[package]]\nname = "b"\ngroups = "main"\n')
    repo.write("b/Pipfile", "packages = 3\n")
    repo.write("b/Pipfile.lock", '{"_meta": {"hash": {"sha256": "x"}}, "default": {"six": 3}}')
    repo.write("c/pdm.lock", "[metadata]\ncontent_hash = 1\n")
    result = repo.check("--select", "ALL")
    assert result.exit_code in (0, 1), result.output
    assert "internal error" not in result.output


def test_uv_path_dependency_is_compared_with_its_record(repo):
    install(repo, "uv-project", skip=EXPORTS)
    assert stale(repo) == []
    edit(repo, "libs/helper/pyproject.toml", "dependencies = []", 'dependencies = ["idna>=3"]')
    ((path, line, message),) = stale(repo)
    assert (path, line) == ("libs/helper/pyproject.toml", 4)
    assert message == ("uv.lock is stale for project 'helper' (libs/helper): 'idna>=3' in [project] dependencies "
                       "was added.")


LEFTOVER_POETRY_LOCK = ('# This file is automatically @generated by Poetry 2.5.1 and should not be changed by hand.\n\n'
                        '[[package]]\nname = "django"\nversion = "5.1.4"\ngroups = ["main"]\nfiles = []\n\n'
                        '[metadata]\nlock-version = "2.1"\npython-versions = ">=3.10"\ncontent-hash = "0"\n')


def test_leftover_lock_of_another_tool_is_left_to_ed205(repo):
    # A uv project ([tool.uv], hatchling) with an old poetry.lock: ED205 reports the two locks; "Run
    # `poetry lock`" would only make a second, current competitor.
    install(repo, "uv-project", skip=EXPORTS)
    repo.write("poetry.lock", LEFTOVER_POETRY_LOCK)
    findings = repo.findings("--select", "ED203,ED205")
    assert [(f["code"], f["path"]) for f in findings] == [("ED205", "poetry.lock")]
    # Near-miss: a project configured for Poetry too ([tool.poetry]) has its poetry.lock judged.
    edit(repo, "pyproject.toml", "[tool.uv]\n", '[tool.poetry.group.dev.dependencies]\npytest = "*"\n\n[tool.uv]\n')
    assert [(p, m.split(" is stale")[0]) for p, _, m in stale(repo)] == [("pyproject.toml", "poetry.lock")]


GIT_AND_INDEX_PYPROJECT = '''[project]
name = "app"
version = "1.0.0"
requires-python = ">=3.12"
dependencies = ["gp", "idna>=3"]

[tool.uv.sources]
gp = { git = "https://git.example.invalid/org/gp", tag = "v1" }
idna = { index = "internal" }

[[tool.uv.index]]
name = "internal"
url = "https://pypi.internal.example.invalid/simple"
explicit = true
'''

# As uv 0.13.9 writes it (checked with a file:// repository and a flat index; hosts replaced).
GIT_AND_INDEX_LOCK = '''version = 1
revision = 3
requires-python = ">=3.12"

[[package]]
name = "app"
version = "1.0.0"
source = { virtual = "." }
dependencies = [
    { name = "gp" },
    { name = "idna" },
]

[package.metadata]
requires-dist = [
    { name = "gp", git = "https://git.example.invalid/org/gp?tag=v1" },
    { name = "idna", specifier = ">=3", index = "https://pypi.internal.example.invalid/simple" },
]

[[package]]
name = "gp"
version = "0.1.0"
source = { git = "https://git.example.invalid/org/gp?tag=v1#d6ca9f0db6613a56406c1f7dacc86ced31f60400" }

[[package]]
name = "idna"
version = "3.10"
source = { registry = "https://pypi.internal.example.invalid/simple" }
'''


def test_an_extra_added_to_a_git_sourced_requirement_is_stale(repo):
    # uv records the extras of a sourced requirement beside its source (checked with uv 0.13.9 on a path
    # dependency: `common` -> `common[extra]` makes `uv lock --check` fail)
    repo.write("pyproject.toml", GIT_AND_INDEX_PYPROJECT)
    repo.write("uv.lock", GIT_AND_INDEX_LOCK)
    edit(repo, "pyproject.toml", '["gp", "idna>=3"]', '["gp[cli]", "idna>=3"]')
    ((path, line, message),) = stale(repo)
    assert (path, line) == ("pyproject.toml", 5) and "'gp[cli]'" in message
    # Near-miss: the same extra recorded in the lock is current.
    edit(repo, "uv.lock", '{ name = "gp", git = ', '{ name = "gp", extras = ["cli"], git = ')
    assert stale(repo) == []


@pytest.mark.parametrize(("old", "new", "line", "words"), [
    ('tag = "v1"', 'tag = "v2"', 8, "says the git repository 'https://git.example.invalid/org/gp', tag 'v2'; uv.lock "
                                    "records the git repository 'https://git.example.invalid/org/gp', tag 'v1')"),
    ('tag = "v1"', 'rev = "d6ca9f0db6613a56406c1f7dacc86ced31f60400"', 8, "rev 'd6ca9f0db6613a56406c1f7dacc86ced31f60400'"),
    ('tag = "v1"', 'branch = "main"', 8, "branch 'main'"),
    ('tag = "v1" }', 'tag = "v1", subdirectory = "pkgs/gp" }', 8, "subdirectory 'pkgs/gp'"),
    ("org/gp", "other/gp", 8, "the git repository 'https://git.example.invalid/other/gp'"),
    ('gp = { git = "https://git.example.invalid/org/gp", tag = "v1" }\n', "", 5,
     "the source of 'gp' in [project] dependencies changed ([tool.uv.sources] names no source"),
    ("pypi.internal.example.invalid/simple\"\nexplicit", "mirror.example.invalid/simple\"\nexplicit", 9,
     "says the index 'internal' (https://mirror.example.invalid/simple); uv.lock records the index"),
    ('idna = { index = "internal" }\n', "", 5, "the source of 'idna'"),
    ('"idna>=3"', '"idna>=3.1"', 5, "'idna>=3.1' in [project] dependencies changed (uv.lock records 'idna>=3')"),
])
def test_uv_git_and_index_sources_are_compared_with_their_record(repo, old, new, line, words):
    repo.write("pyproject.toml", GIT_AND_INDEX_PYPROJECT)
    repo.write("uv.lock", GIT_AND_INDEX_LOCK)
    assert stale(repo) == []
    edit(repo, "pyproject.toml", old, new)
    ((path, found_line, message),) = stale(repo)
    assert (path, found_line) == ("pyproject.toml", line)
    assert words in message


@pytest.mark.parametrize(("old", "new"), [
    ('{ git = "https://git.example.invalid/org/gp", tag = "v1" }', '{ tag = "v1", git = "https://git.example.invalid/org/gp" }'),
    ("org/gp\"", "org/gp.git\""),  # spellings of the same repository: not reported (uv may differ)
    ("org/gp\"", "org/gp/\""),
    ("https://git.example.invalid", "https://user@GIT.example.invalid"),
    ('name = "internal"', 'name = "renamed"'),  # renamed in both places: uv records the URL
    ("simple\"\nexplicit", "simple/\"\nexplicit"),
    ('idna = { index = "internal" }', 'idna = { index = "defined-elsewhere" }'),  # not known here
])
def test_uv_git_and_index_source_near_misses(repo, old, new):
    repo.write("pyproject.toml", GIT_AND_INDEX_PYPROJECT)
    repo.write("uv.lock", GIT_AND_INDEX_LOCK)
    edit(repo, "pyproject.toml", old, new)
    if "renamed" in new:
        edit(repo, "pyproject.toml", 'index = "internal"', 'index = "renamed"')
    assert stale(repo) == []


def test_uv_workspace_member_sources(repo):
    install(repo, "uv-workspace")
    # A member's path source is relative to its own folder; uv records it relative to the lock's folder.
    edit(repo, "packages/a/pyproject.toml", 'dependencies = ["idna>=3"]', 'dependencies = ["idna>=3", "vend"]\n'
         '[tool.uv.sources]\nvend = { path = "../../vendored/vend" }')
    edit(repo, "uv.lock", '{ name = "idna", specifier = ">=3" }]',
         '{ name = "idna", specifier = ">=3" }, { name = "vend", directory = "vendored/vend" }]')
    assert stale(repo) == []
    edit(repo, "pyproject.toml", "a = { workspace = true }", "a = { workspace = true, editable = false }")
    ((path, line, message),) = stale(repo)
    assert (path, line) == ("pyproject.toml", 11)
    assert ("the source of 'a' in [project] dependencies changed ([tool.uv.sources] says the workspace member (not "
            "editable); uv.lock records the editable path 'packages/a')") in message
    edit(repo, "pyproject.toml", "a = { workspace = true, editable = false }", "a = { workspace = true }")
    edit(repo, "packages/a/pyproject.toml", "../../vendored/vend", "../vendored/vend")
    ((path, line, message),) = stale(repo)
    assert (path, line) == ("packages/a/pyproject.toml", 7)
    assert "says the path '../vendored/vend' (not editable); uv.lock records the path 'vendored/vend'" in message


ENVIRONMENTS = "environments = [\"sys_platform == 'linux'\", \"sys_platform == 'darwin' and python_version >= '3.12'\"]\n"
SUPPORTED = ("supported-markers = [\n    \"sys_platform == 'linux'\",\n"
             "    \"python_full_version >= '3.12' and sys_platform == 'darwin'\",\n]\n")


@pytest.mark.parametrize(("label", "old", "new", "words"), [
    ("changed", "python_version >= '3.12'", "python_version >= '3.13'", "[tool.uv] environments changed"),
    ("reordered", ENVIRONMENTS, "environments = [\"sys_platform == 'darwin' and python_version >= '3.12'\", "
                                "\"sys_platform == 'linux'\"]\n", "uv compares the markers in order"),
    ("one removed", ", \"sys_platform == 'darwin' and python_version >= '3.12'\"]", "]", "environments changed"),
    ("removed", ENVIRONMENTS, "", "[tool.uv] environments was removed (uv.lock records \"sys_platform == 'linux'\""),
    ("required added", ENVIRONMENTS, ENVIRONMENTS + "required-environments = [\"sys_platform == 'linux'\"]\n",
     "[tool.uv] required-environments was added (uv.lock records none)"),
])
def test_uv_environments(repo, label, old, new, words):
    install(repo, "uv-project", skip=EXPORTS)
    edit(repo, "pyproject.toml", "[tool.uv]\n", "[tool.uv]\n" + ENVIRONMENTS)
    assert stale(repo)[0][2].endswith("[tool.uv] environments was added (uv.lock records none).")
    edit(repo, "uv.lock", 'requires-python = ">=3.10.0, <4"\n', 'requires-python = ">=3.10.0, <4"\n' + SUPPORTED)
    assert stale(repo) == []
    # Spellings uv writes the same (python_full_version, quotes, a bound requires-python implies): fresh.
    edit(repo, "pyproject.toml", "python_version >= '3.12'", "python_full_version>=\\\"3.12\\\"")
    edit(repo, "pyproject.toml", "\"sys_platform == 'linux'\"", "\"sys_platform == 'linux' and python_version >= '3.10'\"")
    assert stale(repo) == []
    edit(repo, "pyproject.toml", "[tool.uv]\n", "[tool.uv]\nrequired-environments = []\n")  # an empty list is none
    assert stale(repo) == []
    edit(repo, "pyproject.toml", "required-environments = []\n", "")
    edit(repo, "pyproject.toml", "python_full_version>=\\\"3.12\\\"", "python_version >= '3.12'")
    edit(repo, "pyproject.toml", "\"sys_platform == 'linux' and python_version >= '3.10'\"", "\"sys_platform == 'linux'\"")
    edit(repo, "pyproject.toml", old, new)
    ((path, line, message),) = stale(repo)
    assert path == "pyproject.toml" and line in (19, 20, 21)
    assert words in message


def test_uv_empty_dependency_group(repo):
    install(repo, "uv-project", skip=EXPORTS)
    edit(repo, "pyproject.toml", 'lint = ["packaging>=24"]\n', 'lint = ["packaging>=24"]\ndocs = []\n')
    ((path, line, message),) = stale(repo)
    assert (path, line) == ("pyproject.toml", 18)
    assert message.endswith("the dependency group 'docs' was added.")
    edit(repo, "uv.lock", "[package.metadata.requires-dev]\n", "[package.metadata.requires-dev]\ndocs = []\n")
    assert stale(repo) == []
    edit(repo, "pyproject.toml", "docs = []", "Docs = []")  # group names are normalised
    assert stale(repo) == []
    edit(repo, "pyproject.toml", "Docs = []\n", "")
    assert stale(repo)[0][2].endswith("the dependency group 'docs' was removed.")


def test_uv_empty_group_of_a_virtual_workspace_root_is_not_recorded(repo):
    # uv writes no empty group in the [manifest] of a workspace root without [project]: fresh.
    repo.write("pyproject.toml", '[tool.uv.workspace]\nmembers = []\n\n[dependency-groups]\ndev = ["pytest>=8"]\ndocs = []\n')
    repo.write("uv.lock", 'version = 1\nrevision = 3\nrequires-python = ">=3.12"\n\n[manifest.dependency-groups]\n'
                          'dev = [{ name = "pytest", specifier = ">=8" }]\n\n[[package]]\nname = "pytest"\n'
                          'version = "8.3.4"\nsource = { registry = "https://pypi.example.invalid/simple" }\n')
    assert stale(repo) == []
    edit(repo, "pyproject.toml", '"pytest>=8"', '"pytest>=8.1"')
    assert len(stale(repo)) == 1


INCLUDE_PYPROJECT = '''[project]
name = "app"
version = "1.0.0"
requires-python = ">=3.12"
dependencies = []

[dependency-groups]
dev = ["pytest>=8", "ruff==0.8.4"]
lint = [
    "mypy>=1.13",
    {include-group = "dev"},
]
'''

INCLUDE_LOCK = '''version = 1
revision = 3
requires-python = ">=3.12"

[[package]]
name = "app"
version = "1.0.0"
source = { virtual = "." }

[package.metadata]

[package.metadata.requires-dev]
dev = [
    { name = "pytest", specifier = ">=8" },
    { name = "ruff", specifier = "==0.8.4" },
]
lint = [{ name = "mypy", specifier = ">=1.13" }]
'''


def test_uv_include_group_change_is_named_in_the_including_group(repo):
    repo.write("pyproject.toml", INCLUDE_PYPROJECT)
    repo.write("uv.lock", INCLUDE_LOCK)
    ((path, line, message),) = stale(repo)
    assert (path, line) == ("pyproject.toml", 11)
    assert message.endswith(": 'pytest>=8' (included from 'dev') in the dependency group 'lint' was added; "
                            "'ruff==0.8.4' (included from 'dev') in the dependency group 'lint' was added.")
    # Near-miss: the included requirements recorded in lint too: fresh; then a change in dev is named once,
    # in dev, not again in every group that includes it.
    edit(repo, "uv.lock", 'lint = [{ name = "mypy", specifier = ">=1.13" }]',
         'lint = [\n    { name = "mypy", specifier = ">=1.13" },\n    { name = "pytest", specifier = ">=8" },\n'
         '    { name = "ruff", specifier = "==0.8.4" },\n]')
    assert stale(repo) == []
    edit(repo, "pyproject.toml", '"ruff==0.8.4"]', '"ruff==0.8.4", "idna"]')
    ((path, line, message),) = stale(repo)
    assert (path, line) == ("pyproject.toml", 8)
    assert message.endswith(": 'idna' in the dependency group 'dev' was added.")
