"""moto's expressions with the work kept per text (profilesync.moto_parse, moto_condition,
moto_validate) against moto's own code, on expressions hypothesis writes: conditions, filters and
update expressions, valid or not (names or values missing, reserved words, key attributes, clauses
twice, overlapping paths, type mismatches), each sent twice with different values so that the
second call reads what the first kept. Answers, errors (type and message) and the item left must
be moto's own."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from profilesync.embedded import dynamodb_client
from profilesync.local import model_moto_costs
from tests.hypothesis_profiles import examples
from tests.unit.test_moto_parse import create_table, moto_s_own_code

TABLE = "generated"
KEY = {"PK": {"S": "CUSTOMER#a"}, "SK": {"S": "PROFILE"}}
ITEM = {
    **KEY,
    "label": {"S": "ada lovelace"},
    "version": {"N": "2"},
    "tags": {"L": [{"S": "a"}, {"S": "b"}]},
    "m": {"M": {"a": {"N": "1"}, "b": {"S": "x"}}},
    "ss": {"SS": ["x", "y"]},
}
NAMES = {"#l": "label", "#v": "version", "#t": "tags", "#m": "m", "#pk": "PK"}
OTHER_NAMES = {
    "#l": "version",
    "#v": "label",
    "#t": "m",
    "#m": "tags",
    "#pk": "pk2",
}  # what a kept text must not keep
#: Each request is sent with these names maps and values (n) in turn.
CALLS = ((OTHER_NAMES, 1), (NAMES, 5), (None, 7), (NAMES, 9), (OTHER_NAMES, 3))
PATHS = ["label", "version", "tags", "m.a", "m.b", "tags[0]", "ss", "absent", "#l", "#v", "#m.a", "#t[1]"]
ODD_PATHS = ["name", "#missing", "PK", "#pk", "tags[x]", "m..a"]  # reserved, not given, key, malformed
VALUES = [":s", ":n", ":l", ":ss", ":t"]


def _values(n: int) -> dict[str, Any]:
    return {
        ":s": {"S": f"ada{n}"},
        ":n": {"N": str(n)},
        ":l": {"L": [{"S": f"c{n}"}]},
        ":ss": {"SS": [f"z{n}"]},
        ":t": {"S": "N"},
    }


_path = st.one_of(st.sampled_from(PATHS), st.sampled_from(ODD_PATHS))
_value = st.sampled_from([*VALUES, ":missing"])
_operand = st.one_of(_path, _value, _path.map(lambda p: f"size({p})"))


def _comparison(draw: Any) -> str:
    return f"{draw(_operand)} {draw(st.sampled_from(['=', '<>', '<', '<=', '>', '>=']))} {draw(_operand)}"


@st.composite
def _simple(draw: Any) -> str:
    kind = draw(
        st.sampled_from(["cmp", "exists", "not_exists", "begins", "contains", "type", "between", "in"])
    )
    if kind == "cmp":
        return _comparison(draw)
    if kind in ("exists", "not_exists"):
        return f"attribute_{'not_' if kind == 'not_exists' else ''}exists({draw(_path)})"
    if kind in ("begins", "contains"):
        return f"{'begins_with' if kind == 'begins' else 'contains'}({draw(_operand)}, {draw(_operand)})"
    if kind == "type":
        return f"attribute_type({draw(_path)}, {draw(_value)})"
    if kind == "between":
        return f"{draw(_operand)} BETWEEN {draw(_operand)} AND {draw(_operand)}"
    return f"{draw(_operand)} IN ({draw(_operand)}, {draw(_operand)})"


_condition = st.recursive(
    _simple(),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["AND", "OR"]), inner).map(" ".join),
        inner.map(lambda c: f"NOT {c}"),
        inner.map(lambda c: f"({c})"),
    ),
    max_leaves=4,
)
_garbage = st.sampled_from(
    ["version <<< :n", "(label = :s", "label = :s)", "AND label = :s", "size(:n) = :n", ""]
)


@st.composite
def _action(draw: Any) -> tuple[str, str]:
    clause = draw(st.sampled_from(["SET", "SET", "REMOVE", "ADD", "DELETE"]))
    path = draw(_path)
    if clause == "SET":
        right = draw(
            st.sampled_from(
                [
                    "{v}",
                    "{p} + {v}",
                    "{p} - {v}",
                    "if_not_exists({p}, {v})",
                    "list_append({p}, {v})",
                    "list_append({v}, {p})",
                ]
            )
        )
        return clause, f"{path} = {right.format(p=draw(_path), v=draw(_value))}"
    if clause == "REMOVE":
        return clause, path
    return clause, f"{path} {draw(_value)}"


@st.composite
def _update(draw: Any) -> str:
    actions = draw(st.lists(_action(), min_size=1, max_size=4))
    if draw(st.booleans()):  # one clause per kind, as DynamoDB asks
        grouped: dict[str, list[str]] = {}
        for clause, action in actions:
            grouped.setdefault(clause, []).append(action)
        return " ".join(f"{clause} {', '.join(body)}" for clause, body in grouped.items())
    return " ".join(f"{clause} {action}" for clause, action in actions)  # clauses may come twice


def _used(mapping: dict[str, Any] | None, *texts: str | None) -> dict[str, Any] | None:
    """The entries the texts name (moto, as DynamoDB, refuses a map with an entry left unused)."""
    if mapping is None:
        return None
    named = set(re.findall(r"[#:]\w+", " ".join(text or "" for text in texts)))
    return {key: value for key, value in mapping.items() if key in named}


def _answer(call: Callable[[], Any]) -> Any:
    try:
        result = call()
    except ClientError as error:
        return ("error", error.response["Error"]["Code"], error.response["Error"]["Message"])
    except Exception as error:
        return ("error", type(error).__name__, str(error))
    result.pop("ResponseMetadata", None)
    return result


def _both(requests: Callable[[Any, dict[str, str] | None, int], list[Any]]) -> tuple[list[Any], list[Any]]:
    """The requests' answers with the kept work and with moto's own code, each sent with the names
    and values of CALLS in turn (a later call reads what an earlier one kept)."""
    with mock_aws():
        client = dynamodb_client()
        create_table(client, TABLE)
        patched = [requests(client, names, n) for names, n in CALLS]
    with mock_aws(), moto_s_own_code():
        client = dynamodb_client()
        create_table(client, TABLE)
        own = [requests(client, names, n) for names, n in CALLS]
    return patched, own


def _condition_requests(condition: str) -> Callable[[Any, dict[str, str] | None, int], list[Any]]:
    def send(client: Any, names: dict[str, str] | None, n: int) -> list[Any]:
        client.put_item(TableName=TABLE, Item=ITEM)
        maps: dict[str, Any] = {"ExpressionAttributeValues": _used(_values(n), condition, ":n")}
        if names is not None:
            maps["ExpressionAttributeNames"] = _used(names, condition)
        update = {"UpdateExpression": "SET touched = :n", "ConditionExpression": condition}
        return [
            _answer(
                lambda: client.update_item(TableName=TABLE, Key=KEY, **update, **maps, ReturnValues="ALL_NEW")
            ),
            _answer(lambda: client.scan(TableName=TABLE, FilterExpression=condition, **maps)),
            _answer(
                lambda: client.delete_item(
                    TableName=TABLE,
                    Key=KEY,
                    ConditionExpression=condition,
                    **maps,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            ),
            _answer(lambda: client.get_item(TableName=TABLE, Key=KEY)),
        ]

    return send


# Each example builds two moto tables (about 0.35 s of CPU): 10 conditions and 5 updates in ``ci``
# (5 updates still fail when moto_validate walks the kept tree itself, not its copy), 30 in ``deep``.
_SETTINGS = settings(
    max_examples=examples(ci=10, deep=30), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
_UPDATE_SETTINGS = settings(_SETTINGS, max_examples=examples(ci=5, deep=30))


@_SETTINGS
@given(condition=st.one_of(_condition, _garbage))
def test_conditions_and_filters_answer_as_moto_s_own(condition: str) -> None:
    model_moto_costs()
    patched, own = _both(_condition_requests(condition))
    assert patched == own


@_UPDATE_SETTINGS
@given(update=_update(), condition=st.one_of(st.none(), _condition))
def test_update_expressions_answer_as_moto_s_own(update: str, condition: str | None) -> None:
    model_moto_costs()

    def send(client: Any, names: dict[str, str] | None, n: int) -> list[Any]:
        client.put_item(TableName=TABLE, Item=ITEM)
        values = _used(_values(n), update, condition)
        request: dict[str, Any] = {"UpdateExpression": update, "ExpressionAttributeValues": values}
        if names is not None:
            request["ExpressionAttributeNames"] = _used(names, update, condition)
        if condition is not None:
            request["ConditionExpression"] = condition
        other = {**KEY, "SK": {"S": f"NEW#{n}"}}  # an item the update creates
        change = {"TableName": TABLE, "Key": other, **request}
        return [
            _answer(lambda: client.update_item(TableName=TABLE, Key=KEY, **request, ReturnValues="ALL_NEW")),
            _answer(lambda: client.transact_write_items(TransactItems=[{"Update": change}])),
            _answer(lambda: client.get_item(TableName=TABLE, Key=KEY)),
            _answer(lambda: client.get_item(TableName=TABLE, Key=other)),
        ]

    patched, own = _both(send)
    assert patched == own
