"""Byte-level rewrites of Arrow text: the regex each one replaces is the reference."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings, strategies as st

from fraudgraph.ingest import textbytes

ascii_values = st.lists(
    st.one_of(st.none(), st.text(alphabet=st.characters(max_codepoint=127), max_size=12)), max_size=20
)
any_values = st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=20)


def _arrays(values, pad):
    """The values as string and large_string arrays, and as a slice of a bigger array."""
    typed = [pa.array(values, t) for t in (pa.string(), pa.large_string())]
    return typed + [pa.array(["lead in"] * pad + values + ["tail"], pa.string()).slice(pad, len(values))]


@settings(max_examples=150, deadline=None)
@given(values=any_values, pad=st.integers(1, 3))
def test_delete_equals_the_regex_on_any_text(values, pad):
    table = textbytes.byte_set("-./ ", ranges=((0, 0x1F),))
    everything_but_digits = ~textbytes.byte_set("0123456789")
    for arr in _arrays(values, pad):
        got = textbytes.delete(arr, table)
        assert got.type == arr.type
        assert got.to_pylist() == pc.replace_substring_regex(arr, r"[\x00-\x1f\-./ ]+", "").to_pylist()
        digits = textbytes.delete(arr, everything_but_digits)
        assert digits.to_pylist() == pc.replace_substring_regex(arr, "[^0-9]+", "").to_pylist()


@settings(max_examples=150, deadline=None)
@given(values=ascii_values, pad=st.integers(1, 3))
def test_squeeze_to_spaces_equals_the_regex_on_ascii_text(values, pad):
    for arr in _arrays(values, pad):
        expected = pc.utf8_trim(pc.replace_substring_regex(arr, "[^A-Za-z0-9]+", " "), " ")
        got = textbytes.squeeze_to_spaces(arr)
        assert got.type == arr.type
        assert got.to_pylist() == expected.to_pylist()


def test_squeeze_edge_values():
    arr = pa.array(["", " ", "  a  ", None, "a,,b", "..", "a b", "x"], pa.string())
    assert textbytes.squeeze_to_spaces(arr).to_pylist() == ["", "", "a", None, "a b", "", "a b", "x"]


def test_delete_refuses_part_of_a_multibyte_character():
    with pytest.raises(ValueError, match="all or none"):
        textbytes.delete(pa.array(["é"]), textbytes.byte_set(ranges=((0xC3, 0xC3),)))


def test_replace_where_runs_the_regex_only_where_told():
    arr = pa.array(["a-b", "c-d", None, "e"], pa.string())
    where = pa.array([True, False, None, False])
    assert textbytes.replace_where(arr, where, "-", "+").to_pylist() == ["a+b", "c-d", None, "e"]
    assert textbytes.replace_where(arr, pa.array([False] * 4), "-", "+") is arr
