"""The rule language: a small, safe subset of SQL boolean expressions.

One parser turns a condition into a typed tree; the tree is then either compiled to
Python closures (:func:`compile_python`, used by ``decide_one``) or rendered back to
fully parenthesised DuckDB SQL (:func:`to_sql`, used by ``decide_many``). Nothing else
ever runs: no Python ``eval``/``exec``, and DuckDB only sees SQL generated from the tree,
never the user's text.

Grammar (keywords are case-insensitive; precedence from loosest to tightest)::

    expr      := or
    or        := and ("OR" and)*
    and       := not ("AND" not)*
    not       := "NOT" not | predicate
    predicate := sum [ cmp sum | "IS" ["NOT"] "NULL"
                     | ["NOT"] "IN" "(" sum ("," sum)* ")"
                     | ["NOT"] "BETWEEN" sum "AND" sum ]
    cmp       := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    sum       := product (("+" | "-") product)*
    product   := unary (("*" | "/") unary)*
    unary     := ("-" | "+") unary | primary
    primary   := number | 'string' | TRUE | FALSE | NULL | column | "column"
               | COALESCE "(" expr ("," expr)* ")" | "(" expr ")"

Semantics are SQL's three-valued logic: a comparison, arithmetic or ``IN`` with a NULL
operand is NULL; ``AND``/``OR``/``NOT`` follow the SQL truth tables; a rule fires only
when its condition is TRUE (NULL does not fire). NaN and infinite input values are NULL;
division by zero is NULL. Every number is a 64-bit float.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "TYPES",
    "ExprError",
    "Node",
    "columns_of",
    "compile_python",
    "parse",
    "to_sql",
]

#: Column types a rule set can declare.
TYPES = ("number", "string", "boolean")

_KEYWORDS = {"AND", "OR", "NOT", "IN", "BETWEEN", "IS", "NULL", "TRUE", "FALSE"}
_FUNCTIONS = {"COALESCE"}
_CMP = {"=": "=", "==": "=", "!=": "<>", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^']|'')*')
  | (?P<qident>"(?:[^"]|"")+")
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><>|!=|<=|>=|==|[=<>+\-*/(),])
    """,
    re.VERBOSE,
)


class ExprError(Exception):
    """A condition does not parse or type-check; ``pos`` is the 0-based offset."""

    def __init__(self, message: str, pos: int, expected: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.expected = expected
        self.fix = fix


@dataclass(frozen=True)
class Node:
    """One node of a parsed condition.

    ``kind`` is one of ``col``, ``lit``, ``neg``, ``not``, ``arith``, ``cmp``, ``and``,
    ``or``, ``in``, ``between``, ``isnull``, ``coalesce``; ``op`` the operator (or the
    column name, or ``"not"`` for negated IN/BETWEEN/IS NULL); ``args`` the children;
    ``value`` a literal's value; ``type`` the inferred type (``number``, ``string``,
    ``boolean`` or ``null``); ``pos`` the offset in the text.
    """

    kind: str
    pos: int
    type: str
    op: str = ""
    args: tuple[Node, ...] = ()
    value: Any = None


@dataclass(frozen=True)
class _Tok:
    kind: str  # number, string, ident, qident, op, kw, end
    text: str
    pos: int


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            ch = text[pos]
            hint = (
                "strings take single quotes: 'phones'"
                if ch == '"'
                else "use only comparisons, AND/OR/NOT, IN, BETWEEN, IS NULL, + - * / "
                "and parentheses"
            )
            raise ExprError(
                f"unexpected character {ch!r}", pos, "an operator, a column or a literal", hint
            )
        kind = m.lastgroup or ""
        if kind != "ws":
            word = m.group()
            if kind == "ident" and word.upper() in _KEYWORDS:
                out.append(_Tok("kw", word.upper(), pos))
            else:
                out.append(_Tok(kind, word, pos))
        pos = m.end()
    out.append(_Tok("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text: str, schema: Mapping[str, str]) -> None:
        self.text = text
        self.schema = schema
        self.toks = _tokens(text)
        self.i = 0

    # -- token helpers -------------------------------------------------------------
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def _is(self, kind: str, text: str | None = None) -> bool:
        t = self.tok
        return t.kind == kind and (text is None or t.text == text)

    def _take(self) -> _Tok:
        t = self.tok
        self.i += 1
        return t

    def _expect(self, kind: str, text: str, what: str) -> _Tok:
        if not self._is(kind, text):
            self._fail(what)
        return self._take()

    def _fail(self, expected: str, fix: str = "") -> None:
        t = self.tok
        got = "the end of the condition" if t.kind == "end" else repr(t.text)
        raise ExprError(
            f"expected {expected}, got {got}",
            t.pos,
            expected,
            fix or "check the condition's syntax near the caret",
        )

    # -- grammar -------------------------------------------------------------------
    def parse(self) -> Node:
        if self._is("end"):
            self._fail("a condition", "write a boolean condition such as: risk_score >= 900")
        node = self._or()
        if not self._is("end"):
            fix = (
                "comparisons do not chain: write a < b AND b < c"
                if self.tok.text in _CMP
                else "join conditions with AND or OR"
            )
            self._fail("AND, OR or the end of the condition", fix)
        if node.type not in ("boolean", "null"):
            raise ExprError(
                f"the condition is a {node.type}, not true/false",
                node.pos,
                "a boolean condition",
                "compare it, e.g. risk_score >= 900",
            )
        return node

    def _logic(self, word: str, sub: Callable[[], Node]) -> Node:
        first = sub()
        items = [first]
        while self._is("kw", word):
            self._take()
            items.append(sub())
        if len(items) == 1:
            return first
        for item in items:
            self._need(item, ("boolean",), f"{word} joins true/false conditions")
        return Node(word.lower(), first.pos, "boolean", word, tuple(items))

    def _or(self) -> Node:
        return self._logic("OR", self._and)

    def _and(self) -> Node:
        return self._logic("AND", self._not)

    def _not(self) -> Node:
        if self._is("kw", "NOT"):
            pos = self._take().pos
            arg = self._not()
            self._need(arg, ("boolean",), "NOT applies to a true/false condition")
            return Node("not", pos, "boolean", "NOT", (arg,))
        return self._predicate()

    def _predicate(self) -> Node:
        left = self._sum()
        t = self.tok
        if t.kind == "op" and t.text in _CMP:
            self._take()
            right = self._sum()
            op = _CMP[t.text]
            self._same(left, right, t.pos)
            kind = _common(left, right)
            if kind == "boolean" and op not in ("=", "<>"):
                raise ExprError(
                    f"true/false values cannot be ordered with {t.text}",
                    t.pos,
                    "= or <> between true/false values",
                    "use = TRUE or = FALSE",
                )
            return Node("cmp", left.pos, "boolean", op, (left, right))
        if self._is("kw", "IS"):
            self._take()
            negated = False
            if self._is("kw", "NOT"):
                self._take()
                negated = True
            self._expect("kw", "NULL", "NULL after IS (IS NULL or IS NOT NULL)")
            return Node("isnull", left.pos, "boolean", "not" if negated else "", (left,))
        negated = False
        if self._is("kw", "NOT") and self.toks[self.i + 1].text in ("IN", "BETWEEN"):
            self._take()
            negated = True
        if self._is("kw", "IN"):
            pos = self._take().pos
            self._expect("op", "(", "'(' to open the IN list")
            items = [self._sum()]
            while self._is("op", ","):
                self._take()
                items.append(self._sum())
            self._expect("op", ")", "',' or ')' to close the IN list")
            for item in items:
                self._same(left, item, item.pos if item.pos else pos)
            return Node("in", left.pos, "boolean", "not" if negated else "", (left, *items))
        if self._is("kw", "BETWEEN"):
            pos = self._take().pos
            low = self._sum()
            self._expect("kw", "AND", "AND in BETWEEN low AND high")
            high = self._sum()
            for bound in (low, high):
                self._same(left, bound, bound.pos)
            if _common(left, low, high) == "boolean":
                raise ExprError(
                    "BETWEEN needs numbers or strings",
                    pos,
                    "numbers or strings",
                    "compare true/false values with =",
                )
            return Node("between", left.pos, "boolean", "not" if negated else "", (left, low, high))
        return left

    def _sum(self) -> Node:
        node = self._product()
        while self.tok.kind == "op" and self.tok.text in "+-":
            t = self._take()
            right = self._product()
            node = self._arith(t, node, right)
        return node

    def _product(self) -> Node:
        node = self._unary()
        while self.tok.kind == "op" and self.tok.text in "*/":
            t = self._take()
            right = self._unary()
            node = self._arith(t, node, right)
        return node

    def _arith(self, t: _Tok, left: Node, right: Node) -> Node:
        for side in (left, right):
            self._need(side, ("number",), f"{t.text} works on numbers")
        return Node("arith", left.pos, "number", t.text, (left, right))

    def _unary(self) -> Node:
        if self.tok.kind == "op" and self.tok.text in "+-":
            t = self._take()
            arg = self._unary()
            self._need(arg, ("number",), f"unary {t.text} works on numbers")
            return arg if t.text == "+" else Node("neg", t.pos, "number", "-", (arg,))
        return self._primary()

    def _primary(self) -> Node:
        t = self.tok
        if t.kind == "number":
            self._take()
            value = float(t.text)
            if not math.isfinite(value):
                raise ExprError(
                    f"number {t.text} is out of range",
                    t.pos,
                    "a finite number",
                    "use a number below 1e308",
                )
            return Node("lit", t.pos, "number", value=value)
        if t.kind == "string":
            self._take()
            return Node("lit", t.pos, "string", value=t.text[1:-1].replace("''", "'"))
        if t.kind == "kw" and t.text in ("TRUE", "FALSE"):
            self._take()
            return Node("lit", t.pos, "boolean", value=t.text == "TRUE")
        if t.kind == "kw" and t.text == "NULL":
            self._take()
            return Node("lit", t.pos, "null", value=None)
        if t.kind == "op" and t.text == "(":
            self._take()
            node = self._or()
            self._expect("op", ")", "')' to close the parenthesis")
            return node
        if t.kind in ("ident", "qident"):
            self._take()
            if self._is("op", "("):
                return self._call(t)
            name = t.text if t.kind == "ident" else t.text[1:-1].replace('""', '"')
            if name not in self.schema:
                fix = _did_you_mean(name, self.schema)
                if t.kind == "qident" and not fix.startswith("did"):
                    fix = f"strings take single quotes: '{name}'"
                raise ExprError(
                    f"unknown column {name!r}",
                    t.pos,
                    "a catalog feature, a model output or a declared column",
                    fix,
                )
            return Node("col", t.pos, self.schema[name], name)
        self._fail("a column, a number, a 'string', TRUE, FALSE, NULL or '('")
        raise AssertionError  # pragma: no cover - _fail raises

    def _call(self, t: _Tok) -> Node:
        if t.text.upper() not in _FUNCTIONS:
            raise ExprError(
                f"function {t.text}() is not allowed",
                t.pos,
                "COALESCE(...) or no function call",
                "rules allow only comparisons, arithmetic, AND/OR/NOT, IN, BETWEEN, IS NULL "
                "and COALESCE",
            )
        self._take()  # (
        args = [self._or()]
        while self._is("op", ","):
            self._take()
            args.append(self._or())
        self._expect("op", ")", "',' or ')' to close COALESCE")
        for arg in args[1:]:
            self._same(args[0], arg, arg.pos)
        return Node("coalesce", t.pos, _common(*args), "COALESCE", tuple(args))

    # -- type checks ---------------------------------------------------------------
    def _need(self, node: Node, types: tuple[str, ...], why: str) -> None:
        if node.type not in (*types, "null"):
            raise ExprError(
                f"{why}; got a {node.type}",
                node.pos,
                " or ".join(types),
                "check the column's type (model outputs: risk_score and score are numbers, "
                "band is a string)",
            )

    def _same(self, a: Node, b: Node, pos: int) -> None:
        if "null" in (a.type, b.type) or a.type == b.type:
            return
        raise ExprError(
            f"cannot compare a {a.type} with a {b.type}",
            pos,
            f"a {a.type}",
            "compare numbers with numbers and strings with 'quoted strings'",
        )


def _common(*nodes: Node) -> str:
    types = {n.type for n in nodes} - {"null"}
    return types.pop() if types else "null"


def _did_you_mean(name: str, schema: Mapping[str, str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(schema), n=3, cutoff=0.6)
    if not close:
        lowered = {k.lower(): k for k in schema}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    return (
        "use a feature of riskscore.features.catalog(entity), risk_score, score, band, or "
        "declare the column under 'columns:' in the rule set"
    )


def parse(text: str, schema: Mapping[str, str]) -> Node:
    """Parse and type-check ``text`` against ``schema`` (column name -> type).

    Raises
    ------
    ExprError
        Syntax or type error, unknown column or function, with the position.

    Examples
    --------
    >>> node = parse("risk_score >= 900 OR band IN ('critical')",
    ...              {"risk_score": "number", "band": "string"})
    >>> node.kind, sorted(columns_of(node))
    ('or', ['band', 'risk_score'])
    """
    return _Parser(text, schema).parse()


def columns_of(node: Node) -> set[str]:
    """Return the column names ``node`` reads."""
    if node.kind == "col":
        return {node.op}
    out: set[str] = set()
    for arg in node.args:
        out |= columns_of(arg)
    return out


# -- Python closures (decide_one) ---------------------------------------------------

Fn = Callable[[Mapping[str, Any]], Any]

_PY_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _div(a: float, b: float) -> float | None:
    return None if b == 0 else a / b


_PY_ARITH: dict[str, Callable[[float, float], float | None]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _div,
}


def compile_python(node: Node) -> Fn:
    """Compile ``node`` to a function of a record (column -> normalised value).

    The record holds ``None`` for NULL (NaN and infinities already turned into
    ``None``), floats for numbers. The function returns ``True``, ``False`` or ``None``
    (for a condition) following SQL three-valued logic.

    Examples
    --------
    >>> f = compile_python(parse("x > 1 OR y IS NULL", {"x": "number", "y": "number"}))
    >>> f({"x": 0.0, "y": None}), f({"x": None, "y": 2.0}), f({"x": 2.0, "y": 1.0})
    (True, None, True)
    """
    kind = node.kind
    if kind == "col":
        name = node.op
        return lambda r: r[name]
    if kind == "lit":
        value = node.value
        return lambda r: value
    args = [compile_python(a) for a in node.args]
    if kind == "neg":
        (f,) = args

        def neg(r: Mapping[str, Any]) -> Any:
            v = f(r)
            return None if v is None else -v

        return neg
    if kind == "not":
        (f,) = args

        def not_(r: Mapping[str, Any]) -> Any:
            v = f(r)
            return None if v is None else not v

        return not_
    if kind in ("arith", "cmp"):
        fa, fb = args
        op2 = _PY_ARITH[node.op] if kind == "arith" else _PY_CMP[node.op]

        def binary(r: Mapping[str, Any]) -> Any:
            a = fa(r)
            if a is None:
                return None
            b = fb(r)
            if b is None:
                return None
            return op2(a, b)

        return binary
    if kind == "and":

        def and_(r: Mapping[str, Any]) -> Any:
            unknown = False
            for f in args:
                v = f(r)
                if v is False:
                    return False
                if v is None:
                    unknown = True
            return None if unknown else True

        return and_
    if kind == "or":

        def or_(r: Mapping[str, Any]) -> Any:
            unknown = False
            for f in args:
                v = f(r)
                if v is True:
                    return True
                if v is None:
                    unknown = True
            return None if unknown else False

        return or_
    if kind == "isnull":
        (f,) = args
        if node.op == "not":
            return lambda r: f(r) is not None
        return lambda r: f(r) is None
    if kind == "in":
        fx, *items = args
        negated = node.op == "not"

        def in_(r: Mapping[str, Any]) -> Any:
            x = fx(r)
            if x is None:
                return None
            unknown = False
            for f in items:
                v = f(r)
                if v is None:
                    unknown = True
                elif v == x:
                    return not negated
            return None if unknown else negated

        return in_
    if kind == "between":
        fx, flo, fhi = args
        negated = node.op == "not"

        def between(r: Mapping[str, Any]) -> Any:
            x, lo, hi = fx(r), flo(r), fhi(r)
            ge = None if x is None or lo is None else x >= lo
            le = None if x is None or hi is None else x <= hi
            if ge is False or le is False:
                v: bool | None = False
            elif ge is None or le is None:
                v = None
            else:
                v = True
            return v if v is None or not negated else not v

        return between
    if kind == "coalesce":

        def coalesce(r: Mapping[str, Any]) -> Any:
            for f in args:
                v = f(r)
                if v is not None:
                    return v
            return None

        return coalesce
    raise AssertionError(kind)  # pragma: no cover


# -- DuckDB SQL (decide_many) -------------------------------------------------------


def to_sql(node: Node, column: Callable[[str], str]) -> str:
    """Render ``node`` as fully parenthesised DuckDB SQL.

    ``column(name)`` gives the SQL name of a column. Numbers become ``DOUBLE`` literals,
    division by zero becomes NULL (``a / NULLIF(b, 0)``), as in :func:`compile_python`.

    Examples
    --------
    >>> to_sql(parse("x / 2 > 1", {"x": "number"}), lambda n: n)
    "((x / NULLIF(CAST('2.0' AS DOUBLE), 0)) > CAST('1.0' AS DOUBLE))"
    """
    kind = node.kind
    if kind == "col":
        return column(node.op)
    if kind == "lit":
        v = node.value
        if v is None:
            return "NULL"
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, float):
            return f"CAST('{v!r}' AS DOUBLE)"
        return "'" + str(v).replace("'", "''") + "'"
    args = [to_sql(a, column) for a in node.args]
    if kind == "neg":
        return f"(-{args[0]})"
    if kind == "not":
        return f"(NOT {args[0]})"
    if kind == "arith":
        if node.op == "/":
            return f"({args[0]} / NULLIF({args[1]}, 0))"
        return f"({args[0]} {node.op} {args[1]})"
    if kind == "cmp":
        return f"({args[0]} {node.op} {args[1]})"
    if kind in ("and", "or"):
        return "(" + f" {node.op} ".join(args) + ")"
    if kind == "isnull":
        return f"({args[0]} IS {'NOT ' if node.op == 'not' else ''}NULL)"
    if kind == "in":
        neg = "NOT " if node.op == "not" else ""
        return f"({args[0]} {neg}IN ({', '.join(args[1:])}))"
    if kind == "between":
        neg = "NOT " if node.op == "not" else ""
        return f"({args[0]} {neg}BETWEEN {args[1]} AND {args[2]})"
    if kind == "coalesce":
        return f"COALESCE({', '.join(args)})"
    raise AssertionError(kind)  # pragma: no cover
