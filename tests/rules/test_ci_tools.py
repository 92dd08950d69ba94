"""ED502 ci-unpinned-tool: CI installs its tools unpinned; and the near-misses."""

from __future__ import annotations

import pytest

GH = ".github/workflows/ci.yml"
HEAD = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"  # steps start on line 6
PYPROJECT = '[project]\nname = "demo"\nversion = "0.1.0"\ndependencies = ["requests>=2.31"]\n'


def steps(*runs: str) -> str:
    return HEAD + "".join(f"      - run: {run}\n" for run in runs)


def results(repo, workflow, *, path=GH, files=None):
    repo.write("pyproject.toml", PYPROJECT)
    for rel, text in (files or {}).items():
        repo.write(rel, text)
    repo.write(path, workflow)
    return [(f["path"], f["line"]) for f in repo.findings("--select", "ED502")]


def lines(repo, workflow, **kwargs):
    return [line for _path, line in results(repo, workflow, **kwargs)]


@pytest.mark.parametrize(("workflow", "expected"), [
    (steps("pip install uv"), [6]),
    (steps("python -m pip install --upgrade pip uv"), [6]),  # pip is fine, uv is not
    (steps("pip install 'ruff>=0.6'"), [6]),
    (steps("pip install --user pipx", "pipx install poetry"), [6, 7]),
    (steps("pipx install 'poetry<3'"), [6]),
    (steps("pipx run black --check ."), [6]),
    (steps("uv tool install ruff"), [6]),
    (steps("uv tool install ruff@latest"), [6]),
    (steps("uv tool install --with tox-uv tox"), [6]),
    (steps("uvx ruff check ."), [6]),
    (steps("uvx --python 3.12 --with pytest-cov pytest"), [6]),
    (steps("uv tool run mypy src"), [6]),
    (steps("curl -LsSf https://astral.sh/uv/install.sh | sh"), [6]),
    (steps("wget -qO- https://astral.sh/uv/install.sh | sh"), [6]),
    (steps("sudo pip install build twine"), [6]),
])
def test_must_flag(repo, workflow, expected):
    assert lines(repo, workflow) == expected


@pytest.mark.parametrize("workflow", [
    steps("pip install uv==0.5.1"),
    steps("python -m pip install --upgrade pip"),
    steps("pip install -U pip setuptools wheel"),
    steps("pip install -c constraints.txt ruff"),
    steps("PIP_CONSTRAINT=ci-constraints.txt pip install build"),
    steps("pip install requests"),  # a project dependency: ED501's business
    steps("pipx install poetry==1.8.3"),
    steps("pipx run tool==1.2"),
    steps("pipx run --spec black==24.10.0 black --check ."),
    steps("uv tool install ruff==0.6.9"),
    steps("uv tool install ruff@0.6.9"),
    steps("uv tool install -c constraints.txt ruff"),
    steps("uvx ruff@0.6.9 check ."),
    steps("uvx --from 'ruff==0.6.9' ruff check ."),
    steps("uvx --from . mytool"),
    steps("uvx ${{ matrix.tool }}"),
    steps("uv run ruff check ."),  # runs the project's locked ruff
    steps("curl -LsSf https://astral.sh/uv/0.5.1/install.sh | sh"),
    steps("echo pip install uv"),
    steps("pip install -r requirements-tools.txt"),  # a file: ED501 judges files
])
def test_must_not_flag(repo, workflow):
    assert lines(repo, workflow) == []


SETUP = HEAD + "      - uses: actions/checkout@v4\n      - uses: astral-sh/setup-uv@v6\n"  # uses: on line 7


@pytest.mark.parametrize(("workflow", "expected"), [
    (SETUP, [7]),
    (SETUP + "        with:\n          enable-cache: true\n", [7]),
    (SETUP + "        with:\n          version: latest\n", [9]),
    (SETUP + "        with:\n          version: '>=0.4'\n", [9]),
    (HEAD + "      - uses: astral-sh/setup-uv@e92bafb6253dcd438e0484186d7669ea7a8ca1cc  # v6\n", [6]),
])
def test_setup_uv_must_flag(repo, workflow, expected):
    assert lines(repo, workflow) == expected


@pytest.mark.parametrize("workflow", [
    SETUP + "        with:\n          version: '0.5.1'\n",
    SETUP + "        with:\n          version: 0.4.x\n",
    SETUP + "        with:\n          version: '>=0.4.25,<0.5'\n",
    SETUP + "        with:\n          version: ${{ env.UV_VERSION }}\n",
    HEAD + "      - uses: actions/setup-python@v5\n",
])
def test_setup_uv_must_not_flag(repo, workflow):
    assert lines(repo, workflow) == []


def test_setup_uv_reads_required_version(repo):
    pinned = PYPROJECT + '\n[tool.uv]\nrequired-version = "==0.5.1"\n'
    assert lines(repo, SETUP, files={"pyproject.toml": pinned}) == []
    repo.write("pyproject.toml", PYPROJECT)
    assert results(repo, SETUP, files={"uv.toml": 'required-version = ">=0.5,<0.6"\n'}) == []


def test_setup_uv_reads_required_version_in_its_working_directory(repo):
    workflow = SETUP + "        with:\n          working-directory: app\n"
    assert lines(repo, workflow, files={"uv.toml": 'required-version = "0.5.1"\n'}) == [7]
    assert lines(repo, workflow, files={"app/uv.toml": 'required-version = "0.5.1"\n'}) == []


# setup-uv without `version:` reads uv.toml, then pyproject.toml ([tool.uv] required-version, else a `uv==`
# requirement); a lower bound alone there installs the newest uv, like `version: ">=0.4"`.
LOWER = 'required-version = ">=0.9"\n'


@pytest.mark.parametrize("files", [
    {"uv.toml": LOWER},
    {"pyproject.toml": PYPROJECT + "\n[tool.uv]\n" + LOWER},
    {"uv.toml": "native-tls = true\n", "pyproject.toml": PYPROJECT + "\n[tool.uv]\n" + LOWER},
    {"pyproject.toml": PYPROJECT + '\n[dependency-groups]\ndev = ["uv>=0.5"]\n'},
])
def test_setup_uv_with_only_a_lower_bound_to_read_is_flagged(repo, files):
    assert lines(repo, SETUP, files=files) == [7]
    (finding,) = repo.findings("--select", "ED502")
    assert "is only a lower bound" in finding["message"]


@pytest.mark.parametrize("files", [
    {"uv.toml": 'required-version = "==0.9.5"\n'},
    {"uv.toml": 'required-version = "~=0.9.5"\n'},
    {"uv.toml": "native-tls = true\n", "pyproject.toml": PYPROJECT + '\n[tool.uv]\nrequired-version = "0.9.5"\n'},
    {"pyproject.toml": PYPROJECT + '\n[dependency-groups]\ndev = ["uv==0.9.5"]\n'},  # setup-uv reads that too
])
def test_setup_uv_with_a_bounded_version_to_read_is_not_flagged(repo, files):
    assert lines(repo, SETUP, files=files) == []


VERSION_FILE = SETUP + "        with:\n          version-file: {}\n"  # version-file: on line 9


@pytest.mark.parametrize(("name", "files"), [
    ("pyproject.toml", {}),  # no required-version, no uv requirement: nothing to read
    ("uv.toml", {"uv.toml": "native-tls = true\n"}),
    ("uv.toml", {"uv.toml": LOWER}),
    ("app/pyproject.toml", {"app/pyproject.toml": PYPROJECT + "\n[tool.uv]\n" + LOWER}),
])
def test_setup_uv_version_file_without_a_uv_version_is_flagged(repo, name, files):
    assert lines(repo, VERSION_FILE.format(name), files=files) == [9]


@pytest.mark.parametrize(("name", "files"), [
    ("pyproject.toml", {"pyproject.toml": PYPROJECT + '\n[tool.uv]\nrequired-version = "==0.9.5"\n'}),
    ("uv.toml", {"uv.toml": 'required-version = ">=0.9,<0.10"\n'}),
    (".tool-versions", {".tool-versions": "python 3.12.7\n"}),  # a format envdoctor does not read
    ("requirements-ci.txt", {}),  # a file envdoctor does not see (maybe written by an earlier step)
    ("${{ env.UV_VERSION_FILE }}", {}),
])
def test_setup_uv_version_file_with_a_version_or_unknown_is_not_flagged(repo, name, files):
    assert lines(repo, VERSION_FILE.format(name), files=files) == []


def test_setup_uv_in_other_ci_files_is_not_a_github_action(repo):
    assert lines(repo, "test:\n  script:\n    - echo astral-sh/setup-uv@v6\n", path=".gitlab-ci.yml") == []


def test_message_and_hint(repo):
    repo.write(GH, steps("uvx ruff check ."))
    (finding,) = repo.findings("--select", "ED502")
    assert finding["message"].startswith("'uvx ruff check .' runs the newest release of 'ruff'")
    assert finding["fix_hint"].startswith("Pin it: `uvx ruff@<version>`")
    assert finding["severity"] == "warning"


def test_other_ci_systems(repo):
    repo.write(".gitlab-ci.yml", "lint:\n  script:\n    - pip install tox\n    - tox -e lint\n")
    repo.write("azure-pipelines.yml", "steps:\n  - script: pip install pre-commit==4.0.1\n  - bash: uvx ruff check\n")
    circle = "version: 2.1\njobs:\n  t:\n    steps:\n      - run: pipx install hatch\n"
    assert results(repo, circle, path=".circleci/config.yml") == [
        (".circleci/config.yml", 5), (".gitlab-ci.yml", 3), ("azure-pipelines.yml", 3)]


def test_nox_session_run_by_ci(repo):
    noxfile = ("import nox\n\n@nox.session\ndef build(session):\n"
               "    session.install('build')\n"                 # 5: the session's own tools: not judged
               "    session.run('pip', 'install', 'twine')\n")  # 6: an explicit pip command
    assert results(repo, steps("nox -s build"), files={"noxfile.py": noxfile}) == [("noxfile.py", 6)]


def test_powershell_steps_are_not_judged(repo):
    # A Windows runner's default shell is pwsh: not read as sh. The same command in bash is reported.
    windows = HEAD.replace("ubuntu-latest", "windows-latest")
    assert lines(repo, windows + "      - run: pip install uv\n") == []
    assert lines(repo, HEAD + "      - shell: pwsh\n        run: pip install uv\n") == []
    assert lines(repo, windows + "      - shell: bash\n        run: pip install uv\n") == [7]


# --- local composite actions ---

ACTION = ".github/actions/setup/action.yml"
COMPOSITE = ("runs:\n  using: composite\n  steps:\n"
             "    - uses: astral-sh/setup-uv@v6\n"            # 4
             "    - run: uvx ruff check .\n      shell: bash\n")  # 5
USES = HEAD + "      - uses: ./.github/actions/setup\n"


def test_composite_action_used_by_a_job_is_judged(repo):
    found = results(repo, USES + USES.replace(HEAD, "  again:\n    runs-on: ubuntu-latest\n    steps:\n"),
                    files={ACTION: COMPOSITE})
    assert found == [(ACTION, 4), (ACTION, 5)]  # once each, though two jobs use it
    messages = [f["message"] for f in repo.findings("--select", "ED502")]
    assert all(m.endswith("(This action runs in job 'test' of .github/workflows/ci.yml.)") for m in messages)


def test_composite_action_setup_uv_reads_the_callers_required_version(repo):
    files = {ACTION: COMPOSITE, "uv.toml": 'required-version = "0.5.1"\n'}
    assert results(repo, USES, files=files) == [(ACTION, 5)]


def test_unused_or_root_action_only_a_floating_version_of_its_own(repo):
    # No job of this repository uses them: what setup-uv would read (required-version) is the caller's,
    # and the tools its steps install are not judged; a `version: latest` written in the action floats
    # whatever the caller has.
    root = COMPOSITE.replace("setup-uv@v6\n", "setup-uv@v6\n      with:\n        version: latest\n")
    assert results(repo, steps("echo"), files={ACTION: COMPOSITE}) == []
    assert results(repo, steps("echo"), files={ACTION: COMPOSITE, "action.yml": root}) == [("action.yml", 6)]


def test_suppression_on_the_uses_step_covers_the_actions_setup_uv_and_tools(repo):
    # red-team r3b item 2: the comment above the `uses:` step covers the whole step, the action's steps too
    second = USES.replace(HEAD, "  again:\n    runs-on: ubuntu-latest\n    steps:\n")
    suppressed = USES.replace("      - uses:", "      # envdoctor: ignore[ED502] -- newest tools here\n      - uses:")
    repo.write("pyproject.toml", PYPROJECT)
    repo.write(ACTION, COMPOSITE)
    repo.write(GH, suppressed)
    assert repo.findings("--select", "ED502,ED002") == []
    repo.write(GH, suppressed + second)  # the other job is still at fault, and is named
    findings = repo.findings("--select", "ED502,ED002")
    assert [(f["path"], f["line"]) for f in findings] == [(ACTION, 4), (ACTION, 5)]
    assert all("job 'again'" in f["message"] for f in findings)
