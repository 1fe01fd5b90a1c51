"""The base of the canonical schema's models: frozen pydantic models assembled without validation.

``_Frozen`` is what every model of core.schema derives from: ``assemble`` builds an instance from
values already valid (the hot paths), ``_MemoKey`` keeps a computed ``key`` in the instance, and
``__reduce__`` pickles an instance as its values (``_reassemble``). core.schema re-exports the names
other modules use (``assemble_model``, and ``_Frozen``, ``_ALL_FIELDS``, ``_reassemble`` for the
normalising worker's pickler).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Self, TypeVar, overload

from pydantic import BaseModel, ConfigDict

#: Per model class, the names of all its fields: the ``__pydantic_fields_set__`` of every assembled
#: instance. One set per class instead of one per instance: every field of an assembled instance is
#: set, and a frozen model never changes the set (pydantic copies it before ``model_copy`` adds to
#: it). A set per instance was a third of the objects the garbage collector had to walk in a sync.
_ALL_FIELDS: dict[type[BaseModel], set[str]] = {}

# The setters of BaseModel's four slots, looked up once: ``assemble`` runs about ten times per record,
# and going through ``object.__setattr__`` by name costs more than the rest of it.
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_new_object = object.__new__


class _MemoKey:
    """A ``key`` property worked out once per instance and kept in the instance's ``__dict__``.

    Keys (``email#ann@example.com``, ``hubspot:contact:123``) are read a dozen times per record on
    the hot path, and formatting the string each time was 5% of a sync. A non-data descriptor: once
    the value is in ``__dict__``, attribute lookup finds it there without calling this. pydantic
    leaves such entries alone: the serializer writes fields only, ``==`` and ``hash`` compare fields
    only (as for ``functools.cached_property``, which costs a lock per first read in Python 3.11).
    ``model_copy`` drops the entry, since an update may change the fields it is made of.
    """

    __slots__ = ("compute",)

    def __init__(self, compute: Callable[[Any], str]) -> None:
        self.compute = compute

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _MemoKey: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> str: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> str | _MemoKey:
        if obj is None:
            return self
        value: str = self.compute(obj)
        obj.__dict__["key"] = value
        return value


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with ``update``'s fields, holding none of the entries kept beside the fields: each is
        worked out from fields the update may change (the memoised ``key`` of ``_MemoKey``, a record's
        hash and its length, its JSON, its graph node, its match document, a profile's hashed length),
        so it is worked out again for the copy when asked for."""
        copied = super().model_copy(update=update, deep=deep)
        kept = copied.__dict__
        fields = type(self).model_fields
        for name in [name for name in kept if name not in fields]:
            del kept[name]
        return copied

    @classmethod
    def assemble(cls, **values: Any) -> Self:
        """Build from values that are already valid, every field given: no validation, no defaults.

        For the hot paths whose inputs are validated models or normalised values of the exact field
        types. ``model_construct`` does the same but fills defaults and tracks extras, which costs
        more than the assembly itself.
        """
        return _assembled(cls, values, None)

    def __reduce__(self) -> str | tuple[Any, ...]:
        """Pickle as the values and the fields set, rebuilt by ``_reassemble``: a third less time to
        read back than pydantic's ``__setstate__`` (records cross a process boundary in bulk, see
        profilesync.parallel_normalise). Entries kept in ``__dict__`` (a memoised key or hash) go too."""
        if self.__pydantic_private__ is not None or self.__pydantic_extra__ is not None:
            return super().__reduce__()  # none of the schema's models has either: pydantic's own way
        fields_set = self.__pydantic_fields_set__
        shared = fields_set is _ALL_FIELDS.get(type(self))
        return (_reassemble, (type(self), self.__dict__, None if shared else fields_set))


_Model = TypeVar("_Model", bound=BaseModel)


def assemble_model(cls: type[_Model], values: dict[str, Any]) -> _Model:
    """An instance of ``cls`` holding ``values``, every field given and already valid, without
    validation: ``_Frozen.assemble``, and the same for a model outside the schema
    (core.governance.history's events)."""
    return _assembled(cls, values, None)


def _reassemble(cls: type[_Frozen], values: dict[str, Any], fields_set: set[str] | None) -> _Frozen:
    """A pickled model back (``_Frozen.__reduce__``); ``None`` stands for the class's shared set of
    all its fields, which an assembled model holds (see ``_ALL_FIELDS``).

    ``values`` becomes the model's ``__dict__`` as it is, not copied through ``assemble(**values)``:
    pickle made it for this model alone, and the copy was half of what reading a record back cost
    in the process that resolves. (``copy.copy`` never comes here: pydantic's ``__copy__`` does it.)"""
    return _assembled(cls, values, fields_set)


def _assembled(cls: type[_Model], values: dict[str, Any], fields_set: set[str] | None) -> _Model:
    """A ``cls`` whose ``__dict__`` is ``values`` itself, with ``fields_set`` (None: the class's
    shared set of all its fields, see ``_ALL_FIELDS``)."""
    if fields_set is None:
        fields_set = _ALL_FIELDS.get(cls)
        if fields_set is None:
            fields_set = _ALL_FIELDS[cls] = set(cls.model_fields)
    # No model class defines __new__ (tests/unit/test_core_fast_paths.py checks), so this is
    # cls.__new__(cls) without looking it up through the class's bases on every call.
    obj: _Model = _new_object(cls)
    _set_dict(obj, values)
    _set_fields_set(obj, fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj
