"""pyproject.toml: the parsed document with line numbers, and the tables rules ask about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from envdoctor.sources.toml import TomlDocument, parse_toml


@dataclass
class PyProject:
    path: str  # relative to the scanned root
    doc: TomlDocument

    @property
    def data(self) -> dict[str, Any]:
        return self.doc.data

    @property
    def project(self) -> dict[str, Any]:
        table = self.data.get("project")
        return table if isinstance(table, dict) else {}

    def tool(self, name: str) -> dict[str, Any]:
        tools = self.data.get("tool")
        table = tools.get(name) if isinstance(tools, dict) else None
        return table if isinstance(table, dict) else {}

    @property
    def directory(self) -> str:
        """The project's folder, relative to the root ('.' for the root)."""
        return self.path.rpartition("/")[0] or "."

    def line_of(self, *keys: str) -> int:
        """The line of a key path, else of its nearest enclosing table that is written, else 1."""
        return self.doc.line_near(*keys)


def parse_pyproject(text: str, rel: str) -> PyProject:
    return PyProject(rel, parse_toml(text))
