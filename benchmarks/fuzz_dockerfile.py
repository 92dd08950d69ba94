"""atheris fuzz target: the Dockerfile reader (sources/dockerfile.py), the RUN tokenizer (sources/shell.py),
image references and stage scopes (sources/images.py).

    python benchmarks/fuzz_dockerfile.py -max_total_time=60

Properties: bytes that decode as envdoctor decodes files never make the reader raise (it never raises, by
contract), every instruction and command points at a line of the input, stage scopes and image uses are
computed without error. See fuzz_common.py for the options and what to do with a crash.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_common import check_line, main  # noqa: E402

from envdoctor.files import SourceError, decode  # noqa: E402
from envdoctor.sources.dockerfile import parse_dockerfile  # noqa: E402
from envdoctor.sources.images import image_uses  # noqa: E402
from envdoctor.sources.shell import run_commands  # noqa: E402

SEEDS = [
    b"FROM python:3.12-slim AS build\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\n"
    b"RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked\nFROM build\nCMD [\"python\"]\n",
    b"# syntax=docker/dockerfile:1\n# escape=`\nARG V=3.12\nFROM python:${V}\nRUN pip install `\n  flask\n",
    b"FROM alpine\nRUN <<EOF bash\nset -e\npip install x\nEOF\nCOPY <<-'A' <<B /x\n\ta\nA\nb\nB\n",
    b"ARG BASE=python\nFROM ${BASE:-x}:${TAG:?no} AS a\nENV A=1 B=$A\nARG C=${A}${B}\n"
    b"FROM a\nCOPY --from=a /a /b\nRUN --mount=from=a,source=/x,target=/y sh -c 'cd /y && pip install -e .'\n",
    b"FROM python\nRUN a && (b || c) | d; e > f 2>&1 & g=$(h \"$(i)\") `j` && sudo -E env X=1 python -m pip install k\n",
    b"FROM python\n\\\n# c\n\nRUN \\\n \\\n echo\nONBUILD RUN pip install x\nHEALTHCHECK CMD [\"x\"\n",
]


def TestOneInput(data: bytes) -> None:  # noqa: N802 (atheris' name)
    try:
        text = decode(data)
    except SourceError:
        return  # envdoctor reports such a file as ED001 and never parses it
    dockerfile = parse_dockerfile(text)
    for instruction in dockerfile.instructions:
        check_line(instruction.start_line, text, instruction)
        check_line(instruction.end_line, text, instruction)
        if instruction.keyword == "RUN":
            for command in run_commands(instruction):
                check_line(command.line, text, command)
    for stage in dockerfile.stages:
        dockerfile.base_stage(stage)
        for instruction in stage.instructions:
            dict(dockerfile.stage_scope(stage, instruction))
    for use in image_uses(dockerfile):
        check_line(use.instruction.start_line, text, use)


if __name__ == "__main__":
    main(TestOneInput, SEEDS)
