#!/usr/bin/env python3
"""Offline calculator tool: evaluates the arithmetic in the text on stdin.

Keeps digits, `.`, `+ - * / %` and parentheses, drops every other character
("what is 2+3*4?" -> "2+3*4"), and prints the value (integral results without ".0").
Exits 1 with a message on stderr when nothing computable is left. No eval of code:
the expression is walked with the ast module and only arithmetic nodes are allowed.
"""
import ast
import operator
import re
import sys

OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def evaluate(node):
    if isinstance(node, ast.Expression):
        return evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in OPS:
        return OPS[type(node.op)](evaluate(node.left), evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in OPS:
        return OPS[type(node.op)](evaluate(node.operand))
    raise ValueError("not arithmetic")


def main():
    text = re.sub(r"[^0-9.+\-*/%() ]", " ", sys.stdin.read()).strip()
    try:
        value = evaluate(ast.parse(text, mode="eval"))
    except (SyntaxError, ValueError, ZeroDivisionError) as err:
        print(f"calc.py: cannot compute {text!r}: {err}", file=sys.stderr)
        return 1
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    print(value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
