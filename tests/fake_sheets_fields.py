"""Two things the real API does that the fake must do too: `fields` masks and computed formula values.

`fields` (a FieldMask: "a,b.c,d(e,f)") keeps only the named parts of an answer, in lists element by
element; the answer then holds nothing else (gspread's cassettes show `fields=sheets.data.rowData.values.note`
answered with `{"sheets": [{"data": [{...}]}]}` and no spreadsheetId). Formulas are answered by their
computed value for FORMATTED_VALUE and UNFORMATTED_VALUE and by their text for FORMULA; the fake computes
arithmetic on numbers and cell references of the same tab, and answers "#NAME?" for anything else (as Google
does for a name it does not know).
"""

from __future__ import annotations

import ast
import operator
import re
from typing import Any

from fake_sheets_grid import ApiError, col_index

Mask = dict[str, "Mask"]
"""A parsed mask: each key maps to the mask of its children ({} = keep the whole value)."""


def parse_mask(text: str) -> Mask:
    """Parse a FieldMask such as "sheets(properties(title,sheetId)),spreadsheetId" into a tree."""
    pos = 0

    def parse_list() -> Mask:
        nonlocal pos
        out: Mask = {}
        while pos < len(text):
            m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_.]*|\*)\s*", text[pos:])
            if not m:
                raise ApiError(400, f"Invalid field selection {text!r} at character {pos}.")
            path = m.group(1).split(".")
            pos += m.end()
            leaf: Mask = {}
            if pos < len(text) and text[pos] == "(":
                pos += 1
                leaf = parse_list()
                if pos >= len(text) or text[pos] != ")":
                    raise ApiError(400, f"Invalid field selection {text!r}: missing ')'.")
                pos += 1
            node = out
            for part in path[:-1]:
                node = node.setdefault(part, {})
            _merge(node, path[-1], leaf)
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            break
        return out

    mask = parse_list()
    if pos != len(text):
        raise ApiError(400, f"Invalid field selection {text!r} at character {pos}.")
    return mask


def _merge(node: Mask, key: str, leaf: Mask) -> None:
    if key in node and (not node[key] or not leaf):
        node[key] = {}
    else:
        node.setdefault(key, {}).update(leaf)


def apply_mask(value: Any, mask: Mask) -> Any:
    """Keep only what `mask` names; lists are masked element by element."""
    if not mask or "*" in mask:
        return value
    if isinstance(value, list):
        return [apply_mask(v, mask) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: apply_mask(value[k], sub) for k, sub in mask.items() if k in value}
    return {k: v for k, v in out.items() if v != []}  # like proto3 JSON, an empty repeated field is left out


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Pow: operator.pow}
_REF = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]+)")


def compute(formula: str, cell: Any) -> Any:
    """The value Google shows for a formula: arithmetic on numbers and same-tab cells; "#NAME?" otherwise.

    `cell(row, col)` gives a stored value by 0-based row and column.
    """
    text = formula[1:].strip() if formula.startswith("=") else formula
    names: dict[str, Any] = {}

    def ref(m: re.Match[str]) -> str:
        name = f"_r{len(names)}"
        value = cell(int(m.group(2)) - 1, col_index(m.group(1)))
        names[name] = 0 if value in (None, "") else value
        return name

    try:
        tree = ast.parse(_REF.sub(ref, text), mode="eval")
        return _eval(tree.body, names)
    except ZeroDivisionError:
        return "#DIV/0!"
    except (SyntaxError, ValueError, TypeError, KeyError):
        return "#NAME?"


def _eval(node: ast.AST, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.Name):
        value = names[node.id]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        raise ValueError(value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_eval(node.left, names), _eval(node.right, names))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _eval(node.operand, names)
        return -value if isinstance(node.op, ast.USub) else value
    raise ValueError(ast.dump(node))
