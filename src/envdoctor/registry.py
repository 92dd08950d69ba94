"""The rule API and the registry of built-in and plugin rules.

A rule is a small class: it declares its code, name, default severity and the target it inspects, and
its `check` yields `Hit`s. It never prints, exits, or decides whether it is selected or suppressed: the
engine does that. Built-in rules and third-party rule packs load the same way: through the entry-point
group `envdoctor.rules`. envdoctor registers its own rules there as `RuleSpec`s (rules/builtin.py): a
rule's identity without its module, which is imported only when the rule first runs, so that a run pays
only for the rule families its repository needs. A pack may register modules, classes or specs.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Iterator

from envdoctor.findings import Hit, Severity

if TYPE_CHECKING:
    from envdoctor.config import Config
    from envdoctor.project import Project

ENTRY_POINT_GROUP = "envdoctor.rules"
BUILTIN_ENTRY_POINT = "envdoctor.rules.builtin:RULES"  # as registered in pyproject.toml
CODE_RE = re.compile(r"^[A-Z]{1,4}[0-9]{3}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Context:
    """What a rule may consult besides the item it was given."""

    project: Project
    config: Config


class Rule:
    """Base class of every rule. Subclasses set the class attributes and implement `check`.

    `target` names what the rule inspects; the engine calls `check(item, context)` once per item of that
    target (see `Project.items`): "dockerfile" (a parsed Dockerfile), "pyproject" (a parsed pyproject),
    or "repository" (the Project itself, once per scan).
    """

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    target: ClassVar[str]
    summary: ClassVar[str] = ""  # one line, shown by `envdoctor rules`
    fix_hint: ClassVar[str | None] = None  # default hint for this rule's findings
    # How safe the fixes its hits carry are (`check --fix`): "safe", or "unsafe" (only with
    # --unsafe-fixes). None: the rule offers no fix, and a fix it carries anyway counts as unsafe.
    fix_safety: ClassVar[str | None] = None
    default_enabled: ClassVar[bool] = True
    # Markdown page for rules outside the built-in catalog (plugins); built-ins use rules/<code>-<name>.md.
    documentation: ClassVar[str | None] = None

    def check(self, item: Any, context: Context) -> Iterable[Hit]:  # pragma: no cover - abstract
        raise NotImplementedError


class RegistryError(Exception):
    """A rule pack is broken (bad code, clashing code or name): an internal error, exit code 2."""


@dataclass(frozen=True)
class RuleSpec:
    """A rule known before its module is imported: its identity, and where its class is ("module:Class")."""

    code: str
    name: str
    severity: Severity
    target: str
    default_enabled: bool
    path: str


class LazyRule:
    """Stands for a rule given by a RuleSpec: selection and lookups use the spec; the first use of
    anything else (`check`, `fix_hint`, `summary`, ...) imports the rule's module."""

    def __init__(self, spec: RuleSpec) -> None:
        self.code, self.name, self.severity = spec.code, spec.name, spec.severity
        self.target, self.default_enabled = spec.target, spec.default_enabled
        self._spec = spec
        self._rule: Rule | None = None

    def load(self) -> Rule:
        if self._rule is None:
            module, _, attr = self._spec.path.partition(":")
            rule = getattr(importlib.import_module(module), attr)()
            found = (rule.code, rule.name, rule.severity, rule.target, rule.default_enabled)
            if found != (self.code, self.name, self.severity, self.target, self.default_enabled):
                raise RegistryError(f"rule {self.code}: {self._spec.path} does not match its registered spec")
            self._rule = rule
        return self._rule

    def check(self, item: Any, context: Context) -> Iterable[Hit]:
        return self.load().check(item, context)

    def __getattr__(self, attr: str) -> Any:  # only for attributes the spec does not carry
        if attr.startswith("__") or attr in ("_rule", "_spec"):
            raise AttributeError(attr)
        return getattr(self.load(), attr)


def _rules_in(obj: Any) -> Iterator[Rule | LazyRule]:
    """The rules an entry point provides: a Rule class, a RuleSpec, a module (its Rule classes), or an
    iterable of any of these."""
    if isinstance(obj, type) and issubclass(obj, Rule):
        yield obj()
    elif isinstance(obj, RuleSpec):
        yield LazyRule(obj)
    elif isinstance(obj, ModuleType):
        for value in vars(obj).values():
            if isinstance(value, type) and issubclass(value, Rule) and value.__module__ == obj.__name__:
                if getattr(value, "code", None):
                    yield value()
    elif isinstance(obj, Iterable):
        for item in obj:
            yield from _rules_in(item)
    else:
        raise RegistryError(f"entry point object {obj!r} provides no envdoctor rules")


class Registry:
    """Every known rule, by code and by name."""

    def __init__(self, rules: Iterable[Rule | LazyRule] = ()) -> None:
        self.by_code: dict[str, Rule] = {}
        self.by_name: dict[str, Rule] = {}
        for rule in rules:
            self.add(rule)

    def add(self, rule: Rule | LazyRule) -> None:
        for attr in ("code", "name", "severity", "target"):
            if not hasattr(rule, attr):
                raise RegistryError(f"rule {type(rule).__name__} has no '{attr}'")
        if not CODE_RE.match(rule.code):
            raise RegistryError(f"rule code {rule.code!r} is not 1-4 capital letters and 3 digits")
        if not NAME_RE.match(rule.name):
            raise RegistryError(f"rule name {rule.name!r} is not kebab-case")
        if rule.code in self.by_code or rule.name in self.by_name:
            raise RegistryError(f"rule {rule.code} {rule.name} is defined twice")
        self.by_code[rule.code] = rule
        self.by_name[rule.name] = rule

    def __iter__(self) -> Iterator[Rule]:
        return iter(sorted(self.by_code.values(), key=lambda r: r.code))

    def __len__(self) -> int:
        return len(self.by_code)

    def lookup(self, code_or_name: str) -> Rule | None:
        return self.by_code.get(code_or_name.upper()) or self.by_name.get(code_or_name.lower())

    def matching(self, selector: str) -> list[Rule]:
        """Rules a selector names: 'ALL', a code, a code prefix ('ED1'), or a rule name."""
        selector = selector.strip()
        if selector.upper() == "ALL":
            return list(self)
        rule = self.lookup(selector)
        if rule is not None:
            return [rule]
        prefix = selector.upper()
        if re.fullmatch(r"[A-Z]{1,4}[0-9]{0,2}", prefix):
            return [r for r in self if r.code.startswith(prefix)]
        return []


def _entry_points(group: str) -> Iterator[tuple[str, str]]:
    """(name, value) of every entry point in `group`, from the distributions on sys.path.

    What importlib.metadata.entry_points(group=...) answers for installed distributions (`*.dist-info`
    and `*.egg-info` folders, the first distribution of a name on sys.path winning), without importing
    importlib.metadata, which alone costs a short run a fifth of its time.
    """
    seen: set[str] = set()
    for entry in sys.path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for name in names:
            stem, dot, suffix = name.rpartition(".")
            if not dot or suffix not in ("dist-info", "egg-info"):
                continue
            distribution = re.sub(r"[-_.]+", "-", stem.split("-")[0]).lower()
            if distribution in seen:
                continue
            seen.add(distribution)
            try:
                with open(os.path.join(entry or ".", name, "entry_points.txt"), encoding="utf-8") as handle:
                    text = handle.read()
            except OSError:
                continue
            current = None
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("[") and line.endswith("]"):
                    current = line[1:-1].strip()
                elif current == group and "=" in line and not line.startswith(("#", ";")):
                    key, _, value = line.partition("=")
                    yield key.strip(), value.strip()


def _load_entry_point(value: str) -> Any:
    """`module` or `module:attr.attr` (extras in brackets ignored), as importlib.metadata loads it."""
    target = value.split("[", 1)[0].strip()
    module_name, _, attrs = target.partition(":")
    provided: Any = importlib.import_module(module_name.strip())
    for attr in filter(None, attrs.strip().split(".")):
        provided = getattr(provided, attr)
    return provided


def load_rules(*, plugins: bool = True) -> Registry:
    """Every rule pack registered under the `envdoctor.rules` entry-point group, envdoctor's own included.

    Run from a source tree that is not installed, envdoctor's own entry point is missing: then the
    built-in rules are loaded directly, so the result is the same. `plugins=False` loads only those.
    """
    registry = Registry()
    builtin_loaded = False
    if plugins:
        for name, value in _entry_points(ENTRY_POINT_GROUP):
            try:
                provided = _load_entry_point(value)
            except Exception as exc:  # a broken plugin must not look like an envdoctor crash
                raise RegistryError(f"cannot load rule pack '{name}': {exc}") from exc
            builtin_loaded |= value.replace(" ", "") == BUILTIN_ENTRY_POINT
            for rule in _rules_in(provided):
                registry.add(rule)
    if not builtin_loaded:
        for rule in _rules_in(_load_entry_point(BUILTIN_ENTRY_POINT)):
            registry.add(rule)
    return registry
