"""Condition expressions: Python's own eval is the oracle for the arithmetic and logic (here in the test only),
and every refusal names the construct and the column."""

from __future__ import annotations

import contextlib
import math
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmi.site.expressions import TAG_NAME, Expression, ExpressionError, Unknown, parse_expression
from hmi.site.schema import NAME_PATTERN

TAGS = ("a", "b", "c")
ORACLE_BUILTINS = {"__builtins__": {"abs": abs, "min": min, "max": max, "round": round}}


# --- random expressions as (our text, the same in plain Python) ---------------------------------------------------

def _leaf() -> st.SearchStrategy[tuple[str, str]]:
    tag = st.sampled_from(TAGS).flatmap(lambda t: st.sampled_from([(t, t), (f"{{{t}}}", t)]))
    number = st.one_of(st.integers(-5, 5), st.sampled_from([0.0, 0.5, -2.5, 1e-300, 1e300])).map(
        lambda n: (repr(n), repr(n)))
    boolean = st.sampled_from([("true", "True"), ("false", "False"), ("True", "True")])
    return st.one_of(tag, number, boolean)


def _extend(inner: st.SearchStrategy[tuple[str, str]]) -> st.SearchStrategy[tuple[str, str]]:
    def binary(op: str) -> st.SearchStrategy[tuple[str, str]]:
        return st.tuples(inner, inner).map(lambda p: (f"({p[0][0]} {op} {p[1][0]})", f"({p[0][1]} {op} {p[1][1]})"))

    def call(name: str, n: int) -> st.SearchStrategy[tuple[str, str]]:
        return st.lists(inner, min_size=n, max_size=n).map(
            lambda args: (f"{name}({', '.join(a for a, _ in args)})", f"{name}({', '.join(p for _, p in args)})"))

    chain = st.tuples(inner, st.sampled_from(["<", "<=", "=="]), inner, st.sampled_from([">", "!=", ">="]), inner)
    return st.one_of(
        *[binary(op) for op in ("+", "-", "*", "/", "%", "and", "or", "==", "!=", "<", "<=", ">", ">=")],
        inner.map(lambda p: (f"(not {p[0]})", f"(not {p[1]})")),
        inner.map(lambda p: (f"(-{p[0]})", f"(-{p[1]})")),
        chain.map(lambda c: (f"({c[0][0]} {c[1]} {c[2][0]} {c[3]} {c[4][0]})",
                             f"({c[0][1]} {c[1]} {c[2][1]} {c[3]} {c[4][1]})")),
        call("abs", 1), call("min", 2), call("max", 3), call("round", 1),
        st.tuples(inner, st.integers(-3, 3)).map(lambda p: (f"round({p[0][0]}, {p[1]})", f"round({p[0][1]}, {p[1]})")),
    )


EXPRESSIONS = st.recursive(_leaf(), _extend, max_leaves=12)
VALUE = st.one_of(st.integers(-10, 10), st.booleans(), st.floats(-1e6, 1e6, allow_nan=False), st.just(0))
VALUES = st.dictionaries(st.sampled_from(TAGS), VALUE)  # a missing tag must be an error for both


def _same(ours: object, theirs: object) -> bool:
    if isinstance(ours, float) and isinstance(theirs, float) and math.isnan(ours) and math.isnan(theirs):
        return True
    return type(ours) is type(theirs) and ours == theirs


@settings(max_examples=400, deadline=None)
@given(EXPRESSIONS, VALUES)
def test_same_result_as_python_or_both_fail(pair: tuple[str, str], values: dict[str, object]) -> None:
    ours_text, python_text = pair
    expression = parse_expression(ours_text, known_tags=TAGS)
    assert expression.tags <= set(TAGS)
    try:
        expected = eval(python_text, dict(ORACLE_BUILTINS), dict(values))  # the oracle, never in the module
    except Exception:  # ZeroDivisionError, NameError, OverflowError, ValueError
        with pytest.raises(Unknown):
            expression.evaluate(values)
        return
    assert _same(expression.evaluate(values), expected), (ours_text, values, expected)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab{}()[]+-*/%<>=!.,:# \"'_01\né", max_size=25), VALUES)
def test_any_text_gives_an_expression_or_an_expression_error(text: str, values: dict[str, object]) -> None:
    try:
        expression = parse_expression(text)
    except ExpressionError as e:
        column = e.column
    else:
        column = None
        with contextlib.suppress(Unknown):  # anything else escaping evaluate fails the test
            expression.evaluate(values)
    assert column is None or 1 <= column <= len(text) + 1


# --- refusals -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "words", "column"), [
    ("__import__('os')", "calling __import__", 1),
    ("open(\"f\")", "calling open", 1),
    ("a.b", "attribute access", 1),
    ("x[0]", "indexing", 1),
    ("(lambda: 1)()", "calling an expression", 1),
    ("1 + (lambda: 1)", "lambda", 6),
    ("2**99999", "power operator", 1),
    ("[1 for _ in x]", "comprehension", 1),
    ("f\"{a}\" == 'x'", "f-string", 1),
    ("(y := 1)", ":=", 2),
    ("a if b else c", "conditional", 1),
    ("a // 2", "floor division", 1),
    ("~a", "~", 1),
    ("a in b", "'in'", 1),
    ("None", "NoneType", 1),
    ("b'x' == a", "bytes", 1),
    ("a # a comment", "comment", 3),
    ("round(a, n)", "integer literal", 10),
    ("round(a, 16)", "integer literal", 10),
    ("min(a)", "2 or more arguments", 1),
    ("abs(x=a)", "without names", 1),
    ("abs > 1", "must be called", 1),
    ("ﬁ > 1", "ASCII", 1),
])
def test_refused_constructs_name_the_construct_and_the_column(text: str, words: str, column: int) -> None:
    with pytest.raises(ExpressionError, match="column") as error:
        parse_expression(text)
    assert words in str(error.value)
    assert error.value.column == column


@pytest.mark.parametrize(("text", "column", "words"), [
    ("(a + {b}", 1, "never closed"),
    ("a + (b * (c - 1)", 5, "never closed"),
    ("a + b)", 6, "unmatched ')'"),
    ("{a + 1", 1, "'{' at column 1 is never closed"),
    ("a + b}", 6, "unmatched '}'"),
    ("{} > 1", 1, "not a tag name"),
    ("{Line 1} > 1", 1, "not a tag name"),
    ("a < < b", 5, "invalid syntax"),
    ("a == 'open", 6, "unterminated string"),
    ("a +", 4, "end of text"),
])
def test_syntax_errors_point_at_the_users_own_text(text: str, column: int, words: str) -> None:
    with pytest.raises(ExpressionError) as error:
        parse_expression(text)
    assert error.value.column == column
    assert words in str(error.value)


def test_columns_count_characters_of_the_original_text() -> None:
    # braces are replaced by longer identifiers and "é" is two bytes in the offsets ast reports
    with pytest.raises(ExpressionError) as error:
        parse_expression('{Line1.Speed} > 1 and name == "é" and x.y')
    assert error.value.column == 39
    assert "'x.y'" in str(error.value)


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_text_is_an_error(text: str) -> None:
    with pytest.raises(ExpressionError, match="empty"):
        parse_expression(text)


def test_an_unknown_tag_is_named_with_the_closest_known_name() -> None:
    with pytest.raises(ExpressionError) as error:
        parse_expression("not pump_running or {Line1.Sped} < 5", known_tags=["pump_running", "Line1.Speed"])
    assert "unknown tag 'Line1.Sped'" in str(error.value)
    assert "did you mean 'Line1.Speed'?" in str(error.value)
    assert error.value.column == 21


def test_a_dotted_name_without_braces_gets_a_hint() -> None:
    with pytest.raises(ExpressionError, match=r"write \{Line1.Speed\}"):
        parse_expression("Line1.Speed > 3")


def test_nesting_is_bounded() -> None:
    with pytest.raises(ExpressionError, match="nested"):
        parse_expression("+".join(["a"] * 300))
    with pytest.raises(ExpressionError):
        parse_expression("(" * 500 + "a" + ")" * 500)


# --- language and evaluation ----------------------------------------------------------------------------------------

def test_suppression_by_design_short_circuits_the_speed_while_the_pump_is_stopped() -> None:
    expression = parse_expression("not pump_running or {Line1.Speed} < 5", known_tags=["pump_running", "Line1.Speed"])
    assert expression.tags == frozenset({"pump_running", "Line1.Speed"})
    assert expression.evaluate({"pump_running": False}) is True  # the speed is not needed
    assert expression.evaluate({"pump_running": True, "Line1.Speed": 3.5}) is True
    assert expression.evaluate({"pump_running": True, "Line1.Speed": 7}) is False
    with pytest.raises(Unknown) as unknown:
        expression.evaluate({"pump_running": True, "Line1.Speed": None})
    assert unknown.value.tag == "Line1.Speed"
    with pytest.raises(Unknown, match="pump_running"):
        expression.evaluate({})


def test_tag_names_in_braces_and_bare_names_are_the_same_tag() -> None:
    expression = parse_expression("{pump-1} + pump_1 - {pump_1} + {true} + {abs}")
    assert expression.tags == frozenset({"pump-1", "pump_1", "true", "abs"})
    assert expression.evaluate({"pump-1": 1, "pump_1": 2, "true": 3, "abs": 4}) == 8


def test_booleans_are_numbers_and_literals() -> None:
    assert parse_expression("pump_running == 1").evaluate({"pump_running": True}) is True
    assert parse_expression("a + true").evaluate({"a": True}) == 2
    assert parse_expression("false or True").evaluate({}) is True


def test_strings_compare_with_strings_and_braces_in_them_are_text() -> None:
    expression = parse_expression('mode == "{auto}" or mode < \'b\'')
    assert expression.tags == frozenset({"mode"})
    assert expression.evaluate({"mode": "{auto}"}) is True
    assert expression.evaluate({"mode": "manual"}) is False
    assert expression.evaluate({"mode": "a"}) is True


@pytest.mark.parametrize(("text", "values", "reason"), [
    ("a / b", {"a": 1, "b": 0}, "division by zero"),
    ("a % b", {"a": 1.5, "b": 0.0}, "a % b"),
    ("a / b", {"a": 10**400, "b": 3}, "too large"),
    ("mode == 1", {"mode": "auto"}, "cannot compare 'auto' with 1"),
    ("0 < a < mode", {"a": 1, "mode": "x"}, "cannot compare"),
    ("mode * 1000000000", {"mode": "x"}, "arithmetic on a string"),
    ("-mode", {"mode": "x"}, "a string where a number is needed"),
    ("max(a, mode)", {"a": 1, "mode": "x"}, "a string where a number is needed"),
    ("round(a)", {"a": math.inf}, "round(a)"),
    ("a > 1", {"a": [1, 2]}, "list value"),
])
def test_what_cannot_be_computed_is_unknown_with_a_reason(text: str, values: dict[str, object], reason: str) -> None:
    with pytest.raises(Unknown) as unknown:
        parse_expression(text).evaluate(values)
    assert reason in str(unknown.value)


def test_a_mixed_comparison_that_is_short_circuited_is_fine() -> None:
    assert parse_expression("0 < a < mode").evaluate({"a": -1, "mode": "x"}) is False


def test_functions_and_round_digits() -> None:
    assert parse_expression("abs(a) + min(a, 3, 4) + max(a, b)").evaluate({"a": -2, "b": 1.5}) == 1.5
    assert parse_expression("round(a, -2) + round(b)").evaluate({"a": 1234, "b": 2.5}) == 1202


def test_values_from_numpy_and_enums_become_plain_numbers_and_strings() -> None:
    expression = parse_expression("a + b > 3 and mode == 'x'")
    assert expression.evaluate({"a": np.int64(3), "b": np.float32(0.5), "mode": np.str_("x")}) is True


def test_newlines_count_as_spaces_so_yaml_block_scalars_work() -> None:
    assert parse_expression("not pump_running\n  or speed < 5\n").evaluate({"pump_running": True, "speed": 1})


def test_expressions_are_frozen_values() -> None:
    one, two = parse_expression("a > 1"), parse_expression("a > 1")
    assert isinstance(one, Expression)
    assert one == two
    assert hash(one) == hash(two)
    with pytest.raises(FrozenInstanceError):
        one.text = "b"  # type: ignore[misc]


def test_tag_name_pattern_matches_the_schema() -> None:
    assert f"^{TAG_NAME.pattern}$" == NAME_PATTERN
