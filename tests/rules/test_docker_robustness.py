"""ED103-ED112 on odd but parsable input: never an internal error (exit code 2), whatever the file says."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envdoctor.engine import scan
from envdoctor.config import Config
from envdoctor.registry import load_rules

SELECT = ("ED103", "ED104", "ED105", "ED106", "ED107", "ED108", "ED109", "ED110", "ED111", "ED112")

ODD_DOCKERFILES = [
    "", "\n\n", "# only a comment\n", "ARG A\n", "FROM\n", "FROM python AS\n", "RUN pip install x\n",
    "FROM python\nCOPY\n", "FROM python\nCOPY onlyone\n", "FROM python\nCOPY --from= a b\n",
    "FROM python\nCOPY --from=5 /a /b\n", "FROM python AS a\nFROM a AS a\nCOPY --from=a /x /y\n",
    "FROM python\nWORKDIR\nRUN cd && pip install -r r.txt\n", "FROM python\nWORKDIR $NOPE\nCOPY . .\nRUN uv sync\n",
    "FROM python\nRUN cd / && cd .. && cd ../../.. && poetry install\n", "FROM python\nRUN []\n",
    "FROM python\nRUN [\"\"]\n", "FROM python\nRUN [\"pip\"]\n", "FROM python\nRUN pip install -r\n",
    "FROM python\nRUN pip install --index-url\n", "FROM python\nRUN uv pip install -e\n",
    "FROM python\nRUN python -m\n", "FROM python\nRUN sudo\n", "FROM python\nRUN env -u\n",
    "FROM python\nRUN <<EOF\npip install x\n", "FROM python\nRUN <<EOF bash\nEOF\n",
    "FROM python\nRUN --mount=type=cache pip install x\n", "FROM python\nRUN --mount=,,, pip install x\n",
    "FROM python\nRUN --mount=type=bind,source=../../x,target= uv sync\n",
    "FROM python\nONBUILD RUN pip install -e .\n", "FROM python\nCOPY ../outside /x\n",
    "FROM python\nCOPY /abs/path ./\n", "FROM python\nADD git@example.invalid:o/r.git /src\n",
    "FROM python\nCOPY [\"a\", 1]\n", "FROM nvidia/cuda:\nRUN pip install torch+cu\n",
    "FROM nvidia/cuda:x.y\nRUN pip install 'torch==2+cu1' --index-url /whl/cu\n",
    "FROM pytorch/pytorch:cuda99.99\nRUN uv pip install torch --torch-backend=\n",
    "FROM python\nRUN apk add --virtual\nRUN apt-get install -y\nRUN apt-get\n",
    "FROM python\nRUN pip install 'x[' 'y==' '===' '@' 'z @ '\n",
    "FROM python\nRUN pipx install '' && uv tool install @ && uv tool install a@\n",
    "FROM python\nRUN conda env create -f && conda clean\n",
    "\\\n\\\n", "FROM python\nRUN \\\n", "# escape=`\nFROM python\nRUN pip install `\n  x\n",
]

ODD_FILES = {
    "pyproject.toml": '[tool.uv]\nsources = "x"\nindex = ["a", 1]\npackage = "yes"\n[build-system]\n'
                      '[tool.poetry]\npackage-mode = "no"\n[tool.pdm]\ndistribution = 3\n',
    "requirements.txt": "-r\n-r requirements.txt\n-e\n--index-url\n'\n",
    ".dockerignore": "[\n",
    "r.txt": "-r r.txt\n",
}


@pytest.mark.parametrize("dockerfile", ODD_DOCKERFILES)
@pytest.mark.parametrize("with_files", [False, True])
def test_odd_dockerfiles_never_crash(repo, dockerfile, with_files):
    repo.write("Dockerfile", dockerfile)
    if with_files:
        for path, text in ODD_FILES.items():
            repo.write(path, text)
    result = repo.check("--select", ",".join(SELECT))
    assert result.exit_code in (0, 1), result.output


WORDS = st.sampled_from([
    "FROM", "python:3.12", "nvidia/cuda:12.1.1-runtime", "AS", "b", "COPY", "ADD", "--from=b", ".", "./", "/app",
    "uv.lock", "RUN", "--mount=type=cache,target=/root/.cache/uv", "--mount=type=bind,source=uv.lock,target=uv.lock",
    "pip", "install", "-e", "-r", "requirements.txt", "uv", "sync", "poetry", "pdm", "conda", "env", "create",
    "&&", ";", "||", "|", "cd", "..", "$X", "${X:-a}", "WORKDIR", "ENV", "UV_NO_CACHE=1", "ARG", "X",
    "\\\n", "\n", "'", '"', "<<EOF", "EOF", "sh", "-c", "torch==2.4.1+cu124", "--index-url", "/whl/cu118",
    "apt-get", "gcc", "--break-system-packages", "--user", "sudo", "[", "]", "#", "=", "--no-editable",
])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(WORDS, max_size=40))
def test_random_dockerfiles_never_crash(tmp_path_factory, words):
    root = tmp_path_factory.mktemp("fuzz")
    (root / "Dockerfile").write_text(" ".join(words) + "\n", encoding="utf-8")
    (root / "pyproject.toml").write_text(ODD_FILES["pyproject.toml"], encoding="utf-8")
    (root / "requirements.txt").write_text("flask>=1\n", encoding="utf-8")
    result = scan(root, Config(select=SELECT), load_rules(plugins=False))
    assert result.internal_errors == []
