"""moto's expression handling, made cheaper for the demo and the tests; answers unchanged.

moto reads a request's expressions again on every call, and each step gives the same result for the
same text every time (tests/integration/test_link_graph_promises.py[dynamodb], profiled: 2,125
UpdateItems spent 22 of their 42 s in the update expression's validation, 8 s lexing condition
expressions and 3 s parsing update expressions):

* **An update expression is parsed once per text.** ``UpdateExpressionParser.make`` builds a tree
  from the text alone. moto only reads the tree it returns (``find_clauses``) or validates a
  ``deepcopy`` of it (``Validator.__init__``), so one tree per text serves every call. An invalid
  text raises each time, as before (nothing is kept for it).
* **A condition expression is lexed once per text.** ``ConditionExpressionParser`` cuts the text
  into tokens with a dozen regular expressions per token before it reads the names and values of the
  request; the tokens depend on the text alone. Each call gets its own deque of tokens with their own
  (empty) child lists, as moto's lexer gives.
* **A tree walker builds its node table once.** moto's ``DepthFirstTraverser`` asks
  ``_processing_map()`` for a new dict (of the walker's own bound methods) at every node it visits,
  twice: ten walkers run over each update expression. Here each walker builds it once, and its
  walk asks which node classes are nodes, and which processor takes them, once per class.
* **A condition is parsed once per text and names map** (profilesync.moto_condition), and an
  update expression's validation copies its tree cheaply and runs the checks of the expression
  alone once (profilesync.moto_validate).

Applied by ``profilesync.local_moto.model_moto_costs``; tests/unit/test_moto_parse.py checks that
moto still has what they replace and that moto's answers and errors are the same with them.
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache
from typing import Any

#: Distinct expression texts kept; profilesync sends a few dozen.
TEXTS_KEPT = 512


def patch_expression_parsing() -> None:
    """Parse, lex and walk moto's expressions with the work done once (see the module docstring)."""
    from profilesync.moto_condition import patch_condition_parser
    from profilesync.moto_validate import patch_update_validator

    _patch_update_parser()
    _patch_condition_lexer()
    _patch_tree_walkers()
    patch_condition_parser()
    patch_update_validator()


def _patch_update_parser() -> None:
    import moto.dynamodb.parsing.expressions as expressions

    UpdateExpressionParser: Any = getattr(expressions, "UpdateExpressionParser")  # noqa: B009, N806
    make = UpdateExpressionParser.make.__func__

    @lru_cache(maxsize=TEXTS_KEPT)
    def parsed(expression: str) -> Any:
        return make(UpdateExpressionParser, expression)

    def make_once(cls: Any, expression: str) -> Any:
        if cls is not UpdateExpressionParser or not isinstance(expression, str):
            return make(cls, expression)
        return parsed(expression)

    setattr(make_once, "__wrapped__", make)  # noqa: B010
    UpdateExpressionParser.make = classmethod(make_once)


def _patch_condition_lexer() -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser

    lex = ConditionExpressionParser._lex_condition_expression

    @lru_cache(maxsize=TEXTS_KEPT)
    def tokens(expression: str) -> tuple[Any, ...]:
        parser = ConditionExpressionParser.__new__(ConditionExpressionParser)
        parser.condition_expression = expression
        return tuple(lex(parser))

    def lex_once(self: Any) -> deque[Any]:
        expression = self.condition_expression
        if not isinstance(expression, str):
            return lex(self)
        return deque(token._replace(children=list(token.children)) for token in tokens(expression))

    setattr(lex_once, "__wrapped__", lex)  # noqa: B010
    ConditionExpressionParser._lex_condition_expression = lex_once  # type: ignore[method-assign]


_TABLE = "_profilesync_processing_map"


def _patch_tree_walkers() -> None:
    import moto.dynamodb.parsing.ast_nodes as ast_nodes

    DepthFirstTraverser: Any = getattr(ast_nodes, "DepthFirstTraverser")  # noqa: B009, N806

    def table(self: Any) -> tuple[tuple[Any, ...], tuple[tuple[Any, Any], ...]]:
        found: tuple[tuple[Any, ...], tuple[tuple[Any, Any], ...]] | None = self.__dict__.get(_TABLE)
        if found is None:
            entries = tuple(self._processing_map().items())
            found = self.__dict__[_TABLE] = (tuple(key for key, _ in entries), entries)
        return found

    original_kinds = DepthFirstTraverser.nodes_to_be_processed
    original_process = DepthFirstTraverser.process

    def nodes_to_be_processed(self: Any) -> tuple[Any, ...]:
        return table(self)[0]

    def process(self: Any, node: Any) -> Any:
        for kind, processor in table(self)[1]:
            if isinstance(node, kind):
                return processor(node)
        return None

    setattr(nodes_to_be_processed, "__wrapped__", original_kinds)  # noqa: B010
    setattr(process, "__wrapped__", original_process)  # noqa: B010
    DepthFirstTraverser.nodes_to_be_processed = nodes_to_be_processed
    DepthFirstTraverser.process = process
    _patch_walk(getattr(ast_nodes, "Node"), DepthFirstTraverser, table)  # noqa: B009


_BY_KIND = "_profilesync_processor_by_kind"
_WALK = ("traverse_node_recursively", "process", "nodes_to_be_processed")


def _patch_walk(node_class: Any, walker: Any, table: Any) -> None:
    """moto's walk with its two ``isinstance`` tests per node (abc's, slow) answered once per
    node class: whether it is a node, and which processor of the walker takes it (the first of its
    table whose class it is, as ``process`` picks)."""
    import moto.dynamodb.parsing.validators  # noqa: F401 - the walkers whose methods are checked

    pending, overriding = list(walker.__subclasses__()), []
    while pending:
        subclass = pending.pop()
        pending.extend(subclass.__subclasses__())
        overriding += [f"{subclass.__name__}.{name}" for name in _WALK if name in subclass.__dict__]
    if overriding:
        raise RuntimeError(f"moto's tree walkers have changed ({overriding}): update {__name__}")
    original = walker.traverse_node_recursively
    is_node: dict[type, bool] = {}

    def processor_of(self: Any, kind: type) -> Any:
        by_kind: dict[type, Any] | None = self.__dict__.get(_BY_KIND)
        if by_kind is None:
            by_kind = self.__dict__[_BY_KIND] = {}
        if kind not in by_kind:
            by_kind[kind] = next((p for k, p in table(self)[1] if issubclass(kind, k)), None)
        return by_kind[kind]

    def traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
        kind = type(node)
        known = is_node.get(kind)
        if known is None:
            known = is_node[kind] = isinstance(node, node_class)
        if known:
            parent_node = node.parent
            if node.children is not None:
                for i, child_node in enumerate(node.children):
                    self.pre_processing_of_child(node, i)
                    self.traverse_node_recursively(child_node, i)
            processor = processor_of(self, kind)
            if processor is not None:
                node = processor(node)
                node.parent = parent_node
                if parent_node:
                    parent_node.children[child_id] = node
        return node

    setattr(traverse_node_recursively, "__wrapped__", original)  # noqa: B010
    walker.traverse_node_recursively = traverse_node_recursively


__all__ = ["TEXTS_KEPT", "patch_expression_parsing"]
