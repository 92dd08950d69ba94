"""ED0xx: envdoctor's own findings. The engine produces these (a file it could not read, a suppression
comment that suppresses nothing or cannot be understood); they have no `check` of their own."""

from __future__ import annotations

from envdoctor.findings import Severity
from envdoctor.registry import Rule

# Rules with this target are produced by the engine itself, not run over items.
ENGINE = "engine"


class UnparsableFile(Rule):
    code = "ED001"
    name = "unparsable-file"
    severity = Severity.ERROR
    target = ENGINE
    summary = "A file envdoctor needs cannot be read or parsed."
    fix_hint = "Fix the file's syntax or encoding (UTF-8), or exclude it with `exclude` if it is not yours."

    def check(self, item, context):
        return ()


class UnusedSuppression(Rule):
    code = "ED002"
    name = "unused-suppression"
    severity = Severity.WARNING
    target = ENGINE
    summary = "An inline `# envdoctor: ignore[...]` comment suppresses nothing."
    fix_hint = "Remove the suppression comment, or the codes in it that no longer match a finding."

    def check(self, item, context):
        return ()


class InvalidSuppression(Rule):
    code = "ED003"
    name = "invalid-suppression"
    severity = Severity.WARNING
    target = ENGINE
    summary = "An inline suppression comment is malformed or names an unknown rule."
    fix_hint = "Write it as `# envdoctor: ignore[ED101]` with known codes or names, comma-separated."

    def check(self, item, context):
        return ()
