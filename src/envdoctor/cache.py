"""The result cache: a `check` run again on inputs that have not changed replays its last output.

A linter that lives in pre-commit and editors is run again and again on the same tree; most of such a run
is Python starting up and importing. So the console script (envdoctor/entry.py) first asks this module,
importing nothing heavier than `marshal`, whether the same command already ran on the same inputs, and if
so writes the recorded output and exits with the recorded code. Otherwise the scan runs as usual while
this module records every path it looked at, and afterwards stores the output with a signature of those
paths.

What makes a hit, all of it compared exactly:
- the key: envdoctor's version, the interpreter and its `sys.path`, the working folder, the arguments,
  the environment variables envdoctor, git or the report read (ENV_NAMES), today's date (ED310 judges
  end-of-life dates), and how stdout encodes;
- the signature: for every path the scan opened, listed or stat-ed (recorded by an audit hook for
  opens and listings, and by wrapping `os.stat`, `os.lstat` and `os.readlink` for the length of the
  scan), its type, inode, size, mtime and ctime, or that it was missing. A listed folder's mtime changes
  when an entry is added, removed or renamed in it, so a new file in a scanned folder is a miss. Git's
  state is read by git processes, whose reads nobody records: the files it depends on (the index,
  HEAD and refs, info/exclude, its config and global excludes) are added by `_git_inputs`. So are the
  modules the run imported (an upgrade or an edited rule is a miss).

What is never cached: anything but `check`; `--fix`, `--diff`, `--output`, `--python` (the probe runs
an interpreter whose state is not a file), `--digest-map`, `--debug`, `--color always`/FORCE_COLOR;
output to a terminal (its width and colours); a run that wrote to stderr or exited 2; a run any of whose
inputs changed while it ran or in the two seconds before it ended (a file rewritten within one timestamp
tick, two seconds on some file systems, would look unchanged: git's "racy clean" problem).
`--no-cache` or ENVDOCTOR_NO_CACHE=1 turns it off.

Where: $ENVDOCTOR_CACHE_DIR, else $XDG_CACHE_HOME/envdoctor, else ~/.cache/envdoctor (%LOCALAPPDATA% on
Windows): one small file per command, folder and environment, at most MAX_ENTRIES of them. Nothing is
written into the scanned repository. The files are `marshal` data, like `__pycache__`, in a folder only
the user can write; an entry that is unreadable, or owned by another user, is a miss. See docs/cache.md.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys
import time
import zlib

FORMAT = 1  # bump when the cached data changes shape
MAX_ENTRIES = 256
RACY_NS = 2_000_000_000  # inputs changed this close to the end of a run are not trusted (see above)

# Arguments after which `check` is not cached (with `--name=value` forms), and short options holding them.
UNCACHED_OPTIONS = frozenset({
    "--fix", "--diff", "--unsafe-fixes", "--output", "-o", "--python", "--digest-map", "--debug",
    "--help", "-h", "--version", "--no-cache",
})
UNCACHED_SHORT = "oh"
# Environment variables that change what a run reads or prints (all ENVDOCTOR_* and GIT_* too).
ENV_NAMES = frozenset({
    "NO_COLOR", "FORCE_COLOR", "TERM", "COLORTERM", "COLUMNS", "LINES", "HOME", "USERPROFILE",
    "XDG_CONFIG_HOME", "PATH", "VIRTUAL_ENV", "CONDA_PREFIX", "LANG", "LC_ALL", "LC_CTYPE",
    "PYTHONIOENCODING", "PYTHONUTF8",
})


# Variables of the cache itself: where it is, and whether it explains itself, change no run's output.
NOT_KEYS = frozenset({"ENVDOCTOR_CACHE_DIR", "ENVDOCTOR_CACHE_TRACE"})


def cache_dir() -> str:
    explicit = os.environ.get("ENVDOCTOR_CACHE_DIR")
    if explicit:
        return explicit
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~")
        return os.path.join(base, "envdoctor", "cache")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "envdoctor")


def cacheable(argv: list[str]) -> bool:
    """Whether this command line may be answered from the cache (see the module docstring)."""
    if not argv or argv[0] != "check" or os.environ.get("ENVDOCTOR_NO_CACHE") or os.environ.get("FORCE_COLOR"):
        return False
    for index, arg in enumerate(argv[1:], 1):
        if arg == "--":
            break
        name = arg.split("=", 1)[0]
        if name in UNCACHED_OPTIONS:
            return False
        if arg.startswith("-") and not arg.startswith("--") and any(c in UNCACHED_SHORT for c in arg[1:]):
            return False
        if name == "--color" and (arg == "--color=always" or argv[index + 1:index + 2] == ["always"]):
            return False
    try:
        return not os.isatty(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):
        return False  # no real stdout: nothing to replay into


def _key(argv: list[str]) -> tuple:
    from envdoctor import __version__

    env = tuple(sorted((name, value) for name, value in os.environ.items()
                       if (name in ENV_NAMES or name.startswith(("ENVDOCTOR_", "GIT_"))) and name not in NOT_KEYS))
    stream = (getattr(sys.stdout, "encoding", None), getattr(sys.stdout, "errors", None))
    return (FORMAT, __version__, sys.version, sys.executable, tuple(sys.path), os.getcwd(), tuple(argv), env,
            time.strftime("%Y-%m-%d"), stream)


def _entry_path(key: tuple) -> str:
    # A checksum only names the file: the whole key is stored in it and compared on every read. (Of the
    # key's repr: marshal's bytes for equal values may differ with reference counts.)
    return os.path.join(cache_dir(), f"{zlib.crc32(repr(key).encode('utf-8', 'surrogatepass')):08x}.bin")


def signature(path: str, listed: bool) -> tuple | None:
    """What must not change about a path: type, inode, size, mtime and ctime (and its target's, for a
    link); for a folder that was not listed, only type and inode (it was looked at to resolve a path or
    see that it exists: new entries in it do not matter). None when it does not exist; the error number
    when it cannot be looked at."""
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return ("error", exc.errno)
    sig = _stat_signature(info, listed)
    if stat.S_ISLNK(info.st_mode):
        try:
            sig += (_stat_signature(os.stat(path), listed),)
        except (FileNotFoundError, NotADirectoryError):
            sig += (None,)
        except OSError as exc:
            sig += (("error", exc.errno),)
    return sig


def _stat_signature(info: os.stat_result, listed: bool) -> tuple:
    if stat.S_ISDIR(info.st_mode) and not listed:
        return (info.st_mode, info.st_ino, info.st_dev)
    return (info.st_mode, info.st_ino, info.st_dev, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _recent(sig: tuple | None, since: int) -> bool:
    """Whether a signature records a change at or after `since` (ns)."""
    if not sig or sig[0] == "error":
        return False
    if len(sig) >= 6 and max(sig[4], sig[5]) >= since:
        return True
    return len(sig) in (4, 7) and _recent(sig[-1], since)


def replay(argv: list[str]) -> tuple[int | None, str]:
    """On a hit, write the recorded output to stdout and return (the recorded exit code, "hit");
    else (None, why not)."""
    key = _key(argv)
    try:
        with open(_entry_path(key), "rb") as handle:
            if hasattr(os, "getuid") and os.fstat(handle.fileno()).st_uid != os.getuid():
                return None, "entry owned by another user"  # never read data someone else wrote
            stored_key, inputs, output, code = marshal.load(handle)
        if stored_key != key or not isinstance(output, str) or code not in (0, 1):
            return None, "no entry for this command"
        for path, listed, sig in inputs:
            if signature(path, listed) != sig:
                return None, f"{path} changed"
    except FileNotFoundError:
        return None, "no entry for this command"
    except Exception:  # an entry that is not what this module wrote (truncated, foreign): a miss
        return None, "unreadable entry"
    try:
        sys.stdout.write(output)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the recorded exit code still stands
        from envdoctor.entry import stdout_closed

        stdout_closed()
    return code, "hit"


# --- recording a run ---------------------------------------------------------------------------------

class _Recorder:
    def __init__(self) -> None:
        self.paths: set[str] = set()  # everything opened, listed or stat-ed
        self.listed: set[str] = set()  # folders listed (git reads the .gitignore in each)
        self.root: str | None = None  # the scanned root, for git's inputs
        self.active = False
        self.started = 0


def recorded() -> tuple[set[str], set[str]]:
    """(paths looked at, folders listed) so far by a recorded run in this process; empty sets when none
    is being recorded. A forked worker (parallel.py) sends these back to the process that records."""
    if not _RECORDER.active:
        return set(), set()
    return set(_RECORDER.paths), set(_RECORDER.listed)


def add_recorded(paths: set[str], listed: set[str]) -> None:
    """Paths another process of the same run looked at (see `recorded`)."""
    if _RECORDER.active:
        _RECORDER.paths.update(paths)
        _RECORDER.listed.update(listed)


def note_root(root: object) -> None:
    """The scan's root (cli.py says it once found): git's inputs are looked up from there."""
    if _RECORDER.active:
        _RECORDER.root = os.path.abspath(os.fspath(root))  # type: ignore[arg-type]


_RECORDER = _Recorder()
_HOOKED = False


def _note(path: object, listed: bool = False) -> None:
    """Record a path (str or path-like; a file descriptor or bytes is not a path we can sign)."""
    if not isinstance(path, (str, os.PathLike)):
        return
    try:
        path = os.path.abspath(os.fspath(path))
    except (TypeError, ValueError):
        return
    _RECORDER.paths.add(path)
    if listed:
        _RECORDER.listed.add(path)


def _audit(event: str, args: tuple) -> None:
    if not _RECORDER.active:
        return
    if event == "open":
        _note(args[0] if args else None)
    elif event in ("os.scandir", "os.listdir"):
        _note(args[0] if args and args[0] is not None else ".", listed=True)


def _noting(function):
    def wrapper(path, *args, **kwargs):
        if _RECORDER.active:
            _note(path)
        return function(path, *args, **kwargs)

    wrapper.__wrapped__ = function  # type: ignore[attr-defined]
    return wrapper


class _Tee:
    """Stands for sys.stdout (or stderr) during a recorded run: every write also goes into `parts`."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self.parts: list[str] = []
        self.bypassed = False  # its binary buffer was asked for: what goes there cannot be recorded
        self.broken = False  # its reader went away (`| head`): what was recorded may be more than was read

    def write(self, text: str) -> int:
        self.parts.append(text)
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self.broken = True
            raise

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self.broken = True
            raise

    def __getattr__(self, name: str):
        if name == "buffer":
            self.bypassed = True
        return getattr(self._stream, name)


class Recording:
    """Records the paths a scan looks at and what it prints; `save` stores it when that is safe."""

    def __init__(self, argv: list[str]) -> None:
        self.key = _key(argv)

    def __enter__(self) -> Recording:
        global _HOOKED
        if not _HOOKED:
            sys.addaudithook(_audit)  # lives as long as the process; inert unless recording
            _HOOKED = True
        # Python 3.10's pathlib calls os.stat through a class bound at import: wrap it there too.
        import pathlib

        holders = [os, getattr(pathlib, "_NormalAccessor", None)]
        self._saved = [(holder, name, getattr(holder, name)) for holder in holders if holder is not None
                       for name in ("stat", "lstat", "readlink") if hasattr(holder, name)]
        for holder, name, original in self._saved:
            setattr(holder, name, _noting(original))
        self.stdout, self.stderr = _Tee(sys.stdout), _Tee(sys.stderr)
        self._streams = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self.stdout, self.stderr  # type: ignore[assignment]
        _RECORDER.paths, _RECORDER.listed, _RECORDER.root = set(), set(), None
        _RECORDER.started = time.time_ns()
        _RECORDER.active = True
        return self

    def __exit__(self, *exc_info) -> None:
        _RECORDER.active = False
        for holder, name, original in self._saved:
            setattr(holder, name, original)
        sys.stdout, sys.stderr = self._streams

    def save(self, code: object) -> str | None:
        """Store the run; the reason when it was not stored (for ENVDOCTOR_CACHE_TRACE)."""
        if code not in (0, 1):
            return f"exit code {code}"
        if self.stderr.parts or self.stderr.bypassed:
            return "the run wrote to stderr"
        if self.stdout.bypassed:
            return "the run wrote bytes to stdout"
        if self.stdout.broken:
            return "the reader of stdout went away"
        if _RECORDER.root is None:
            return "no scan ran"
        git_files, git_folders = _git_inputs(_RECORDER.root)
        paths = _RECORDER.paths | _module_files() | git_files | git_folders
        listed_folders = _RECORDER.listed | git_folders
        paths.update(os.path.join(folder, ".gitignore") for folder in _RECORDER.listed)
        folder = os.path.abspath(cache_dir())
        # Changed during the run, or so shortly before its end that a later change could keep the same
        # timestamp: not trusted.
        newest = min(_RECORDER.started, time.time_ns() - RACY_NS)
        inputs = []
        for path in sorted(paths):
            if path == folder or path.startswith(folder + os.sep):
                continue
            listed = path in listed_folders
            sig = signature(path, listed)
            if _recent(sig, newest):
                return f"{path} changed during the run or less than {RACY_NS // 10**9} s before its end"
            inputs.append((path, listed, sig))
        data = marshal.dumps((self.key, tuple(inputs), "".join(self.stdout.parts), code))
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            target = _entry_path(self.key)
            temporary = f"{target}.{os.getpid()}.tmp"
            with open(temporary, "wb") as handle:
                handle.write(data)
            os.replace(temporary, target)
            _prune(folder)
        except OSError as exc:
            return f"cannot write the cache: {exc.strerror or exc}"
        return None


def _module_files() -> set[str]:
    """The files of every module loaded: a new envdoctor, plugin or library version is a miss."""
    out = set()
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str):
            out.add(os.path.abspath(path))
    return out


def _git_inputs(start: str) -> tuple[set[str], set[str]]:
    """The files git's answers depend on (git runs in its own process, so its reads are not recorded):
    the repository's index, HEAD, refs, config and info/exclude, the .gitignore files above the root,
    and the global config and excludes; and the folders whose listing matters (git replaces the index
    and refs by renaming files into them)."""
    files: set[str] = set()
    folders: set[str] = set()
    folder = os.path.abspath(start)
    dotgit: str | None = None
    while True:
        candidate = os.path.join(folder, ".git")
        files.update((candidate, os.path.join(folder, ".gitignore")))
        if os.path.lexists(candidate):
            dotgit = candidate
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    if dotgit is not None:
        gitdir = dotgit
        if os.path.isfile(dotgit):  # a worktree or submodule: "gitdir: <path>"
            line = _first_line(dotgit)
            if line.startswith("gitdir:"):
                gitdir = os.path.normpath(os.path.join(folder, line[7:].strip()))
        bases = [gitdir]
        common = _first_line(os.path.join(gitdir, "commondir"))
        if common:
            bases.append(os.path.normpath(os.path.join(gitdir, common)))
        for base in bases:
            folders.update((base, os.path.join(base, "info")))
            files.update(os.path.join(base, name) for name in (
                "index", "HEAD", "config", "packed-refs", os.path.join("info", "exclude")))
            head = _first_line(os.path.join(base, "HEAD"))
            if head.startswith("ref:"):
                ref = os.path.join(base, *head[4:].strip().split("/"))
                files.add(ref)
                folders.add(os.path.dirname(ref))
    home = os.path.expanduser("~")
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    configs = [os.path.join(home, ".gitconfig"), os.path.join(config_home, "git", "config")]
    files.update(configs)
    files.add(os.path.join(config_home, "git", "ignore"))
    for config in configs:  # a configured core.excludesFile
        try:
            with open(config, encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    name, _, value = line.partition("=")
                    if name.strip().lower() == "excludesfile" and value.strip():
                        files.add(os.path.abspath(os.path.expanduser(value.strip().strip('"'))))
        except OSError:
            pass
    return files, folders


def _first_line(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.readline().strip()
    except OSError:
        return ""


def _prune(folder: str) -> None:
    """Keep the newest MAX_ENTRIES entries."""
    try:
        entries = [e for e in os.scandir(folder) if e.name.endswith(".bin")]
        if len(entries) <= MAX_ENTRIES:
            return
        entries.sort(key=lambda e: e.stat().st_mtime_ns)
        for entry in entries[: len(entries) - MAX_ENTRIES]:
            os.unlink(entry.path)
    except OSError:
        pass
