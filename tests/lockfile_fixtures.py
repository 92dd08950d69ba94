"""Lockfile fixtures: real lockfiles generated with uv 0.13.9, Poetry 2.5.1, PDM 2.29.4, pipenv 2026.10.3 and
pip-tools against a local index, trimmed, and with every index address replaced by an invented host.
The content hashes of poetry.lock, pdm.lock and Pipfile.lock were then recomputed with each tool's own code
(so they are the tools' values for these exact files, not ours). Files end in `.fixture` so that neither git
(`uv.lock` is ignored in this repository) nor `envdoctor check .` treats them as this repository's own."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "lockfiles"


def fixture_text(name: str, rel: str) -> str:
    return (FIXTURES / name / f"{rel}.fixture").read_text(encoding="utf-8")


def install(repo, name: str, into: str = "", skip: tuple[str, ...] = ()) -> list[str]:
    """Write fixture `name` into the repository (under `into`), but the files in `skip`; returns the
    written paths."""
    written = []
    for path in sorted((FIXTURES / name).rglob("*.fixture")):
        rel = path.relative_to(FIXTURES / name).as_posix()[: -len(".fixture")]
        if rel in skip:
            continue
        target = f"{into}/{rel}" if into else rel
        repo.write(target, path.read_text(encoding="utf-8"))
        written.append(target)
    return written


def edit(repo, rel: str, old: str, new: str) -> None:
    path = repo.root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
