"""The rule catalog: one Markdown page per rule (rules/EDnnn-name.md in the repository, shipped in the wheel
as envdoctor/catalog/). The page is the one source for `envdoctor explain`, SARIF help and the docs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

SECTIONS = ("What it does", "Why it matters", "Example", "Use instead", "Options", "References")
_FRONT_MATTER_RE = re.compile(r"\A---\n(?P<meta>.*?)\n---\n", re.DOTALL)
_FENCE_RE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```\s*$", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class CodeBlock:
    info: str  # the fence's info string, e.g. "dockerfile file=Dockerfile"
    body: str

    @property
    def attributes(self) -> dict[str, str]:
        return dict(part.split("=", 1) for part in self.info.split()[1:] if "=" in part)


@dataclass(frozen=True)
class RulePage:
    meta: dict[str, str]
    sections: dict[str, str]
    text: str
    path: Path | None = field(default=None, compare=False)

    @property
    def code(self) -> str:
        return self.meta.get("code", "")

    @property
    def name(self) -> str:
        return self.meta.get("name", "")

    @property
    def summary(self) -> str:
        """The first sentence of 'What it does'."""
        what = " ".join(self.sections.get("What it does", "").split())
        return what.split(". ")[0].rstrip(".") + "." if what else ""

    def blocks(self, section: str) -> list[CodeBlock]:
        return [CodeBlock(m.group("info").strip(), m.group("body"))
                for m in _FENCE_RE.finditer(self.sections.get(section, ""))]

    @property
    def body(self) -> str:
        """The page without its front matter."""
        return _FRONT_MATTER_RE.sub("", self.text, count=1).lstrip("\n")


def parse_page(text: str, path: Path | None = None) -> RulePage:
    meta: dict[str, str] = {}
    match = _FRONT_MATTER_RE.match(text)
    if match:
        for line in match.group("meta").splitlines():
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip()] = value.strip()
    sections: dict[str, str] = {}
    current: str | None = None
    in_fence = False
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            in_fence = not in_fence
        if not in_fence and line.startswith("## "):
            current = line[3:].strip()
            sections[current] = ""
        elif current is not None:
            sections[current] += line
    return RulePage(meta, {k: v.strip("\n") + "\n" for k, v in sections.items()}, text, path)


def catalog_dir() -> Path | None:
    """Where the pages are: inside the installed package, else the source tree's rules/ folder."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "catalog", here.parent.parent / "rules"):
        if candidate.is_dir():
            return candidate
    return None


@lru_cache(maxsize=1)
def all_pages() -> dict[str, RulePage]:
    folder = catalog_dir()
    pages: dict[str, RulePage] = {}
    if folder is None:
        return pages
    for path in sorted(folder.glob("ED[0-9][0-9][0-9]-*.md")):
        page = parse_page(path.read_text(encoding="utf-8"), path)
        pages[page.code] = page
    return pages


def page_for(code: str) -> RulePage | None:
    return all_pages().get(code)
