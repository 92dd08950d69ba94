"""ED1xx: Dockerfiles. How a Python image should be built: pinned base images, ..."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Iterator

from envdoctor.findings import Hit, Severity
from envdoctor.registry import Context, Rule
from envdoctor.sources.dockerfile import Dockerfile
from envdoctor.sources.images import ImageUse, image_uses


def _allowed(use: ImageUse, context: Context) -> bool:
    ref = use.resolved
    patterns = context.config.docker.allowed_images
    return ref is not None and any(fnmatchcase(ref.name, p) or fnmatchcase(str(ref), p) for p in patterns)


def _what(use: ImageUse) -> str:
    return "Base image" if use.how == "FROM" else f"Image used by {use.how}"


def _line(use: ImageUse) -> int:
    offset = use.instruction.args.find(use.written)
    return use.instruction.line_of(offset) if offset >= 0 else use.instruction.start_line


def _checked_uses(dockerfile: Dockerfile, context: Context) -> Iterator[ImageUse]:
    for use in image_uses(dockerfile):
        if use.resolved is not None and not _allowed(use, context):
            yield use


class BaseImageLatest(Rule):
    code = "ED101"
    name = "base-image-latest"
    severity = Severity.ERROR
    target = "dockerfile"
    summary = "An image is used with the `latest` tag or with no tag at all."

    def check(self, dockerfile: Dockerfile, context: Context) -> Iterator[Hit]:
        for use in _checked_uses(dockerfile, context):
            ref = use.resolved
            assert ref is not None
            if ref.pinned or (ref.tag is not None and ref.tag != "latest"):
                continue
            shown = str(ref) if ref.tag else f"{ref}' (no tag, so '{ref.name}:latest"
            yield Hit(
                f"{_what(use)} '{shown}' floats: every build may get a different image, Python and "
                f"system libraries.",
                line=_line(use),
                fix_hint=f"Pin a version tag and its digest, e.g. {ref.name}:<version>@sha256:<digest>.",
            )


class BaseImageTagOnly(Rule):
    code = "ED102"
    name = "base-image-tag-only"
    severity = Severity.WARNING
    target = "dockerfile"
    summary = "An image is pinned by a tag but not by its `@sha256:` digest."

    def check(self, dockerfile: Dockerfile, context: Context) -> Iterator[Hit]:
        for use in _checked_uses(dockerfile, context):
            ref = use.resolved
            assert ref is not None
            if ref.pinned or ref.tag is None or ref.tag == "latest":
                continue
            yield Hit(
                f"{_what(use)} '{ref}' is pinned by tag only: the tag can be moved to another image, "
                f"so two builds of this file may differ.",
                line=_line(use),
                fix_hint=(f"Add the digest: {ref}@sha256:<digest> (`docker buildx imagetools inspect {ref}` "
                          f"shows it); let Renovate or Dependabot keep it current."),
            )
