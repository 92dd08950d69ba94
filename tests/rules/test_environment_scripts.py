"""ED412 global-install-command and ED413 hand-rolled-env-script: commands in scripts, Makefiles,
justfiles, docs, tox/nox files and CI workflows."""

from __future__ import annotations

import pytest

from envdoctor.sources.scripts import parse_justfile, parse_makefile, parse_markdown, parse_shell_script


def results(repo, *codes: str) -> list[tuple[str, str, int]]:
    return [(f["code"], f["path"], f["line"]) for f in repo.findings("--select", ",".join(codes or ("ED412",)))]


def argv(view) -> list[tuple[int, str]]:
    return [(c.command.line, " ".join(c.command.argv)) for c in view.commands]


# --- reading commands ----------------------------------------------------------------------------------------


def test_makefile_recipes_prefixes_variables_and_continuations():
    text = ("PIP = pip3\nPY := $(VENV)/bin/python\nVENV ?= .venv\n\n.PHONY: install\ninstall: deps\n"
            "\t@$(PIP) install --user x\n\t-echo $$HOME && \\\n\t  $(PY) -m pip install y\n# comment\n"
            "ifeq ($(CI),1)\n\tsudo pip install z\nendif\nX = 1\n\tnot-a-recipe\n")
    assert argv(parse_makefile(text, "Makefile")) == [
        (7, "pip3 install --user x"), (8, "echo $HOME"), (9, ".venv/bin/python -m pip install y"),
        (12, "sudo pip install z")]


def test_justfile_recipes_and_shebang_recipes():
    text = ("set shell := ['bash', '-c']\nversion := '1'\n\ninstall:\n    @pip install --user a\n    -echo done\n\n"
            "py:\n    #!/usr/bin/env python3\n    import os\n\nsh:\n    #!/usr/bin/env bash\n    sudo pip install b\n")
    assert argv(parse_justfile(text, "justfile")) == [(5, "pip install --user a"), (6, "echo done"),
                                                      (14, "sudo pip install b")]


def test_markdown_shell_blocks_sessions_and_indentation():
    text = ("# Title\n\n```python\nos.system('sudo pip install a')\n```\n\n```console\n$ pip install --user b\n"
            "Collecting b\n$ echo \\\n  c\n```\n\n1. Then:\n\n   ```bash\n   sudo pip install d\n   ```\n\n"
            "~~~sh\npip install e\n~~~\n\n```\nsudo pip install f\n```\n")
    view, lines = parse_markdown(text, "README.md")
    assert argv(view) == [(8, "pip install --user b"), (10, "echo c"), (17, "sudo pip install d"), (21, "pip install e")]
    assert lines == [8, 9, 10, 11, 17, 21]


def test_a_non_shell_script_named_sh_is_skipped():
    assert argv(parse_shell_script("#!/usr/bin/env python3\nimport os\n", "x.sh")) == []
    assert argv(parse_shell_script("#!/bin/bash -e\npip install x\n", "x.sh")) == [(2, "pip install x")]


# --- ED412 must flag ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "text", "line"), [
    ("setup.sh", "#!/bin/sh\nset -e\nsudo pip install -r requirements.txt\n", 3),
    ("setup.sh", "sudo -H python3 -m pip install httpx\n", 1),
    ("setup.sh", "sudo uv pip install --system httpx\n", 1),
    ("setup.sh", "sudo UV_SYSTEM_PYTHON=1 uv pip install httpx\n", 1),
    ("setup.sh", "sudo uv pip install --python /usr/bin/python3 httpx\n", 1),
    ("setup.sh", "sudo /usr/local/bin/pip3 install httpx\n", 1),  # a system path, not an environment's
    ("setup.sh", "sudo -u tool pip install httpx\n", 1),  # PATH's pip, as another user: still no environment
    ("setup.sh", "sudo -Hu tool /usr/bin/python3 -m pip install httpx\n", 1),
    ("setup.sh", "pip install --user black\n", 1),
    ("setup.sh", "python3 -m pip install --user --upgrade pipx black\n", 1),
    ("setup.sh", "pip3 install --break-system-packages httpx\n", 1),
    ("setup.sh", "uv pip install --break-system-packages httpx\n", 1),
    ("setup.sh", "PIP_BREAK_SYSTEM_PACKAGES=1 pip install httpx\n", 1),
    ("setup.sh", "env PIP_USER=true pip install httpx\n", 1),
    ("setup.sh", "/usr/bin/python3 -m pip install httpx\n", 1),
    ("setup.sh", "if true; then\n  /usr/bin/pip3 install httpx\nfi\n", 2),
    ("setup.sh", "uv pip install --system httpx\n", 1),
    ("scripts/dev/bootstrap.bash", "echo hi && sudo pip install x || exit 1\n", 1),
    ("Makefile", "PIP = pip\ninstall:\n\t@$(PIP) install --user -r requirements.txt\n", 3),
    ("justfile", "install:\n    sudo pip install x\n", 2),
    ("README.md", "# Demo\n\nInstall:\n\n```bash\nsudo pip install demo\n```\n", 6),
    ("docs/guide/setup.md", "```console\n$ pip install --user demo\nSuccessfully installed demo\n```\n", 2),
    ("tox.ini", "[tox]\nenvlist = py312\n\n[testenv]\ncommands =\n    pip install --user x\n    pytest\n", 6),
    ("noxfile.py", "import nox\n\n@nox.session\ndef tests(session):\n    session.run('sudo', 'pip', 'install', 'x')\n", 5),
    ("noxfile.py", "import nox\n\n@nox.session\ndef tests(session):\n    session.install('--user', 'x')\n", 5),
])
def test_ed412_must_flag(repo, path, text, line):
    repo.write(path, text)
    assert results(repo) == [("ED412", path, line)]


def test_ed412_in_ci_only_sudo_user_and_break_system_packages(repo):
    repo.write(".github/workflows/ci.yml", """\
name: ci
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install -r requirements.txt
      - run: uv pip install --system -r requirements.txt
      - run: /usr/bin/python3 -m pip install tox
      - run: |
          python -m pip install --upgrade pip
          sudo pip install awscli
      - run: pip install --user pre-commit
      - run: pip install --break-system-packages ruff
      - env:
          PIP_BREAK_SYSTEM_PACKAGES: "1"
        run: pip install mypy
""")
    assert results(repo) == [("ED412", ".github/workflows/ci.yml", 16), ("ED412", ".github/workflows/ci.yml", 17),
                             ("ED412", ".github/workflows/ci.yml", 18), ("ED412", ".github/workflows/ci.yml", 21)]
    hints = {f["fix_hint"] for f in repo.findings("--select", "ED412")}
    assert hints == {"In CI, install into the runner's Python without sudo or --user (after actions/setup-python), "
                     "or into an environment: `uv sync --locked`."}


def test_ed412_in_composite_actions(repo):
    # A composite action's steps run in a CI runner, like a workflow's: only sudo/--user/--break-system-packages.
    action = ("runs:\n  using: composite\n  steps:\n"
              "    - run: pip install --user pre-commit\n      shell: bash\n"   # 4
              "    - run: pip install -r requirements.txt\n      shell: bash\n"  # 6
              "    # envdoctor: ignore[ED412] -- the runner's own Python\n"
              "    - run: sudo pip install awscli\n      shell: bash\n")        # 9
    repo.write(".github/actions/setup/action.yml", action)
    repo.write("action.yml", action.replace("--user", "--break-system-packages"))
    repo.write("docs/action.yml", action)  # not an action envdoctor knows of
    assert results(repo, "ED412", "ED002") == [("ED412", ".github/actions/setup/action.yml", 4), ("ED412", "action.yml", 4)]


WIN = "on: push\njobs:\n  t:\n    runs-on: {runner}\n    steps:\n"  # steps on line 6


@pytest.mark.parametrize("workflow", [
    WIN.format(runner="windows-latest") + "      - run: pip install --user black\n",  # pwsh by default
    WIN.format(runner="ubuntu-latest") + "      - shell: pwsh\n        run: pip install --user black\n",
    WIN.format(runner="ubuntu-latest") + "      - shell: cmd\n        run: pip install --user black\n",
    "defaults:\n  run:\n    shell: powershell\n" + WIN.format(runner="ubuntu-latest")
    + "      - run: pip install --user black\n",
    WIN.format(runner="${{ matrix.os }}") + "      - run: |\n          pip install `\n            --user black\n",
])
def test_ed412_powershell_and_cmd_steps_are_not_read_as_sh(repo, workflow):
    repo.write(".github/workflows/ci.yml", workflow)
    assert results(repo, "ED412", "ED413") == []


@pytest.mark.parametrize(("workflow", "line"), [
    (WIN.format(runner="windows-latest") + "      - shell: bash\n        run: pip install --user black\n", 7),
    (WIN.format(runner="${{ matrix.os }}") + "      - run: pip install --user black\n", 6),
])
def test_ed412_sh_steps_are_still_read(repo, workflow, line):
    repo.write(".github/workflows/ci.yml", workflow)
    assert results(repo) == [("ED412", ".github/workflows/ci.yml", line)]


def test_ed412_message_quotes_the_command_and_the_form(repo):
    repo.write("setup.sh", "pip install --user black\n")
    (finding,) = repo.findings("--select", "ED412")
    assert finding["message"].startswith("`pip install --user black` installs into the user site")
    assert finding["message"].endswith("(--user).")
    assert "uv tool install" in finding["fix_hint"]


def test_ed412_sudo_uv_pip_names_the_option_that_reaches_the_system(repo):
    repo.write("setup.sh", "sudo uv pip install --system httpx\n")
    (finding,) = repo.findings("--select", "ED412")
    assert finding["message"] == ("`sudo uv pip install --system httpx` runs as root and, with --system, installs "
                                  "into the system interpreter, where the operating system's own Python packages "
                                  "live, outside every environment (sudo, --system).")


def test_ed412_sudo_as_another_user_is_not_called_root(repo):
    repo.write("deploy.sh", "sudo -u tool pip install x\nsudo -u root pip install y\n")
    first, second = repo.findings("--select", "ED412")
    assert "runs as root" not in first["message"]
    assert first["message"].startswith("`sudo -u tool pip install x` runs the pip found on PATH as user tool, "
                                       "outside every environment")
    assert first["message"].endswith("(sudo -u tool).")
    assert "runs as root" in second["message"]


# --- ED412 must not flag ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "text"), [
    ("setup.sh", "pip install httpx\n"),  # which interpreter runs this is not written here
    ("setup.sh", "python -m pip install -r requirements.txt\n"),
    ("setup.sh", ".venv/bin/pip install httpx\n"),
    ("setup.sh", "uv pip install httpx\n"),
    ("setup.sh", "pip install --user pipx\n"),  # pipx's documented bootstrap
    ("setup.sh", "python3 -m pip install --user --upgrade pipx\n"),
    ("setup.sh", "sudo apt-get install -y python3-pip\n"),
    ("setup.sh", "pip download --user x\n"),
    # sudo running an environment's own pip installs into that environment, not the system interpreter
    ("deploy.sh", "sudo -u tool /opt/tool/venv/bin/pip install --no-deps /tmp/tool-2.0.0-py3-none-any.whl\n"),
    ("deploy.sh", "sudo /opt/tool/venv/bin/python -m pip install -r /opt/tool/requirements.lock.txt\n"),
    ("deploy.sh", "sudo --user=tool -H \"$VENV/bin/pip\" install x\n"),
    ("deploy.sh", "sudo -E ./venv/bin/python3 -m pip install x\n"),
    ("deploy.sh", "sudo -u tool uv pip install x\n"),  # uv pip needs a virtual environment
    # ... so does it as root: without --system it installs into the .venv it finds, or refuses
    ("setup.sh", "sudo uv pip install httpx\n"),
    ("setup.sh", "sudo uv pip install --python .venv/bin/python httpx\n"),
    ("setup.sh", "# sudo pip install x\necho 'sudo pip install x'\n"),
    ("setup.sh", "PIP_USER=0 pip install x\n"),
    ("setup.sh", "pip install --target /usr/lib/x --user-agent y x\n"),
    ("notes.txt", "sudo pip install x\n"),  # not a file envdoctor reads
    ("setup.py", "import os\nos.system('sudo pip install x')\n"),
    ("README.md", "Run sudo pip install x? No: `pip install --user x` is bad.\n"),
    ("README.md", "```python\nsubprocess.run(['sudo', 'pip', 'install', 'x'])\n```\n"),
    ("README.md", "```console\n$ pip list\nsudo pip install x   (output, not a command)\n```\n"),
    ("guide/setup.md", "```sh\nsudo pip install x\n```\n"),  # not README, not under docs/
    ("Dockerfile", "FROM python:3.12\nRUN pip install --user x\n"),  # the Dockerfile rules' business
    ("Makefile", "install:\n\tpip install -e .\n"),
    ("tox.ini", "[testenv]\ncommands =\n    pip install -e .\n    /usr/bin/python3 -m pip install x\n"),
    ("noxfile.py", "import nox\n\n@nox.session\ndef tests(session):\n    session.install('-e', '.')\n"),
])
def test_ed412_must_not_flag(repo, path, text):
    repo.write(path, text)
    assert results(repo) == []


def test_ed412_scripts_run_by_a_dockerfile_are_container_scripts(repo):
    repo.write("docker/install.sh", "uv pip install --system -r requirements.txt\nsudo pip install x\n")
    repo.write("Dockerfile", "FROM python:3.12-slim\nCOPY docker/install.sh /tmp/\nRUN sh /tmp/install.sh\n")
    assert results(repo) == [("ED412", "docker/install.sh", 2)]


def test_ed412_suppression_in_a_markdown_shell_block(repo):
    repo.write("README.md", "```sh\n# envdoctor: ignore[ED412] -- the appliance has no venv\nsudo pip install x\n"
                            "```\n\nProse that quotes `# envdoctor: ignore[ED101]` is not a suppression.\n"
                            "# envdoctor: ignore[ED412]\n")
    assert repo.codes("--select", "ED412,ED002,ED003") == []


def test_ed412_unused_suppression_in_a_shell_block_is_reported(repo):
    repo.write("README.md", "```sh\n# envdoctor: ignore[ED412]\npip install x\n```\n")
    assert results(repo, "ED412", "ED002") == [("ED002", "README.md", 2)]


def test_ed412_suppression_in_a_script(repo):
    repo.write("setup.sh", "sudo pip install x  # envdoctor: ignore[ED412] -- a throwaway VM\n")
    assert results(repo, "ED412", "ED002") == []


# --- ED413 hand-rolled-env-script ---------------------------------------------------------------------------

BOOTSTRAP = """\
#!/bin/sh
set -e
python3 -m venv venv
. venv/bin/activate
pip install --upgrade pip
pip install -r requirements.txt
pip install -e .
"""


def test_ed413_flags_a_step_by_step_bootstrap(repo):
    repo.write("bootstrap.sh", BOOTSTRAP)
    found = repo.findings("--select", "ED413")
    assert [(f["code"], f["path"], f["line"], f["severity"]) for f in found] == [("ED413", "bootstrap.sh", 3, "info")]
    assert "creates venv here, then installs into it in 3 separate pip steps (lines 5, 6, 7)" in found[0]["message"]
    assert found[0]["fix_hint"] == ("Use a real tool instead: `uv venv venv` then `uv pip sync requirements.txt` "
                                    "(exactly that lock, nothing more).")


def test_ed413_with_a_pyproject_suggests_uv_sync(repo):
    repo.write("pyproject.toml", '[project]\nname = "x"\nversion = "1"\n')
    repo.write("scripts/setup.sh", "virtualenv .venv\n.venv/bin/pip install -U pip && .venv/bin/pip install .\n")
    (finding,) = repo.findings("--select", "ED413")
    assert finding["line"] == 1 and "`uv sync --locked`" in finding["fix_hint"]


@pytest.mark.parametrize(("path", "text"), [
    ("bootstrap.sh", "python3 -m venv .venv\n.venv/bin/pip install -r requirements.lock.txt\n"),  # one step
    ("bootstrap.sh", "uv venv\nuv pip install -r a.txt\nuv pip install -e .\n"),
    ("bootstrap.sh", "pip install -r a.txt\npip install -e .\n"),  # no environment created here
    ("bootstrap.sh", "pip install a\npip install b\npython3 -m venv .venv\n"),  # installs before, not into it
    ("bootstrap.sh", "python3 -m venv --help\npip install a\npip install b\n"),
    ("Makefile", "venv:\n\tpython3 -m venv .venv\n\t.venv/bin/pip install -U pip\n\t.venv/bin/pip install -e .\n"),
    ("tools/dev.py", "import venv\nvenv.create('.venv')\n# pip install a\n# pip install b\n"),
])
def test_ed413_near_misses(repo, path, text):
    repo.write(path, text)
    assert results(repo, "ED413") == []


# ED413 counts pip steps per environment: by the path of the pip/python that runs them, or the environment the
# script activated (red-team CI item 6).

SMOKE = """\
#!/bin/sh
# Check that the built wheel installs and imports in a clean environment.
python3 -m venv /tmp/smoke
/tmp/smoke/bin/pip install dist/*.whl
/tmp/smoke/bin/python -c "import x"
python3 -m venv /tmp/smoke2
/tmp/smoke2/bin/pip install dist/*.tar.gz
"""


def test_ed413_two_environments_with_one_pip_step_each_are_not_reported(repo):
    repo.write("pyproject.toml", '[project]\nname = "x"\nversion = "1"\n')
    repo.write("scripts/c.sh", SMOKE)
    assert results(repo, "ED413") == []


def test_ed413_two_steps_into_the_first_of_two_environments_name_it(repo):
    repo.write("scripts/c.sh", SMOKE.replace("/tmp/smoke2/bin/pip install dist/*.tar.gz",
                                             "/tmp/smoke/bin/python -m pip install dist/*.tar.gz"))
    (finding,) = repo.findings("--select", "ED413")
    assert finding["line"] == 3
    assert "it creates /tmp/smoke here, then installs into it in 2 separate pip steps (lines 4, 7)" in finding["message"]


def test_ed413_each_environment_is_judged_and_named_on_its_own(repo):
    repo.write("build.sh", "python3 -m venv a\n. a/bin/activate\npip install x\npython -m pip install y\ndeactivate\n"
                           "virtualenv ./b/\nexport PATH=\"b/bin:$PATH\"\npip install z\n${B:-b}/bin/pip install w\n"
                           "b/bin/pip install v\npip install u\n")
    found = repo.findings("--select", "ED413")
    assert [(f["line"], f["message"].split(";")[0]) for f in found] == [
        (1, "This script builds an environment by hand: it creates a here, then installs into it in 2 separate "
            "pip steps (lines 3, 4)"),
        (6, "This script builds an environment by hand: it creates ./b/ here, then installs into it in 3 separate "
            "pip steps (lines 8, 10, 11)"),
    ]


def test_ed413_a_bare_pip_without_activation_is_no_environment_s(repo):
    repo.write("bootstrap.sh", "python3 -m venv .venv\npip install a\npip install b\n")
    assert results(repo, "ED413") == []


# ED413 and the sequence ED501 recommends: a hash-pinned lock, then the project with --no-deps (item 7).

DOCS = """\
#!/bin/sh
# Build the docs in a throwaway environment.
set -e
VENV=$(mktemp -d)/venv
python3 -m venv "$VENV"
"$VENV/bin/pip" install --require-hashes -r docs/requirements.lock.txt
"${VENV}/bin/pip" install --no-deps .
"$VENV/bin/sphinx-build" docs build/docs
"""
LOCK = "httpx==0.27.2 \\\n    --hash=sha256:" + "a" * 64 + "\nidna==3.10 \\\n    --hash=sha256:" + "b" * 64 + "\n"


def test_ed413_a_hash_pinned_lock_then_no_deps_is_not_reported(repo):
    repo.write("pyproject.toml", '[project]\nname = "x"\nversion = "1"\n')
    repo.write("scripts/docs.sh", DOCS)
    assert results(repo, "ED413") == []


def test_ed413_a_hashed_lock_file_without_the_flag_and_an_installer_upgrade_are_not_reported(repo):
    repo.write("requirements.lock.txt", LOCK)
    repo.write("bootstrap.sh", "python3 -m venv .venv\n.venv/bin/pip install -U pip wheel\n"
                               ".venv/bin/pip install -r requirements.lock.txt\n.venv/bin/pip install --no-deps -e .\n")
    assert results(repo, "ED413") == []


def test_ed413_a_lock_then_a_resolving_step_is_reported_without_claiming_no_lock(repo):
    repo.write("pyproject.toml", '[project]\nname = "x"\nversion = "1"\n')
    repo.write("scripts/docs.sh", DOCS.replace("install --no-deps .", "install ."))
    (finding,) = repo.findings("--select", "ED413")
    assert finding["line"] == 5
    assert "nothing checks the result against a lock" not in finding["message"]
    assert finding["message"].endswith("it installs the lock docs/requirements.lock.txt (line 6), but line 7 "
                                       "resolves again without --no-deps, so each run can end with packages the "
                                       "lock does not name.")
    assert finding["fix_hint"].startswith("Install the rest with `--no-deps`")
    assert "`uv venv $VENV` then `uv pip sync docs/requirements.lock.txt`" in finding["fix_hint"]


def test_ed413_an_unpinned_requirements_file_then_no_deps_is_still_reported(repo):
    repo.write("requirements.txt", "httpx>=0.27\n")
    repo.write("bootstrap.sh", "python3 -m venv .venv\n.venv/bin/pip install -r requirements.txt\n"
                               ".venv/bin/pip install --no-deps -e .\n")
    (finding,) = repo.findings("--select", "ED413")
    assert finding["message"].endswith("nothing checks the result against a lock.")
