"""Image references in a Dockerfile: where each is used, what it resolves to, and how it is pinned.

Every place an image is named counts: `FROM`, `COPY --from=<image>`, `RUN --mount=...,from=<image>`.
References to build stages (by name or index) and `scratch` are not images. A reference built from `ARG`s
is resolved with their defaults as BuildKit would; one that depends on a value only known at build time
(`--build-arg`) is not guessed at: `resolved` is None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from envdoctor.sources.dockerfile import Dockerfile, Instruction, Stage, expand

_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")


@dataclass(frozen=True)
class ImageRef:
    """A parsed `[host[:port]/]path[:tag][@digest]` reference."""

    name: str  # host and path, without tag or digest
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, text: str) -> ImageRef | None:
        text = text.strip()
        if not text or any(c.isspace() for c in text) or "$" in text:
            return None
        name, _, digest = text.partition("@")
        # A tag is what follows the last ':' after the last '/': `localhost:5000/app` has a port, no tag.
        head, colon, tag = name.rpartition(":")
        if colon and "/" not in tag:
            name = head
        else:
            tag = ""
        if not name:
            return None
        return cls(name=name, tag=tag or None, digest=digest or None)

    @property
    def pinned(self) -> bool:
        return bool(self.digest and _DIGEST_RE.match(self.digest))

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


@dataclass(frozen=True)
class ImageUse:
    instruction: Instruction
    stage: Stage
    how: str  # "FROM", "COPY --from", "RUN --mount"
    written: str  # as in the file, variables unexpanded
    resolved: ImageRef | None  # None: depends on a build-time value, or not a valid reference


def _is_stage_ref(text: str, stage_names: set[str], stage_index: int) -> bool:
    if text.isdigit():
        return int(text) < stage_index
    return text.lower() in stage_names


def image_uses(dockerfile: Dockerfile) -> Iterator[ImageUse]:
    global_vars = dockerfile.global_scope()
    all_names = {s.name for s in dockerfile.stages if s.name}
    earlier: set[str] = set()
    for stage in dockerfile.stages:
        base = expand(stage.image, global_vars, dockerfile.escape)
        if base is None or (base.lower() not in earlier and base.lower() != "scratch"):  # no set union per stage
            yield ImageUse(stage.from_instruction, stage, "FROM", stage.image,
                           ImageRef.parse(base) if base is not None else None)
        for instruction in stage.instructions:
            sources: list[tuple[str, str]] = []
            if instruction.keyword in ("COPY", "ADD") and instruction.flag("from"):
                sources.append(("COPY --from", instruction.flag("from") or ""))
            if instruction.keyword == "RUN":
                for flag in instruction.flags_named("mount"):
                    source = flag.options().get("from")
                    if source:
                        sources.append(("RUN --mount", source))
            for how, written in sources:
                value = expand(written, dockerfile.stage_scope(stage, instruction), dockerfile.escape)
                if value is not None and (_is_stage_ref(value, all_names, stage.index) or value.lower() == "scratch"):
                    continue
                yield ImageUse(instruction, stage, how, written, ImageRef.parse(value) if value is not None else None)
        if stage.name:
            earlier.add(stage.name)
