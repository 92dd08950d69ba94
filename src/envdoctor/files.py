"""Reading files from the scanned repository safely, and knowing which files matter.

Every byte envdoctor reads from a repository goes through `read_text`: regular files only (never a FIFO or
a device), a size limit, and a clear one-line reason when the content is binary, not UTF-8, or UTF-16.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

# Larger files are reported (ED001) instead of read, so that memory stays bounded. Lockfiles of real
# monorepos reach a few MiB; 64 MiB leaves a wide margin. See docs/limits.md.
MAX_FILE_BYTES = 64 * 1024 * 1024


class SourceError(Exception):
    """A file that cannot be read or parsed; the message is one line and names no path (the finding does)."""


def read_text(path: Path, *, max_bytes: int | None = None) -> str:
    """The file's text, UTF-8 (a BOM is dropped), or SourceError saying why not."""
    return decode(read_bytes(path, max_bytes=max_bytes))


def read_bytes(path: Path, *, max_bytes: int | None = None) -> bytes:
    """The content of a regular file within the size limit, or SourceError saying why not."""
    if max_bytes is None:
        max_bytes = MAX_FILE_BYTES
    try:
        info = os.stat(path)
    except OSError as exc:
        raise SourceError(_os_reason(exc)) from None
    if stat.S_ISDIR(info.st_mode):
        raise SourceError("is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise SourceError("is not a regular file (a FIFO, socket or device); not read")
    if info.st_size > max_bytes:
        raise SourceError(f"is {info.st_size / 2**20:.0f} MiB, over the {max_bytes // 2**20} MiB limit; not read")
    try:
        # O_NONBLOCK: should the file be swapped for a FIFO after the stat, open() must not hang.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise SourceError(_os_reason(exc)) from None
    if len(data) > max_bytes:
        raise SourceError(f"is over the {max_bytes // 2**20} MiB limit; not read")
    return data


def read_head(path: Path, max_bytes: int) -> bytes:
    """At most the first `max_bytes` of a regular file (for headers such as a dist-info METADATA's), or
    SourceError; a longer file is not an error, the rest is simply not read."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise SourceError(_os_reason(exc)) from None
    if not stat.S_ISREG(info.st_mode):
        raise SourceError("is not a regular file; not read")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            return handle.read(max_bytes)
    except OSError as exc:
        raise SourceError(_os_reason(exc)) from None


def decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError("is UTF-16 encoded; the tools that read it expect UTF-8")
    if b"\x00" in data:
        raise SourceError("holds NUL bytes: binary content, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(f"is not valid UTF-8 (byte 0x{data[exc.start]:02x} on line {line})") from None


def split_lines(text: str) -> list[str]:
    """Physical lines as editors and BuildKit count them: split on \\n only, a trailing \\r dropped.

    (str.splitlines also splits on \\f, \\v, \\x1c and U+2028, which would shift every line number.)
    """
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "cannot be read: permission denied"
    if isinstance(exc, FileNotFoundError):
        if exc.filename is not None and os.path.islink(exc.filename):
            return "is a link to something that does not exist"
        return "does not exist"
    if exc.errno is not None and exc.errno == getattr(os, "ELOOP", -1):
        return "is a symbolic link loop"
    return f"cannot be read: {exc.strerror or exc}"


# --- which files matter -------------------------------------------------------------------------------

# Names a Dockerfile template or backup carries: such files are not built as they are.
# Templates and backups are not built as they are; source, data and document extensions mean the name
# only starts with "dockerfile." (a module dockerfile.py, a schema dockerfile.json).
_NOT_DOCKERFILE_SUFFIXES = (
    ".dockerignore", ".j2", ".jinja", ".jinja2", ".tmpl", ".tpl", ".template", ".in", ".erb", ".mustache",
    ".orig", ".bak", ".swp", ".rej", ".md", ".rst", ".txt", ".html", ".pdf", ".py", ".pyc", ".pyi", ".sh",
    ".bash", ".ps1", ".bat", ".go", ".rs", ".js", ".ts", ".java", ".rb", ".php", ".c", ".h", ".cpp", ".json",
    ".yml", ".yaml", ".toml", ".ini", ".cfg", ".xml", ".lock", ".log", ".png", ".svg", ".zip", ".gz",
)
_CONDA_EXPLICIT_RE = re.compile(r"^conda-[a-z0-9_-]+\.lock$|^(.*[-_.])?(spec-file|explicit)([-_.].*)?\.txt$")
_REQUIREMENTS_RE = re.compile(r"^(.*[-_.])?requirements([-_.].*)?\.(txt|in)$|^constraints([-_.].*)?\.txt$")


def is_dockerfile(name: str) -> bool:
    lower = name.lower()
    if lower.endswith(_NOT_DOCKERFILE_SUFFIXES):
        return False
    return (
        lower in ("dockerfile", "containerfile")
        or lower.startswith(("dockerfile.", "containerfile."))
        or lower.endswith((".dockerfile", ".containerfile"))
    )


def file_kind(name: str) -> str | None:
    """The kind of a file, from its name alone, or None for files envdoctor does not read."""
    if is_dockerfile(name):
        return "dockerfile"
    if name == ".dockerignore" or name.endswith(".dockerignore"):
        return "dockerignore"
    if name == "pyproject.toml":
        return "pyproject"
    if name in ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock", "Pipfile", "conda-lock.yml"):
        return "lockfile"
    if name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml")):
        return "lockfile"
    if name.endswith(".conda-lock.yml"):
        return "lockfile"
    if _REQUIREMENTS_RE.match(name.lower()):
        return "requirements"
    if name in ("environment.yml", "environment.yaml") or name.endswith(("-environment.yml", ".environment.yml")):
        return "conda"
    if _CONDA_EXPLICIT_RE.match(name.lower()):
        return "conda-explicit"  # conda-lock's per-platform explicit lock, `conda list --explicit` output
    if name in _WORKFLOW_NAMES:
        return "workflow"
    if name in (".python-version", "envdoctor.toml", ".envdoctor.toml", ".gitignore", "tox.ini", "noxfile.py",
                ".pre-commit-config.yaml", "uv.toml"):
        return name.lstrip(".")
    return _script_kind(name)


def _script_kind(name: str) -> str | None:
    """Files whose shell commands the environment rules read (ED412, ED413): shell scripts, Makefiles,
    justfiles and READMEs (docs/**/*.md too: see path_kind)."""
    if name.endswith((".sh", ".bash")):
        return "shell"
    if name in ("Makefile", "makefile", "GNUmakefile"):
        return "makefile"
    if name in ("justfile", "Justfile", ".justfile"):
        return "justfile"
    if name.lower().startswith("readme") and name.lower().endswith(".md"):
        return "markdown"
    return None


# CI workflow files known by their name alone (GitLab CI, Azure Pipelines); GitHub Actions workflows and
# CircleCI's config are known by their folder (see path_kind).
_WORKFLOW_NAMES = frozenset({".gitlab-ci.yml", ".gitlab-ci.yaml", "azure-pipelines.yml", "azure-pipelines.yaml",
                             ".azure-pipelines.yml", ".azure-pipelines.yaml"})


def path_kind(rel: str) -> str | None:
    """The kind of a file from its `/`-separated path relative to the root: `file_kind` of its name, except
    for the kinds its folder decides (`.github/workflows/*.yml`, `.circleci/config.yml`: "workflow";
    `.github/actions/**/action.yml` and a root `action.yml`: "action")."""
    folder, _, name = rel.rpartition("/")
    if name.endswith((".yml", ".yaml")):
        if folder == ".github/workflows" or folder.endswith("/.github/workflows"):
            return "workflow"
        if name in ("config.yml", "config.yaml") and (folder == ".circleci" or folder.endswith("/.circleci")):
            return "workflow"
        if name in ("action.yml", "action.yaml") and (not folder or "/.github/actions/" in f"/{folder}/"):
            return "action"  # a GitHub action's metadata: local (.github/actions/**) or the repository's own
    if name.endswith(".md") and "docs" in folder.split("/"):
        return "markdown"  # documentation pages, whose shell blocks ED412 reads
    if folder.rpartition("/")[2].lower() in REQUIREMENTS_FOLDERS and name.lower().endswith((".txt", ".in")):
        return "requirements"  # requirements/base.txt, requirements/dev.in: the folder says what they are
    return file_kind(name)


# Folders whose .txt/.in files are requirements files whatever their names (they belong to the project above).
REQUIREMENTS_FOLDERS = frozenset({"requirements", "requirements.d", "reqs"})


# Exact names whose appearance as a directory is a mistake worth reporting (ED001).
FILE_ONLY_NAMES = frozenset({"Dockerfile", "Containerfile", "pyproject.toml", "uv.lock", "poetry.lock",
                             "pdm.lock", "Pipfile", "Pipfile.lock", "requirements.txt"})
