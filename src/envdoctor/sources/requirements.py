"""Requirements files (pip's format: requirements.txt, *.in, constraints), read line by line with numbers.

pip's rules: `#` starts a comment at the start of a line or after white space; a line ending in `\\`
continues on the next; options (`-r`, `-c`, `-e`, `--hash`, `--index-url`, ...) may stand alone or follow
a requirement. Requirement lines are parsed with packaging; a line that packaging cannot parse is kept as
`invalid` with the reason rather than failing the file (pip would fail on it, and a rule may say so).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envdoctor.files import split_lines

_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
# Options that take a value (pip's requirement-file options), long and short spellings.
_VALUE_OPTIONS = {
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url", "--extra-index-url",
    "-f", "--find-links", "--hash", "--trusted-host", "--use-feature", "--no-binary", "--only-binary",
    "--global-option", "--config-settings",
}
_URL_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://|^file:")


@dataclass(frozen=True)
class RequirementLine:
    line: int  # 1-based physical line where the logical line starts
    end_line: int
    text: str  # the requirement as written (options removed)
    requirement: Requirement | None  # None for a URL/path/editable without a name, or an invalid line
    hashes: tuple[str, ...] = ()
    editable: bool = False
    invalid: str | None = None  # why packaging could not parse it

    @property
    def name(self) -> str | None:
        return canonicalize_name(self.requirement.name) if self.requirement else None

    @property
    def pinned(self) -> bool:
        """Exactly one version: `==X` (without a wildcard) or `===X`, or a direct URL/path reference."""
        if self.editable:
            return False
        if self.requirement is None:
            return self.invalid is None  # a plain URL or path: the artefact is named exactly
        if self.requirement.url:
            return True
        specs = list(self.requirement.specifier)
        return len(specs) == 1 and (specs[0].operator == "===" or
                                    (specs[0].operator == "==" and not specs[0].version.endswith(".*")))


@dataclass(frozen=True)
class OptionLine:
    line: int
    option: str  # e.g. "-r", "--index-url" (as written)
    value: str | None


@dataclass
class RequirementsFile:
    path: str
    requirements: list[RequirementLine] = field(default_factory=list)
    options: list[OptionLine] = field(default_factory=list)

    @property
    def includes(self) -> list[OptionLine]:
        """`-r`/`-c` lines: other requirement or constraint files this one pulls in."""
        return [o for o in self.options if o.option in ("-r", "--requirement", "-c", "--constraint")]

    @property
    def fully_pinned(self) -> bool:
        """Every requirement pinned to one version (a lock), and there is at least one."""
        return bool(self.requirements) and all(r.pinned for r in self.requirements)

    @property
    def hashed(self) -> bool:
        return bool(self.requirements) and all(r.hashes for r in self.requirements if not r.editable)


def _logical_lines(lines: list[str]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(lines, start=1):
        text = _COMMENT_RE.sub("", raw) if "#" in raw else raw
        if not buffer:
            start = number
        if text.endswith("\\"):
            buffer.append(text[:-1])
            continue
        buffer.append(text)
        out.append((start, number, " ".join(part.strip() for part in buffer).strip()))
        buffer = []
    if buffer:
        out.append((start, len(lines), " ".join(part.strip() for part in buffer).strip()))
    return out


def _split_words(text: str) -> list[str]:
    try:
        return shlex.split(text, posix=True)
    except ValueError:  # an unbalanced quote: pip would fail too; read words plainly
        return text.split()


def _break_args_options(line: str) -> tuple[str, str]:
    """pip's split: the requirement is every word before the first word starting with '-'."""
    tokens = line.split(" ")
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]).strip(), " ".join(tokens[index:])
    return line.strip(), ""


def parse_requirements(text: str, rel: str) -> RequirementsFile:
    result = RequirementsFile(rel)
    for start, end, logical in _logical_lines(split_lines(text)):
        if not logical:
            continue
        requirement_text, option_text = _break_args_options(logical)
        words = _split_words(option_text)
        hashes: list[str] = []
        editable = False
        i = 0
        while i < len(words):
            word = words[i]
            option, eq, value = word.partition("=")
            if re.match(r"^-[rcefi]\S", word) and not word.startswith("--"):
                option, value, eq = word[:2], word[2:], "="  # `-rbase.txt`
            if option in _VALUE_OPTIONS and not eq:
                value = words[i + 1] if i + 1 < len(words) else None
                i += 1
            if option == "--hash" and value:
                hashes.append(value)
            elif option in ("-e", "--editable") and not requirement_text:
                editable = True
                requirement_text = value or ""
            elif option.startswith("-"):
                result.options.append(OptionLine(start, option, value if (eq or option in _VALUE_OPTIONS) else None))
            elif not requirement_text:
                requirement_text = word  # a stray word after an option: keep it as pip would fail on it
            i += 1
        if requirement_text:
            result.requirements.append(_requirement(start, end, requirement_text, hashes, editable))
    return result


def _requirement(start: int, end: int, text: str, hashes: list[str], editable: bool) -> RequirementLine:
    if editable or _URL_RE.match(text) or text.startswith((".", "/")):
        # `-e .`, `-e git+https://...#egg=x`, `./pkg`, `https://.../x.whl`: no parsable name needed.
        try:
            requirement = Requirement(text) if "@" in text and not _URL_RE.match(text) else None
        except InvalidRequirement:
            requirement = None
        return RequirementLine(start, end, text, requirement, tuple(hashes), editable)
    try:
        return RequirementLine(start, end, text, Requirement(text), tuple(hashes), editable)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0]
        return RequirementLine(start, end, text, None, tuple(hashes), editable, invalid=reason)


# --- Read the Docs ------------------------------------------------------------------------------------------

READTHEDOCS_CONFIGS = (".readthedocs.yaml", ".readthedocs.yml")
# A real configuration is a few hundred bytes; pure-Python YAML takes seconds per MiB, so a larger file is
# not read (what it installs is then not known; docs/limits.md).
MAX_READTHEDOCS_BYTES = 1024 * 1024


def readthedocs_requirements(text: str, rel: str) -> list[tuple[str, int]]:
    """The requirements files a Read the Docs configuration installs (`python: install: - requirements:
    path`), each with its line; paths are relative to the repository root, as Read the Docs reads them.
    Read with `yaml.compose` and the safe loader (nothing is constructed); a file that is not YAML, or not
    shaped like a configuration, gives nothing (Read the Docs reports it; not this tool's business)."""
    if len(text) > MAX_READTHEDOCS_BYTES:
        return []
    import yaml

    try:
        root = yaml.compose(re.sub("\r(?!\n)|[\x85\u2028\u2029]", " ", text), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return []

    def value_of(node: object, key: str) -> object:
        if isinstance(node, yaml.MappingNode):
            for key_node, value in reversed(node.value):  # a later duplicate key wins
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                    return value
        return None

    install = value_of(value_of(root, "python"), "install")
    out = []
    for entry in install.value[:1000] if isinstance(install, yaml.SequenceNode) else ():
        path = value_of(entry, "requirements")
        if isinstance(path, yaml.ScalarNode) and isinstance(path.value, str) and path.value.strip():
            out.append((path.value.strip(), path.start_mark.line + 1))
    return out
