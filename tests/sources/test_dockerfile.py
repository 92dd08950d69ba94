"""Conformance tests for the Dockerfile reader: each case is BuildKit's documented or coded behaviour.

Where a test says "BuildKit", the behaviour was read in moby/buildkit frontend/dockerfile/parser (parser.go,
directives.go, split_command.go, line_parsers.go) or shell/lex.go; docs/dockerfile-reader.md lists them.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envdoctor.sources.dockerfile import (
    Flag, arg_defaults, expand, parse_dockerfile, parse_heredoc_word, parse_key_values,
)


def only(text: str):
    """The single instruction of `text`."""
    df = parse_dockerfile(text)
    assert len(df.instructions) == 1, df.instructions
    return df.instructions[0]


def keywords(text: str) -> list[str]:
    return [i.keyword for i in parse_dockerfile(text).instructions]


# --- parser directives ---------------------------------------------------------------------------------


def test_directives_at_top_are_read_case_insensitively_with_spaces():
    df = parse_dockerfile("# SYNTAX = docker/dockerfile:1.7\n#check=skip=JSONArgsRecommended\nFROM x\n")
    assert df.directives == {"syntax": "docker/dockerfile:1.7", "check": "skip=JSONArgsRecommended"}
    assert keywords("# syntax=a\nFROM x\n") == ["FROM"]  # a directive is not an instruction


def test_directive_value_is_trimmed_and_may_contain_spaces():
    assert parse_dockerfile("#  syntax  =  a b  \nFROM x\n").directives == {"syntax": "a b"}


def test_directive_scanning_stops_at_first_comment():
    df = parse_dockerfile("# a comment\n# escape=`\nFROM x\n")
    assert df.directives == {} and df.escape == "\\"


def test_directive_scanning_stops_at_blank_line():
    assert parse_dockerfile("# syntax=a\n\n# escape=`\nFROM x\n").directives == {"syntax": "a"}


def test_directive_scanning_stops_at_instruction():
    assert parse_dockerfile("FROM x\n# escape=`\n").directives == {}


def test_unknown_directive_ends_the_directive_block():
    assert parse_dockerfile("# foo=bar\n# escape=`\nFROM x\n").directives == {}


def test_repeated_directive_keeps_first_and_ends_block():
    df = parse_dockerfile("# escape=`\n# escape=\\\n# syntax=a\nFROM x\n")
    assert df.directives == {"escape": "`"} and df.escape == "`"


def test_directive_after_leading_whitespace_on_its_line():
    assert parse_dockerfile("   # escape=`\nFROM x\n").escape == "`"


def test_invalid_escape_value_keeps_backslash():
    df = parse_dockerfile("# escape=x\nRUN a \\\n b\n")
    assert df.directives == {"escape": "x"} and df.escape == "\\"
    assert df.instructions[0].args == "a  b"


def test_escape_backtick_changes_continuation():
    df = parse_dockerfile("# escape=`\nFROM x\nRUN dir c:\\ `\n  /b\nRUN echo a\\\nRUN next\n")
    assert df.escape == "`"
    runs = df.instructions[1:]
    assert [r.args for r in runs] == ["dir c:\\   /b", "echo a\\", "next"]
    assert [(r.start_line, r.end_line) for r in runs] == [(3, 4), (5, 5), (6, 6)]


# --- BOM, CRLF, comments, blank lines --------------------------------------------------------------------


def test_utf8_bom_is_ignored():
    df = parse_dockerfile("\ufeff# syntax=a\nFROM x\n")
    assert df.directives == {"syntax": "a"} and keywords("\ufeffFROM x") == ["FROM"]


def test_crlf_line_endings_keep_line_numbers():
    df = parse_dockerfile("FROM x\r\nRUN a \\\r\n  b\r\nRUN c\r\n")
    assert [(i.keyword, i.args, i.start_line, i.end_line) for i in df.instructions] == [
        ("FROM", "x", 1, 1), ("RUN", "a   b", 2, 3), ("RUN", "c", 4, 4)]
    assert df.line_count == 4


def test_lone_cr_does_not_end_a_line():
    assert parse_dockerfile("FROM x\rRUN y\n").line_count == 1


def test_comment_lines_are_dropped():
    assert keywords("# c\n  # indented\nFROM x\n#RUN no\n") == ["FROM"]


def test_comment_inside_continuation_is_dropped():
    ins = only("RUN apk add \\\n# a comment\n    # indented comment\n    curl\n")
    assert ins.args == "apk add     curl" and (ins.start_line, ins.end_line) == (1, 4)


def test_blank_lines_inside_continuation_are_skipped():
    ins = only("RUN apk add \\\n\n   \t\n    curl\n")
    assert ins.args == "apk add     curl" and ins.end_line == 4


def test_hash_inside_an_instruction_is_not_a_comment():
    assert only("RUN echo a # not a comment\n").args == "echo a # not a comment"


# --- continuation -----------------------------------------------------------------------------------------


def test_continuation_joins_lines_without_separator():
    assert only("RUN a\\\nb\n").args == "ab"


def test_continuation_allows_trailing_blanks_after_escape():
    ins = only("RUN a \\  \t\n  b\n")
    assert ins.args == "a   b" and ins.end_line == 2


def test_escaped_backslash_at_end_of_line_is_not_a_continuation():
    df = parse_dockerfile("RUN echo foo\\\\\nRUN echo bar\n")
    assert [(i.args, i.start_line) for i in df.instructions] == [("echo foo\\\\", 1), ("echo bar", 2)]


def test_three_backslashes_are_not_a_continuation_either():
    # BuildKit's regex needs a non-escape character before the final escape (documented limitation there).
    assert keywords("RUN a \\\\\\\nRUN b\n") == ["RUN", "RUN"]


def test_escape_alone_on_a_line_continues():
    ins = only("RUN a \\\n\\\n b\n")
    assert ins.args == "a  b" and ins.end_line == 3


def test_trailing_escape_at_end_of_file_ends_instruction():
    df = parse_dockerfile("FROM x\nRUN echo a \\")
    assert [(i.keyword, i.args, i.end_line) for i in df.instructions] == [("FROM", "x", 1), ("RUN", "echo a", 2)]


def test_trailing_escape_followed_only_by_comments_and_blanks():
    ins = only("RUN echo a \\\n# c\n\n")
    assert ins.args == "echo a" and (ins.start_line, ins.end_line) == (1, 3)


def test_lone_escape_at_end_of_file_makes_no_instruction():
    assert parse_dockerfile("FROM x\n\\\n").instructions[-1].keyword == "FROM"


def test_exact_start_and_end_lines():
    text = "# syntax=a\n\nFROM x AS b\n\nRUN one \\\n  two \\\n\n  # c\n  three\nCMD [\"x\"]\n"
    df = parse_dockerfile(text)
    assert [(i.keyword, i.start_line, i.end_line) for i in df.instructions] == [
        ("FROM", 3, 3), ("RUN", 5, 9), ("CMD", 10, 10)]
    assert df.line_count == 10


def test_line_of_maps_offsets_of_a_multiline_run_to_physical_lines():
    text = "FROM x\nRUN apt-get update \\\n    # comment\n    && pip install \\\n        requests \\\n\n    && echo ok\n"
    run = parse_dockerfile(text).instructions[1]
    assert run.args == "apt-get update     && pip install         requests     && echo ok"
    assert run.line_of(run.args.index("apt-get")) == 2
    assert run.line_of(run.args.index("pip")) == 4
    assert run.line_of(run.args.index("requests")) == 5
    assert run.line_of(run.args.index("echo")) == 7
    assert run.line_of(-5) == 2 and run.line_of(10_000) == 7


def test_line_of_accounts_for_flags_before_args():
    run = only("RUN --mount=type=cache,target=/c \\\n  pip install x\n")
    assert run.args == "pip install x" and run.line_of(0) == 2


def test_line_of_original_covers_flags_on_continuation_lines():
    dockerfile = parse_dockerfile("FROM scratch\nCOPY --chown=1:1 \\\n    --from=python \\\n    /a /b\n")
    copy = dockerfile.stages[0].instructions[0]
    assert copy.line_of(0) == 4  # args start on line 4
    assert copy.line_of_original(copy.original.find("--from")) == 3
    assert copy.line_of_original(0) == 2


# --- heredocs ---------------------------------------------------------------------------------------------


def test_heredoc_body_is_not_read_as_instructions():
    text = "FROM x\nRUN <<EOF\napt-get update\nFROM not-a-stage\nEOF\nRUN echo done\n"
    assert keywords(text) == ["FROM", "RUN", "RUN"]
    run = parse_dockerfile(text).instructions[1]
    assert run.args == "<<EOF" and (run.start_line, run.end_line) == (2, 5)
    (doc,) = run.heredocs
    assert (doc.delimiter, doc.body, doc.start_line, doc.end_line) == (
        "EOF", "apt-get update\nFROM not-a-stage\n", 3, 5)
    assert not doc.strip_tabs and not doc.quoted and doc.terminated


def test_heredoc_body_lines_are_kept_verbatim():
    doc = only("RUN <<EOF\n  # not a comment \\\n\n\tx\nEOF\n").heredocs[0]
    assert doc.body == "  # not a comment \\\n\n\tx\n"


def test_heredoc_dash_strips_leading_tabs_from_body_and_delimiter():
    ins = only("RUN <<-EOT\n\t\techo a\n\t  b\n\tEOT\n")
    doc = ins.heredocs[0]
    assert doc.strip_tabs and doc.body == "echo a\n  b\n" and doc.end_line == 4


def test_heredoc_without_dash_needs_exact_delimiter_line():
    doc = parse_dockerfile("RUN <<EOT\n\tEOT\nEOT \nEOT\n").instructions[0].heredocs[0]
    assert doc.body == "\tEOT\nEOT \n" and doc.end_line == 4


@pytest.mark.parametrize("word", ['<<"EOF"', "<<'EOF'", '<<E"O"F', '<<-"EOF"'])
def test_quoted_heredoc_delimiter(word):
    ins = only(f"COPY {word} /f\n$HOME\nEOF\n")
    doc = ins.heredocs[0]
    assert doc.delimiter == "EOF" and doc.quoted and doc.body == "$HOME\n"


def test_several_heredocs_in_one_instruction():
    ins = only("COPY <<robots.txt <<humans.txt /srv/\nUser-agent: *\nrobots.txt\nme\nhumans.txt\n")
    assert [(d.delimiter, d.body, d.start_line, d.end_line) for d in ins.heredocs] == [
        ("robots.txt", "User-agent: *\n", 2, 3), ("humans.txt", "me\n", 4, 5)]
    assert ins.end_line == 5


def test_unterminated_heredoc_runs_to_end_of_file():
    text = "FROM x\nRUN <<EOF\nRUN a\nRUN b\n"
    assert keywords(text) == ["FROM", "RUN"]
    df = parse_dockerfile(text)
    doc = df.instructions[1].heredocs[0]
    assert doc.body == "RUN a\nRUN b\n" and not doc.terminated and doc.end_line == 4 == df.instructions[1].end_line


def test_empty_heredoc_body():
    doc = only("RUN <<EOF\nEOF\n").heredocs[0]
    assert doc.body == "" and doc.start_line == doc.end_line == 2


def test_heredoc_body_keeps_crlf_and_terminator_matches_with_crlf():
    doc = only("RUN <<EOF\r\necho a\r\nEOF\r\n").heredocs[0]
    assert doc.body == "echo a\r\n" and doc.terminated


def test_heredoc_on_a_continued_line():
    ins = only("RUN <<EOF \\\n  bash\necho hi\nEOF\n")
    assert ins.args == "<<EOF   bash" and ins.heredocs[0].body == "echo hi\n" and ins.end_line == 4


def test_heredoc_word_must_start_the_word():
    # `cat<<EOF` is one word that does not start with `<<`: BuildKit reads no heredoc, the body lines are
    # instructions.
    assert keywords("RUN cat<<EOF\nEOF\n") == ["RUN", "EOF"]


def test_heredoc_only_for_run_copy_add_in_shell_form():
    assert keywords("ENV a=<<EOF\nEOF\n") == ["ENV", "EOF"]
    assert keywords('RUN ["cat", "<<EOF"]\nEOF\n') == ["RUN", "EOF"]
    assert only("ADD <<EOF /x\nhi\nEOF\n").heredocs[0].body == "hi\n"


def test_heredoc_in_line_with_unterminated_quote_is_ignored_like_buildkit():
    assert keywords("RUN echo 'a <<EOF\nEOF\n") == ["RUN", "EOF"]


def test_heredoc_with_file_descriptor_and_line_of():
    doc = only("RUN 3<<EOF cat /dev/fd/3\na\nb\nEOF\n").heredocs[0]
    assert doc.fd == 3
    assert [doc.line_of(i) for i in (0, 2, 3, 99)] == [2, 3, 3, 4]


def test_parse_heredoc_word():
    assert parse_heredoc_word("<<-'END'") == ("END", True, True, 0)
    assert parse_heredoc_word("2<<X") == ("X", False, False, 2)
    assert parse_heredoc_word("<<") is None and parse_heredoc_word("<<<x") is None
    assert parse_heredoc_word("<<a b") is None  # the name must be one word


# --- JSON vs shell form, flags, ONBUILD ------------------------------------------------------------------------


def test_json_form():
    ins = only('CMD ["python", "-m", "app"]\n')
    assert ins.json_args == ("python", "-m", "app")


def test_empty_json_array_is_json_form():
    assert only("CMD []\n").json_args == ()


@pytest.mark.parametrize("args", ['["a", 1]', "['a']", '["a"', '["a"] x', "echo [a]", "[not json"])
def test_invalid_json_is_shell_form(args):
    ins = only(f"RUN {args}\n")
    assert ins.json_args is None and ins.args == args


def test_json_form_only_for_exec_instructions():
    assert only('LABEL ["a"]\n').json_args is None
    assert only('COPY ["a b", "/c/"]\n').json_args == ("a b", "/c/")
    assert only('HEALTHCHECK --interval=5s CMD ["curl", "-f", "x"]\n').json_args == ("curl", "-f", "x")


def test_flags_are_split_from_args():
    ins = only("RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=pip "
               "--network=none --security=insecure pip install x\n")
    assert ins.args == "pip install x"
    assert [f.name for f in ins.flags] == ["mount", "mount", "network", "security"]
    assert [f.options() for f in ins.flags_named("mount")] == [
        {"type": "cache", "target": "/root/.cache"}, {"type": "secret", "id": "pip"}]
    assert ins.flag("network") == "none" and ins.flag("absent") is None


def test_flags_without_value_and_quoted_values():
    ins = only('COPY --link --chown="app user" --from=builder /a /b\n')
    assert ins.flags == (Flag("link", None), Flag("chown", "app user"), Flag("from", "builder"))
    assert ins.flag("link") == "" and ins.args == "/a /b"


def test_flag_parsing_stops_at_first_non_flag_and_at_double_dash():
    assert only("RUN echo --not-a-flag\n").flags == ()
    ins = only("RUN --network=host -- --looks-like-flag\n")
    assert ins.flags == (Flag("network", "host"),) and ins.args == "--looks-like-flag"


def test_flag_options_csv_and_bare_keys():
    flag = Flag("mount", 'type=bind,"source=a,b",ro,TARGET=/x')
    assert flag.options() == {"type": "bind", "source": "a,b", "ro": "", "target": "/x"}
    assert Flag("link", None).options() == {}


def test_platform_flag_on_from():
    df = parse_dockerfile("FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n")
    assert df.stages[0].platform == "$BUILDPLATFORM" and df.stages[0].image == "golang:1.22"


def test_keywords_are_case_insensitive_and_stored_upper_case():
    assert keywords("from x\nRun a\ncOpY a b\n") == ["FROM", "RUN", "COPY"]


def test_unknown_instructions_are_kept():
    assert only("FOO bar baz\n").keyword == "FOO"


def test_onbuild_exposes_the_inner_instruction():
    ins = only("ONBUILD RUN --mount=type=cache,target=/c pip install \\\n  x\n")
    assert ins.keyword == "ONBUILD" and ins.args == "RUN --mount=type=cache,target=/c pip install   x"
    inner = ins.inner
    assert inner.keyword == "RUN" and inner.args == "pip install   x" and inner.flag("mount")
    assert inner.line_of(inner.args.index("x")) == 2


def test_onbuild_inner_json_and_heredoc():
    assert only('onbuild cmd ["a"]\n').inner.json_args == ("a",)
    ins = only("ONBUILD RUN <<EOF\necho a\nEOF\n")
    assert ins.inner.heredocs[0].body == "echo a\n" and ins.end_line == ins.inner.end_line == 3


def test_onbuild_without_args_has_no_inner():
    assert only("ONBUILD\n").inner is None


# --- stages and ARG scope --------------------------------------------------------------------------------------


def test_stages_names_indexes_images_and_global_args():
    df = parse_dockerfile("ARG PY=3.12\nARG BASE\nFROM python:${PY} AS Build\nRUN a\nFROM scratch\nCOPY --from=build / /\n")
    assert [a.args for a in df.global_args] == ["PY=3.12", "BASE"]
    assert [(s.index, s.name, s.image) for s in df.stages] == [(0, "build", "python:${PY}"), (1, None, "scratch")]
    assert [i.keyword for i in df.stages[0].instructions] == ["RUN"]
    assert df.stages[1].from_instruction.start_line == 5
    assert df.stage("BUILD") is df.stages[0] and df.stage(1) is df.stages[1] and df.stage(5) is None


def test_as_is_case_insensitive():
    assert parse_dockerfile("FROM x as Final\n").stages[0].name == "final"


def test_instructions_before_first_from_are_not_in_a_stage():
    df = parse_dockerfile("RUN early\nARG A\nFROM x\n")
    assert len(df.instructions) == 3 and [a.args for a in df.global_args] == ["A"]
    assert df.stages[0].instructions == ()


def test_global_scope_expands_in_order():
    df = parse_dockerfile("ARG A=1\nARG B=${A}2\nARG C\nFROM x:$B\n")
    assert df.global_scope() == {"A": "1", "B": "12", "C": None}


def test_default_of_an_argument_without_a_value_is_used():
    """`ARG V` then `${V:-latest}`: without a --build-arg, BuildKit uses the default."""
    dockerfile = parse_dockerfile("ARG V\nFROM python:${V:-latest}\n")
    scope = dockerfile.global_scope()
    assert expand(dockerfile.stages[0].image, scope) == "python:latest"
    assert expand("${V-x}", scope) == "x"
    assert expand("${V:+set}", scope) is None  # depends on whether it is given: unknown
    assert expand("$V", scope) is None


def test_global_arg_visible_in_stage_only_when_redeclared():
    df = parse_dockerfile("ARG V=1.0\nFROM x:$V\nRUN a\nFROM y\nARG V\nRUN b\n")
    assert df.stage_scope(df.stages[0]) == {}
    assert df.stage_scope(df.stages[1]) == {"V": "1.0"}
    before_arg = df.stages[1].instructions[0]
    assert df.stage_scope(df.stages[1], before=before_arg) == {}


def test_stage_arg_and_env_forms():
    df = parse_dockerfile('FROM x\nARG A=1\nENV B=$A C="two words" \\\n    D=${A}x\nENV E legacy value\nARG F\n')
    assert df.stage_scope(df.stages[0]) == {"A": "1", "B": "1", "C": "two words", "D": "1x", "E": "legacy value",
                                            "F": None}


def test_env_wins_over_arg_of_same_name():
    df = parse_dockerfile("FROM x\nENV A=env\nARG A=arg\nRUN x\n")
    assert df.stage_scope(df.stages[0])["A"] == "env"


def test_stage_from_earlier_stage_inherits_its_variables():
    df = parse_dockerfile("FROM x AS base\nARG A=1\nENV B=2\nFROM base AS child\nENV C=$B\nFROM x\n")
    assert df.base_stage(df.stages[1]) is df.stages[0]
    assert df.stage_scope(df.stages[1]) == {"A": "1", "B": "2", "C": "2"}
    assert df.stage_scope(df.stages[2]) == {}


def test_arg_defaults_helper():
    df = parse_dockerfile("ARG A=x\nARG B=$A-$C\nARG D=${C:-d}\n")
    assert arg_defaults(df.instructions, {"C": "c"}) == {"A": "x", "B": "x-c", "D": "c"}
    assert arg_defaults(df.instructions) == {"A": "x", "B": None, "D": None}


def test_parse_key_values():
    assert parse_key_values('a=1 b="two words" c=\'$x\' d=') == {"a": "1", "b": '"two words"', "c": "'$x'", "d": ""}
    assert parse_key_values("A some value") == {"A": "some value"}
    assert parse_key_values("A B", keyword="ARG") == {"A": None, "B": None}
    assert parse_key_values("k=a\\ b") == {"k": "a\\ b"}
    assert parse_key_values('k="a`" b" x=1', escape="`") == {"k": '"a`" b"', "x": "1"}  # escaped quote
    assert parse_key_values('k=a`" b', escape="`") == {"k": 'a`"', "b": None}  # no quote was opened
    assert parse_key_values("") == {}


# --- expand -----------------------------------------------------------------------------------------------------------


V = {"SET": "val", "EMPTY": "", "PATH": "/usr/local/bin:/usr/bin", "F": "a/b/c.tar.gz", "DECLARED": None}


@pytest.mark.parametrize("text, expected", [
    ("$SET", "val"), ("${SET}", "val"), ("x${SET}y", "xvaly"), ("$SET$SET", "valval"),
    ("${SET:-d}", "val"), ("${EMPTY:-d}", "d"), ("${EMPTY-d}", ""),
    ("${SET:+w}", "w"), ("${EMPTY:+w}", ""), ("${EMPTY+w}", "w"),
    ("${SET:?msg}", "val"), ("${EMPTY?msg}", ""),
    ("${DECLARED:-d}", "d"), ("${DECLARED-d}", "d"),
    ("${F#*/}", "b/c.tar.gz"), ("${F##*/}", "c.tar.gz"), ("${F%.*}", "a/b/c.tar"), ("${F%%.*}", "a/b/c"),
    ("${F/b/X}", "a/X/c.tar.gz"), ("${F//\\//-}", "a-b-c.tar.gz"), ("${F/#a/Z}", "a/b/c.tar.gz"),
    ("${EMPTY:-${SET}}", "val"), ("${EMPTY:-\"a b\"}", "a b"), ("${SET:-$UNKNOWN}", "val"),
    ("'$SET'", "$SET"), ('"$SET"', "val"), ('"a \\" b"', 'a " b'), ("\\$SET", "$SET"), ('"\\q"', "\\q"),
    ("$", "$"), ("a$ b", "a$ b"), ("${PATH}:/x", "/usr/local/bin:/usr/bin:/x"), ("plain", "plain"),
])
def test_expand_operators(text, expected):
    assert expand(text, V) == expected


@pytest.mark.parametrize("text", [
    "$UNKNOWN", "${UNKNOWN}", "${UNKNOWN:-d}", "${UNKNOWN-d}", "${UNKNOWN:+w}", "${UNKNOWN+w}",
    "${EMPTY:-$UNKNOWN}", "${SET:+$UNKNOWN}", "$1", "$@", "$DECLARED", "x${DECLARED}", "${DECLARED:+w}",
    "${DECLARED:-$UNKNOWN}", "${DECLARED#x}",
])
def test_expand_unknown_variable_gives_none(text):
    assert expand(text, V) is None


@pytest.mark.parametrize("text", ["${}", "${:x}", "${SET", "${EMPTY:?}", "'open", '"open', "${SET!}", "${SET:#x}"])
def test_expand_buildkit_errors_give_none(text):
    assert expand(text, V) is None


def test_expand_with_backtick_escape():
    assert expand("`$SET", V, escape="`") == "$SET" and expand("\\$SET", V, escape="`") == "\\val"


def test_expand_stays_bounded_on_hostile_input():
    assert expand("${A:-" * 500 + "x" + "}" * 500, {"A": ""}) is None  # nesting limit
    doubling = {"A": "x" * 40_000}
    assert expand("$A$A", doubling) is None and expand('"$A" "$A"', doubling) is None  # value size limit
    assert expand("${A#*a*b}", {"A": "a" * 50}) is None  # several wildcards: Python's regex could explode


# --- robustness -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n\n", "\\", "\ufeff", "#", "# escape=`", "RUN <<", "RUN <<EOF", "ONBUILD ONBUILD RUN x",
                                  "RUN [" * 3000, "FROM", "FROM a AS", "ARG =x\nFROM $", "RUN ${" * 2000])
def test_edge_inputs_do_not_raise(text):
    df = parse_dockerfile(text)
    for ins in df.instructions:
        assert 1 <= ins.start_line <= ins.end_line <= df.line_count
    df.global_scope()
    for stage in df.stages:
        df.stage_scope(stage)


_pieces = st.sampled_from(["RUN ", "FROM ", "ARG ", "ENV ", "COPY ", "ONBUILD ", "<<", "<<-", "EOF", "\n", "\r\n",
                           "\\", "`", '"', "'", "$", "${", "}", "(", "[", "]", "#", " ", "\t", "a", "=", "--x=",
                           "\ufeff", "# escape=`\n", "AS ", ","])
_texts = st.one_of(st.text(max_size=200), st.lists(_pieces, max_size=60).map("".join))


@settings(max_examples=400, deadline=None)
@given(_texts)
def test_random_text_never_raises_and_lines_are_ordered(text):
    df = parse_dockerfile(text)
    previous_start = 1
    for ins in df.instructions:
        assert 1 <= ins.start_line <= ins.end_line <= df.line_count
        assert ins.start_line >= previous_start
        previous_start = ins.start_line
        for offset in (0, len(ins.args) // 2, len(ins.args)):
            assert ins.start_line <= ins.line_of(offset) <= ins.end_line
        for doc in ins.heredocs:
            assert ins.start_line <= doc.start_line <= doc.end_line <= ins.end_line
    df.global_scope()
    for stage in df.stages:
        df.stage_scope(stage)
    expand(text, {"a": "b"})
