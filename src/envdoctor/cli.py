"""The command line. Exit codes: 0 clean, 1 findings at or above `fail-on`, 2 usage or internal error.

Heavy modules (the engine, rules, rich, reporters) are imported inside the commands that need them, so
that `envdoctor --version` and a small pre-commit run start fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from envdoctor import __version__
from envdoctor.entry import stdout_closed

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def fail(message: str) -> NoReturn:
    """One clear line on stderr, exit code 2."""
    from envdoctor.report.escape import safe

    click.echo(f"envdoctor: error: {safe(message)}", err=True)
    sys.exit(EXIT_ERROR)


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` with an envdoctor config or a `.git`; else `start` itself."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if _marked(candidate):
            return candidate
    return folder


def _marked(folder: Path) -> bool:
    """The folder holds an envdoctor config file or `.git`: a project root."""
    from envdoctor.config import config_files

    return (folder / ".git").exists() or bool(config_files(folder))


def _run_root(targets: list[Path], resolved: list[Path]) -> tuple[Path, list[Path]]:
    """The project root of a run over `targets` (their resolved paths): of the roots of the paths (find_root),
    the outermost, which must hold every path, whatever their order. Also the config files of the other
    roots, which this run does not use (one configuration per run)."""
    roots = [find_root(t) for t in targets]
    outermost = min(roots, key=lambda r: len(r.parts))

    def holds_all(root: Path) -> bool:
        return all(full == root or root in full.parents for full in resolved)

    if not holds_all(outermost):  # sibling sub-projects with their own configurations: the root above both
        above = find_root(Path(os.path.commonpath([str(r) for r in roots])))
        if holds_all(above) and _marked(above):
            outermost = above
    for target, full in zip(targets, resolved):
        if full != outermost and outermost not in full.parents:
            fail(f"path {target} is outside the project root {outermost} (of {targets[roots.index(outermost)]}): "
                 "check them separately")
    from envdoctor.config import config_files

    unused = [config for other in dict.fromkeys(r for r in roots if r != outermost) for config in config_files(other)]
    return outermost, unused


def _display_prefix(root: Path) -> str:
    """Where the project root is inside the git working tree that holds it ("services/api"), when a config
    file below the top made it the root; "" otherwise. Output paths are given from the top of the working
    tree, as code scanning, GitHub annotations and `git apply` read them, never with `..`."""
    for folder in root.parents:
        if (folder / ".git").exists():
            return root.relative_to(folder).as_posix()
    return ""


def _under(prefix: str, result: Any) -> Any:
    """The scan's result with every path given from the top of the working tree (see _display_prefix)."""
    from dataclasses import replace

    def shown(path: str) -> str:
        return prefix if path in (".", "") else f"{prefix}/{path}"

    source_lines = result.source_lines

    def lines_of(path: str) -> list[str] | None:  # reports look up a finding's file by its shown path
        if source_lines is None:
            return None
        return source_lines(path[len(prefix) + 1:] if path.startswith(prefix + "/") else ".")

    return replace(result, findings=[replace(f, path=shown(f.path)) for f in result.findings],
                   source_lines=lines_of)


def _csv(values: tuple[str, ...]) -> tuple[str, ...] | None:
    """Repeated and comma-separated flag values; None when the flag was not given."""
    if not values:
        return None
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def use_color(stream: Any, setting: str) -> bool:
    if setting != "auto":
        return setting == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="envdoctor", message="%(prog)s %(version)s")
def cli() -> None:
    """envdoctor: environment hygiene for Python projects (lockfiles, Dockerfiles, environments, CI)."""


FORMAT_CHOICES = ["text", "concise", "json", "sarif", "github", "gitlab", "junit"]


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "output_format", type=click.Choice(FORMAT_CHOICES), default="text", show_default=True,
              help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report (with --diff: the patch) to FILE.")
@click.option("--select", multiple=True, help="Rules to run (codes, prefixes such as ED1, names); replaces the configured set.")
@click.option("--extend-select", multiple=True, help="Rules to run in addition.")
@click.option("--ignore", multiple=True, help="Rules not to run.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), help="Lowest severity that makes the exit code 1 [default: warning].")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--statistics", is_flag=True, help="Count findings per rule.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Use this config file.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing; only the exit code tells.")
@click.option("-v", "--verbose", is_flag=True, help="Also print notes: files skipped and why.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.option("--python", "python", metavar="PATH",
              help="Also inspect this interpreter by running a small probe in it (the doctor's rules ED401-ED404, ED410, ED411).")
@click.option("--fix", is_flag=True, help="Apply the safe fixes in place, then report what remains.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff instead of writing them.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply (or show) fixes that may change behaviour.")
@click.option("--digest-map", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="TOML or JSON mapping image:tag to its sha256 digest, for the ED102 fix (never fetched).")
@click.option("--no-cache", is_flag=True,
              help="Scan even if nothing changed since the last identical run (see docs/cache.md).")
def check(paths: tuple[Path, ...], output_format: str, output: Path | None, select: tuple[str, ...],
          extend_select: tuple[str, ...], ignore: tuple[str, ...], fail_on: str | None, exit_zero: bool,
          statistics: bool, config_file: Path | None, color: str, quiet: bool, verbose: bool, debug: bool,
          python: str | None = None, fix: bool = False, diff: bool = False, unsafe_fixes: bool = False,
          digest_map: Path | None = None, no_cache: bool = False) -> None:
    """Check the repository at PATHS (default: the current folder) and report each problem found."""
    # --no-cache is acted on before this runs (entry.py: such a command line is never replayed or stored).
    try:
        code = _check(paths, output_format, output, select, extend_select, ignore, fail_on, exit_zero,
                      statistics, config_file, color, quiet, verbose, debug, python=python, fix=fix, diff=diff,
                      unsafe_fixes=unsafe_fixes, digest_map=digest_map)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # the last line of defence: one line, exit 2, traceback only with --debug
        if debug:
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)")
    sys.exit(code)


def _check(paths, output_format, output, select, extend_select, ignore, fail_on, exit_zero, statistics,
           config_file, color, quiet, verbose, debug, python=None, fix=False, diff=False, unsafe_fixes=False,
           digest_map=None) -> int:
    from envdoctor.cache import note_root
    from envdoctor.config import ConfigError, config_files, load_config, with_overrides
    from envdoctor.engine import scan, select_rules
    from envdoctor.findings import Severity
    from envdoctor.registry import RegistryError, load_rules
    from envdoctor.report import Report, no_source, renderer
    from envdoctor.report.escape import safe

    targets = [p for p in paths] or [Path(".")]
    for target in targets:
        if not os.path.lexists(target):
            fail(f"path does not exist: {target}")
    resolved = [t.resolve() for t in targets]
    root, unused_configs = _run_root(targets, resolved)
    if config_file is None:  # the root's own files after the first, which is the one used
        unused_configs = config_files(root)[1:] + unused_configs
    note_root(root)  # the result cache looks up git's inputs from here (when this run is recorded)
    try:
        config = load_config(root, config_file)
        registry = load_rules()
        # As in ruff, the command line is a layer over the configuration: --select starts the selection
        # afresh (the configured select and ignore no longer apply); --extend-select runs its rules even
        # where the configuration ignores them; --ignore takes rules out.
        cli_select, cli_ignore, cli_extend = _csv(select), _csv(ignore) or (), _csv(extend_select)
        if cli_select is None and cli_extend:
            configured = tuple(rule.code for rule in select_rules(registry, config))
            config = with_overrides(config, select=configured, extend_select=cli_extend, ignore=cli_ignore)
        else:
            config = with_overrides(config, select=cli_select,
                                    extend_select=(config.extend_select + cli_extend) if cli_extend else None,
                                    ignore=cli_ignore if cli_select else config.ignore + cli_ignore)
        config = with_overrides(
            config,
            fail_on=Severity.parse(fail_on) if fail_on else None,
            python=python,  # probed only by the rules that need it (envdoctor.doctor); a failure is one line
            digest_map=_digest_map(digest_map),
        )
        fixed = None
        if fix and not diff:
            from envdoctor.fixes import fix_loop

            outcome = fix_loop(root, config, registry, resolved, unsafe=unsafe_fixes, debug=debug)
            result, fixed = outcome.result, outcome.fixed
            for note in outcome.notes:
                click.echo(f"envdoctor: warning: {safe(note)}", err=True)
        else:
            result = scan(root, config, registry, resolved, debug=debug)
    except (ConfigError, RegistryError) as exc:
        fail(str(exc))
    if diff:
        return _show_diff(root, result, unsafe_fixes, quiet, output)

    prefix = _display_prefix(root)
    if prefix:
        result = _under(prefix, result)
    if verbose:
        for unused in unused_configs:
            shown = "/".join(part for part in (prefix, unused.relative_to(root).as_posix()) if part)
            if unused.parent == root:
                why = "the first of envdoctor.toml, .envdoctor.toml, pyproject.toml)"
            else:
                why = f"the project root's; check {shown.rpartition('/')[0]} on its own to use it)"
            result.notes.append(f"{shown}: its envdoctor configuration is not used by this run (one configuration "
                                f"per run: {why}")

    stream = sys.stdout
    handle = None
    if output is not None:
        try:
            handle = open(output, "w", encoding="utf-8", newline="\n")
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}")
        stream = handle
    report = Report(
        findings=result.findings, rules=result.rules, registry=registry, files_read=result.files_read,
        fail_on=config.fail_on, color=use_color(stream, color) and output_format == "text",
        statistics=statistics, verbose=verbose, notes=result.notes, errors=result.internal_errors,
        source_lines=result.source_lines or no_source, unsafe_fixes=unsafe_fixes, fixed=fixed,
    )
    try:
        if not quiet:
            renderer(output_format)(report, stream)
            stream.flush()
    except BrokenPipeError:  # `envdoctor check | head -1`: stop writing; the exit code still says what was found
        stdout_closed()
    finally:
        if handle is not None:
            handle.close()
    if fixed and not quiet and output_format in ("json", "sarif", "gitlab"):
        from envdoctor.report.text import fixed_summary

        click.echo(fixed_summary(report), err=True)  # the report itself is data: the tally goes to stderr
    for error in result.internal_errors:
        click.echo(f"envdoctor: error: {safe(error)}", err=True)  # exception text may quote a file
    if result.internal_errors:
        return EXIT_ERROR
    if report.failing and not exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _digest_map(path: Path | None) -> dict | None:
    if path is None:
        return None
    from envdoctor.fixes import load_digest_map

    return load_digest_map(path)


def _show_diff(root: Path, result: Any, unsafe_fixes: bool, quiet: bool, output: Path | None = None) -> int:
    """`--diff`: the first `--fix` pass as a unified diff on stdout (or in the `-o` file, exactly), nothing
    fixed. Exit 1 when there is something to fix (as ruff), 2 on an internal error, else 0."""
    from envdoctor.fixes import diff_pass
    from envdoctor.report.escape import safe

    outcome = diff_pass(root, result, unsafe=unsafe_fixes, prefix=_display_prefix(root))
    if output is not None:
        try:
            with open(output, "w", encoding="utf-8", newline="") as handle:  # the patch's bytes, as git applies them
                handle.write(outcome.diff)
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}")
    if not quiet:
        text = outcome.diff if output is None else ""
        if getattr(sys.stdout, "isatty", lambda: False)():
            # File content never reaches a terminal as control sequences (a pipe gets the exact bytes).
            text = "".join(safe(line[:-1] if line.endswith("\n") else line) + "\n"
                           for line in text.splitlines(keepends=True))
        try:
            click.echo(text, nl=False)
            sys.stdout.flush()
        except BrokenPipeError:  # `--diff | head`: the exit code still says whether there is something to fix
            stdout_closed()
        for note in outcome.notes:
            click.echo(f"envdoctor: warning: {safe(note)}", err=True)
        more = sum(1 for f in result.findings if f.fix is not None and f.fix.safety == "unsafe") \
            if not unsafe_fixes else 0
        tail = f" ({more} more with --unsafe-fixes)" if more else ""
        if outcome.fixed:
            problems = f"{outcome.fixed} problem{'s' if outcome.fixed != 1 else ''}"
            click.echo(f"Would fix {problems} in {len(outcome.changed)} file"
                       f"{'s' if len(outcome.changed) != 1 else ''}{tail}.", err=True)
        else:
            click.echo(f"No fixes available{tail}.", err=True)
    for error in result.internal_errors:
        click.echo(f"envdoctor: error: {safe(error)}", err=True)  # exception text may quote a file
    if result.internal_errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if outcome.diff else EXIT_CLEAN


@cli.command("rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_rules(output_format: str) -> None:
    """List every rule: code, name, default severity, whether it runs by default, and its fix (safe: --fix;
    unsafe: --fix --unsafe-fixes)."""
    from envdoctor.registry import RegistryError, load_rules

    try:
        registry = load_rules()
    except RegistryError as exc:
        fail(str(exc))
    if output_format == "json":
        import json

        rows = [{"code": r.code, "name": r.name, "severity": r.severity.label, "target": r.target,
                 "default": r.default_enabled, "fix": _fix(r), "summary": _summary(r)} for r in registry]
        click.echo(json.dumps(rows, indent=2))
        return
    for rule in registry:
        default = "yes" if rule.default_enabled else "no"
        click.echo(f"{rule.code}  {rule.name:<32} {rule.severity.label:<8} default={default:<4} "
                   f"fix={_fix(rule) or 'no':<7}{_summary(rule)}")


def _summary(rule: Any) -> str:
    from envdoctor.catalog import page_for

    page = page_for(rule.code)
    return rule.summary or (page.summary if page else "")


def _fix(rule: Any) -> str | None:
    """"safe" or "unsafe" (as `--fix` and `--unsafe-fixes` apply it) from the rule's page; None: no fix."""
    from envdoctor.catalog import page_for

    page = page_for(rule.code)
    fixable = page.meta.get("fixable", "no") if page else "no"
    return fixable if fixable in ("safe", "unsafe") else None


@cli.command()
@click.argument("rule")
def explain(rule: str) -> None:
    """Print the catalog page of RULE (a code such as ED101, or a name such as base-image-latest)."""
    from envdoctor.catalog import page_for
    from envdoctor.registry import RegistryError, load_rules

    try:
        found = load_rules().lookup(rule)
    except RegistryError as exc:
        fail(str(exc))
    if found is None:
        fail(f"unknown rule '{rule}' (see `envdoctor rules`)")
    page = page_for(found.code)
    text = page.body if page else (found.documentation or f"# {found.code} {found.name}\n\n{found.summary}\n")
    click.echo(text.rstrip("\n"))


@cli.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--python", "python", metavar="PATH",
              help="The interpreter to inspect [default: $VIRTUAL_ENV, else $CONDA_PREFIX, else python3 on PATH].")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), help="Lowest severity that makes the exit code 1 [default: warning].")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Use this config file.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True)
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def doctor(path: Path | None, python: str | None, output_format: str, fail_on: str | None, config_file: Path | None,
           color: str, debug: bool) -> None:
    """Inspect the interpreter and environment in use for the project at PATH (default: here): a health
    report of the environment rules (ED4xx), healthy checks included. Runs a small probe in the interpreter."""
    from envdoctor.doctor import run_doctor

    try:
        code = run_doctor(path or Path("."), python=python, output_format=output_format, fail_on=fail_on,
                          config_file=config_file, color=color, debug=debug)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # the last line of defence, as for `check`
        if debug:
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)")
    sys.exit(code)


def main() -> None:
    cli(prog_name="envdoctor")


if __name__ == "__main__":
    main()
