"""ED301 missing-requires-python, ED302 dev-tool-in-runtime-deps, ED303 pipenv-project, ED304 poetry-project."""

from __future__ import annotations

import pytest


def hits(repo, codes, *args):
    return [(f["path"], f["line"], f["code"]) for f in repo.findings("--select", codes, *args)]


# --- ED301 -------------------------------------------------------------------------------------------------


def test_ed301_flags_project_without_requires_python_at_the_table(repo):
    repo.write("pyproject.toml", '# app\n\n[project]\nname = "app"\nversion = "1"\n')
    findings = repo.findings("--select", "ED301")
    assert [(f["line"], f["code"]) for f in findings] == [(3, "ED301")]
    assert "requires-python" in findings[0]["message"]
    assert 'requires-python = ">=' in findings[0]["fix_hint"]


def test_ed301_names_the_sub_project_in_a_monorepo(repo):
    repo.write("pyproject.toml", '[project]\nname = "root"\nrequires-python = ">=3.11"\n')
    repo.write("services/api/pyproject.toml", '[project]\nname = "api"\n')
    findings = repo.findings("--select", "ED301")
    assert [(f["path"], f["line"]) for f in findings] == [("services/api/pyproject.toml", 1)]
    assert "project 'services/api'" in findings[0]["message"]


@pytest.mark.parametrize(("python", "converted"), [
    ("^3.11", ">=3.11,<4.0"),
    ("~3.11", ">=3.11,<3.12"),
    (">=3.10,<3.14", ">=3.10,<3.14"),
    ("3.12.*", "==3.12.*"),
    ("^3.11.2", ">=3.11.2,<4.0.0"),
])
def test_ed301_poetry_project_gets_its_python_constraint_proposed(repo, python, converted):
    # Poetry 2 with [project] but the Python range only in [tool.poetry.dependencies]: Poetry locks for it,
    # so the message does not claim it cannot tell; the fix copies it into requires-python.
    repo.write("pyproject.toml", '[project]\nname = "etl"\nversion = "0.1.0"\ndependencies = ["click>=8"]\n\n'
                                 f'[tool.poetry.dependencies]\npython = "{python}"\n')
    (finding,) = repo.findings("--select", "ED301")
    assert finding["line"] == 1
    assert "cannot tell" not in finding["message"]
    assert f"Poetry locks for python = '{python}' from [tool.poetry.dependencies]" in finding["message"]
    assert finding["fix_hint"].startswith(f'Copy the constraint into [project]: requires-python = "{converted}"')


@pytest.mark.parametrize("python", ["*", "^3.8 || ^3.10", "latest"])
def test_ed301_poetry_constraint_that_cannot_be_copied_keeps_the_plain_message(repo, python):
    repo.write("pyproject.toml", '[project]\nname = "etl"\nversion = "0.1.0"\n\n'
                                 f'[tool.poetry.dependencies]\npython = "{python}"\n')
    (finding,) = repo.findings("--select", "ED301")
    assert "cannot tell" in finding["message"]
    assert 'Add requires-python = ">=' in finding["fix_hint"]


@pytest.mark.parametrize("text", [
    '[project]\nname = "app"\nrequires-python = ">=3.11"\n',
    '[project]\nname = "app"\ndynamic = ["version", "requires-python"]\n',
    '[project]\nname = "app"\nrequires-python = 3\n',  # odd, but present: not this rule's business
    '[tool.poetry]\nname = "app"\n',  # no [project] table at all
    'project = "not a table"\n',
    "",
])
def test_ed301_near_misses(repo, text):
    repo.write("pyproject.toml", text)
    assert hits(repo, "ED301") == []


# --- ED302 -------------------------------------------------------------------------------------------------

BASE = '[project]\nname = "inventory"\nrequires-python = ">=3.11"\n'


@pytest.mark.parametrize(("deps", "expected"), [
    ('dependencies = [\n  "httpx",\n  "pytest>=8",\n]\n', [6]),
    ("dependencies = [\n  'ruff',\n  \"requests\",\n  'Black==24.1',\n]\n", [5, 7]),
    ('dependencies = ["requests", "mypy"]\n', [4]),  # one line: the key's line
    ('dependencies = [\n  "pytest-cov",\n  "flake8-bugbear",\n]\n', [5, 6]),  # plugins of dev tools
    ('dependencies = [\n  "Pre_Commit",\n]\n', [5]),  # names compared canonically
    ('dependencies = [\n  # "pytest" was here\n  "pytest",  # "x"\n]\n', [6]),  # not the comment
    ('dependencies = [\n  "ipython; python_version >= \\"3.11\\"",\n  "tox",\n]\n', [5, 6]),
])
def test_ed302_flags_dev_tools_in_runtime_dependencies(repo, deps, expected):
    repo.write("pyproject.toml", BASE + deps)
    assert [line for _, line, _ in hits(repo, "ED302")] == expected


def test_ed302_message_and_hint_quote_the_entry(repo):
    repo.write("pyproject.toml", BASE + 'dependencies = [\n  "pytest>=8",\n]\n')
    (finding,) = repo.findings("--select", "ED302")
    assert "'pytest>=8' is a test runner" in finding["message"]
    assert "[dependency-groups]" in finding["fix_hint"]


def test_ed302_flags_poetry_main_group(repo):
    repo.write("pyproject.toml", '[tool.poetry.dependencies]\npython = "^3.11"\nhttpx = "^0.27"\npytest = "^8"\n'
                                 'mypy = { version = "^1", optional = true }\n')
    findings = repo.findings("--select", "ED302")
    assert [(f["line"], f["message"].split("'")[1]) for f in findings] == [(4, "pytest")]
    assert "group" in findings[0]["fix_hint"]


@pytest.mark.parametrize("text", [
    # the older convention: extras
    BASE + 'dependencies = ["httpx"]\n[project.optional-dependencies]\ntest = ["pytest", "mypy"]\n',
    BASE + 'dependencies = ["httpx", "pytest; extra == \\"test\\""]\n',
    BASE + 'dependencies = ["httpx"]\n[dependency-groups]\ndev = ["pytest", "ruff"]\n',
    # names that only look like tools
    BASE + 'dependencies = ["mypy-extensions", "ruffus", "blackjack", "pytestify", "types-requests", "isort-x"]\n',
    # the project is a plugin or a tool itself
    '[project]\nname = "pytest-inventory"\ndependencies = ["pytest>=8", "pytest-asyncio"]\n',
    '[project]\nname = "flake8-inventory"\ndependencies = ["flake8>=7"]\n',
    '[project]\nname = "python-lsp-ruff"\ndependencies = ["ruff"]\n',
    '[project]\nname = "inventory-checks"\ndependencies = ["pytest"]\n[project.entry-points.pytest11]\ninv = "inv.plugin"\n',
    '[project]\nname = "ipykernel-extras"\ndependencies = ["ipython"]\n',
    # a pytest plugin declared the Poetry 1.x way
    '[tool.poetry]\nname = "acme-testing"\nversion = "0.2.0"\n\n[tool.poetry.dependencies]\npython = "^3.10"\n'
    'pytest = ">=7"\n\n[tool.poetry.plugins."pytest11"]\nacme = "acme_testing.plugin"\n',
    '[tool.poetry]\nname = "flake8-acme"\n\n[tool.poetry.dependencies]\nflake8 = ">=7"\n',  # Poetry's name
    # a command built on the tool: it installs a script and its name contains the tool's
    '[project]\nname = "blacken-docs"\ndependencies = ["black>=22.1.0"]\n[project.scripts]\n'
    'blacken-docs = "blacken_docs:main"\n',
    '[project]\nname = "jupyter-inventory"\ndependencies = ["ipython"]\n',
    # odd types
    BASE + 'dependencies = "pytest"\n',
    BASE + 'dependencies = [1, {a = "pytest"}, "not a requirement !!"]\n',
    '[tool.poetry]\ndependencies = "pytest"\n',
    '[tool.poetry.dependencies]\npython = "^3.11"\n',
])
def test_ed302_near_misses(repo, text):
    repo.write("pyproject.toml", text)
    assert hits(repo, "ED302") == []


@pytest.mark.parametrize(("text", "expected"), [
    # Poetry plugins of another group than the tools' are no exemption
    ('[tool.poetry]\nname = "acme"\n[tool.poetry.dependencies]\npytest = ">=7"\n'
     '[tool.poetry.plugins."console_scripts"]\nacme = "acme:main"\n', "'pytest' is a test runner"),
    # a name containing the tool's, without commands: not a wrapper
    ('[project]\nname = "blacken-docs"\ndependencies = ["black>=22.1.0"]\n', "'black>=22.1.0' is a formatter"),
    # commands, but another tool than the name's
    ('[project]\nname = "blacken-docs"\ndependencies = ["black>=22.1.0", "pytest"]\n[project.scripts]\n'
     'blacken-docs = "blacken_docs:main"\n', "'pytest' is a test runner"),
])
def test_ed302_near_misses_of_the_exemptions(repo, text, expected):
    repo.write("pyproject.toml", text)
    (finding,) = repo.findings("--select", "ED302")
    assert finding["message"].startswith(expected)


def test_ed302_tool_list_is_data():
    from envdoctor.rules.project import DEV_TOOLS, dev_tool_kind

    assert dev_tool_kind("pytest") == DEV_TOOLS["pytest"]
    assert dev_tool_kind("pytest-xdist") == "pytest plugin"
    assert dev_tool_kind("requests") is None


# --- ED303 -------------------------------------------------------------------------------------------------


def test_ed303_flags_a_pipfile_at_its_first_content_line(repo):
    repo.write("Pipfile", '# managed by pipenv\n\n[packages]\nhttpx = "*"\n')
    findings = repo.findings("--select", "ED303")
    assert [(f["path"], f["line"], f["severity"]) for f in findings] == [("Pipfile", 3, "info")]
    assert "migrate-to-uv" in findings[0]["fix_hint"]


def test_ed303_names_the_sub_project(repo):
    repo.write("tools/report/Pipfile", '[packages]\nhttpx = "*"\n')
    (finding,) = repo.findings("--select", "ED303")
    assert finding["path"] == "tools/report/Pipfile"
    assert "project 'tools/report'" in finding["message"]


def test_ed303_info_does_not_fail_the_run(repo):
    repo.write("Pipfile", '[packages]\nhttpx = "*"\n')
    assert repo.check("--select", "ED303").exit_code == 0


@pytest.mark.parametrize("name", ["Pipfile.lock", "Pipfile.txt", "pipfile.md"])
def test_ed303_near_misses(repo, name):
    repo.write(name, "{}\n")
    assert hits(repo, "ED303") == []


def test_ed303_suppressible_inline(repo):
    repo.write("Pipfile", '# envdoctor: ignore[ED303] -- migrating next quarter\n[packages]\nhttpx = "*"\n')
    assert hits(repo, "ED303,ED002") == []


# --- ED304 -------------------------------------------------------------------------------------------------

POETRY = '[tool.poetry]\nname = "inventory"\nversion = "1.0"\n\n[tool.poetry.dependencies]\npython = "^3.11"\n'


def test_ed304_is_off_by_default(repo):
    repo.write("pyproject.toml", POETRY)
    assert "ED304" not in repo.codes()
    assert "ED304" in repo.codes("--extend-select", "ED304")


def test_ed304_flags_the_poetry_table(repo):
    repo.write("pyproject.toml", '[project]\nname = "x"\nrequires-python = ">=3.11"\n\n[tool.poetry.dependencies]\n'
                                 'httpx = "^0.27"\n')
    assert hits(repo, "ED304") == [("pyproject.toml", 5, "ED304")]


def test_ed304_flags_a_poetry_lock_without_poetry_table(repo):
    repo.write("pyproject.toml", '[project]\nname = "x"\nrequires-python = ">=3.11"\n')
    repo.write("poetry.lock", "# generated\n")
    assert hits(repo, "ED304") == [("poetry.lock", 1, "ED304")]


@pytest.mark.parametrize(("files"), [
    {"pyproject.toml": '[project]\nname = "x"\n'},
    # migrated to uv: a leftover [tool.poetry] table is not a Poetry project
    {"pyproject.toml": POETRY, "uv.lock": "version = 1\n"},
    # poetry-core only as the build backend, managed with uv
    {"pyproject.toml": '[build-system]\nrequires = ["poetry-core"]\nbuild-backend = "poetry.core.masonry.api"\n'
                       '[project]\nname = "x"\n', "uv.lock": "version = 1\n"},
    # a poetry.lock of another folder
    {"pyproject.toml": '[project]\nname = "x"\n', "legacy/poetry.lock": "# generated\n"},
])
def test_ed304_near_misses(repo, files):
    for rel, text in files.items():
        repo.write(rel, text)
    assert hits(repo, "ED304") == []


# --- odd input never crashes a rule ------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "tool = 5\n",
    'project = 5\n',
    '[project]\nname = 5\nentry-points = 5\ndependencies = [5, "pytest"]\nrequires-python = [">=3"]\ndynamic = 5\n',
    '[tool]\npoetry = 5\n',
    '[tool.poetry]\ndependencies = 5\n',
    '[tool.poetry.dependencies]\npython = 5\npytest = []\n5 = "x"\n',
    '[tool.poetry.dependencies]\npython = {version = 5}\n',
    '[project]\nrequires-python = ""\n',
    '[project]\nrequires-python = "===3.9"\n',
    '[project]\nrequires-python = ">=3.99"\n',
    '[project]\nname = ""\ndependencies = []\n',
])
def test_odd_pyprojects_do_not_crash_any_project_rule(repo, text):
    repo.write("pyproject.toml", text)
    repo.write(".python-version", "3.12\n")
    repo.write("Dockerfile", "FROM python:3.12\n")
    repo.write("tox.ini", "[tox]\nenvlist = {,\n")
    repo.write("Pipfile", '[requires]\npython_version = "system"\n')
    repo.init_git()
    result = repo.check("--select", "ED3", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    assert '"errors": []' in result.stdout


# --- test data -------------------------------------------------------------------------------------------


def test_projects_in_test_and_fixture_folders_are_test_data(repo):
    # A test suite's deliberately odd projects: not judged, as the lockfile rules do not judge them.
    repo.write("pyproject.toml", '[project]\nname = "root"\nrequires-python = ">=3.11"\n')
    for folder in ("tests/fixtures/proj", "test/data/p", "testing/p", "fixtures/p", "testdata/p"):
        repo.write(f"{folder}/pyproject.toml", '[project]\nname = "fixture"\nversion = "0"\n'
                                               'dependencies = ["pytest", "black"]\n'
                                               '[tool.poetry.dependencies]\nmypy = "*"\n')
        repo.write(f"{folder}/Pipfile", '[packages]\nrequests = "*"\n')
    assert hits(repo, "ED301,ED302,ED303,ED304") == []
    # Near-miss: the same project outside a test folder (a name that only contains "test" is no test folder).
    repo.write("latest/pyproject.toml", '[project]\nname = "fixture"\nversion = "0"\n'
                                        'dependencies = ["pytest", "black"]\n')
    repo.write("latest/Pipfile", '[packages]\nrequests = "*"\n')
    assert sorted(code for _, _, code in hits(repo, "ED301,ED302,ED303")) == ["ED301", "ED302", "ED302", "ED303"]
