"""Identifiers shown to people are masked unless revealed on purpose, or pseudonymized under a key."""

from __future__ import annotations

import pytest

from fraudgraph.model.masking import MASKED, REVEALED, MaskingError, Shower, mask, pseudonym_key


@pytest.mark.parametrize(
    "kind,value,secret_part",
    [
        ("card", "4111 1111 1111 1234", "4111 1111"),
        ("bank_account", "GB29NWBK60161331926819", "60161331"),
        ("national_id", "123-45-6789", "123-45"),
        ("email", "john.doe@example.com", "john.doe"),
        ("phone", "+44 20 7946 0123", "7946"),
        ("ip", "203.0.113.77", "113.77"),
        ("address", "12 Oak Street Apt 4", "12 Oak"),
        ("device", "a1b2c3d4e5f6a7b8", "c3d4e5f6"),
    ],
)
def test_masked_value_hides_the_identifying_part_but_keeps_a_recognisable_hint(kind, value, secret_part):
    shown = mask(kind, value)
    assert secret_part not in shown
    assert shown and shown != value
    assert REVEALED.show(kind, value) == value


def test_masks_keep_what_an_investigator_compares():
    assert mask("card", "4111 1111 1111 1234").endswith("1234")
    assert mask("email", "john.doe@example.com").endswith("@example.com")
    assert mask("phone", "+44 20 7946 0123").endswith("123")
    assert mask("ip", "203.0.113.77").startswith("203.0.")


def test_tags_tell_apart_values_that_mask_alike_and_follow_the_canonical_key():
    a = MASKED.show_tagged("card", "4111 1111 1111 1234", key="4111111111111234")
    b = MASKED.show_tagged("card", "5500 0000 0000 1234", key="5500000000001234")
    assert mask("card", "4111 1111 1111 1234") == mask("card", "5500 0000 0000 1234")
    assert a != b
    same = MASKED.show_tagged("card", "4111-1111-1111-1234", key="4111111111111234")
    assert same.split("·")[1] == a.split("·")[1]


def test_pseudonyms_are_keyed_and_stable():
    one = Shower("pseudonymize", b"k" * 16)
    other = Shower("pseudonymize", b"z" * 16)
    p = one.show("email", "John@x.com", key="john@x.com")
    assert p.startswith("email:") and "john" not in p
    assert p == one.show("email", "JOHN@X.COM", key="john@x.com")
    assert p != other.show("email", "John@x.com", key="john@x.com")


def test_pseudonyms_refuse_a_missing_or_short_key():
    with pytest.raises(MaskingError, match="FRAUDGRAPH_PSEUDONYM_KEY"):
        pseudonym_key({})
    with pytest.raises(MaskingError, match="shorter"):
        pseudonym_key({"FRAUDGRAPH_PSEUDONYM_KEY": "short"})
    assert pseudonym_key({"FRAUDGRAPH_PSEUDONYM_KEY": "x" * 16}) == b"x" * 16
    with pytest.raises(MaskingError, match="together"):
        Shower.from_flags(reveal=True, pseudonymize=True)
