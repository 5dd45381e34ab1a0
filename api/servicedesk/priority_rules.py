"""Priority rules as data: JSON Logic conditions, the first that holds sets the priority. Pure.

A tenant keeps an ordered list of rules, each a JSON Logic condition (evaluated
with ``panzi-json-logic``) and the priority it gives. An order's facts are:
``category`` (codes from the top level down, e.g. ``["hvac", "chiller",
"no_cooling"]``), ``category_path`` (``"hvac/chiller/no_cooling"``),
``customer.tier``, ``text`` (title and description, lower-cased: ``{"in":
["漏水", {"var": "text"}]}`` finds a Chinese word, ``"leak"`` an English one),
``channel`` (the order's source) and ``requested_priority`` (what the caller
asked for: a request, never the outcome by itself). A rule is checked when it
is saved: an unknown operator or fact is refused then, never met by an order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from json_logic import jsonLogic  # type: ignore[import-untyped]
from json_logic.builtins import BUILTINS  # type: ignore[import-untyped]

# Operators the evaluator handles itself rather than through BUILTINS.
_SPECIAL = frozenset({"if", "?:", "and", "or", "filter", "map", "reduce", "all", "none", "some"})
OPERATORS = frozenset(BUILTINS) | _SPECIAL
FACTS = frozenset(
    {
        "category",
        "category_path",
        "customer",
        "customer.tier",
        "text",
        "channel",
        "requested_priority",
    }
)
_MAX_NODES = 500


@dataclass(frozen=True)
class Rule:
    id: Any
    name: str
    logic: Any
    priority: str


@dataclass(frozen=True)
class Decision:
    priority: str
    rule: Rule


def check_logic(logic: Any, facts: frozenset[str] = FACTS) -> list[str]:
    """Why a condition cannot be saved (empty when it can); ``facts``: the names it may read."""
    problems: list[str] = []
    if not isinstance(logic, dict):
        return ['A rule is a JSON Logic object such as {"==": [{"var": "channel"}, "phone"]}']
    nodes = 0
    stack: list[tuple[Any, bool]] = [(logic, False)]
    while stack:
        node, in_iteration = stack.pop()
        nodes += 1
        if nodes > _MAX_NODES:
            return [f"A rule has at most {_MAX_NODES} parts"]
        if isinstance(node, list):
            stack.extend((item, in_iteration) for item in node)
        elif isinstance(node, dict):
            if len(node) != 1:
                problems.append("Each operation is an object with exactly one operator")
                continue
            ((operator, args),) = node.items()
            if operator not in OPERATORS:
                problems.append(f"Unknown operator {operator!r}")
                continue
            if operator == "var" and not in_iteration:
                name = args[0] if isinstance(args, list) and args else args
                if isinstance(name, str) and name and name not in facts:
                    problems.append(f"Unknown fact {name!r}; known: {', '.join(sorted(facts))}")
            iterating = in_iteration or operator in {
                "map",
                "filter",
                "reduce",
                "all",
                "none",
                "some",
            }
            stack.append((args, iterating))
    return problems


def facts_of(
    *,
    category_codes: Sequence[str],
    customer_tier: str,
    title: str,
    description: str | None,
    channel: str,
    requested_priority: str | None,
) -> dict[str, Any]:
    return {
        "category": list(category_codes),
        "category_path": "/".join(category_codes),
        "customer": {"tier": customer_tier},
        "text": f"{title}\n{description or ''}".lower(),
        "channel": channel,
        "requested_priority": requested_priority,
    }


def decide(rules: Iterable[Rule], facts: Mapping[str, Any]) -> Decision | None:
    """The first rule whose condition holds, or None."""
    for rule in rules:
        if jsonLogic(rule.logic, dict(facts)):
            return Decision(rule.priority, rule)
    return None
