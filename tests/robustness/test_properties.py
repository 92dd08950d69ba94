"""Whole-scan properties on small repositories generated from mutated realistic seeds (seeds.py):

- no exception escapes: a scan with every rule has no internal error;
- every finding points at a line that exists (1..n, n the file's `\\n`-separated lines), at a relative path
  inside the scanned root;
- every output format renders and stays valid (JSON parses, JUnit is XML, SARIF validates against the
  official 2.1.0 schema);
- `# envdoctor: ignore[CODE]` above a finding's line (above its instruction in a Dockerfile), or at the end
  of a comment line, makes that finding go away.

Parsers get the same treatment one by one, faster, on the raw text (no file system).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envdoctor.files import SourceError, read_text
from envdoctor.findings import Severity
from envdoctor.report import FORMATS, Report, renderer
from envdoctor.sources.dockerfile import parse_dockerfile
from robust_support import SARIF_SCHEMA, line_count, registry, robust, scan_all
from seeds import HASH_COMMENTS, SEEDS, mutated, repositories

GIT_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}


def _write(root: Path, files: dict[str, str], git: bool) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
    if git:
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "seed", "--allow-empty"]):
            subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=GIT_ENV)


# --- locations ------------------------------------------------------------------------------------------


def check_locations(root: Path, findings) -> None:
    counts: dict[str, int] = {}
    for finding in findings:
        path = finding.path
        assert path and not path.startswith("/") and "\\" not in path, finding
        parts = PurePosixPath(path).parts
        assert ".." not in parts, finding
        assert finding.line >= 1 and finding.column >= 1, finding
        if finding.end_line is not None:
            assert finding.end_line >= finding.line, finding
        if path == ".":
            assert finding.line == 1, finding
            continue
        full = root / path
        assert os.path.lexists(full), finding  # it names something that is there
        assert root.resolve() in full.resolve().parents or full.is_symlink(), finding
        if full.is_file() and not full.is_symlink():
            if path not in counts:
                counts[path] = line_count(full)
            assert finding.line <= counts[path], (finding, counts[path])
            if finding.end_line is not None:
                assert finding.end_line <= counts[path], (finding, counts[path])


# --- output formats -------------------------------------------------------------------------------------


_VALIDATOR = None


def sarif_validator():
    global _VALIDATOR
    if _VALIDATOR is None:
        if not SARIF_SCHEMA.is_file():
            return None
        import jsonschema

        schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
        cls = jsonschema.validators.validator_for(schema)
        _VALIDATOR = cls(schema)
    return _VALIDATOR


def render_all(result, color: bool = False) -> dict[str, str]:
    out = {}
    for name in FORMATS:
        report = Report(findings=result.findings, rules=result.rules, registry=registry(),
                        files_read=result.files_read, fail_on=Severity.WARNING, color=color and name == "text",
                        notes=result.notes, errors=result.internal_errors,
                        source_lines=result.source_lines or (lambda _path: None))
        stream = io.StringIO()
        renderer(name)(report, stream)
        out[name] = stream.getvalue()
    return out


def check_formats(result) -> None:
    outputs = render_all(result)
    for name in ("json", "sarif", "gitlab"):
        if name in outputs:
            json.loads(outputs[name])
            assert outputs[name].isascii(), name
    if "junit" in outputs:
        ET.fromstring(outputs["junit"].split("\n", 1)[1])
    if "sarif" in outputs:
        validator = sarif_validator()
        if validator is not None:
            errors = sorted(validator.iter_errors(json.loads(outputs["sarif"])), key=str)
            assert not errors, errors[0]
    for name in ("text", "concise", "github"):
        if name in outputs:
            # plain output: no control character but the line ends (terminal safety, test_terminal_safety.py)
            assert not [c for c in outputs[name] if (ord(c) < 32 and c != "\n") or 0x7f <= ord(c) <= 0x9f], name


# --- the whole-scan properties --------------------------------------------------------------------------


@robust(150)
@given(files=repositories(), git=st.booleans())
def test_scans_of_mutated_repositories(files, git):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        _write(root, files, git)
        result = scan_all(root)
        assert result.internal_errors == []
        check_locations(root, result.findings)
        check_formats(result)


def test_the_sarif_schema_is_used_where_it_exists():
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"the SARIF schema is not at {SARIF_SCHEMA} (../shared/schemas beside the repository)")
    validator = sarif_validator()
    assert validator is not None
    assert list(validator.iter_errors({"version": "2.1.0", "runs": "not a list"}))  # the validation is real


# --- suppressions ---------------------------------------------------------------------------------------

_META = ("ED002", "ED003")  # findings about suppression comments themselves


def _suppressible(root: Path, finding) -> bool:
    if finding.code in _META or finding.path == "." or finding.path.startswith(".venv/"):
        return False
    name = PurePosixPath(finding.path).name
    if not (name.endswith(HASH_COMMENTS) or name in HASH_COMMENTS):
        return False
    path = root / finding.path
    if not path.is_file() or path.is_symlink():
        return False
    try:
        read_text(path)  # a file that cannot be read has no comments to honour
    except SourceError:
        return False
    return True


def suppress(text: str, rel: str, line: int, code: str) -> tuple[str, int] | None:
    """The text with a suppression of `code` for `line`, and where that line now is; None when there is no
    place to write one (a blank line, or a line that already holds a suppression comment)."""
    lines = text.split("\n")
    if line > len(lines):
        return None
    target = lines[line - 1].rstrip("\r")
    if not target.strip() or "envdoctor" in target.lower():
        return None
    if target.lstrip().startswith("#"):  # a comment line: an own-line comment would cover the next line
        ending = "\r" if lines[line - 1].endswith("\r") else ""
        lines[line - 1] = f"{target} # envdoctor: ignore[{code}]{ending}"
        return "\n".join(lines), line
    above = line
    if PurePosixPath(rel).name.lower().startswith(("dockerfile", "containerfile")) or rel.endswith("Dockerfile"):
        for instruction in parse_dockerfile(text).instructions:
            if instruction.start_line <= line <= instruction.end_line:
                above = instruction.start_line  # above the whole multi-line instruction
                break
        indent = ""
    else:
        indent = target[: len(target) - len(target.lstrip())]
    lines.insert(above - 1, f"{indent}# envdoctor: ignore[{code}]")
    return "\n".join(lines), line + 1


@robust(80)
@given(files=repositories(), git=st.booleans(), which=st.randoms(use_true_random=False))
def test_a_suppression_comment_always_suppresses(files, git, which):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        _write(root, files, git)
        findings = [f for f in scan_all(root).findings if _suppressible(root, f)]
        for finding in which.sample(findings, min(3, len(findings))):
            path = root / finding.path
            original = path.read_bytes()
            edited = suppress(original.decode("utf-8"), finding.path, finding.line, finding.code)
            if edited is None:
                continue
            text, moved_to = edited
            path.write_bytes(text.encode("utf-8"))
            try:
                after = scan_all(root)
                assert after.internal_errors == []
                left = [f for f in after.findings
                        if (f.code, f.path, f.line) == (finding.code, finding.path, moved_to)]
                assert not left, (finding, text.split("\n")[max(moved_to - 3, 0):moved_to + 1])
            finally:
                path.write_bytes(original)


def test_suppress_goes_above_a_multi_line_instruction():
    text = "FROM python:3.12\nRUN pip install \\\n    flask\n"
    edited, moved = suppress(text, "Dockerfile", 3, "ED107")
    assert edited.split("\n")[1] == "# envdoctor: ignore[ED107]" and moved == 4


def test_a_suppressed_finding_in_a_continuation_is_gone(tmp_path):
    # The property's own must-flag / must-not-flag pair, on a finding inside a multi-line instruction.
    (tmp_path / "Dockerfile").write_text("FROM python:3.12@sha256:" + "a" * 64 + "\nRUN apt-get update && \\\n"
                                         "    pip install flask\n", encoding="utf-8")
    before = [f for f in scan_all(tmp_path).findings if f.path == "Dockerfile" and f.line == 3]
    assert before
    text, moved = suppress((tmp_path / "Dockerfile").read_text(), "Dockerfile", 3, before[0].code)
    (tmp_path / "Dockerfile").write_text(text, encoding="utf-8")
    after = scan_all(tmp_path).findings
    assert not [f for f in after if (f.code, f.line) == (before[0].code, moved)]


# --- parsers one by one ---------------------------------------------------------------------------------


def _parsers():
    from envdoctor.sources.conda import parse_conda_environment
    from envdoctor.sources.dockerignore import parse_dockerignore
    from envdoctor.sources.lockfiles import parse_lockfile, parse_pipfile
    from envdoctor.sources.pyproject import parse_pyproject
    from envdoctor.sources.requirements import parse_requirements
    from envdoctor.sources.python_version_file import parse_python_version_file
    from envdoctor.sources.scripts import parse_justfile, parse_makefile, parse_markdown, parse_shell_script
    from envdoctor.sources.tox import parse_tox_ini
    from envdoctor.sources.venv import parse_pyvenv_cfg
    from envdoctor.sources.workflows import parse_noxfile, parse_tox_sessions, parse_workflow

    return {
        ".venv/pyvenv.cfg": parse_pyvenv_cfg,
        ".python-version": parse_python_version_file,
        "tox.ini": parse_tox_ini,
        "tox.ini (sessions)": parse_tox_sessions,
        "noxfile.py": parse_noxfile,
        "build.sh": parse_shell_script,
        "Makefile": parse_makefile,
        "justfile": parse_justfile,
        "README.md": parse_markdown,
        "Pipfile": parse_pipfile,
        "Dockerfile": lambda text, rel: parse_dockerfile(text),
        "pyproject.toml": parse_pyproject,
        "requirements.txt": parse_requirements,
        "requirements.lock.txt": parse_requirements,
        ".dockerignore": lambda text, rel: parse_dockerignore(text),
        ".github/workflows/ci.yml": parse_workflow,
        ".gitlab-ci.yml": parse_workflow,
        "environment.yml": parse_conda_environment,
        "uv.lock": parse_lockfile,
        "poetry.lock": parse_lockfile,
        "pdm.lock": parse_lockfile,
        "Pipfile.lock": parse_lockfile,
        "pylock.toml": parse_lockfile,
    }


_PARSED = sorted(_parsers())
_SCRIPT_SEEDS = {
    "noxfile.py": 'import nox\n\n@nox.session(python=["3.11", "3.12"])\ndef tests(session):\n'
                  '    session.install("-r", "requirements.txt")\n    session.run("pytest")\n',
    "build.sh": "#!/bin/sh\nset -e\npip install --user -r requirements.txt\nsudo pip install x && uv sync\n",
    "Makefile": "install:\n\tpip install -e .\n\t@$(PYTHON) -m pip install \\\n\t  flask\n",
    "justfile": "install:\n    uv sync\n    pip install --break-system-packages x\n",
    "README.md": "# App\n\n```sh\npip install app\nsudo pip install x\n```\n\n    pip install indented\n",
}


@robust(300)
@given(data=st.data(), name=st.sampled_from(_PARSED))
def test_each_parser_returns_a_view_or_a_source_error(data, name):
    seed = SEEDS.get(name.split(" ")[0]) or _SCRIPT_SEEDS.get(name, "")
    text = data.draw(mutated(seed) | st.text(max_size=200))
    try:
        view = _parsers()[name](text, name)
    except SourceError as exc:
        assert "\n" not in str(exc)  # one line: it becomes an ED001 message
        line, column = getattr(exc, "position", (1, 1))
        assert 1 <= line <= text.count("\n") + 1 and column >= 1
        return
    assert view is not None
    if name == "Dockerfile":
        n = len(text.split("\n"))
        for instruction in view.instructions:
            assert 1 <= instruction.start_line <= instruction.end_line <= n


# --- regressions found by the parser properties ---------------------------------------------------------


def test_yaml_lines_are_counted_at_newlines_only():
    # PyYAML also breaks lines at a lone \r, NEL, U+2028 and U+2029: positions were one line further down
    # per such character than the line an editor (and every other reader of envdoctor) shows.
    from envdoctor.sources.conda import parse_conda_environment
    from envdoctor.sources.workflows import parse_workflow

    for odd in ("\r", "\x85", "\u2028", "\u2029"):
        view = parse_conda_environment(f"name: x # a{odd}b\nchannels: [conda-forge]\n", "environment.yml")
        assert view.channels_line == 2, repr(odd)
        with pytest.raises(SourceError) as caught:
            parse_workflow(f"name: ci{odd}{odd}\non: [p{odd}", ".github/workflows/ci.yml")
        assert caught.value.position[0] == 2, (repr(odd), caught.value.position)
