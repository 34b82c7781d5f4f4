"""Canonical identifier keys: variant spellings meet, different identifiers stay apart, junk never links."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fraudgraph.ingest.normalize import NO_IDENTITY, NO_IDENTITY_KEYS, canonical_key, canonical_keys
from fraudgraph.model.frames import IDENTIFIER_KINDS

SAME_IDENTIFIER = [
    (
        "address",
        [
            "12 Oak St. Apt 4",
            "12 OAK STREET APT 4",
            "12 oak street #4",
            "12 Oak Street, Apartment 4",
            "12 Oak St Unit 4",
            "12 oak st. suite 4",
            "12 Oak St Ste 4",
            "12 Oak St Flat 4",
            "12 Oak St Apt #4",
            "  12  Oak   St  Apt4 ",
        ],
    ),
    (
        "address",
        [
            "1 N. Main Street, Springfield, IL 62704-1234",
            "1 North Main St Springfield IL 62704",
            "1 n main st, springfield il 62704",
        ],
    ),
    ("address", ["5 Park Avenue", "5 PARK AVE.", "5 park ave"]),
    ("address", ["9 Elm Boulevard SW", "9 elm blvd southwest"]),
    ("address", ["3 O'Neil Road", "3 ONeil Rd"]),
    (
        "email",
        [
            "J.Doe+x@gmail.com",
            "jdoe@gmail.com",
            " JDoe@GoogleMail.com ",
            "j.d.o.e@gmail.com.",
            "JDOE+promo@GMAIL.COM",
        ],
    ),
    ("email", ["ann+shop@example.org", "Ann@Example.org", "ann+news@EXAMPLE.ORG"]),
    (
        "phone",
        [
            "+1 555-123-4567",
            "(555) 123 4567",
            "1-555-123-4567",
            "555.123.4567",
            "5551234567",
            "+1 (555) 123-4567 ext. 89",
            "555-123-4567 x12",
        ],
    ),
    ("phone", ["+44 20 7946 0958", "44 (20) 7946-0958"]),
    ("card", ["4000 1234 5678 9010", "4000-1234-5678-9010", "4000123456789010"]),
    (
        "bank_account",
        ["de89 3704 0044 0532 0130 00", "DE89370400440532013000", "DE89-3704-0044-0532-0130-00"],
    ),
    ("device", ["ABC-123-def", "abc-123-DEF", "  abc-123-def\t"]),
    ("ip", ["010.001.000.001", "10.1.0.1", " 10.1.0.1 "]),
    ("ip", ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"]),
    ("national_id", ["512-34-9876", "512 34 9876", "512349876"]),
    ("loyalty_id", ["  ABC-9 ", "abc-9", "ABC-9"]),
]


@pytest.mark.parametrize("kind, spellings", SAME_IDENTIFIER, ids=[f"{k}-{s[0]}" for k, s in SAME_IDENTIFIER])
def test_variant_spellings_share_one_key(kind, spellings):
    keys = {canonical_key(kind, s) for s in spellings}
    assert len(keys) == 1
    assert None not in keys


DIFFERENT_IDENTIFIERS = [
    ("address", ["12 Oak St Apt 4", "12 Oak St Apt 5", "12 Oak St", "14 Oak St Apt 4", "12 Oak Ave Apt 4"]),
    ("email", ["ann@x.com", "ann.b@x.com", "ann@y.com"]),  # dots matter outside gmail
    ("phone", ["5551234567", "5551234568", "445551234567"]),
    ("ip", ["10.1.0.1", "10.1.0.10"]),
    ("card", ["4000123456789010", "4000123456789011"]),
]


@pytest.mark.parametrize("kind, values", DIFFERENT_IDENTIFIERS, ids=[k for k, _ in DIFFERENT_IDENTIFIERS])
def test_different_identifiers_keep_different_keys(kind, values):
    keys = [canonical_key(kind, v) for v in values]
    assert len(set(keys)) == len(values), keys


def test_address_canonical_spelling_is_readable():
    assert canonical_key("address", "12 Oak St. Apt 4") == "12 oak st unit 4"
    assert canonical_key("address", "1 Main St, Springfield 62704-1234") == "1 main st springfield 62704"


def test_phone_and_email_keys():
    assert canonical_key("phone", "+1 (555) 123-4567") == "5551234567"
    assert canonical_key("phone", "+44 20 7946 0958") == "442079460958"  # international kept whole
    assert canonical_key("email", "J.Doe+x@GoogleMail.com") == "jdoe@gmail.com"
    assert canonical_key("email", "not-an-email ") == "not-an-email"


NO_IDENTITY_VALUES = [
    (kind, value)
    for kind in IDENTIFIER_KINDS
    for value in [
        "",
        "   ",
        "unknown",
        "UNKNOWN",
        "N/A",
        "n/a",
        "NA",
        "none",
        "null",
        "NULL",
        "nil",
        "-",
        "0",
    ]
] + [
    ("device", "00000000-0000-0000-0000-000000000000"),
    ("device", "00000000000000000000000000000000"),
    ("device", "00:00:00:00:00:00"),
    ("ip", "0.0.0.0"),
    ("ip", "127.0.0.1"),
    ("ip", "127.000.000.001"),
    ("ip", "::1"),
    ("ip", "0:0:0:0:0:0:0:1"),
    ("ip", "255.255.255.255"),
    ("phone", "0000000000"),
    ("phone", "000-000-0000"),
    ("phone", "(555) 555-5555"),
    ("phone", "12345"),
    ("phone", "+1 123 456 7890"),
    ("email", "test@test.com"),
    ("email", "TEST@TEST.COM"),
    ("email", "none@none.com"),
    ("email", "@gmail.com"),
    ("card", "0000 0000 0000 0000"),
    ("card", "4111 1111 1111 1111"),
    ("card", "****-****"),
    ("bank_account", "000000000"),
    ("national_id", "000-00-0000"),
    ("national_id", "123-45-6789"),
    ("address", "N/A."),
    ("address", "--"),
    ("loyalty_id", "unknown"),
]


@pytest.mark.parametrize("kind, value", NO_IDENTITY_VALUES)
def test_values_without_identity_have_no_key(kind, value):
    assert canonical_key(kind, value) is None


def test_no_identity_collections_are_documented_sets():
    assert {"unknown", "n/a", "null", "none", "-", "", "0"} <= NO_IDENTITY
    assert "127.0.0.1" in NO_IDENTITY_KEYS["ip"]
    assert canonical_key("email", "test@test.com") is None


def test_missing_values_have_no_key():
    assert canonical_key("email", None) is None
    assert canonical_key("email", float("nan")) is None


def test_canonical_keys_matches_scalar_rule_and_keeps_index():
    rows = [(kind, value) for kind, values in SAME_IDENTIFIER + DIFFERENT_IDENTIFIERS for value in values]
    rows += NO_IDENTITY_VALUES[:40]
    kinds = pd.Series([k for k, _ in rows], index=range(100, 100 + len(rows)), dtype="str")
    values = pd.Series([v for _, v in rows], index=kinds.index, dtype="str")
    keys = canonical_keys(kinds, values)
    assert keys.dtype == object
    assert list(keys.index) == list(values.index)
    assert keys.tolist() == [canonical_key(k, v) for k, v in rows]


def test_canonical_keys_handles_missing_and_object_input():
    kinds = pd.Series(["phone", "phone", None, "email"], dtype=object)
    values = pd.Series(["555.123.4567", None, "x@y.com", 5551234567], dtype=object)
    assert canonical_keys(kinds, values).tolist() == ["5551234567", None, None, "5551234567"]


def test_canonical_keys_same_value_under_two_kinds_gets_each_kinds_rule():
    keys = canonical_keys(pd.Series(["card", "device"]), pd.Series(["ab-12", "ab-12"]))
    assert keys.tolist() == ["AB12", "ab-12"]


def test_canonical_keys_rejects_misaligned_input():
    with pytest.raises(ValueError, match="differ in length"):
        canonical_keys(pd.Series(["phone"]), pd.Series(["1", "2"]))


KINDS = list(IDENTIFIER_KINDS) + ["loyalty_id"]
identifier_like_text = st.one_of(
    st.text(),
    st.text(alphabet="0123456789 -+().#@/_:,'abcdeglmnostuxAEGMNST\u00df\u0130\u00a0", max_size=40),
    st.from_regex(r"\A\d{1,5} [A-Za-z]+ (St|Street|Ave|Rd)\.? (Apt|#|Unit|Suite) ?\d{1,3}\Z"),
    st.from_regex(r"\A[A-Za-z.+]{1,8}@(gmail|googlemail|x)\.com\.?\Z"),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), value=identifier_like_text)
def test_key_of_a_key_is_itself(kind, value):
    key = canonical_key(kind, value)
    assert key is None or isinstance(key, str)
    if key is not None:
        assert canonical_key(kind, key) == key


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), values=st.lists(identifier_like_text, min_size=1, max_size=20))
def test_vectorized_keys_equal_scalar_keys(kind, values):
    keys = canonical_keys(pd.Series([kind] * len(values)), pd.Series(values, dtype=object))
    assert keys.tolist() == [canonical_key(kind, v) for v in values]


def test_bank_account_routing_slash_account_is_one_key():
    spellings = ["021000021/123456789", "021000021 123456789", "021000021-123456789", "021000021123456789"]
    assert len({canonical_key("bank_account", s) for s in spellings}) == 1


@pytest.mark.parametrize("name", ["_LETTER_OR_DIGIT", "_NOT_LETTER_OR_DIGIT", "_NOT_WORD_CHARACTER"])
def test_ascii_spelling_of_a_unicode_class_matches_the_same_ascii_characters(name):
    # ASCII text is matched with the ASCII spelling (RE2 compiles \p{L} in 2 ms on every call):
    # on every ASCII character, alone and beside others, the two must agree.
    import pyarrow as pa
    import pyarrow.compute as pc

    from fraudgraph.ingest import normalize

    unicode_pattern, ascii_pattern = getattr(normalize, name)
    texts = [chr(c) for c in range(128)] + [f"a{chr(c)}b" for c in range(128)] + ["", "N/A.", "12 Oak St #4"]
    arr = pa.array(texts, pa.string())
    for fn in (pc.match_substring_regex, pc.count_substring_regex):
        assert fn(arr, pattern=unicode_pattern).to_pylist() == fn(arr, pattern=ascii_pattern).to_pylist()
    assert normalize._classed(arr, getattr(normalize, name)) == ascii_pattern
    assert normalize._classed(pa.array(["Straße 5"]), getattr(normalize, name)) == unicode_pattern


def test_unicode_letters_keep_their_meaning_beside_ascii_values():
    # An array holding one non-ASCII value is matched with the Unicode classes: an address in
    # letters outside ASCII keeps them, and a key of letters only is still a key.
    values = pd.Series(["12 Oak St #4", "Straße 5", "Ünïcødé Wäy 7", "---"], dtype=object)
    keys = canonical_keys(pd.Series(["address"] * 4), values)
    assert keys.tolist() == [canonical_key("address", v) for v in values]
    assert keys.tolist()[1:3] == ["straße 5", "ünïcødé wäy 7"] and keys.tolist()[3] is None
