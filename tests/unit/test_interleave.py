"""``tests.interleave.after_call``, the interleaving tests' hook: nested hooks on one store."""

from __future__ import annotations

from tests.interleave import after_call


class _Store:
    def get_customers(self) -> str:
        return "customers"


def test_an_inner_hook_leaves_the_outer_one_in_place_and_the_outer_the_store_as_it_was() -> None:
    store = _Store()
    acted: list[str] = []
    with after_call(store, 2, lambda: acted.append("outer"), ("get_customers",)) as outer:
        with after_call(store, 1, lambda: acted.append("inner"), ("get_customers",)) as inner:
            assert store.get_customers() == "customers"
        assert store.get_customers() == "customers"  # the outer hook still counts it
    assert (outer, inner, acted) == (["get_customers"] * 2, ["get_customers"], ["inner", "outer"])
    assert "get_customers" not in vars(store)
    assert store.get_customers() == "customers"


def test_a_method_set_on_the_instance_before_is_put_back() -> None:
    store = _Store()
    store.get_customers = lambda: "patched"  # type: ignore[method-assign]
    with after_call(store, None, lambda: None, ("get_customers",)):
        assert store.get_customers() == "patched"
    assert store.get_customers() == "patched"
