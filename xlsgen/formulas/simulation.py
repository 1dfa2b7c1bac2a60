"""Formula text of the simulation workbooks, rendered from the parsed expressions of
`xlsgen.simulation` (the same expressions give the cached values in Python).

`formula(expr, resolve)` writes `=売上高-製造費用-固定費`: each name is passed through
`resolve`, which turns model names into (prefixed) defined names and grid-local names
into cell references.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from xlsgen.formulas import col_name, text_literal

_PREC = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2}
_CMP = {ast.Eq: "=", ast.NotEq: "<>", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_EXCEL_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_TEXT_OPS = {ast.Add: " ＋ ", ast.Sub: " － ", ast.Mult: " × ", ast.Div: " ÷ "}


def _prec(node: ast.AST) -> int:
    if isinstance(node, ast.Compare):
        return 0
    if isinstance(node, ast.BinOp):
        return _PREC[type(node.op)]
    if isinstance(node, ast.UnaryOp):
        return 3
    return 4


def _render(node: ast.AST, resolve: Callable[[str], str], ops: dict, text: bool) -> str:
    def sub(n: ast.AST) -> str:
        return _render(n, resolve, ops, text)

    if isinstance(node, ast.BinOp):
        p = _PREC[type(node.op)]
        left, right = sub(node.left), sub(node.right)
        if _prec(node.left) < p:
            left = f"({left})"
        # a - (b + c) and a / (b * c) keep their parentheses
        if _prec(node.right) < p or (_prec(node.right) == p
                                     and isinstance(node.op, (ast.Sub, ast.Div))):
            right = f"({right})"
        return f"{left}{ops[type(node.op)]}{right}"
    if isinstance(node, ast.UnaryOp):
        inner = sub(node.operand)
        inner = f"({inner})" if _prec(node.operand) < 3 else inner
        return ("-" if isinstance(node.op, ast.USub) else "+") + inner
    if isinstance(node, ast.Compare):
        return f"{sub(node.left)}{_CMP[type(node.ops[0])]}{sub(node.comparators[0])}"
    if isinstance(node, ast.Name):
        return resolve(node.id)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            return text_literal(node.value)
        v = node.value
        return str(int(v)) if float(v).is_integer() else repr(v)
    args = ("，" if text else ",").join(sub(a) for a in node.args)
    return f"{node.func.id}({args})"


def formula(expr, resolve: Callable[[str], str]) -> str:
    """Excel formula of an `Expr`: `=SUM(消費電力)*稼働時間*稼働日数*12*電力単価`."""
    return "=" + _render(expr.node, resolve, _EXCEL_OPS, text=False)


def describe(expr) -> str:
    """The expression for a reader: `作付面積 × 単収 × 1000`."""
    return _render(expr.node, lambda n: n, _TEXT_OPS, text=True)


def sum_of(area_ref: str) -> str:
    return f"=SUM({area_ref})"


def monthly(yearly_ref: str) -> str:
    """Monthly amount of a yearly amount: `=E8/12`."""
    return f"={yearly_ref}/12"


def row_fixed(row: int, col: int) -> str:
    """A reference whose row stays when copied down: `C$6` (a grid's header row)."""
    return f"{col_name(col)}${row + 1}"


def col_fixed(row: int, col: int) -> str:
    """A reference whose column stays when copied across: `$B8` (a grid's header column)."""
    return f"${col_name(col)}{row + 1}"
