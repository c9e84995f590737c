"""The searchable text the index keeps for an entry's metadata: every leaf, strings as they
are and other values as JSON writes them, whatever the types."""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.read.index_rows import _values


def _as_json_writes(value: Any, out: list[str]) -> None:
    """The plain definition: walk mappings and lists, keep strings, json.dumps the rest."""
    if isinstance(value, Mapping):
        for item in value.values():
            _as_json_writes(item, out)
    elif isinstance(value, list):
        for item in value:
            _as_json_writes(item, out)
    elif isinstance(value, str):
        out.append(value)
    elif value is not None:
        out.append(json.dumps(value))


_LEAVES = (
    st.none() | st.booleans() | st.integers() | st.integers(min_value=2**63)
    | st.floats() | st.text()
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)
    | st.dictionaries(st.text(), inner, max_size=3).map(OrderedDict),
    max_leaves=16,
)


@settings(max_examples=400, deadline=None)
@given(_VALUES)
def test_every_leaf_is_written_as_json_writes_it(value: Any):
    fast: list[str] = []
    plain: list[str] = []
    _values(value, fast)
    _as_json_writes(value, plain)
    assert fast == plain


def test_the_values_json_loads_returns_and_their_edges():
    data = json.loads('{"a": [true, false, null, 0, -7, 123456789012345678901234567890, 1.5,'
                      ' 1e400, NaN, "x"], "b": {"c": "d"}}')
    out: list[str] = []
    _values(data, out)
    assert out[:6] == ["true", "false", "0", "-7", "123456789012345678901234567890", "1.5"]
    assert out[6:] == ["Infinity", "NaN", "x", "d"]
    assert math.isinf(json.loads(out[6]))
