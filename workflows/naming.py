"""Resource names from the naming options: prefix + template + postfix.

A template is checked before anything is formatted (`check_template`): only
the known fields, no attribute, index or nested lookups, widths and
precisions within the R1 limit of the resource, and its fixed part
(literals, widths, prefix, postfix) within that limit. `"{venue:>20000000}"`
is refused without building the string. The fields are bounded by the unit
models, so a rendered name stays small; `name_problem` tells a plan when it
is still too long for R1.
"""

from __future__ import annotations

import re
from string import Formatter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workflows.options import NamingOptions

FIELDS = ("unit_number", "ssid_name", "venue", "n")

NAME_LIMITS: dict[str, tuple[int, int]] = {
    # template -> (min, max) characters, from RUCKUS One's OpenAPI documents
    "ap_group": (2, 64),  # wifi_api ApGroup.name pattern (...){2,64}
    "identity_group": (1, 255),  # identity_management IdentityGroup.name maxLength 255
    "pool": (1, 255),  # dpsk_service DpskPoolDto.name maxLength 255
    "network": (2, 32),  # wifi_api PskNetwork/DpskNetwork.name pattern (...){2,32}
    "ssid": (2, 32),  # wifi_api PskWlan/DpskWlan.ssid pattern: 2-32 characters
    "passphrase_username": (1, 255),  # not documented: 255 like every DPSK string field
}
MAX_TEMPLATE_CHARS = 512
"""A template's own length (twice the largest name limit: room for `{{`, field names)."""

_SPEC = re.compile(
    r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>[0-9]+)?[,_]?(?:\.(?P<precision>[0-9]+))?"
    r"[bcdeEfFgGnosxX%]?",
    re.DOTALL,
)
_SAMPLE = {"unit_number": "1", "ssid_name": "s", "venue": "v", "n": 1}


def clip(text: str, limit: int = 20) -> str:
    """A user value short enough to quote in an error."""
    return text if len(text) <= limit else text[:limit] + "..."


def check_template(field: str, template: str, fixed: int = 0) -> None:
    """ValueError (message without the template) unless `template` can name `field`.

    `fixed` is what the name carries besides the template (prefix + postfix).
    """
    lo, hi = NAME_LIMITS[field]
    if len(template) > MAX_TEMPLATE_CHARS:
        raise ValueError(f"a template has at most {MAX_TEMPLATE_CHARS} characters")
    try:
        parts = list(Formatter().parse(template))
    except ValueError:
        raise ValueError("unbalanced braces (write {{ and }} for literal braces)") from None
    for literal, name, spec, conversion in parts:
        fixed += len(literal)
        if name is None:
            continue
        if name not in FIELDS:
            raise ValueError(
                f"unknown field {{{clip(name)}}}: use {{unit_number}}, {{ssid_name}}, {{venue}}, "
                "{n}"
            )
        if conversion not in (None, "s"):
            raise ValueError(f"conversion !{conversion} is not allowed in a name")
        if "{" in (spec or ""):
            raise ValueError("a format spec cannot contain fields")
        m = _SPEC.fullmatch(spec or "")
        if m is None:
            raise ValueError(f"bad format spec {clip(spec)!r}")
        for what in ("width", "precision"):
            digits = m[what]
            if digits is not None and (len(digits) > 6 or int(digits) > hi):
                raise ValueError(
                    f"{what} {clip(digits, 8)} is over R1's {hi}-character limit for this name"
                )
        fixed += int(m["width"] or 0)
    if fixed > hi:
        raise ValueError(
            f"names would be at least {fixed} characters (with prefix and postfix); "
            f"R1 allows {lo}-{hi}"
        )
    try:
        template.format(**_SAMPLE)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValueError(f"cannot be formatted ({type(exc).__name__})") from None


def name_problem(field: str, name: str) -> str | None:
    """Why R1 would refuse `name` for this resource (its length), or None."""
    lo, hi = NAME_LIMITS[field]
    if lo <= len(name) <= hi:
        return None
    return f"name must be {lo}-{hi} characters (is {len(name)})"


def _fields(unit: Any, venue: str, n: int) -> dict[str, Any]:
    return {
        "unit_number": getattr(unit, "unit_number", ""),
        "ssid_name": getattr(unit, "ssid_name", ""),
        "venue": venue,
        "n": n,
    }


def render(naming: NamingOptions, template: str, unit: Any, venue: str = "", n: int = 1) -> str:
    text = template.format(**_fields(unit, venue, n))
    return f"{naming.prefix}{text}{naming.postfix}"


def names(naming: NamingOptions, unit: Any, venue: str = "") -> dict[str, str]:
    """Every per-unit resource name (the SSID carries no prefix/postfix)."""
    return {
        "ap_group": render(naming, naming.ap_group, unit, venue),
        "identity_group": render(naming, naming.identity_group, unit, venue),
        "pool": render(naming, naming.pool, unit, venue),
        "network": render(naming, naming.network, unit, venue),
        "ssid": naming.ssid.format(**_fields(unit, venue, 1)),
    }


def passphrase_username(naming: NamingOptions, unit: Any, n: int) -> str:
    return render(naming, naming.passphrase_username, unit, n=n)
