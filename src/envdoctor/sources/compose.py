"""Compose files (compose.y(a)ml, docker-compose.y(a)ml): the `build:` of each service, as the Dockerfile
rules need it to know a Dockerfile's build context (`rules/_dockerbuild.py`).

Read as YAML nodes with `yaml.compose` and the safe loader only: nothing is constructed or run, and an
alias is a reference to the same node, never a copy. A file above the size limit, or one that is not valid
YAML, gives None: it is not envdoctor's to report.
"""

from __future__ import annotations

NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
MAX_CHARACTERS = 2**20


def compose_builds(text: str, rel: str) -> tuple[tuple[str, str], ...] | None:
    """The (context, dockerfile) of each service's `build:` in a Compose file, as written (defaults: the
    context '.', the Dockerfile 'Dockerfile'). Read as YAML nodes with the safe loader (nothing is
    constructed or run); a file that is not valid YAML, or too large, gives None (it is not envdoctor's to
    report). A `dockerfile_inline`, or a value that is not a string, leaves the service out."""
    import yaml
    from yaml.nodes import MappingNode, ScalarNode

    if len(text) > MAX_CHARACTERS:
        return None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None

    def value(node, key: str):
        if not isinstance(node, MappingNode):
            return None
        for name, item in node.value:
            if isinstance(name, ScalarNode) and name.value == key:
                return item
        return None

    services = value(root, "services")
    if not isinstance(services, MappingNode):
        return ()
    out: list[tuple[str, str]] = []
    for _, service in services.value:
        build = value(service, "build")
        if isinstance(build, ScalarNode) and isinstance(build.value, str) and build.value:
            out.append((build.value, "Dockerfile"))
        elif isinstance(build, MappingNode) and value(build, "dockerfile_inline") is None:
            context, dockerfile = value(build, "context"), value(build, "dockerfile")
            if context is not None and not (isinstance(context, ScalarNode) and context.value) \
                    or dockerfile is not None and not (isinstance(dockerfile, ScalarNode) and dockerfile.value):
                continue
            out.append((context.value if context is not None else ".",
                        dockerfile.value if dockerfile is not None else "Dockerfile"))
    return tuple(out)
