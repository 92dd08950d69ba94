"""The installer-command recogniser shared by the ED1xx rules."""

from __future__ import annotations

import pytest

from envdoctor.rules._pyinstall import recognise, requirement_is_pinned
from envdoctor.sources.shell import split_commands


def py(script: str):
    (command,) = split_commands(script)
    return recognise(command)


@pytest.mark.parametrize(("script", "tool", "action", "positionals"), [
    ("pip install flask", "pip", "install", ("flask",)),
    ("pip3.12 install -qr requirements.txt", "pip", "install", ()),
    ("/opt/venv/bin/pip install --no-cache-dir -e .", "pip", "install", ()),
    ("python3 -m pip install -U pip", "pip", "install", ("pip",)),
    ("python -I -m pip --no-cache-dir install x", "pip", "install", ("x",)),
    ("sudo -H pip install x", "pip", "install", ("x",)),
    ("env PIP_NO_CACHE_DIR=1 pip install x", "pip", "install", ("x",)),
    ("uv pip install --system -r req.txt", "uv", "pip install", ()),
    ("uv --no-cache sync --locked", "uv", "sync", ()),
    ("uv tool install ruff@0.6.9", "uv", "tool install", ("ruff@0.6.9",)),
    ("python -m uv sync", "uv", "sync", ()),
    ("poetry -C /app install --only main", "poetry", "install", ()),
    ("pdm sync -G prod --no-editable", "pdm", "sync", ()),
    ("conda env create -f environment.yml", "conda", "env create", ()),
    ("micromamba install -y -n base -f env.yml", "conda", "install", ()),
    ("mamba clean -afy", "conda", "clean", ()),
    ("pipx install poetry", "pipx", "install", ("poetry",)),
])
def test_recognised(script, tool, action, positionals):
    found = py(script)
    assert (found.tool, found.action, found.positionals) == (tool, action, positionals)


def test_options_are_normalised():
    found = py("pip install -qr requirements.txt -e. --index-url=https://index.example.invalid/simple -c c.txt")
    assert found.values("requirement") == ["requirements.txt"]
    assert found.values("editable") == ["."]
    assert found.values("index-url") == ["https://index.example.invalid/simple"]
    assert found.values("constraint") == ["c.txt"]
    assert found.has("quiet")
    assert py("sudo pip install x").sudo and not py("pip install x").sudo


@pytest.mark.parametrize("script", ["python script.py", "python -c 'import pip'", "echo pip install x", "pip",
                                    "pipe install", "ls"])
def test_not_recognised(script):
    found = py(script)
    assert found is None or not found.installs


@pytest.mark.parametrize(("word", "expected"), [
    ("uv", False), ("uv==0.5.9", True), ("uv===0.5.9", True), ("uv>=0.5", False), ("flask==3.*", False),
    ("torch==2.4.1+cu121", True), ("poetry==${V}", None), (".", None), ("/wheels/x-1.0-py3-none-any.whl", None),
    ("pkg @ https://files.example.invalid/pkg-1.0.tar.gz", None), ("not a requirement!", None),
])
def test_requirement_is_pinned(word, expected):
    assert requirement_is_pinned(word) is expected
