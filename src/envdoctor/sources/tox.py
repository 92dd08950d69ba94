"""tox.ini: the environments of `[tox] envlist` (or `env_list`) and the Python version each names.

The envlist is a comma- or newline-separated list with brace expansion (`py{39,310}-django{42,50}`); a
factor `py310`, `py3.10`, `pypy310` or `3.10` names the interpreter. Continuation lines are indented, as
in any INI file; lines starting with `#` or `;` are comments. Never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from envdoctor.files import split_lines
from envdoctor.sources.pythonversions import PythonVersion

_SECTION_RE = re.compile(r"^\[\s*([^\]]+?)\s*\]")
_KEY_RE = re.compile(r"^(env_?list)\s*[=:]\s*(.*)$", re.IGNORECASE)
_FACTOR_RE = re.compile(r"^(?:py|pypy|cpython)(\d)\.?(\d{1,2})$|^(\d)\.(\d{1,2})$")
_MAX_ENVS = 2000


@dataclass(frozen=True)
class ToxEnv:
    name: str
    line: int
    version: PythonVersion | None


@dataclass
class ToxConfig:
    path: str
    envlist_line: int | None = None
    envs: list[ToxEnv] = field(default_factory=list)

    @property
    def directory(self) -> str:
        return self.path.rpartition("/")[0] or "."


def expand_braces(text: str, limit: int = _MAX_ENVS) -> list[str]:
    """`py{39,310}-x` -> ["py39-x", "py310-x"]; groups without a closing brace are kept as written."""
    results = [text]
    while True:
        expanded: list[str] = []
        changed = False
        for item in results:
            start = item.find("{")
            end = item.find("}", start + 1) if start >= 0 else -1
            if start < 0 or end < 0:
                expanded.append(item)
                continue
            changed = True
            for choice in item[start + 1:end].split(","):
                expanded.append(item[:start] + choice.strip() + item[end + 1:])
                if len(expanded) >= limit:
                    return expanded
        results = expanded
        if not changed:
            return results


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(depth - 1, 0)
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def env_version(name: str) -> PythonVersion | None:
    """The Python version an environment name asks for through one of its factors, or None."""
    for factor in name.split("-"):
        match = _FACTOR_RE.match(factor.strip().lower())
        if match:
            major, minor = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
            return PythonVersion(int(major), int(minor))
    return None


def parse_tox_ini(text: str, rel: str) -> ToxConfig:
    view = ToxConfig(rel)
    section: str | None = None
    in_value = False
    for number, raw in enumerate(split_lines(text), start=1):
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if raw[:1] in " \t" and in_value:
            _add_envs(view, stripped, number)
            continue
        in_value = False
        header = _SECTION_RE.match(stripped)
        if header:
            section = header.group(1).strip().lower()
            continue
        if section != "tox":
            continue
        key = _KEY_RE.match(stripped)
        if key and view.envlist_line is None:
            view.envlist_line = number
            in_value = True
            _add_envs(view, key.group(2), number)
    return view


def _add_envs(view: ToxConfig, text: str, line: int) -> None:
    text = re.split(r"\s[#;]", text, maxsplit=1)[0]
    for part in _split_top_level(text):
        for name in expand_braces(part):
            if len(view.envs) >= _MAX_ENVS:
                return
            view.envs.append(ToxEnv(name, line, env_version(name)))
