"""Helpers for the CI-format tests: a real scan turned into a Report, and hand-made findings."""

from __future__ import annotations

import io
import json
from pathlib import Path

from envdoctor.config import load_config
from envdoctor.engine import scan
from envdoctor.findings import Finding, Severity
from envdoctor.registry import Rule, load_rules
from envdoctor.report import Report, renderer

SARIF_SCHEMA = Path(__file__).resolve().parents[2].parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"


def scanned(root: Path, *extra_rules: Rule) -> Report:
    """The Report the CLI would build for `envdoctor check ROOT`, with extra (test) rules registered."""
    registry = load_rules(plugins=False)
    for rule in extra_rules:
        registry.add(rule)
    config = load_config(root)
    result = scan(root, config, registry)
    return Report(findings=result.findings, rules=result.rules, registry=registry, files_read=result.files_read,
                  fail_on=config.fail_on, errors=result.internal_errors, source_lines=result.source_lines)


def made(*findings: Finding, errors: list[str] | None = None, registry=None, source_lines=None,
         fail_on: Severity = Severity.WARNING) -> Report:
    """A Report of hand-made findings (for paths and texts a real scan cannot produce)."""
    registry = registry or load_rules(plugins=False)
    extra = {"source_lines": source_lines} if source_lines else {}
    return Report(findings=sorted(findings, key=Finding.sort_key), rules=list(registry), registry=registry,
                  files_read=len({f.path for f in findings}), fail_on=fail_on, errors=errors or [], **extra)


def finding(code: str = "ED101", path: str = "Dockerfile", line: int = 1, message: str = "Base image floats.",
            **kwargs) -> Finding:
    rule = load_rules(plugins=False).lookup(code)
    name, severity = (rule.name, rule.severity) if rule else ("made-up", Severity.ERROR)
    return Finding(code, kwargs.pop("name", name), kwargs.pop("severity", severity), message, path, line, **kwargs)


def rendered(report: Report, fmt: str) -> str:
    stream = io.StringIO()
    renderer(fmt)(report, stream)
    return stream.getvalue()


def validate_sarif(text: str) -> dict:
    """The SARIF log parsed, after validating it against the official 2.1.0 schema where that is present."""
    log = json.loads(text)
    if SARIF_SCHEMA.is_file():
        import jsonschema

        schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
        jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)
    return log
