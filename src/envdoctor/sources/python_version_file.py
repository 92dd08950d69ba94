""".python-version: the interpreter pyenv and uv select for a folder and the folders below it.

One request per line; `#` starts a comment line; blank lines are skipped. pyenv puts every listed version
on the PATH, the first being `python`; uv uses the first. Requests seen in the wild: `3.12`, `3.12.1`,
`3.13t`, `3.14.0rc1`, `3.12-dev`, `pypy3.10`, `pypy3.10-7.3.12`, `cpython-3.12.1-linux-x86_64-gnu`,
`cpython@3.12`, `>=3.11` (uv), `system`, `miniconda3-latest`. A request without a readable `X.Y` is kept
with `version` None; rules skip it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from envdoctor.files import split_lines
from envdoctor.sources.pythonversions import PythonVersion, VersionRange, specifier_range

_REQUEST_RE = re.compile(r"^(?:(?P<impl>cpython|python|pypy|graalpy|pyston)[-@]?)?(?P<version>\d+\.\d+(?:\.\d+)?)",
                         re.IGNORECASE)


@dataclass(frozen=True)
class PythonRequest:
    line: int
    text: str  # as written, stripped
    implementation: str | None  # "cpython", "pypy", ... ; None when not recognised
    version: PythonVersion | None  # the language version requested
    range: VersionRange | None = None  # uv's specifier requests (`>=3.11`)


@dataclass
class PythonVersionFile:
    path: str
    requests: list[PythonRequest] = field(default_factory=list)

    @property
    def directory(self) -> str:
        return self.path.rpartition("/")[0] or "."

    @property
    def primary(self) -> PythonRequest | None:
        """The request that decides `python` (the first)."""
        return self.requests[0] if self.requests else None


def parse_request(text: str, line: int) -> PythonRequest:
    text = text.strip()
    if text[:1] in "<>=!~":
        return PythonRequest(line, text, "cpython", None, specifier_range(text))
    match = _REQUEST_RE.match(text)
    if not match:
        return PythonRequest(line, text, None, None)
    impl = (match.group("impl") or "cpython").lower()
    if impl == "python":
        impl = "cpython"
    return PythonRequest(line, text, impl, PythonVersion.parse(match.group("version")))


def parse_python_version_file(text: str, rel: str) -> PythonVersionFile:
    """Never raises: odd lines become requests without a version."""
    view = PythonVersionFile(rel)
    for number, raw in enumerate(split_lines(text), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped[0] in "<>=!~":  # a uv specifier request takes the whole line
            view.requests.append(parse_request(stripped.split(" #")[0], number))
            continue
        # pyenv allows several versions on one line, separated by white space
        for word in stripped.split():
            if word.startswith("#"):
                break
            view.requests.append(parse_request(word, number))
    return view
