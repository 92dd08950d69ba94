"""Git facts about the scanned tree, asked once per scan and safely.

Safety: a repository's own configuration can name commands that git runs (core.fsmonitor, filter drivers
run by `git status`, external diff and textconv drivers, hooks). envdoctor therefore only runs git
plumbing that never reads file content through such drivers (`ls-files`, `check-ignore`, `diff --cached
--name-only`, `rev-parse`), overrides every command-valued setting on the command line, and compares
working-tree content with the index itself (hashing blobs in Python) instead of asking `git status`.

Without git, outside a repository, or when git refuses the repository (dubious ownership), `GitFacts`
says `available = False` with the reason, and rules that need git say nothing.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from envdoctor.files import SourceError, read_bytes

# `-c` settings that neutralise every command a repository's config could make these git calls run.
SAFE_OPTIONS = (
    "-c", "core.fsmonitor=false",
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.pager=cat",
    "-c", "diff.external=",
    "-c", "core.untrackedCache=false",
    "-c", "protocol.allow=never",
)
TIMEOUT_SECONDS = 30


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({
        "GIT_OPTIONAL_LOCKS": "0",  # never write the index (no refresh)
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "LC_ALL": "C",
    })
    return env


class GitError(Exception):
    pass


def run_git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    git = shutil.which("git")
    if git is None:
        raise GitError("git is not installed")
    try:
        proc = subprocess.run([git, *SAFE_OPTIONS, "-C", str(root), *args], input=stdin, capture_output=True,
                              env=_environment(), timeout=TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git failed: {exc}") from None
    if proc.returncode not in (0, 1):  # check-ignore exits 1 for "nothing ignored"
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[0] if message else f"git exited {proc.returncode}")
    return proc.stdout


def blob_id(data: bytes) -> str:
    """The id git gives a blob of this content (SHA-1 repositories)."""
    import hashlib  # here, not at start-up: only a changed-file question hashes

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class GitFacts:
    root: Path
    available: bool = False
    reason: str | None = None
    index: dict[str, str] = field(default_factory=dict)  # tracked path (relative to root) -> blob id
    _ignore_cache: dict[str, bool] = field(default_factory=dict, repr=False)

    @classmethod
    def read(cls, root: Path) -> GitFacts:
        facts = cls(root)
        try:
            inside = run_git(root, "rev-parse", "--is-inside-work-tree").strip()
            if inside != b"true":
                facts.reason = "not inside a git work tree"
                return facts
            listing = run_git(root, "ls-files", "-s", "-z", "--", ".")
        except GitError as exc:
            facts.reason = str(exc)
            return facts
        for record in listing.split(b"\0"):
            if not record:
                continue
            meta, _, path = record.partition(b"\t")
            parts = meta.split()
            if len(parts) >= 2:
                facts.index[path.decode("utf-8", "surrogateescape")] = parts[1].decode()
        facts.available = True
        return facts

    def tracked(self, rel: str) -> bool:
        return rel in self.index

    def tracked_under(self, folder: str) -> list[str]:
        prefix = folder.rstrip("/") + "/"
        return [p for p in self.index if p.startswith(prefix)]

    def ignored(self, paths: list[str]) -> set[str]:
        """Which of these paths git ignores (.gitignore, .git/info/exclude, core.excludesFile); a tracked
        file is never ignored. Answers are cached; one `git check-ignore --stdin` process serves the scan."""
        if not self.available or not paths:
            return set()
        unknown = [p for p in dict.fromkeys(paths) if p not in self._ignore_cache]
        if unknown:
            self._ignore_cache.update(self._check_ignore(unknown))
        return {p for p in paths if self._ignore_cache.get(p)}

    def _check_ignore(self, paths: list[str]) -> dict[str, bool]:
        checker = self._checker
        if checker is not None:
            try:
                return {path: checker.ask(path) for path in paths}
            except GitError:
                self._checker = None  # a checker that failed once is not asked again
        try:  # without the long-lived process: one call for the batch
            out = run_git(self.root, "check-ignore", "-z", "--stdin", stdin="\0".join(paths).encode() + b"\0")
        except GitError:
            return {path: False for path in paths}
        listed = {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}
        return {path: path in listed for path in paths}

    @cached_property
    def _checker(self) -> _IgnoreChecker | None:
        try:
            return _IgnoreChecker(self.root)
        except GitError:
            return None

    def close(self) -> None:
        checker = self.__dict__.pop("_checker", None)
        if checker is not None:
            checker.close()

    def after_fork(self) -> None:
        """In a forked child (parallel.py): forget the parent's check-ignore process, whose pipes carry the
        parent's questions, so that this process starts its own when it asks. The parent's is untouched."""
        checker = self.__dict__.pop("_checker", None)
        if checker is not None:
            checker.abandon()

    @cached_property
    def staged(self) -> set[str]:
        """Paths whose staged content differs from HEAD (what a pre-commit run commits)."""
        if not self.available:
            return set()
        try:
            out = run_git(self.root, "diff", "--cached", "--name-only", "--no-ext-diff", "--no-textconv",
                          "--relative", "-z")
        except GitError:
            return set()
        return {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}

    def modified(self, rel: str) -> bool | None:
        """Whether the working-tree file differs from its index entry (None if untracked or unreadable).

        Hashes the bytes as they are, and once more with CRLF line ends turned into LF (what
        `core.autocrlf` / `text` attributes store), so a checkout with converted line ends is not "changed".
        With other filters configured, git may consider a file unchanged while this says changed, so callers
        treat True as "probably".
        """
        blob = self.index.get(rel)
        if blob is None:
            return None
        try:
            data = read_bytes(self.root / rel)
        except SourceError:
            return None
        if len(blob) != 40:  # SHA-256 repositories: not compared
            return None
        if blob_id(data) == blob:
            return False
        return not (b"\r\n" in data and blob_id(data.replace(b"\r\n", b"\n")) == blob)


class _IgnoreChecker:
    """A long-lived `git check-ignore --stdin -z -v -n`: one question, one answer, no process per path.

    With -v and -n git answers every path with four NUL-terminated fields (source, line, pattern, path),
    all but the path empty when nothing matched; a pattern starting with "!" re-includes the path.
    """

    def __init__(self, root: Path) -> None:
        git = shutil.which("git")
        if git is None:
            raise GitError("git is not installed")
        env = _environment()
        env["GIT_FLUSH"] = "1"  # answer each path at once, although stdout is a pipe
        try:
            self.process = subprocess.Popen(
                [git, *SAFE_OPTIONS, "-C", str(root), "check-ignore", "--stdin", "-z", "-v", "-n"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        except OSError as exc:
            raise GitError(f"git failed: {exc}") from None
        self.buffer = bytearray()

    def ask(self, path: str) -> bool:
        if "\0" in path or "\n" in path:
            raise GitError("path cannot be asked about")
        try:
            self.process.stdin.write(path.encode("utf-8", "surrogateescape") + b"\0")
            self.process.stdin.flush()
            source, _line, pattern, _path = (self._field() for _ in range(4))
        except (OSError, ValueError) as exc:
            self.close()
            raise GitError(f"git check-ignore failed: {exc}") from None
        return bool(source) and not pattern.startswith(b"!")

    def _field(self) -> bytes:
        while b"\0" not in self.buffer:
            ready, _, _ = select.select([self.process.stdout], [], [], TIMEOUT_SECONDS)
            chunk = os.read(self.process.stdout.fileno(), 65536) if ready else b""
            if not chunk:
                raise ValueError("no answer")
            self.buffer += chunk
        field_, _, rest = bytes(self.buffer).partition(b"\0")
        self.buffer = bytearray(rest)
        return field_

    def abandon(self) -> None:
        """Let go of this process's copies of the pipes without writing, signalling or waiting: after a
        fork, the git process and its conversation belong to the parent. Each copy is pointed at
        /dev/null (closing it later, or flushing a buffer left in it, reaches nothing)."""
        null = os.open(os.devnull, os.O_RDWR)
        try:
            for stream in (self.process.stdin, self.process.stdout):
                try:
                    os.dup2(null, stream.fileno())
                except (OSError, ValueError):
                    pass
        finally:
            os.close(null)
        self.buffer = bytearray()

    def close(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
