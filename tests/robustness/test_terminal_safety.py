"""Terminal and path safety, end to end through the CLI, in every output format.

File content and file NAMES carry ANSI colour (CSI), OSC 8 hyperlinks, BEL, a C1 CSI, bidirectional
overrides and rich markup. None of it may reach the terminal as a control sequence or as markup: the text
formats show it escaped (`\\x1b`, `\\u202e`), the data formats (json, sarif, gitlab, junit) carry it as
escaped data. No output path leaves the scanned root.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from envdoctor.report import FORMATS
from envdoctor.report.escape import safe
from robust_support import run_cli

ESC = "\x1b"
# In content: a colour, an OSC 8 hyperlink around text, BEL, C1 CSI (one byte), a right-to-left override,
# rich markup. In names too, but without `/`.
PAYLOAD = f"{ESC}[31mRED{ESC}]8;;https://evil.example.invalid{ESC}\\LINK{ESC}]8;;{ESC}\\\x07\x9b2J\u202eevil\u202c[red]mk[/red]"
NAME = f"d{ESC}[31mRED{ESC}]8;;x\x07L\x07\x9b2J\u202eevil\u202c[bold]mk[italic]"
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
RICH_SGR = re.compile(r"\x1b\[[0-9;]*m")  # what rich itself writes with --color always


def _toml_escaped(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" if ord(c) < 32 or 0x7f <= ord(c) <= 0x9f or c in '"\\' else c for c in text)


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Dockerfile").write_text(f"FROM python{PAYLOAD}:latest\nRUN pip install flask{PAYLOAD}\n",
                                     encoding="utf-8")
    (root / "requirements.txt").write_text(f"flask{PAYLOAD}\nrequests\n", encoding="utf-8")
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "x{_toml_escaped(PAYLOAD)}"\nversion = "1"\n'
        f'dependencies = ["flask{_toml_escaped(PAYLOAD)}"]\nrequires-python = "{_toml_escaped(PAYLOAD)}"\n',
        encoding="utf-8")
    (root / "broken").mkdir()
    (root / "broken" / "pyproject.toml").write_text(f"[project\nname = {PAYLOAD}\n", encoding="utf-8")
    named = root / NAME
    named.mkdir()
    (named / "Dockerfile").write_text("FROM python:latest\n", encoding="utf-8")
    (named / f"requirements{NAME}.txt").write_text("flask\n", encoding="utf-8")
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        f'on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pip install "flask\\e[31m{PAYLOAD[5:]}"\n'
        f'      - run: uv run --with "x\\u202e" pytest\n', encoding="utf-8")
    return root


def _check(root: Path, *args: str):
    result = run_cli("check", str(root), "--select", "ALL", "--exit-zero", *args)
    assert result.exit_code == 0, result.output
    return result


def _assert_inert(text: str, allow_sgr: bool = False) -> None:
    shown = RICH_SGR.sub("", text) if allow_sgr else text
    bad = UNSAFE.findall(shown)
    assert not bad, sorted(set(bad))


def test_the_payload_reaches_the_findings(hostile):
    # Guard against a vacuous test: the hostile text is in messages and paths (escaped, in JSON too: a
    # consumer that decodes a string and prints it must print no live sequence).
    findings = json.loads(_check(hostile, "--format", "json").stdout)["findings"]
    assert any(safe(PAYLOAD) in f["message"] for f in findings)
    assert any(f["path"].startswith(safe(NAME) + "/") for f in findings)
    for finding in findings:
        _assert_inert(finding["message"] + finding["path"] + (finding["fix_hint"] or ""))
    assert any(f["path"] == "broken/pyproject.toml" and f["code"] == "ED001" for f in findings)


@pytest.mark.parametrize("color", ["always", "never"])
def test_text_format(hostile, color):
    out = _check(hostile, "--format", "text", "--color", color, "--verbose").stdout
    _assert_inert(out, allow_sgr=color == "always")
    assert "\\x1b[31mRED\\x1b]8;;" in out  # shown escaped, visibly
    assert "\\u202e" in out and "\\x07" in out and "\\x9b" in out
    assert "[red]mk[/red]" in out  # rich markup from a file is text, never a style
    assert "https://evil.example.invalid" not in RICH_SGR.sub("", out).replace(
        "\\x1b]8;;https://evil.example.invalid", "")  # the link target only as escaped text


@pytest.mark.parametrize("fmt", sorted(set(FORMATS) - {"text"}))
def test_every_other_format(hostile, fmt):
    out = _check(hostile, "--format", fmt).stdout
    _assert_inert(out)
    if fmt in ("json", "sarif", "gitlab"):
        assert out.isascii()
        json.loads(out)
    if fmt == "junit":
        ET.fromstring(out.split("\n", 1)[1])
    if fmt in ("concise", "github"):
        assert "[red]mk[/red]" in out and "\\x1b" in out


def test_output_to_a_file_is_as_safe(hostile, tmp_path):
    target = tmp_path / "out.txt"
    _check(hostile, "--format", "text", "--color", "always", "--output", str(target))
    _assert_inert(target.read_text(encoding="utf-8"), allow_sgr=True)  # rich's colours only


def test_internal_errors_and_notes_are_escaped(hostile, monkeypatch):
    from envdoctor.registry import Registry

    original = Registry.lookup

    class Boom(Exception):
        pass

    def crash(self, view, context):
        raise Boom(f"crash {PAYLOAD}")

    from envdoctor.rules.docker import BaseImageLatest

    monkeypatch.setattr(BaseImageLatest, "check", crash)
    for fmt in ("text", "concise", "github", "junit", "sarif", "json"):
        result = run_cli("check", str(hostile), "--select", "ALL", "--format", fmt)
        assert result.exit_code == 2
        _assert_inert(result.stdout)
        _assert_inert(result.stderr)
    assert Registry.lookup is original


# --- paths ----------------------------------------------------------------------------------------------


def _paths(root: Path, *args: str) -> list[str]:
    out = json.loads(_check(root, "--format", "json", *args).stdout)
    return [f["path"] for f in out["findings"]]


def test_no_output_path_leaves_the_scanned_root(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM python:latest\n", encoding="utf-8")
    root = tmp_path / "repo"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n', encoding="utf-8")
    (root / "sub" / "Dockerfile").write_text("FROM python:latest\n", encoding="utf-8")
    (root / "sub" / "deeper" / "Dockerfile").symlink_to(outside / "Dockerfile")
    (root / "sub" / "out").symlink_to(outside)
    (root / "sub" / "..Dockerfile").write_text("FROM python:latest\n", encoding="utf-8")  # `..` in a name
    for args in ([], ["--select", "ALL"]):
        for scanned in (root, root / "sub"):
            paths = _paths(scanned, *args)
            assert "sub/Dockerfile" in paths or "Dockerfile" in paths
            assert not [p for p in paths if p.endswith("deeper/Dockerfile") or "out/" in p]  # links out: not read
            for path in paths:
                assert not path.startswith("/") and ".." not in path.split("/"), path
                assert path == "." or any((base / path).exists() and (base / path).resolve().is_relative_to(base)
                                          for base in (root.resolve(), (root / "sub").resolve())), path
    sarif = json.loads(_check(root / "sub", "--format", "sarif").stdout)
    for result in sarif["runs"][0]["results"]:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert not uri.startswith(("/", "file:")) and ".." not in uri.split("/")


def test_a_path_argument_outside_the_root_is_refused(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n', encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    result = run_cli("check", str(root), str(other))
    assert result.exit_code == 2 and "outside the project root" in result.stderr
