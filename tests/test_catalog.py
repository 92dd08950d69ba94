"""The rule catalog agrees with the registry, and every page's examples behave as the page says."""

from __future__ import annotations

import subprocess

import pytest
from probe_support import fake_probe

from envdoctor.catalog import SECTIONS, all_pages, catalog_dir
from envdoctor.registry import load_rules

REGISTRY = load_rules(plugins=False)
PAGES = all_pages()


def test_every_rule_has_a_page_and_every_page_a_rule():
    assert catalog_dir() is not None
    assert sorted(PAGES) == sorted(r.code for r in REGISTRY)


@pytest.mark.parametrize("rule", list(REGISTRY), ids=lambda r: r.code)
def test_page_matches_rule(rule):
    page = PAGES[rule.code]
    assert page.path.name == f"{rule.code}-{rule.name}.md"
    assert page.meta["code"] == rule.code
    assert page.meta["name"] == rule.name
    assert page.meta["severity"] == rule.severity.label
    assert page.meta.get("fixable") in ("no", "safe", "unsafe")
    # A rule that offers fixes declares how safe they are (`fix_safety`), and its page says the same.
    assert page.meta["fixable"] == (getattr(rule, "fix_safety", None) or "no")
    assert ("**Fix**" in page.sections["Use instead"]) == (page.meta["fixable"] != "no")
    assert list(page.sections) == list(SECTIONS), "sections in the catalog order"
    assert page.text.splitlines()[page.text.splitlines().index("---", 1) + 1] == f"# {rule.code} {rule.name}"
    assert page.summary


def _write_blocks(repo, page, section):
    blocks = page.blocks(section)
    assert blocks, f"{page.code}: '{section}' has no code block"
    untracked = []
    for block in blocks:
        target = block.attributes.get("file")
        assert target, f"{page.code}: a '{section}' block has no file=..."
        if block.attributes.get("git") in ("modified", "staged"):
            continue  # written after the commit, by _write_changes
        repo.write(target, block.body)
        if block.attributes.get("git") == "untracked":
            untracked.append(target)
    return untracked


def _write_changes(repo, page, section):
    """Blocks marked `git=modified` (or `git=staged`) are the working-tree (or staged) content of a file
    whose committed content is an earlier block of the same file."""
    for block in page.blocks(section):
        if block.attributes.get("git") in ("modified", "staged"):
            repo.write(block.attributes["file"], block.body)
            if block.attributes["git"] == "staged":
                repo.git("add", "--", block.attributes["file"])


def _run(repo, page, section, monkeypatch):
    untracked = _write_blocks(repo, page, section)
    repo.init_git(commit=False)
    tracked = [p for p in repo.git("ls-files", "--others", "--exclude-standard").split() if p not in untracked]
    if tracked:
        repo.git("add", "--", *tracked)
        repo.git("commit", "-q", "-m", "example")
    _write_changes(repo, page, section)
    # The doctor's rules (ED401-ED404, ED410, ED411) judge the interpreter in use: their pages give the
    # probe's answer in a `probe=yes` block, and the scan runs with --python (see tests/probe_support.py).
    return repo.codes("--select", "ALL", *fake_probe(monkeypatch, repo.root, page.blocks(section)))


@pytest.mark.parametrize("code", sorted(PAGES))
def test_example_is_flagged(repo, code, monkeypatch):
    assert code in _run(repo, PAGES[code], "Example", monkeypatch)


@pytest.mark.parametrize("code", sorted(PAGES))
def test_use_instead_is_not_flagged(repo, code, monkeypatch):
    assert code not in _run(repo, PAGES[code], "Use instead", monkeypatch)


def test_wheel_ships_the_catalog(tmp_path):
    from pathlib import Path
    import sys
    import zipfile

    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
                   cwd=root, check=True, capture_output=True)
    (wheel,) = tmp_path.glob("envdoctor-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "envdoctor/catalog/ED101-base-image-latest.md" in names
    assert sum(n.startswith("envdoctor/catalog/ED") for n in names) == len(PAGES)
