"""ED109 context-leaks-virtualenv and ED110 copy-of-ignored-file: must flag, and the near-misses."""

from __future__ import annotations

import pytest

PYPROJECT = '[project]\nname = "app"\nversion = "1.0"\n'
VENV = {".venv/pyvenv.cfg": "home = /usr/bin\nversion = 3.12.4\n", ".venv/bin/python": ""}


def results(repo, dockerfile, select, files=None, *, path="Dockerfile", git=True):
    repo.write(path, dockerfile)
    for rel, text in (files or {}).items():
        repo.write(rel, text)
    if git:
        repo.write(".gitignore", ".venv/\nvenv/\nenv/\ndist/\n")
        repo.init_git()
    return [(f["path"], f["code"], f["line"]) for f in repo.findings("--select", select)]


# --- ED109 ----------------------------------------------------------------------------------------------

COPY_ALL = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"


@pytest.mark.parametrize(("files", "dockerfile", "expected"), [
    # no .dockerignore, and a .venv is there
    ({**VENV}, COPY_ALL, [3]),
    # a .dockerignore that does not exclude it (or excludes something else)
    ({**VENV, ".dockerignore": "__pycache__\n*.pyc\n"}, COPY_ALL, [3]),
    ({**VENV, ".dockerignore": "venv/\n"}, COPY_ALL, [3]),
    ({**VENV, ".dockerignore": "*/.venv\n"}, COPY_ALL, [3]),  # one level down only
    ({**VENV, ".dockerignore": ".venv\n!.venv\n"}, COPY_ALL, [3]),  # re-included
    # any folder holding pyvenv.cfg, whatever its name
    ({"env/pyvenv.cfg": "home = /usr/bin\n", "pyproject.toml": PYPROJECT, ".dockerignore": ".venv\n"}, COPY_ALL, [3]),
    # a Python project without a .dockerignore: the .venv every tool creates there would be sent
    ({"pyproject.toml": PYPROJECT}, COPY_ALL, [3]),
    # ADD, `./`, and copying the folder that holds the environment
    ({**VENV}, "FROM python:3.12-slim\nADD ./ /app\n", [2]),
    ({"app/.venv/pyvenv.cfg": "home = /usr/bin\n"}, "FROM python:3.12-slim\nCOPY app /app\n", [2]),
])
def test_ed109_must_flag(repo, files, dockerfile, expected):
    assert results(repo, dockerfile, "ED109", files) == [("Dockerfile", "ED109", line) for line in expected]


@pytest.mark.parametrize(("files", "dockerfile"), [
    ({**VENV, ".dockerignore": ".venv\n"}, COPY_ALL),
    ({**VENV, ".dockerignore": "/.venv/\n"}, COPY_ALL),
    ({**VENV, ".dockerignore": "**/.venv\n"}, COPY_ALL),
    ({**VENV, ".dockerignore": ".*\n"}, COPY_ALL),
    ({**VENV, ".dockerignore": "*\n!src\n!pyproject.toml\n"}, COPY_ALL),
    # BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile first
    ({**VENV, "Dockerfile.dockerignore": ".venv\n", ".dockerignore": "*.pyc\n"}, COPY_ALL),
    # only named files are copied
    ({**VENV, "pyproject.toml": PYPROJECT}, "FROM python:3.12-slim\nCOPY pyproject.toml /app/\n"),
    ({"app/.venv/pyvenv.cfg": "home = /usr/bin\n"}, "FROM python:3.12-slim\nCOPY src /app/src\n"),
    # COPY --from copies from a stage, not from the context
    ({**VENV, ".dockerignore": ".venv\n"},
     "FROM python:3.12-slim AS b\nCOPY . /src\nFROM python:3.12-slim\nCOPY --from=b /src /src\n"),
    # not a Python project and no environment: nothing to leak
    ({"main.go": "package main\n"}, COPY_ALL),
])
def test_ed109_must_not_flag(repo, files, dockerfile):
    files = {"src/app.py": "", **files}
    assert results(repo, dockerfile, "ED109", files) == []


@pytest.mark.parametrize("dockerfile", [
    "# syntax=docker/dockerfile:1.10\nFROM python:3.12-slim\nWORKDIR /app\nCOPY --exclude=.venv --exclude=**/__pycache__ . .\n",
    "FROM python:3.12-slim\nWORKDIR /app\nADD --exclude=.venv . .\n",
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY --exclude=**/.venv . .\n",
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY --exclude=.venv/* . .\n",
    "FROM python:3.12-slim\nARG SKIP=.venv\nWORKDIR /app\nCOPY --exclude=$SKIP . .\n",
    # a pattern known only at build time may leave it out: not guessed at
    "FROM python:3.12-slim\nARG SKIP\nWORKDIR /app\nCOPY --exclude=$SKIP . .\n",
    # the folder holding it, with the pattern written below that folder
    "FROM python:3.12-slim\nCOPY --exclude=.venv app /app\n",
])
def test_ed109_copy_exclude_leaves_the_environment_out(repo, dockerfile):
    files = {"app/.venv/pyvenv.cfg": "home = /usr/bin\n"} if "app /app" in dockerfile else {**VENV}
    assert results(repo, dockerfile, "ED109", {"src/app.py": "", **files}) == []


@pytest.mark.parametrize("dockerfile", [
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY --exclude=**/__pycache__ . .\n",
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY --exclude=.venv/pyvenv.cfg . .\n",
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY --exclude=venv . .\n",
])
def test_ed109_copy_exclude_of_something_else_still_leaks(repo, dockerfile):
    assert results(repo, dockerfile, "ED109", {"src/app.py": "", **VENV}) == [("Dockerfile", "ED109", 3)]


@pytest.mark.parametrize("ignore", [".venv/*\n", ".venv/**\n", "/.venv/**\n",
                                    ".venv/pyvenv.cfg\n.venv/bin\n.venv/lib\n"])
def test_ed109_dockerignore_excluding_the_contents_excludes_the_environment(repo, ignore):
    files = {**VENV, ".venv/lib/python3.12/site-packages/x.py": "", ".dockerignore": ignore}
    assert results(repo, COPY_ALL, "ED109", files) == []


@pytest.mark.parametrize("ignore", [".venv/pyvenv.cfg\n", ".venv/lib/**\n", ".venv/**\n!.venv/lib\n"])
def test_ed109_dockerignore_excluding_part_of_the_contents_still_leaks(repo, ignore):
    files = {**VENV, ".venv/lib/python3.12/site-packages/x.py": "", ".dockerignore": ignore}
    assert results(repo, COPY_ALL, "ED109", files) == [("Dockerfile", "ED109", 3)]


def test_ed109_environment_outside_the_context_is_not_sent(repo):
    files = {**VENV, "services/api/pyproject.toml": PYPROJECT, "services/api/.dockerignore": ".venv\n"}
    assert results(repo, COPY_ALL, "ED109", files, path="services/api/Dockerfile") == []


def test_ed109_message_says_why(repo):
    results(repo, COPY_ALL, "ED109", {**VENV, ".dockerignore": "*.pyc\n"})
    (finding,) = repo.findings("--select", "ED109")
    assert "'.venv'" in finding["message"] and ".dockerignore does not exclude it" in finding["message"]


def test_ed109_names_the_dockerignore_docker_reads_when_the_one_beside_the_dockerfile_is_unused(repo):
    dockerfile = "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nCOPY . .\n"
    files = {**VENV, "requirements.txt": "flask==3.0.3\n", "docker/.dockerignore": ".venv\n"}
    assert results(repo, dockerfile, "ED109", files, path="docker/Dockerfile") == [("docker/Dockerfile", "ED109", 4)]
    (finding,) = repo.findings("--select", "ED109")
    assert "there is no .dockerignore" not in finding["message"]
    assert "docker/.dockerignore is not used" in finding["message"]
    assert "docker/Dockerfile.dockerignore" in finding["message"]
    assert "beside the Dockerfile" not in finding["fix_hint"] and "to .dockerignore" in finding["fix_hint"]


def test_ed109_without_any_dockerignore_says_so(repo):
    results(repo, COPY_ALL, "ED109", {**VENV})
    (finding,) = repo.findings("--select", "ED109")
    assert "there is no .dockerignore" in finding["message"]
    assert finding["fix_hint"].startswith("Add `.venv` to .dockerignore")


def test_ed109_nested_environment_while_the_name_is_listed_advises_a_recursive_pattern(repo):
    files = {"pkg/.venv/pyvenv.cfg": "home = /usr/bin\n", "pkg/app.py": "", ".dockerignore": ".venv\n"}
    assert results(repo, "FROM python:3.12-slim\nCOPY pkg /app/pkg\n", "ED109", files) == [("Dockerfile", "ED109", 2)]
    (finding,) = repo.findings("--select", "ED109")
    assert "Add `**/.venv` to .dockerignore" in finding["fix_hint"]
    assert "matches only at the root" in finding["fix_hint"]


# --- ED110 ----------------------------------------------------------------------------------------------

UV_COPY = "FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\n"


@pytest.mark.parametrize(("files", "dockerfile", "expected"), [
    # the lock is excluded, plainly or by an allow-list that forgot it
    ({".dockerignore": "*.lock\n"}, UV_COPY, [3]),
    ({".dockerignore": "*\n!pyproject.toml\n!src\n"}, UV_COPY, [3]),
    ({"Dockerfile.dockerignore": "uv.lock\n"}, UV_COPY, [3]),
    # a folder excluded as a whole
    ({".dockerignore": "src\n"}, "FROM python:3.12-slim\nCOPY src /app/src\n", [2]),
    # the line of a source on a continuation line
    ({".dockerignore": "uv.lock\n"}, "FROM python:3.12-slim\nCOPY pyproject.toml \\\n     uv.lock \\\n     /app/\n", [3]),
    # not in the repository (and not a generated, git-ignored file)
    ({}, "FROM python:3.12-slim\nCOPY pyproject.toml poetry.lock ./\n", [2]),
    ({}, "FROM python:3.12-slim\nCOPY [\"requirements.txt\", \"/app/\"]\n", [2]),
])
def test_ed110_must_flag(repo, files, dockerfile, expected):
    files = {"pyproject.toml": PYPROJECT, "uv.lock": "", "src/app.py": "", **files}
    assert results(repo, dockerfile, "ED110", files) == [("Dockerfile", "ED110", line) for line in expected]


@pytest.mark.parametrize(("files", "dockerfile"), [
    ({}, UV_COPY),
    ({".dockerignore": ".venv\n*.pyc\n"}, UV_COPY),
    ({".dockerignore": "*\n!pyproject.toml\n!uv.lock\n"}, UV_COPY),
    ({".dockerignore": "*.lock\n!uv.lock\n"}, UV_COPY),
    # an excluded folder with an exception inside is not wholly left out
    ({".dockerignore": "src\n!src/app.py\n"}, "FROM python:3.12-slim\nCOPY src /app/src\n"),
    # a generated (git-ignored) artefact, a wildcard, a variable, a URL, a heredoc, COPY --from
    ({}, "FROM python:3.12-slim\nCOPY dist/app-1.0-py3-none-any.whl /tmp/\n"),
    ({}, "FROM python:3.12-slim\nCOPY poetry.lock* pyproject.toml ./\n"),
    ({}, "FROM python:3.12-slim\nARG REQS=requirements/prod.txt\nCOPY $REQS /app/\n"),
    ({}, "FROM python:3.12-slim\nADD https://files.example.invalid/x.tar.gz /tmp/\n"),
    ({}, "FROM python:3.12-slim\nCOPY <<EOF /app/config.ini\n[x]\nEOF\n"),
    ({}, "FROM python:3.12-slim AS b\nRUN touch /x.lock\nFROM python:3.12-slim\nCOPY --from=b /x.lock /x.lock\n"),
])
def test_ed110_must_not_flag(repo, files, dockerfile):
    files = {"pyproject.toml": PYPROJECT, "uv.lock": "", "src/app.py": "", **files}
    assert results(repo, dockerfile, "ED110", files) == []


def test_ed110_missing_file_needs_git_facts(repo):
    dockerfile = "FROM python:3.12-slim\nCOPY pyproject.toml poetry.lock ./\n"
    assert results(repo, dockerfile, "ED110", {"pyproject.toml": PYPROJECT}, git=False) == []


def test_ed110_context_above_the_dockerfile_is_inferred(repo):
    """`docker build -f docker/Dockerfile .`: the files are found at the root, so that is the context."""
    files = {"pyproject.toml": PYPROJECT, "uv.lock": "", ".dockerignore": "uv.lock\n"}
    dockerfile = "FROM python:3.12-slim\nCOPY pyproject.toml uv.lock ./\n"
    assert results(repo, dockerfile, "ED110", files, path="docker/Dockerfile") == [("docker/Dockerfile", "ED110", 2)]


def test_ed110_message_names_the_pattern(repo):
    files = {"pyproject.toml": PYPROJECT, "uv.lock": "", ".dockerignore": "# build context\n*\n!pyproject.toml\n"}
    results(repo, UV_COPY, "ED110", files)
    (finding,) = repo.findings("--select", "ED110")
    assert finding["message"] == ("'uv.lock' is excluded by .dockerignore (line 2: '*'), so it is not in the build "
                                  "context and this COPY fails.")
    assert finding["fix_hint"].startswith("Add `!uv.lock` after line 2 of .dockerignore")


def test_ed110_unreadable_dockerignore_is_ed001_and_silences_the_rules(repo):
    files = {"pyproject.toml": PYPROJECT, "uv.lock": "", ".dockerignore": "!\n"}
    assert results(repo, UV_COPY, "ED001,ED109,ED110", files) == [(".dockerignore", "ED001", 1)]


def test_a_dockerignore_that_is_a_link_out_of_the_repository_silences_the_rules(repo, tmp_path):
    # What it excludes is not known (envdoctor never follows a link out of the root): no ED109 guess.
    outside = tmp_path / "outside.dockerignore"
    outside.write_text(".venv\n")
    repo.write("Dockerfile", "FROM python:3.12-slim@sha256:" + "a" * 64 + "\nCOPY . .\n")
    repo.write(".venv/pyvenv.cfg", "home = /usr/bin\n")
    repo.init_git()
    assert "ED109" in repo.codes()  # near-miss: without any .dockerignore it leaks
    (repo.root / ".dockerignore").symlink_to(outside)
    assert "ED109" not in repo.codes()


# --- the build context a Compose file gives (red-team miss M2) ------------------------------------------

COMPOSE_ROOT = "services:\n  web:\n    build:\n      context: .\n      dockerfile: docker/Dockerfile\n"


@pytest.mark.parametrize(("files", "expected"), [
    # compose names this Dockerfile with the repository root as its context: the root's .venv is sent
    ({"compose.yaml": COMPOSE_ROOT}, [("docker/Dockerfile", "ED109", 3)]),
    ({"docker-compose.yml": "version: '3.8'\nservices:\n  web:\n    build: {context: ., dockerfile: ./docker/Dockerfile}\n"},
     [("docker/Dockerfile", "ED109", 3)]),
    # from a compose file in the Dockerfile's own folder, with the context above it
    ({"docker/compose.yml": "services:\n  web:\n    build:\n      context: ..\n      dockerfile: docker/Dockerfile\n"},
     [("docker/Dockerfile", "ED109", 3)]),
    # the near misses: no compose file; one naming another Dockerfile; the Dockerfile's folder as context
    ({}, []),
    ({"compose.yaml": COMPOSE_ROOT.replace("docker/Dockerfile", "docker/Dockerfile.prod")}, []),
    ({"compose.yaml": "services:\n  web:\n    build: ./docker\n"}, []),
    # two services name it with different contexts, or one with a context only known at run time: inferred
    ({"compose.yaml": COMPOSE_ROOT + "  worker:\n    build:\n      context: docker\n      dockerfile: Dockerfile\n"},
     []),
    ({"compose.yaml": COMPOSE_ROOT + "  worker:\n    build:\n      context: ${CTX}\n      dockerfile: docker/Dockerfile\n"},
     []),
    # not valid YAML, or not a mapping: not read, and not reported either
    ({"compose.yaml": "services: [\n"}, []),
    ({"compose.yaml": "- a\n- b\n"}, []),
])
def test_ed109_build_context_from_compose(repo, files, expected):
    dockerfile = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
    assert results(repo, dockerfile, "ED001,ED109", {**VENV, **files}, path="docker/Dockerfile") == expected


def test_compose_context_is_named_in_messages(repo):
    dockerfile = "FROM python:3.12-slim\nCOPY pyproject.toml poetry.lock ./\n"
    results(repo, dockerfile, "ED110", {"compose.yaml": COMPOSE_ROOT, "pyproject.toml": PYPROJECT},
            path="docker/Dockerfile")
    (finding,) = repo.findings("--select", "ED110")
    assert "'poetry.lock' does not exist in the build context (the repository root, as compose.yaml sets it)" \
        in finding["message"]
