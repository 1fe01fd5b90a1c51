"""moto's expressions parsed once per text (profilesync.moto_parse): the same answers and errors as
moto's own code, the kept trees never changed by a call, and the work done once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from profilesync.embedded import dynamodb_client
from profilesync.local import model_moto_costs

TABLE = "parsed"
KEY = {"PK": {"S": "CUSTOMER#a"}, "SK": {"S": "PROFILE"}}
UPDATE = "SET #n = :n, version = if_not_exists(version, :zero) + :one, tags = list_append(if_not_exists(tags, :none), :t) ADD seen :one REMOVE gone"  # noqa: E501
ONE = {"N": "1"}
CONDITION = "attribute_not_exists(PK) OR (version < :limit AND begins_with(#n, :prefix))"


def _values(n: int) -> dict[str, Any]:
    return {
        ":n": {"S": f"name-{n}"},
        ":zero": {"N": "0"},
        ":one": {"N": "1"},
        ":none": {"L": []},
        ":t": {"L": [{"S": f"t{n}"}]},
        ":limit": {"N": "3"},
        ":prefix": {"S": "name"},
    }


def answer(call: Callable[[], Any]) -> Any:
    try:
        result = call()
    except ClientError as error:
        return ("error", error.response["Error"]["Code"], error.response["Error"]["Message"])
    except (ValueError, KeyError) as error:  # moto raises some refusals as they are, not as an AWS error
        return ("error", type(error).__name__, str(error))
    result.pop("ResponseMetadata", None)
    return result


def create_table(client: Any, name: str) -> None:
    """A table keyed as profilesync's (PK, SK)."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _requests(client: Any) -> list[Any]:
    """A run of requests whose answers depend on every patched step: updates that pass and fail
    their condition, in a transaction too, bad expressions, and reads with filters."""
    create_table(client, TABLE)
    names = {"#n": "name"}

    def update(n: int, expression: str = UPDATE, condition: str = CONDITION) -> Any:
        return answer(
            lambda: client.update_item(
                TableName=TABLE, Key=KEY, UpdateExpression=expression, ConditionExpression=condition,
                ExpressionAttributeNames=names, ExpressionAttributeValues=_values(n), ReturnValues="ALL_NEW",
            )
        )  # fmt: skip

    answers = [update(n) for n in range(5)]  # the 4th and 5th fail their condition (version 3)
    answers.append(update(9, expression="SET #n = :n SET #n = :one"))  # two SET clauses
    answers.append(update(9, expression="SET #n = = :n"))  # not an update expression
    answers.append(update(9, condition="version <<< :limit"))  # not a condition
    answers.append(update(9, condition="#missing = :one"))  # a name not given
    answers.append(update(9, expression="SET PK = :n"))  # a key attribute
    change = {"TableName": TABLE, "Key": KEY, "UpdateExpression": UPDATE, "ConditionExpression": CONDITION}
    change |= {"ExpressionAttributeNames": names, "ExpressionAttributeValues": _values(7)}
    check = {"TableName": TABLE, "Key": {**KEY, "SK": {"S": "OTHER"}}}
    check["ConditionExpression"] = "attribute_not_exists(PK)"
    transaction = [{"Update": change}, {"ConditionCheck": check}]
    answers.append(answer(lambda: client.transact_write_items(TransactItems=transaction)))
    answers.append(
        answer(
            lambda: client.query(
                TableName=TABLE,
                KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
                FilterExpression="size(tags) > :one AND #n <> :n",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={
                    ":pk": KEY["PK"],
                    ":sk": {"S": "PRO"},
                    ":one": ONE,
                    ":n": {"S": "x"},
                },
            )
        )
    )
    answers.append(answer(lambda: client.get_item(TableName=TABLE, Key=KEY)))
    return answers


@contextmanager
def moto_s_own_code() -> Iterator[None]:
    """moto's own parsers, lexer, validator and tree walkers for the time of the block."""
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator, Validator

    patched = [
        (UpdateExpressionParser, "make"),
        (ConditionExpressionParser, "_lex_condition_expression"),
        (ConditionExpressionParser, "parse"),
        (DepthFirstTraverser, "nodes_to_be_processed"),
        (DepthFirstTraverser, "process"),
        (DepthFirstTraverser, "traverse_node_recursively"),
        (Validator, "__init__"),
        (UpdateExpressionValidator, "validate"),
    ]
    saved = [(owner, name, owner.__dict__[name]) for owner, name in patched]
    try:
        for owner, name, function in saved:
            inner = function.__func__ if isinstance(function, classmethod) else function
            original = inner.__wrapped__
            setattr(owner, name, classmethod(original) if isinstance(function, classmethod) else original)
        yield
    finally:
        for owner, name, function in saved:
            setattr(owner, name, function)


def _run(patched: bool) -> list[Any]:
    with mock_aws():
        if patched:
            return _requests(dynamodb_client())
        with moto_s_own_code():
            return _requests(dynamodb_client())


def test_answers_and_errors_are_moto_s_own() -> None:
    model_moto_costs()
    # WHEN the same requests are sent with the parsing done once, and with moto's own code
    patched, own = _run(patched=True), _run(patched=False)
    # THEN every answer and every error is the same
    assert patched == own
    # AND the run met what it is there for: updates done, conditions failed, expressions refused
    codes = [a[1] if isinstance(a, tuple) else "ok" for a in patched]
    failed = "ConditionalCheckFailedException"
    assert codes[:5] == ["ok", "ok", "ok", failed, failed]
    refused = ["ValidationException", "ValidationException", "ValueError", "KeyError", "ValidationException"]
    assert codes[5:10] == refused
    assert codes[10] == "TransactionCanceledException"
    assert patched[12]["Item"]["version"] == {"N": "3"}


def test_the_kept_trees_and_tokens_are_not_changed_by_the_calls_that_use_them() -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    model_moto_costs()
    make = UpdateExpressionParser.__dict__["make"].__func__
    kept = UpdateExpressionParser.make(UPDATE)
    before = _shape(kept)
    lexer = ConditionExpressionParser(CONDITION, {"#n": "name"}, _values(0))
    tokens = list(lexer._lex_condition_expression())
    _run(patched=True)
    # the tree handed out is the one kept, and it is as the parser made it
    assert UpdateExpressionParser.make(UPDATE) is kept
    assert _shape(kept) == before == _shape(make.__wrapped__(UpdateExpressionParser, UPDATE))
    # and the tokens are those moto's lexer gives, each call with its own
    again = ConditionExpressionParser(CONDITION, {"#n": "name"}, _values(1))._lex_condition_expression()
    own_lexer = ConditionExpressionParser._lex_condition_expression.__wrapped__  # type: ignore[attr-defined]
    assert list(again) == tokens == list(own_lexer(lexer))
    assert again[0].children is not tokens[0].children


def _shape(node: Any) -> Any:
    children = getattr(node, "children", None)
    if isinstance(children, list):
        return (type(node).__name__, [_shape(child) for child in children])
    return (type(node).__name__, repr(node) if not hasattr(node, "__dict__") else sorted(vars(node)))


def test_an_expression_is_tokenised_once_however_many_calls_send_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.tokens import ExpressionTokenizer

    model_moto_costs()
    update_text = "SET #n = :n, counted = :one"  # texts no other test sent
    condition_text = "attribute_not_exists(PK) OR version < :limit"
    tokenised: list[str] = []
    lexed: list[str] = []
    make_list = ExpressionTokenizer.make_list.__func__  # type: ignore[attr-defined]

    def spied_make_list(cls: Any, text: str) -> Any:
        tokenised.append(text)
        return make_list(cls, text)

    lex_one = ConditionExpressionParser._lex_one_node

    def spied_lex_one(self: Any, rest: str) -> Any:
        lexed.append(rest)
        return lex_one(self, rest)

    monkeypatch.setattr(ExpressionTokenizer, "make_list", classmethod(spied_make_list))
    monkeypatch.setattr(ConditionExpressionParser, "_lex_one_node", spied_lex_one)
    with mock_aws():
        client = dynamodb_client()
        _requests(client)
        for n in range(3):
            client.update_item(
                TableName=TABLE, Key={**KEY, "SK": {"S": f"N{n}"}}, UpdateExpression=update_text,
                ConditionExpression=condition_text, ExpressionAttributeNames={"#n": "name"},
                ExpressionAttributeValues={":n": {"S": f"n{n}"}, ":one": ONE, ":limit": {"N": "3"}},
            )  # fmt: skip
    assert tokenised.count(update_text) == 1
    assert lexed.count(condition_text) == 1


def test_a_condition_is_parsed_and_an_update_checked_once_per_text_and_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import moto.dynamodb.parsing.validators as validators
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.ast_nodes import Node

    model_moto_costs()
    condition = "attribute_exists(#k) AND #k <> :n"  # texts no other test sent
    update = "SET #k = :n, checked = :n"
    parsed: list[str] = []
    counted: list[Any] = []
    copied: list[Any] = []
    parse_paths = ConditionExpressionParser._parse_paths
    verify = validators.ActionCountValidator.verify_action_counts

    def spied_parse_paths(self: Any, nodes: Any) -> Any:
        parsed.append(self.condition_expression)
        return parse_paths(self, nodes)

    def spied_verify(self: Any, node: Any) -> Any:
        counted.append(node)
        return verify(self, node)

    monkeypatch.setattr(ConditionExpressionParser, "_parse_paths", spied_parse_paths)
    monkeypatch.setattr(validators.ActionCountValidator, "verify_action_counts", spied_verify)
    deepcopy = validators.deepcopy
    monkeypatch.setattr(validators, "deepcopy", lambda tree: copied.append(tree) or deepcopy(tree))
    with mock_aws():
        client = dynamodb_client()
        _requests(client)
        parsed.clear(), counted.clear()

        def send(names: dict[str, str], n: int) -> Any:
            return answer(
                lambda: client.update_item(
                    TableName=TABLE, Key=KEY, UpdateExpression=update, ConditionExpression=condition,
                    ExpressionAttributeNames=names, ExpressionAttributeValues={":n": {"S": f"n{n}"}},
                )
            )  # fmt: skip

        first = send({"#k": "name"}, 0)
        checked_first = len(counted)
        again = [send({"#k": "name"}, n) for n in (1, 2)]
        checked_again = len(counted) - checked_first
        refused = send({"#k": "SK"}, 3)  # the same texts, another names map: a key attribute
    assert not any(isinstance(a, tuple) for a in [first, *again])
    assert refused[:2] == ("error", "ValidationException")
    assert "SK" in refused[2]
    assert parsed == [condition, condition]  # once per names map, whatever the values
    assert checked_first > 0  # the expression's own checks ran once
    assert checked_again == 0
    assert len(counted) > checked_first  # and again for another names map
    assert not [tree for tree in copied if isinstance(tree, Node)]  # a tree is copied without deepcopy


def test_the_patches_fail_loudly_when_moto_s_internals_move(monkeypatch: pytest.MonkeyPatch) -> None:
    import moto.dynamodb.parsing.validators as validators
    from moto.dynamodb.comparisons import ConditionExpressionParser

    from profilesync.moto_condition import patch_condition_parser
    from profilesync.moto_validate import patch_update_validator

    monkeypatch.delattr(ConditionExpressionParser, "_make_op_condition")
    with pytest.raises(RuntimeError, match="ConditionExpressionParser has changed"):
        patch_condition_parser()
    monkeypatch.setattr(validators.UpdateExpressionValidator, "validate", lambda self: None, raising=False)
    with pytest.raises(RuntimeError, match="UpdateExpressionValidator has changed"):
        patch_update_validator()
