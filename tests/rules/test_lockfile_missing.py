"""ED201 missing-lockfile: must-flag and must-not-flag cases."""

from __future__ import annotations

import pytest
from lockfile_fixtures import install

PYPROJECT = '[project]\nname = "app"\nversion = "1"\nrequires-python = ">=3.11"\ndependencies = [\n    "requests>=2.32",\n]\n'


def missing(repo):
    return [(f["path"], f["line"], f["message"], f["fix_hint"]) for f in repo.findings("--select", "ED201")]


@pytest.mark.parametrize(("files", "where", "words", "hint"), [
    ({"pyproject.toml": PYPROJECT}, ("pyproject.toml", 5),
     "Project 'app' (the repository root) declares 1 dependency and has no lockfile", "uv lock"),
    ({"pyproject.toml": '[tool.poetry]\nname = "svc"\n\n[tool.poetry.dependencies]\npython = "^3.11"\nrequests = "*"\n'},
     ("pyproject.toml", 6), "Project 'svc' (the repository root), managed with Poetry, declares 1 dependency",
     "poetry lock"),
    ({"pyproject.toml": '[project]\nname = "p"\nversion = "1"\n\n[dependency-groups]\ndev = ["pytest"]\n'},
     ("pyproject.toml", 5), "declares 1 dependency", "uv lock"),
    ({"Pipfile": '[[source]]\nurl = "https://index.example.invalid/simple"\nname = "x"\n\n[packages]\nrequests = "*"\n'
                 'flask = "*"\n'},
     ("Pipfile", 5), ", managed with Pipenv, declares 2 dependencies", "pipenv lock"),
    ({"requirements.in": "flask\ngunicorn\n"}, ("requirements.in", 1),
     "declares 2 requirements in requirements.in and has no compiled, pinned requirements file", "uv pip compile"),
    ({"pyproject.toml": '[project]\nname = "p"\nversion = "1"\ndependencies = ["six"]\n[tool.pdm]\ndistribution = false\n'},
     ("pyproject.toml", 4), ", managed with PDM,", "pdm lock"),
    # an unpinned requirements file is not a lock
    ({"pyproject.toml": PYPROJECT, "requirements.txt": "requests>=2.32\n"}, ("pyproject.toml", 5), "has no lockfile",
     "uv lock"),
    # a pinned requirements file elsewhere (another project) does not count
    ({"pyproject.toml": PYPROJECT, "docs/requirements.txt": "sphinx==8.1.3\n"}, ("pyproject.toml", 5), "has no lockfile",
     "uv lock"),
])
def test_must_flag(repo, files, where, words, hint):
    for rel, text in files.items():
        repo.write(rel, text)
    ((path, line, message, fix),) = missing(repo)
    assert (path, line) == where
    assert words in message
    assert hint in fix


@pytest.mark.parametrize("files", [
    {"pyproject.toml": '[project]\nname = "lib"\nversion = "1"\n'},  # no dependencies
    {"pyproject.toml": '[project]\nname = "lib"\nversion = "1"\ndependencies = []\n[dependency-groups]\ndev = []\n'},
    {"pyproject.toml": '[project]\nname = "lib"\nversion = "1"\ndynamic = ["dependencies"]\n'},
    {"pyproject.toml": "[tool.ruff]\nline-length = 100\n"},  # tool configuration only
    {"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\n'},  # only the Python constraint
    {"pyproject.toml": PYPROJECT, "uv.lock": "version = 1\n"},
    {"pyproject.toml": PYPROJECT, "poetry.lock": '[metadata]\nlock-version = "2.1"\n'},
    {"pyproject.toml": PYPROJECT, "pdm.lock": "[metadata]\n"},
    {"pyproject.toml": PYPROJECT, "pylock.toml": 'lock-version = "1.0"\n'},
    {"pyproject.toml": PYPROJECT, "pylock.prod.toml": 'lock-version = "1.0"\n'},
    {"pyproject.toml": PYPROJECT, "conda-lock.yml": "version: 1\n"},
    {"pyproject.toml": PYPROJECT, "requirements.txt": "requests==2.32.3\ncertifi==2024.8.30\n"},
    {"pyproject.toml": PYPROJECT, "requirements/requirements-prod.txt": "requests==2.32.3\n"},  # a requirements/ folder
    {"pyproject.toml": PYPROJECT, "requirements.txt": "-e .\nrequests==2.32.3\n"},  # the project itself, editable
    {"Pipfile": '[packages]\nrequests = "*"\n', "Pipfile.lock": '{"_meta": {}}'},
    {"requirements.in": "flask\n", "requirements.txt": "flask==3.1.0\nwerkzeug==3.1.3\n"},
    {"environment.yml": "dependencies:\n  - numpy\n"},  # conda alone: ED306's business
    {"requirements.txt": "flask\n"},  # unpinned requirements alone: ED206's business
])
def test_must_not_flag(repo, files):
    for rel, text in files.items():
        repo.write(rel, text)
    assert missing(repo) == []


def test_a_committed_uv_export_is_the_lock(repo):
    install(repo, "uv-project", skip=("uv.lock", "pylock.toml"))
    assert missing(repo) == []


def test_monorepo_each_project_judged_with_its_own_lock(repo):
    repo.write("pyproject.toml", PYPROJECT)
    repo.write("uv.lock", "version = 1\n")
    repo.write("services/api/pyproject.toml", PYPROJECT.replace('"app"', '"api"'))
    repo.write("services/web/pyproject.toml", PYPROJECT.replace('"app"', '"web"'))
    repo.write("services/web/poetry.lock", "[metadata]\n")
    ((path, line, message, _),) = missing(repo)
    assert (path, line) == ("services/api/pyproject.toml", 5)
    assert message.startswith("Project 'api' (services/api) declares 1 dependency")


def test_workspace_without_lock_is_reported_once_at_its_root(repo):
    install(repo, "uv-workspace")
    repo.root.joinpath("uv.lock").unlink()
    ((path, line, message, fix),) = missing(repo)
    assert (path, line) == ("pyproject.toml", 5)
    assert "Project 'root'" in message and "uv lock" in fix
    repo.write("pyproject.toml", '[tool.uv.workspace]\nmembers = ["packages/*"]\n')  # a virtual root
    ((path, line, message, _),) = missing(repo)
    assert (path, line) == ("pyproject.toml", 1)
    assert message.startswith("The uv workspace at the repository root has no uv.lock while its members declare 2 "
                              "dependencies")  # packages/a's


def test_workspace_members_use_the_root_lock(repo):
    install(repo, "uv-workspace")
    assert missing(repo) == []
    assert repo.findings("--select", "ED201", str(repo.root / "packages" / "a")) == []


def test_a_path_dependency_is_locked_by_the_lock_that_records_it(repo):
    install(repo, "uv-project", skip=("pylock.toml", "requirements.lock.txt"))
    repo.write("libs/helper/pyproject.toml", '[project]\nname = "helper"\nversion = "1.0"\ndependencies = ["idna>=3"]\n')
    assert missing(repo) == []
    repo.write("pyproject.toml", (repo.root / "pyproject.toml").read_text().replace("helper = {", "other = {"))
    repo.write("uv.lock", (repo.root / "uv.lock").read_text().replace('editable = "libs/helper"', 'editable = "libs/other"'))
    assert [p for p, _, _, _ in missing(repo)] == ["libs/helper/pyproject.toml"]  # no longer recorded


def test_poetry_and_pdm_path_dependencies(repo):
    repo.write("app/pyproject.toml", '[tool.poetry.dependencies]\npython = "^3.11"\nlib = {path = "../lib", develop = true}\n')
    repo.write("app/poetry.lock", '[[package]]\nname = "lib"\nversion = "1"\ngroups = ["main"]\ndevelop = true\n\n'
                                  '[package.source]\ntype = "directory"\nurl = "../lib"\n')
    repo.write("lib/pyproject.toml", '[project]\nname = "lib"\nversion = "1"\ndependencies = ["six"]\n')
    repo.write("svc/pyproject.toml", '[project]\nname = "svc"\nversion = "1"\ndependencies = ["tool @ file:///${PROJECT_ROOT}/../tool"]\n')
    repo.write("svc/pdm.lock", '[metadata]\n[[package]]\nname = "tool"\nversion = "1"\npath = "../tool"\n')
    repo.write("tool/pyproject.toml", '[project]\nname = "tool"\nversion = "1"\ndependencies = ["idna"]\n')
    assert missing(repo) == []


def test_fixture_projects_of_a_test_suite_are_not_judged(repo):
    repo.write("pyproject.toml", '[project]\nname = "root"\nversion = "1"\n')
    repo.write("tests/fixtures/no-lock/pyproject.toml", PYPROJECT)  # test data: a project without a lock
    repo.write("tests/data/stale/pyproject.toml", PYPROJECT)
    repo.write("tests/data/stale/uv.lock", "version = 9\n")
    repo.write("tests/data/stale/poetry.lock", "[metadata]\n")
    repo.write("testing/requirements.txt", "flask\n")
    repo.write("testing/pyproject.toml", PYPROJECT)
    assert repo.codes("--select", "ED2") == []
    repo.write("packages/tests-helpers/pyproject.toml", PYPROJECT)  # not a test folder, only a name
    assert repo.codes("--select", "ED2") == ["ED201"]


def _service(name, deps):
    return (f'[project]\nname = "{name}"\nversion = "1"\nrequires-python = ">=3.12"\n'
            f'dependencies = [{", ".join(repr(d).replace(chr(39), chr(34)) for d in deps)}]\n')


HASH = " \\\n    --hash=sha256:" + "ab" * 32 + "\n"


@pytest.mark.parametrize(("header", "via_worker"), [
    # the header command names both pyproject.toml files
    ("#    uv pip compile services/api/pyproject.toml services/worker/pyproject.toml --generate-hashes "
     "-o requirements.lock.txt\n", "flask"),
    # only the `# via name (path/pyproject.toml)` annotations name the worker
    ("#    uv pip compile services/api/pyproject.toml --generate-hashes -o requirements.lock.txt\n",
     "worker (services/worker/pyproject.toml)"),
], ids=["header command", "via annotations"])
def test_root_compiled_lock_of_several_services(repo, header, via_worker):
    repo.write("services/api/pyproject.toml", _service("api", ["flask>=3.0", "requests>=2.31"]))
    repo.write("services/worker/pyproject.toml", _service("worker", ["click>=8.1", "requests>=2.31"]))
    repo.write("requirements.lock.txt",
               "# This file was autogenerated by uv via the following command:\n" + header
               + "click==8.1.7" + HASH + f"    # via\n    #   flask\n    #   {via_worker}\n"
               + "flask==3.1.0" + HASH + "    # via api (services/api/pyproject.toml)\n"
               + "requests==2.32.3" + HASH + "    # via\n    #   api (services/api/pyproject.toml)\n")
    assert missing(repo) == []
    # Near-miss: a service the lock does not name still has no lock.
    repo.write("services/billing/pyproject.toml", _service("billing", ["httpx>=0.27"]))
    assert [(p, line) for p, line, _, _ in missing(repo)] == [("services/billing/pyproject.toml", 5)]
    assert [f["code"] for f in repo.findings("--select", "ED2")] == ["ED201"]
