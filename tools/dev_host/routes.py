"""ASP.NET-style route templates as the Functions host accepts them, compiled to regular expressions (pure).

Supported: literal segments (matched case-insensitively, as ASP.NET routing does), `{name}`, `{name?}`,
`{name=default}`, `{name:constraint}` (int, long, bool, alpha, guid, double, decimal, float, datetime are checked;
any other constraint accepts any value), and a trailing catch-all `{*name}` / `{**name}`. Parameters may share a
segment with literals (`file.{ext}`). Matching runs on the URL-decoded path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CONSTRAINT_PATTERNS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "bool": r"(?i:true|false)",
    "alpha": r"[A-Za-z]+",
    "guid": r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}",
    "double": r"-?\d+(?:\.\d+)?",
    "decimal": r"-?\d+(?:\.\d+)?",
    "float": r"-?\d+(?:\.\d+)?",
    "datetime": r"[0-9][0-9:T.+\-Z ]*",
}
_PARAMETER = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class RouteTemplate:
    template: str
    pattern: re.Pattern[str]
    # regex group name -> route parameter name (group names must be identifiers; parameter names need not be)
    groups: dict[str, str]
    defaults: dict[str, str]
    # Sort key: templates with more literal text and fewer parameters are tried first.
    precedence: tuple[int, int, int] = field(default=(0, 0, 0))

    def match(self, path: str) -> dict[str, str] | None:
        """The route parameters when `path` (decoded, without the route prefix, no leading slash) matches."""
        found = self.pattern.fullmatch(path.strip("/"))
        if found is None:
            return None
        values = dict(self.defaults)
        for group, name in self.groups.items():
            value = found.group(group)
            if value is not None:
                values[name] = value
        return values


def compile_route(template: str) -> RouteTemplate:
    """Compile a route template; raises ValueError for a template the host would reject."""
    segments = [s for s in template.strip("/").split("/")] if template.strip("/") else []
    groups: dict[str, str] = {}
    defaults: dict[str, str] = {}
    regex = ""
    literal_chars = 0
    parameters = 0
    catch_all = 0
    for index, segment in enumerate(segments):
        if not segment:
            raise ValueError(f"empty segment in route {template!r}")
        pieces = _PARAMETER.split(segment)  # literal, param, literal, param, ...
        segment_regex = ""
        optional_segment = False
        for position, piece in enumerate(pieces):
            if position % 2 == 0:
                if "{" in piece or "}" in piece:
                    raise ValueError(f"unbalanced or empty braces in route {template!r}")
                segment_regex += re.escape(piece)
                literal_chars += len(piece)
                continue
            parameters += 1
            spec = piece
            is_catch_all = spec.startswith("*")
            spec = spec.lstrip("*")
            optional = spec.endswith("?")
            spec = spec.rstrip("?")
            default = None
            if "=" in spec:
                spec, default = spec.split("=", 1)
            name, _, constraint = spec.partition(":")
            constraint_name = constraint.split("(", 1)[0].lower()
            if not name:
                raise ValueError(f"unnamed parameter in route {template!r}")
            group = f"p{len(groups)}"
            groups[group] = name
            if default is not None:
                defaults[name] = default
            if is_catch_all:
                if index != len(segments) - 1 or len(pieces) != 3 or pieces[0] or pieces[2]:
                    raise ValueError(f"a catch-all parameter must be the whole last segment: {template!r}")
                catch_all = 1
                segment_regex = f"(?P<{group}>.*)"
                optional_segment = True
                break
            value_pattern = _CONSTRAINT_PATTERNS.get(constraint_name, r"[^/]+")
            segment_regex += f"(?P<{group}>{value_pattern})"
            if (optional or default is not None) and len(pieces) == 3 and not pieces[0] and not pieces[2]:
                optional_segment = True
        if optional_segment:
            regex += f"(?:/{segment_regex})?" if index else f"(?:{segment_regex})?"
        else:
            regex += f"/{segment_regex}" if index else segment_regex
    # A leading optional group cannot be followed by "/..." cleanly; the simple form below covers the templates
    # the Functions host documents (optional parameters are trailing).
    pattern = re.compile(regex, re.IGNORECASE)
    return RouteTemplate(
        template=template,
        pattern=pattern,
        groups=groups,
        defaults=defaults,
        precedence=(catch_all, -literal_chars, parameters),
    )
