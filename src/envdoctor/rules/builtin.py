"""The built-in rules, known without importing their modules: what `envdoctor.rules` registers.

Each rule module is imported only when one of its rules first runs (registry.LazyRule), so a run pays only
for the rule families its repository needs. RULES is generated from the rule classes in RULE_MODULES by
`.venv/bin/python tools/builtin_rules.py`; a test fails while it is out of date.
"""

from __future__ import annotations

from envdoctor.findings import Severity
from envdoctor.registry import Rule, RuleSpec

RULE_MODULES = (
    'envdoctor.rules.meta',
    'envdoctor.rules.docker',
    'envdoctor.rules.lockfile',
    'envdoctor.rules.project',
    'envdoctor.rules.environment',
    'envdoctor.rules.ci',
)

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
RULES = (
    RuleSpec('ED001', 'unparsable-file', E, 'engine', True,
             'envdoctor.rules.meta:UnparsableFile'),
    RuleSpec('ED002', 'unused-suppression', W, 'engine', True,
             'envdoctor.rules.meta:UnusedSuppression'),
    RuleSpec('ED003', 'invalid-suppression', W, 'engine', True,
             'envdoctor.rules.meta:InvalidSuppression'),
    RuleSpec('ED101', 'base-image-latest', E, 'dockerfile', True,
             'envdoctor.rules.docker:BaseImageLatest'),
    RuleSpec('ED102', 'base-image-tag-only', W, 'dockerfile', True,
             'envdoctor.rules.docker:BaseImageTagOnly'),
    RuleSpec('ED103', 'deps-after-source-copy', W, 'dockerfile', True,
             'envdoctor.rules.docker:DepsAfterSourceCopy'),
    RuleSpec('ED104', 'package-cache-in-layer', W, 'dockerfile', True,
             'envdoctor.rules.docker:PackageCacheInLayer'),
    RuleSpec('ED105', 'editable-install-in-image', E, 'dockerfile', True,
             'envdoctor.rules.docker:EditableInstallInImage'),
    RuleSpec('ED106', 'image-ignores-lockfile', E, 'dockerfile', True,
             'envdoctor.rules.docker:ImageIgnoresLockfile'),
    RuleSpec('ED107', 'unpinned-package-install', W, 'dockerfile', True,
             'envdoctor.rules.docker:UnpinnedPackageInstall'),
    RuleSpec('ED108', 'build-tools-in-final-image', W, 'dockerfile', True,
             'envdoctor.rules.docker:BuildToolsInFinalImage'),
    RuleSpec('ED109', 'context-leaks-virtualenv', W, 'dockerfile', True,
             'envdoctor.rules.docker:ContextLeaksVirtualenv'),
    RuleSpec('ED110', 'copy-of-ignored-file', E, 'dockerfile', True,
             'envdoctor.rules.docker:CopyOfIgnoredFile'),
    RuleSpec('ED111', 'cuda-torch-mismatch', E, 'dockerfile', True,
             'envdoctor.rules.docker:CudaTorchMismatch'),
    RuleSpec('ED112', 'system-python-install', W, 'dockerfile', True,
             'envdoctor.rules.docker:SystemPythonInstall'),
    RuleSpec('ED201', 'missing-lockfile', E, 'python-project', True,
             'envdoctor.rules.lockfile:MissingLockfile'),
    RuleSpec('ED202', 'lockfile-not-committed', E, 'python-project', True,
             'envdoctor.rules.lockfile:LockfileNotCommitted'),
    RuleSpec('ED203', 'lockfile-stale', E, 'python-project', True,
             'envdoctor.rules.lockfile:LockfileStale'),
    RuleSpec('ED204', 'lockfile-uncommitted-changes', W, 'python-project', True,
             'envdoctor.rules.lockfile:LockfileUncommittedChanges'),
    RuleSpec('ED205', 'competing-lockfiles', W, 'python-project', True,
             'envdoctor.rules.lockfile:CompetingLockfiles'),
    RuleSpec('ED206', 'unpinned-requirements', W, 'repository', True,
             'envdoctor.rules.lockfile:UnpinnedRequirements'),
    RuleSpec('ED207', 'unknown-lockfile-version', I, 'lockfile', True,
             'envdoctor.rules.lockfile:UnknownLockfileVersion'),
    RuleSpec('ED301', 'missing-requires-python', W, 'pyproject', True,
             'envdoctor.rules.project:MissingRequiresPython'),
    RuleSpec('ED302', 'dev-tool-in-runtime-deps', W, 'pyproject', True,
             'envdoctor.rules.project:DevToolInRuntimeDeps'),
    RuleSpec('ED303', 'pipenv-project', I, 'repository', True,
             'envdoctor.rules.project:PipenvProject'),
    RuleSpec('ED304', 'poetry-project', I, 'pyproject', False,
             'envdoctor.rules.project:PoetryProject'),
    RuleSpec('ED305', 'anaconda-defaults', W, 'conda', True,
             'envdoctor.rules.project:AnacondaDefaults'),
    RuleSpec('ED306', 'conda-env-unpinned', W, 'conda', True,
             'envdoctor.rules.project:CondaEnvUnpinned'),
    RuleSpec('ED307', 'virtualenv-committed', E, 'repository', True,
             'envdoctor.rules.project:VirtualenvCommitted'),
    RuleSpec('ED308', 'virtualenv-not-ignored', W, 'repository', True,
             'envdoctor.rules.project:VirtualenvNotIgnored'),
    RuleSpec('ED309', 'python-version-conflict', E, 'repository', True,
             'envdoctor.rules.project:PythonVersionConflict'),
    RuleSpec('ED310', 'end-of-life-python', W, 'repository', True,
             'envdoctor.rules.project:EndOfLifePython'),
    RuleSpec('ED401', 'no-project-environment', I, 'interpreter', True,
             'envdoctor.rules.environment:NoProjectEnvironment'),
    RuleSpec('ED402', 'global-interpreter', E, 'interpreter', True,
             'envdoctor.rules.environment:GlobalInterpreter'),
    RuleSpec('ED403', 'user-site-packages', W, 'interpreter', True,
             'envdoctor.rules.environment:UserSitePackages'),
    RuleSpec('ED404', 'global-site-packages-polluted', W, 'interpreter', True,
             'envdoctor.rules.environment:GlobalSitePackagesPolluted'),
    RuleSpec('ED405', 'system-site-packages-visible', W, 'environment', True,
             'envdoctor.rules.environment:SystemSitePackagesVisible'),
    RuleSpec('ED406', 'broken-environment', E, 'environment', True,
             'envdoctor.rules.environment:BrokenEnvironment'),
    RuleSpec('ED407', 'environment-python-mismatch', E, 'environment', True,
             'envdoctor.rules.environment:EnvironmentPythonMismatch'),
    RuleSpec('ED408', 'environment-drift', W, 'environment', True,
             'envdoctor.rules.environment:EnvironmentDrift'),
    RuleSpec('ED409', 'broken-requirements', E, 'environment', True,
             'envdoctor.rules.environment:BrokenRequirements'),
    RuleSpec('ED410', 'shared-environment', W, 'interpreter', True,
             'envdoctor.rules.environment:SharedEnvironment'),
    RuleSpec('ED411', 'leaking-environment-variables', W, 'interpreter', True,
             'envdoctor.rules.environment:LeakingEnvironmentVariables'),
    RuleSpec('ED412', 'global-install-command', W, 'script', True,
             'envdoctor.rules.environment:GlobalInstallCommand'),
    RuleSpec('ED413', 'hand-rolled-env-script', I, 'script', True,
             'envdoctor.rules.environment:HandRolledEnvScript'),
    RuleSpec('ED501', 'ci-ignores-lockfile', E, 'repository', True,
             'envdoctor.rules.ci:CiIgnoresLockfile'),
    RuleSpec('ED502', 'ci-unpinned-tool', W, 'repository', True,
             'envdoctor.rules.ci:CiUnpinnedTool'),
)


def discover() -> tuple[RuleSpec, ...]:
    """The specs as the rule classes in RULE_MODULES define them (imports every rule module)."""
    import importlib

    specs = []
    for module_name in RULE_MODULES:
        for value in vars(importlib.import_module(module_name)).values():
            if (isinstance(value, type) and issubclass(value, Rule) and value.__module__ == module_name
                    and getattr(value, "code", None)):
                specs.append(RuleSpec(value.code, value.name, value.severity, value.target,
                                      value.default_enabled, f"{module_name}:{value.__name__}"))
    return tuple(sorted(specs, key=lambda spec: spec.code))
