"""Tests for the RUN-script tokenizer: POSIX sh / bash word and operator rules, and how RUN forms run."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envdoctor.sources.dockerfile import parse_dockerfile
from envdoctor.sources.shell import (SUDO_LONG_VALUE_OPTIONS, SUDO_SHORT_VALUE_OPTIONS, SimpleCommand, run_commands,
                                    split_commands, unwrap)


def argvs(script: str) -> list[tuple[str, ...]]:
    return [c.argv for c in split_commands(script)]


def runs(dockerfile: str) -> list[tuple[tuple[str, ...], int]]:
    """(argv, line) of every command of every RUN (and ONBUILD RUN)."""
    df = parse_dockerfile(dockerfile)
    return [(c.argv, c.line) for i in df.instructions if i.keyword in ("RUN", "ONBUILD") for c in run_commands(i)]


# --- operators, quotes, comments -----------------------------------------------------------------------------


def test_operators_separate_commands():
    assert argvs("a 1 && b 2 || c; d | e & f\ng |& h") == [
        ("a", "1"), ("b", "2"), ("c",), ("d",), ("e",), ("f",), ("g",), ("h",)]


def test_operators_inside_quotes_do_not_split():
    assert argvs('echo "a && b; c | d"') == [("echo", "a && b; c | d")]
    assert argvs("echo 'x || y'") == [("echo", "x || y")]


def test_quote_removal_and_escapes():
    assert argvs(r'''echo 'it''s' "a \"b\" \$c \q" d\ e "f"'g' '' ''') == [
        ("echo", "its", 'a "b" $c \\q', "d e", "fg", "")]


def test_raw_words_keep_quotes_and_offsets_point_at_them():
    (cmd,) = split_commands('pip  install "req s.txt"')
    assert cmd.raw_words == ("pip", "install", '"req s.txt"') and cmd.word_offsets == (0, 5, 13)


def test_variables_are_left_as_written():
    assert argvs('pip install "$PKG" ${EXTRA:-x} $(cat f)') == [
        ("pip", "install", "$PKG", "${EXTRA:-x}", "$(cat f)"), ("cat", "f")]


def test_ansi_c_and_locale_strings():
    assert argvs("printf $'a\\tb' $\"c\"") == [("printf", "a\tb", "c")]


def test_comment_only_at_word_start():
    assert argvs("echo foo#bar # trailing comment && not-a-command\npip x") == [("echo", "foo#bar"), ("pip", "x")]
    assert argvs("echo a;# comment") == [("echo", "a")]


def test_hash_inside_quotes_is_not_a_comment():
    assert argvs('echo "# not a comment" \'# nor this\'') == [("echo", "# not a comment", "# nor this")]


def test_backslash_newline_joins_lines():
    cmds = split_commands("pip install \\\n  requests \\\n  fla\\\nsk")
    assert [c.argv for c in cmds] == [("pip", "install", "requests", "flask")] and cmds[0].line == 1


def test_unterminated_quote_takes_the_rest_as_one_word():
    assert argvs('echo "unterminated && still; one') == [("echo", "unterminated && still; one")]
    assert argvs("echo 'also && one") == [("echo", "also && one")]
    assert argvs("echo $(unterminated && sub") == [("echo", "$(unterminated && sub"), ("unterminated",), ("sub",)]


def test_redirections_are_not_arguments():
    assert argvs("pip install x > /dev/null 2>&1 < in.txt &>> log >| f") == [("pip", "install", "x")]
    assert argvs("2>err cmd") == [("cmd",)]


# --- assignments and wrappers -----------------------------------------------------------------------------------


def test_leading_assignments():
    (cmd,) = split_commands('PIP_NO_CACHE_DIR=1 A="x y" pip install B=2')
    assert cmd.assignments == ("PIP_NO_CACHE_DIR=1", "A=x y") and cmd.argv == ("pip", "install", "B=2")


def test_assignment_only_command_and_array_assignment():
    assert [(c.argv, c.assignments) for c in split_commands("A=1; arr=(a 'b c') B+=2 run")] == [
        ((), ("A=1",)), (("run",), ("arr=(a 'b c')", "B+=2"))]


def test_wrappers_are_kept_as_written():
    assert argvs("set -ex; sudo -H pip install a; env A=1 pip b; exec gunicorn; time pip c; nohup x") == [
        ("set", "-ex"), ("sudo", "-H", "pip", "install", "a"), ("env", "A=1", "pip", "b"), ("exec", "gunicorn"),
        ("time", "pip", "c"), ("nohup", "x")]


@pytest.mark.parametrize("script, argv, assignments", [
    ("sudo pip install x", ("pip", "install", "x"), ()),
    ("sudo -u app -E pip x", ("pip", "x"), ()),
    ("sudo --user=app PIP_X=1 pip x", ("pip", "x"), ("PIP_X=1",)),
    ("env -i A=1 B=2 pip x", ("pip", "x"), ("A=1", "B=2")),
    ("/usr/bin/env -u HOME -- pip x", ("pip", "x"), ()),
    ("exec -a name python app.py", ("python", "app.py"), ()),
    ("time -p nohup command pip x", ("pip", "x"), ()),
    ("sudo env A=1 exec pip x", ("pip", "x"), ("A=1",)),
])
def test_unwrap(script, argv, assignments):
    (cmd,) = split_commands(script)
    inner = unwrap(cmd)
    assert inner.argv == argv and inner.assignments == assignments
    assert inner.raw_words == argv and len(inner.word_offsets) == len(argv)


@pytest.mark.parametrize("option", [f"-{c}" for c in SUDO_SHORT_VALUE_OPTIONS] + [f"--{n}" for n in
                                                                                 sorted(SUDO_LONG_VALUE_OPTIONS)])
def test_sudo_value_options_are_those_unwrap_skips(option):
    # the public names (read by rules/environment.py) are the options whose value unwrap steps over
    (cmd,) = split_commands(f"sudo {option} value pip x")
    assert unwrap(cmd).argv == ("pip", "x")
    (flag,) = split_commands("sudo -E value pip x")  # a flag takes no value: `value` is the command
    assert unwrap(flag).argv == ("value", "pip", "x")


@pytest.mark.parametrize("script", ["command -v pip", "sudo", "env", "env -S 'pip x'", "pip install"])
def test_unwrap_leaves_non_wrappers_alone(script):
    (cmd,) = split_commands(script)
    assert unwrap(cmd) == cmd


# --- reserved words and compound commands ------------------------------------------------------------------------


def test_if_then_elif_else_fi():
    assert argvs("if [ -f a ]; then pip install a; elif test -x b; then b; else ! c; fi") == [
        ("[", "-f", "a", "]"), ("pip", "install", "a"), ("test", "-x", "b"), ("b",), ("c",)]


def test_for_loop_header_is_not_a_command():
    assert argvs("for p in a b; do pip install $p; done") == [("pip", "install", "$p")]
    assert argvs("for p\ndo echo $p\ndone") == [("echo", "$p")]
    assert argvs("for ((i=0; i<3; i++)); do echo $i; done") == [("echo", "$i")]


def test_while_and_until_loops():
    assert argvs("while read -r l; do echo $l; done < f; until false; do :; done") == [
        ("read", "-r", "l"), ("echo", "$l"), ("false",), (":",)]


def test_case_statement():
    assert argvs('case "$x" in\n  a|b) pip install a ;;\n  (*) echo other;;\nesac; after') == [
        ("pip", "install", "a"), ("echo", "other"), ("after",)]


def test_reserved_words_only_in_command_position():
    assert argvs("echo if then fi done") == [("echo", "if", "then", "fi", "done")]
    assert argvs("'if' x") == [("if", "x")]


def test_braces_and_subshells():
    assert argvs("{ pip install a; pip install b; } > log; (cd /app && pip install .)") == [
        ("pip", "install", "a"), ("pip", "install", "b"), ("cd", "/app"), ("pip", "install", ".")]


def test_double_bracket_test_is_one_command():
    assert argvs("[[ -f a && ( -d b || -d c ) ]] && pip x") == [
        ("[[", "-f", "a", "&&", "(", "-d", "b", "||", "-d", "c", ")", "]]"), ("pip", "x")]


def test_function_definitions():
    assert argvs("f() { pip install x; }; function g { echo g; }; f") == [
        ("pip", "install", "x"), ("echo", "g"), ("f",)]


def test_arithmetic_is_not_a_command():
    assert argvs("(( n += 1 )) && echo $((n * 2))") == [("echo", "$((n * 2))")]


# --- substitutions --------------------------------------------------------------------------------------------------


def test_command_substitutions_are_returned_too():
    assert argvs('V=$(python -c "import x; print(x)") pip install "a==$(cat v | tr -d x)"') == [
        ("pip", "install", "a==$(cat v | tr -d x)"), ("python", "-c", "import x; print(x)"), ("cat", "v"),
        ("tr", "-d", "x")]


def test_nested_substitutions_and_parentheses_inside():
    assert argvs("echo $(a $(b) && (c) && $(case x in y) d;; esac))") == [
        ("echo", "$(a $(b) && (c) && $(case x in y) d;; esac))"), ("a", "$(b)"), ("b",), ("c",),
        ("$(case x in y) d;; esac)",), ("d",)]


def test_backticks():
    assert argvs("echo `pip --version` done") == [("echo", "`pip --version`", "done"), ("pip", "--version")]


def test_process_substitution():
    assert argvs("diff <(pip freeze) >(tee x)") == [("diff", "<(pip freeze)", ">(tee x)"), ("pip", "freeze"),
                                                    ("tee", "x")]


# --- here-documents inside scripts ------------------------------------------------------------------------------------


def test_heredoc_body_in_a_script_is_data():
    script = "cat > /etc/x.conf <<-CONF && pip install real\n\tpip install not-a-command\n\tCONF\nnext"
    assert [(c.argv, c.line) for c in split_commands(script)] == [
        (("cat",), 1), (("pip", "install", "real"), 1), (("next",), 4)]


def test_shell_reading_a_heredoc_runs_its_body():
    script = "bash -e <<'EOF'\npip install inside\nEOF\npython3 - <<EOF\nimport os\nEOF"
    assert [(c.argv, c.line) for c in split_commands(script)] == [
        (("pip", "install", "inside"), 2), (("python3", "-"), 4)]


def test_shell_reading_a_here_string():
    assert [(c.argv, c.line) for c in split_commands("x\nbash <<< 'pip install a; pip b'")] == [
        (("x",), 1), (("pip", "install", "a"), 2), (("pip", "b"), 2)]


# --- sh -c ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("script", [
    'sh -c "pip install a && pip install b"', "bash -c 'pip install a; pip install b'",
    "bash -lc 'pip install a\npip install b'", '/bin/sh -ec "pip install a || pip install b"',
    "sudo -u app bash -o pipefail -c 'pip install a | pip install b'", 'sh -c -- "pip install a; pip install b" name',
])
def test_shell_c_is_replaced_by_its_commands(script):
    assert [(c.argv, c.line) for c in split_commands("true\n" + script)] == [
        (("true",), 1), (("pip", "install", "a"), 2), (("pip", "install", "b"), 2)]


def test_shell_running_a_file_is_a_command():
    assert argvs("bash install.sh; sh -x ./x.sh") == [("bash", "install.sh"), ("sh", "-x", "./x.sh")]


def test_nested_shell_strings_and_depth_bound():
    assert argvs("""sh -c "bash -c 'pip install deep'" """) == [("pip", "install", "deep")]
    deep = "".join(f"bash <<E{i}\n" for i in range(40)) + "pip x\n" + "".join(f"E{i}\n" for i in reversed(range(40)))
    assert argvs(deep) == [("bash",)]  # followed a bounded number of levels, then kept as a command


# --- RUN instructions -----------------------------------------------------------------------------------------------


def test_run_shell_form_lines():
    text = ("FROM x\nRUN set -eux; \\\n    apt-get update \\\n    # comment\n    && pip install \\\n"
            "       requests \\\n\n    && rm -rf /root/.cache\n")
    assert runs(text) == [(("set", "-eux"), 2), (("apt-get", "update"), 3), (("pip", "install", "requests"), 5),
                          (("rm", "-rf", "/root/.cache"), 8)]


def test_near_miss_quoted_operators_in_run():
    assert runs('RUN echo "a && b"\n') == [(("echo", "a && b"), 1)]


def test_run_exec_form():
    assert runs('RUN ["pip", "install", "--no-cache-dir", "x"]\n') == [(("pip", "install", "--no-cache-dir", "x"), 1)]
    (cmd,) = run_commands(parse_dockerfile('RUN ["pip", "install"]').instructions[0])
    assert cmd.raw_words == ('"pip"', '"install"') and cmd.word_offsets == (1, 8)


@pytest.mark.parametrize("array", ['["sh", "-c", "pip install a && pip b"]', '["/bin/bash", "-ec", "pip install a; pip b"]'])
def test_run_exec_form_shell_runs_its_script(array):
    assert runs(f"FROM x\nRUN {array}\n") == [(("pip", "install", "a"), 2), (("pip", "b"), 2)]


def test_run_heredoc_is_the_script():
    text = "FROM x\nRUN <<EOF\nset -e\npip install a \\\n  b\n# comment\nif true; then pip c; fi\nEOF\n"
    assert runs(text) == [(("set", "-e"), 3), (("pip", "install", "a", "b"), 4), (("true",), 7), (("pip", "c"), 7)]


def test_run_heredoc_with_dash_and_mount():
    text = "RUN --mount=type=cache,target=/root/.cache <<-EOT\n\tpip install a\n\tEOT\n"
    assert runs(text) == [(("pip", "install", "a"), 2)]


def test_run_heredoc_with_shell_shebang_is_split():
    assert runs("RUN <<EOF\n#!/usr/bin/env bash\npip install a\nEOF\n") == [(("pip", "install", "a"), 3)]


def test_run_heredoc_with_other_shebang_is_one_command():
    assert runs("RUN <<EOF\n#!/usr/bin/env python3\nimport os\nEOF\n") == [(("/usr/bin/env", "python3"), 2)]


def test_run_heredoc_as_stdin_of_a_program_is_data():
    assert runs("RUN python3 <<EOF\nimport subprocess\npip_install = 1\nEOF\n") == [(("python3",), 1)]
    assert runs("RUN cat <<EOF > /etc/pip.conf\n[global]\nno-cache-dir = true\nEOF\n") == [(("cat",), 1)]


@pytest.mark.parametrize("line", ["RUN bash <<EOF", "RUN <<EOF bash", "RUN /bin/sh -e <<EOF", "RUN <<EOF sh -x"])
def test_run_heredoc_read_by_a_shell_is_split(line):
    assert runs(f"FROM x\n{line}\npip install a\nEOF\n") == [(("pip", "install", "a"), 3)]


def test_run_several_heredocs():
    text = "RUN <<A bash && <<B python3\npip install a\nA\nprint(1)\nB\nRUN next\n"
    assert runs(text) == [(("python3",), 1), (("pip", "install", "a"), 2), (("next",), 6)]


def test_onbuild_run():
    assert runs("ONBUILD RUN pip install \\\n  x\n") == [(("pip", "install", "x"), 1)]


# --- robustness ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("script", ["", "\\", "'", '"', "$(", "`", "${", "((", "<<", "<<EOF", "| && ;", ")", "case",
                                    "for", "[[", "f(", "$(" * 2000, "(" * 2000, "`" * 999, "sh -c"])
def test_edge_scripts_do_not_raise(script):
    for command in split_commands(script):
        assert isinstance(command, SimpleCommand)


_pieces = st.sampled_from(["pip", " ", "\n", "&&", "||", ";", "|", "&", "(", ")", "$(", "`", "'", '"', "\\", "#",
                           "<<", "EOF", "<<-", "{", "}", "if", "then", "fi", "for", "in", "do", "done", "case",
                           "esac", ";;", "[[", "]]", "sh -c ", "bash <<X\n", "X", "=", "a=", "$'", "${", "2>"])
_scripts = st.one_of(st.text(max_size=200), st.lists(_pieces, max_size=60).map("".join))


@settings(max_examples=400, deadline=None)
@given(_scripts)
def test_random_scripts_never_raise(script):
    lines = script.count("\n") + 1
    for command in split_commands(script):
        assert 1 <= command.line <= lines
        assert len(command.raw_words) == len(command.argv) == len(command.word_offsets)
        unwrap(command)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["RUN ", "ONBUILD ", "<<EOF", "EOF", "\n", "\\\n", '["sh", "-c", "x"]', "bash ",
                                 "pip", " ", "'", "#!/bin/sh\n", "<<-X", "\tX"]), max_size=40).map("".join))
def test_random_run_instructions_never_raise(text):
    df = parse_dockerfile(text)
    for instruction in df.instructions:
        for command in run_commands(instruction):
            assert 1 <= command.line <= max(df.line_count, 1)
