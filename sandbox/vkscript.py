"""A small VKScript interpreter: enough for ``execute`` to batch API calls.

Supported: ``var name = expr;``, ``return expr;``, literals (numbers, strings, true/false/null),
arrays, objects, variables, member access (``a.items``, ``a[0]``), ``+`` on numbers, strings and
arrays, and calls ``API.section.method({...})``. Each call goes through the same dispatcher as a
direct request; a failing call yields ``false`` and an entry in ``execute_errors``, as VK does.
"""

import re
from collections.abc import Callable
from typing import Any

TOKEN_RE = re.compile(
    r"""\s*(?:(?P<number>-?\d+(?:\.\d+)?)|(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
    r"""|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[{}\[\]();,:.=+]))"""
)
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\", "/": "/"}


class ScriptError(Exception):
    """The code cannot be parsed or run (VK error 12 / 13)."""


def _tokens(code: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    code = code.rstrip()
    while position < len(code):
        match = TOKEN_RE.match(code, position)
        if not match or match.end() == position:
            raise ScriptError(f"unexpected character at {position}")
        position = match.end()
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
    return tokens


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(1)), body)


class Interpreter:
    def __init__(self, code: str, call: Callable[[str, dict[str, Any]], Any]) -> None:
        self.tokens = _tokens(code)
        self.position = 0
        self.call = call
        self.variables: dict[str, Any] = {}

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.position] if self.position < len(self.tokens) else ("end", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end" or (value is not None and token[1] != value):
            raise ScriptError(f"expected {value or 'token'}, found {token[1] or 'end of code'}")
        self.position += 1
        return token

    def run(self) -> Any:
        while self.peek()[0] != "end":
            kind, value = self.peek()
            if value == "var":
                self.take()
                name = self.take()[1]
                self.take("=")
                self.variables[name] = self.expression()
            elif value == "return":
                self.take()
                return self.expression()
            else:
                self.expression()
            if self.peek()[1] == ";":
                self.take(";")
        return None

    def expression(self) -> Any:
        value = self.postfix()
        while self.peek()[1] == "+":
            self.take("+")
            right = self.postfix()
            if isinstance(value, list) and isinstance(right, list):
                value = value + right
            elif isinstance(value, str) or isinstance(right, str):
                value = f"{value}{right}"
            else:
                value = value + right
        return value

    def postfix(self) -> Any:
        value = self.primary()
        while self.peek()[1] in (".", "["):
            if self.take()[1] == ".":
                key = self.take()[1]
                if key == "length":
                    value = len(value) if isinstance(value, list | str) else None
                else:
                    value = self._member(value, key)
            else:
                key = self.expression()
                self.take("]")
                value = self._member(value, key)
        return value

    @staticmethod
    def _member(value: Any, key: Any) -> Any:
        if isinstance(value, dict):
            return value.get(str(key))
        if isinstance(value, list):
            if isinstance(key, int) and 0 <= key < len(value):
                return value[key]
            if isinstance(key, str):  # VKScript maps a field over an array: items@.id
                return [item.get(key) if isinstance(item, dict) else None for item in value]
        return None

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "number":
            return float(value) if "." in value else int(value)
        if kind == "string":
            return _unquote(value)
        if value == "[":
            items = []
            while self.peek()[1] != "]":
                items.append(self.expression())
                if self.peek()[1] == ",":
                    self.take(",")
            self.take("]")
            return items
        if value == "{":
            obj: dict[str, Any] = {}
            while self.peek()[1] != "}":
                key_kind, key = self.take()
                key = _unquote(key) if key_kind == "string" else key
                self.take(":")
                obj[key] = self.expression()
                if self.peek()[1] == ",":
                    self.take(",")
            self.take("}")
            return obj
        if value == "(":
            inner = self.expression()
            self.take(")")
            return inner
        if kind == "name":
            if value == "true":
                return True
            if value == "false":
                return False
            if value == "null":
                return None
            if value == "API":
                parts = []
                while self.peek()[1] == ".":
                    self.take(".")
                    parts.append(self.take()[1])
                self.take("(")
                arguments: dict[str, Any] = {}
                if self.peek()[1] != ")":
                    given = self.expression()
                    if not isinstance(given, dict):
                        raise ScriptError("API call arguments must be an object")
                    arguments = given
                self.take(")")
                return self.call(".".join(parts), arguments)
            if value in self.variables:
                return self.variables[value]
            raise ScriptError(f"undefined variable {value}")
        raise ScriptError(f"unexpected {value}")


def run_script(code: str, call: Callable[[str, dict[str, Any]], Any]) -> Any:
    """Run VKScript ``code``; ``call(method, params)`` performs one API call."""
    return Interpreter(code, call).run()
