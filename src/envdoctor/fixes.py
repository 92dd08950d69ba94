"""Fixes: the edits a rule proposes for its finding, applied in place (`check --fix`) or shown as a
unified diff (`check --diff`).

A `Fix` is a title and one or more `Edit`s. An edit replaces a range of one file's ORIGINAL text (as the
scan read it) by new text; a pure insertion has an empty range. Positions are 1-based physical lines (split
on `\\n`, as `envdoctor.files.split_lines` counts them) and 1-based columns in code points, the end
exclusive, so that they are the same positions every reporter uses. An edit may name another file than the
finding's (ED109 edits `.dockerignore`) and may create a file that does not exist yet (its text is then
taken to be empty).

Everything else in a file is kept byte for byte: edits are applied to the bytes read, a UTF-8 byte-order
mark is kept, and the `\\n` in an edit's new text is written as the file's own line ending (a CRLF file
stays CRLF). Writes are atomic (a temporary file beside the target, then `os.replace`), never follow a
link (a link is left alone and reported), and never leave the scanned root.

Safety, as in ruff: a "safe" fix keeps what the file means (`--no-cache-dir`); an "unsafe" one may change
behaviour (reordering a Dockerfile's layers) and is applied only with `--unsafe-fixes`. A rule declares
`fix_safety = "safe" | "unsafe"`; one fix may be marked less safe than its rule's default, never more.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Iterable

from envdoctor.files import SourceError, read_bytes, split_lines

if TYPE_CHECKING:
    from envdoctor.config import Config
    from envdoctor.engine import ScanResult
    from envdoctor.findings import Finding
    from envdoctor.registry import Registry

SAFETIES = ("safe", "unsafe")
MAX_PASSES = 4  # `--fix` re-scans until no fix applies, at most this many times (ruff: 100; ours converge fast)
_BOM = b"\xef\xbb\xbf"


class FixError(Exception):
    """An edit that cannot be applied to the file as it is now (out of range, overlapping)."""


@dataclass(frozen=True, order=True)
class Edit:
    """Replace `path`'s text from (line, column) up to, not including, (end_line, end_column) by `text`."""

    path: str  # relative to the scanned root, `/`-separated
    line: int
    column: int
    end_line: int
    end_column: int
    text: str  # new text; "\n" stands for the file's own line ending

    @property
    def start(self) -> tuple[int, int]:
        return (self.line, self.column)

    @property
    def end(self) -> tuple[int, int]:
        return (self.end_line, self.end_column)

    @property
    def empty(self) -> bool:
        return self.start == self.end

    def overlaps(self, other: Edit) -> bool:
        """Two edits of one file that cannot both apply in one pass: their ranges intersect, or one
        inserts at the start of or inside the other's range. Insertions at one place do not overlap:
        they apply in the order given (appending two lines to a .gitignore)."""
        if self.path != other.path:
            return False
        if self.empty and other.empty:
            return False
        if self.empty or other.empty:
            point, span = (self, other) if self.empty else (other, self)
            return span.start <= point.start < span.end
        return self.start < other.end and other.start < self.end


def insert(path: str, line: int, column: int, text: str) -> Edit:
    return Edit(path, line, column, line, column, text)


def replace_range(path: str, line: int, column: int, end_line: int, end_column: int, text: str) -> Edit:
    return Edit(path, line, column, end_line, end_column, text)


@dataclass(frozen=True)
class Fix:
    title: str  # what it does, imperative, one line: "Add --no-cache-dir"
    edits: tuple[Edit, ...]
    safety: str | None = None  # None: the rule's `fix_safety`

    @property
    def paths(self) -> list[str]:
        return sorted({e.path for e in self.edits})


def fix(title: str, *edits: Edit, safety: str | None = None) -> Fix:
    return Fix(title, tuple(edits), safety)


def effective_safety(fix_safety: str | None, rule_safety: str | None) -> str:
    """The safety a finding's fix has: unsafe if either the fix or its rule says so; unknown counts as
    unsafe (a plugin rule that declares nothing)."""
    if "unsafe" in (fix_safety, rule_safety):
        return "unsafe"
    return "safe" if "safe" in (fix_safety, rule_safety) else "unsafe"


def applicable(finding: Finding, unsafe: bool) -> bool:
    return finding.fix is not None and (unsafe or finding.fix.safety == "safe")


# --- choosing the fixes of one pass ---------------------------------------------------------------------


@dataclass
class Plan:
    """The fixes of one pass: those that apply, and the findings they fix (identical fixes proposed by
    several findings, such as one .dockerignore edit for two COPY lines, fix them all)."""

    fixes: list[Fix] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)
    deferred: list[Finding] = field(default_factory=list)  # overlapping an earlier fix: for the next pass


def plan(findings: Iterable[Finding], unsafe: bool) -> Plan:
    """The findings' fixes in finding order, skipping any that overlaps one already taken (as ruff)."""
    result = Plan()
    taken: list[Edit] = []
    for finding in findings:
        if not applicable(finding, unsafe):
            continue
        assert finding.fix is not None
        if any(finding.fix.edits == f.edits for f in result.fixes):
            result.fixed.append(finding)
            continue
        if not finding.fix.edits or any(e.overlaps(t) for e in finding.fix.edits for t in taken):
            result.deferred.append(finding)
            continue
        taken.extend(finding.fix.edits)
        result.fixes.append(finding.fix)
        result.fixed.append(finding)
    return result


# --- applying edits to text -----------------------------------------------------------------------------


def newline_of(text: str) -> str:
    """The file's line ending: CRLF when most of its line breaks are CRLF, else LF."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf >= text.count("\n") - crlf else "\n"


def _offset(starts: list[int], lines: list[str], line: int, column: int) -> int:
    if not 1 <= line <= len(lines) or not 1 <= column <= len(lines[line - 1]) + 1:
        raise FixError(f"position {line}:{column} is outside the file")
    return starts[line - 1] + column - 1


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """`text` with the edits applied (positions refer to `text`); FixError if one is out of range or two
    overlap."""
    ordered = sorted(edits, key=lambda e: e.start)  # stable: insertions at one place keep their order
    for index, first in enumerate(ordered):
        for second in ordered[index + 1:]:
            if second.start >= first.end and not first.empty:
                break
            if first.overlaps(second):
                raise FixError(f"edits at {first.line}:{first.column} and {second.line}:{second.column} overlap")
    lines = split_lines(text)
    starts, offset = [], 0
    for raw in text.split("\n"):
        starts.append(offset)
        offset += len(raw) + 1
    newline = newline_of(text)
    out = text
    for edit in reversed(ordered):
        begin = _offset(starts, lines, edit.line, edit.column)
        end = _offset(starts, lines, edit.end_line, edit.end_column)
        if end < begin:
            raise FixError(f"edit at {edit.line}:{edit.column} ends before it starts")
        new = edit.text.replace("\r\n", "\n").replace("\n", newline)
        out = out[:begin] + new + out[end:]
    return out


# --- files ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileChange:
    path: str  # relative to the root
    before: str | None  # None: the file does not exist yet
    after: str
    bom: bool = False


def _target(root: Path, rel: str) -> Path:
    """The file `rel` names inside `root`, or FixError: no absolute path, no `..`, no link anywhere on the
    way (a link is never followed, nor replaced), and its folder must exist inside the root."""
    parts = PurePosixPath(rel).parts
    if not parts or rel.startswith("/") or ".." in parts or "." in parts or "\\" in rel:
        raise FixError(f"{rel}: not a path inside the project")
    path = root.joinpath(*parts)
    current = root
    for part in parts:
        current = current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            if current != path:
                raise FixError(f"{rel}: folder {current.parent.relative_to(root).as_posix()} does not exist") from None
            break
        except OSError as exc:
            raise FixError(f"{rel}: {exc.strerror or exc}") from None
        if stat.S_ISLNK(info.st_mode):
            raise FixError(f"{rel}: a symbolic link is on the way; envdoctor does not write through links")
        if current == path and not stat.S_ISREG(info.st_mode):
            raise FixError(f"{rel}: not a regular file")
    try:
        resolved_parent = path.parent.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise FixError(f"{rel}: its folder cannot be resolved ({exc})") from None
    if resolved_parent != root.resolve() and root.resolve() not in resolved_parent.parents:
        raise FixError(f"{rel}: outside the project root")
    return path


def read_for_fix(root: Path, rel: str) -> tuple[str | None, bool]:
    """(text, has BOM) of a file to edit; (None, False) when it does not exist yet."""
    path = _target(root, rel)
    if not os.path.lexists(path):
        return None, False
    try:
        data = read_bytes(path)
    except SourceError as exc:
        raise FixError(f"{rel}: {exc}") from None
    bom = data.startswith(_BOM)
    if bom:
        data = data[len(_BOM):]
    try:
        return data.decode("utf-8"), bom
    except UnicodeDecodeError:
        raise FixError(f"{rel}: not UTF-8") from None


def changes(root: Path, fixes: Iterable[Fix]) -> tuple[list[FileChange], dict[str, str]]:
    """The new text of every file the fixes edit, and why, per file, one cannot be edited (the fixes
    that touch it are then left out)."""
    by_path: dict[str, list[Edit]] = {}
    for item in fixes:
        for edit in item.edits:
            by_path.setdefault(edit.path, []).append(edit)
    out: list[FileChange] = []
    problems: dict[str, str] = {}
    for rel in sorted(by_path):
        try:
            before, bom = read_for_fix(root, rel)
            after = apply_edits(before or "", by_path[rel])
        except FixError as exc:
            problems[rel] = f"not fixed: {exc}"
            continue
        if after != (before or "") or before is None:
            out.append(FileChange(rel, before, after, bom))
    return out, problems


def write(root: Path, change: FileChange) -> None:
    """Replace the file atomically (same folder, same permission bits), or create it. A file the user may
    not write is refused, as an editor or ruff would refuse it (replacing it only needs the folder's
    permission). A file with other hard links, or owned by someone else (a root run in a container on a
    mounted checkout), is rewritten in place instead, so that its links and its owner stay."""
    path = _target(root, change.path)
    data = (_BOM if change.bom else b"") + change.after.encode("utf-8")
    mode = None
    if change.before is not None:
        info = os.stat(path)
        if not os.access(path, os.W_OK):
            raise FixError("read-only: its permissions do not allow writing it")
        if info.st_nlink > 1 or (hasattr(os, "geteuid") and info.st_uid != os.geteuid()):
            with open(path, "r+b") as stream:
                stream.write(data)
                stream.truncate()
            return
        mode = stat.S_IMODE(info.st_mode)
    import tempfile  # here, not at start-up: most runs fix nothing

    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".envdoctor-fix", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        if mode is not None:
            os.chmod(temporary, mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


# --- diffs ---------------------------------------------------------------------------------------------


def unified_diff(change: FileChange, prefix: str = "") -> str:
    """A unified diff `git apply` accepts: `a/` and `b/` prefixes, `/dev/null` for a new file, and the
    `\\ No newline at end of file` marker. The lines are the file's bytes: split at \\n only (as git does;
    str.splitlines also splits at \\f, U+2028 and others), a byte order mark kept on the first line.
    `prefix`: the project root's folder in the working tree, which the paths are shown from (cli.py)."""
    bom = "\ufeff" if change.bom else ""
    before = _diff_lines(bom + change.before) if change.before is not None else []
    after = _diff_lines(bom + change.after)
    shown = f"{prefix}/{change.path}" if prefix else change.path
    old = "/dev/null" if change.before is None else f"a/{shown}"
    out: list[str] = []
    import difflib

    for line in difflib.unified_diff(before, after, old, f"b/{shown}", lineterm="\n"):
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _diff_lines(text: str) -> list[str]:
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


# --- the --fix loop ------------------------------------------------------------------------------------


@dataclass
class FixOutcome:
    result: ScanResult  # the last scan: what remains
    fixed: int  # findings fixed, over every pass
    changed: list[str]  # files written (or, for a diff, that would be)
    notes: list[str] = field(default_factory=list)
    diff: str = ""


def fix_loop(root: Path, config: Config, registry: Registry, paths: list[Path] | None, *, unsafe: bool,
             debug: bool = False, max_passes: int = MAX_PASSES) -> FixOutcome:
    """Scan, apply the fixes that do not overlap, and scan again, until a pass applies nothing (or
    `max_passes` passes ran). The last scan's findings are what remains."""
    from envdoctor.engine import scan

    result = scan(root, config, registry, paths, debug=debug)
    fixed = 0
    changed: list[str] = []
    notes: list[str] = []
    for _ in range(max_passes):
        if result.internal_errors:
            break  # a rule crashed: its findings are incomplete, so nothing is fixed from them
        chosen = plan(result.findings, unsafe)
        if not chosen.fixes:
            break
        file_changes, problems = changes(root, chosen.fixes)
        notes.extend(p for p in problems.values() if p not in notes)
        broken = set(problems)
        written = 0
        for change in file_changes:
            try:
                write(root, change)
            except (OSError, FixError) as exc:
                note = f"not fixed: {change.path}: {getattr(exc, 'strerror', None) or exc}"
                if note not in notes:  # the same file fails again in a later pass
                    notes.append(note)
                broken.add(change.path)
                continue
            written += 1
            if change.path not in changed:
                changed.append(change.path)
        fixed += sum(1 for f in chosen.fixed if f.fix is not None and not broken & set(f.fix.paths))
        if not written:
            break
        result = scan(root, config, registry, paths, debug=debug)
    return FixOutcome(result, fixed, changed, notes)


def diff_pass(root: Path, result: ScanResult, *, unsafe: bool, prefix: str = "") -> FixOutcome:
    """What one `--fix` pass would change, as a unified diff (paths shown from `prefix`, see unified_diff);
    nothing is written."""
    chosen = plan(result.findings, unsafe)
    file_changes, problems = changes(root, chosen.fixes)
    fixed = sum(1 for f in chosen.fixed if f.fix is not None and not set(problems) & set(f.fix.paths))
    return FixOutcome(result, fixed, [c.path for c in file_changes], list(problems.values()),
                      "".join(unified_diff(c, prefix) for c in file_changes))


def with_safety(fix_value: Fix, rule_safety: str | None) -> Fix:
    return replace(fix_value, safety=effective_safety(fix_value.safety, rule_safety))


# --- the digest map (ED102) ----------------------------------------------------------------------------

_DIGEST_CHARS = frozenset("0123456789abcdef")


def load_digest_map(path: Path) -> dict[str, str]:
    """`--digest-map FILE`: image references and their digests, as JSON (`.json`) or else TOML, e.g.
    `"python:3.12-slim" = "sha256:<64 hex digits>"`. envdoctor never asks a registry: the user supplies
    what `docker buildx imagetools inspect` (or Renovate) found. ConfigError when it cannot be used."""
    import json

    from envdoctor.config import ConfigError, load_toml

    try:
        if path.suffix.lower() == ".json":
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        else:
            data = load_toml(path)
    except OSError as exc:
        raise ConfigError(f"cannot read digest map {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ConfigError(f"digest map {path} is not valid {'JSON' if path.suffix.lower() == '.json' else 'TOML'}: "
                          f"{exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"digest map {path} must map image references to digests")
    out: dict[str, str] = {}
    for image, digest in data.items():
        value = digest.strip().lower() if isinstance(digest, str) else ""
        algorithm, _, hexdigits = value.partition(":")
        if algorithm != "sha256" or len(hexdigits) != 64 or not set(hexdigits) <= _DIGEST_CHARS:
            raise ConfigError(f"digest map {path}: '{image}' must map to 'sha256:' and 64 hex digits")
        if not image.strip() or "@" in image or any(c.isspace() for c in image.strip()):
            raise ConfigError(f"digest map {path}: '{image}' is not an image reference with a tag")
        out[image.strip()] = value
    return out
