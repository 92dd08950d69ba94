"""The engine: selection, ordering, and a crashing rule contained."""

from __future__ import annotations

import pytest

from envdoctor.config import Config, ConfigError
from envdoctor.engine import scan, select_rules
from envdoctor.findings import Hit, Severity
from envdoctor.registry import Rule, load_rules


class Crashes(Rule):
    code = "ZZ901"
    name = "crashes"
    severity = Severity.ERROR
    target = "dockerfile"

    def check(self, dockerfile, context):
        yield Hit("before the crash")
        raise ValueError("boom")


class Repository(Rule):
    code = "ZZ902"
    name = "once-per-scan"
    severity = Severity.INFO
    target = "repository"

    def check(self, project, context):
        yield Hit("seen", path="b")
        yield Hit("seen", path="a", line=3)


def _registry(*extra):
    registry = load_rules(plugins=False)
    for rule in extra:
        registry.add(rule)
    return registry


def test_a_crashing_rule_is_reported_and_the_scan_goes_on(repo):
    repo.write("Dockerfile", "FROM python\n")
    result = scan(repo.root, Config(), _registry(Crashes()), [repo.root])
    assert [f.code for f in result.findings] == ["ED101"]  # the crash loses that rule's findings only
    assert result.internal_errors == ["internal error in rule ZZ901 on Dockerfile: ValueError: boom"]


def test_findings_are_sorted_by_path_line_column_code(repo):
    repo.write("b/Dockerfile", "FROM python\n")
    result = scan(repo.root, Config(extend_select=("ZZ902",)), _registry(Repository()), [repo.root])
    assert [(f.path, f.line, f.code) for f in result.findings] == [("a", 3, "ZZ902"), ("b", 1, "ZZ902"),
                                                                   ("b/Dockerfile", 1, "ED101")]


def test_selection_rules():
    registry = load_rules(plugins=False)
    default = {r.code for r in select_rules(registry, Config())}
    assert {"ED001", "ED101", "ED102"} <= default
    assert all(registry.lookup(code).default_enabled for code in default)
    assert [r.code for r in select_rules(registry, Config(select=("ED1",), ignore=("ED1",)))] == []
    with pytest.raises(ConfigError, match="unknown rule selector 'ED7' in extend-select"):
        select_rules(registry, Config(extend_select=("ED7",)))


def test_rules_not_selected_cost_nothing(repo, monkeypatch):
    import envdoctor.sources.dockerfile as dockerfile

    def fail(text):
        raise AssertionError("parsed a Dockerfile although no Dockerfile rule ran")

    monkeypatch.setattr(dockerfile, "parse_dockerfile", fail)
    repo.write("Dockerfile", "FROM python\n")
    result = scan(repo.root, Config(select=("ZZ902",)), _registry(Repository()), [repo.root])
    assert {f.code for f in result.findings} == {"ZZ902"}


def test_crash_in_cli_is_exit_2_with_one_line(repo, monkeypatch):
    import envdoctor.registry
    from conftest import run_cli

    monkeypatch.setattr(envdoctor.registry, "load_rules", lambda **kw: _registry(Crashes()))
    repo.write("Dockerfile", "FROM python\n")
    result = run_cli("check", str(repo.root), "--extend-select", "ZZ901")
    assert result.exit_code == 2
    assert "ED101" in result.stdout
    assert result.stderr.strip() == "envdoctor: error: internal error in rule ZZ901 on Dockerfile: ValueError: boom"
