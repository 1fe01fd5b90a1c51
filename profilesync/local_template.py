"""The local runtime's reading of template.yaml: its intrinsic functions (``Ref``, ``Fn::GetAtt``,
``Fn::Sub``, ``Fn::If`` and the conditions) and its parameters, for ``profilesync.local``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from profilesync.template import load_template

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


# --- the template's intrinsic functions -------------------------------------------------------------
class TemplateError(Exception):
    """The template uses something the local runtime cannot resolve."""


@dataclass(frozen=True)
class TemplateScope:
    """What ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub`` resolve to: parameter values and resources' names."""

    parameters: Mapping[str, str]
    refs: Mapping[str, str] = field(default_factory=dict)
    arns: Mapping[str, str] = field(default_factory=dict)
    conditions: Mapping[str, Any] = field(default_factory=dict)

    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": "profilesync-local",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def ref(self, name: str) -> str:
        for table in (self.pseudo(), self.parameters, self.refs):
            if name in table:
                return table[name]
        raise TemplateError(f"!Ref {name}: not a parameter or a resource the local runtime created")

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise TemplateError(f"condition {name} is not defined in the template")
        return bool(self.resolve(self.conditions[name]))

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function evaluated."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                resource, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
                if attribute == "Arn" and resource in self.arns:
                    return self.arns[resource]
                raise TemplateError(f"!GetAtt {resource}.{attribute} is not known locally")
            if key == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
                return self._sub(text, extra)
            if key == "Fn::If":
                name, yes, no = arg
                return self.resolve(yes if self.condition(name) else no)
            if key == "Fn::Equals":
                left, right = self.resolve(arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(a) for a in arg)
            if key == "Fn::Or":
                return any(self.resolve(a) for a in arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Join":
                separator, parts = arg
                return str(separator).join(str(p) for p in self.resolve(parts))
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, text: str, extra: Mapping[str, Any]) -> str:
        out: list[str] = []
        rest = text
        while "${" in rest:
            before, _, after = rest.partition("${")
            name, _, rest = after.partition("}")
            out.append(before)
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
            elif name in extra:
                out.append(str(extra[name]))
            elif "." in name:
                resource, attribute = name.split(".", 1)
                out.append(str(self.resolve({"Fn::GetAtt": [resource, attribute]})))
            else:
                out.append(self.ref(name))
        out.append(rest)
        return "".join(out)


def template_parameters(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The template's parameters at their defaults, with ``overrides``; unknown names are refused."""
    declared: dict[str, Any] = load_template()["Parameters"]
    values = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
    for name, value in (overrides or {}).items():
        if name not in declared:
            raise TemplateError(f"template.yaml has no parameter {name!r}")
        values[name] = value
    return values
