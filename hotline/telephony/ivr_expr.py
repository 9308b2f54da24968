"""The conditions of IVR `condition` nodes: a small whitelisted expression language, parsed into a tree and
evaluated by walking it (never `eval`).

    level == vip or level == sensitive
    urgency in (urgent, very_urgent) and open_case == yes
    time >= 18:00 or workday == no
    not (choice == 9)

Grammar: `expr := and_expr ("or" and_expr)*`, `and_expr := unary ("and" unary)*`,
`unary := "not" unary | "(" expr ")" | FACT OP VALUE | FACT "in" "(" VALUE ("," VALUE)* ")"`, OP one of
`== != < <= > >=` (the orderings only for `time`, compared as HH:MM). Facts are the fixed ones of `FACTS` (what
the platform knows about the call: the caller's level, the business type and urgency of the caller's open case,
the working-day calendar, the local time) and the variables the graph's menu / collect nodes set (`var`).
Values are bare words (letters, digits, `_ - : .`) or quoted strings; a fact without a value compares as "".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

# The fixed facts and, where known, the values they may take (None: any word).
FACTS: dict[str, tuple[str, ...] | None] = {
    "level": ("normal", "vip", "sensitive"),  # the caller's citizen level (CitizenLevel)
    "business": None,  # the case type code of the caller's newest open case
    "urgency": None,  # the urgency code of the caller's newest open case
    "open_case": ("yes", "no"),
    "workday": ("yes", "no"),  # the working-day calendar (holidays, adjusted days)
    "time": None,  # local time HH:MM
}
ORDERED = frozenset({"time"})
VAR_RE = re.compile(r"^[a-z][a-z0-9_]{0,19}$")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_EXPR_CHARS = 300
TOKEN_RE = re.compile(
    r"\s*(?:(?P<op>==|!=|<=|>=|<|>)|(?P<paren>[(),])|(?P<str>\"[^\"]*\"|'[^']*')|(?P<word>[A-Za-z0-9_:.\-]+))"
)
KEYWORDS = frozenset({"and", "or", "not", "in"})


class ExprError(ValueError):
    pass


@dataclass(frozen=True)
class Cmp:
    fact: str
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # and | or | not
    args: tuple[Any, ...]


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos, text = [], 0, text.strip()
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError(_("条件中有无法识别的字符：%(rest)s") % {"rest": text[pos : pos + 10]})
        pos = m.end()
        kind = m.lastgroup or ""
        value = m[kind]
        if kind == "str":
            value = value[1:-1]
        elif kind == "word" and value.lower() in KEYWORDS:
            kind, value = "kw", value.lower()
        out.append((kind, value))
    return out


def parse(text: str, *, variables: frozenset[str] | set[str] = frozenset()) -> Any:
    """The expression's tree; ExprError (with a Chinese message) when it is malformed or names an unknown fact
    or a value the fact cannot take."""
    if not str(text or "").strip():
        raise ExprError(_("请填写条件"))
    if len(text) > MAX_EXPR_CHARS:
        raise ExprError(_("条件不能超过 %(n)d 个字符") % {"n": MAX_EXPR_CHARS})
    tokens = _tokens(text)
    pos = 0

    def peek() -> tuple[str, str]:
        return tokens[pos] if pos < len(tokens) else ("end", "")

    def take() -> tuple[str, str]:
        nonlocal pos
        token = peek()
        pos += 1
        return token

    def value() -> str:
        kind, text = take()
        if kind not in ("word", "str"):
            raise ExprError(_("条件缺少比较的值"))
        return text

    def comparison() -> Cmp:
        kind, fact = take()
        if kind != "word":
            raise ExprError(_("条件格式错误：应为“事实 比较符 值”"))
        if fact not in FACTS and fact not in variables:
            raise ExprError(_("未知的条件事实“%(fact)s”") % {"fact": fact})
        kind, op = take()
        if kind == "kw" and op == "in":
            if take() != ("paren", "("):
                raise ExprError(_("in 后应为括号中的取值列表"))
            values = [value()]
            while peek() == ("paren", ","):
                take()
                values.append(value())
            if take() != ("paren", ")"):
                raise ExprError(_("取值列表缺少右括号"))
        elif kind == "op":
            values = [value()]
        else:
            raise ExprError(_("“%(fact)s”后应为比较符（== != < <= > >= in）") % {"fact": fact})
        if op in ("<", "<=", ">", ">=") and fact not in ORDERED:
            raise ExprError(_("只有 time 可以比较大小"))
        allowed = FACTS.get(fact)
        for v in values:
            if allowed is not None and v not in allowed:
                raise ExprError(
                    _("“%(fact)s”的取值应为：%(values)s") % {"fact": fact, "values": "、".join(allowed)}
                )
            if fact == "time" and not TIME_RE.match(v):
                raise ExprError(_("时间应为 HH:MM，如 18:00"))
        return Cmp(fact, op, tuple(values))

    def unary() -> Any:
        if peek() == ("kw", "not"):
            take()
            return BoolOp("not", (unary(),))
        if peek() == ("paren", "("):
            take()
            inner = expr()
            if take() != ("paren", ")"):
                raise ExprError(_("括号不匹配"))
            return inner
        return comparison()

    def chain(op: str, part: Any) -> Any:
        args = [part()]
        while peek() == ("kw", op):
            take()
            args.append(part())
        return args[0] if len(args) == 1 else BoolOp(op, tuple(args))

    def and_expr() -> Any:
        return chain("and", unary)

    def expr() -> Any:
        return chain("or", and_expr)

    tree = expr()
    if pos != len(tokens):
        raise ExprError(_("条件末尾有多余内容：%(rest)s") % {"rest": tokens[pos][1]})
    return tree


def evaluate(tree: Any, facts: dict[str, str]) -> bool:
    if isinstance(tree, BoolOp):
        if tree.op == "not":
            return not evaluate(tree.args[0], facts)
        results = (evaluate(a, facts) for a in tree.args)
        return all(results) if tree.op == "and" else any(results)
    have = str(facts.get(tree.fact, ""))
    if tree.op == "in":
        return have in tree.values
    want = tree.values[0]
    if tree.op == "==":
        return have == want
    if tree.op == "!=":
        return have != want
    if not have:  # an unknown time orders with nothing
        return False
    return {
        "<": have < want,
        "<=": have <= want,
        ">": have > want,
        ">=": have >= want,
    }[tree.op]  # HH:MM strings order as times


def choose(branches: list[dict[str, Any]], facts: dict[str, str], variables: set[str]) -> tuple[int, str]:
    """The first branch whose condition holds: (its index, its target); (-1, "") when none does."""
    for i, branch in enumerate(branches):
        if evaluate(parse(str(branch.get("when", "")), variables=variables), facts):
            return i, str(branch.get("next", ""))
    return -1, ""
