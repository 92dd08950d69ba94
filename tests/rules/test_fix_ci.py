"""The fixes of the CI rules (ED501: `--locked`; ED502: pin uv to the version in use locally) and of ED308
(.gitignore): exact bytes, the diff, a clean re-run, idempotence and CRLF (tests/fix_support.py)."""

from __future__ import annotations

from fix_support import assert_fix, assert_no_fix

PYPROJECT = '[project]\nname = "app"\nversion = "1.0"\nrequires-python = ">=3.11"\ndependencies = []\n'
UV_LOCK = ('version = 1\nrequires-python = ">=3.11"\n\n[[package]]\nname = "app"\nversion = "1.0"\n'
           'source = { virtual = "." }\n')
GH = ".github/workflows/ci.yml"
HEAD = ("name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n")
PROJECT = {"pyproject.toml": PYPROJECT, "uv.lock": UV_LOCK}
# The uv that made the project's environment (uv writes this key into pyvenv.cfg); ignored, not tracked.
VENV = {".venv/pyvenv.cfg": "home = /usr/bin\nuv = 0.6.2\n"}
IGNORED = {".gitignore": ".venv/\n"}


# --- ED501 -----------------------------------------------------------------------------------------------

def test_ed501_uv_sync_gets_locked(tmp_path):
    before = HEAD + "      - run: uv sync --all-extras  # the whole project\n      - run: uv run --no-sync pytest\n"
    after = before.replace("uv sync --all", "uv sync --locked --all")
    assert_fix(tmp_path, {**PROJECT, GH: before}, "ED501", {GH: after})


def test_ed501_uv_run_gets_locked_in_a_literal_block(tmp_path):
    before = HEAD + "      - name: tests\n        run: |\n          echo start\n          uv run pytest -q\n"
    after = before.replace("uv run pytest", "uv run --locked pytest")
    assert_fix(tmp_path, {**PROJECT, GH: before}, "ED501", {GH: after})


def test_ed501_gitlab_script_item(tmp_path):
    before = "test:\n  image: python:3.12\n  script:\n    - pip install uv==0.6.2\n    - uv sync\n    - uv run --no-sync pytest\n"
    after = before.replace("- uv sync\n", "- uv sync --locked\n")
    assert_fix(tmp_path, {**PROJECT, ".gitlab-ci.yml": before}, "ED501", {".gitlab-ci.yml": after})


def test_ed501_no_fix_across_lines_or_for_upgrade(tmp_path):
    split = HEAD + "      - run: |\n          uv \\\n            sync\n"
    assert_no_fix(tmp_path, {**PROJECT, GH: split}, "ED501", name="a")
    upgrade = HEAD + "      - run: uv sync --upgrade\n"
    assert_no_fix(tmp_path, {**PROJECT, GH: upgrade}, "ED501", name="b")
    group = HEAD + "      - run: uv sync --upgrade-group dev\n      - run: uv sync -P httpx\n"  # (r3b item 10)
    assert_no_fix(tmp_path, {**PROJECT, GH: group}, "ED501", name="d")
    twice = HEAD + "      - run: uv sync; echo uv sync\n"
    assert_no_fix(tmp_path, {**PROJECT, GH: twice}, "ED501", name="c")


def test_ed501_no_fix_for_options_from_a_variable(tmp_path):
    # The variable is not known: not reported, so not fixed; the plain `uv sync` next to it still is.
    before = (HEAD + "      - run: uv sync $SYNC_ARGS\n      - run: uv sync ${{ matrix.args }}\n"
              "      - run: uv sync --python 3.12 $MORE\n      - run: uv sync ${{ env.ARGS }}\n      - run: uv sync\n")
    after = before.replace("- run: uv sync\n", "- run: uv sync --locked\n")
    assert_fix(tmp_path, {**PROJECT, GH: before}, "ED501", {GH: after})


def test_ed501_fix_when_an_option_value_is_a_variable(tmp_path):
    # The value of --python / -p / --extra= cannot be --locked: reported, and --locked goes right after
    # the sub-command word, before the option and its value.
    before = HEAD + ("      - run: |\n          uv sync \\\n            --python ${{ matrix.py }}\n"
                     "      - run: uv sync -p $PY\n      - run: uv sync --extra=${{ matrix.extra }}\n")
    after = HEAD + ("      - run: |\n          uv sync --locked \\\n            --python ${{ matrix.py }}\n"
                    "      - run: uv sync --locked -p $PY\n      - run: uv sync --locked --extra=${{ matrix.extra }}\n")
    assert_fix(tmp_path, {**PROJECT, GH: before}, "ED501", {GH: after})


def test_ed501_uv_run_fix_when_an_option_value_is_a_variable(tmp_path):
    before = HEAD + "      - run: uv run --python ${{ matrix.py }} pytest -q\n"
    after = HEAD + "      - run: uv run --locked --python ${{ matrix.py }} pytest -q\n"
    assert_fix(tmp_path, {**PROJECT, GH: before}, "ED501", {GH: after})


def test_ed501_no_fix_for_a_command_that_says_no_locked(tmp_path):
    # uv reads `--locked --no-locked` as --no-locked (last one wins): adding --locked would change nothing,
    # whatever UV_LOCKED says (red-team r3b item 1).
    for name, line in (("a", "uv sync --no-locked"), ("b", "uv run --no-locked pytest"),
                       ("c", "uv sync --no-frozen"), ("d", "uv sync --locked --no-locked")):
        assert_no_fix(tmp_path, {**PROJECT, GH: HEAD + f"      - run: {line}\n"}, "ED501", name=name)
    zero = HEAD.replace("    steps:\n", "    env:\n      UV_LOCKED: '0'\n    steps:\n")
    assert_no_fix(tmp_path, {**PROJECT, GH: zero + "      - run: uv sync --no-locked\n"}, "ED501", name="e")
    # near miss: `--no-sync` (not a lock option) beside it; that command is fixed
    before = HEAD + "      - run: uv run --no-sync --no-editable pytest\n      - run: uv run --no-editable pytest\n"
    after = before.replace("uv run --no-editable", "uv run --locked --no-editable")
    assert_fix(tmp_path, {**PROJECT, GH: before}, "ED501", {GH: after})


# --- ED502 -----------------------------------------------------------------------------------------------

def test_ed502_pip_install_uv_pinned_to_the_venv_uv(tmp_path):
    before = HEAD + "      - run: python -m pip install uv\n"
    after = HEAD + "      - run: python -m pip install uv==0.6.2\n"
    assert_fix(tmp_path, {**PROJECT, **IGNORED, GH: before}, "ED502", {GH: after}, unsafe=True, untracked=VENV,
               args=("--ignore", "ED501"))


def test_ed502_pipx_install_uv_pinned_to_required_version(tmp_path):
    pyproject = PYPROJECT + '\n[tool.uv]\nrequired-version = "==0.5.11"\n'
    before = HEAD + "      - run: pipx install uv\n"
    after = HEAD + "      - run: pipx install uv==0.5.11\n"
    assert_fix(tmp_path, {"pyproject.toml": pyproject, "uv.lock": UV_LOCK, GH: before}, "ED502", {GH: after},
               unsafe=True)


def test_ed502_versioned_installer(tmp_path):
    before = HEAD + "      - run: curl -LsSf https://astral.sh/uv/install.sh | sh\n"
    after = HEAD + "      - run: curl -LsSf https://astral.sh/uv/0.6.2/install.sh | sh\n"
    assert_fix(tmp_path, {**PROJECT, **IGNORED, GH: before}, "ED502", {GH: after}, unsafe=True, untracked=VENV)


def test_ed502_quoted_installer_url(tmp_path):
    before = HEAD + "      - run: curl -LsSf 'https://astral.sh/uv/install.sh' | sh\n"
    after = HEAD + "      - run: curl -LsSf 'https://astral.sh/uv/0.6.2/install.sh' | sh\n"
    assert_fix(tmp_path, {**PROJECT, **IGNORED, GH: before}, "ED502", {GH: after}, unsafe=True, untracked=VENV)


def test_ed502_setup_uv_gets_a_with_block(tmp_path):
    before = HEAD + "      - uses: astral-sh/setup-uv@v5  # installs uv\n      - run: uv sync --locked\n"
    after = (HEAD + "      - uses: astral-sh/setup-uv@v5  # installs uv\n        with:\n"
             '          version: "0.6.2"\n      - run: uv sync --locked\n')
    assert_fix(tmp_path, {**PROJECT, **IGNORED, GH: before}, "ED502", {GH: after}, unsafe=True, untracked=VENV)


def test_ed502_setup_uv_as_the_last_line_without_a_line_break(tmp_path):
    before = HEAD + "      - name: uv\n        uses: astral-sh/setup-uv@v5"
    after = HEAD + '      - name: uv\n        uses: astral-sh/setup-uv@v5\n        with:\n          version: "0.6.2"'
    assert_fix(tmp_path, {**PROJECT, **IGNORED, GH: before}, "ED502", {GH: after}, unsafe=True, untracked=VENV)


def test_ed502_setup_uv_version_added_to_existing_with(tmp_path):
    before = (HEAD + "      - uses: astral-sh/setup-uv@v5\n        with:\n          enable-cache: true\n"
              "          python-version: '3.12'\n")
    after = (HEAD + "      - uses: astral-sh/setup-uv@v5\n        with:\n          version: \"0.6.2\"\n"
             "          enable-cache: true\n          python-version: '3.12'\n")
    assert_fix(tmp_path, {**PROJECT, **IGNORED, GH: before}, "ED502", {GH: after}, unsafe=True, untracked=VENV)


def test_ed502_setup_uv_floating_version_replaced(tmp_path):
    before = HEAD + "      - uses: astral-sh/setup-uv@v5\n        with:\n          version: 'latest'   # newest\n"
    after = HEAD + '      - uses: astral-sh/setup-uv@v5\n        with:\n          version: "0.6.2"   # newest\n'
    assert_fix(tmp_path, {**PROJECT, **IGNORED, GH: before}, "ED502", {GH: after}, unsafe=True, untracked=VENV)


def test_ed502_no_fix_without_a_known_version_or_with_other_tools_or_flow_style(tmp_path):
    assert_no_fix(tmp_path, {**PROJECT, GH: HEAD + "      - run: pip install uv\n"}, "ED502", name="a")
    assert_no_fix(tmp_path, {**PROJECT, **IGNORED, GH: HEAD + "      - run: pip install uv ruff\n"}, "ED502",
                  name="b", untracked=VENV)
    flow = HEAD + "      - uses: astral-sh/setup-uv@v5\n        with: {enable-cache: true}\n"
    assert_no_fix(tmp_path, {**PROJECT, **IGNORED, GH: flow}, "ED502", name="c", untracked=VENV)
    ranged = PYPROJECT + '\n[tool.uv]\nrequired-version = ">=0.5"\n'
    assert_no_fix(tmp_path, {"pyproject.toml": ranged, "uv.lock": UV_LOCK, GH: HEAD + "      - run: pipx install uv\n"},
                  "ED502", name="d")


# --- ED308 -----------------------------------------------------------------------------------------------

def test_ed308_creates_gitignore(tmp_path):
    assert_fix(tmp_path, {"README.md": "# app\n"}, "ED308", {".gitignore": ".venv/\n"},
               untracked={".venv/pyvenv.cfg": "home = /usr/bin\n"})


def test_ed308_appends_to_gitignore_without_final_newline(tmp_path):
    assert_fix(tmp_path, {".gitignore": "# build\n*.pyc"}, "ED308", {".gitignore": "# build\n*.pyc\n.venv/\n"},
               untracked={".venv/pyvenv.cfg": "home = /usr/bin\n"})


def test_ed308_nested_environments_in_one_pass(tmp_path):
    untracked = {"tools/env/pyvenv.cfg": "home = /usr/bin\n", "svc/.venv/pyvenv.cfg": "home = /usr/bin\n"}
    assert_fix(tmp_path, {".gitignore": "*.pyc\n"}, "ED308", {".gitignore": "*.pyc\n.venv/\n/tools/env/\n"},
               untracked=untracked)


def test_ed308_no_fix_for_an_odd_folder_name(tmp_path):
    assert_no_fix(tmp_path, {"README.md": "# app\n"}, "ED308", untracked={"my env/pyvenv.cfg": "home = /usr/bin\n"})
