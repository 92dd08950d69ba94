"""ED305 anaconda-defaults and ED306 conda-env-unpinned."""

from __future__ import annotations

import pytest


def hits(repo, codes, *args):
    return [(f["path"], f["line"], f["code"]) for f in repo.findings("--select", codes, *args)]


PINNED = "dependencies:\n  - python=3.12\n  - numpy=1.26.4\n"


@pytest.mark.parametrize(("text", "lines"), [
    ("channels:\n  - defaults\n" + PINNED, [2]),
    ("channels:\n  - conda-forge\n  - defaults\n" + PINNED, [3]),
    ("channels: [conda-forge, anaconda]\n" + PINNED, [1]),
    ("channels:\n  - pkgs/main\n  - pkgs/r\n" + PINNED, [2, 3]),
    ("channels:\n  - https://mirror.example.invalid/pkgs/main/\n" + PINNED, [2]),
    ("channels:\n  - conda-forge\ndependencies:\n  - defaults::numpy=1.26.4\n", [4]),
    ("channels:\n  - conda-forge\ndependencies:\n  - python=3.12\n  - anaconda=2024.02\n", [5]),
    ("channels:\n  - conda-forge\ndependencies:\n  - anaconda\n", [4]),
])
def test_ed305_flags(repo, text, lines):
    repo.write("environment.yml", text)
    assert [line for _, line, _ in hits(repo, "ED305")] == lines


def test_ed305_message(repo):
    repo.write("environment.yml", "channels:\n  - defaults\n" + PINNED)
    (finding,) = repo.findings("--select", "ED305")
    assert finding["message"].startswith("Channel 'defaults' is Anaconda's repository")
    assert "conda-forge" in finding["fix_hint"] and "nodefaults" in finding["fix_hint"]


@pytest.mark.parametrize("text", [
    "channels:\n  - conda-forge\n  - nodefaults\n" + PINNED,
    PINNED,  # no channels: they come from the user's .condarc, not read
    "channels:\n  - conda-forge\ndependencies:\n  - anaconda-client=1.12.3\n  - conda-forge::numpy=1.26.4\n",
    "channels:\n  - https://mirror.example.invalid/conda-forge\n  - bioconda\n" + PINNED,
    "channels: defaults\n" + PINNED,  # not a list: conda would reject it; not guessed at
    "channels:\n  - {name: defaults}\n" + PINNED,
])
def test_ed305_near_misses(repo, text):
    repo.write("environment.yml", text)
    assert hits(repo, "ED305") == []


def test_ed305_other_file_names(repo):
    repo.write("envs/gpu-environment.yml", "channels:\n  - defaults\n" + PINNED)
    repo.write("environment.yaml", "channels:\n  - defaults\n" + PINNED)
    assert hits(repo, "ED305") == [("environment.yaml", 2, "ED305"), ("envs/gpu-environment.yml", 2, "ED305")]


# --- ED306 -------------------------------------------------------------------------------------------------

FLOATING = "name: analysis\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.12\n  - numpy\n  - pandas>=2.2\n"


def test_ed306_flags_floating_packages_at_the_dependencies_key(repo):
    repo.write("environment.yml", FLOATING)
    (finding,) = repo.findings("--select", "ED306")
    assert (finding["path"], finding["line"]) == ("environment.yml", 4)
    assert "2 packages ('numpy', 'pandas>=2.2') float" in finding["message"]
    assert "conda-lock" in finding["fix_hint"]


def test_ed306_counts_pip_entries(repo):
    repo.write("environment.yml", "dependencies:\n  - python=3.12\n  - pip\n  - pip:\n    - httpx==0.27.0\n"
                                  "    - rich\n    - -r requirements.txt\n")
    (finding,) = repo.findings("--select", "ED306")
    assert "1 package ('rich') floats" in finding["message"]


def test_ed306_lists_at_most_four(repo):
    repo.write("environment.yml", "dependencies:\n" + "".join(f"  - pkg{i}\n" for i in range(7)))
    (finding,) = repo.findings("--select", "ED306")
    assert "7 packages ('pkg0', 'pkg1', 'pkg2', 'pkg3' and 3 more)" in finding["message"]


@pytest.mark.parametrize("files", [
    {"environment.yml": "dependencies:\n  - python=3.12\n  - numpy==1.26.4\n  - scipy 1.13.1 py312h0_0\n"
                        "  - pandas=2.2.2=py312h1_0\n  - pip\n  - pip:\n    - httpx==0.27.0\n    - -e .\n"},
    {"environment.yml": FLOATING, "conda-lock.yml": "version: 1\n"},
    {"environment.yml": FLOATING, "analysis.conda-lock.yml": "version: 1\n"},
    {"environment.yml": FLOATING, "locks/conda-linux-64.lock": "@EXPLICIT\n"},
    {"envs/analysis/environment.yml": FLOATING, "spec-file.txt": "@EXPLICIT\n"},  # a lock above
    {"environment.yml": "name: empty\n"},
    {"environment.yml": "dependencies: []\n"},
    {"environment.yml": "dependencies:\n  - pip\n"},
])
def test_ed306_near_misses(repo, files):
    for rel, text in files.items():
        repo.write(rel, text)
    assert hits(repo, "ED306") == []


def test_ed306_lock_of_a_sibling_folder_does_not_count(repo):
    repo.write("a/environment.yml", FLOATING)
    repo.write("b/conda-lock.yml", "version: 1\n")
    assert hits(repo, "ED306") == [("a/environment.yml", 4, "ED306")]


def test_malformed_environment_is_one_ed001(repo):
    repo.write("environment.yml", "channels:\n  - conda-forge\ndependencies: [numpy,\n")
    findings = repo.findings("--select", "ED001,ED305,ED306")
    assert [(f["code"], f["path"]) for f in findings] == [("ED001", "environment.yml")]
    assert "not valid YAML" in findings[0]["message"]


def test_suppression_in_yaml(repo):
    repo.write("environment.yml", "channels:\n  - defaults  # envdoctor: ignore[ED305] -- licensed\n" + PINNED)
    assert hits(repo, "ED305,ED002") == []


def test_environments_in_test_folders_are_test_data(repo):
    repo.write("tests/fixtures/env/environment.yml", "channels:\n  - defaults\ndependencies:\n  - numpy\n")
    assert hits(repo, "ED305,ED306") == []
    # Near-miss: the same file as a project's environment
    repo.write("envs/environment.yml", "channels:\n  - defaults\ndependencies:\n  - numpy\n")
    assert hits(repo, "ED305,ED306") == [("envs/environment.yml", 2, "ED305"), ("envs/environment.yml", 3, "ED306")]
