"""Role assignment conditions (Azure ABAC, ``conditionVersion`` 2.0): parse, and evaluate for one request.

Format [doc] (azure-docs role-based-access-control/conditions-format.md): expressions joined by ``AND``/``OR``,
negated by ``!`` or ``NOT``, grouped by parentheses; ``ActionMatches{'<action>'}`` and
``SubOperationMatches{'<sub-operation>'}`` target actions; ``@Request[...]``, ``@Resource[...]``, ``@Principal[...]``
and ``@Environment[...]`` attributes compare with an operator (optionally quantified:
``ForAnyOfAnyValues:``, ``ForAllOfAnyValues:``, ``ForAnyOfAllValues:``, ``ForAllOfAllValues:``) to a value or a set
``{a, b}``. The control-plane attributes Azure documents are those of role assignment delegation [doc]
(conditions-authorization-actions-attributes.md): for ``roleAssignments/write`` the request's
``Microsoft.Authorization/roleAssignments:RoleDefinitionId``, ``:PrincipalId`` and ``:PrincipalType``; for
``roleAssignments/delete`` the same names on the resource (the assignment being deleted). An attribute the request
does not have makes its comparison false (the emulator serves no storage data plane, whose attributes never occur).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .actions import action_matches


class ConditionError(ValueError):
    """Text that is not a condition expression."""


@dataclass
class Context:
    """What a condition sees of one request: the action and attribute values (keys lower-cased,
    "request:microsoft.authorization/roleassignments:roledefinitionid")."""

    action: str
    attributes: dict[str, str] = field(default_factory=dict)


_TOKEN = re.compile(r"""
    \s*(?:
      (?P<paren>[()])
    | (?P<bang>!)
    | (?P<target>ActionMatches|SubOperationMatches)\s*\{\s*'(?P<target_value>[^']*)'\s*\}
    | @(?P<source>Request|Resource|Principal|Environment)\[(?P<attribute>[^\]]+)\]
    | (?P<set>\{[^}]*\})
    | '(?P<string>(?:[^']|'')*)'
    | (?P<word>[A-Za-z0-9_.:/-]+)
    )""", re.VERBOSE | re.IGNORECASE)
_QUANTIFIERS = ("foranyofanyvalues", "forallofanyvalues", "foranyofallvalues", "forallofallvalues")
_COMPARISONS: dict[str, Callable[[str, str], bool]] = {
    "stringequals": lambda a, b: a == b,
    "stringnotequals": lambda a, b: a != b,
    "stringequalsignorecase": lambda a, b: a.lower() == b.lower(),
    "stringnotequalsignorecase": lambda a, b: a.lower() != b.lower(),
    "stringlike": lambda a, b: re.fullmatch(re.escape(b).replace(r"\*", ".*"), a) is not None,
    "stringnotlike": lambda a, b: re.fullmatch(re.escape(b).replace(r"\*", ".*"), a) is None,
    "stringstartswith": lambda a, b: a.startswith(b),
    "stringnotstartswith": lambda a, b: not a.startswith(b),
    "guidequals": lambda a, b: a.replace("-", "").lower() == b.replace("-", "").lower(),
    "guidnotequals": lambda a, b: a.replace("-", "").lower() != b.replace("-", "").lower(),
}

Node = Callable[[Context], bool]


def _tokens(text: str) -> list[tuple[str, str, str]]:
    """(kind, value, extra) tokens; kind is paren, bang, target, attribute, set, string or word."""
    out, position = [], 0
    text = text.rstrip()
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None or found.end() == position:
            raise ConditionError(f"unexpected text at offset {position}")
        position = found.end()
        if found["paren"]:
            out.append(("paren", found["paren"], ""))
        elif found["bang"]:
            out.append(("bang", "!", ""))
        elif found["target"]:
            out.append(("target", found["target"].lower(), found["target_value"]))
        elif found["source"]:
            out.append(("attribute", found["source"].lower(), found["attribute"].strip().lower()))
        elif found["set"] is not None:
            out.append(("set", found["set"], ""))
        elif found["string"] is not None:
            out.append(("string", found["string"].replace("''", "'"), ""))
        else:
            out.append(("word", found["word"], ""))
    return out


def _values(kind: str, value: str) -> list[str]:
    if kind == "string":
        return [value]
    if kind == "set":
        items = [v.strip() for v in value[1:-1].split(",") if v.strip()]
        return [v[1:-1].replace("''", "'") if len(v) >= 2 and v[0] == v[-1] == "'" else v for v in items]
    return [value]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> tuple[str, str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str, str]:
        token = self.peek()
        if token is None:
            raise ConditionError("the expression ends too early")
        self.at += 1
        return token

    def word(self, *words: str) -> bool:
        token = self.peek()
        if token and token[0] == "word" and token[1].lower() in words:
            self.at += 1
            return True
        return False

    def parse(self) -> Node:
        node = self.expression()
        if self.peek() is not None:
            raise ConditionError(f"unexpected {self.peek()[1]!r}")
        return node

    def expression(self) -> Node:
        parts = [self.conjunction()]
        while self.word("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda ctx: any(p(ctx) for p in parts))

    def conjunction(self) -> Node:
        parts = [self.unary()]
        while self.word("and"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda ctx: all(p(ctx) for p in parts))

    def unary(self) -> Node:
        token = self.peek()
        if token and (token[0] == "bang" or (token[0] == "word" and token[1].lower() == "not")):
            self.at += 1
            inner = self.unary()
            return lambda ctx: not inner(ctx)
        return self.primary()

    def primary(self) -> Node:
        kind, value, extra = self.take()
        if kind == "paren" and value == "(":
            inner = self.expression()
            if self.take()[1] != ")":
                raise ConditionError("a parenthesis is not closed")
            return inner
        if kind == "target":
            if value == "actionmatches":
                return lambda ctx: action_matches(extra, ctx.action)
            return lambda ctx: False  # control-plane requests have no sub-operations
        if kind == "attribute":
            return self.comparison(f"{value}:{extra}")
        raise ConditionError(f"unexpected {value!r}")

    def comparison(self, attribute: str) -> Node:
        kind, operator, _ = self.take()
        if kind != "word":
            raise ConditionError(f"an operator must follow @{attribute}")
        quantifier, _, name = operator.lower().rpartition(":")
        compare = _COMPARISONS.get(name)
        if compare is None or (quantifier and quantifier not in _QUANTIFIERS):
            raise ConditionError(f"unsupported operator {operator!r}")
        kind, value, _ = self.take()
        if kind not in ("set", "string", "word"):
            raise ConditionError(f"a value must follow {operator!r}")
        right = _values(kind, value)
        left_all, right_all = quantifier.startswith("forall"), quantifier.endswith("allvalues")

        def evaluate(ctx: Context) -> bool:
            found = ctx.attributes.get(attribute)
            if found is None:
                return False
            left = [found]
            pick_left, pick_right = (all if left_all else any), (all if right_all else any)
            return pick_left(pick_right(compare(a, b) for b in right) for a in left)

        return evaluate


def parse(text: str) -> Node:
    """A predicate over a request Context; ConditionError when ``text`` is not a condition expression."""
    return _Parser(text).parse()


def role_assignment_attributes(source: str, properties: dict) -> dict[str, str]:
    """The delegation attributes of a role assignment, as ``request`` (PUT body) or ``resource`` (the existing one)."""
    prefix = f"{source}:microsoft.authorization/roleassignments:"
    out = {}
    if properties.get("roleDefinitionId"):
        out[prefix + "roledefinitionid"] = properties["roleDefinitionId"].rstrip("/").rsplit("/", 1)[-1].lower()
    for key in ("principalId", "principalType"):
        if properties.get(key):
            out[prefix + key.lower()] = str(properties[key])
    return out
