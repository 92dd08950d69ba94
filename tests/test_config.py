"""Configuration: where it is read from, what it may say, and how the CLI overrides it."""

from __future__ import annotations

import pytest

from envdoctor.config import ConfigError, Config, load_config, parse_table
from envdoctor.findings import Severity


def test_pyproject_tool_table(repo):
    repo.write("pyproject.toml", '[project]\nname = "x"\n\n[tool.envdoctor]\nselect = ["ED1"]\nfail-on = "error"\n')
    config = load_config(repo.root)
    assert config.select == ("ED1",)
    assert config.fail_on is Severity.ERROR
    assert config.source == repo.root / "pyproject.toml"


def test_envdoctor_toml_wins_over_pyproject(repo):
    repo.write("pyproject.toml", '[tool.envdoctor]\nselect = ["ED1"]\n')
    repo.write("envdoctor.toml", 'ignore = ["ED102"]\n')
    config = load_config(repo.root)
    assert config.select is None
    assert config.ignore == ("ED102",)


def test_dot_envdoctor_toml_and_no_config(repo):
    assert load_config(repo.root) == Config()
    repo.write(".envdoctor.toml", 'extend-exclude = ["legacy/"]\n')
    assert load_config(repo.root).extend_exclude == ("legacy/",)


def test_every_key(repo):
    config = parse_table({
        "select": ["ED"], "extend-select": ["ED304"], "ignore": ["ED102"], "exclude": ["a"],
        "extend-exclude": ["b"], "per-file-ignores": {"legacy/*": ["ED101"]},
        "severity": {"ED102": "error"}, "fail-on": "info",
        "docker": {"allowed-images": ["registry.internal/*"], "target": "Runtime"},
        "plugins": {"acme": {"x": 1}},
    })
    assert config.per_file_ignores == (("legacy/*", ("ED101",)),)
    assert config.severity == (("ED102", Severity.ERROR),)
    assert config.docker.allowed_images == ("registry.internal/*",)
    assert config.docker.target == "runtime"
    assert config.plugins == {"acme": {"x": 1}}


@pytest.mark.parametrize(("table", "message"), [
    ({"selct": ["ED1"]}, "unknown configuration key 'tool.envdoctor.selct'"),
    ({"docker": {"allowed_images": []}}, "unknown configuration key 'tool.envdoctor.docker.allowed_images'"),
    ({"select": "ED1,ED2"}, "'tool.envdoctor.select' must be a list of strings, not a string: write "
                            'select = ["ED1", "ED2"]'),
    ({"docker": {"allowed-images": "python:*"}}, "'tool.envdoctor.docker.allowed-images' must be a list of strings"),
    ({"per-file-ignores": {"legacy/ci.yml": "ED501"}}, 'not a string: write "legacy/ci.yml" = ["ED501"]'),
    ({"select": [1]}, "'tool.envdoctor.select' must be a list of strings"),
    ({"fail-on": "fatal"}, "unknown severity 'fatal'"),
    ({"severity": {"ED101": "high"}}, "unknown severity 'high'"),
    ({"per-file-ignores": ["x"]}, "must be a table"),
])
def test_bad_values_name_the_key(table, message):
    if message is None:
        parse_table(table, prefix="tool.envdoctor")
        return
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace(".", r"\.")):
        parse_table(table, prefix="tool.envdoctor")


def test_unknown_key_in_file_is_exit_2_and_names_it(repo):
    repo.write("envdoctor.toml", 'fail_on = "error"\n')
    result = repo.check()
    assert result.exit_code == 2
    assert "unknown configuration key 'fail_on'" in result.stderr


def test_unknown_rule_in_config_is_exit_2(repo):
    repo.write("pyproject.toml", '[tool.envdoctor]\nignore = ["ED1O1"]\n')
    result = repo.check()
    assert result.exit_code == 2
    assert "unknown rule selector 'ED1O1' in ignore" in result.stderr


def test_invalid_config_toml_is_exit_2(repo):
    repo.write("envdoctor.toml", "select = [\n")
    result = repo.check()
    assert result.exit_code == 2
    assert "invalid TOML in config file" in result.stderr


def test_config_drives_the_scan_and_cli_overrides_it(repo):
    repo.write("envdoctor.toml", 'ignore = ["ED101"]\nfail-on = "error"\n[severity]\nED102 = "info"\n')
    repo.write("Dockerfile", "FROM python\nFROM python:3.12\n")
    findings = repo.findings()
    assert [(f["code"], f["severity"]) for f in findings] == [("ED102", "info")]
    assert repo.check().exit_code == 0
    assert repo.check("--fail-on", "info").exit_code == 1
    assert repo.codes("--select", "ED101") == ["ED101"]  # --select starts afresh, configured ignores too
    assert repo.codes("--select", "ED1", "--ignore", "ED102") == ["ED101"]
    assert repo.codes("--ignore", "ED102") == []  # --ignore adds to the configured ignores


def test_per_file_ignores_and_exclude(repo):
    repo.write("envdoctor.toml", '[per-file-ignores]\n"legacy/**" = ["ED101"]\n')
    repo.write("legacy/old/Dockerfile", "FROM python\n")
    repo.write("app/Dockerfile", "FROM python\n")
    assert [f["path"] for f in repo.findings()] == ["app/Dockerfile"]
    repo.write("envdoctor.toml", 'extend-exclude = ["app"]\n')
    assert [f["path"] for f in repo.findings()] == ["legacy/old/Dockerfile"]


def test_explicit_config_flag(repo, tmp_path):
    other = tmp_path / "strict.toml"
    other.write_text('select = ["ED102"]\n')
    repo.write("Dockerfile", "FROM python\nFROM python:3.12\n")
    assert repo.codes("--config", str(other)) == ["ED102"]
