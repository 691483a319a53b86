"""Condition expressions (alarm ``suppress_when``, later calculated tags and interlocks), without ``eval``.

Language:
- Tags: a bare identifier (``pump_running``) or any tag name in braces (``{Line1.Speed}``, ``{pump-1}``).
  Braces are needed for names with ``.`` or ``-`` (``pump-1`` bare means ``pump`` minus 1), for Python
  keywords and for the reserved names true, false, abs, min, max and round.
- Literals: int, float, true/false (or True/False), 'strings' and "strings".
- ``and or not``, ``== != < <= > >=`` (chains like ``0 < x <= 10``), ``+ - * / %``, unary ``-`` and ``+``,
  parentheses, ``abs(x)``, ``min(a, b, ...)``, ``max(a, b, ...)``, ``round(x)``, ``round(x, n)`` with n an
  integer literal in -15..15. Anything else is an ExpressionError naming the construct and its 1-based
  column in the text. Newlines count as spaces (YAML block scalars may span lines); no comments.

Evaluation (the results are Python's for the same operators):
- Numbers are int, float and bool; booleans compare and add as numbers (``pump_running == 1``).
- ``and``/``or`` short-circuit left to right and return the deciding operand like Python (callers take
  ``bool()``); ``not`` gives a bool. Only tags actually reached must be known: ``not pump_running or
  {Line1.Speed} < 5`` does not need the speed while the pump is stopped.
- Unknown, never another exception, when a reached tag is missing or None or neither a number nor a
  string, on division or modulo by zero or overflow, when arithmetic or a function meets a string (so no
  ``"a" * 10**9``), and when a comparison mixes a string with a number.
"""

import ast
import difflib
import numbers
import operator
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

# Same as hmi.site.schema.NAME_PATTERN (a test checks it); not imported so the schema may import us.
TAG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
MAX_DEPTH = 100  # deeper trees would hit the recursion limit when evaluated; no person writes them
LITERALS = {"true": True, "false": False}
OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Mod: operator.mod, ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_,
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge}
FUNCTIONS = {"abs": (abs, 1, 1), "min": (min, 2, 99), "max": (max, 2, 99), "round": (round, 1, 2)}  # fn, arity
REFUSED = {ast.Attribute: "attribute access", ast.Subscript: "indexing", ast.Lambda: "lambda",
           ast.ListComp: "a comprehension", ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
           ast.GeneratorExp: "a generator", ast.JoinedStr: "an f-string", ast.NamedExpr: "assignment (:=)",
           ast.IfExp: "a conditional (if/else)", ast.List: "a list", ast.Tuple: "a tuple",
           ast.Starred: "unpacking (*)", ast.Await: "await", ast.Slice: "a slice", ast.Pow: "the power operator **",
           ast.FloorDiv: "floor division //", ast.MatMult: "the operator @", ast.Invert: "the operator ~",
           ast.In: "'in'", ast.NotIn: "'not in'", ast.Is: "'is'", ast.IsNot: "'is not'"}
Fn = Callable[[Mapping[str, Any]], Any]


class ExpressionError(ValueError):
    """What is wrong and where: the message quotes the column and the offending text."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.column = column


class Unknown(Exception):
    """A value needed is not known (missing, None, or not computable): callers decide fail-safe behaviour."""

    def __init__(self, reason: str, tag: str | None = None) -> None:
        super().__init__(reason)
        self.tag = tag


@dataclass(frozen=True)
class Expression:
    text: str
    tags: frozenset[str]  # the tag names it reads
    _fn: Fn = field(repr=False, compare=False)

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """The value of the expression for these tag values; Unknown if a reached value is not known."""
        return self._fn(values)


def parse_expression(text: str, known_tags: Collection[str] | None = None) -> Expression:
    """Parse, check and compile; ExpressionError for empty text, bad syntax, refused constructs, unknown tags."""
    if not text.strip():
        raise ExpressionError("empty expression")
    src, cols, idents = _substitute(text)
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as e:
        start = cols[min(e.offset - 1, len(src))] if e.offset and e.lineno == 1 else len(text.rstrip())
        end = cols[min(e.end_offset - 1, len(src))] if e.end_offset and e.end_offset > e.offset else start + 1
        near = f": {text[start:end]!r}" if text[start:end].strip() else " (end of text)"
        raise ExpressionError(f"{e.msg} at column {start + 1}{near}", start + 1) from None
    except (ValueError, RecursionError, MemoryError) as e:  # null bytes, absurd nesting
        raise ExpressionError(f"cannot parse: {e}") from None
    compiler = _Compiler(text, src, cols, idents, known_tags)
    fn = compiler.compile(tree.body, 0)
    return Expression(text, frozenset(compiler.tags), fn)


def _substitute(text: str) -> tuple[str, list[int], dict[str, str]]:
    """Replace ``{name}`` by generated identifiers; cols[i] is the index in text of src[i]."""
    prefix = "_t"
    while prefix in text:  # then no identifier the user wrote can equal a generated one
        prefix += "_"
    out: list[str] = []
    cols: list[int] = []
    idents: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":  # skip strings so braces in them stay text; Python checks the rest of the literal
            j = i + 1
            while j < n and text[j] != c and text[j] not in "\r\n":
                j += 2 if text[j] == "\\" else 1
            if j >= n or text[j] != c or "\n" in text[i:j] or "\r" in text[i:j]:
                raise ExpressionError(f"unterminated string at column {i + 1}: {text[i:j + 1]!r}", i + 1)
            out.append(text[i:j + 1])
            cols.extend(range(i, j + 1))
            i = j + 1
        elif c == "{":
            j = text.find("}", i)
            if j < 0:
                raise ExpressionError(f"'{{' at column {i + 1} is never closed", i + 1)
            name = text[i + 1:j]
            if not TAG_NAME.fullmatch(name):
                raise ExpressionError(f"not a tag name at column {i + 1}: {text[i:j + 1]!r}", i + 1)
            ident = next((k for k, v in idents.items() if v == name), f"{prefix}{len(idents)}")
            idents[ident] = name
            out.append(f" {ident} ")  # spaces: '{a}b' must not become one identifier
            cols.extend([i] * (len(ident) + 1) + [j + 1])
            i = j + 1
        elif c in "}#":
            what = "unmatched '}'" if c == "}" else "a comment"
            raise ExpressionError(f"{what} at column {i + 1}: {text[i:i + 10]!r}", i + 1)
        else:
            out.append(" " if c in "\r\n" else c)
            cols.append(i)
            i += 1
    cols.append(n)
    src = "".join(out)
    k = len(src) - len(src.lstrip())  # Python would call leading blanks an indent
    return src[k:], cols[k:], idents


def _number(x: Any, where: str) -> Any:
    if isinstance(x, str):
        raise Unknown(f"{where}: a string where a number is needed ({x!r})")
    return x


class _Compiler:
    def __init__(self, text: str, src: str, cols: list[int], idents: dict[str, str],
                 known: Collection[str] | None) -> None:
        self.text, self.cols, self.idents = text, cols, idents
        self.src = None if src.isascii() else src.encode()  # ast offsets are UTF-8 bytes
        self.known = None if known is None else set(known)
        self.tags: set[str] = set()

    def span(self, node: ast.AST) -> tuple[int, int]:
        a, b = node.col_offset, node.end_col_offset or node.col_offset  # type: ignore[attr-defined]
        if self.src is not None:
            a, b = len(self.src[:a].decode()), len(self.src[:b].decode())
        return self.cols[a], self.cols[b]

    def segment(self, node: ast.AST, limit: int = 10_000) -> str:
        a, b = self.span(node)
        s = self.text[a:b].strip()
        return s if len(s) <= limit else s[:limit - 3] + "..."

    def fail(self, what: str, node: ast.AST, hint: str = "", quote: bool = True) -> NoReturn:
        column = self.span(node)[0] + 1
        text = f": {self.segment(node, 40)!r}" if quote else ""
        raise ExpressionError(f"{what} at column {column}{text}{hint}", column)

    def compile(self, node: ast.expr, depth: int) -> Fn:
        if depth > MAX_DEPTH:
            self.fail(f"nested more than {MAX_DEPTH} levels deep", node)
        sub = depth + 1
        if isinstance(node, ast.Constant):
            value = node.value
            if not isinstance(value, int | float | str):
                self.fail(f"{type(value).__name__} literal is not allowed", node)
            return lambda v: value
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BoolOp):
            fns = [self.compile(x, sub) for x in node.values]
            return _boolean(fns, isinstance(node.op, ast.And))
        ops = [node.op] if isinstance(node, ast.UnaryOp | ast.BinOp) else getattr(node, "ops", [])
        if refused := [o for o in ops if type(o) not in OPERATORS]:
            self.fail(f"{REFUSED.get(type(refused[0]), 'this operator')} is not allowed", node)
        where = self.segment(node, 60)
        if isinstance(node, ast.UnaryOp):
            f, op = self.compile(node.operand, sub), OPERATORS[type(node.op)]
            if isinstance(node.op, ast.Not):
                return lambda v: not f(v)
            return lambda v: op(_number(f(v), where))
        if isinstance(node, ast.BinOp):
            return _arithmetic(OPERATORS[type(node.op)], self.compile(node.left, sub), self.compile(node.right, sub),
                               where)
        if isinstance(node, ast.Compare):
            return _compare([OPERATORS[type(o)] for o in node.ops],
                            [self.compile(x, sub) for x in [node.left, *node.comparators]], where)
        if isinstance(node, ast.Call):
            return self.call(node, sub, where)
        dotted = isinstance(node, ast.Attribute) and TAG_NAME.fullmatch(self.segment(node))
        hint = f" (write {{{self.segment(node)}}} for a tag name with dots)" if dotted else ""
        self.fail(f"{REFUSED.get(type(node), type(node).__name__)} is not allowed", node, hint)

    def name(self, node: ast.Name) -> Fn:
        tag = self.idents.get(node.id)
        if tag is None:
            if node.id in LITERALS:
                value = LITERALS[node.id]
                return lambda v: value
            if node.id in FUNCTIONS:
                self.fail(f"function {node.id} must be called", node, f" (a tag named {node.id} needs braces)")
            if self.segment(node) != node.id or not node.id.isascii():
                self.fail("not a tag name", node, " (tag names are ASCII)")
            tag = node.id
        if self.known is not None and tag not in self.known:
            close = difflib.get_close_matches(tag, self.known, n=1)
            self.fail(f"unknown tag {tag!r}", node, f"; did you mean {close[0]!r}?" if close else "", quote=False)
        self.tags.add(tag)

        def load(values: Mapping[str, Any]) -> Any:
            x = values.get(tag)
            if type(x) in (float, int, bool, str):
                return x
            if x is None:
                raise Unknown(f"{tag} is not known", tag)
            if isinstance(x, str | numbers.Real):  # enums, NumPy scalars: plain values, like the literals
                return str(x) if isinstance(x, str) else int(x) if isinstance(x, numbers.Integral) else float(x)
            raise Unknown(f"{tag} has a {type(x).__name__} value, not a number or string", tag)
        return load

    def call(self, node: ast.Call, sub: int, where: str) -> Fn:
        name = node.func.id if isinstance(node.func, ast.Name) and node.func.id not in self.idents else None
        if name not in FUNCTIONS:
            what = name or self.segment(node.func) if isinstance(node.func, ast.Name) else "an expression"
            self.fail(f"calling {what} is not allowed", node, " (functions: abs, min, max, round)")
        (fn, least, most), args, extra = FUNCTIONS[name], node.args, ()
        if node.keywords or any(isinstance(a, ast.Starred) for a in args) or not least <= len(args) <= most:
            count = "1 argument" if most == 1 else "1 or 2 arguments" if most == 2 else "2 or more arguments"
            self.fail(f"{name}() takes {count}, without names or *", node)
        if name == "round" and len(args) == 2:
            try:  # a literal keeps round() of a big int from building 10**huge
                digits = ast.literal_eval(args[1])
            except (ValueError, TypeError, SyntaxError, RecursionError):
                digits = None
            if type(digits) is not int or not -15 <= digits <= 15:
                self.fail("round()'s second argument must be an integer literal in -15..15", args[1])
            args, extra = args[:1], (digits,)
        fns = [self.compile(a, sub) for a in args]

        def call(values: Mapping[str, Any]) -> Any:
            try:
                return fn(*[_number(f(values), where) for f in fns], *extra)
            except (ArithmeticError, ValueError) as e:  # round(inf), round(nan)
                raise Unknown(f"{where}: {e}") from None
        return call


def _boolean(fns: list[Fn], is_and: bool) -> Fn:
    first, *rest = fns
    if len(rest) == 1:  # the common case, without the loop
        second = rest[0]
        return (lambda v: first(v) and second(v)) if is_and else (lambda v: first(v) or second(v))

    def f(v: Mapping[str, Any]) -> Any:
        x = first(v)
        for g in rest:
            if bool(x) is not is_and:  # decided: False for and, True for or
                return x
            x = g(v)
        return x
    return f


def _arithmetic(op: Callable[[Any, Any], Any], left: Fn, right: Fn, where: str) -> Fn:
    def f(v: Mapping[str, Any]) -> Any:
        a, b = left(v), right(v)
        if isinstance(a, str) or isinstance(b, str):  # "a" * 10**9, "%999999999d" % 1
            raise Unknown(f"{where}: arithmetic on a string ({a!r}, {b!r})")
        try:
            return op(a, b)
        except ArithmeticError as e:  # division or modulo by zero, int too large for a float
            raise Unknown(f"{where}: {e}") from None
    return f


def _compare(ops: list[Callable[[Any, Any], bool]], fns: list[Fn], where: str) -> Fn:
    first, pairs = fns[0], list(zip(ops, fns[1:], strict=True))

    def f(v: Mapping[str, Any]) -> Any:
        a = first(v)
        for op, g in pairs:  # like Python: each operand evaluated once, stop at the first false
            b = g(v)
            if isinstance(a, str) is not isinstance(b, str):
                raise Unknown(f"{where}: cannot compare {a!r} with {b!r}")
            if not op(a, b):
                return False
            a = b
        return True
    return f
