"""The environment.yml reader: channels, match specs, pip entries, lines, and hostile YAML."""

from __future__ import annotations

import time

import pytest

from envdoctor.files import SourceError
from envdoctor.sources.conda import parse_conda_environment, parse_match_spec, parse_pip_entry

TEXT = """\
name: analysis
channels:
  - conda-forge
  - nodefaults
dependencies:
  - python=3.12
  - conda-forge::numpy==1.26.4
  - scipy 1.13.1 py312h0_0
  - pandas>=2.2,<3
  - pkg=1.2=build_0
  - foo[version='>=1.2']
  - pip
  - pip:
      - httpx==0.27.0
      - -r requirements.txt
      - rich
"""


def test_reads_channels_dependencies_and_pip_with_lines():
    env = parse_conda_environment(TEXT, "environment.yml")
    assert env.name == "analysis"
    assert [(c.name, c.line) for c in env.channels] == [("conda-forge", 3), ("nodefaults", 4)]
    assert env.channels_line == 2 and env.dependencies_line == 5 and env.pip_line == 13
    assert [(d.name, d.line) for d in env.dependencies] == [
        ("python", 6), ("numpy", 7), ("scipy", 8), ("pandas", 9), ("pkg", 10), ("foo", 11), ("pip", 12)]
    assert [(p.text, p.line, p.name) for p in env.pip] == [
        ("httpx==0.27.0", 14, "httpx"), ("-r requirements.txt", 15, None), ("rich", 16, "rich")]


@pytest.mark.parametrize(("text", "name", "channel", "version", "build", "pinned"), [
    ("numpy", "numpy", None, None, None, False),
    ("numpy=1.26", "numpy", None, "=1.26", None, True),
    ("numpy==1.26.4", "numpy", None, "==1.26.4", None, True),
    ("numpy 1.26.4 py312h0_0", "numpy", None, "1.26.4", "py312h0_0", True),
    ("numpy 1.26.*", "numpy", None, "1.26.*", None, True),
    ("numpy=1.26.4=py312h0_0", "numpy", None, "=1.26.4", "py312h0_0", True),
    ("numpy>=1.26", "numpy", None, ">=1.26", None, False),
    ("numpy>=1.26,<2", "numpy", None, ">=1.26,<2", None, False),
    ("numpy 1.25|1.26", "numpy", None, "1.25|1.26", None, False),
    ("conda-forge::NumPy=1.26", "numpy", "conda-forge", "=1.26", None, True),
    ("numpy[version='>=1.2']", "numpy", None, ">=1.2", None, False),
    ('numpy[version=">=1.2,<2", build=py312*]', "numpy", None, ">=1.2,<2", None, False),
    ("numpy[version=1.26.4]", "numpy", None, "1.26.4", None, True),
    ("python_abi=3.12", "python_abi", None, "=3.12", None, True),
])
def test_match_specs(text, name, channel, version, build, pinned):
    spec = parse_match_spec(text, 1)
    assert (spec.name, spec.channel, spec.version, spec.build, spec.pinned) == (name, channel, version, build, pinned)


def test_version_spec_drops_the_fuzzy_equals():
    assert parse_match_spec("python=3.11", 1).version_spec == "3.11"
    assert parse_match_spec("python==3.11.4", 1).version_spec == "==3.11.4"
    assert parse_match_spec("python", 1).version_spec is None


def test_pip_entries():
    assert parse_pip_entry("httpx==0.27.0", 1).pinned
    assert not parse_pip_entry("httpx>=0.27", 1).pinned
    assert parse_pip_entry("pkg @ https://files.example.invalid/pkg-1.0.tar.gz", 1).pinned
    assert parse_pip_entry("--index-url https://index.example.invalid/simple", 1).requirement is None
    assert parse_pip_entry("not a requirement !!", 1).requirement is None


@pytest.mark.parametrize("text", [
    "",
    "# only a comment\n",
    "- a\n- b\n",  # not a mapping
    "just a string\n",
    "dependencies: 5\n",
    "dependencies:\n  - {a: b}\n  - [1, 2]\n  - pip: 3\n",
    "channels: [1, {x: y}, [z]]\n",
])
def test_odd_but_valid_yaml_gives_a_view(text):
    env = parse_conda_environment(text, "environment.yml")
    assert env.channels == [] or all(isinstance(c.name, str) for c in env.channels)


@pytest.mark.parametrize(("text", "line"), [
    ("dependencies: [numpy,\n", 2),
    ("a: 1\n---\nb: 2\n", 2),
    ("key: [unclosed\nother: x\n", 2),
    ("\t- tab\n", 1),
])
def test_malformed_yaml_is_a_source_error_with_its_position(text, line):
    with pytest.raises(SourceError) as info:
        parse_conda_environment(text, "environment.yml")
    assert "not valid YAML" in str(info.value)
    assert info.value.position[0] == line


def test_control_character_is_placed_at_its_line_and_column():
    # PyYAML's reader error carries only a character offset and "<unicode string>": both are turned into
    # something a person can act on (the same text as for a workflow or a conda-lock file).
    with pytest.raises(SourceError) as info:
        parse_conda_environment("name: x\ndependencies:\n  - \"num\x1bpy\"\n", "environment.yml")
    assert info.value.position == (3, 9)
    message = str(info.value)
    assert "U+001B" in message and "(line 3, column 9)" in message
    assert "<unicode string>" not in message and "position" not in message


def test_tags_construct_nothing():
    env = parse_conda_environment("dependencies:\n  - !!python/object/apply:os.system ['true']\n  - numpy\n", "e.yml")
    assert [d.name for d in env.dependencies] == ["numpy"]


def test_alias_bomb_stays_small():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 30):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]")
    lines.append("dependencies: *a29")
    lines.append("channels: *a29")
    start = time.perf_counter()
    env = parse_conda_environment("\n".join(lines) + "\n", "environment.yml")
    assert time.perf_counter() - start < 2
    assert env.dependencies == [] and env.channels == []  # lists of lists: no specs


def test_deep_nesting_is_a_source_error():
    with pytest.raises(SourceError):
        parse_conda_environment("a: " + "[" * 5000 + "]" * 5000 + "\n", "environment.yml")


def test_later_duplicate_key_wins():
    env = parse_conda_environment("dependencies:\n  - a\ndependencies:\n  - b\n", "environment.yml")
    assert [d.name for d in env.dependencies] == ["b"]
