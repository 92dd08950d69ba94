"""Split RUN scripts into simple commands with a shell tokenizer (not a regex over the line).

The tokenizer follows POSIX sh / bash lexing: quotes and escapes, `#` comments at the start of a word,
operators (`&& || ; | & ( )` and newlines), redirections and here-documents, `$(...)`, backticks and
process substitutions (whose commands are returned too), reserved words (`if ... fi`, `for NAME in ...; do`,
`case ... esac`, `{ }`, `!`, `[[ ]]`), function definitions and array assignments. A shell run on a string
(`sh -c "..."`) or on a here-document (`bash <<EOF`) is replaced by the commands of that script.

It never raises: unterminated quotes or substitutions run to the end of the script. Nesting is bounded
and every character is read a bounded number of times, so it runs in linear time.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from typing import Callable

from envdoctor.sources.dockerfile import Heredoc, Instruction, parse_heredoc_word

__all__ = ["SHELLS", "SUDO_LONG_VALUE_OPTIONS", "SUDO_SHORT_VALUE_OPTIONS", "SimpleCommand", "run_commands",
           "split_commands", "unwrap"]

SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh"})
_MAX_SCRIPT_DEPTH = 8  # `sh -c "sh -c ..."` and `bash <<EOF` scripts followed this deep
_MAX_NESTING = 32  # `$( $( ... ) )` followed this deep for commands; deeper ones are skipped over
_BLANKS = " \t\r\f\v"  # '\r' too: scripts from CRLF files should still split
_WORD_END = frozenset(_BLANKS + "\n;&|<>()")
_OPERATORS = (";;&", ";;", ";&", ";", "&&", "&", "||", "|&", "|", "(", ")")
_REDIRECTIONS = ("&>>", "&>", "<<<", "<<-", "<<", "<>", "<&", "<", ">>", ">&", ">|", ">")
_SKIPPED_RESERVED = frozenset({"if", "then", "elif", "else", "fi", "do", "done", "while", "until", "{", "}", "!"})
_CASE_END = frozenset({";;", ";&", ";;&"})
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=")
_ARRAY_START = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_ANSI_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b",
                 "f": "\f", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


@dataclass(frozen=True)
class SimpleCommand:
    argv: tuple[str, ...]  # words after quote removal; $VARs and $(...) left as written
    assignments: tuple[str, ...]  # leading NAME=value words, quotes removed
    line: int  # physical line of the command's first word
    raw_words: tuple[str, ...]  # argv as written (quotes kept)
    offset: int = 0  # where the command starts in the script given to split_commands
    word_offsets: tuple[int, ...] = ()  # where each raw word starts; for commands found inside a string
    # (`sh -c "..."`, `bash <<<"..."`) every offset is that string's


def split_commands(script: str, line_of: Callable[[int], int] | None = None) -> list[SimpleCommand]:
    """The simple commands of a shell script, in source order.

    `line_of` maps an offset in `script` to a physical line; without it, lines count from 1 in `script`.
    """
    return _split(script, 0, len(script), line_of or _line_counter(script), depth=0)


def run_commands(instruction: Instruction) -> list[SimpleCommand]:
    """The commands a RUN instruction executes (an ONBUILD's inner instruction is used)."""
    instruction = instruction.inner or instruction
    if instruction.json_args is not None:
        return _exec_form(instruction)
    if instruction.heredocs:
        return _heredoc_form(instruction)
    return split_commands(instruction.args, instruction.line_of)


def unwrap(command: SimpleCommand) -> SimpleCommand:
    """Strip `sudo`, `env`, `exec`, `time`, `nohup` and `command` wrappers and their options.

    Assignments given to `env`/`sudo` (`env A=1 pip ...`) move to `assignments`. `command -v` is a lookup,
    not a wrapper, and is left alone; so is a wrapper with nothing after it.
    """
    for _ in range(len(command.argv)):  # each step removes at least one word
        inner = _strip_wrapper(command)
        if inner is None:
            break
        command = inner
    return command


# --- wrappers ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Wrapper:
    short_with_value: str = ""  # one-letter options that take a value (`sudo -u user`)
    long_with_value: frozenset[str] = frozenset()
    takes_assignments: bool = False  # `env A=1 cmd`, `sudo A=1 cmd`
    not_a_wrapper: frozenset[str] = frozenset()  # options that make it something else (`command -v`)


# sudo's options that take a value, one-letter (`-u tool`) and long (`--user=tool`): those `unwrap` skips.
SUDO_SHORT_VALUE_OPTIONS = "ugCDprtTURh"
SUDO_LONG_VALUE_OPTIONS = frozenset({"user", "group", "close-from", "chdir", "prompt", "role", "type",
                                     "command-timeout", "other-user", "chroot", "host"})
_WRAPPERS = {
    "sudo": _Wrapper(SUDO_SHORT_VALUE_OPTIONS, SUDO_LONG_VALUE_OPTIONS, True),
    "env": _Wrapper("uCS", frozenset({"unset", "chdir", "split-string"}), True,
                    frozenset({"-S", "--split-string"})),
    "exec": _Wrapper("a"),
    "time": _Wrapper("fo", frozenset({"format", "output"})),
    "nohup": _Wrapper(),
    "command": _Wrapper(not_a_wrapper=frozenset({"-v", "-V"})),
}


def _basename(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def _strip_wrapper(command: SimpleCommand) -> SimpleCommand | None:
    if not command.argv or (spec := _WRAPPERS.get(_basename(command.argv[0]))) is None:
        return None
    assignments: list[str] = []
    index = 1
    argv = command.argv
    while index < len(argv):
        word = argv[index]
        if word == "--":
            index += 1
            break
        if word.startswith("-") and len(word) > 1:
            if word.split("=", 1)[0] in spec.not_a_wrapper or word[:2] in spec.not_a_wrapper:
                return None
            index += 1 + _option_values(word, spec)
        elif word == "-" and _basename(argv[0]) == "env":
            index += 1
        elif spec.takes_assignments and _ASSIGNMENT.match(word):
            assignments.append(word)
            index += 1
        else:
            break
    if index >= len(argv):
        return None
    return replace(command, argv=argv[index:], raw_words=command.raw_words[index:],
                   word_offsets=command.word_offsets[index:],
                   assignments=command.assignments + tuple(assignments))


def _option_values(word: str, spec: _Wrapper) -> int:
    """How many following words an option consumes as its value: 0 or 1."""
    if word.startswith("--"):
        return int("=" not in word and word[2:] in spec.long_with_value)
    for position, letter in enumerate(word[1:], start=1):
        if letter in spec.short_with_value:
            return int(position == len(word) - 1)  # `-uroot` carries its value, `-u root` does not
    return 0


def _shell_invocation(command: SimpleCommand) -> tuple[str, int] | None:
    """('c', index of the script) for `sh -c script`, ('stdin', 0) for a shell reading its script from
    standard input, None when this is not a shell or it runs a script file."""
    argv = command.argv
    if not argv or _basename(argv[0]) not in SHELLS:
        return None
    index, with_c, from_stdin = 1, False, False
    while index < len(argv):
        word = argv[index]
        if word in ("--", "-"):
            index += 1
            break
        if word.startswith("--"):
            index += 2 if word in ("--rcfile", "--init-file") else 1
            continue
        if len(word) < 2 or word[0] not in "-+":
            break
        letters = word[1:]
        with_c = with_c or (word[0] == "-" and "c" in letters)
        from_stdin = from_stdin or "s" in letters
        index += 2 if ("o" in letters or "O" in letters) else 1  # `-o pipefail`
    if with_c:
        return ("c", index) if index < len(argv) else None
    if index < len(argv) and not from_stdin:
        return None  # `bash script.sh`
    return ("stdin", 0)


# --- RUN forms ----------------------------------------------------------------------------------------------


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _exec_form(instruction: Instruction) -> list[SimpleCommand]:
    """`RUN ["pip", "install", "x"]`: the array is the argv; `["sh", "-c", "..."]` runs a script."""
    argv = instruction.json_args or ()
    tokens = list(_JSON_STRING.finditer(instruction.args))[:len(argv)]
    offsets = tuple(t.start() for t in tokens) if len(tokens) == len(argv) else (0,) * len(argv)
    raw = tuple(t.group() for t in tokens) if len(tokens) == len(argv) else argv
    if not argv:
        return []
    command = SimpleCommand(argv=argv, assignments=(), line=instruction.line_of(offsets[0]), raw_words=raw,
                            offset=offsets[0], word_offsets=offsets)
    return _run_shell(command, None, depth=0)


def _heredoc_form(instruction: Instruction) -> list[SimpleCommand]:
    """RUN with heredocs, as BuildKit's dispatch runs it.

    `RUN <<EOF` alone: the body is the script (run by its `#!` interpreter if it has one). Otherwise the
    shell gets the command line followed by the bodies and their delimiters, so `python3 <<EOF` reads the
    body as data and `bash <<EOF` as a script.
    """
    if parse_heredoc_word(instruction.args) is not None:
        return _heredoc_script(instruction.heredocs[0])
    script, line_of = _reassemble(instruction)
    return split_commands(script, line_of)


def _heredoc_script(heredoc: Heredoc) -> list[SimpleCommand]:
    body = heredoc.body
    if body.startswith("#!"):
        interpreter = tuple(body.split("\n", 1)[0][2:].split())
        if interpreter and not _is_shell_interpreter(interpreter):
            return [SimpleCommand(argv=interpreter, assignments=(), line=heredoc.start_line,
                                  raw_words=interpreter, word_offsets=(0,) * len(interpreter))]
    return split_commands(body, heredoc.line_of)


def _is_shell_interpreter(words: tuple[str, ...]) -> bool:
    if _basename(words[0]) == "env":  # `#!/usr/bin/env bash`, `#!/usr/bin/env -S bash -e`
        words = tuple(w for w in words[1:] if not w.startswith("-")) or ("",)
    return _basename(words[0]) in SHELLS


def _reassemble(instruction: Instruction) -> tuple[str, Callable[[int], int]]:
    """The script BuildKit hands the shell: args, then "\\n" + body + delimiter per heredoc."""
    parts = [instruction.args]
    starts = [0]
    mappers: list[Callable[[int], int]] = [instruction.line_of]
    position = len(instruction.args)
    for heredoc in instruction.heredocs:
        starts.append(position + 1)
        mappers.append(heredoc.line_of)
        parts.append("\n" + heredoc.body + heredoc.delimiter)
        position += 1 + len(heredoc.body) + len(heredoc.delimiter)

    def line_of(offset: int) -> int:
        index = bisect_right(starts, offset) - 1
        return mappers[index](offset - starts[index])

    return "".join(parts), line_of


def _line_counter(script: str) -> Callable[[int], int]:
    newlines = [i for i, c in enumerate(script) if c == "\n"]
    return lambda offset: 1 + bisect_right(newlines, offset - 1)


# --- splitting ----------------------------------------------------------------------------------------------


@dataclass
class _Word:
    raw: str
    value: str
    start: int
    quoted: bool  # any quoting or escaping: then it is never a reserved word


@dataclass
class _Token:
    kind: str  # word, op, redir, newline, arith, eof
    text: str
    start: int
    word: _Word | None = None
    fd: int | None = None  # `2>file`


@dataclass
class _HereDoc:
    delimiter: str
    strip_tabs: bool
    start: int = -1  # body offsets in the script, once read
    end: int = -1


@dataclass
class _Builder:
    words: list[_Word] = field(default_factory=list)
    assignments: list[_Word] = field(default_factory=list)
    stdin: _HereDoc | _Word | None = None  # a here-document or here-string feeding it


@dataclass
class _Context:
    script: str
    line_of: Callable[[int], int]
    depth: int
    found: list[tuple[SimpleCommand, _HereDoc | _Word | None]] = field(default_factory=list)


def _split(script: str, start: int, end: int, line_of: Callable[[int], int], depth: int) -> list[SimpleCommand]:
    context = _Context(script, line_of, depth)
    _Parser(context, start, end).run()
    commands = [c for command, stdin in context.found for c in _run_shell(command, stdin, depth, context)]
    return sorted(commands, key=lambda c: c.offset)


def _run_shell(command: SimpleCommand, stdin: _HereDoc | _Word | None, depth: int,
               context: _Context | None = None) -> list[SimpleCommand]:
    """Replace a shell given a script (`sh -c "..."`, `bash <<EOF`) by the script's commands."""
    unwrapped = unwrap(command)
    invocation = _shell_invocation(unwrapped) if depth < _MAX_SCRIPT_DEPTH else None
    if invocation is None:
        return [command]
    kind, index = invocation
    if kind == "c":
        at = unwrapped.word_offsets[index] if index < len(unwrapped.word_offsets) else command.offset
        return _split_string(unwrapped.argv[index], command.line, at, depth + 1)
    if isinstance(stdin, _HereDoc) and context is not None and stdin.start >= 0:
        return _split(context.script, stdin.start, stdin.end, context.line_of, depth + 1)
    if isinstance(stdin, _Word):
        return _split_string(stdin.value, command.line, stdin.start, depth + 1)
    return [command]


def _split_string(script: str, line: int, offset: int, depth: int) -> list[SimpleCommand]:
    """Commands of a script held in one word: they all get the word's line and offset."""
    commands = _split(script, 0, len(script), lambda _offset: line, depth)
    return [replace(c, offset=offset, word_offsets=(offset,) * len(c.raw_words)) for c in commands]


class _Parser:
    """Tokenizes `script[start:end]` and collects its simple commands into the context.

    Tokens are pulled one at a time so that here-document bodies are read at the right newline, and a
    `$(...)` is parsed by a nested parser that stops at its closing parenthesis.
    """

    def __init__(self, context: _Context, start: int, end: int, *, in_substitution: bool = False,
                 nesting: int = 0) -> None:
        self.context = context
        self.s = context.script
        self.pos = start
        self.end = end
        self.in_substitution = in_substitution
        self.nesting = nesting
        self.pending_heredocs: list[_HereDoc] = []
        self.command: _Builder | None = None
        self.mode = "command"
        self.pending_redirect: _Token | None = None
        self.parens = 0  # open subshells
        self.cases = 0  # open `case` statements
        self.after_function_name = False  # `name (` has been seen: skip the `)`

    def run(self) -> int:
        """Parse to the end (or the `)` closing a substitution); returns the position after it."""
        while True:
            token = self._next_token()
            if token.kind == "eof":
                self._end_command()
                return self.pos
            if token.kind == "op" and token.text == ")" and self._closes_substitution():
                self._end_command()
                return self.pos
            self._dispatch(token)

    def _closes_substitution(self) -> bool:
        return (self.in_substitution and self.parens == 0 and self.mode != "case_pattern"
                and not self.after_function_name)

    # --- grammar: just enough to know which words start a simple command ---

    def _dispatch(self, token: _Token) -> None:
        if self.pending_redirect is not None:
            redirect, self.pending_redirect = self.pending_redirect, None
            if token.word is not None:
                self._redirect(redirect, token.word)
                return
        handler = getattr(self, "_in_" + self.mode, None)
        if handler is None or not handler(token):
            self._in_command(token)

    def _in_command(self, token: _Token) -> bool:
        if self.after_function_name and token.kind == "op" and token.text == ")":
            self.after_function_name = False
            return True
        self.after_function_name = False
        if token.word is not None:
            self._word(token.word)
        elif token.kind == "redir":
            self._builder()
            self.pending_redirect = token
        elif token.kind == "op":
            self._operator(token.text)
        else:  # newline, or an arithmetic `(( ))` command
            self._end_command()
        return True

    def _word(self, word: _Word) -> None:
        if self.command is None and not word.quoted and self._reserved(word):
            return
        builder = self._builder()
        if not builder.words and _ASSIGNMENT.match(word.raw):
            builder.assignments.append(word)
        else:
            builder.words.append(word)

    def _reserved(self, word: _Word) -> bool:
        """Handle a reserved word in command position; False if the word is an ordinary one."""
        value = word.value
        if value in _SKIPPED_RESERVED:
            return True
        if value == "esac":
            self.cases = max(self.cases - 1, 0)
        elif value in ("for", "select"):
            self.mode = "for_name"
        elif value == "case":
            self.mode = "case_subject"
        elif value == "function":
            self.mode = "function_name"
        elif value == "[[":
            self._builder().words.append(word)
            self.mode = "condition"
        else:
            return False
        return True

    def _operator(self, op: str) -> None:
        if op == "(":
            builder = self.command
            if builder is not None and len(builder.words) == 1 and not builder.assignments:
                self.command = None  # `name() { ...; }` defines a function: not a command
                self.after_function_name = True
                return
            self._end_command()
            self.parens += 1
            return
        self._end_command()
        if op == ")":
            self.parens = max(self.parens - 1, 0)
        elif op in _CASE_END and self.cases:
            self.mode = "case_pattern"

    def _in_for_name(self, token: _Token) -> bool:
        self.mode = "for_in" if token.kind == "word" else "command"
        return token.kind in ("word", "arith")  # `for NAME` or `for ((...))`

    def _in_for_in(self, token: _Token) -> bool:
        if token.kind == "newline":
            return True
        if token.word is not None and token.word.raw == "in":
            self.mode = "for_words"
            return True
        self.mode = "command"
        return token.kind == "op" and token.text == ";"

    def _in_for_words(self, token: _Token) -> bool:
        if token.kind == "word":
            return True
        self.mode = "command"
        return token.kind == "newline" or (token.kind == "op" and token.text == ";")

    def _in_case_subject(self, token: _Token) -> bool:
        self.mode = "case_in" if token.kind == "word" else "command"
        return token.kind == "word"

    def _in_case_in(self, token: _Token) -> bool:
        if token.kind == "newline":
            return True
        if token.word is not None and token.word.raw == "in":
            self.mode = "case_pattern"
            self.cases += 1
            return True
        self.mode = "command"
        return False

    def _in_case_pattern(self, token: _Token) -> bool:
        """Patterns up to `)`; then the branch's commands. `esac` closes the case."""
        if token.word is not None and token.word.raw == "esac":
            self.cases = max(self.cases - 1, 0)
            self.mode = "command"
        elif token.kind == "op" and token.text == ")":
            self.mode = "command"
        return True

    def _in_function_name(self, token: _Token) -> bool:
        self.mode = "command"
        if token.kind == "word":
            self.after_function_name = True  # an optional `()` may follow
            return True
        return False

    def _in_condition(self, token: _Token) -> bool:
        """Inside `[[ ... ]]` operators are part of the test: `[[ -f a && -f b ]]` is one command."""
        if token.kind == "newline":
            return True
        word = token.word or _Word(token.text, token.text, token.start, False)
        self._builder().words.append(word)
        if word.raw == "]]":
            self.mode = "command"
            self._end_command()
        return True

    def _redirect(self, redirect: _Token, target: _Word) -> None:
        builder = self._builder()
        reads_stdin = redirect.fd in (None, 0)
        if redirect.text in ("<<", "<<-"):
            heredoc = _HereDoc(target.value, strip_tabs=redirect.text == "<<-")
            self.pending_heredocs.append(heredoc)
            if reads_stdin:
                builder.stdin = heredoc
        elif redirect.text == "<<<" and reads_stdin:
            builder.stdin = target
        elif redirect.text in ("<", "<>") and reads_stdin:
            builder.stdin = None

    def _builder(self) -> _Builder:
        if self.command is None:
            self.command = _Builder()
        return self.command

    def _end_command(self) -> None:
        builder, self.command = self.command, None
        self.pending_redirect = None
        if builder is None or not (builder.words or builder.assignments):
            return
        first = min(w.start for w in builder.words + builder.assignments)
        command = SimpleCommand(
            argv=tuple(w.value for w in builder.words),
            assignments=tuple(w.value for w in builder.assignments),
            line=self.context.line_of(first),
            raw_words=tuple(w.raw for w in builder.words),
            offset=first,
            word_offsets=tuple(w.start for w in builder.words),
        )
        self.context.found.append((command, builder.stdin))

    # --- tokens ---

    def _next_token(self) -> _Token:
        self._skip_blanks_and_comments()
        start = self.pos
        if start >= self.end:
            return _Token("eof", "", start)
        s = self.s
        if s[start] == "\n":
            self.pos += 1
            self._read_heredoc_bodies()
            return _Token("newline", "\n", start)
        if s.startswith("((", start, self.end):
            self.pos = self._skip_parens(start)
            return _Token("arith", s[start:self.pos], start)
        if s[start] in "<>" and s.startswith("(", start + 1, self.end):
            return self._process_substitution(start)
        redirect = self._redirection(start)
        if redirect is not None:
            return redirect
        for op in _OPERATORS:
            if s.startswith(op, start, self.end):
                self.pos += len(op)
                return _Token("op", op, start)
        word = self._scan_word()
        return _Token("word", word.raw, start, word)

    def _skip_blanks_and_comments(self) -> None:
        s, end = self.s, self.end
        while self.pos < end:
            ch = s[self.pos]
            if ch in _BLANKS:
                self.pos += 1
            elif ch == "\\" and s.startswith("\n", self.pos + 1, end):
                self.pos += 2  # a backslash-newline between words joins the lines
            elif ch == "#":  # at the start of a word: a comment to the end of the line
                newline = s.find("\n", self.pos, end)
                self.pos = end if newline < 0 else newline
            else:
                return

    def _redirection(self, start: int) -> _Token | None:
        s = self.s
        digits = start
        while digits < self.end and s[digits].isdigit() and s[digits].isascii():
            digits += 1
        for op in _REDIRECTIONS:
            if s.startswith(op, digits, self.end) and not (digits > start and op.startswith("&")):
                self.pos = digits + len(op)
                fd = int(s[start:digits]) if start < digits <= start + 9 else None
                return _Token("redir", op, start, fd=fd)
        return None

    def _process_substitution(self, start: int) -> _Token:
        self.pos = self._substitution(start + 2)
        raw = self.s[start:self.pos]
        return _Token("word", raw, start, _Word(raw, raw, start, True))

    def _read_heredoc_bodies(self) -> None:
        """After a newline: the bodies of the here-documents opened on the line just ended."""
        s, end = self.s, self.end
        for heredoc in self.pending_heredocs:
            heredoc.start = heredoc.end = self.pos
            while self.pos < end:
                newline = s.find("\n", self.pos, end)
                line_end = end if newline < 0 else newline
                line = s[self.pos:line_end].rstrip("\r")
                next_line = end if newline < 0 else newline + 1
                if (line.lstrip("\t") if heredoc.strip_tabs else line) == heredoc.delimiter:
                    heredoc.end = self.pos
                    self.pos = next_line
                    break
                self.pos = heredoc.end = next_line
        self.pending_heredocs = []

    # --- words ---

    def _scan_word(self) -> _Word:
        start = self.pos
        parts: list[str] = []
        quoted = False
        s, end = self.s, self.end
        while self.pos < end:
            ch = s[self.pos]
            if ch in _WORD_END:
                if ch == "(" and _ARRAY_START.fullmatch(s, start, self.pos):  # `a=(1 2)`
                    self._append_raw(parts, self._skip_parens(self.pos))
                    continue
                break
            if ch == "\\":
                quoted = self._scan_backslash(parts) or quoted
            elif ch == "'":
                quoted = True
                self._scan_single_quoted(parts)
            elif ch == '"':
                quoted = True
                self._scan_double_quoted(parts)
            elif ch == "$":
                quoted = self._scan_dollar(parts, in_double_quotes=False) or quoted
            elif ch == "`":
                self._scan_backticks(parts)
            else:
                parts.append(ch)
                self.pos += 1
        if self.pos == start:  # cannot happen for a well-formed token table; never loop forever
            self.pos += 1
        return _Word(s[start:self.pos], "".join(parts), start, quoted)

    def _append_raw(self, parts: list[str], stop: int) -> None:
        parts.append(self.s[self.pos:stop])
        self.pos = stop

    def _scan_backslash(self, parts: list[str]) -> bool:
        """`\\x` is a literal x; a backslash-newline disappears. Returns whether something was quoted."""
        following = self.s[self.pos + 1] if self.pos + 1 < self.end else ""
        self.pos += 2 if following else 1
        if following == "\n":
            return False
        parts.append(following or "\\")
        return True

    def _scan_single_quoted(self, parts: list[str]) -> None:
        close = self.s.find("'", self.pos + 1, self.end)
        stop = self.end if close < 0 else close
        parts.append(self.s[self.pos + 1:stop])
        self.pos = min(stop + 1, self.end)

    def _scan_double_quoted(self, parts: list[str]) -> None:
        s, end = self.s, self.end
        self.pos += 1
        while self.pos < end:
            ch = s[self.pos]
            if ch == '"':
                self.pos += 1
                return
            if ch == "\\" and self.pos + 1 < end and s[self.pos + 1] in '$`"\\\n':
                if s[self.pos + 1] != "\n":
                    parts.append(s[self.pos + 1])
                self.pos += 2
            elif ch == "$":
                self._scan_dollar(parts, in_double_quotes=True)
            elif ch == "`":
                self._scan_backticks(parts)
            else:
                parts.append(ch)
                self.pos += 1

    def _scan_dollar(self, parts: list[str], in_double_quotes: bool) -> bool:
        """`$(...)`, `$((...))`, `${...}`, `$'...'`, `$"..."` or a plain `$`. Returns whether it quoted."""
        s, start = self.s, self.pos
        following = s[start + 1] if start + 1 < self.end else ""
        if following == "(":
            if s.startswith("(", start + 2, self.end):
                stop = self._skip_parens(start + 1)  # arithmetic: no commands inside
            else:
                stop = self._substitution(start + 2)
            self._append_raw(parts, stop)
        elif following == "{":
            self._append_raw(parts, self._skip_braces(start + 1))
        elif following == "'" and not in_double_quotes:
            self._scan_ansi_c(parts)
            return True
        elif following == '"' and not in_double_quotes:
            self.pos += 1
            self._scan_double_quoted(parts)
            return True
        else:
            parts.append("$")
            self.pos += 1
        return False

    def _scan_ansi_c(self, parts: list[str]) -> None:
        """`$'a\\tb'`: bash's C-style string."""
        s, end = self.s, self.end
        self.pos += 2
        while self.pos < end and s[self.pos] != "'":
            if s[self.pos] == "\\" and self.pos + 1 < end:
                code = s[self.pos + 1]
                parts.append(_ANSI_ESCAPES.get(code, "\\" + code))
                self.pos += 2
            else:
                parts.append(s[self.pos])
                self.pos += 1
        self.pos = min(self.pos + 1, end)

    def _scan_backticks(self, parts: list[str]) -> None:
        s, start = self.s, self.pos
        close = start + 1
        while close < self.end and s[close] != "`":
            close += 2 if s[close] == "\\" else 1
        close = min(close, self.end)
        if self.nesting < _MAX_NESTING:
            _Parser(self.context, start + 1, close, nesting=self.nesting + 1).run()
        self._append_raw(parts, min(close + 1, self.end))

    def _substitution(self, start: int) -> int:
        """Parse the commands of `$(` / `<(` from `start`; returns the position after its `)`."""
        if self.nesting >= _MAX_NESTING:
            return self._skip_parens(start - 1)
        nested = _Parser(self.context, start, self.end, in_substitution=True, nesting=self.nesting + 1)
        return nested.run()

    def _skip_parens(self, open_at: int) -> int:
        return self._skip_balanced(open_at, "(", ")")

    def _skip_braces(self, open_at: int) -> int:
        return self._skip_balanced(open_at, "{", "}")

    def _skip_balanced(self, open_at: int, opening: str, closing: str) -> int:
        """Position after the bracket matching `s[open_at]`, skipping quoted text; the end if none."""
        s, end = self.s, self.end
        depth = 0
        pos = open_at
        while pos < end:
            ch = s[pos]
            if ch == "\\":
                pos += 2
                continue
            if ch == "'":
                close = s.find("'", pos + 1, end)
                pos = end if close < 0 else close + 1
                continue
            if ch == '"':
                pos = self._skip_double_quoted(pos)
                continue
            if ch == opening:
                depth += 1
            elif ch == closing:
                depth -= 1
                if depth == 0:
                    return pos + 1
            pos += 1
        return end

    def _skip_double_quoted(self, open_at: int) -> int:
        s, end = self.s, self.end
        pos = open_at + 1
        while pos < end and s[pos] != '"':
            pos += 2 if s[pos] == "\\" else 1
        return min(pos + 1, end)
