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


def test_space_characters_are_the_regex_class_on_every_code_point():
    # The device and IP rules trim with a list of characters instead of the regex
    # [\s\p{Z}\p{Cc}]; the list must be the class, as the RE2 that Arrow carries knows it.
    import pyarrow as pa
    import pyarrow.compute as pc

    from fraudgraph.ingest import normalize

    points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    matched = pc.match_substring_regex(pa.array([chr(c) for c in points]), r"^[\s\p{Z}\p{Cc}]$").to_numpy(
        zero_copy_only=False
    )
    assert {chr(c) for c, hit in zip(points, matched) if hit} == set(normalize._SPACE_CHARS)


ascii_identifier_text = st.one_of(
    st.text(alphabet=st.characters(max_codepoint=127), max_size=30),
    st.text(alphabet="0123456789 -+().#@/_:,'`abcdeglmnostuxAEGMNST\t", max_size=40),
    st.from_regex(r"\A ?[0-9]{1,5}[ ,.]+[A-Za-z.']+ (St|Street|Ave|Rd)[.,]* ?(Apt|#|Unit|Suite|apt)[ #]*[0-9]{0,3}\Z"),
    st.from_regex(r"\A[A-Za-z.+ ]{0,8}@(gmail|googlemail|x)\.com\.{0,2}\Z"),
    st.from_regex(r"\A[ +(]*1?[ (]*[0-9]{3}[) .-]*[0-9]{3}[ .-]*[0-9]{4}( ?(x|ext\.?) ?[0-9]{1,4})?\Z"),
    st.from_regex(r"\A ?0*[0-9]{1,3}\.0*[0-9]{1,3}\.0*[0-9]{1,3}\.0*[0-9]{1,3} ?\Z"),
)


def _regex_rule(kind, arr):
    """The rules as they were written first, one regex after another: the reference for the
    byte-level steps and for the regexes now run only where they can match."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from fraudgraph.ingest import normalize

    def sub(a, pattern, replacement=""):
        return pc.replace_substring_regex(a, pattern=pattern, replacement=replacement)

    space = r"[\s\p{Z}\p{Cc}]"
    s = pc.utf8_lower(arr)
    if kind == "email":
        s = sub(
            sub(sub(sub(s, space + "+"), r"\.+$"), r"@googlemail\.com$", "@gmail.com"),
            r"^([^@+]+)\+[^@]*(@[^@]*)$",
            r"\1\2",
        )
        local = sub(sub(s, r"@gmail\.com$"), r"\.")
        gmail = pc.binary_join_element_wise(local, pa.scalar("@gmail.com"), pa.scalar(""))
        return pc.if_else(pc.match_substring_regex(s, r"^[^@]*@gmail\.com$"), gmail, s)
    if kind == "phone":
        s = sub(s, r"[\s\p{Z}]*(?:extension|ext|x)\.?[\s\p{Z}]*\d{1,6}[\s\p{Z}\p{Cc}]*$")
        return sub(sub(s, "[^0-9]+"), r"^1(\d{10})$", r"\1")
    if kind == "address":
        s = sub(sub(sub(s, r"\b(\d{5})-\d{4}\b", r"\1"), "['\u2019\u2018`\u00b4]"), r"\b([a-z])\.", r"\1")
        s = pc.utf8_trim(sub(pc.replace_substring(s, "#", " unit "), r"[^\p{L}\p{N}\p{M}]+", " "), " ")
        s = sub(s, f"(^| )({normalize._UNIT_WORDS})([0-9])", r"\1\2 \3")
        lists = pc.split_pattern(s, " ")
        spelled = [
            None if t is None else " ".join(normalize._ADDRESS_TOKENS.get(w, w) for w in t) for t in lists.to_pylist()
        ]
        return sub(pa.array(spelled, pa.string()), "(^| )unit( unit)+( |$)", r"\1unit\3")
    if kind in ("card", "bank_account", "national_id"):
        return pc.utf8_upper(sub(arr, r"[\s\p{Z}\p{Cc}\-\x{2010}-\x{2015}./]+"))
    s = sub(s, f"^{space}+|{space}+$")
    if kind == "ip":
        s = pc.if_else(pc.match_substring_regex(s, r"^\d{1,3}(?:\.\d{1,3}){3}$"), sub(s, r"(^|\.)0+(\d)", r"\1\2"), s)
        return pa.array([normalize._compressed_ipv6(v) if v and ":" in v else v for v in s.to_pylist()], pa.string())
    return s if kind == "device" else None


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(KINDS),
    values=st.lists(st.one_of(st.none(), ascii_identifier_text), min_size=1, max_size=25),
    start=st.integers(0, 3),
)
def test_byte_level_rules_equal_the_regex_rules_on_ascii_text(kind, values, start):
    # ASCII values go through each rule's byte-level steps; the regex steps are the reference
    # (and what other values still take). Arrays are also given as slices of bigger ones.
    import pyarrow as pa

    from fraudgraph.ingest import normalize

    arr = pa.array(["pad", "x y", "z"][:start] + values, pa.string()).slice(start)
    reference = _regex_rule(kind, arr)
    if reference is not None:  # a kind with a rule of its own
        assert normalize._KEY_RULES[kind](arr, True).to_pylist() == reference.to_pylist()
        assert normalize._KEY_RULES[kind](arr, False).to_pylist() == reference.to_pylist()
    fast = normalize._keys_of_kind(kind, arr).to_pylist()
    assert fast == normalize._keys_of_kind(kind, arr, bytewise=False).to_pylist()
    assert fast == [canonical_key(kind, v) for v in values]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(KINDS), values=st.lists(st.one_of(st.none(), identifier_like_text), min_size=1, max_size=25)
)
def test_rules_equal_the_regex_rules_on_any_text(kind, values):
    import pyarrow as pa

    from fraudgraph.ingest import normalize

    arr = pa.array(values, pa.string())
    reference = _regex_rule(kind, arr)
    if reference is not None:
        assert normalize._KEY_RULES[kind](arr, False).to_pylist() == reference.to_pylist()
