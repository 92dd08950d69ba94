"""Conda environment files (environment.yml): channels and dependencies, each with its line.

Read with `yaml.compose` and the safe loader only: nodes carry positions and nothing is constructed, so
no tag can build an object and an alias is a reference to the same node, never a copy ("billion laughs"
stays small). The few nodes envdoctor looks at are visited iteratively, with a cap on their number.
A file that is not YAML is a SourceError (ED001); a YAML file that does not look like an environment
gives an empty view.

Dependency strings are conda match specs: `numpy`, `numpy=1.26`, `numpy==1.26.4`, `numpy 1.26.4 py311_0`,
`numpy>=1.2,<2`, `numpy=1.26.4=py311h_0`, `conda-forge::numpy`, `numpy[version='>=1.2']`. A nested
`- pip: [...]` list holds pip requirement lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envdoctor.files import SourceError

MAX_ENTRIES = 20000  # nodes looked at per file: far above any real environment


class CondaError(SourceError):
    def __init__(self, message: str, position: tuple[int, int]) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class Channel:
    name: str
    line: int


_YAML_ONLY_BREAKS = re.compile("\r(?!\n)|[\x85\u2028\u2029]")
_SPEC_RE = re.compile(
    r"^(?:(?P<channel>[^:\s\[]+)::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.+-]*)\s*"
    r"(?:\[(?P<brackets>[^\]]*)\])?\s*(?P<rest>.*)$"
)
_BRACKET_VERSION_RE = re.compile(r"""\bversion\s*=\s*(?:'([^']*)'|"([^"]*)"|([^,\]\s]+))""")


@dataclass(frozen=True)
class CondaDependency:
    text: str  # as written
    line: int
    name: str | None  # lower-case; None when the entry is not a match spec envdoctor understands
    channel: str | None = None  # `conda-forge::numpy` -> "conda-forge"
    version: str | None = None  # the version part, e.g. "=1.26", ">=1.2,<2", "1.26.4"
    build: str | None = None

    @property
    def pinned(self) -> bool:
        """A version (series) is named: `=1.26`, `==1.26.4`, `1.26.4`, `1.26.*`; not a bare name or a bound."""
        if not self.version:
            return False
        version = self.version.strip()
        if any(c in version for c in "<>!~|,"):
            return False
        return bool(re.match(r"^(?:==?)?\s*[0-9]", version))

    @property
    def version_spec(self) -> str | None:
        """The version constraint without a leading single `=` (conda's fuzzy match): `=3.11` -> `3.11`."""
        if not self.version:
            return None
        version = self.version.strip()
        return version[1:] if version.startswith("=") and not version.startswith("==") else version


@dataclass(frozen=True)
class PipEntry:
    text: str
    line: int
    requirement: Requirement | None  # None for options (`-r file`, `--index-url`), paths, URLs, invalid lines

    @property
    def name(self) -> str | None:
        return canonicalize_name(self.requirement.name) if self.requirement else None

    @property
    def pinned(self) -> bool:
        if self.requirement is None:
            return True  # an option or a path: not a package left floating by this file
        if self.requirement.url:
            return True
        specs = list(self.requirement.specifier)
        return len(specs) == 1 and (specs[0].operator == "===" or
                                    (specs[0].operator == "==" and not specs[0].version.endswith(".*")))


@dataclass
class CondaEnvironment:
    path: str
    name: str | None = None
    channels: list[Channel] = field(default_factory=list)
    channels_line: int | None = None
    dependencies: list[CondaDependency] = field(default_factory=list)
    dependencies_line: int | None = None
    pip: list[PipEntry] = field(default_factory=list)
    pip_line: int | None = None

    @property
    def directory(self) -> str:
        return self.path.rpartition("/")[0] or "."

    def dependency(self, name: str) -> CondaDependency | None:
        return next((d for d in self.dependencies if d.name == name), None)


def parse_match_spec(text: str, line: int) -> CondaDependency:
    text = text.strip()
    match = _SPEC_RE.match(text)
    if not match:
        return CondaDependency(text, line, None)
    version: str | None = None
    build: str | None = None
    rest = match.group("rest").strip()
    if rest:
        if rest[0] in "=<>!~":
            if rest.startswith("=") and not rest.startswith("=="):
                # `=1.26.4=py311_0`: version then build
                version_part, _, build_part = rest[1:].partition("=")
                version, build = "=" + version_part.strip(), build_part.strip() or None
            else:
                version = rest
        else:  # `numpy 1.26.4 py311_0`
            words = rest.split()
            version = words[0]
            build = words[1] if len(words) > 1 else None
    brackets = match.group("brackets")
    if brackets and version is None:
        found = _BRACKET_VERSION_RE.search(brackets)
        if found:
            version = next(g for g in found.groups() if g is not None).strip() or None
    return CondaDependency(text, line, match.group("name").lower(), match.group("channel"), version, build)


def parse_pip_entry(text: str, line: int) -> PipEntry:
    text = text.strip()
    if not text or text.startswith("-"):  # an option: `-r requirements.txt`, `-e .`, `--index-url ...`
        return PipEntry(text, line, None)
    try:
        return PipEntry(text, line, Requirement(text))
    except InvalidRequirement:
        return PipEntry(text, line, None)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _scalar(node: yaml.Node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _mapping_items(node: yaml.Node) -> list[tuple[str, yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        return []
    items = []
    for key, value in node.value[:MAX_ENTRIES]:
        name = _scalar(key)
        if name is not None:
            items.append((name, key, value))
    return items


def _sequence(node: yaml.Node) -> list[yaml.Node]:
    return list(node.value[:MAX_ENTRIES]) if isinstance(node, yaml.SequenceNode) else []


def parse_conda_environment(text: str, rel: str) -> CondaEnvironment:
    try:
        # PyYAML also ends lines at a lone \r, NEL, U+2028 and U+2029; envdoctor's lines end at \n only
        # (files.split_lines): made spaces, they leave every node on the line an editor shows it on.
        root = yaml.compose(_YAML_ONLY_BREAKS.sub(" ", text), Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:  # the message and position every YAML source gives (ED001)
        from envdoctor.sources.workflows import yaml_error

        raise CondaError(*yaml_error(exc, text)) from None
    except RecursionError:
        raise CondaError("is not valid YAML for envdoctor: nested too deeply", (1, 1)) from None
    view = CondaEnvironment(rel)
    if root is None:
        return view
    for key, key_node, value in _mapping_items(root):  # a later duplicate key wins, as in conda
        if key == "name":
            view.name = _scalar(value)
        elif key == "channels":
            view.channels_line = _line(key_node)
            view.channels = [Channel(name.strip(), _line(item)) for item in _sequence(value)
                             if (name := _scalar(item)) is not None]
        elif key == "dependencies":
            view.dependencies_line = _line(key_node)
            view.dependencies, view.pip, view.pip_line = [], [], None
            for item in _sequence(value):
                spec = _scalar(item)
                if spec is not None:
                    view.dependencies.append(parse_match_spec(spec, _line(item)))
                    continue
                for sub_key, sub_key_node, sub_value in _mapping_items(item):
                    if sub_key == "pip":
                        view.pip_line = _line(sub_key_node)
                        view.pip.extend(parse_pip_entry(entry, _line(node)) for node in _sequence(sub_value)
                                        if (entry := _scalar(node)) is not None)
    return view
