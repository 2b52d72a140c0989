"""irisserve.schema: every rejection, with its message."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irisserve.artifact.manifest import CATEGORICAL, NUMERIC, Feature
from irisserve.errors import BatchTooLarge, InvalidInput
from irisserve.schema import PURE_PYTHON_ROWS, InputSchema, parse_body, parse_instances
from tests.helpers.support import IRIS_FEATURES, SETOSA

NAMES = IRIS_FEATURES
IRIS = InputSchema.numeric(NAMES)
ROW = SETOSA


def test_features_list_becomes_one_float64_row() -> None:
    rows = parse_body({"features": ROW}, IRIS, 10)
    assert rows.single
    assert rows.values.dtype == np.float64
    assert rows.values.tolist() == [ROW]


def test_named_features_follow_manifest_order() -> None:
    named = {"petal_width": 0.2, "sepal_length": 5.1, "petal_length": 1.4, "sepal_width": 3.5}
    assert parse_body({"features": named}, IRIS, 10).values.tolist() == [ROW]


def test_instances_mix_lists_and_objects_in_order() -> None:
    rows = parse_body(
        {"instances": [ROW, dict(zip(NAMES, [6.5, 3, 5.5, 2], strict=True)), [1, 2, 3, 4]]},
        IRIS,
        10,
    )
    assert not rows.single
    assert rows.values.shape == (3, 4)
    assert rows.values.tolist() == [ROW, [6.5, 3.0, 5.5, 2.0], [1.0, 2.0, 3.0, 4.0]]


def test_integers_are_accepted_as_numbers() -> None:
    assert IRIS.parse_row([5, 3, 1, 0], "features") == [5.0, 3.0, 1.0, 0.0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1, 2], 'the body must be a JSON object with "features" or "instances", got [1, 2]'),
        (3, 'the body must be a JSON object with "features" or "instances", got 3'),
        ({}, 'the body must have exactly one of "features" (one row) or "instances"'),
        ({"features": ROW, "instances": [ROW]}, "exactly one of"),
        ({"feature": ROW}, 'unknown key "feature"'),
        ({"features": ROW, "extra": 1}, 'unknown key "extra"'),
        ({"features": [1, 2, 3]}, "features: expected 4 features, got 3"),
        ({"features": [1, 2, 3, 4, 5]}, "features: expected 4 features, got 5"),
        ({"features": [1, 2, "abc", 4]}, 'features[2]: expected a finite number, got "abc"'),
        ({"features": [1, 2, "3", 4]}, 'features[2]: expected a finite number, got "3"'),
        ({"features": [1, True, 3, 4]}, "features[1]: expected a finite number, got true"),
        ({"features": [1, None, 3, 4]}, "features[1]: expected a finite number, got null"),
        ({"features": [1, [2], 3, 4]}, "features[1]: expected a finite number, got [2]"),
        ({"features": [1, {"a": 2}, 3, 4]}, 'features[1]: expected a finite number, got {"a": 2}'),
        ({"features": [1, math.inf, 3, 4]}, "features[1]: expected a finite number"),
        ({"features": [1, -math.inf, 3, 4]}, "features[1]: expected a finite number"),
        ({"features": [1, math.nan, 3, 4]}, "features[1]: expected a finite number"),
        ({"features": [10**400, 2, 3, 4]}, "features[0]: number is too large"),
        ({"features": "5.1,3.5,1.4,0.2"}, "features: expected a list of 4 numbers or an object"),
        ({"features": None}, "features: expected a list of 4 numbers or an object"),
        ({"features": {"sepal_length": 1}}, 'features: missing feature "sepal_width"'),
        ({"features": {**dict(zip(NAMES, ROW, strict=True)), "x": 1}}, 'unknown feature "x"'),
        (
            {"features": {**dict(zip(NAMES, ROW, strict=True)), "petal_width": "wide"}},
            'features.petal_width: expected a finite number, got "wide"',
        ),
        ({"instances": []}, "instances: the batch is empty"),
        ({"instances": ROW}, "instances[0]: expected a list of 4 numbers or an object"),
        ({"instances": {"a": ROW}}, 'instances: expected a list of rows, got {"a": '),
        ({"instances": [ROW, [1, 2, 3]]}, "instances[1]: expected 4 features, got 3"),
        ({"instances": [ROW, ROW, ROW, [1, 2, "abc", 4]]}, "instances[3][2]: expected a finite"),
        ({"instances": [ROW, [1, 2, 1e308 * 10, 4]]}, "instances[1][2]: expected a finite number"),
        ({"instances": [ROW, [1, 2, 3, 10**400]]}, "instances[1][3]: number is too large"),
        ({"instances": [ROW, None]}, "instances[1]: expected a list of 4 numbers"),
    ],
)
def test_rejections_name_the_place(body: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_body(body, IRIS, 10)
    assert message in str(caught.value)


def test_batch_over_the_row_limit_is_its_own_error() -> None:
    with pytest.raises(BatchTooLarge, match="3 rows is over the limit of 2"):
        parse_instances([ROW] * 3, IRIS, 2)
    assert parse_instances([ROW] * 2, IRIS, 2) == [ROW, ROW]


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(InvalidInput) as caught:
        IRIS.parse_row([1, 2, 3, "x" * 500], "features")
    assert len(str(caught.value)) < 120
    assert str(caught.value).endswith('..."') or str(caught.value).endswith("...")


def test_invalid_input_is_a_value_error() -> None:
    assert issubclass(InvalidInput, ValueError)
    assert issubclass(BatchTooLarge, InvalidInput)


MIXED = InputSchema(
    [
        Feature("age", nullable=True),
        Feature("fare"),
        Feature("embarked", CATEGORICAL, categories=["C", "Q", "S"]),
        Feature("sex", CATEGORICAL, nullable=True, categories=["f", "m"], unknown="ignore"),
        Feature("deck", CATEGORICAL, categories=[1, 2, 3]),
    ]
)
PASSENGER = {"age": 30, "fare": 7.25, "embarked": "S", "sex": "m", "deck": 2}


def test_mixed_rows_keep_numbers_categories_and_nulls_in_schema_order() -> None:
    rows = parse_body(
        {
            "instances": [
                PASSENGER,
                [None, 1, "C", None, 3.0],
                {**PASSENGER, "sex": "x", "age": None},
            ]
        },
        MIXED,
        10,
    )
    assert rows.data == [
        [30.0, 7.25, "S", "m", 2],
        [None, 1.0, "C", None, 3],
        [None, 7.25, "S", "x", 2],
    ]
    assert type(rows.data[1][4]) is int  # the category as trained, however it was spelt


def test_a_large_mixed_batch_stays_lists() -> None:
    rows = parse_instances([PASSENGER] * 20, MIXED, 100)
    assert isinstance(rows, list)
    assert len(rows) == 20


def test_a_large_numeric_batch_with_nulls_is_an_array_with_nan() -> None:
    schema = InputSchema([Feature("a", nullable=True), Feature("b")])
    rows = parse_instances([[None, 1]] * 10 + [[2, 3]], schema, 100)
    assert isinstance(rows, np.ndarray)
    assert math.isnan(rows[0, 0])
    assert rows[10].tolist() == [2.0, 3.0]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({**PASSENGER, "embarked": "X"}, 'instances[1].embarked: "X" is not one of C, Q, S'),
        ({**PASSENGER, "embarked": None}, "instances[1].embarked: null is not one of C, Q, S"),
        ({**PASSENGER, "embarked": 3}, "instances[1].embarked: 3 is not one of C, Q, S"),
        ({**PASSENGER, "fare": None}, "instances[1].fare: expected a finite number, got null"),
        ({**PASSENGER, "age": "old"}, 'instances[1].age: expected a finite number, got "old"'),
        ({**PASSENGER, "sex": 1}, "instances[1].sex: 1 is not one of f, m"),
        ({**PASSENGER, "deck": 4}, "instances[1].deck: 4 is not one of 1, 2, 3"),
        ({**PASSENGER, "deck": "2"}, 'instances[1].deck: "2" is not one of 1, 2, 3'),
        ({**PASSENGER, "deck": True}, "instances[1].deck: true is not one of 1, 2, 3"),
        ({k: v for k, v in PASSENGER.items() if k != "sex"}, 'missing feature "sex"'),
        ({**PASSENGER, "cabin": "B5"}, 'instances[1]: unknown feature "cabin"'),
        ([30, 7.25, "S", "m"], "instances[1]: expected 5 features, got 4"),
        ([30, 7.25, "X", "m", 2], 'instances[1][2]: "X" is not one of C, Q, S'),
        ("S", "instances[1]: expected a list of 5 values or an object keyed by feature"),
    ],
)
def test_mixed_rejections_name_the_place(row: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_body({"instances": [PASSENGER, row]}, MIXED, 10)
    assert message in str(caught.value)


def test_a_long_category_list_is_cut_in_messages() -> None:
    schema = InputSchema([Feature("code", CATEGORICAL, categories=[f"c{i}" for i in range(50)])])
    with pytest.raises(InvalidInput, match=r"c19, \.\.\. \(50 in all\)$"):
        schema.parse_row(["zz"], "features")


def row_by_row(instances: list[Any], schema: InputSchema) -> Any:
    """What the row checks make of a batch: the reference the whole-batch passes must meet."""
    rows = [schema.parse_row(row, f"instances[{i}]") for i, row in enumerate(instances)]
    if not schema.all_numeric or len(rows) <= PURE_PYTHON_ROWS:
        return rows
    return np.array([[math.nan if v is None else v for v in row] for row in rows])


def outcome(parse: Any, instances: list[Any], schema: InputSchema) -> Any:
    """The parsed rows (each cell with its type), or the error's message."""
    try:
        rows = parse(instances, schema)
    except InvalidInput as exc:
        return str(exc)
    if isinstance(rows, np.ndarray):
        return rows.shape, rows.tobytes()
    return [[(type(cell), cell) for cell in row] for row in rows]


NULLABLE = InputSchema([Feature("a", nullable=True), Feature("b"), Feature("c", nullable=True)])
TEXT = InputSchema(  # floats and text categories as sent need no conversion
    [
        Feature("age", nullable=True),
        Feature("embarked", CATEGORICAL, categories=["C", "Q", "S"]),
        Feature("sex", CATEGORICAL, nullable=True, categories=["f", "m"], unknown="ignore"),
    ]
)
FAULTS: list[tuple[InputSchema, list[Any], list[Any]]] = [
    (IRIS, ROW, ["abc", True, False, None, [1], {"a": 1}, 10**400, 1e308 * 10, 2**80]),
    (NULLABLE, [1.5, -2, None], ["x", True, None, 10**400, -1e308 * 10, 10**20, 0]),
    (MIXED, [30, 7.25, "S", "m", 2], ["X", None, 3, True, 2.0, "2", 10**400, "C", 1e400]),
    (TEXT, [30.5, "S", "m"], ["X", None, 3, True, 2.0, 7, "C", 1e400, "f", 10**400]),
]
SHAPES = [
    None,
    [1, 2, 3],
    [1, 2, 3, 4, 5],
    "abc",
    "abcd",
    "abcde",
    dict(zip(NAMES, ROW, strict=True)),
    PASSENGER,
    {"a": 1, "b": 2, "c": None},
    5,
]


def parsed_as_row_by_row(instances: list[Any], schema: InputSchema) -> None:
    expected = outcome(row_by_row, instances, schema)
    assert outcome(lambda i, s: parse_instances(i, s, 100), instances, schema) == expected


@pytest.mark.parametrize(("schema", "good", "cells"), FAULTS)
def test_every_cell_and_row_in_a_large_batch_parses_as_row_by_row(
    schema: InputSchema, good: list[Any], cells: list[Any]
) -> None:
    """Each cell value in each column, and each row shape, in a large batch of lists or of
    objects: the same rows (bit for bit, cell types included) or the same error as the row
    checks."""
    named = dict(zip(schema.names, good, strict=True))
    for column, name in enumerate(schema.names):
        for cell in cells:
            instances = [list(good) for _ in range(12)]
            instances[7][column] = cell
            parsed_as_row_by_row(instances, schema)
            parsed_as_row_by_row([named] * 7 + [{**named, name: cell}] * 5, schema)
        others = {key: value for key, value in named.items() if key != name}
        for shape in (others, {**others, "zz": 1}, {**named, "zz": 1}, list(good)):
            parsed_as_row_by_row([named] * 10 + [shape], schema)
    for shape in SHAPES:
        parsed_as_row_by_row([list(good)] * 10 + [shape], schema)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize(("schema", "good", "cells"), FAULTS)
def test_a_large_batch_with_faults_anywhere_parses_as_row_by_row(
    seed: int, schema: InputSchema, good: list[Any], cells: list[Any]
) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(9, 60))
    instances = [list(good) for _ in range(n)]
    for _ in range(int(rng.integers(1, 4))):
        row, column = int(rng.integers(n)), int(rng.integers(len(good)))
        if rng.random() < 0.2:
            instances[row] = SHAPES[int(rng.integers(len(SHAPES)))]
        else:
            instances[row][column] = cells[int(rng.integers(len(cells)))]
    parsed_as_row_by_row(instances, schema)


def test_a_large_valid_batch_takes_the_whole_batch_passes() -> None:
    """Ints become floats, a category keeps its trained spelling, null stays missing."""
    mixed = parse_instances([[None, 7, "C", None, 3.0]] * 9, MIXED, 100)
    assert mixed == [[None, 7.0, "C", None, 3]] * 9
    assert isinstance(mixed, list)
    assert [type(cell) for cell in mixed[8]] == [type(None), float, str, type(None), int]
    numbers = parse_instances([[None, 1, 2**53 + 1]] * 9, NULLABLE, 100)
    assert isinstance(numbers, np.ndarray)
    assert numbers[8, 2] == float(2**53 + 1)
    assert math.isnan(numbers[0, 0])


def test_a_large_batch_of_objects_follows_schema_order_whatever_their_key_order() -> None:
    backwards = dict(reversed(list(zip(NAMES, ROW, strict=True))))
    assert parse_instances([backwards] * 9, IRIS, 100).tolist() == [ROW] * 9
    passenger = dict(reversed(PASSENGER.items()))
    assert parse_instances([passenger] * 9, MIXED, 100) == [[30.0, 7.25, "S", "m", 2]] * 9


def test_a_large_batch_of_one_feature_objects() -> None:
    schema = InputSchema([Feature("x", nullable=True)])
    rows = parse_instances([{"x": 1}] * 9 + [{"x": None}], schema, 100)
    assert isinstance(rows, np.ndarray)
    assert rows[:9].tolist() == [[1.0]] * 9
    assert math.isnan(rows[9, 0])
    with pytest.raises(InvalidInput, match=r'instances\[9\]: unknown feature "y"'):
        parse_instances([{"x": 1}] * 9 + [{"y": 1}], schema, 100)


# --- hypothesis: the whole-batch pass and the per-cell checks are one path -------------------

SCHEMAS = [IRIS, NULLABLE, MIXED, TEXT, InputSchema([Feature("x", nullable=True)])]
#: Values no feature takes as they are: wrong types, non-finite or huge numbers, unknown
#: categories, null (refused where not nullable).
FAULTY = ["abc", "X", "2", "", True, False, None, [1], {"a": 1}, 10**400, math.inf, math.nan, 7]


def taken(feature: Feature) -> list[Any]:
    """Values ``feature`` takes, in every spelling: ints and floats, large ints, numeric
    categories spelt as floats, null where nullable, an unknown category where ignored."""
    if feature.type == NUMERIC:
        values: list[Any] = [1.5, -2, 0, 0.0, 2**53 + 1, 10**20, -1e300, 5e-324]
    else:
        categories = feature.categories or []
        values = [*categories, *(float(c) for c in categories if type(c) is int)]
        if feature.unknown == "ignore":
            values.append("zz" if all(type(c) is str for c in categories) else 99)
    return [*values, None] if feature.nullable else values


@st.composite
def rows_of(draw: st.DrawFn, schema: InputSchema, as_object: bool) -> Any:
    """One row the schema takes: a list, or an object keyed by feature name in any order."""
    cells = {f.name: draw(st.sampled_from(taken(f))) for f in schema.features}
    if not as_object:
        return list(cells.values())
    return {name: cells[name] for name in draw(st.permutations(schema.names))}


@st.composite
def faulty(draw: st.DrawFn, row: Any) -> Any:
    """``row`` with one fault: a cell no feature takes, a cell or key missing, extra or
    renamed, or not a row at all."""
    fault = draw(st.sampled_from(["cell"] * 4 + ["missing", "extra", "renamed", "not a row"]))
    if fault == "not a row" or not isinstance(row, list | dict) or not row:
        return draw(st.sampled_from([None, 5, "abc", [], {}, [row]]))
    keys = list(row) if isinstance(row, dict) else list(range(len(row)))
    changed = row.copy()
    if fault == "cell":
        changed[draw(st.sampled_from(keys))] = draw(st.sampled_from(FAULTY))
        return changed
    gone = draw(st.sampled_from(keys))
    value = changed[gone]
    if fault != "extra":
        del changed[gone]
    if fault != "missing":
        extra = value if fault == "renamed" else draw(st.sampled_from(FAULTY))
        if isinstance(changed, dict):
            changed["zz"] = extra
        else:
            changed.append(extra)
    return changed


@st.composite
def batches(draw: st.DrawFn) -> tuple[InputSchema, list[Any]]:
    """A schema and a batch of its rows, a few or many, lists, objects or both, with up to
    three faults anywhere."""
    schema = draw(st.sampled_from(SCHEMAS))
    n = draw(st.sampled_from([1, 2, PURE_PYTHON_ROWS, PURE_PYTHON_ROWS + 1, 12, 30]))
    style = draw(st.sampled_from(["list", "object", "both"]))
    batch = [
        draw(rows_of(schema, draw(st.booleans()) if style == "both" else style == "object"))
        for _ in range(n)
    ]
    faults = st.lists(st.integers(0, n - 1), min_size=1, max_size=3)
    for i in draw(st.one_of(st.just([]), faults)):
        batch[i] = draw(faulty(batch[i]))
    return schema, batch


@settings(max_examples=600)
@given(case=batches())
def test_any_batch_parses_as_each_row_alone(case: tuple[InputSchema, list[Any]]) -> None:
    """The error of the first row refused alone, exactly; or the same cells as each row
    alone (an array bit for bit where a large numeric batch becomes one)."""
    schema, batch = case
    parsed_as_row_by_row(batch, schema)


@settings(max_examples=300)
@given(data=st.data())
def test_one_row_is_checked_as_its_cells_are(data: st.DataObject) -> None:
    """One list row of the schema's width: the cells each feature's check gives it, or the
    error of its first refused cell."""
    schema = data.draw(st.sampled_from(SCHEMAS))
    row = [
        data.draw(st.sampled_from(taken(feature) + FAULTY), label=feature.name)
        for feature in schema.features
    ]
    by_hand = outcome(each_check, [row], schema)
    assert outcome(lambda rows, _: [schema.parse_row(rows[0], "f")], [row], schema) == by_hand


def each_check(rows: list[list[Any]], schema: InputSchema) -> list[list[Any]]:
    """Each feature's check on its cell of the one row, placed as ``parse_row`` places it."""
    cells = zip(rows[0], schema.checks, strict=True)
    return [[check(value, f"f[{i}]") for i, (value, check) in enumerate(cells)]]


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_nan_float_in_a_nullable_column_of_a_large_batch_is_refused_as_alone(bad: float) -> None:
    """Only a null is missing: a NaN float (another caller than JSON could hand one over) is
    refused by the whole-batch pass exactly as the row alone is."""
    schema = InputSchema([Feature("a", nullable=True), Feature("b")])
    rows: list[Any] = [[1.5, 2.0]] * 11 + [[None, 2.0]]
    rows = [*rows[:5], [bad, 2.0], *rows[5:]]
    with pytest.raises(InvalidInput) as alone:
        schema.parse_row(rows[5], "instances[5]")
    with pytest.raises(InvalidInput) as batch:
        parse_instances(rows, schema, 100)
    assert (
        str(batch.value)
        == str(alone.value)
        == "instances[5][0]: expected a finite number, got " + ("nan" if math.isnan(bad) else "inf")
    )
    assert np.isnan(parse_instances(rows[:5] + rows[6:], schema, 100)[-1][0])


WORDS = InputSchema(
    [Feature("review", "text", unknown="ignore"), Feature("n"), Feature("note", "text", True)]
)


@pytest.mark.parametrize("rows", [1, 3, 20], ids=["one", "few", "many"])
def test_a_text_feature_takes_any_string_as_it_is(rows: int) -> None:
    batch = [["a sentence never seen", 2, None], {"review": "", "n": 1.5, "note": "ok"}] * rows
    parsed = parse_instances(batch[:rows], WORDS, 100)
    assert parsed == [["a sentence never seen", 2.0, None], ["", 1.5, "ok"]] * (rows // 2) + (
        [["a sentence never seen", 2.0, None]] if rows % 2 else []
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ([3, 1, "x"], "instances[0][0]: expected a text (a string), got 3"),
        ([None, 1, "x"], "instances[0][0]: expected a text (a string), got null"),
        (
            {"review": ["a"], "n": 1, "note": None},
            'instances[0].review: expected a text (a string), got ["a"]',
        ),
    ],
)
def test_a_text_feature_refuses_what_is_not_a_string(row: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_instances([row, ["fine", 1, None]], WORDS, 100)
    assert str(refused.value) == message
