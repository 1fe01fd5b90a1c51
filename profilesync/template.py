"""Read template.yaml and create its DynamoDB table anywhere (moto, DynamoDB Local, AWS).

Tests and the embedded store build the table from the template's own definition, so what runs
locally has the key schema that is deployed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from profilesync.resources import resource

TEMPLATE_PATH = resource("template.yaml")


#: libyaml's parser where PyYAML was built with it: the template (65 KB) read in 0.03 s instead of
#: 0.33 s, paid by every process that creates a table (``--endpoint-url``, the local runtime).
try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _CfnLoader(_SafeLoader):
    """A YAML loader that understands CloudFormation short tags (!Ref, !Sub, !GetAtt, ...)."""


def _cfn_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


@lru_cache(maxsize=4)
def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain data, short tags turned into their long form."""
    with open(path, encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)
    return data


def table_definition(logical_id: str = "ProfilesTable", path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The ``Properties`` of the table resource in the template."""
    resource = load_template(path)["Resources"][logical_id]
    if resource["Type"] != "AWS::DynamoDB::Table":
        raise ValueError(f"{logical_id} in {path} is a {resource['Type']}, not a DynamoDB table")
    properties: dict[str, Any] = resource["Properties"]
    return properties


def create_table(client: Any, table_name: str, logical_id: str = "ProfilesTable") -> str:
    """Create the template's table under ``table_name`` with the boto3 client given; return its name.

    Key schema, attributes, billing mode, stream and TTL come from the template; properties that an
    emulator cannot honour (PITR, SSE with a customer key, deletion protection) are left out.
    """
    props = table_definition(logical_id)
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    stream = props.get("StreamSpecification")
    if stream:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    for index_kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if index_kind in props:
            kwargs[index_kind] = props[index_kind]
    client.create_table(**kwargs)
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1})
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
    return table_name
