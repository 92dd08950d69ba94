#!/usr/bin/env python3
"""Regenerate src/envdoctor/rules/builtin.py, the built-in rules' specs, from the rule classes.

    .venv/bin/python tools/builtin_rules.py

Run it after adding a rule or changing a rule's code, name, severity, target or default; the test
tests/test_registry.py::test_builtin_specs_match_the_rule_classes fails until then.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from envdoctor.findings import Severity  # noqa: E402
from envdoctor.rules.builtin import RULE_MODULES, discover  # noqa: E402

TEMPLATE = '''"""The built-in rules, known without importing their modules: what `envdoctor.rules` registers.

Each rule module is imported only when one of its rules first runs (registry.LazyRule), so a run pays only
for the rule families its repository needs. RULES is generated from the rule classes in RULE_MODULES by
`.venv/bin/python tools/builtin_rules.py`; a test fails while it is out of date.
"""

from __future__ import annotations

from envdoctor.findings import Severity
from envdoctor.registry import Rule, RuleSpec

RULE_MODULES = (
{modules})

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
RULES = (
{rules})


def discover() -> tuple[RuleSpec, ...]:
    """The specs as the rule classes in RULE_MODULES define them (imports every rule module)."""
    import importlib

    specs = []
    for module_name in RULE_MODULES:
        for value in vars(importlib.import_module(module_name)).values():
            if (isinstance(value, type) and issubclass(value, Rule) and value.__module__ == module_name
                    and getattr(value, "code", None)):
                specs.append(RuleSpec(value.code, value.name, value.severity, value.target,
                                      value.default_enabled, f"{{module_name}}:{{value.__name__}}"))
    return tuple(sorted(specs, key=lambda spec: spec.code))
'''


def main() -> int:
    letter = {Severity.ERROR: "E", Severity.WARNING: "W", Severity.INFO: "I"}
    specs = discover()
    rules = "".join(f"    RuleSpec({s.code!r}, {s.name!r}, {letter[s.severity]}, {s.target!r}, "
                    f"{s.default_enabled!r},\n             {s.path!r}),\n" for s in specs)
    modules = "".join(f"    {m!r},\n" for m in RULE_MODULES)
    target = ROOT / "src" / "envdoctor" / "rules" / "builtin.py"
    target.write_text(TEMPLATE.format(modules=modules, rules=rules), encoding="utf-8")
    print(f"wrote {len(specs)} rule specs to {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
