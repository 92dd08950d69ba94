"""ED206 unpinned-requirements: install sources with floating requirements, and the near-misses."""

from __future__ import annotations

import pytest

BASE = "FROM python:3.12-slim@sha256:" + "0123456789abcdef" * 4 + "\n"


def unpinned(repo):
    return [(f["path"], f["line"], f["message"]) for f in repo.findings("--select", "ED206")]


def test_dockerfile_install_source(repo):
    repo.write("requirements.txt", "# web\nflask>=3.0\ngunicorn\nwerkzeug==3.1.3\n-e .\n")
    repo.write("Dockerfile", BASE + "WORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n")
    assert unpinned(repo) == [
        ("requirements.txt", 2, "'flask>=3.0' is only a range: requirements.txt is the install source (installed by "
                                "Dockerfile:4) and no lock exists, so each install may get a different version."),
        ("requirements.txt", 3, "'gunicorn' is not pinned: requirements.txt is the install source (installed by "
                                "Dockerfile:4) and no lock exists, so each install may get a different version."),
    ]


def test_the_compile_advice_names_the_file_and_its_input(repo):
    repo.write("docs/requirements.txt", "sphinx>=7\n")
    repo.write("Dockerfile", BASE + "COPY docs/requirements.txt /r.txt\nRUN pip install --no-cache-dir -r /r.txt\n")
    (finding,) = repo.findings("--select", "ED206")
    assert finding["fix_hint"].endswith(
        "keep the ranges in docs/requirements.in and compile the lock from it: "
        "`uv pip compile --generate-hashes docs/requirements.in -o docs/requirements.txt`.")


@pytest.mark.parametrize(("dockerfile", "where"), [
    # renamed on the way in
    ("COPY requirements/prod.txt /tmp/reqs.txt\nRUN pip install -r /tmp/reqs.txt\n", "requirements/prod.txt"),
    # a folder copied, then installed relative to WORKDIR
    ("WORKDIR /srv\nCOPY requirements/ requirements/\nRUN python -m pip install -r requirements/prod.txt\n",
     "requirements/prod.txt"),
    # the whole context copied
    ("WORKDIR /app\nCOPY . .\nRUN pip3 install --requirement=requirements/prod.txt\n", "requirements/prod.txt"),
    # a bind mount
    ("RUN --mount=type=bind,source=requirements/prod.txt,target=/r.txt uv pip install --system -r /r.txt\n",
     "requirements/prod.txt"),
    # inside a shell wrapper, with sudo
    ("COPY requirements/prod.txt .\nRUN set -eux; sh -c 'sudo pip install -rprod.txt'\n", "requirements/prod.txt"),
])
def test_dockerfile_paths_are_followed(repo, dockerfile, where):
    repo.write("requirements/prod.txt", "django\n")
    repo.write("Dockerfile", BASE + dockerfile)
    assert [(p, line) for p, line, _ in unpinned(repo)] == [(where, 1)]


def test_dockerfile_in_a_sub_folder_with_its_context(repo):
    repo.write("services/api/requirements.txt", "fastapi\n")
    repo.write("services/api/Dockerfile", BASE + "COPY requirements.txt .\nRUN pip install -r requirements.txt\n")
    ((path, line, message),) = unpinned(repo)
    assert (path, line) == ("services/api/requirements.txt", 1) and "installed by services/api/Dockerfile:3" in message


def test_includes_and_conventional_names(repo):
    repo.write("pyproject.toml", '[project]\nname = "app"\nversion = "1"\n')
    repo.write("requirements.txt", "-r requirements-base.txt\nrich\n")
    repo.write("requirements-base.txt", "click>=8\n")
    findings = unpinned(repo)
    assert [(p, line) for p, line, _ in findings] == [("requirements-base.txt", 1), ("requirements.txt", 2)]
    assert "(included by requirements.txt)" in findings[0][2]
    assert "(the requirements.txt of project 'app' (the repository root))" in findings[1][2]


@pytest.mark.parametrize("files", [
    # *.in files are inputs
    {"requirements.in": "flask\n", "Dockerfile": BASE + "COPY requirements.in .\nRUN pip install -r requirements.in\n"},
    # pinned, or pinned through a constraints file
    {"requirements.txt": "flask==3.1.0\nwerkzeug==3.1.3\n"},
    {"requirements.txt": "flask\n-c constraints.txt\n", "constraints.txt": "flask==3.1.0\n"},
    {"requirements.txt": "flask\n", "constraints.txt": "flask==3.1.0\n",
     "Dockerfile": BASE + "COPY . .\nRUN pip install -r requirements.txt -c constraints.txt\n"},
    # the project has a lock: installing without it is another rule's business (ED106/ED501)
    {"pyproject.toml": '[project]\nname = "a"\nversion = "1"\ndependencies = ["flask"]\n', "uv.lock": "version = 1\n",
     "requirements.txt": "flask\n"},
    # not an install source: not referenced, not at a project root
    {"docs/requirements.txt": "sphinx\n"},
    {"tools/requirements-lint.txt": "ruff\n"},
    # a requirements.txt beside a folder without pyproject.toml, installed by nothing
    {"scripts/requirements.txt": "requests\n"},
    # editable installs and direct references
    {"requirements.txt": "-e .\n-e ./libs/x\npkg @ https://files.example.invalid/pkg-1.0-py3-none-any.whl\n"},
    # a path built from a build argument is not guessed at
    {"sub/requirements.txt": "flask\n", "Dockerfile": BASE + "ARG REQS\nCOPY sub /app\nRUN pip install -r /app/$REQS\n"},
    # other commands
    {"reqs/requirements-x.txt": "flask\n", "Dockerfile": BASE + "COPY reqs .\nRUN pip download -r requirements-x.txt\n"},
])
def test_must_not_flag(repo, files):
    for rel, text in files.items():
        repo.write(rel, text)
    assert unpinned(repo) == []


def test_odd_dockerfiles_do_not_crash(repo):
    repo.write("requirements.txt", "flask\n")
    repo.write("Dockerfile", "FROM scratch\nRUN pip install -r\nRUN pip install -r ''\nCOPY\nWORKDIR\nRUN [\"pip\", \"install\", "
                             "\"-r\", \"requirements.txt\"]\n")
    assert [(p, line) for p, line, _ in unpinned(repo)] == [("requirements.txt", 1)]


@pytest.mark.parametrize(("rel", "text", "line", "why"), [
    (".github/workflows/ci.yml", "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
     "      - run: pip install -r tools/requirements-ci.txt\n", 6, "installed by CI, .github/workflows/ci.yml:6"),
    ("README.md", "# app\n\n```console\n$ python -m pip install -r tools/requirements-ci.txt\n```\n", 4,
     "documented in README.md:4"),
    ("tools/Makefile", "install:\n\tpip install -r requirements-ci.txt\n", 2, "installed by tools/Makefile:2"),
])
def test_ci_scripts_and_docs_install_sources(repo, rel, text, line, why):
    repo.write("tools/requirements-ci.txt", "pytest\n")
    repo.write(rel, text)
    ((path, found_line, message),) = unpinned(repo)
    assert (path, found_line) == ("tools/requirements-ci.txt", 1)
    assert f"({why})" in message


def test_scripts_that_do_not_install_it(repo):
    repo.write("tools/requirements-ci.txt", "pytest\n")
    repo.write(".github/workflows/ci.yml", "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
                                           "      - run: cat tools/requirements-ci.txt && pip install -r $REQS\n")
    repo.write("README.md", "Install with `pip install -r tools/requirements-ci.txt`.\n")  # prose, not a shell block
    assert unpinned(repo) == []


def test_test_requirements_installed_by_ci_are_still_install_sources(repo):
    repo.write("tests/requirements.txt", "pytest\n")
    repo.write("tests/pyproject.toml", '[project]\nname = "fixture"\nversion = "1"\n')  # conventional: not here
    assert unpinned(repo) == []
    repo.write(".gitlab-ci.yml", "test:\n  script:\n    - pip install -r tests/requirements.txt\n")
    assert [(p, line) for p, line, _ in unpinned(repo)] == [("tests/requirements.txt", 1)]


SETUPTOOLS_DYNAMIC = ('[build-system]\nrequires = ["setuptools>=69"]\nbuild-backend = "setuptools.build_meta"\n\n'
                      '[project]\nname = "legacy-svc"\nversion = "3.0.0"\nrequires-python = ">=3.10"\n'
                      'dynamic = ["dependencies", "optional-dependencies"]\n\n[tool.setuptools.dynamic]\n'
                      'dependencies = { file = ["requirements.txt"] }\n'
                      'optional-dependencies.test = { file = ["requirements-test.txt"] }\n')


def test_setuptools_dynamic_dependency_files_are_declarations(repo):
    # The pyproject makes these files the package's `dependencies` and `test` extra: pinning them would pin
    # every user of the package.
    repo.write("svc/pyproject.toml", SETUPTOOLS_DYNAMIC)
    repo.write("svc/requirements.txt", "requests>=2.31\nclick\n")
    repo.write("svc/requirements-test.txt", "pytest\n")
    repo.write("svc/Dockerfile", BASE + "COPY requirements-test.txt .\nRUN pip install -r requirements-test.txt\n")
    assert unpinned(repo) == []
    # Near-miss: without the [tool.setuptools.dynamic] entry, the conventional requirements.txt is the source.
    repo.write("svc/pyproject.toml", SETUPTOOLS_DYNAMIC.replace('dependencies = { file = ["requirements.txt"] }\n', ""))
    assert [(p, line) for p, line, _ in unpinned(repo)] == [("svc/requirements.txt", 1), ("svc/requirements.txt", 2)]


@pytest.mark.parametrize("config", [".readthedocs.yaml", ".readthedocs.yml"])
def test_read_the_docs_installs_its_requirements_file(repo, config):
    repo.write("docs/requirements.txt", "sphinx>=8\nfuro==2024.8.6\n")
    repo.write(config, 'version: 2\nbuild:\n  os: ubuntu-24.04\n  tools:\n    python: "3.12"\npython:\n'
                       "  install:\n    - method: pip\n      path: .\n    - requirements: docs/requirements.txt\n")
    assert unpinned(repo) == [
        ("docs/requirements.txt", 1, f"'sphinx>=8' is only a range: requirements.txt is the install source (installed "
                                     f"by Read the Docs, {config}:10) and no lock exists, so each install may get a "
                                     f"different version."),
    ]


@pytest.mark.parametrize("config", [
    "version: 2\npython:\n  install:\n    - method: pip\n      path: .\n",  # installs the project, not the file
    "version: 2\nsphinx:\n  configuration: docs/conf.py\n",  # no python.install
    "version: 2\npython:\n  install:\n    - requirements: docs/other.txt\n",  # another file, not here
    "version: 2\npython: [unbalanced\n",  # not YAML: no finding, no crash
    "version: 2\npython:\n  install: !!python/object:os.system {}\n",  # a tag: nothing is constructed
])
def test_read_the_docs_near_misses(repo, config):
    repo.write("docs/requirements.txt", "sphinx>=8\n")
    repo.write(".readthedocs.yaml", config)
    assert unpinned(repo) == []


def test_a_huge_read_the_docs_configuration_is_not_read(repo):
    # Near-miss first: the same configuration, small, makes docs/requirements.txt an install source.
    config = "version: 2\npython:\n  install:\n    - requirements: docs/requirements.txt\n"
    repo.write("docs/requirements.txt", "sphinx>=7\n")
    repo.write(".readthedocs.yaml", config)
    assert [f["code"] for f in repo.findings("--select", "ED206")] == ["ED206"]
    repo.write(".readthedocs.yaml", config + "x-pad:\n" + "".join(f"  k{n}: {'v' * 50}\n" for n in range(20_000)))
    assert repo.findings("--select", "ED206") == []


def test_the_build_context_a_compose_file_gives_decides_which_file_is_installed(repo):
    repo.write("compose.yaml", "services:\n  api:\n    build:\n      context: .\n      dockerfile: app/Dockerfile\n")
    repo.write("app/Dockerfile", BASE + "WORKDIR /srv\nCOPY requirements.txt .\n"
                                       "RUN pip install --no-cache-dir -r requirements.txt\nCOPY app/ .\n")
    repo.write("requirements.txt", "requests==2.32.3\n")
    repo.write("app/requirements.txt", "requests\n")
    assert unpinned(repo) == []  # the image copies the root's pinned file, not app/requirements.txt
    repo.write("requirements.txt", "requests>=2\n")  # near-miss: the root's file unpinned is reported
    assert [(path, line) for path, line, _ in unpinned(repo)] == [("requirements.txt", 1)]
