"""Inline suppressions, and the findings about suppressions themselves (ED002, ED003)."""

from __future__ import annotations

from envdoctor.suppressions import parse_suppressions

DIGEST = "@sha256:" + "cd" * 32


def test_comment_above_and_at_end_of_line(repo):
    repo.write("Dockerfile", "# envdoctor: ignore[ED101]\nFROM python\nFROM python  # envdoctor: ignore[ED101]\nFROM python\n")
    findings = repo.findings()
    assert [(f["code"], f["line"]) for f in findings] == [("ED101", 4)]


def test_names_and_several_codes_and_a_reason(repo):
    repo.write("Dockerfile",
               "# envdoctor: ignore[base-image-latest, ED102] -- internal mirror\nFROM python\n"
               "# envdoctor:ignore[ed102]\nFROM python:3.12\n")
    codes = repo.codes()
    # ED102 is named on line 1 but line 2 has only ED101: that part of the suppression is unused.
    assert codes == ["ED002"]
    finding = repo.findings()[0]
    assert finding["line"] == 1 and "ED102" in finding["message"]


def test_suppression_above_a_multi_line_instruction_covers_all_of_it(repo):
    repo.write("Dockerfile", "FROM python:3.12" + DIGEST + " AS base\n"
               "# envdoctor: ignore[ED102]\nCOPY \\\n  --from=ghcr.io/astral-sh/uv:0.5 \\\n  /uv /bin/\n")
    assert repo.codes() == []


def test_comment_with_blank_and_comment_lines_between_still_covers_next_code_line():
    index = parse_suppressions(["# envdoctor: ignore[ED101]", "", "# other comment", "FROM python"])
    assert [(s.first, s.last) for s in index.entries] == [(4, 4)]


def test_unused_suppression_is_reported(repo):
    repo.write("Dockerfile", "# envdoctor: ignore[ED101]\nFROM python:3.12" + DIGEST + "\n")
    findings = repo.findings()
    assert [(f["code"], f["line"]) for f in findings] == [("ED002", 1)]


def test_suppression_of_a_rule_that_did_not_run_is_not_called_unused(repo):
    repo.write("Dockerfile", "# envdoctor: ignore[ED101]\nFROM python:3.12" + DIGEST + "\n")
    assert repo.codes("--ignore", "ED101") == []


def test_suppressions_in_a_file_that_does_not_parse_are_not_called_unused(repo):
    # Line 9 is not YAML (": " in a plain scalar): no rule could judge the workflow, and the suppressions
    # are needed again once it is mended. A malformed suppression is still reported (ED003).
    repo.write(".github/workflows/ci.yml",
               "name: CI\non: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
               "      # envdoctor: ignore[ED502] -- pinned by the runner image\n"
               "      - uses: astral-sh/setup-uv@v6\n"
               "      - run: echo \"done\": ok\n"
               "      # envdoctor: ignore[]\n"
               "      - run: true\n")
    assert sorted(repo.codes()) == ["ED001", "ED003"]


def test_the_same_suppressions_in_a_file_that_parses_are_called_unused(repo):
    """Near-miss of the above: once the workflow parses, a suppression that matches nothing is ED002."""
    repo.write(".github/workflows/ci.yml",
               "name: CI\non: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
               "      # envdoctor: ignore[ED502] -- pinned by the runner image\n"
               "      - uses: astral-sh/setup-uv@v6\n"
               "        with: {version: \"0.9.5\"}\n"
               "      - run: echo done\n")
    assert repo.codes() == ["ED002"]


def test_a_suppression_of_a_code_per_file_ignores_switches_off_there_is_not_called_unused(repo):
    repo.write("envdoctor.toml", '[per-file-ignores]\n"legacy/**" = ["ED101"]\n')
    repo.write("legacy/Dockerfile", "# envdoctor: ignore[ED101] -- the old build box\nFROM python\n")
    # Near-miss: the same comment where per-file-ignores does not reach is used (it suppresses ED101); an
    # unused code of another rule in the ignored folder is still reported.
    repo.write("app/Dockerfile", "# envdoctor: ignore[ED101] -- mirror\nFROM python\n")
    repo.write("legacy/tools/Dockerfile", "# envdoctor: ignore[ED102]\nFROM python:3.12" + DIGEST + "\n")
    assert [(f["code"], f["path"]) for f in repo.findings()] == [("ED002", "legacy/tools/Dockerfile")]


def test_malformed_and_unknown_suppressions_are_reported(repo):
    repo.write("Dockerfile",
               "# envdoctor: ignore\nFROM python\n"
               "# envdoctor: ignore[]\nFROM python\n"
               "# envdoctor: ignore[ED1O1]\nFROM python\n"
               "# envdoctor: skip ED101\nFROM python\n")
    findings = [(f["code"], f["line"]) for f in repo.findings()]
    assert ("ED003", 1) in findings and ("ED003", 3) in findings
    assert ("ED003", 5) in findings and ("ED003", 7) in findings
    assert [line for code, line in findings if code == "ED101"] == [2, 4, 6, 8]


def test_near_misses_are_not_suppressions():
    index = parse_suppressions([
        'RUN echo "x"#envdoctor: ignore[ED101]',  # no space before '#': part of a word
        "# envdoctoring: ignore[ED101]",
    ])
    assert index.entries == []

