"""The fixes of the Dockerfile rules (ED102-ED107, ED109): exact bytes before and after, the diff, a clean
re-run, idempotence and CRLF (tests/fix_support.py), and the near misses where no fix is offered."""

from __future__ import annotations

from fix_support import DIGEST, assert_fix, assert_no_fix

BASE = f"FROM python:3.12-slim@{DIGEST}\n"
PYPROJECT = ('[project]\nname = "app"\nversion = "1.0"\nrequires-python = ">=3.11"\ndependencies = []\n\n'
             '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n')
UV_LOCK = ('version = 1\nrequires-python = ">=3.11"\n\n[[package]]\nname = "app"\nversion = "1.0"\n'
           'source = { editable = "." }\n')
UV_CACHE = "--mount=type=cache,target=/root/.cache/uv"


# --- ED104 -----------------------------------------------------------------------------------------------

def test_ed104_pip_gets_no_cache_dir_keeping_comments_and_continuations(tmp_path):
    before = (BASE + "# the web framework\n"
              "RUN python -m pip install \\\n"
              "        # a comment inside the continuation\n"
              "        flask==3.0.3   && \\\n"
              "    echo done\n")
    after = before.replace("pip install \\", "pip install --no-cache-dir \\")
    assert_fix(tmp_path, {"Dockerfile": before}, "ED104", {"Dockerfile": after})


def test_ed104_uv_gets_no_cache(tmp_path):
    before = BASE + "RUN uv pip install --system flask==3.0.3\n"
    after = BASE + "RUN uv pip install --no-cache --system flask==3.0.3\n"
    assert_fix(tmp_path, {"Dockerfile": before}, "ED104", {"Dockerfile": after})


def test_ed104_indented_instruction_and_no_final_newline(tmp_path):
    before = BASE + "  run   pip3 install flask==3.0.3"
    after = BASE + "  run   pip3 install --no-cache-dir flask==3.0.3"
    assert_fix(tmp_path, {"Dockerfile": before}, "ED104", {"Dockerfile": after})


def test_ed104_two_installs_in_one_run(tmp_path):
    before = BASE + "RUN pip install flask==3.0.3 && pip install gunicorn==22.0.0\n"
    after = BASE + "RUN pip install --no-cache-dir flask==3.0.3 && pip install --no-cache-dir gunicorn==22.0.0\n"
    assert_fix(tmp_path, {"Dockerfile": before}, "ED104", {"Dockerfile": after})


def test_ed104_cache_mount_under_root_for_another_user_gets_no_cache_dir(tmp_path):
    before = (BASE + "RUN useradd -m app\nUSER app\n"
              "RUN --mount=type=cache,target=/root/.cache/pip pip install --user flask==3.0.3\n")
    after = before.replace("pip install --user", "pip install --no-cache-dir --user")
    assert_fix(tmp_path, {"Dockerfile": before}, "ED104", {"Dockerfile": after})


def test_ed104_no_fix_inside_sh_c_exec_form_or_poetry(tmp_path):
    assert_no_fix(tmp_path, {"Dockerfile": BASE + 'RUN sh -c "pip install flask==3.0.3"\n'}, "ED104", name="a")
    assert_no_fix(tmp_path, {"Dockerfile": BASE + 'RUN ["pip", "install", "flask==3.0.3"]\n'}, "ED104", name="b")
    assert_no_fix(tmp_path, {"Dockerfile": BASE + "RUN pip install --no-cache-dir poetry==1.8.3\n"
                             "COPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root\n",
                             "pyproject.toml": '[tool.poetry]\nname = "a"\n', "poetry.lock": ""}, "ED104",
                  name="c", args=("--select", "ED104"))


# --- ED106 -----------------------------------------------------------------------------------------------

def test_ed106_uv_sync_gets_locked_when_the_lock_is_in_the_image(tmp_path):
    before = (BASE + "WORKDIR /app\nCOPY pyproject.toml uv.lock ./\n"
              f"RUN {UV_CACHE} \\\n    uv sync --no-install-project --no-dev\n")
    after = before.replace("uv sync --no-install", "uv sync --locked --no-install")
    assert_fix(tmp_path, {"Dockerfile": before, "pyproject.toml": PYPROJECT, "uv.lock": UV_LOCK}, "ED106",
               {"Dockerfile": after})


def test_ed106_no_locked_fix_when_copy_exclude_leaves_the_lock_out(tmp_path):
    # `uv sync --locked` without uv.lock in the image fails the build: COPY --exclude counts like .dockerignore
    files = {"pyproject.toml": PYPROJECT, "uv.lock": UV_LOCK, ".dockerignore": ".venv\n"}
    before = BASE + f"WORKDIR /app\nCOPY --exclude=uv.lock . .\nRUN {UV_CACHE} uv sync --no-editable\n"
    assert_no_fix(tmp_path, {**files, "Dockerfile": before}, "ED106", name="a")
    before = BASE + f"WORKDIR /app\nCOPY --exclude=*.lock --exclude=*.md . .\nRUN {UV_CACHE} uv sync --no-editable\n"
    assert_no_fix(tmp_path, {**files, "Dockerfile": before}, "ED106", name="b")
    # the near miss: a pattern that leaves uv.lock in
    before = BASE + f"WORKDIR /app\nCOPY --exclude=*.md . .\nRUN {UV_CACHE} uv sync --no-editable\n"
    after = before.replace("uv sync", "uv sync --locked")
    assert_fix(tmp_path, {**files, "Dockerfile": before}, "ED106", {"Dockerfile": after}, name="c")


def test_ed106_lock_through_a_bind_mount(tmp_path):
    before = (BASE + "WORKDIR /app\n"
              f"RUN {UV_CACHE} --mount=type=bind,source=uv.lock,target=uv.lock "
              "--mount=type=bind,source=pyproject.toml,target=pyproject.toml uv sync --no-install-project\n")
    after = before.replace("uv sync", "uv sync --locked")
    assert_fix(tmp_path, {"Dockerfile": before, "pyproject.toml": PYPROJECT, "uv.lock": UV_LOCK}, "ED106",
               {"Dockerfile": after})


def test_ed106_no_fix_when_uv_lock_is_not_copied(tmp_path):
    # --locked without uv.lock in the image fails the build: no fix is offered.
    assert_no_fix(tmp_path, {"Dockerfile": BASE + f"WORKDIR /app\nCOPY pyproject.toml ./\nRUN {UV_CACHE} uv sync\n",
                             "pyproject.toml": PYPROJECT, "uv.lock": UV_LOCK}, "ED106", name="a")
    assert_no_fix(tmp_path, {"Dockerfile": BASE + f"WORKDIR /app\nCOPY . .\nRUN {UV_CACHE} uv sync --project sub\n",
                             "pyproject.toml": PYPROJECT, "uv.lock": UV_LOCK}, "ED106", name="b")


# --- ED105 -----------------------------------------------------------------------------------------------

# ED105's fixes are unsafe: the image then runs the installed package, not the source tree (a data file
# the build backend does not pack goes missing).
def test_ed105_uv_sync_no_editable_when_the_source_is_copied(tmp_path):
    before = BASE + f"WORKDIR /app\nCOPY . .\nRUN {UV_CACHE} uv sync --locked\n"
    after = BASE + f"WORKDIR /app\nCOPY . .\nRUN {UV_CACHE} uv sync --no-editable --locked\n"
    files = {"Dockerfile": before, "pyproject.toml": PYPROJECT, "uv.lock": UV_LOCK, ".dockerignore": ".venv\n",
             "src/app/__init__.py": ""}
    assert_fix(tmp_path, files, "ED105", {"Dockerfile": after}, args=("--ignore", "ED103"), unsafe=True)


def test_ed105_uv_sync_before_the_source_is_unsafe(tmp_path):
    before = BASE + f"WORKDIR /app\nCOPY pyproject.toml uv.lock ./\nRUN {UV_CACHE} uv sync --locked\n"
    after = BASE + f"WORKDIR /app\nCOPY pyproject.toml uv.lock ./\nRUN {UV_CACHE} uv sync --no-editable --locked\n"
    files = {"Dockerfile": before, "pyproject.toml": PYPROJECT, "uv.lock": UV_LOCK}
    assert_fix(tmp_path, files, "ED105", {"Dockerfile": after}, unsafe=True)


def test_ed105_pip_drops_editable(tmp_path):
    files = {"pyproject.toml": PYPROJECT, ".dockerignore": ".venv\n"}
    for name, written, kept in (("short", "-e .", "."), ("long", "--editable ./", "./"),
                                ("joined", "-e.", "."), ("equals", "--editable=.[web]", ".[web]")):
        before = BASE + f"WORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir {written}\n"
        after = BASE + f"WORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir {kept}\n"
        assert_fix(tmp_path, {**files, "Dockerfile": before}, "ED105", {"Dockerfile": after}, name=name,
                   args=("--ignore", "ED103"), unsafe=True)


def test_ed105_no_pip_fix_outside_the_shipped_stage_or_when_clustered(tmp_path):
    builder = (BASE.replace("\n", " AS build\n") + "WORKDIR /app\nCOPY . .\n"
               "RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -e .\n"
               + BASE + "COPY --from=build /opt/venv /opt/venv\n")
    files = {"pyproject.toml": PYPROJECT, ".dockerignore": ".venv\n"}
    assert_no_fix(tmp_path, {**files, "Dockerfile": builder}, "ED105", name="a")
    clustered = BASE + "WORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -qe .\n"
    assert_no_fix(tmp_path, {**files, "Dockerfile": clustered}, "ED105", name="b")
    from_file = BASE + "WORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -e . -r requirements.txt\n"
    assert_no_fix(tmp_path, {**files, "Dockerfile": from_file, "requirements.txt": "-e ./lib\n"}, "ED105",
                  name="c")


# --- ED109 -----------------------------------------------------------------------------------------------

ED109_ADDED = ("# local environments and caches (envdoctor ED109)\n.venv\n**/__pycache__\n.pytest_cache\n"
               ".mypy_cache\n.ruff_cache\n.tox\n.nox\n")


def _with_venv(files):
    return {**files, ".venv/pyvenv.cfg": "home = /usr/bin\n", ".gitignore": ".venv/\n"}


def test_ed109_creates_dockerignore(tmp_path):
    dockerfile = BASE + "WORKDIR /app\nCOPY . .\n"
    assert_fix(tmp_path, _with_venv({"Dockerfile": dockerfile}), "ED109", {".dockerignore": ED109_ADDED})


def test_ed109_appends_to_dockerignore_without_final_newline_keeping_crlf(tmp_path):
    ignore = "# build output\n.git\n!.git/HEAD\ndist"
    files = _with_venv({"Dockerfile": BASE + "COPY . /app\n", ".dockerignore": ignore})
    assert_fix(tmp_path, files, "ED109", {".dockerignore": ignore + "\n" + ED109_ADDED})


def test_ed109_leaves_out_caches_already_excluded(tmp_path):
    ignore = "__pycache__\n.tox/\n"
    files = _with_venv({"Dockerfile": BASE + "COPY . /app\n", ".dockerignore": ignore})
    added = ED109_ADDED.replace("**/__pycache__\n", "").replace(".tox\n", "")
    assert_fix(tmp_path, files, "ED109", {".dockerignore": ignore + added})


def test_ed109_dockerfile_specific_ignore_file_in_a_subfolder(tmp_path):
    files = {"svc/Dockerfile": BASE + "COPY . /app\n", "svc/Dockerfile.dockerignore": "*.md\n",
             "svc/pyproject.toml": PYPROJECT, "svc/.venv/pyvenv.cfg": "home = /usr/bin\n", ".gitignore": ".venv/\n"}
    assert_fix(tmp_path, files, "ED109", {"svc/Dockerfile.dockerignore": "*.md\n" + ED109_ADDED},
               args=("--ignore", "ED2,ED3"))


def test_ed109_no_fix_when_the_environment_is_copied_by_name(tmp_path):
    files = _with_venv({"Dockerfile": BASE + "COPY .venv /opt/venv\nCOPY . /app\n"})
    assert_no_fix(tmp_path, files, "ED109")


# --- ED103 -----------------------------------------------------------------------------------------------

def test_ed103_uv_split_is_unsafe(tmp_path):
    before = (BASE + "WORKDIR /app\nCOPY --chown=app:app . .\n"
              f"RUN {UV_CACHE} \\\n    uv sync --locked --no-editable\nCMD [\"app\"]\n")
    after = (BASE + "WORKDIR /app\n"
             "COPY --chown=app:app pyproject.toml uv.lock ./\n"
             f"RUN {UV_CACHE} \\\n    uv sync --no-install-project --locked --no-editable\n"
             "COPY --chown=app:app . .\n"
             f"RUN {UV_CACHE} \\\n    uv sync --locked --no-editable\nCMD [\"app\"]\n")
    files = {"Dockerfile": before, "pyproject.toml": PYPROJECT, "uv.lock": UV_LOCK, ".dockerignore": ".venv\n"}
    assert_fix(tmp_path, files, "ED103", {"Dockerfile": after}, unsafe=True)


def test_ed103_uv_split_copies_python_version(tmp_path):
    before = BASE + f"WORKDIR /app\nCOPY . .\nRUN {UV_CACHE} uv sync --locked --no-editable\n"
    after = (BASE + "WORKDIR /app\nCOPY pyproject.toml uv.lock .python-version ./\n"
             f"RUN {UV_CACHE} uv sync --no-install-project --locked --no-editable\n"
             f"COPY . .\nRUN {UV_CACHE} uv sync --locked --no-editable\n")
    files = {"Dockerfile": before, "pyproject.toml": PYPROJECT, "uv.lock": UV_LOCK, ".dockerignore": ".venv\n",
             ".python-version": "3.12\n"}
    assert_fix(tmp_path, files, "ED103", {"Dockerfile": after}, unsafe=True)


def test_ed103_pip_install_moves_above_the_source_copy(tmp_path):
    before = BASE + "WORKDIR /srv\nCOPY . /srv\nRUN pip install --no-cache-dir -r requirements/prod.txt\nCMD [\"app\"]"
    after = (BASE + "WORKDIR /srv\nCOPY requirements/prod.txt /srv/requirements/\n"
             "RUN pip install --no-cache-dir -r requirements/prod.txt\nCOPY . /srv\nCMD [\"app\"]")
    files = {"Dockerfile": before, "requirements/prod.txt": "flask==3.0.3\n"}
    assert_fix(tmp_path, files, "ED103", {"Dockerfile": after}, unsafe=True)


def test_ed103_poetry_split(tmp_path):
    pyproject = ('[tool.poetry]\nname = "app"\nversion = "1.0"\ndescription = ""\nauthors = []\n'
                 'readme = "README.md"\n\n[tool.poetry.dependencies]\npython = "^3.11"\n')
    before = BASE + "WORKDIR /app\nCOPY . .\nRUN poetry install --only main --no-interaction --no-cache\n"
    after = (BASE + "WORKDIR /app\nCOPY pyproject.toml poetry.lock README.md ./\n"
             "RUN poetry install --no-root --only main --no-interaction --no-cache\n"
             "COPY . .\nRUN poetry install --only main --no-interaction --no-cache\n")
    files = {"Dockerfile": before, "pyproject.toml": pyproject, "poetry.lock": "# poetry\n", "README.md": "# app\n",
             ".dockerignore": ".venv\n"}
    assert_fix(tmp_path, files, "ED103", {"Dockerfile": after}, unsafe=True, args=("--ignore", "ED2,ED3"))


def test_ed103_no_fix_when_the_shape_is_not_plain(tmp_path):
    req = {"requirements.txt": "flask==3.0.3\n"}
    cases = {
        "env-between": BASE + "WORKDIR /app\nCOPY . .\nENV PIP_ONLY_BINARY=:all:\n"
                       "RUN pip install --no-cache-dir -r requirements.txt\n",
        "two-commands": BASE + "WORKDIR /app\nCOPY . .\n"
                        "RUN pip install --no-cache-dir -r requirements.txt && python manage.py collectstatic\n",
        "other-folder": BASE + "WORKDIR /app\nCOPY . /src\nRUN pip install --no-cache-dir -r /src/requirements.txt\n",
        "include": BASE + "WORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements-dev.txt\n",
    }
    for name, dockerfile in cases.items():
        files = {**req, "requirements-dev.txt": "-r requirements.txt\npytest==8.3.3\n", "Dockerfile": dockerfile}
        assert_no_fix(tmp_path, files, "ED103", name=name)
    workspace = PYPROJECT + '\n[tool.uv.workspace]\nmembers = ["libs/*"]\n'
    assert_no_fix(tmp_path, {"Dockerfile": BASE + f"WORKDIR /app\nCOPY . .\nRUN {UV_CACHE} uv sync --locked\n",
                             "pyproject.toml": workspace, "uv.lock": UV_LOCK}, "ED103", name="workspace")


# --- ED107 -----------------------------------------------------------------------------------------------

def test_ed107_pins_uv_to_required_version(tmp_path):
    pyproject = PYPROJECT + '\n[tool.uv]\nrequired-version = "==0.5.11"\n'
    before = BASE + "RUN pip install --no-cache-dir uv && \\\n    uv --version\n"
    after = BASE + "RUN pip install --no-cache-dir uv==0.5.11 && \\\n    uv --version\n"
    assert_fix(tmp_path, {"Dockerfile": before, "pyproject.toml": pyproject}, "ED107", {"Dockerfile": after},
               unsafe=True)


def test_ed107_pins_uv_to_the_version_that_made_the_venv(tmp_path):
    before = BASE + "RUN pipx install uv\n"
    after = BASE + "RUN pipx install uv==0.6.2\n"
    files = {"Dockerfile": before, ".venv/pyvenv.cfg": "home = /usr/bin\nuv = 0.6.2\n", ".gitignore": ".venv/\n"}
    assert_fix(tmp_path, files, "ED107", {"Dockerfile": after}, unsafe=True)


def test_ed107_no_fix_without_a_known_version_or_with_other_packages(tmp_path):
    assert_no_fix(tmp_path, {"Dockerfile": BASE + "RUN pip install --no-cache-dir uv\n"}, "ED107", name="a")
    pyproject = PYPROJECT + '\n[tool.uv]\nrequired-version = ">=0.5"\n'
    assert_no_fix(tmp_path, {"Dockerfile": BASE + "RUN pip install --no-cache-dir uv\n", "pyproject.toml": pyproject},
                  "ED107", name="b")
    pinned = PYPROJECT + '\n[tool.uv]\nrequired-version = "==0.5.11"\n'
    assert_no_fix(tmp_path, {"Dockerfile": BASE + "RUN pip install --no-cache-dir uv ruff\n",
                             "pyproject.toml": pinned}, "ED107", name="c")


# --- ED102 -----------------------------------------------------------------------------------------------

DIGEST_B = "sha256:" + "b" * 64


def test_ed102_pins_from_the_digest_map(tmp_path):
    (tmp_path / "digests.toml").write_text(f'"python:3.12-slim" = "{DIGEST_B}"\n')
    before = ("ARG PY=3.12\nFROM python:3.12-slim AS build\nRUN echo build\n"
              "FROM docker.io/library/python:3.12-slim\nCOPY --from=build /etc/hostname /tmp/\n")
    after = (f"ARG PY=3.12\nFROM python:3.12-slim@{DIGEST_B} AS build\nRUN echo build\n"
             f"FROM docker.io/library/python:3.12-slim@{DIGEST_B}\nCOPY --from=build /etc/hostname /tmp/\n")
    assert_fix(tmp_path, {"Dockerfile": before}, "ED102", {"Dockerfile": after},
               args=("--digest-map", str(tmp_path / "digests.toml")))


def test_ed102_json_digest_map(tmp_path):
    (tmp_path / "digests.json").write_text(f'{{"python:3.12-slim": "{DIGEST_B}"}}')
    assert_fix(tmp_path, {"Dockerfile": "FROM python:3.12-slim\n"}, "ED102",
               {"Dockerfile": f"FROM python:3.12-slim@{DIGEST_B}\n"},
               args=("--digest-map", str(tmp_path / "digests.json")))


def test_ed102_no_fix_without_a_map_entry_or_for_a_build_argument(tmp_path):
    (tmp_path / "digests.toml").write_text(f'"python:3.11-slim" = "{DIGEST_B}"\n')
    args = ("--digest-map", str(tmp_path / "digests.toml"))
    assert_no_fix(tmp_path, {"Dockerfile": "FROM python:3.12-slim\n"}, "ED102", args=args, name="a")
    assert_no_fix(tmp_path, {"Dockerfile": "ARG V=3.11\nFROM python:${V}-slim\n"}, "ED102", args=args, name="b")
    assert_no_fix(tmp_path, {"Dockerfile": "FROM python:3.11-slim\n"}, "ED102", name="no-map")


def test_ed102_pins_copy_from_and_mount_from_images(tmp_path):
    # Report item 14: the map pins an image wherever ED102 reports it, not only in FROM (stage names are
    # not images and stay as they are).
    uv = "uv.example.invalid/astral-sh/uv:0.5.11"
    (tmp_path / "digests.toml").write_text(f'"python:3.12-slim" = "{DIGEST_B}"\n"{uv}" = "{DIGEST_B}"\n')
    before = (f"FROM python:3.12-slim AS build\nCOPY --link --from={uv} /uv /bin/uv\n"
              f"RUN --mount=type=cache,target=/root/.cache/uv \\\n    --mount=from={uv},source=/uv,target=/x/uv true\n"
              f"RUN --mount=type=bind,from={uv},source=/uvx,target=/x/uvx true\n"
              "FROM python:3.12-slim\nCOPY --from=build /bin/uv /bin/uv\n")
    after = (before.replace("python:3.12-slim", f"python:3.12-slim@{DIGEST_B}")
             .replace(f"{uv} ", f"{uv}@{DIGEST_B} ").replace(f"{uv},", f"{uv}@{DIGEST_B},"))
    assert after.count(DIGEST_B) == 5
    assert_fix(tmp_path, {"Dockerfile": before}, "ED102", {"Dockerfile": after},
               args=("--digest-map", str(tmp_path / "digests.toml")))


def test_ed102_no_flag_fix_when_the_image_is_written_twice_or_quoted(tmp_path):
    uv = "uv.example.invalid/astral-sh/uv:0.5.11"
    (tmp_path / "digests.toml").write_text(f'"{uv}" = "{DIGEST_B}"\n')
    args = ("--digest-map", str(tmp_path / "digests.toml"))
    pinned = f"FROM python:3.12-slim@{DIGEST_B}\n"
    twice = pinned + f"RUN --mount=from={uv},source=/uv,target=/a --mount=from={uv},source=/uvx,target=/b true\n"
    assert_no_fix(tmp_path, {"Dockerfile": twice}, "ED102", args=args, name="a")
    quoted = pinned + f'RUN --mount="from={uv}",source=/uv,target=/a true\n'
    assert_no_fix(tmp_path, {"Dockerfile": quoted}, "ED102", args=args, name="b")


# --- odd shapes: every fix that applies converges, never crashes, never adds a finding -------------------

def test_odd_dockerfiles_fix_cleanly(tmp_path):
    import random
    from collections import Counter

    from conftest import Repo

    pieces = [
        "RUN pip install flask==3.0.3\n", "RUN \\\n  pip \\\n  install \\\n  flask==3.0.3\n",
        "RUN\tpip install\tflask==3.0.3\n", "run pip install flask==3.0.3 # trailing\n",
        "RUN pip install flask==3.0.3 && \\\n# comment\n\n    pip install gunicorn==22.0.0\n",
        'RUN bash -c "pip install flask==3.0.3"\n', "RUN <<EOF\npip install flask==3.0.3\nEOF\n",
        "RUN uv pip install --system flask==3.0.3\n", "COPY . .\n", "WORKDIR /app\n",
        "RUN pip install -e .\n", "RUN pip install --editable=. \\\n  --no-deps\n", "ONBUILD RUN pip install x==1\n",
        "RUN python3 -m pip install -r requirements.txt\n", f"RUN {UV_CACHE} uv sync\n",
    ]
    rng = random.Random(8)
    fixed = 0
    for case in range(12):
        body = "".join(rng.choice(pieces) for _ in range(rng.randint(2, 6)))
        text = BASE + body
        if case % 3 == 0:
            text = text.replace("\n", "\r\n")
        root = tmp_path / f"case{case}"
        repo = Repo(root)
        repo.write("Dockerfile", text.encode())
        repo.write("requirements.txt", "flask==3.0.3\n")
        repo.write("pyproject.toml", PYPROJECT)
        repo.write("uv.lock", UV_LOCK)
        repo.write(".dockerignore", ".venv\n")
        repo.init_git()
        before = Counter(repo.codes())
        first = repo.check("--fix", "--unsafe-fixes")
        assert first.exit_code in (0, 1), (body, first.output)
        fixed += "Fixed " in first.stdout
        after_text = (root / "Dockerfile").read_bytes()
        assert not Counter(repo.codes()) - before, body
        second = repo.check("--fix", "--unsafe-fixes")
        assert "Fixed " not in second.stdout and (root / "Dockerfile").read_bytes() == after_text, body
        if case % 3 == 0:  # a CRLF file stays CRLF
            assert b"\n" not in after_text.replace(b"\r\n", b"")
    assert fixed >= 8  # the shapes are fixable, mostly: the test exercises the fixes
