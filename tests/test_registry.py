"""The rule registry: selectors, rule-pack validation, and plugins loaded through entry points."""

from __future__ import annotations

import os
import textwrap

import pytest
from conftest import run_subprocess

from envdoctor.findings import Severity
from envdoctor.registry import Registry, RegistryError, Rule, load_rules

PLUGIN = '''
from envdoctor.findings import Hit, Severity
from envdoctor.registry import Rule


class NoAlpine(Rule):
    """Our images are Debian-based: musl wheels are slow to build."""

    code = "ACME101"
    name = "no-alpine"
    severity = Severity.WARNING
    target = "dockerfile"
    summary = "An image is built on Alpine."
    documentation = "# ACME101 no-alpine\\n\\nAlpine images need musl wheels.\\n"

    def check(self, dockerfile, context):
        for stage in dockerfile.stages:
            if "alpine" in stage.image:
                yield Hit(f"Stage built on {stage.image}.", line=stage.from_instruction.start_line)
'''


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    """A rule pack installed the way pip installs one: a module and a dist-info with entry_points.txt."""
    site = tmp_path / "site"
    (site / "acme_envdoctor_rules-1.0.dist-info").mkdir(parents=True)
    (site / "acme_envdoctor_rules.py").write_text(PLUGIN)
    (site / "acme_envdoctor_rules-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-envdoctor-rules\nVersion: 1.0\n")
    (site / "acme_envdoctor_rules-1.0.dist-info" / "entry_points.txt").write_text(
        "[envdoctor.rules]\nacme = acme_envdoctor_rules\n")
    monkeypatch.syspath_prepend(str(site))
    return site


def test_selectors():
    registry = load_rules(plugins=False)
    assert [r.code for r in registry.matching("ED101")] == ["ED101"]
    assert [r.code for r in registry.matching("ed101")] == ["ED101"]
    assert [r.code for r in registry.matching("base-image-tag-only")] == ["ED102"]
    assert {r.code for r in registry.matching("ED1")} >= {"ED101", "ED102"}
    assert all(r.code.startswith("ED0") for r in registry.matching("ED0"))
    assert len(registry.matching("ALL")) == len(registry)
    assert registry.matching("ED9") == []
    assert registry.matching("nonsense-rule") == []


def _rule(code="XX101", name="x-rule"):
    return type("R", (Rule,), {"code": code, "name": name, "severity": Severity.INFO, "target": "repository",
                               "check": lambda self, item, context: ()})()


@pytest.mark.parametrize(("rules", "message"), [
    ([_rule(code="ED1")], "is not 1-4 capital letters and 3 digits"),
    ([_rule(name="Bad_Name")], "is not kebab-case"),
    ([_rule(), _rule(name="other")], "defined twice"),
])
def test_broken_rule_packs_are_rejected(rules, message):
    with pytest.raises(RegistryError, match=message):
        Registry(rules)


def test_plugin_rules_load_through_the_entry_point(plugin_path):
    registry = load_rules()
    rule = registry.lookup("ACME101")
    assert rule is not None and registry.lookup("no-alpine") is rule
    assert registry.lookup("ED101") is not None  # the built-ins are there too, once each


def test_plugin_rule_runs_end_to_end(repo, plugin_path):
    repo.write("Dockerfile", "FROM alpine:3.20@sha256:" + "ab" * 32 + "\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), os.environ.get("PYTHONPATH", "")])}
    proc = run_subprocess("check", ".", "--format", "concise", cwd=repo.root, env=env)
    assert proc.returncode == 1, proc.stderr
    assert "Dockerfile:1:1: ACME101 [warning] Stage built on alpine:3.20" in proc.stdout
    explained = run_subprocess("explain", "no-alpine", env=env)
    assert "Alpine images need musl wheels." in explained.stdout
    ignored = run_subprocess("check", ".", "--ignore", "ACME", cwd=repo.root, env=env)
    assert ignored.returncode == 0, ignored.stdout


def test_broken_plugin_is_one_line_exit_2(repo, tmp_path):
    site = tmp_path / "broken"
    (site / "broken_rules-1.0.dist-info").mkdir(parents=True)
    (site / "broken_rules-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-rules\nVersion: 1.0\n")
    (site / "broken_rules-1.0.dist-info" / "entry_points.txt").write_text("[envdoctor.rules]\nbroken = no_such_module\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = run_subprocess("check", ".", cwd=repo.root, env=env)
    assert proc.returncode == 2
    assert "cannot load rule pack 'broken'" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("group", ["envdoctor.rules", "console_scripts", "pytest11"])
def test_entry_point_scan_agrees_with_importlib_metadata(group, plugin_path):
    from importlib.metadata import entry_points

    from envdoctor.registry import _entry_points

    expected = sorted((ep.name, ep.value) for ep in entry_points(group=group))
    assert sorted(_entry_points(group)) == expected
    if group == "envdoctor.rules":
        assert ("acme", "acme_envdoctor_rules") in expected


def test_builtin_specs_match_the_rule_classes():
    from envdoctor.rules.builtin import RULES, discover

    assert RULES == discover(), "run `.venv/bin/python tools/builtin_rules.py` to regenerate rules/builtin.py"


def test_builtin_rule_modules_are_imported_only_when_their_rules_run(repo):
    import subprocess
    import sys

    repo.write("Dockerfile", "FROM python:latest\n")
    # A fresh interpreter: which rule modules does a scan of a lone Dockerfile import?
    code = ("import sys; from envdoctor.cli import main; sys.argv = ['envdoctor', 'check', '-q', sys.argv[1]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('envdoctor.rules.')))")
    out = subprocess.run([sys.executable, "-c", code, str(repo.root)], capture_output=True, text=True, check=True)
    loaded = eval(out.stdout.strip().splitlines()[-1])
    assert "envdoctor.rules.docker" in loaded
    assert "envdoctor.rules.environment" not in loaded  # no environment, no script, no interpreter asked for


def test_a_spec_that_disagrees_with_its_class_is_an_error():
    from envdoctor.registry import LazyRule, RegistryError, RuleSpec

    rule = LazyRule(RuleSpec("ED101", "base-image-latest", Severity.WARNING, "dockerfile", True,
                             "envdoctor.rules.docker:BaseImageLatest"))
    assert rule.name == "base-image-latest"  # known without importing
    with pytest.raises(RegistryError, match="does not match its registered spec"):
        rule.load()
