"""The one harness every fix test goes through (tests/rules/test_fix_*.py).

`assert_fix` writes a repository, commits it, and checks, for one rule's fix:
- the finding is there before, and marked fixable only with the flags that apply it;
- an unsafe fix is not applied without `--unsafe-fixes` (the file stays byte for byte);
- `--diff` prints exactly the unified diff of the change and writes nothing;
- `--fix` turns the file into exactly the expected bytes;
- a re-run has no finding of that rule and no finding that was not there before;
- a second `--fix` changes nothing;
- the same holds for the file written with CRLF line endings (CRLF stays CRLF).
"""

from __future__ import annotations

import difflib
from collections import Counter
from pathlib import Path

from conftest import Repo

DIGEST = "sha256:" + "3" * 64  # an invented digest, for base images that other rules would flag otherwise


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def expected_diff(path: str, before: str | None, after: str) -> str:
    old = (before or "").splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    lines = []
    for line in difflib.unified_diff(old, new, "/dev/null" if before is None else f"a/{path}", f"b/{path}"):
        lines.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(lines)


def _codes(repo: Repo, args: tuple[str, ...]) -> Counter:
    return Counter(repo.codes(*args))


def _bytes(repo: Repo, rel: str) -> bytes | None:
    path = repo.root / rel
    return path.read_bytes() if path.exists() else None


def assert_fix(tmp_path: Path, files: dict[str, str], code: str, changed: dict[str, str], *, unsafe: bool = False,
               args: tuple[str, ...] = (), crlf: bool = True, name: str = "repo",
               untracked: dict[str, str] | None = None) -> Repo:
    """`changed` maps each file the fix edits (or creates) to its exact text after the fix; `untracked`
    files are written after the commit."""
    repo = _run(tmp_path / name, files, code, changed, unsafe, args, untracked or {})
    if crlf:  # every file CRLF; a file the fix creates is LF, as envdoctor writes new files
        _run(tmp_path / f"{name}-crlf", {k: _crlf(v) for k, v in files.items()}, code,
             {k: _crlf(v) if k in files else v for k, v in changed.items()}, unsafe, args, untracked or {})
    return repo


def _run(root: Path, files: dict[str, str], code: str, changed: dict[str, str], unsafe: bool,
         args: tuple[str, ...], untracked: dict[str, str]) -> Repo:
    root.mkdir(parents=True)
    repo = Repo(root)
    for rel, text in files.items():
        repo.write(rel, text.encode("utf-8"))
    repo.init_git()
    for rel, text in untracked.items():
        repo.write(rel, text)
    before = _codes(repo, args)
    assert before[code], f"{code} not reported: {before}"
    originals = {rel: _bytes(repo, rel) for rel in changed}

    flags = ("--unsafe-fixes",) if unsafe else ()
    text = repo.check(*args).stdout
    marked = [line for line in text.splitlines() if f" {code} [*] " in line]
    assert bool(marked) != unsafe, f"fixable marker for {code} ({'unsafe' if unsafe else 'safe'}):\n{text}"
    if unsafe:
        assert "--fix --unsafe-fixes" in text or "more with --unsafe-fixes" in text
        result = repo.check("--fix", *args)
        assert {rel: _bytes(repo, rel) for rel in changed} == originals, "an unsafe fix applied without the flag"

    diff = repo.check("--diff", *flags, *args)
    assert diff.exit_code == 1, diff.output
    expected = "".join(expected_diff(rel, None if originals[rel] is None else originals[rel].decode("utf-8"),
                                     changed[rel]) for rel in sorted(changed))
    # (click's test runner reads stdout with CRLF turned into LF; test_fixes.py checks a CRLF diff's bytes)
    assert diff.stdout == expected.replace("\r\n", "\n")
    assert {rel: _bytes(repo, rel) for rel in changed} == originals, "--diff wrote a file"

    result = repo.check("--fix", *flags, *args)
    assert result.exit_code in (0, 1), result.output
    assert "Fixed " in result.stdout, result.stdout
    for rel, text in changed.items():
        assert _bytes(repo, rel) == text.encode("utf-8"), f"{rel} after --fix:\n{_bytes(repo, rel)!r}"
    after = _codes(repo, args)
    assert not after[code], f"{code} still reported after its fix"
    assert not after - before, f"new findings after the fix: {after - before}"

    again = repo.check("--fix", *flags, *args)
    assert "Fixed " not in again.stdout, again.stdout
    for rel, text in changed.items():
        assert _bytes(repo, rel) == text.encode("utf-8"), "a second --fix changed the file"
    return repo


def assert_no_fix(tmp_path: Path, files: dict[str, str], code: str, *, args: tuple[str, ...] = (),
                  name: str = "nofix", untracked: dict[str, str] | None = None) -> Repo:
    """The rule reports, but offers no fix (not even an unsafe one): nothing is marked or written."""
    root = tmp_path / name
    root.mkdir(parents=True)
    repo = Repo(root)
    for rel, text in files.items():
        repo.write(rel, text)
    repo.init_git()
    for rel, text in (untracked or {}).items():
        repo.write(rel, text)
    assert code in repo.codes(*args)
    originals = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}
    text = repo.check("--unsafe-fixes", *args).stdout
    assert not [line for line in text.splitlines() if f" {code} [*] " in line], text
    repo.check("--fix", "--unsafe-fixes", "--select", code, *args)
    now = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert now == originals
    assert code in repo.codes(*args)
    return repo

