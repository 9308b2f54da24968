"""Guard expressions of flow transitions: a small whitelist language evaluated by our own interpreter, never `eval`.

A guard reads like Python: `case.urgency == "urgent" and case.type in ["complaint", "help"]`,
`not case.dissatisfied_count >= 2`, `"dispatcher" in user.roles`. What is accepted:
- names from the context given (`case`, `user`), and only the attributes listed for each (`FIELDS`);
- literals: strings, integers, floats, True / False / None, and lists / tuples / sets of literals;
- comparisons (== != < <= > >= in, not in), `and`, `or`, `not`, unary minus on a number.
Everything else is refused when the guard is parsed (at save, import and publish): calls, subscripts, lambdas,
comprehensions, arithmetic, attribute chains, dunder names, f-strings, walrus, starred, … The text is at most
`MAX_LENGTH` characters, its tree at most `MAX_NODES` nodes and `MAX_DEPTH` levels deep.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

MAX_LENGTH = 400
MAX_NODES = 80
MAX_DEPTH = 12
MAX_LITERAL = 200  # characters of one string literal, items of one list

# The attributes a guard may read, per context name, with what they mean (shown in the editor).
FIELDS: dict[str, dict[str, str]] = {
    "case": {
        "type": "诉求类型编码",
        "urgency": "紧急程度编码",
        "urgency_rank": "紧急程度级别（数字，越大越紧急）",
        "nature": "性质分类编码",
        "channel": "来源渠道",
        "bureau": "职能局单位编码",
        "district": "所属区县单位编码",
        "status": "当前状态",
        "dispatch_round": "派单轮次",
        "dissatisfied_count": "不满意次数",
        "has_attachments": "是否有附件",
    },
    "user": {
        "roles": "操作人角色列表",
        "unit_kind": "操作人所在单位类型",
        "in_office": "操作人是否在热线办",
    },
}

_COMPARE = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)


class GuardError(ValueError):
    """The guard is not in the language (raised when parsing) or could not be judged."""


def parse(text: str) -> ast.Expression:
    """The checked tree of `text`; GuardError (with a Chinese message) for anything outside the whitelist."""
    if not isinstance(text, str):
        raise GuardError("条件必须是文本")
    if len(text) > MAX_LENGTH:
        raise GuardError(f"条件过长（最多 {MAX_LENGTH} 个字符）")
    if "__" in text:
        raise GuardError("条件中不能出现双下划线名称")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
        raise GuardError(f"条件语法错误：{getattr(error, 'msg', error)}") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise GuardError(f"条件过于复杂（最多 {MAX_NODES} 个语法节点）")
    _check(tree.body, 1)
    return tree


def validate(text: str) -> str | None:
    """None if `text` is a valid guard (blank is: no condition), else the reason."""
    if not text or not text.strip():
        return None
    try:
        parse(text)
    except GuardError as error:
        return str(error)
    return None


def _check(node: ast.AST, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise GuardError(f"条件嵌套过深（最多 {MAX_DEPTH} 层）")
    if isinstance(node, ast.BoolOp):
        if not isinstance(node.op, ast.And | ast.Or):
            raise GuardError("不支持的逻辑运算")
        for value in node.values:
            _check(value, depth + 1)
    elif isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            _check(node.operand, depth + 1)
        elif isinstance(node.op, ast.USub) and _is_number(node.operand):
            return
        else:
            raise GuardError("不支持的运算：只允许 not 和负数")
    elif isinstance(node, ast.Compare):
        if not all(isinstance(op, _COMPARE) for op in node.ops):
            raise GuardError("不支持的比较运算（可用 == != < <= > >= in not in）")
        for operand in [node.left, *node.comparators]:
            _check(operand, depth + 1)
    elif isinstance(node, ast.Attribute):
        _field_of(node)
    elif isinstance(node, ast.Name):
        raise GuardError(f"“{node.id}”不能单独使用，请写出字段，例如 case.urgency")
    elif isinstance(node, ast.Constant):
        _check_literal(node)
    elif isinstance(node, ast.List | ast.Tuple | ast.Set):
        if len(node.elts) > MAX_LITERAL:
            raise GuardError("列表过长")
        for element in node.elts:
            if (
                isinstance(element, ast.UnaryOp)
                and isinstance(element.op, ast.USub)
                and _is_number(element.operand)
            ):
                continue
            if not isinstance(element, ast.Constant):
                raise GuardError("列表中只能写常量")
            _check_literal(element)
    elif isinstance(node, ast.Call):
        raise GuardError("条件中不能调用函数")
    elif isinstance(node, ast.Subscript):
        raise GuardError("条件中不能使用下标")
    elif isinstance(node, ast.Lambda):
        raise GuardError("条件中不能使用 lambda")
    else:
        raise GuardError(f"条件中不能使用“{type(node).__name__}”")


def _is_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _check_literal(node: ast.Constant) -> None:
    value = node.value
    if value is None or type(value) in (bool, int, float):
        return
    if type(value) is str:
        if len(value) > MAX_LITERAL:
            raise GuardError("文本常量过长")
        return
    raise GuardError("只能使用文本、数字、True、False、None 常量")


def _field_of(node: ast.Attribute) -> tuple[str, str]:
    if not isinstance(node.value, ast.Name):
        raise GuardError("只能读取一级字段，例如 case.urgency")
    root, attr = node.value.id, node.attr
    if root not in FIELDS:
        raise GuardError(f"未知的对象“{root}”（可用 {', '.join(FIELDS)}）")
    if attr.startswith("_") or attr not in FIELDS[root]:
        raise GuardError(f"未知的字段“{root}.{attr}”")
    return root, attr


def evaluate(text: str, context: Mapping[str, Mapping[str, Any]]) -> bool:
    """True if the guard holds for `context` ({"case": {...}, "user": {...}}); a blank guard always holds."""
    if not text or not text.strip():
        return True
    return bool(_eval(parse(text).body, context))


def _eval(node: ast.AST, context: Mapping[str, Mapping[str, Any]]) -> Any:
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_truth(_eval(value, context)) for value in node.values)
        return any(_truth(_eval(value, context)) for value in node.values)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            return not _truth(_eval(node.operand, context))
        return -_literal(node.operand)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, context)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, context)
            if not _compare(op, left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Attribute):
        root, attr = _field_of(node)
        return _scalar(context.get(root, {}).get(attr))
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [_eval(element, context) for element in node.elts]
    raise GuardError(f"条件中不能使用“{type(node).__name__}”")  # unreachable after parse()


def _literal(node: ast.AST) -> Any:
    assert isinstance(node, ast.Constant)
    return node.value


def _scalar(value: Any) -> Any:
    """Context values are plain data: strings, numbers, booleans, None or lists of those."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [item for item in value if item is None or type(item) in (str, int, float, bool)]
    return str(value)


def _truth(value: Any) -> bool:
    return bool(value)


def _compare(op: ast.cmpop, left: Any, right: Any) -> bool:
    try:
        if isinstance(op, ast.Eq):
            return bool(left == right)
        if isinstance(op, ast.NotEq):
            return bool(left != right)
        if isinstance(op, ast.In | ast.NotIn):
            if isinstance(right, str):
                found = isinstance(left, str) and left in right
            elif isinstance(right, list):
                found = left in right
            else:
                found = False
            return found if isinstance(op, ast.In) else not found
        if left is None or right is None or isinstance(left, list) or isinstance(right, list):
            return False  # an unknown value is neither smaller nor larger
        if isinstance(op, ast.Lt):
            return bool(left < right)
        if isinstance(op, ast.LtE):
            return bool(left <= right)
        if isinstance(op, ast.Gt):
            return bool(left > right)
        if isinstance(op, ast.GtE):
            return bool(left >= right)
    except TypeError:
        return False  # "urgent" < 3: incomparable values make the comparison false, never an error
    raise GuardError("不支持的比较运算")
