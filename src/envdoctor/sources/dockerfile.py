"""A Dockerfile reader that reads files the way BuildKit's parser does.

Why our own reader: see docs/dockerfile-reader.md. In short, dockerfile-parse mis-reads heredocs, comments
and blank lines inside continuations, escaped backslashes at the end of a line, a trailing escape at end of
file and a byte-order mark, and it has no physical line for a position inside an instruction.

What is emulated (frontend/dockerfile/parser in moby/buildkit): parser directives, the line-continuation
regular expression, comment and blank lines inside continuations, splitting of the keyword and the
`--flags`, JSON (exec) form, heredocs, ONBUILD, and the shell lexer's variable expansion used for
FROM/ARG/ENV. Where BuildKit would stop with an error, this reader carries on with a best-effort result:
it never raises, and it runs in time linear in the size of the input.
"""

from __future__ import annotations

import csv
import json
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Iterable, Iterator, Mapping, NamedTuple

__all__ = [
    "Dockerfile", "Flag", "Heredoc", "HeredocWord", "Instruction", "Stage",
    "arg_defaults", "expand", "parse_dockerfile", "parse_heredoc_word", "parse_key_values",
]

# Go's unicode.IsSpace, which BuildKit uses to trim lines. Python's str.isspace differs (it also counts
# \x1c-\x1f), so the set is spelled out.
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
           "\u2028\u2029\u202f\u205f\u3000"
# BuildKit's `tokenWhitespace` / `reWhitespace`: what separates the keyword from its arguments.
_TOKEN_WHITESPACE = re.compile(r"[\t\v\f\r ]+")
# parser/directives.go matches `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` after the '#'; the value part is
# done by hand (see _directive_value) because Python's backtracking makes that regex quadratic.
_DIRECTIVE_KEY = re.compile(r"([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=")
_GO_REGEX_SPACE = "\t\n\f\r "  # Go's \s
_VALID_DIRECTIVES = ("syntax", "escape", "check")
# parser.go `reHeredoc`: a word that starts a heredoc, e.g. `<<EOF`, `<<-"EOF"`, `3<<EOF`.
_HEREDOC_WORD = re.compile(r"([0-9]*)<<(-?)([^<]*)")
_GO_SPACE_CHAR = re.compile(f"[{GO_SPACE}]")
_HEREDOC_KEYWORDS = ("RUN", "COPY", "ADD")
_JSON_FORM_KEYWORDS = ("RUN", "CMD", "ENTRYPOINT", "SHELL", "ADD", "COPY", "VOLUME")
# Limits that keep expansion linear and bounded; past them the value counts as unknown (None):
_MAX_NESTING = 64  # ${...} nesting
_MAX_VALUE = 65536  # characters in one expanded value (`ARG B=$A$A` chains double each time)
_MAX_PATTERN_VALUE = 4096  # characters a `#`/`%`/`/` pattern is matched against


# --- data model ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """A `--name[=value]` flag before an instruction's arguments."""

    name: str
    value: str | None  # None when written without '=' (`--link`)

    def options(self) -> dict[str, str]:
        """The value read as a comma-separated `key=value` list, as BuildKit reads `--mount`.

        Keys are lower-cased; a field without '=' (`ro`) maps to ''. Fields are CSV, so a quoted field may
        hold a comma.
        """
        if not self.value:
            return {}
        try:
            fields = next(csv.reader([self.value]))
        except (csv.Error, StopIteration):
            fields = self.value.split(",")
        options: dict[str, str] = {}
        for item in fields:
            key, _, value = item.partition("=")
            if key:
                options[key.lower()] = value
        return options


@dataclass(frozen=True)
class Heredoc:
    """The body of one `<<EOF` in a RUN, COPY or ADD instruction."""

    delimiter: str
    body: str  # the lines between the instruction and the delimiter line, each with its line ending
    start_line: int  # first body line (the delimiter line when the body is empty)
    end_line: int  # the delimiter line (the last line of the file when unterminated)
    strip_tabs: bool  # `<<-`: leading tabs are already removed from `body`
    quoted: bool  # `<<"EOF"` / `<<'EOF'`: BuildKit does not expand variables in the body
    terminated: bool = True
    fd: int = 0  # `3<<EOF` feeds file descriptor 3

    @cached_property
    def _newlines(self) -> list[int]:
        return [i for i, c in enumerate(self.body) if c == "\n"]

    def line_of(self, offset: int) -> int:
        """Physical line of `body[offset]` (offsets past the body give the delimiter line)."""
        if not self.body:
            return self.end_line
        return self.start_line + bisect_left(self._newlines, max(offset, 0))


class HeredocWord(NamedTuple):
    """What a heredoc word like `<<-"EOF"` says."""

    name: str
    strip_tabs: bool
    quoted: bool
    fd: int


@dataclass(frozen=True)
class Instruction:
    """One instruction, with continuation lines joined and comment lines dropped, as BuildKit sees it."""

    keyword: str  # upper-case
    start_line: int  # 1-based physical lines, including continuation lines and heredoc bodies
    end_line: int
    flags: tuple[Flag, ...]
    args: str  # text after the flags, continuation lines joined, comments dropped
    json_args: tuple[str, ...] | None  # the exec form, when `args` is a JSON array of strings
    heredocs: tuple[Heredoc, ...]
    inner: Instruction | None  # the instruction an ONBUILD wraps
    original: str = ""  # the whole joined logical line, keyword included
    # Where each physical line's text starts in `original`, and its line number; `args` starts at
    # `_args_offset` in `original`. These let `line_of` map a position back to the file.
    _segment_starts: tuple[int, ...] = field(default=(), repr=False, compare=False)
    _segment_lines: tuple[int, ...] = field(default=(), repr=False, compare=False)
    _args_offset: int = field(default=0, repr=False, compare=False)

    def line_of(self, offset: int) -> int:
        """Physical line of `args[offset]`; offsets outside `args` are clamped to it."""
        if not self._segment_starts:
            return self.start_line
        offset = min(max(offset, 0), max(len(self.args) - 1, 0))
        index = bisect_right(self._segment_starts, self._args_offset + offset) - 1
        return self._segment_lines[max(index, 0)]

    def line_of_original(self, offset: int) -> int:
        """Physical line of `original[offset]`: like `line_of`, but the keyword and flags count too."""
        if not self._segment_starts:
            return self.start_line
        index = bisect_right(self._segment_starts, max(offset, 0)) - 1
        return self._segment_lines[max(index, 0)]

    def flag(self, name: str) -> str | None:
        """Value of the first `--name` flag; '' for a flag written without a value, None if absent."""
        for item in self.flags:
            if item.name == name:
                return item.value if item.value is not None else ""
        return None

    def flags_named(self, name: str) -> list[Flag]:
        """Every `--name` flag, in order (`--mount` may be repeated)."""
        return [item for item in self.flags if item.name == name]


@dataclass(frozen=True)
class Stage:
    """A build stage: a FROM and the instructions up to the next FROM."""

    index: int
    name: str | None  # lower-case: BuildKit matches stage names case-insensitively
    image: str  # as written, variables unexpanded
    platform: str | None  # the --platform flag, unexpanded
    from_instruction: Instruction
    instructions: tuple[Instruction, ...]  # after the FROM


@dataclass(frozen=True)
class Dockerfile:
    directives: dict[str, str] = field(hash=False)  # lower-case keys: syntax, escape, check
    escape: str  # the escape character in effect: '\\' or '`'
    instructions: tuple[Instruction, ...]
    global_args: tuple[Instruction, ...]  # ARG instructions before the first FROM
    stages: tuple[Stage, ...]
    line_count: int

    def stage(self, ref: int | str) -> Stage | None:
        """A stage by index, or by name (case-insensitive)."""
        if isinstance(ref, int):
            return self.stages[ref] if 0 <= ref < len(self.stages) else None
        index = self._stage_names.get(ref.lower())
        return None if index is None else self.stages[index]

    @cached_property
    def _stage_names(self) -> dict[str, int]:
        """Each stage name's first stage (a dict, not a search per lookup: files may have thousands)."""
        names: dict[str, int] = {}
        for stage in self.stages:
            if stage.name is not None:
                names.setdefault(stage.name, stage.index)
        return names

    def global_scope(self) -> dict[str, str | None]:
        """Variables usable in FROM lines: the global ARGs with their defaults expanded in order."""
        return dict(self._global_scope)

    @cached_property
    def _global_scope(self) -> dict[str, str | None]:
        return arg_defaults(self.global_args, escape=self.escape)

    def base_stage(self, stage: Stage) -> Stage | None:
        """The earlier stage this stage's FROM names, if it names one."""
        return self._base_stage(stage, self._global_scope)

    def stage_scope(self, stage: Stage, before: Instruction | None = None) -> Mapping[str, str | None]:
        """Variables in scope inside `stage` just before `before` (at its end when None).

        As BuildKit: a global ARG is visible only once re-declared with `ARG NAME`; a stage built FROM an
        earlier stage inherits that stage's ARGs and ENVs; ENV wins over ARG of the same name. A value that
        is not known without the build (no default, or it depends on one) is None.
        """
        return self._scope_walk(stage).at(before)

    @cached_property
    def _scope_walks(self) -> dict[int, _ScopeWalk]:
        return {}

    def _scope_walk(self, stage: Stage) -> _ScopeWalk:
        """The stage's scope walk, over those of its FROM-ancestors (see _ScopeWalk)."""
        walks = self._scope_walks
        chain = [stage]
        while chain[-1].index not in walks:
            parent = self._base_stage(chain[-1], self._global_scope)
            if parent is None:
                break
            chain.append(parent)  # terminates: a base stage always has a smaller index
        base = walks.get(chain[-1].index)
        for item in reversed(chain):  # a loop, not recursion: a chain may be thousands of stages long
            if item.index not in walks:
                walks[item.index] = _ScopeWalk(item, self.escape, self._global_scope, base, self._stage_set_names)
            base = walks[item.index]
        return walks[stage.index]

    @cached_property
    def _stage_set_names(self) -> frozenset[str]:
        """Every name an ARG or ENV inside a stage sets. Any other name is in no stage's scope, so looking
        it up needs no walk up the FROM-chain (a chain of stages each naming a new undefined variable was
        quadratic)."""
        names: set[str] = set()
        for stage in self.stages:
            for instruction in stage.instructions:
                if instruction.keyword in ("ARG", "ENV"):
                    names.update(parse_key_values(instruction.args, self.escape, instruction.keyword))
        return frozenset(names)

    def _base_stage(self, stage: Stage, global_scope: Mapping[str, str | None]) -> Stage | None:
        image = expand(stage.image, global_scope, self.escape)
        if image is None:
            return None
        index = self._stage_names.get(image.lower())
        return self.stages[index] if index is not None and index < stage.index else None


# --- parsing ---------------------------------------------------------------------------------------------


def parse_dockerfile(text: str) -> Dockerfile:
    """Read a Dockerfile. Never raises; garbage gives best-effort instructions."""
    if text.startswith("\ufeff"):  # BuildKit drops a UTF-8 byte-order mark at the start of the file
        text = text[1:]
    reader = _Reader(_physical_lines(text), final_newline=text.endswith("\n"))
    instructions = reader.read_all()
    global_args, stages = _stages(instructions)
    return Dockerfile(
        directives=reader.directives, escape=reader.escape, instructions=tuple(instructions),
        global_args=global_args, stages=stages, line_count=len(reader.lines),
    )


def _physical_lines(text: str) -> list[str]:
    """Lines split on '\\n' only, as BuildKit's scanner does (a lone '\\r' does not end a line)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _lstrip(text: str) -> str:
    return text.lstrip(GO_SPACE)


def _trim_newline(line: str) -> str:
    return line.rstrip("\r\n")


def _is_comment(line: str) -> bool:
    return _lstrip(line).startswith("#")


class _Reader:
    """Walks the physical lines once, the way BuildKit's `Parse` loop does."""

    def __init__(self, lines: list[str], final_newline: bool) -> None:
        self.lines = lines
        self.final_newline = final_newline  # whether the last line ended with '\n' (heredoc bodies keep it)
        self.next = 0  # index of the next unread line; also the 1-based number of the last read line
        self.directives: dict[str, str] = {}
        self.escape = "\\"
        self.in_directives = True

    def read_all(self) -> list[Instruction]:
        instructions = []
        while self.next < len(self.lines):
            instruction = self._read_instruction()
            if instruction is not None:
                instructions.append(instruction)
        return instructions

    def _read_instruction(self) -> Instruction | None:
        text = _lstrip(_trim_newline(self.lines[self.next]))
        self.next += 1
        start_line = self.next
        self._directive(text)
        if _is_comment(text):
            text = ""
        text, continues = self._trim_continuation(text)
        if not continues and not text:
            return None
        segments = [(text, start_line)]
        while continues and self.next < len(self.lines):
            raw = self.lines[self.next]
            self.next += 1
            # Modern BuildKit skips comment and blank lines inside a continuation; they do not end it.
            if _is_comment(raw) or not _lstrip(_trim_newline(raw)):
                continue
            text, continues = self._trim_continuation(_trim_newline(raw))
            segments.append((text, self.next))
        instruction = _instruction_from_segments(segments, start_line, self.next)
        if instruction is None:
            return None
        return self._read_heredocs(instruction)

    def _directive(self, text: str) -> None:
        """Record a parser directive; the first line that is not one ends the directive block."""
        if not self.in_directives:
            return
        body = _lstrip(text[1:]) if text.startswith("#") else ""
        match = _DIRECTIVE_KEY.match(body)
        key = match.group(1).lower() if match else ""
        value = _directive_value(body[match.end():]) if match else ""
        # BuildKit rejects a repeated directive; we keep the first and stop looking, as for a comment.
        if not value or key not in _VALID_DIRECTIVES or key in self.directives:
            self.in_directives = False
            return
        self.directives[key] = value
        if key == "escape" and value in ("\\", "`"):  # any other value fails the build; keep the default
            self.escape = value

    def _trim_continuation(self, text: str) -> tuple[str, bool]:
        """BuildKit's `([^E])E[ \\t]*$|^E[ \\t]*$` for escape E: drop a final escape, report continuation.

        An escape preceded by another escape (`foo \\\\`) is an escaped escape, not a continuation.
        """
        trimmed = text.rstrip(" \t")
        if not trimmed.endswith(self.escape):
            return text, False
        if len(trimmed) == 1:
            return "", True
        if trimmed[-2] == self.escape:
            return text, False
        return trimmed[:-1], True

    def _read_heredocs(self, instruction: Instruction) -> Instruction:
        target = instruction.inner if instruction.inner is not None else instruction
        if (target.keyword not in _HEREDOC_KEYWORDS or target.json_args is not None
                or "<<" not in instruction.original):
            return instruction
        heredocs = tuple(self._read_heredoc(word) for word in _heredoc_words(instruction.original))
        if not heredocs:
            return instruction
        end_line = max(instruction.end_line, heredocs[-1].end_line)
        if instruction.inner is not None:
            inner = replace(instruction.inner, heredocs=heredocs, end_line=end_line)
            return replace(instruction, heredocs=heredocs, end_line=end_line, inner=inner)
        return replace(instruction, heredocs=heredocs, end_line=end_line)

    def _read_heredoc(self, word: HeredocWord) -> Heredoc:
        """Lines up to the delimiter line; body lines are kept verbatim and never read as instructions."""
        start_line = min(self.next + 1, len(self.lines)) if self.lines else 0
        body: list[str] = []
        terminated = False
        while self.next < len(self.lines):
            raw = self.lines[self.next]
            self.next += 1
            candidate = _trim_newline(raw)
            if word.strip_tabs:
                candidate = candidate.lstrip("\t")
            if candidate == word.name:
                terminated = True
                break
            body.append(raw + "\n" if self.next < len(self.lines) or self.final_newline else raw)
        text = "".join(body)
        if word.strip_tabs:
            text = re.sub(r"(?m)^\t+", "", text)
        return Heredoc(delimiter=word.name, body=text, start_line=start_line, end_line=max(self.next, 1),
                       strip_tabs=word.strip_tabs, quoted=word.quoted, terminated=terminated, fd=word.fd)


def _directive_value(rest: str) -> str:
    """What `\\s*(.+?)\\s*$` captures from the text after '=': it trimmed, or, when it is all blanks,
    its last blank (the regex backtracks one blank into the lazy group)."""
    value = rest.strip(_GO_REGEX_SPACE)
    return value if value or not rest else rest[-1]


def _instruction_from_segments(segments: list[tuple[str, int]], start_line: int,
                               end_line: int) -> Instruction | None:
    """Join the physical lines' text and split it into keyword, flags and arguments."""
    starts, lines, parts = [], [], []
    offset = 0
    for text, line in segments:
        if text:
            starts.append(offset)
            lines.append(line)
            parts.append(text)
            offset += len(text)
    if not starts:
        starts, lines = [0], [start_line]
    original = "".join(parts)
    return _split_instruction(original, 0, (tuple(starts), tuple(lines)), start_line, end_line, nested=False)


def _split_instruction(original: str, begin: int, segments: tuple[tuple[int, ...], tuple[int, ...]],
                       start_line: int, end_line: int, nested: bool) -> Instruction | None:
    """BuildKit's `splitCommand` on `original[begin:]`: keyword, then `--flags`, then the arguments."""
    text = original[begin:]
    lead = len(text) - len(_lstrip(text))
    stripped = text.strip(GO_SPACE)
    if not stripped:
        return None  # e.g. a lone escape at the end of the file; BuildKit would reject the empty keyword
    gap = _TOKEN_WHITESPACE.search(stripped)
    keyword = (stripped[:gap.start()] if gap else stripped).upper()
    rest_offset = begin + lead + (gap.end() if gap else len(stripped))
    rest = stripped[gap.end():] if gap else ""
    flags, consumed = _extract_flags(rest)
    remaining = rest[consumed:]
    args = remaining.strip(GO_SPACE)
    args_offset = rest_offset + consumed + len(remaining) - len(_lstrip(remaining))
    instruction = Instruction(
        keyword=keyword, start_line=start_line, end_line=end_line, flags=flags, args=args,
        json_args=_json_args(keyword, args), heredocs=(), inner=None, original=original,
        _segment_starts=segments[0], _segment_lines=segments[1], _args_offset=args_offset,
    )
    if keyword == "ONBUILD" and not nested:
        # Only one level: `ONBUILD ONBUILD` is rejected by BuildKit, and unbounded nesting would be quadratic.
        inner = _split_instruction(original, args_offset, segments, start_line, end_line, nested=True)
        if inner is not None:
            inner = replace(inner, start_line=instruction.line_of(0))
        instruction = replace(instruction, inner=inner)
    return instruction


def _extract_flags(line: str) -> tuple[tuple[Flag, ...], int]:
    """BuildKit's `extractBuilderFlags`: leading words starting with `--`, quotes and `\\` escapes removed.

    Returns the flags and the position in `line` where the arguments start. A bare `--` ends the flags.
    """
    words: list[str] = []
    pos = 0
    while True:
        while pos < len(line) and line[pos] in GO_SPACE:
            pos += 1
        if not line.startswith("--", pos):
            return tuple(_flag(w) for w in words), pos
        word, pos = _flag_word(line, pos)
        if word == "--":
            return tuple(_flag(w) for w in words), pos
        if word is not None:
            words.append(word)


def _flag_word(line: str, pos: int) -> tuple[str | None, int]:
    """One flag word from `pos`: (text or None when empty and unquoted, position after it)."""
    chars: list[str] = []
    quote = ""
    quoted = False
    while pos < len(line):
        ch = line[pos]
        if not quote and ch in GO_SPACE:
            break
        pos += 1
        if quote and ch == quote:
            quote = ""
        elif not quote and ch in "'\"":
            quote, quoted = ch, True
        elif ch == "\\":
            if pos < len(line):  # a backslash at the very end is dropped
                chars.append(line[pos])
                pos += 1
        else:
            chars.append(ch)
    word = "".join(chars)
    return (word if word or quoted else None), pos


def _flag(word: str) -> Flag:
    name, sep, value = word[2:].partition("=")
    return Flag(name, value if sep else None)


def _json_args(keyword: str, args: str) -> tuple[str, ...] | None:
    """The exec form: args that parse as a JSON array of strings (BuildKit's `parseJSON`)."""
    if keyword == "HEALTHCHECK":  # `HEALTHCHECK [flags] CMD ["..."]`: the JSON follows the type word
        gap = _GO_SPACE_CHAR.search(args)
        args = args[gap.end():] if gap else ""
    elif keyword not in _JSON_FORM_KEYWORDS:
        return None
    args = _lstrip(args)
    if not args.startswith("["):
        return None
    try:
        value = json.loads(args)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None  # BuildKit rejects a non-string element; the shell form is the best guess
    return tuple(value)


def _stages(instructions: list[Instruction]) -> tuple[tuple[Instruction, ...], tuple[Stage, ...]]:
    """Global ARGs (ARG before the first FROM) and the stages, each FROM starting one."""
    global_args: list[Instruction] = []
    groups: list[tuple[Instruction, list[Instruction]]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            groups.append((instruction, []))
        elif groups:
            groups[-1][1].append(instruction)
        elif instruction.keyword == "ARG":
            global_args.append(instruction)
    stages = []
    for index, (start, body) in enumerate(groups):
        image, name = _from_words(start.args)
        stages.append(Stage(index=index, name=name, image=image, platform=start.flag("platform"),
                            from_instruction=start, instructions=tuple(body)))
    return tuple(global_args), tuple(stages)


def _from_words(args: str) -> tuple[str, str | None]:
    """`image [AS name]`; BuildKit requires exactly one or three words, we take what is there."""
    words = _TOKEN_WHITESPACE.split(args) if args else []
    image = words[0] if words else ""
    if len(words) >= 3 and words[1].casefold() == "as":  # Go's strings.EqualFold
        return image, words[2].lower()
    return image, None


# --- heredoc words ------------------------------------------------------------------------------------------


def parse_heredoc_word(word: str) -> HeredocWord | None:
    """What a word like `<<-"EOF"` says, or None if it does not start a heredoc (BuildKit's ParseHeredoc)."""
    match = _HEREDOC_WORD.fullmatch(word)
    if not match or not match.group(3):
        return None
    rest = match.group(3)
    plain = _lex_words(rest, raw_quotes=False, raw_escapes=False)
    raw = _lex_words(rest, raw_quotes=True, raw_escapes=False)
    if plain is None or raw is None or len(plain) != 1 or len(raw) != 1:
        return None
    # Quotes anywhere in the word (`<<"EOF"`, `<<E'O'F`) mean the body is not expanded.
    quoted = _count_quotes(plain[0]) != _count_quotes(raw[0])
    digits = match.group(1)
    fd = int(digits) if digits and len(digits) <= 18 else 0
    return HeredocWord(name=plain[0], strip_tabs=match.group(2) == "-", quoted=quoted, fd=fd)


def _count_quotes(text: str) -> int:
    return text.count("'") + text.count('"')


def _heredoc_words(line: str) -> list[HeredocWord]:
    """Heredocs of a logical line: its shell words (quotes kept) that are heredoc words, in order.

    BuildKit lexes the whole line with `\\` as escape whatever the escape directive; a line the lexer
    rejects (an unterminated quote) has no heredocs.
    """
    words = _lex_words(line, raw_quotes=True, raw_escapes=True)
    return [hw for w in words or () if (hw := parse_heredoc_word(w)) is not None]


def _lex_words(text: str, raw_quotes: bool, raw_escapes: bool) -> list[str] | None:
    lexer = _Lexer(text, "\\", None, keep_unknown=True, raw_quotes=raw_quotes, raw_escapes=raw_escapes)
    try:
        return lexer.words()
    except _LexError:
        return None


# --- variables ----------------------------------------------------------------------------------------------


def expand(text: str, variables: Mapping[str, str | None], escape: str = "\\") -> str | None:
    """Expand `$VAR`, `${VAR}` and `${VAR<op>word}` and remove quotes, as BuildKit does for FROM/ARG/ENV.

    Operators: `:-` `-` `:+` `+` `:?` `?` `#` `##` `%` `%%` `/` `//`. In `variables` a string is a known
    value; None is a name declared without a value (`ARG V`), which only a --build-arg can set, so
    `${V:-d}` and `${V-d}` give the file's default d; a name not in `variables` is unknown. Returns None
    when the result depends on an unknown value (`$V`, `${V:+w}`, anything with an absent name), and when
    BuildKit would fail (`${}`, `${VAR:?}` on an empty value, an unterminated quote).
    """
    lexer = _Lexer(text, escape, variables)
    try:
        result = lexer.word()
    except _LexError:
        return None
    return None if lexer.unknown else result


def parse_key_values(args: str, escape: str = "\\", keyword: str = "ENV") -> dict[str, str | None]:
    """`k=v k2="v 2"` (ENV, LABEL, ARG) into {key: raw value}; raw values keep their quotes, for `expand`.

    `ENV A 1` / `LABEL a b c` (the legacy form, when the first word has no '=') gives {A: '1'}. A name
    without '=' (`ARG NAME`) maps to None. Pass keyword="ARG" for ARG, which has no legacy form.
    """
    words = _key_value_words(args, escape)
    if not words:
        return {}
    if keyword.upper() != "ARG" and "=" not in words[0]:
        parts = _TOKEN_WHITESPACE.split(args, maxsplit=1)
        return {parts[0]: parts[1] if len(parts) == 2 else None}
    pairs: dict[str, str | None] = {}
    for word in words:
        key, sep, value = word.partition("=")
        pairs[key] = value if sep else None
    return pairs


def _key_value_words(text: str, escape: str) -> list[str]:
    """BuildKit's `parseWords`: split on whitespace outside quotes, keeping quotes and escapes."""
    words: list[str] = []
    chars: list[str] = []
    quote = ""
    quoted = False
    pos = 0
    while pos < len(text):
        ch = text[pos]
        pos += 1
        if not quote and ch in GO_SPACE:
            if chars or quoted:
                words.append("".join(chars))
            chars, quoted = [], False
            continue
        if ch == escape and quote != "'":
            if pos < len(text):  # an escape at the very end is dropped
                chars += (ch, text[pos])
                pos += 1
            continue
        if quote and ch == quote:
            quote = ""
        elif not quote and ch in "'\"":
            quote, quoted = ch, True
        chars.append(ch)
    if chars or quoted:
        words.append("".join(chars))
    return words


def arg_defaults(instructions: Iterable[Instruction], variables: Mapping[str, str | None] | None = None,
                 escape: str = "\\") -> dict[str, str | None]:
    """The ARG instructions' names and defaults, each expanded with `variables` and the ARGs before it.

    A name without a default, or whose default depends on an unknown value, maps to None.
    """
    scope: dict[str, str | None] = dict(variables or {})
    defaults: dict[str, str | None] = {}
    for instruction in instructions:
        if instruction.keyword != "ARG":
            continue
        for name, raw in parse_key_values(instruction.args, escape, "ARG").items():
            value = expand(raw, scope, escape) if raw is not None else None
            scope[name] = defaults[name] = value
    return defaults


class _ScopeWalk:
    """The ARG and ENV values of one stage, for `Dockerfile.stage_scope`, in BuildKit's dispatch order.

    Rules ask for the scope before each instruction of a stage in turn. Walking the stage afresh each time
    was quadratic, and so was a copy of the scope per instruction (a 100,000-line Dockerfile never
    finished). Instead each stage is walked once, as far as asked, and every value set is recorded with the
    position from which it holds: the scope before any instruction is a read-only view (`_ScopeView`) that
    looks a name up in that history, then in the stage's FROM-ancestors' (each walked to its end).
    """

    _MISSING = object()

    def __init__(self, stage: Stage, escape: str, global_scope: Mapping[str, str | None],
                 base: _ScopeWalk | None, set_names: frozenset[str] | None = None) -> None:
        self.instructions = stage.instructions
        self.positions = {id(instruction): i for i, instruction in enumerate(stage.instructions)}
        self.escape = escape
        self.global_scope = global_scope
        self.base = base  # the FROM-ancestor's walk, complete
        self.set_names = set_names  # every name an ARG or ENV of the file sets (None: not known)
        # name -> (positions, values): values[i] holds from positions[i] on (position p: before instruction
        # p); a value is (text or None, set by ENV)
        self.history: dict[str, tuple[list[int], list[tuple[str | None, bool]]]] = {}
        self.inherited: dict[str, object] = {}  # memo of lookups in the ancestors' final scope
        self.done = 0  # instructions applied so far
        if base is not None:
            base.advance(len(base.instructions))

    def at(self, before: Instruction | None) -> _ScopeView:
        """The scope just before `before` (at the end of the stage when None or not in the stage)."""
        end = len(self.instructions) if before is None else self.positions.get(id(before), len(self.instructions))
        self.advance(end)
        return _ScopeView(self, end)

    def advance(self, end: int) -> None:
        while self.done < end:
            instruction = self.instructions[self.done]
            self.done += 1  # values set by instruction i hold from position i + 1
            if instruction.keyword == "ARG":
                for name, raw in parse_key_values(instruction.args, self.escape, "ARG").items():
                    # `ARG NAME` re-declares a global ARG and takes its default
                    value = self.global_scope.get(name) if raw is None else \
                        expand(raw, _ScopeView(self, self.done), self.escape)
                    found = self.lookup(name, self.done)
                    if found is None or not found[1]:  # ENV wins over ARG of the same name
                        self._record(name, (value, False))
            elif instruction.keyword == "ENV":
                for name, raw in parse_key_values(instruction.args, self.escape, "ENV").items():
                    value = expand(raw, _ScopeView(self, self.done), self.escape) if raw is not None else None
                    self._record(name, (value, True))

    def _record(self, name: str, value: tuple[str | None, bool]) -> None:
        positions, values = self.history.setdefault(name, ([], []))
        if positions and positions[-1] == self.done:
            values[-1] = value
        else:
            positions.append(self.done)
            values.append(value)

    def lookup(self, name: str, position: int) -> tuple[str | None, bool] | None:
        """(value, set by ENV) of `name` before instruction `position`, or None when not in scope."""
        if self.set_names is not None and name not in self.set_names:
            return None
        walk: _ScopeWalk | None = self
        visited: list[_ScopeWalk] = []
        found: object = None
        while walk is not None:  # a loop, not recursion, up a chain of stages
            entry = walk.history.get(name)
            if entry is not None:
                i = bisect_right(entry[0], position if walk is self else len(walk.instructions)) - 1
                if i >= 0:
                    found = entry[1][i]
                    break
            memo = walk.inherited.get(name)
            if memo is not None:
                found = memo
                break
            visited.append(walk)
            walk = walk.base
        else:
            found = self._MISSING
        for item in visited:  # each walk's ancestors are complete: what they hold for `name` is final
            item.inherited[name] = found
        return None if found is self._MISSING else found  # type: ignore[return-value]

    def names(self, position: int) -> list[str]:
        names: dict[str, None] = {}
        walk: _ScopeWalk | None = self
        while walk is not None:
            limit = position if walk is self else len(walk.instructions)
            names.update((name, None) for name, (positions, _) in walk.history.items() if positions[0] <= limit)
            walk = walk.base
        return list(names)


class _ScopeView(Mapping[str, "str | None"]):
    """The read-only scope of a stage before one instruction: see _ScopeWalk."""

    def __init__(self, walk: _ScopeWalk, position: int) -> None:
        self._walk = walk
        self._position = position

    def __getitem__(self, name: str) -> str | None:
        found = self._walk.lookup(name, self._position)
        if found is None:
            raise KeyError(name)
        return found[0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._walk.names(self._position))

    def __len__(self) -> int:
        return len(self._walk.names(self._position))

    def __repr__(self) -> str:
        return f"_ScopeView({dict(self)!r})"


class _LexError(Exception):
    """Input BuildKit's shell lexer rejects; the public functions turn it into None."""


class _Words:
    """BuildKit's word splitting: unquoted whitespace separates words, quoted text never does.

    As in BuildKit, a word is only emitted when it has characters: `''` alone makes no word.
    """

    def __init__(self) -> None:
        self.words: list[str] = []
        self.chars: list[str] = []
        self.length = 0
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if ch not in GO_SPACE:
            self.add_raw(ch)
        elif self.in_word and self.length:
            self._flush()

    def add_raw(self, text: str) -> None:
        self.chars.append(text)
        self.length += len(text)
        self.in_word = True

    def add_expansion(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def finish(self) -> list[str]:
        if self.length:
            self._flush()
        return self.words

    def _flush(self) -> None:
        self.words.append("".join(self.chars))
        self.chars, self.length, self.in_word = [], 0, False


class _Lexer:
    """BuildKit's shell/lex.go: quotes, escapes and `$` expansion of one word.

    `variables` None means nothing is known. With `keep_unknown` an unknown variable is left as written
    (BuildKit's SkipUnsetEnv); otherwise it marks the result unknown.
    """

    def __init__(self, text: str, escape: str, variables: Mapping[str, str | None] | None, *,
                 keep_unknown: bool = False, raw_quotes: bool = False, raw_escapes: bool = False) -> None:
        self.text = text
        self.pos = 0
        self.escape = escape
        self.variables = variables
        self.keep_unknown = keep_unknown
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.unknown = False
        self.depth = 0
        self.expanded = 0  # characters produced by `$` expansions: only they can outgrow the input

    def word(self) -> str:
        return self._until("", self.raw_escapes)[0]

    def words(self) -> list[str]:
        return self._until("", self.raw_escapes)[1]

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _next(self) -> str:
        ch = self._peek()
        self.pos += 1 if ch else 0
        return ch

    def _until(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        """Process up to (and past) `stop`, or to the end when `stop` is ''. Returns (text, words)."""
        saved, self.raw_escapes = self.raw_escapes, raw_escapes
        result: list[str] = []
        words = _Words()
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if stop and ch == stop:
                self.pos += 1
                self.raw_escapes = saved
                return "".join(result), words.finish()
            if ch == "$":
                value = self._expansion()
                result.append(value)
                words.add_expansion(value)
            elif ch in "'\"":
                value = self._single_quoted() if ch == "'" else self._double_quoted()
                result.append(value)
                words.add_raw(value)
            else:
                self._plain(result, words)
        self.raw_escapes = saved
        if stop:
            raise _LexError(f"missing {stop!r}")
        return "".join(result), words.finish()

    def _plain(self, result: list[str], words: _Words) -> None:
        ch = self._next()
        if ch != self.escape:
            words.add_char(ch)
            result.append(ch)
            return
        if self.raw_escapes:
            words.add_raw(ch)
            result.append(ch)
        escaped = self._next()
        if escaped:  # an escape at the very end is dropped
            words.add_raw(escaped)
            result.append(escaped)

    def _single_quoted(self) -> str:
        self.pos += 1
        end = self.text.find("'", self.pos)
        if end < 0:
            raise _LexError("unterminated single quote")
        content = self.text[self.pos:end]
        self.pos = end + 1
        return f"'{content}'" if self.raw_quotes else content

    def _double_quoted(self) -> str:
        self.pos += 1
        result = ['"'] if self.raw_quotes else []
        while True:
            ch = self._peek()
            if not ch:
                raise _LexError("unterminated double quote")
            if ch == '"':
                self.pos += 1
                result.append('"' if self.raw_quotes else "")
                return "".join(result)
            if ch == "$":
                result.append(self._expansion())
                continue
            self.pos += 1
            if ch == self.escape:
                if self.raw_escapes:
                    result.append(ch)
                following = self._peek()
                if not following:
                    continue  # the loop then reports the missing quote
                if following in ('"', "$", self.escape):  # only these can be escaped inside "..."
                    ch = self._next()
            result.append(ch)

    def _expansion(self) -> str:
        value = self._dollar()
        self.expanded += len(value)
        if self.expanded > _MAX_VALUE:
            raise _LexError("expansion too large")
        return value

    def _dollar(self) -> str:
        self.pos += 1
        if self._peek() != "{":
            name = self._name()
            return self._value(name, "$" + name) if name else "$"
        self.pos += 1
        if not self._peek():
            raise _LexError("missing '}'")
        if self._peek() in "{}:":
            raise _LexError("bad substitution")
        name = self._name()
        op = self._next()
        if op == "}":
            return self._value(name, "${%s}" % name)
        if op == "/":
            return self._replace(name)
        null_is_unset = op == ":"
        if null_is_unset:
            op = self._next()
        if op not in ("-", "+", "?", "#", "%") and not null_is_unset:
            raise _LexError("unsupported modifier")
        # After ':' BuildKit reads the word whatever the operator, and fails later unless the name is unknown.
        return self._modified(name, op, null_is_unset)

    def _modified(self, name: str, op: str, null_is_unset: bool) -> str:
        """`${name[:]op word}`."""
        pattern_op = op in ("#", "%")
        if null_is_unset and pattern_op:
            raise _LexError("unsupported modifier")
        word, word_unknown = self._nested("}", raw_escapes=pattern_op)
        known, value = self._lookup(name)
        if op == "-" and self._declared_without_value(name):
            # `ARG V` then `${V:-default}`: a build without --build-arg uses the default the file pins.
            return self._with(word, word_unknown)
        if not known:
            return self._unknown("${%s%s%s}" % (name, ":" + op if null_is_unset else op, word))
        empty = null_is_unset and value == ""
        if op == "-":
            return self._with(word, word_unknown) if empty else value
        if op == "+":
            return "" if empty else self._with(word, word_unknown)
        if op == "?":
            if empty:
                raise _LexError(f"{name}: is not allowed to be empty")
            return value
        if op in ("#", "%"):
            greedy = word.startswith(op)
            pattern = word[1:] if greedy else word
            trimmed = _trim_prefix(pattern, value, greedy) if op == "#" else _trim_suffix(pattern, value, greedy)
            return self._with(trimmed, word_unknown)
        raise _LexError("unsupported modifier")

    def _replace(self, name: str) -> str:
        """`${name/pattern/replacement}` and `${name//pattern/replacement}`."""
        replace_all = self._peek() == "/"
        if replace_all:
            self.pos += 1
        pattern, pattern_unknown = self._nested("/", raw_escapes=True)
        replacement, replacement_unknown = self._nested("}", raw_escapes=True)
        known, value = self._lookup(name)
        if not known:
            return self._unknown("${%s/%s/%s}" % (name, pattern, replacement))
        if pattern_unknown or replacement_unknown or (replace_all and "$" in replacement):
            # Go's ReplaceAllString would read `$` in the replacement as a group reference: do not guess.
            return self._unknown("")
        regex = _shell_pattern(pattern, greedy=True, anchored=False, against=value)
        if replace_all:
            return _replace_all(regex, value, replacement)
        match = regex.search(value)
        return value[:match.start()] + replacement + value[match.end():] if match else value

    def _nested(self, stop: str, raw_escapes: bool) -> tuple[str, bool]:
        """The word inside `${...}`, and whether it depends on an unknown variable."""
        if self.depth >= _MAX_NESTING:
            raise _LexError("nested too deeply")
        self.depth += 1
        saved, self.unknown = self.unknown, False
        try:
            word = self._until(stop, raw_escapes)[0]
            return word, self.unknown
        finally:
            self.unknown = saved
            self.depth -= 1

    def _name(self) -> str:
        """A variable name: digits, one special parameter, or letters, digits and '_'."""
        ch = self._peek()
        if ch.isdecimal():
            start = self.pos
            while self._peek().isdecimal() and self._peek():
                self.pos += 1
            return self.text[start:self.pos]
        if ch and ch in "@*#?-$!0":
            self.pos += 1
            return ch
        start = self.pos
        while (ch := self._peek()) and (ch.isalpha() or ch.isdecimal() or ch == "_"):
            self.pos += 1
        return self.text[start:self.pos]

    def _lookup(self, name: str) -> tuple[bool, str]:
        if self.variables is None:
            return False, ""
        value = self.variables.get(name)
        return (value is not None), value or ""

    def _declared_without_value(self, name: str) -> bool:
        return (not self.keep_unknown and self.variables is not None and name in self.variables
                and self.variables[name] is None)

    def _value(self, name: str, as_written: str) -> str:
        known, value = self._lookup(name)
        return value if known else self._unknown(as_written)

    def _unknown(self, as_written: str) -> str:
        if self.keep_unknown:
            return as_written
        self.unknown = True
        return ""

    def _with(self, text: str, depends_on_unknown: bool) -> str:
        if depends_on_unknown:
            self.unknown = True
        return text


def _shell_pattern(pattern: str, greedy: bool, anchored: bool, against: str) -> re.Pattern[str]:
    """BuildKit's convertShellPatternToRegex: `*` and `?` wildcards, `\\` escapes, no bracket expressions.

    Go's regexp runs in linear time, Python's backtracks: with several `*` or a long value to search, the
    match could take exponential time, so such input is refused (the expansion becomes unknown).
    """
    if pattern.count("*") > 1 or len(against) > _MAX_PATTERN_VALUE:
        raise _LexError("pattern too costly to match")
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    pos = 0
    while pos < len(pattern):
        ch = pattern[pos]
        pos += 1
        if ch == "*":
            out.append(star)
        elif ch == "?":
            out.append(".")
        elif ch == "\\":
            following = pattern[pos] if pos < len(pattern) else ""
            if following in ("}", "/"):
                continue  # `\}` and `\/` only protect the ${...} syntax; the next char is literal
            if following not in ("*", "?", "\\"):
                raise _LexError("invalid escape in pattern")
            out.append("\\" + following)
            pos += 1
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out))


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    match = _shell_pattern(pattern, greedy, anchored=True, against=value).search(value)
    return value[match.end():] if match else value


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    # A regex cannot find the shortest match ending at the end; reversing both turns it into a prefix.
    return _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy)[::-1]


def _reverse_pattern(pattern: str) -> str:
    """Reverse a pattern but keep each `\\x` escape pair in order: `a\\*c` -> `c\\*a`."""
    units: list[str] = []
    pos = 0
    while pos < len(pattern):
        if pattern[pos] == "\\" and pos + 1 < len(pattern):
            units.append(pattern[pos:pos + 2])
            pos += 2
        else:
            units.append(pattern[pos])
            pos += 1
    return "".join(reversed(units))


def _replace_all(regex: re.Pattern[str], value: str, replacement: str) -> str:
    """Go's ReplaceAllString with a literal replacement: an empty match right after a match is skipped."""
    if len(value) + (len(value) + 1) * len(replacement) > _MAX_VALUE:
        raise _LexError("expansion too large")
    out: list[str] = []
    last = search = 0
    while search <= len(value):
        match = regex.search(value, search)
        if match is None:
            break
        start, end = match.span()
        out.append(value[last:start])
        if end > last or start == 0:
            out.append(replacement)
        last = end
        search = search + 1 if search + 1 > end else end
    out.append(value[last:])
    return "".join(out)
