"""The project model (sources/projects.py): which projects, which tool, which locks, what they declare."""

from __future__ import annotations

from lockfile_fixtures import install

from envdoctor.config import Config
from envdoctor.project import Project
from envdoctor.sources.projects import python_projects


def projects(repo, *scan):
    project = Project(repo.root, Config(), [repo.root / s for s in scan] or None)
    return {p.directory: p for p in python_projects(project)}, project


def test_monorepo_projects_and_requirements_folders(repo):
    repo.write("pyproject.toml", '[tool.ruff]\nline-length = 100\n')
    repo.write("requirements/base.in", "django>=5\n")
    repo.write("requirements/base.txt", "django==5.1.2\nasgiref==3.8.1\n")
    repo.write("services/api/pyproject.toml", '[project]\nname = "api"\nversion = "1"\ndependencies = ["fastapi"]\n')
    repo.write("services/api/uv.lock", "version = 1\n")
    repo.write("services/worker/requirements.txt", "celery\n")
    repo.write("docs/requirements.txt", "sphinx\n")
    found, _ = projects(repo)
    assert sorted(found) == [".", "docs", "services/api", "services/worker"]
    root = found["."]
    assert root.inputs == ["requirements/base.in"] and root.requirements == ["requirements/base.txt"]
    assert root.tool == "pip-tools" and [d.name for d in root.declared] == ["django"]
    assert [(lock.path, lock.kind) for lock in root.locks] == [("requirements/base.txt", "requirements")]
    api = found["services/api"]
    assert api.name == "api" and api.tool == "uv" and [lock.path for lock in api.locks] == ["services/api/uv.lock"]
    assert found["services/worker"].locks == [] and found["services/worker"].declared == []
    assert found["."].label == "at the repository root" and api.label == "'api' (services/api)"


def test_declarations_with_their_lines(repo):
    repo.write("pyproject.toml", """\
[project]
name = "app"
version = "1"
dependencies = [
    "requests>=2.31",
    'click',
]

[project.optional-dependencies]
Fast = ["orjson"]

[dependency-groups]
dev = ["pytest", {include-group = "lint"}]
lint = ["ruff"]

[tool.uv]
dev-dependencies = ["coverage"]

[tool.poetry.group.docs.dependencies]
Sphinx = "^7"
""")
    found, _ = projects(repo)
    declared = [(d.name, d.group, d.line) for d in found["."].declared]
    assert declared == [
        ("requests", "dependencies", 5), ("click", "dependencies", 6), ("orjson", "extra:fast", 10),
        ("pytest", "group:dev", 13), ("ruff", "group:lint", 14), ("coverage", "group:dev", 17),
        ("sphinx", "poetry:docs", 20),
    ]


def test_tools(repo):
    cases = {
        "poetry": '[tool.poetry.dependencies]\npython = "^3.10"\nrequests = "*"\n',
        "pdm": '[project]\nname = "a"\nversion = "1"\n[tool.pdm]\ndistribution = false\n',
        "uv-backend": '[project]\nname = "a"\nversion = "1"\n[build-system]\nrequires = ["uv_build"]\nbuild-backend = "uv_build"\n',
        # pdm-backend as a build backend, configured under [tool.pdm.build], does not make PDM the tool
        "pdm-build-only": '[project]\nname = "a"\nversion = "1"\n[tool.pdm.build]\nincludes = ["src"]\n',
        "plain": '[project]\nname = "a"\nversion = "1"\ndependencies = ["x"]\n',
    }
    for folder, text in cases.items():
        repo.write(f"{folder}/pyproject.toml", text)
    repo.write("pipenv/Pipfile", '[packages]\nrequests = "*"\n')
    repo.write("conda/environment.yml", "dependencies:\n  - numpy\n")
    repo.write("locked/pyproject.toml", '[project]\nname = "a"\nversion = "1"\n')
    repo.write("locked/poetry.lock", '[metadata]\nlock-version = "2.1"\n')
    found, _ = projects(repo)
    assert {d: p.tool for d, p in found.items()} == {
        "poetry": "poetry", "pdm": "pdm", "uv-backend": "uv", "pdm-build-only": None, "plain": None,
        "pipenv": "pipenv", "conda": "conda", "locked": "poetry"}
    assert [d.name for d in found["pipenv"].declared] == ["requests"]


def test_uv_workspace_members_share_the_root_lock(repo):
    install(repo, "uv-workspace")
    repo.write("packages/skipped/pyproject.toml", '[project]\nname = "skipped"\nversion = "1"\n')
    repo.write("tools/script/pyproject.toml", '[project]\nname = "script"\nversion = "1"\n')
    repo.write("pyproject.toml", (repo.root / "pyproject.toml").read_text().replace(
        'members = ["packages/*"]', 'members = ["packages/*", "tools/*"]\nexclude = ["packages/skipped"]'))
    found, _ = projects(repo)
    root = found["."]
    assert sorted(root.members) == ["packages/a", "packages/b", "tools/script"]
    a = found["packages/a"]
    assert a.workspace_root == "." and a.tool == "uv"
    assert [(lock.path, lock.shared) for lock in a.locks] == [("uv.lock", True)]
    assert found["packages/skipped"].workspace_root is None and found["packages/skipped"].locks == []
    assert found["packages/b"].dynamic and found["packages/b"].declared == []


def test_scanning_a_member_alone_finds_the_workspace_root_above_it(repo):
    install(repo, "uv-workspace")
    found, _ = projects(repo, "packages/a")
    assert list(found) == ["packages/a"]
    a = found["packages/a"]
    assert a.workspace_root == "."
    assert [(lock.path, lock.shared, lock.view is not None) for lock in a.locks] == [("uv.lock", True, True)]


def test_exports_and_competing_candidates(repo):
    install(repo, "uv-project")
    found, _ = projects(repo)
    root = found["."]
    kinds = {lock.path: (lock.kind, lock.tool) for lock in root.locks}
    assert kinds == {"uv.lock": ("uv", "uv"), "pylock.toml": ("pylock", "uv"),
                     "requirements.lock.txt": ("requirements", "uv")}


def test_broken_files_are_skipped_not_fatal(repo):
    repo.write("pyproject.toml", "[project\nname = 1\n")
    repo.write("uv.lock", "version = \n")
    repo.write("Pipfile", "[packages\n")
    repo.write("a/pyproject.toml", "project = 3\ntool = 4\ndependency-groups = 5\n")
    repo.write("b/pyproject.toml", '[project]\ndependencies = "requests"\noptional-dependencies = ["x"]\n'
                                   'dynamic = "dependencies"\n[tool.poetry]\ndependencies = ["x"]\ngroup = 3\n')
    found, project = projects(repo)
    assert found["."].pyproject is None and found["."].locks[0].view is None
    assert found["a"].declared == [] and found["b"].declared == []
    assert {f.path for f in project.problems} == {"pyproject.toml", "uv.lock", "Pipfile"}
