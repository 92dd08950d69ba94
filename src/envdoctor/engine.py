"""The scan: select rules, run them over the project's items, then apply, in this one place, per-file
ignores, inline suppressions and severity overrides, and report unused or malformed suppressions."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

from envdoctor import parallel
from envdoctor.config import Config, ConfigError
from envdoctor.findings import Finding, Hit, Severity
from envdoctor.project import TARGETS, Project, compile_glob
from envdoctor.registry import Context, Registry, Rule
from envdoctor.rules.meta import ENGINE, InvalidSuppression, UnparsableFile, UnusedSuppression


@dataclass
class ScanResult:
    findings: list[Finding]
    rules: list[Rule]  # the rules that ran
    files_read: int
    notes: list[str] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)  # rule crashes: exit code 2
    # The lines of a scanned file, read lazily for the formats that fingerprint content (Project.source_lines).
    source_lines: Callable[[str], list[str] | None] | None = None


def _resolve(registry: Registry, selectors: tuple[str, ...], key: str) -> list[Rule]:
    rules: list[Rule] = []
    for selector in selectors:
        matched = registry.matching(selector)
        if not matched:
            raise ConfigError(f"unknown rule selector '{selector}' in {key} (see `envdoctor rules`)")
        rules.extend(matched)
    return rules


def select_rules(registry: Registry, config: Config) -> list[Rule]:
    """`select` (or the default set) plus `extend-select`, minus `ignore`; `ignore` always wins."""
    if config.select is None:
        base = [r for r in registry if r.default_enabled]
    else:
        base = _resolve(registry, config.select, "select")
    chosen = {r.code: r for r in (*base, *_resolve(registry, config.extend_select, "extend-select"))}
    for rule in _resolve(registry, config.ignore, "ignore"):
        chosen.pop(rule.code, None)
    return sorted(chosen.values(), key=lambda r: r.code)


def _severity_overrides(registry: Registry, config: Config) -> dict[str, Severity]:
    overrides: dict[str, Severity] = {}
    for selector, severity in config.severity:
        for rule in _resolve(registry, (selector,), "severity"):
            overrides[rule.code] = severity
    return overrides


def _per_file_ignores(registry: Registry, config: Config) -> list[tuple[object, set[str]]]:
    return [
        (compile_glob(glob), {r.code for r in _resolve(registry, codes, f"per-file-ignores.{glob}")})
        for glob, codes in config.per_file_ignores
    ]


def _finding(rule: Rule, hit: Hit, default_path: str | None) -> Finding:
    fix = None
    if hit.fix is not None:
        from envdoctor.fixes import with_safety

        fix = with_safety(hit.fix, getattr(rule, "fix_safety", None))  # (a plugin may not subclass Rule)
    return Finding(
        code=rule.code, name=rule.name, severity=rule.severity, message=hit.message,
        path=hit.path or default_path or ".", line=max(hit.line, 1), column=max(hit.column, 1),
        end_line=hit.end_line, end_column=hit.end_column, fix_hint=hit.fix_hint or rule.fix_hint, fix=fix,
    )


def scan(root: Path, config: Config, registry: Registry, paths: list[Path] | None = None,
         *, debug: bool = False) -> ScanResult:
    rules = select_rules(registry, config)
    overrides = _severity_overrides(registry, config)
    file_ignores = _per_file_ignores(registry, config)
    selected = {r.code for r in rules}
    # Every file of a kind envdoctor parses is parsed once when ED001 runs, so that a broken one is
    # reported even when no selected rule happened to need it. (Parses are cached: the rules' reads cost
    # nothing.)
    steps = parallel.steps_of(_by_target(rules), UnparsableFile.code in selected, tuple(TARGETS))
    run_target = partial(_run_target, debug=debug)
    project = Project(root, config, paths)
    try:
        try:
            # In one process, or two on a large repository (parallel.py: what is shared out and why).
            raw, errors = parallel.run(project, steps, run_target)
        except parallel.Redo:  # the two processes' results could not be merged exactly: again, in one
            project.close()
            project = Project(root, config, paths)
            raw, errors = parallel.run(project, steps, run_target, jobs=1)
        findings = _apply(raw + project.problems, project, registry, selected, overrides, file_ignores)
    finally:
        project.close()
    findings.sort(key=Finding.sort_key)
    return ScanResult(findings, rules, len(project.suppressions), project.notes, errors,
                      source_lines=project.source_lines)


def _by_target(rules: list[Rule]) -> dict[str, list[Rule]]:
    """The rules of each target, targets in the order of their first rule (rules come sorted by code)."""
    targets: dict[str, list[Rule]] = {}
    for rule in rules:
        if rule.target != ENGINE:
            targets.setdefault(rule.target, []).append(rule)
    return targets


def _run_target(project: Project, target: str, target_rules: list[Rule], select: parallel.Select, *,
                debug: bool) -> list[parallel.Chunk]:
    """Each rule over each item of a target, where `select(count)(item, rule)` says so (parallel.py shares
    the pairs out between processes); a rule that raises loses its hits for that item only. The results
    come in (item index, rule index, findings, internal errors) chunks, in the order found."""
    try:
        items = list(project.items(target))
    except KeyError:
        return [(-1, -1, [], [f"rule {target_rules[0].code} asks for unknown target '{target}'"])]
    chosen = select(len(items))
    context = Context(project=project, config=project.config)
    chunks: list[parallel.Chunk] = []
    for index, item in enumerate(items):
        for position, rule in enumerate(target_rules):
            if not chosen(index, position):
                continue
            try:
                hits = list(rule.check(item.view, context))  # all or nothing
            except Exception as exc:  # a rule bug must not end the scan or print a traceback
                where = item.path or "the repository"
                errors = [f"internal error in rule {rule.code} on {where}: {type(exc).__name__}: {exc}"]
                if debug:
                    errors.append(traceback.format_exc())
                chunks.append((index, position, [], errors))
                continue
            if hits:
                chunks.append((index, position, [_finding(rule, hit, item.path) for hit in hits], []))
    return chunks


def _apply(raw: list[Finding], project: Project, registry: Registry, selected: set[str],
           overrides: dict[str, Severity], file_ignores: list[tuple[object, set[str]]]) -> list[Finding]:
    kept: list[Finding] = []
    for finding in raw:
        if finding.code not in selected:
            continue  # e.g. ED001 when ignored
        if any(finding.code in codes and glob.match(finding.path) for glob, codes in file_ignores):
            continue
        index = project.suppressions.get(finding.path)
        if index is not None and _suppressed(finding, index, registry):
            continue
        if finding.code in overrides:
            finding = finding.with_severity(overrides[finding.code])
        kept.append(finding)
    kept.extend(_suppression_findings(project, registry, selected, overrides, file_ignores))
    return kept


def _suppressed(finding: Finding, index, registry: Registry) -> bool:
    hit = False
    for entry in index.covering(finding.line):
        for written in entry.codes:
            rule = registry.lookup(written)
            if rule is not None and rule.code == finding.code:
                entry.used.add(written)
                hit = True
    return hit


def _suppression_findings(project: Project, registry: Registry, selected: set[str],
                          overrides: dict[str, Severity], file_ignores: list[tuple[object, set[str]]]
                          ) -> list[Finding]:
    """ED003 for suppressions that cannot be understood, ED002 for those that suppressed nothing.

    A code whose rule did not run is never called unused: it may well be needed when that rule runs. The
    same holds for a code that per-file-ignores switches off for the file (its findings never reach the
    suppressions), and for any code in a file that could not be read or parsed (ED001): no rule could
    judge it, and the suppressions will be needed again once it is mended.
    """
    out: list[Finding] = []
    broken = project.failed
    for path, index in project.suppressions.items():
        ignored_here = set().union(*(codes for glob, codes in file_ignores if glob.match(path)))
        for entry in index.entries:
            unknown = [c for c in entry.codes if registry.lookup(c) is None]
            if entry.error or unknown:
                message = (f"Suppression comment {entry.error}." if entry.error else
                           f"Suppression names unknown rule{'s' if len(unknown) > 1 else ''} "
                           f"{', '.join(repr(c) for c in unknown)}.")
                out.append(_meta(InvalidSuppression, message, path, entry.line, overrides))
                continue
            if path in broken:
                continue
            unused = [c for c in entry.codes if c not in entry.used
                      and registry.lookup(c).code in selected - ignored_here]  # type: ignore[union-attr]
            if unused:
                listed = ", ".join(unused)
                out.append(_meta(UnusedSuppression, f"Suppression of {listed} matches no finding.", path,
                                 entry.line, overrides))
    return [f for f in out if f.code in selected]


def _meta(rule: type[Rule], message: str, path: str, line: int, overrides: dict[str, Severity]) -> Finding:
    return Finding(rule.code, rule.name, overrides.get(rule.code, rule.severity), message, path, line,
                   fix_hint=rule.fix_hint)
