"""Terminal safety: text that came from a scanned file never reaches a terminal as control sequences."""

from __future__ import annotations

import re

# C0 and C1 controls (ESC starts ANSI/OSC sequences; U+009B is a one-byte CSI), DEL, and the Unicode
# bidirectional overrides and isolates that can make shown text differ from its bytes ("Trojan source").
_UNSAFE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\t":
        return " "
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """`text` with every control or bidi character written as a visible escape (`\\x1b`, `\\u202e`)."""
    return _UNSAFE_RE.sub(_escape, text)
