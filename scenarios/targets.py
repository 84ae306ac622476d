"""Plan targets as printed in the indicator tables: ``6.0``, ``>4.0``, ``<=7.0``, ``+30%``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_FORMS = "a number like '6.0', a bound like '>4.0', '>=4', '<=7.0' or '<7', or a change like '+30%'"
_ABSOLUTE = re.compile(r"^\s*(>=|<=|>|<|=)?\s*(\d+(?:\.\d+)?)\s*$")
_RELATIVE = re.compile(r"^\s*([+-])\s*(\d+(?:\.\d+)?)\s*%\s*$")
_NORMALISE = {"≥": ">=", "≤": "<=", "＞": ">", "＜": "<", "＋": "+", "％": "%"}


@dataclass(frozen=True)
class Target:
    """A parsed target. ``sense`` is ``floor`` (reach at least) or ``ceiling`` (stay at most).

    For a relative target ``value`` is the fractional change (``+30%`` -> 0.30) applied
    to the baseline; otherwise it is the per-capita value itself.
    """

    sense: Literal["floor", "ceiling"]
    value: float
    relative: bool
    strict: bool

    def resolve(self, baseline: float | None) -> float:
        """Absolute per-capita value of the target, given the baseline ratio."""
        if not self.relative:
            return self.value
        if baseline is None:
            raise ValueError("a relative target needs a baseline ratio")
        return baseline * (1.0 + self.value)


def parse_target(expr: str) -> Target:
    """Parse a target expression; raise ``ValueError`` naming the accepted forms."""
    text = str(expr)
    for k, v in _NORMALISE.items():
        text = text.replace(k, v)
    m = _RELATIVE.match(text)
    if m:
        sign = 1.0 if m.group(1) == "+" else -1.0
        change = sign * float(m.group(2)) / 100.0
        return Target(sense="floor" if change >= 0 else "ceiling", value=change, relative=True, strict=False)
    m = _ABSOLUTE.match(text)
    if m:
        op = m.group(1) or "="
        return Target(
            sense="ceiling" if op.startswith("<") else "floor",
            value=float(m.group(2)),
            relative=False,
            strict=op in (">", "<"),
        )
    raise ValueError(f"target {expr!r} is not understood; expected {_FORMS}")
