"""ED501 ci-ignores-lockfile: CI installs the project's dependencies without the lock; and the near-misses."""

from __future__ import annotations

import pytest

PYPROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["requests>=2.31"]

[dependency-groups]
dev = ["pytest>=8"]
"""
UV_LOCK = """\
version = 1
revision = 3
requires-python = ">=3.11"

[[package]]
name = "demo"
version = "0.1.0"
source = { editable = "." }
"""
GH = ".github/workflows/ci.yml"
HEAD = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"  # steps start on line 6


def steps(*runs: str) -> str:
    """A one-job GitHub workflow with one `run:` step per argument, the first on line 6."""
    return HEAD + "".join(f"      - run: {run}\n" for run in runs)


def results(repo, workflow, *, path=GH, files=None, lock=True, select="ED501"):
    repo.write("pyproject.toml", PYPROJECT)
    if lock:
        repo.write("uv.lock", UV_LOCK)
    for rel, text in (files or {}).items():
        repo.write(rel, text)
    repo.write(path, workflow)
    return [(f["code"], f["path"], f["line"]) for f in repo.findings("--select", select)]


def lines(repo, workflow, **kwargs):
    return [line for _code, _path, line in results(repo, workflow, **kwargs)]


# --- uv ---


@pytest.mark.parametrize(("workflow", "expected"), [
    (steps("uv sync"), [6]),
    (steps("uv sync --all-extras --dev"), [6]),
    (steps("uv --directory . sync"), [6]),
    (steps("uv sync --upgrade --locked"), [6]),  # upgrading past the lock
    (steps("UV_FROZEN=0 uv sync"), [6]),
    (steps("uv run pytest"), [6]),  # the first `uv run` syncs the environment
    (steps("uv run pytest", "uv run ruff check"), [6]),  # ... once
    (steps("uv lock", "uv sync --frozen"), [7]),  # the lock was regenerated in CI
    (steps("uv lock --upgrade", "uv sync --locked"), [7]),
    (steps("uv lock", "uv run --frozen pytest"), [7]),
    (steps("uv lock", "git diff uv.lock", "uv sync"), [8]),  # a diff that cannot fail the job checks nothing
    (steps("uv lock", "git diff --exit-code poetry.lock", "uv sync"), [8]),  # another lock
    (steps("git diff --exit-code", "uv sync"), [7]),  # nothing was regenerated: no check of uv.lock
    (steps("sudo -E uv sync"), [6]),
    (steps("if [ -f uv.lock ]; then uv sync; fi"), [6]),
    (steps("bash -c 'uv sync'"), [6]),
    (HEAD + "      - run: uv sync\n        env:\n          UV_FROZEN: 'false'\n", [6]),
])
def test_uv_must_flag(repo, workflow, expected):
    assert lines(repo, workflow) == expected


@pytest.mark.parametrize("workflow", [
    steps("uv sync --locked"),
    steps("uv sync --frozen"),
    steps("uv sync --locked --all-extras", "uv run pytest"),
    steps("uv lock --check", "uv sync"),
    steps("uv lock --locked", "uv run pytest"),
    steps("UV_LOCKED=1 uv sync"),
    steps("export UV_FROZEN=1 && uv sync"),
    steps("UV_FROZEN=1; export UV_FROZEN; uv sync"),
    steps("env UV_FROZEN=1 uv sync"),
    steps("uv run --frozen pytest"),
    steps("uv run --locked pytest"),
    steps("uv run --no-project python -c 'print(1)'"),
    steps("uv run --no-sync pytest"),
    steps("uv run scripts/check.py"),  # may be a PEP 723 script with its own dependencies: not judged
    steps("uv sync --script tool.py"),
    steps("uv lock", "git diff --exit-code uv.lock", "uv sync --frozen"),  # regenerate-and-compare is a check
    steps("uv lock", "git diff --exit-code uv.lock", "uv sync"),  # ... which proved uv.lock current
    steps("uv lock", "git diff --exit-code -- uv.lock", "uv run pytest"),
    steps("uv lock", "git diff --quiet", "uv sync --all-groups"),
    HEAD + "      - run: |\n          uv lock\n          git diff --exit-code uv.lock\n      - run: uv sync\n",
    steps("echo uv sync", "# uv sync"),
    "env:\n  UV_FROZEN: '1'\n" + steps("uv sync"),
    HEAD.replace("    steps:\n", "    env:\n      UV_LOCKED: true\n    steps:\n") + "      - run: uv sync\n",
    HEAD + "      - run: uv sync\n        env:\n          UV_FROZEN: ${{ inputs.frozen }}\n",
    HEAD + "      - shell: python\n        run: |\n          print('uv sync')\n",
    steps("echo \"UV_LOCKED=1\" >> \"$GITHUB_ENV\"", "uv sync"),  # set for the later steps
    steps("uv sync --check"),
    steps("uv sync --resolution lowest-direct"),  # a deliberate test of the lower bounds
    steps("uv run --resolution lowest-direct pytest"),
])
def test_uv_must_not_flag(repo, workflow):
    assert lines(repo, workflow) == []


# `--no-locked` / `--no-frozen` (newer uv) switch off the UV_LOCKED / UV_FROZEN that CI sets.
LOCKED_JOB = HEAD.replace("    steps:\n", "    env:\n      UV_LOCKED: '1'\n    steps:\n")  # steps on line 8


@pytest.mark.parametrize(("workflow", "expected"), [
    (LOCKED_JOB + "      - run: uv sync --no-locked\n", [8]),
    ("env:\n  UV_FROZEN: '1'\n" + steps("uv sync --all-extras --no-frozen"), [8]),
    (LOCKED_JOB + "      - run: uv run --no-locked pytest\n", [8]),
    (LOCKED_JOB + "      - run: uv sync --no-locked\n      - run: uv sync\n", [8]),  # no lock check happened
])
def test_uv_no_locked_undoes_the_ci_variable(repo, workflow, expected):
    assert lines(repo, workflow) == expected


def test_uv_no_locked_message_and_no_fix(repo):
    repo.write("pyproject.toml", PYPROJECT)
    repo.write("uv.lock", UV_LOCK)
    repo.write(GH, LOCKED_JOB + "      - run: uv sync --no-locked\n")
    (finding,) = repo.findings("--select", "ED501")
    assert finding["message"].startswith("'uv sync --no-locked' undoes the UV_LOCKED=1 that CI sets for it")
    assert "--diff" not in finding["fix_hint"]
    assert "+" not in repo.check("--select", "ED501", "--diff").stdout  # no fix: adding --locked would clash


def test_uv_no_locked_without_the_variable_says_so_and_has_no_fix(repo):
    # uv reads --locked/--no-locked last one wins: `uv sync --locked --no-locked` re-resolves (red-team r3b
    # item 1, checked with uv 0.13.9), so --locked before --no-locked is no lock check and no fix is offered.
    repo.write("pyproject.toml", PYPROJECT)
    repo.write("uv.lock", UV_LOCK)
    for text in (steps("uv sync --no-locked"), steps("uv sync --locked --no-locked"),
                 LOCKED_JOB.replace("'1'", "'0'") + "      - run: uv sync --no-locked\n"):
        repo.write(GH, text)
        (finding,) = repo.findings("--select", "ED501")
        assert "--no-locked turns off uv's check" in finding["message"], text
        assert finding["fix_hint"].startswith("Drop --no-locked and use `uv sync --locked`")
        assert "+" not in repo.check("--select", "ED501", "--diff").stdout


@pytest.mark.parametrize(("workflow", "expected"), [
    (steps("uv sync --locked --no-locked", "uv sync"), [6, 7]),  # the first is no lock check either
    (steps("uv run --frozen --no-frozen pytest"), [6]),
    (steps("uv sync --no-locked --locked", "uv sync"), []),  # the last one wins: this one is locked
    (steps("uv run --no-frozen --frozen pytest"), []),
])
def test_uv_locked_and_no_locked_last_one_wins(repo, workflow, expected):
    assert lines(repo, workflow) == expected


def test_uv_run_no_locked_after_github_env_says_it_undoes_it(repo):
    # UV_LOCKED=1 written to $GITHUB_ENV holds for the later steps like `env:` (red-team r3b item 11).
    repo.write("pyproject.toml", PYPROJECT)
    repo.write("uv.lock", UV_LOCK)
    repo.write(GH, steps('echo "UV_LOCKED=1" >> "$GITHUB_ENV"', "uv run --no-locked pytest"))
    (finding,) = repo.findings("--select", "ED501")
    assert finding["message"].startswith("'uv run --no-locked pytest' undoes the UV_LOCKED=1 that CI sets")
    assert finding["fix_hint"].startswith("Drop --no-locked (then UV_LOCKED=1 holds CI to uv.lock)")
    assert "uv run --locked" in finding["fix_hint"] and "drop it" in finding["fix_hint"]


@pytest.mark.parametrize("workflow", [
    LOCKED_JOB + "      - run: uv sync --no-frozen\n",  # UV_LOCKED still holds it
    "env:\n  UV_FROZEN: '1'\n" + steps("uv sync --no-locked"),
    LOCKED_JOB + "      - run: uv sync --no-locked --frozen\n",
    steps("uv lock --check", "uv sync --no-locked"),  # the lock was checked: nothing to re-resolve
])
def test_uv_no_locked_near_misses(repo, workflow):
    assert lines(repo, workflow) == []


# Options from a variable cannot be known statically: neither reported nor fixed (`--locked` would be given
# twice when the variable holds it). A value the workflow's `env:` sets is read for the later commands.
@pytest.mark.parametrize("workflow", [
    steps("uv sync $SYNC_ARGS"),
    steps("uv sync ${SYNC_ARGS}"),
    steps('uv sync "$SYNC_ARGS"'),
    steps("uv sync ${{ env.SYNC_ARGS }}"),
    steps("uv sync ${{ matrix.sync-args }}"),
    steps("uv sync --python 3.12 $MORE"),  # a word after an option's value stands where an option could
    steps("uv sync --python ${{ matrix.py }} ${{ matrix.args }}"),
    steps("uv sync --all-extras $MORE"),  # --all-extras takes no value
    steps("uv sync -q$X"),
    steps("uv sync --$FLAG"),
    steps("uv sync --no-such-option=$X"),  # not known to take a value
    steps("uv sync --python $PY -- $MORE"),
    steps("uv sync `cat sync-args.txt`"),
    steps("uv run $UV_ARGS pytest"),
    steps("uv run ${{ inputs.uv-args }} pytest"),
    steps("uv run --python $PY $UV_ARGS pytest"),
    steps("uv run --python $PY $CMD"),  # the program, or more options
    "env:\n  SYNC_ARGS: --locked --all-groups\n" + steps("uv sync $SYNC_ARGS", "uv sync --group docs"),
    "env:\n  SYNC_ARGS: --locked\n" + steps("uv run ${{ env.SYNC_ARGS }} pytest", "uv sync --group docs"),
])
def test_uv_options_from_a_variable_are_not_judged(repo, workflow):
    assert lines(repo, workflow) == []


# The value of an option that takes one (the word after it, or after `=`) cannot turn into --locked: the
# command is judged like with a literal value (red-team item 13: the most common matrix CI line).
@pytest.mark.parametrize(("workflow", "expected"), [
    (HEAD + "      - run: |\n          uv sync \\\n            --python ${{ matrix.py }}\n", [7]),
    (steps("uv sync --python ${{ matrix.python-version }}"), [6]),
    (steps("uv sync -p $PY"), [6]),
    (steps("uv sync -p$PY --all-extras"), [6]),
    (steps("uv sync -qp \"${PY}\""), [6]),
    (steps("uv sync --extra=${{ matrix.extra }}"), [6]),
    (steps("uv sync --group=$(cat group.txt)"), [6]),
    (steps("uv sync --no-extra $SKIP --python $(cat .python-version)"), [6]),
    (steps("uv --directory ${{ matrix.dir }} sync"), [6]),  # a uv.lock is committed (the folder is not known)
    (steps("uv sync --upgrade-package $PKG"), [6]),  # upgrades past uv.lock, whichever package
    (steps("uv run --extra ${{ matrix.extra }} pytest"), [6]),
    (steps("uv run -p $PY pytest $PYTEST_ARGS"), [6]),
    (steps("uv run --with=${{ matrix.plugin }} pytest"), [6]),
])
def test_uv_option_values_from_a_variable_are_judged(repo, workflow, expected):
    assert lines(repo, workflow) == expected


@pytest.mark.parametrize("workflow", [
    steps("uv sync --python ${{ matrix.py }} --locked"),
    steps("uv sync -p $PY --frozen"),
    "env:\n  UV_LOCKED: '1'\n" + steps("uv sync --extra=${{ matrix.extra }}"),
    steps("uv sync --resolution ${{ matrix.resolution }}"),  # lower-bound test, as with a literal value
    steps("uv sync --script ${{ matrix.script }}"),
    steps("uv sync --locked --python $PY", "uv run --python $PY pytest"),  # synced already
])
def test_uv_option_values_from_a_variable_near_misses(repo, workflow):
    assert lines(repo, workflow) == []


@pytest.mark.parametrize(("workflow", "expected"), [
    (steps("uv sync $SYNC_ARGS", "uv sync --group docs"), [7]),  # the variable may not hold --locked
    ("env:\n  SYNC_ARGS: --all-groups\n" + steps("uv sync $SYNC_ARGS", "uv sync --group docs"), [9]),
    (steps("uv run pytest $PYTEST_ARGS"), [6]),  # pytest's arguments, not uv's
    (steps("uv sync --all-extras", "echo $SYNC_ARGS"), [6]),
])
def test_uv_variables_elsewhere_are_still_judged(repo, workflow, expected):
    assert lines(repo, workflow) == expected


# PowerShell and cmd are not sh: such steps are not judged (a backquote ending a line is PowerShell's line
# continuation, which the sh tokenizer would read as a command substitution and lose `--locked`).
WIN = HEAD.replace("ubuntu-latest", "windows-latest")
MATRIX = HEAD.replace("runs-on: ubuntu-latest", "runs-on: ${{ matrix.os }}\n    strategy:\n      matrix:\n"
                      "        os: [ubuntu-latest, windows-latest]")  # steps start on line 9
PWSH_SYNC = "      - run: |\n          uv sync `\n            --all-groups\n"


@pytest.mark.parametrize("workflow", [
    WIN + "      - run: uv sync\n",  # the default shell of a Windows runner is pwsh
    WIN + PWSH_SYNC,
    HEAD.replace("ubuntu-latest", "[self-hosted, Windows, X64]") + "      - run: uv sync\n",
    HEAD.replace("ubuntu-latest", "\n      group: large\n      labels: windows-2022") + "      - run: uv sync\n",
    HEAD + "      - shell: pwsh\n        run: uv sync\n",
    HEAD + "      - run: uv sync\n        shell: powershell -command \". '{0}'\"\n",
    HEAD + "      - run: uv sync\n        shell: cmd\n",
    HEAD.replace("    steps:\n", "    defaults:\n      run:\n        shell: pwsh\n    steps:\n") + "      - run: uv sync\n",
    "defaults:\n  run:\n    shell: pwsh\n" + HEAD + "      - run: uv sync\n",
    MATRIX + PWSH_SYNC,  # the runner is not known: a backquote continuation says PowerShell
    # what a PowerShell step writes to $GITHUB_ENV still holds for the later bash step
    WIN + '      - run: echo "UV_FROZEN=1" >> $env:GITHUB_ENV\n      - run: uv sync\n        shell: bash\n',
])
def test_powershell_and_cmd_steps_are_not_judged(repo, workflow):
    assert lines(repo, workflow) == []


@pytest.mark.parametrize(("workflow", "expected"), [
    (WIN + "      - run: uv sync\n        shell: bash\n", [6]),  # Git Bash on Windows
    (WIN.replace("    steps:\n", "    defaults:\n      run:\n        shell: bash\n    steps:\n")
     + "      - run: uv sync\n", [9]),
    (HEAD + "      - shell: bash -eo pipefail {0}\n        run: uv sync\n", [7]),
    (MATRIX + "      - run: uv sync\n", [9]),  # the runner is not known, the script reads the same in both
    (HEAD + "      - run: |\n          V=`cat version.txt`\n          uv sync\n", [8]),  # sh's backquotes
])
def test_sh_steps_beside_powershell_are_still_judged(repo, workflow, expected):
    assert lines(repo, workflow) == expected


# A dependency-bump job regenerates the lock on purpose and ships it for review (a pull request, or a commit
# pushed): the pull request reviews the new lock, so testing it in that job is the point, not an ED501.
PR_ACTION = "      - uses: peter-evans/create-pull-request@v7\n        with:\n          branch: bump-deps\n"


@pytest.mark.parametrize("workflow", [
    steps("uv lock --upgrade", "uv sync --locked", "uv run pytest") + PR_ACTION,
    steps("uv lock --upgrade-package httpx", "uv sync", "uv run pytest") + PR_ACTION,
    steps("uv lock -P httpx", "uv run --frozen pytest") + PR_ACTION,
    steps("uv lock", "uv sync") + PR_ACTION,
    steps("uv sync --upgrade", "uv run pytest") + PR_ACTION,  # uv sync --upgrade rewrites uv.lock too
    steps("uv lock --upgrade", "uv sync --locked", "uv run pytest",
          "gh pr create --fill --title 'Bump dependencies'"),
    steps("uv lock --upgrade", "uv sync --locked",
          "git add uv.lock && git commit -m 'Bump dependencies' && git push origin HEAD:deps"),
    steps("uv lock --upgrade", "uv sync --locked") + "      - uses: stefanzweifel/git-auto-commit-action@v5\n",
])
def test_dependency_bump_job_that_ships_the_lock_is_not_flagged(repo, workflow):
    assert lines(repo, workflow) == []


@pytest.mark.parametrize(("workflow", "expected"), [
    (steps("uv lock --upgrade", "uv sync --locked", "uv run pytest"), [7]),  # no pull request: CI tests a lock nobody ships
    (steps("uv sync --upgrade", "uv run pytest"), [6]),
    (PR_ACTION.join([steps("uv sync"), ""]), [6]),  # a pull request does not excuse an unrelated plain uv sync ...
    (steps("gh pr create --fill", "uv lock --upgrade", "uv sync --locked"), [8]),  # ... nor a relock after it
    (steps("uv lock --upgrade", "uv sync --locked", "git push origin HEAD:deps"), [7]),  # nothing was committed
    (steps("uv lock --upgrade", "uv sync --locked", "gh pr list"), [7]),
    (steps("uv lock --upgrade", "uv sync --locked") + "      - uses: actions/upload-artifact@v4\n", [7]),
])
def test_relock_without_shipping_it_is_still_flagged(repo, workflow, expected):
    assert lines(repo, workflow) == expected


# `uv lock` then a check that fails the job when uv.lock changed (red-team r3b item 3): a diff whose paths
# take in the lock, or `test -z "$(git status --porcelain)"`; not one whose failure cannot stop the job.
def block(*lines: str, shell: str = "") -> str:
    """One `run: |` step (line 6; its script from line 7), then `uv sync` (line 7 + len(lines))."""
    head = HEAD + (f"      - shell: {shell}\n        run: |\n" if shell else "      - run: |\n")
    return head + "".join(f"          {line}\n" for line in lines) + "      - run: uv sync\n"


@pytest.mark.parametrize("workflow", [
    steps("uv lock", "git diff --exit-code .", "uv sync"),
    steps("uv lock", "git diff --exit-code ./", "uv sync"),
    steps("uv lock", "git diff --exit-code -- .", "uv sync"),
    steps("uv lock", "git diff --exit-code -- ':/'", "uv sync"),
    steps("uv lock", "git diff --exit-code '*.lock'", "uv sync"),
    steps("uv lock", "git diff --exit-code -- '*.lock' pyproject.toml", "uv sync"),
    steps("uv lock", "git diff --exit-code HEAD", "uv sync"),  # a commit, not a path
    steps("uv lock", "git diff --exit-code -- . ':!docs'", "uv sync"),
    steps("uv lock", "git -C . diff --quiet", "uv sync"),
    HEAD + "      - run: uv lock\n        working-directory: app\n      - run: git diff --exit-code app\n"
           "      - run: uv sync\n        working-directory: app\n",
    steps("uv lock", "git diff --exit-code uv.lock || exit 1", "uv sync"),
    steps("uv lock", "git diff --exit-code uv.lock || (echo 'run uv lock'; exit 1)", "uv sync"),
    block("uv lock", "git diff --exit-code uv.lock || {", "  echo 'uv.lock is stale'", "  exit 1", "}"),
    block("uv lock", "if ! git diff --quiet uv.lock; then echo stale; exit 1; fi"),
    block("set +e", "uv lock", "git diff --exit-code uv.lock"),  # the last command: the step fails
    block("set +e", "set -e", "uv lock", "git diff --exit-code uv.lock", "echo ok"),
    steps("uv lock", 'test -z "$(git status --porcelain uv.lock)"', "uv sync"),
    block("uv lock", '[ -z "$(git status --porcelain)" ]'),
    steps("uv lock", "git diff --exit-code", "uv sync") .replace("      - run: uv sync\n",
                                                                 "      - run: uv sync\n        if: always()\n"),
])
def test_uv_lock_then_a_check_that_stops_the_job(repo, workflow):
    # `if: always()` on a later step does not matter: the check has failed the job, CI is red.
    files = {"app/pyproject.toml": PYPROJECT, "app/uv.lock": UV_LOCK}
    assert lines(repo, workflow, files=files) == []


@pytest.mark.parametrize(("workflow", "expected"), [
    (steps("uv lock", "git diff --exit-code src/", "uv sync"), [8]),
    (steps("uv lock", "git diff --exit-code '*.txt'", "uv sync"), [8]),
    (steps("uv lock", "git diff --exit-code -- . ':!uv.lock'", "uv sync"), [8]),
    (steps("uv lock", "git diff --exit-code ':(exclude)*.lock'", "uv sync"), [8]),
    (steps("uv lock", "git diff --exit-code uv.lock || true", "uv sync"), [8]),
    (block("uv lock", "git diff --exit-code uv.lock || :"), [9]),
    (steps("uv lock", "git diff --exit-code . || echo changed", "uv sync"), [8]),
    (block("uv lock", "! git diff --exit-code uv.lock"), [9]),
    (block("uv lock", "if ! git diff --exit-code uv.lock; then echo '::warning::lock drift'; fi"), [9]),
    (block("set +e", "uv lock", "git diff --exit-code uv.lock", "echo done"), [11]),
    (block("uv lock", "git diff --exit-code uv.lock", "echo done", shell="bash {0}"), [11]),
    (HEAD + "      - run: uv lock\n      - run: git diff --exit-code uv.lock\n        continue-on-error: true\n"
            "      - run: uv sync\n", [9]),
    (steps("uv lock", 'test -z "$(git status --porcelain src)"', "uv sync"), [8]),
    (steps("uv lock", 'test -z "$(git status --porcelain uv.lock)" || true', "uv sync"), [8]),
    (HEAD + "      - run: uv lock\n        working-directory: app\n      - run: git diff --exit-code other\n"
            "      - run: uv sync\n        working-directory: app\n", [9]),
])
def test_uv_lock_then_a_check_that_cannot_stop_the_job_is_still_flagged(repo, workflow, expected):
    files = {"app/pyproject.toml": PYPROJECT, "app/uv.lock": UV_LOCK}
    assert lines(repo, workflow, files=files) == expected


def test_poetry_bump_job_that_opens_a_pull_request_is_not_flagged(repo):
    files = {"poetry.lock": "# poetry\n"}
    assert lines(repo, steps("poetry update", "poetry install") + PR_ACTION, files=files, lock=False) == []
    assert lines(repo, steps("poetry update", "poetry install"), files=files, lock=False) == [6, 7]


def test_uv_sync_upgrade_group_is_an_upgrade(repo):
    # `--upgrade-group G` upgrades like -U / -P (red-team r3b item 10): the upgrade message, no --locked fix
    repo.write("pyproject.toml", PYPROJECT)
    repo.write("uv.lock", UV_LOCK)
    for command in ("uv sync --upgrade-group dev", "uv sync --upgrade-group ${{ matrix.g }} --locked"):
        repo.write(GH, steps(command))
        (finding,) = repo.findings("--select", "ED501")
        assert "upgrades past uv.lock" in finding["message"], command
    assert lines(repo, steps("uv sync --upgrade-group dev", "uv run pytest") + PR_ACTION) == []  # a bump
    assert lines(repo, steps("uv sync --group dev --locked")) == []  # near miss: --group is no upgrade


def test_uv_without_a_committed_lock_is_another_rules_business(repo):
    assert lines(repo, steps("uv sync", "uv run pytest"), lock=False) == []


def test_uv_lock_that_git_does_not_track_is_not_in_the_checkout(repo):
    repo.write(".gitignore", "uv.lock\n")
    repo.write("pyproject.toml", PYPROJECT)
    repo.write("uv.lock", UV_LOCK)
    repo.write(GH, steps("uv sync"))
    repo.init_git()
    assert repo.codes("--select", "ED501") == []
    repo.write(".gitignore", "")
    repo.git("add", "-f", "uv.lock")
    assert repo.codes("--select", "ED501") == ["ED501"]


def test_workspace_member_uses_the_root_lock(repo):
    workflow = HEAD + "      - run: uv sync\n        working-directory: packages/api\n"
    assert lines(repo, workflow) == [6]


def test_multi_line_script_reports_the_physical_line(repo):
    workflow = HEAD + (
        "      - name: Install\n"       # 6
        "        run: |\n"              # 7
        "          set -eux\n"          # 8
        "\n"                            # 9
        "          uv venv\n"           # 10
        "          uv sync \\\n"        # 11
        "            --all-extras\n"    # 12
    )
    assert lines(repo, workflow) == [11]


def test_message_quotes_the_command_and_says_why(repo):
    repo.write("pyproject.toml", PYPROJECT)
    repo.write("uv.lock", UV_LOCK)
    repo.write(GH, steps("uv sync --dev"))
    (finding,) = repo.findings("--select", "ED501")
    assert finding["message"].startswith("'uv sync --dev' does not hold CI to uv.lock")
    assert "--locked" in finding["fix_hint"]


# --- Poetry, Pipenv ---


@pytest.mark.parametrize(("workflow", "expected"), [
    (steps("poetry lock", "poetry install"), [7]),
    (steps("poetry lock --no-update && poetry install --with dev"), [6]),
    (steps("poetry update"), [6]),
    (steps("pipenv install --dev"), [6]),
    (steps("pipenv install --skip-lock"), [6]),
    (steps("pipenv lock", "pipenv sync"), [7]),
])
def test_poetry_and_pipenv_must_flag(repo, workflow, expected):
    files = {"poetry.lock": "# poetry\n", "Pipfile": "[packages]\n", "Pipfile.lock": "{}\n"}
    assert lines(repo, workflow, files=files, lock=False) == expected


@pytest.mark.parametrize("workflow", [
    steps("poetry install"),
    steps("poetry install --sync --no-root"),
    steps("poetry check --lock", "poetry install"),
    steps("poetry lock", "git diff --exit-code", "poetry install"),
    steps("poetry update --dry-run"),
    steps("pipenv install --deploy --dev"),
    steps("pipenv sync --dev"),
    steps("pipenv install requests"),  # adding a package is not installing the project
])
def test_poetry_and_pipenv_must_not_flag(repo, workflow):
    files = {"poetry.lock": "# poetry\n", "Pipfile": "[packages]\n", "Pipfile.lock": "{}\n"}
    assert lines(repo, workflow, files=files, lock=False) == []


def test_pipenv_without_a_lock_is_not_flagged(repo):
    assert lines(repo, steps("pipenv install --dev"), files={"Pipfile": "[packages]\n"}, lock=False) == []


# --- pip and uv pip ---

PINNED = "requests==2.32.3 \\\n    --hash=sha256:" + "a" * 64 + "\ncertifi==2024.8.30 \\\n    --hash=sha256:" + "b" * 64 + "\n"


@pytest.mark.parametrize(("workflow", "expected"), [
    (steps("pip install -e .[dev]"), [6]),
    (steps("pip install '.[test]'"), [6]),
    (steps("python -m pip install ."), [6]),
    (steps("python3.12 -m pip install --user -e ."), [6]),
    (steps("uv pip install --system -e ."), [6]),
    (steps("pip install --group dev"), [6]),
    (steps("pip install -r requirements.in"), [6]),  # an input file, even one envdoctor cannot see
    (steps("pip install -r requirements-dev.txt"), [6]),
    (steps("uv pip install -r pyproject.toml --all-extras"), [6]),
    (steps("pip install requests"), [6]),  # a project dependency, unpinned
    (steps("pip install 'pytest>=8' coverage==7.6.1"), [6]),
    (steps("pip install -r requirements.lock.txt", "pip install --upgrade requests"), [7]),
    (steps("cd sub && pip install -r requirements.txt"), [6]),
    (steps("pip install -e ./libs/core"), [6]),
    (steps("echo UV_LOCKED=1", "pip install -e ."), [7]),  # an echo that does not write $GITHUB_ENV
    # a lock compiled in CI is a fresh resolution, not the committed lock
    (steps("uv pip compile requirements.in -o requirements.txt", "uv pip sync requirements.txt"), [7]),
    (steps("pip-compile requirements.in", "pip install -r requirements.txt"), [7]),
    (steps("pip-compile --output-file=requirements.lock.txt pyproject.toml", "pip-sync requirements.lock.txt"), [7]),
])
def test_pip_must_flag(repo, workflow, expected):
    files = {"requirements-dev.txt": "-r requirements.lock.txt\nrich>=13\n", "requirements.lock.txt": PINNED,
             "sub/requirements.txt": "requests\n", "libs/core/pyproject.toml": PYPROJECT}
    assert lines(repo, workflow, files=files) == expected


@pytest.mark.parametrize("workflow", [
    steps("pip install -e . -c constraints.txt"),
    steps("pip install -c constraints.txt -r requirements-dev.txt", "pip install -e ."),
    steps("pip install --constraint=constraints.txt .[dev]"),
    steps("PIP_CONSTRAINT=constraints.txt pip install -e ."),
    HEAD.replace("    steps:\n", "    env:\n      PIP_CONSTRAINT: constraints.txt\n    steps:\n")
    + "      - run: pip install -e .\n",
    steps("pip install --no-deps -e ."),
    steps("pip install --require-hashes -r requirements.lock.txt", "pip install --no-deps -e ."),
    steps("pip install --require-hashes -r requirements.lock.txt", "pip install -e ."),
    steps("pip install -r requirements.lock.txt requests"),
    steps("uv sync --locked", "uv pip install -e ."),
    steps("pip install -r requirements.txt"),  # fully pinned: a lock
    steps("pip install -r compiled.txt"),  # pip-compile output: the project, then pinned dependencies
    steps("pip install requests==2.32.3"),
    steps("pip install --upgrade pip setuptools wheel"),
    steps("pip install dist/*.whl"),
    steps("pip install -r $REQUIREMENTS"),
    steps("pip install -r ${{ matrix.requirements }}"),
    steps("pip install -r docs/unknown.txt"),  # not found, not tracked: not judged
    steps("uv pip install --exclude-newer 2025-01-01 -e ."),
    steps("uv pip install --resolution lowest-direct -e ."),
    steps("pip download requests"),
    steps("pip install git+https://example.invalid/org/pkg@v1.0"),
    steps("cd empty && pip install -e ."),  # declares no dependencies: nothing to pin
    steps("uv export --frozen --no-hashes > generated.txt", "pip install -r generated.txt", "pip install -e ."),
    steps("pip install -r ${{ inputs.lock }}", "pip install -e ."),  # may be a lock: the project install is not judged
    steps("uv pip compile requirements.in -o requirements.txt", "git diff --exit-code requirements.txt",
          "uv pip sync requirements.txt"),
    steps("pip-compile requirements.in -o other.txt", "pip install -r requirements.txt"),
    steps("uv pip compile requirements.in", "pip-sync requirements.txt"),  # uv prints to stdout
])
def test_pip_must_not_flag(repo, workflow):
    files = {"requirements.txt": PINNED, "requirements.lock.txt": PINNED,
             "compiled.txt": "-e file:.\n" + PINNED,
             "empty/pyproject.toml": '[project]\nname = "empty"\nversion = "1"\ndependencies = []\n'}
    assert lines(repo, workflow, files=files) == []


def test_requirements_file_found_through_git(repo):
    repo.write("requirements/dev.txt", "pytest>=8\n")
    repo.write("pyproject.toml", PYPROJECT)
    repo.write(GH, steps("pip install -r requirements/dev.txt"))
    # Files in a requirements/ folder are requirements files (envdoctor.files.path_kind): read without git too.
    assert [(f["path"], f["line"]) for f in repo.findings("--select", "ED501")] == [(GH, 6)]
    repo.init_git()
    findings = repo.findings("--select", "ED501")
    assert [(f["path"], f["line"]) for f in findings] == [(GH, 6)]
    assert "requirements/dev.txt, which does not pin 'pytest>=8'" in findings[0]["message"]


def test_project_dependency_vs_tool(repo):
    found = results(repo, steps("pip install requests ruff"), select="ED501,ED502")
    assert found == [("ED501", GH, 6), ("ED502", GH, 6)]


# --- other CI systems ---


def test_gitlab(repo):
    text = (
        "default:\n"
        "  before_script:\n"
        "    - pip install -e .\n"                     # 3
        "variables:\n  UV_FROZEN: '1'\n"
        "test:\n"
        "  script:\n"
        "    - uv sync\n"                              # 8: frozen by the global variables
        "    - poetry lock\n"
        "lint:\n"
        "  before_script: []\n"
        "  script:\n"
        "    - |\n"
        "      uv run --no-sync ruff check\n"
        "      pip install -r requirements.in\n"       # 15
    )
    assert results(repo, text, path=".gitlab-ci.yml") == [("ED501", ".gitlab-ci.yml", 3),
                                                           ("ED501", ".gitlab-ci.yml", 15)]


def test_gitlab_cd_carries_over_between_script_items(repo):
    text = "test:\n  script:\n    - cd sub\n    - pip install -r requirements.txt\n"
    files = {"sub/requirements.txt": "requests\n", "requirements.txt": PINNED}
    assert lines(repo, text, path=".gitlab-ci.yml", files=files) == [4]


def test_azure_and_circleci(repo):
    azure = "steps:\n  - script: uv sync\n  - bash: uv sync\n    env:\n      UV_LOCKED: '1'\n"
    circle = ("version: 2.1\njobs:\n  test:\n    steps:\n      - checkout\n"
              "      - run: pip install -e .[dev]\n"                                 # 6
              "      - run:\n          name: sync\n          command: uv sync\n")   # 9
    repo.write(".circleci/config.yml", circle)
    assert results(repo, azure, path="azure-pipelines.yml") == [
        ("ED501", ".circleci/config.yml", 6), ("ED501", ".circleci/config.yml", 9), ("ED501", "azure-pipelines.yml", 2)]


# --- tox and nox sessions that CI runs ---

TOX = """\
[tox]
env_list = py312, lint

[testenv]
deps =
    -r requirements.in
    pytest
commands = pytest

[testenv:lint]
deps = ruff
commands =
    pip install -e .[dev]
    ruff check

[testenv:docs]
deps = -r docs.in
"""


def test_tox_envs_run_by_ci(repo):
    files = {"tox.ini": TOX}
    assert results(repo, steps("tox"), files=files) == [("ED501", "tox.ini", 6), ("ED501", "tox.ini", 13)]
    assert results(repo, steps("uvx --with tox-uv tox -e lint"), files=files) == [("ED501", "tox.ini", 13)]
    assert results(repo, steps("python -m tox -e docs"), files=files) == [("ED501", "tox.ini", 17)]
    assert results(repo, steps("pytest"), files=files) == []  # CI does not run tox: tox.ini is not CI's
    assert results(repo, steps("tox -m ci"), files=files) == []  # labels: which envs is unknown


def test_tox_constraints_and_bare_deps_are_not_flagged(repo):
    tox = "[testenv]\ndeps =\n    -c constraints.txt\n    -r requirements.in\n    pytest\n    coverage\ncommands = pytest\n"
    assert lines(repo, steps("tox -e py"), files={"tox.ini": tox}) == []


NOXFILE = """\
import nox


@nox.session
def tests(session):
    session.install("-e", ".[test]")
    session.install("pytest", "coverage")
    session.run("pytest")


@nox.session(venv_backend="uv")
def locked(session):
    session.run_install("uv", "sync", "--locked", env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location})
    session.run("uv", "sync")


@nox.session(default=False)
def dev(session):
    session.install("-r", "requirements.in")
"""


def test_nox_sessions_run_by_ci(repo):
    files = {"noxfile.py": NOXFILE}
    assert results(repo, steps("nox"), files=files) == [("ED501", "noxfile.py", 6)]
    assert results(repo, steps("uvx nox -s dev"), files=files) == [("ED501", "noxfile.py", 19)]
    assert results(repo, steps("pipx run nox --sessions tests locked"), files=files) == [("ED501", "noxfile.py", 6)]
    assert results(repo, steps("echo nox"), files=files) == []


# --- suppressions ---


def test_suppression_above_a_step_covers_its_script(repo):
    workflow = HEAD + (
        "      # envdoctor: ignore[ED501] -- this job tests the newest releases on purpose\n"
        "      - name: Newest\n"
        "        run: |\n"
        "          pip install -U -e .[dev]\n"
        "      - run: uv sync  # envdoctor: ignore[ci-ignores-lockfile]\n"
        "      - run: uv sync --dev\n"
    )
    assert results(repo, workflow, select="ED501,ED002") == [("ED501", GH, 11)]


# --- odd but parsable input never crashes the rules ---

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_COMMANDS = st.sampled_from([
    "uv sync", "uv run", "uv run --", "uv lock", "uvx", "uvx --from", "pip install", "pip install -r",
    "pip install -e", "pip install -c", "python -m pip", "python -m", "pipx run", "pipx install --spec",
    "poetry lock", "poetry install", "pipenv install", "tox -e", "nox -s", "cd", "cd ..", "export", "git diff",
    "curl https://astral.sh/uv/install.sh", "uv tool install ruff@", "sh -c", "pip install '[' ", "uv pip install -r ../../x",
])
_ARGS = st.lists(st.sampled_from(["", ".", ".[", "-e", "-r", "requests", "ruff==", "x@", "$X", "${{ a }}", "--",
                                  "-", "requirements.in", "/abs", "../up", "a b", "'", "tox", "nox"]), max_size=4)


@settings(max_examples=60, deadline=None)
@given(scripts=st.lists(st.tuples(_COMMANDS, _ARGS), min_size=1, max_size=5),
       kind=st.sampled_from(["github", "gitlab"]))
def test_rules_never_raise(scripts, kind):
    import json
    import tempfile
    from pathlib import Path

    from envdoctor.config import Config
    from envdoctor.project import Project
    from envdoctor.registry import Context
    from envdoctor.rules.ci import CiIgnoresLockfile, CiUnpinnedTool

    lines = [" ".join([command, *args]) for command, args in scripts]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "pyproject.toml").write_text(PYPROJECT)
        (root / "uv.lock").write_text(UV_LOCK)
        (root / "tox.ini").write_text("[testenv]\ndeps = -r requirements.in\ncommands = uv sync\n")
        if kind == "github":
            (root / ".github/workflows").mkdir(parents=True)
            body = HEAD + "".join(f"      - run: {json.dumps(line)}\n" for line in lines)
            (root / GH).write_text(body)
        else:
            (root / ".gitlab-ci.yml").write_text("t:\n  script:\n" + "".join(f"    - {json.dumps(l)}\n" for l in lines))
        project = Project(root, Config())
        context = Context(project=project, config=Config())
        for rule in (CiIgnoresLockfile(), CiUnpinnedTool()):
            for hit in rule.check(project, context):
                assert hit.line >= 1 and hit.path and hit.message


def test_suppression_inside_a_script_block(repo):
    workflow = HEAD + (
        "      - run: |\n"                                                   # 6
        "          # envdoctor: ignore[ED501] -- newest releases on purpose\n"
        "          uv sync --upgrade\n"                                      # 8
        "          pip install -r requirements.in\n"                          # 9
    )
    assert results(repo, workflow, select="ED501,ED002") == [("ED501", GH, 9)]


def test_odd_project_files_do_not_crash_the_rules(repo):
    odd = ('[project]\nname = "x"\ndependencies = "requests"\ndynamic = "no"\noptional-dependencies = ["a"]\n'
           '[dependency-groups]\ndev = "pytest"\n[tool]\nuv = 3\n[tool.poetry]\ngroup = 3\ndependencies = ["a"]\n')
    repo.write("pyproject.toml", odd)
    repo.write("uv.toml", "required-version = 5\n")
    repo.write("requirements.txt", "-r\n-c\n==\n--hash\n-e\n\\\n")
    repo.write("tox.ini", "[testenv]\ndeps\ncommands =\n[testenv:\n")
    repo.write("noxfile.py", "import nox\n@nox.session\ndef s():\n    pass\n@nox.session\ndef t(session):\n    session.install(*x, y)\n")
    repo.write(GH, steps("pip install -e . requests -r requirements.txt", "tox", "nox", "uv sync")
               + "      - uses: astral-sh/setup-uv@v6\n")
    found = [(f["code"], f["line"]) for f in repo.findings("--select", "ED501,ED502")]
    assert ("ED502", 10) in found  # setup-uv: `required-version = 5` is not a version


# --- local composite actions: judged as part of the jobs that use them ---

ACTION = ".github/actions/setup/action.yml"


def composite(*runs: str) -> str:
    """A composite action with one bash `run:` step per argument, the first `run:` on line 5."""
    return "name: setup\nruns:\n  using: composite\n  steps:\n" + "".join(
        f"    - run: {run}\n      shell: bash\n" for run in runs)


def caller(*before: str, job_env: str = "", step_env: str = "", name: str = "test") -> str:
    """A job whose steps are `before` (as runs), then `uses: ./.github/actions/setup`."""
    head = HEAD.replace("  test:", f"  {name}:")
    if job_env:
        head = head.replace("    steps:\n", f"    env:\n      {job_env}\n    steps:\n")
    text = head + "".join(f"      - run: {run}\n" for run in before) + "      - uses: ./.github/actions/setup\n"
    if step_env:
        text += f"        env:\n          {step_env}\n"
    return text


def action_findings(repo, workflow, action=None, files=None):
    repo.write("pyproject.toml", PYPROJECT)
    repo.write("uv.lock", UV_LOCK)
    repo.write(ACTION, action if action is not None else composite("uv sync --all-extras"))
    for rel, text in (files or {}).items():
        repo.write(rel, text)
    if workflow is not None:
        repo.write(GH, workflow)
    return repo.findings("--select", "ED501,ED002")


def test_composite_action_step_is_judged_in_the_calling_job(repo):
    (finding,) = action_findings(repo, caller())
    assert (finding["code"], finding["path"], finding["line"]) == ("ED501", ACTION, 5)
    assert finding["message"].startswith("'uv sync --all-extras' does not hold CI to uv.lock")
    assert "job 'test' of .github/workflows/ci.yml" in finding["message"]


@pytest.mark.parametrize("workflow", [
    caller(job_env="UV_LOCKED: '1'"),  # the caller's variables apply inside the action
    "env:\n  UV_FROZEN: '1'\n" + caller(),
    caller(step_env="UV_LOCKED: '1'"),  # so does the env: of the uses: step
    caller("uv lock --check"),  # an earlier step of the job checked the lock
    caller("echo UV_FROZEN=1 >> $GITHUB_ENV"),
    caller("uv lock --upgrade", "uv run pytest") + PR_ACTION,  # a dependency bump
])
def test_composite_action_step_sees_what_the_caller_did(repo, workflow):
    assert action_findings(repo, workflow) == []


def test_composite_action_used_by_no_workflow_is_not_judged(repo):
    assert action_findings(repo, steps("uv sync --locked")) == []
    assert action_findings(repo, None) == []


def test_root_action_is_not_judged_even_when_a_workflow_tests_it(repo):
    repo.write("action.yml", composite("uv sync --all-extras"))
    workflow = HEAD + "      - uses: ./\n"
    assert [(f["path"], f["line"]) for f in action_findings(repo, workflow, action="")] == []


def test_composite_action_step_is_reported_once_for_the_first_caller_that_fails(repo):
    workflow = (caller(name="locked", job_env="UV_LOCKED: '1'")
                + caller(name="plain").replace("on: push\njobs:\n", "")
                + caller(name="other").replace("on: push\njobs:\n", ""))
    (finding,) = action_findings(repo, workflow)
    assert (finding["path"], finding["line"]) == (ACTION, 5)
    assert "job 'plain' of .github/workflows/ci.yml" in finding["message"]


def test_composite_action_after_a_relock_in_the_caller_names_where(repo):
    findings = action_findings(repo, caller("uv lock"), action=composite("uv sync --frozen"))
    assert [(f["path"], f["line"]) for f in findings] == [(ACTION, 5)]
    assert f"regenerated in this job ({GH}:6)" in findings[0]["message"]


def test_nested_composite_actions_and_cycles(repo):
    inner = ".github/actions/inner/action.yml"
    outer = ("runs:\n  using: composite\n  steps:\n    - uses: ./.github/actions/setup\n"
             "    - uses: ./.github/actions/inner\n")
    # Two actions that use each other (and themselves): no endless walk.
    cycle = {inner: outer}
    assert action_findings(repo, HEAD + "      - uses: ./.github/actions/inner\n", action=outer, files=cycle) == []
    files = {inner: composite("uv sync --dev"), ".github/actions/outer/action.yml": outer}
    findings = action_findings(repo, HEAD + "      - uses: ./.github/actions/outer\n", action=composite("uv sync"),
                               files=files)
    assert sorted((f["path"], f["line"]) for f in findings) == [(inner, 5), (ACTION, 5)]


def test_composite_action_suppression_and_exclusion(repo):
    suppressed = ("runs:\n  using: composite\n  steps:\n    # envdoctor: ignore[ED501] -- tests newest releases\n"
                  "    - run: |\n        uv sync --all-extras\n      shell: bash\n")
    assert action_findings(repo, caller(), action=suppressed) == []
    repo.write("pyproject.toml", PYPROJECT + '\n[tool.envdoctor]\nextend-exclude = [".github/actions/setup"]\n')
    repo.write(ACTION, composite("uv sync --all-extras"))
    assert repo.findings("--select", "ED501,ED002") == []


def test_non_composite_and_powershell_action_steps(repo):
    node = "runs:\n  using: node20\n  main: index.js\n"
    assert action_findings(repo, caller(), action=node) == []
    pwsh = composite("uv sync --all-extras").replace("shell: bash", "shell: pwsh")
    assert action_findings(repo, caller(), action=pwsh) == []


# A suppression on the `uses:` step covers what the action's steps do for that job (red-team r3b item 2).
def suppressed_caller(name: str = "newest", comment: str = "      # envdoctor: ignore[ED501] -- newest releases\n"
                      ) -> str:
    return caller(name=name).replace("      - uses: ./.github/actions/setup\n",
                                     comment + "      - uses: ./.github/actions/setup\n")


def test_suppression_on_the_uses_step_covers_the_actions_steps_for_that_job(repo):
    locked = caller(name="locked", job_env="UV_LOCKED: '1'").replace("on: push\njobs:\n", "")
    assert action_findings(repo, suppressed_caller() + locked) == []  # no ED501, and no ED002 either
    end_of_line = caller(name="newest").replace(
        "- uses: ./.github/actions/setup\n", "- uses: ./.github/actions/setup  # envdoctor: ignore[ci-ignores-lockfile]\n")
    assert action_findings(repo, end_of_line) == []
    # through an action between: the suppression on the outer `uses:` covers the inner action's steps
    outer = "runs:\n  using: composite\n  steps:\n    - uses: ./.github/actions/setup\n"
    workflow = HEAD + "      # envdoctor: ignore[ED501]\n      - uses: ./.github/actions/outer\n"
    assert action_findings(repo, workflow, files={".github/actions/outer/action.yml": outer}) == []


def test_suppression_on_one_uses_step_leaves_the_other_callers_at_fault(repo):
    plain = caller(name="plain").replace("on: push\njobs:\n", "")
    findings = action_findings(repo, suppressed_caller() + plain)
    assert [(f["code"], f["path"], f["line"]) for f in findings] == [("ED501", ACTION, 5)]
    assert "job 'plain' of .github/workflows/ci.yml" in findings[0]["message"]
    assert "job 'newest'" not in findings[0]["message"]
    assert "+" not in repo.check("--select", "ED501", "--diff").stdout  # the fix would change 'newest' too
    # on a step before the `uses:` step it covers nothing of the action: ED002, and the action's finding stays
    before = caller("echo start", name="newest").replace("      - run: echo start\n",
                                                       "      # envdoctor: ignore[ED501]\n      - run: echo start\n")
    found = [(f["code"], f["path"]) for f in action_findings(repo, before)]
    assert found == [("ED501", ACTION), ("ED002", GH)]


# A dependency bump split in two jobs: the relock is tested in one, shipped for review by a later job that
# `needs:` it (the lock passed on as an artifact; red-team r3b item 4).
RELOCK_JOB = steps("uv lock --upgrade", "uv sync", "uv run pytest").replace("  test:", "  relock:") + (
    "      - uses: actions/upload-artifact@v4\n        with:\n          name: lock\n          path: uv.lock\n")


def pr_job(needs: str, ship: str = "      - uses: peter-evans/create-pull-request@v7\n") -> str:
    return (f"  open-pr:\n{needs}    runs-on: ubuntu-latest\n    steps:\n"
            "      - uses: actions/download-artifact@v4\n        with:\n          name: lock\n" + ship)


@pytest.mark.parametrize("workflow", [
    RELOCK_JOB + pr_job("    needs: relock\n"),
    RELOCK_JOB + pr_job("    needs: [lint, relock]\n"),
    RELOCK_JOB + pr_job("    needs:\n      - relock\n", "      - run: gh pr create --fill\n"),
    # through a job between: open-pr needs check, which needs relock
    RELOCK_JOB + "  check:\n    needs: relock\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ok\n"
    + pr_job("    needs: check\n"),
])
def test_relock_shipped_by_a_later_job_that_needs_it_is_not_flagged(repo, workflow):
    assert lines(repo, workflow) == []


@pytest.mark.parametrize(("workflow", "expected"), [
    (RELOCK_JOB + pr_job(""), [7]),  # no needs: the pull request does not wait for (nor ship) this lock
    (RELOCK_JOB + pr_job("    needs: relock\n", "      - run: gh pr list\n"), [7]),  # nothing shipped
    (pr_job("") + RELOCK_JOB.replace("on: push\njobs:\n", "").replace("  relock:", "  relock:\n    needs: open-pr"),
     [15]),  # the job that ships runs before the relock
])
def test_relock_not_shipped_by_a_dependent_job_is_still_flagged(repo, workflow, expected):
    if not workflow.startswith("on:"):
        workflow = "on: push\njobs:\n" + workflow
    assert lines(repo, workflow) == expected
