"""diff.changed_paths names the same fields DeepDiff's affected_root_keys does, for the values of managed fields.

Managed fields hold strings and lists of labelled objects of strings. (Inside lists DeepDiff pairs items by
hash, so it misses ``True`` against ``1`` there; changed_paths reports it.)
"""

from __future__ import annotations

from deepdiff import DeepDiff
from hypothesis import given
from hypothesis import strategies as st

from reconciler.diff import changed_paths

scalars = st.none() | st.integers(-2, 2) | st.sampled_from(["", "a", "b", "POST", "Website"])
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["email", "label", "x"]), inner, max_size=3),
    max_leaves=6,
)
paths = st.sampled_from(["profile.about", "profile.emails", "webhook.callback_url", "configuration.waba_id"])


@given(st.dictionaries(paths, values, min_size=1), st.data())
def test_same_fields_as_deepdiff(want, data):
    have = {path: data.draw(values | st.just(value)) for path, value in want.items()}
    expected = DeepDiff(have, want, verbose_level=0).affected_root_keys
    assert changed_paths(have, want) == [path for path in want if path in expected]


def test_equal_values_of_another_type_count_as_changed():
    assert changed_paths({"a": 1, "b": [True]}, {"a": 1.0, "b": [1]}) == ["a", "b"]
    assert changed_paths({"a": "x", "b": [{"email": "e"}]}, {"a": "x", "b": [{"email": "e"}]}) == []
