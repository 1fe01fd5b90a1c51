"""Reading configuration documents (YAML or JSON) so that a key written twice is an error.

``yaml.safe_load`` and ``json.loads`` both keep the last of two equal keys without a word: a
threshold pasted below an old one (``EUR: 1000`` ... ``EUR: 5``) silently becomes 5, and every buyer
``vip`` (attack22). Every document profilesync reads (profilesync.yaml, a role policy) goes through
these, which raise ``ValueError`` naming the repeated key (and its line, for YAML).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["load_json", "load_yaml"]


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} is written twice in one mapping; keep one")
        out[key] = value
    return out


def load_json(text: str) -> Any:
    """``json.loads`` that raises ValueError on a key written twice in one object. A leading UTF-8
    byte order mark (written by some Windows editors) is skipped, as the YAML reader skips it."""
    return json.loads(
        text.removeprefix("\ufeff"),
        object_pairs_hook=_no_repeats,
        parse_float=lambda written: WrittenFloat.of(float(written), written),
    )


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` that raises ``yaml.YAMLError`` on a key written twice in one mapping."""
    import yaml  # imported here: only YAML documents need it

    return yaml.load(text, Loader=_loader())


_LOADER: Any = None


def _loader() -> Any:
    global _LOADER
    if _LOADER is None:
        import yaml
        from yaml.constructor import ConstructorError

        class NoRepeatsLoader(yaml.SafeLoader):
            def construct_mapping(self, node: Any, deep: bool = False) -> Any:
                if isinstance(node, yaml.MappingNode):
                    seen: set[Any] = set()
                    merges: list[Any] = []
                    for key_node, value_node in node.value:  # its own keys: a merge (<<) may be overridden
                        if key_node.tag == "tag:yaml.org,2002:merge":
                            merges.append(value_node)
                            continue
                        key = self.construct_object(key_node, deep=True)
                        try:
                            repeated = key in seen
                        except TypeError:  # an unhashable key: SafeLoader says so itself
                            break
                        if repeated:
                            raise ConstructorError(
                                "while reading a mapping",
                                node.start_mark,
                                f"the key {key!r} is written twice; keep one",
                                key_node.start_mark,
                            )
                        seen.add(key)
                    self._check_merged(node, merges, seen)
                return super().construct_mapping(node, deep=deep)

            def _check_merged(self, node: Any, merges: list[Any], own: set[Any]) -> None:
                """Each merged mapping read as a mapping of its own (a key twice in it is an error),
                and a key two merged mappings both give, which the mapping's own keys do not
                override, refused: YAML's merge spec keeps the first, PyYAML the last, so which one
                is in force is not clear from the document."""
                given: set[Any] = set()
                for merge in merges:
                    parts = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
                    for part in parts:
                        if not isinstance(part, yaml.MappingNode):
                            continue  # SafeLoader's flatten_mapping refuses it with its own message
                        for key in self.construct_mapping(part, deep=True):
                            if key in given and key not in own:
                                raise ConstructorError(
                                    "while reading a mapping",
                                    node.start_mark,
                                    f"the key {key!r} is given by two merged mappings (<<); write it once "
                                    "in the mapping itself to say which value holds",
                                    part.start_mark,
                                )
                            given.add(key)

        _plain_numbers_only(NoRepeatsLoader)
        _LOADER = NoRepeatsLoader
    return _LOADER


#: The plain scalars read as numbers: decimal integers without a leading zero and decimal floats
#: (YAML 1.2's core schema, less its octal and hexadecimal forms). YAML 1.1, which ``SafeLoader``
#: follows, reads ``0123`` as octal 83 and ``1:30`` as sexagesimal 90: an unquoted list id of digits
#: or a duration written as hours and minutes silently became another value (attack23). Those now
#: stay the text written, so an option keeps it and a duration refuses it by name.
#: A float is YAML 1.2's: its exponent's sign may be left out (``1.5e3`` is ``1.5e+3``, 1500.0; YAML
#: 1.1 wanted the sign, so ``1.5e3`` stayed text while ``1.5e+3`` was a number: revA29), and a sign
#: may lead ``.5``. Two choices stricter than the core schema, as for integers, where a number and
#: an id of digits look alike: a float's integer part has no leading zero (``01.5`` stays text, as
#: ``0123`` does, where the core schema reads 1.5), and an exponent needs the decimal point
#: (``1e3`` stays text: a hexadecimal id such as a Mailchimp list's ``12345e6789`` is no number).
_INT = r"[-+]?(?:0|[1-9][0-9_]*)"
_EXPONENT = r"(?:[eE][-+]?[0-9]+)?"
_FLOAT = (
    rf"[-+]?(?:0|[1-9][0-9_]*)\.[0-9_]*{_EXPONENT}|[-+]?\.[0-9][0-9_]*{_EXPONENT}"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)


class WrittenFloat(float):
    """A float read from a document that keeps the text written (``3.10``, ``1.0e+5``,
    ``999999999999999.99``): ``str`` gives it back, so an option is read as written and a money
    threshold's Decimal is the one written (attack30: ``api_version: 3.10`` became ``"3.1"``, and
    17 significant digits became 10**15 through the binary float's shortest text)."""

    text: str

    @classmethod
    def of(cls, value: float, text: str) -> WrittenFloat:
        made = cls(value)
        made.text = text
        return made

    def __str__(self) -> str:
        return self.text

    def __reduce__(self) -> tuple[Any, ...]:
        return (WrittenFloat.of, (float(self), self.text))


def _plain_numbers_only(loader: Any) -> None:
    import re

    import yaml

    numbers = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool"}
    loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in numbers]
        for first, resolvers in loader.yaml_implicit_resolvers.items()
    }
    loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(f"^(?:{_INT})$"), list("-+0123456789"))
    loader.add_implicit_resolver(
        "tag:yaml.org,2002:float", re.compile(f"^(?:{_FLOAT})$"), list("-+0123456789.")
    )
    # YAML 1.2's booleans only: YAML 1.1's yes/no/on/off/y/n made Norway's code NO (and an instance
    # named no:) False (attack30); they stay the text written
    loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile("^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )

    def written_float(constructor: Any, node: Any) -> WrittenFloat:
        return WrittenFloat.of(yaml.SafeLoader.construct_yaml_float(constructor, node), str(node.value))

    loader.add_constructor("tag:yaml.org,2002:float", written_float)
