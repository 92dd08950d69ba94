"""Large inputs finish in time linear in their size: regression tests for the quadratic paths measured on
100,000-line Dockerfiles (docs/limits.md), and a property that the incremental stage scope
(`Dockerfile.stage_scope`) answers exactly what walking the stage afresh answers.

Time bounds are generous (CI machines are slow and busy); each was minutes or hours before its fix.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envdoctor.sources.dockerfile import Dockerfile, Instruction, Stage, expand, parse_dockerfile, parse_key_values
from robust_support import line_count, robust, scan_all


def _scan_within(root: Path, seconds: float):
    start = time.perf_counter()
    result = scan_all(root)
    elapsed = time.perf_counter() - start
    assert elapsed < seconds, f"scan took {elapsed:.1f}s"
    assert result.internal_errors == []
    return result


def _lines_exist(root: Path, result) -> None:
    counts: dict[str, int] = {}
    for finding in result.findings:
        path = root / finding.path
        if finding.path not in counts and path.is_file():
            counts[finding.path] = line_count(path)
        if finding.path in counts:
            assert 1 <= finding.line <= counts[finding.path], finding


# --- the stage scope: incremental and exact ------------------------------------------------------------


def _reference_scope(df: Dockerfile, stage: Stage, before: Instruction | None = None) -> dict[str, str | None]:
    """The scope as it was computed before it was made incremental: the whole FROM-chain walked afresh."""
    global_scope = df.global_scope()
    chain = [stage]
    while (parent := df.base_stage(chain[-1])) is not None:
        chain.append(parent)
    env: dict[str, str | None] = {}
    merged: dict[str, str | None] = {}
    for item in reversed(chain):
        for instruction in item.instructions:
            if item is stage and instruction is before:
                break
            if instruction.keyword == "ARG":
                for name, raw in parse_key_values(instruction.args, df.escape, "ARG").items():
                    value = global_scope.get(name) if raw is None else expand(raw, merged, df.escape)
                    if name not in env:
                        merged[name] = value
            elif instruction.keyword == "ENV":
                for name, raw in parse_key_values(instruction.args, df.escape, "ENV").items():
                    value = expand(raw, merged, df.escape) if raw is not None else None
                    env[name] = merged[name] = value
    return merged


_SCOPE_LINES = st.sampled_from([
    "FROM python:3.12 AS a", "FROM a AS b", "FROM b AS c", "FROM $IMG AS d", "FROM ${IMG:-a} AS e", "FROM c",
    "ARG IMG=a", "ARG IMG", "ARG X", "ARG X=1", "ARG Y=$X$X", "ARG Z=${Y:+set}", "ARG X=$Z",
    "ENV X=2", "ENV Y=${X:-d} Z=$Y", "ENV W", "ENV X=$X.$X", "ENV A=1 B=$A C=${B}${A}",
    "RUN echo $X", "COPY --from=$X a b", "WORKDIR /w$Y", "ARG PATH", "ENV PATH=/v/bin:$PATH",
])


@robust(150)
@given(lines=st.lists(_SCOPE_LINES, max_size=25), order=st.randoms(use_true_random=False))
def test_stage_scope_matches_walking_the_stage_afresh(lines, order):
    df = parse_dockerfile("ARG IMG=b\n" + "\n".join(lines) + "\n")
    queries = [(stage, instruction) for stage in df.stages for instruction in (*stage.instructions, None)]
    order.shuffle(queries)  # rules ask in any order: backwards, across stages, again
    for stage, instruction in queries + queries[:5]:
        assert dict(df.stage_scope(stage, instruction)) == _reference_scope(df, stage, instruction)


def test_stage_scope_is_read_only_and_keeps_its_moment():
    df = parse_dockerfile("FROM python AS a\nENV X=1\nRUN one\nENV X=2 Y=$X\nRUN two\n")
    run_one, run_two = (i for i in df.stages[0].instructions if i.keyword == "RUN")
    first = df.stage_scope(df.stages[0], run_one)
    second = df.stage_scope(df.stages[0], run_two)
    assert dict(first) == {"X": "1"} and dict(second) == {"X": "2", "Y": "2"}
    assert "Y" not in first and first.get("Y") is None  # a later ENV does not leak into an earlier view
    with pytest.raises(TypeError):
        first["X"] = "changed"  # type: ignore[index]


def test_a_chain_of_thousands_of_stages_needs_no_recursion():
    lines = ["FROM python:3.12 AS s0", "ENV V0=0"]
    for i in range(1, 3000):
        lines += [f"FROM s{i - 1} AS s{i}", f"ENV V{i}=${{V{i - 1}}}x"]
    df = parse_dockerfile("\n".join(lines) + "\n")
    scope = df.stage_scope(df.stages[-1])
    assert scope["V2999"] == "0" + "x" * 2999 and scope["V0"] == "0" and "HOME" not in scope


# --- whole scans of large files --------------------------------------------------------------------------


@pytest.mark.slow
def test_a_dockerfile_of_100000_lines_is_read_in_linear_time(tmp_path):
    # One stage of interleaved ENV/ARG/RUN/COPY: the scope of each instruction was re-walked from the FROM
    # (hours), and each RUN command kept a copy of every variable (gigabytes).
    lines = ["# syntax=docker/dockerfile:1", "FROM python:3.12-slim AS base", "WORKDIR /app"]
    for i in range(len(lines), 100_000):
        lines.append([f"ENV V{i}=${{V{i - 5}:-x}}", f"RUN echo $V{i - 1} && pip install pkg{i}==1.0",
                      f"COPY f{i} /app/", f"ARG A{i}=x", "# a comment", "RUN uv sync --locked"][i % 6])
    (tmp_path / "Dockerfile").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n', encoding="utf-8")
    result = _scan_within(tmp_path, 90)
    assert any(f.code == "ED104" for f in result.findings)  # it was read, not skipped
    _lines_exist(tmp_path, result)


@pytest.mark.slow
def test_10000_continuation_lines_of_one_run(tmp_path):
    # Each command of a RUN looked at every later command of that RUN (ED104): quadratic in its length.
    body = "".join(f"    pip install pkg{i}==1.0 && \\\n" for i in range(10_000))
    words = "".join(f"    pkg{i}==1.0 \\\n" for i in range(10_000))
    text = (f"FROM python:3.12\nRUN \\\n{body}    rm -rf /root/.cache\n"
            f"RUN pip install --no-cache-dir \\\n{words}    last==1\n")
    (tmp_path / "Dockerfile").write_text(text, encoding="utf-8")
    result = _scan_within(tmp_path, 60)
    assert not [f for f in result.findings if f.code == "ED104"]  # the `rm` at the end clears the cache
    _lines_exist(tmp_path, result)


@pytest.mark.slow
def test_thousands_of_stages(tmp_path):
    # A stage name was found by a search over all stages, and each FROM built a set of every earlier name.
    lines = []
    for i in range(25_000):
        lines += [f"FROM python:3.12 AS s{i}", f"COPY --from=s{max(i - 1, 0)} /a /b", "RUN uv sync"]
    (tmp_path / "Dockerfile").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _scan_within(tmp_path, 60)


def test_a_long_from_chain(tmp_path):
    # Comparing Stage values (every instruction) to detect cycles made each chain quadratic in its length.
    lines = ["FROM python:3.12 AS s0"]
    for i in range(1, 400):
        lines += [f"FROM s{i - 1} AS s{i}", f"ENV V{i}=$V{i - 1}x", f"RUN pip install p{i}"]
    (tmp_path / "Dockerfile").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _scan_within(tmp_path, 30)
    _lines_exist(tmp_path, result)
