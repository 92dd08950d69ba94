"""atheris fuzz target: the requirements-file reader (sources/requirements.py) and PEP 508 helpers.

    python benchmarks/fuzz_requirements.py -max_total_time=60

Properties: the reader returns a view (a requirements file is never unparsable: a line pip would reject is
kept as text), every requirement and option points at a line of the input, and its logical line ends at
or after it starts. See fuzz_common.py for the options and what to do with a crash.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_common import check_line, main  # noqa: E402

from envdoctor.files import SourceError, decode  # noqa: E402
from envdoctor.sources.requirements import parse_requirements  # noqa: E402

SEEDS = [
    b"# pinned\n-r base.txt\n-c constraints.txt\n--index-url https://index.example.invalid/simple\n"
    b"flask==3.0.3 \\\n    --hash=sha256:" + b"0" * 64 + b"\nrequests>=2 ; python_version < \"3.13\"\n",
    b"-e ./libs/helper\n-e git+https://git.example.invalid/o/r.git@main#egg=r\nfile:///tmp/x.whl\n./pkg[extra]\n",
    b"-rbase.txt\n--requirement=other.txt\nnumpy[ === 1\nname @ https://x.invalid/a.whl#sha256=1 ; os_name=='nt'\n",
    b"a \\\n\\\n# c \\\nb\n\r\n--hash\n--no-binary :all:\n-i\n",
]


def TestOneInput(data: bytes) -> None:  # noqa: N802 (atheris' name)
    try:
        text = decode(data)
    except SourceError:
        return
    view = parse_requirements(text, "requirements.txt")
    for requirement in view.requirements:
        check_line(requirement.line, text, requirement)
        check_line(requirement.end_line, text, requirement)
        if requirement.end_line < requirement.line:
            raise AssertionError(f"ends before it starts: {requirement!r}")
        if requirement.requirement is not None:
            str(requirement.requirement)
    for option in view.options:
        check_line(option.line, text, option)
    for include in view.includes:
        check_line(include.line, text, include)


if __name__ == "__main__":
    main(TestOneInput, SEEDS)
