"""Canonical identifier keys, one rule per kind, and the values that carry no identity.

Each rule runs on whole pyarrow string arrays with RE2 regexes, so one code path serves a single
value (``canonical_key``) and millions (``canonical_keys``), and a key is its own key.

Rules, by kind (``None`` = the value carries no identity and never links accounts):

email
    trim, lower-case, drop all whitespace and trailing dots; ``googlemail.com`` -> ``gmail.com``;
    a ``+tag`` in the local part is dropped for every provider (``ann+shop@x.com`` ->
    ``ann@x.com``; most large providers deliver sub-addresses to the same mailbox); dots in a
    gmail local part are dropped (gmail ignores them). A value without ``@`` keeps its trimmed
    lower-case spelling. An empty local part (``@gmail.com``) and well-known placeholders
    (``test@test.com`` ...) are ``None``.
phone
    a trailing extension (``x12``, ``ext. 12``) is dropped, then every non-digit; an 11-digit
    number starting with 1 loses the 1 (NANP country code); other lengths are kept as they are
    (international). Fewer than 7 digits, one digit repeated, or ``1234567890`` is ``None``.
address
    lower-case; ZIP+4 -> ZIP; punctuation -> space; street suffixes and directions to their
    USPS abbreviation (``Street`` -> ``st``, ``North`` -> ``n`` ...); unit markers ``Apt``,
    ``Apartment``, ``#``, ``Unit``, ``Suite``, ``Ste``, ``Flat`` -> ``unit``. Unit numbers are
    kept: two flats in one building are two keys.
card, bank_account
    whitespace, dashes, dots and slashes dropped, upper-case (IBANs); no digit at all, or one digit
    repeated (``0000 0000 0000 0000``) is ``None``, as are well-known test card numbers.
device
    trim, lower-case; zeros with separators only (``00000000-0000-0000-0000-000000000000``) and
    well-known junk ids are ``None``.
ip
    trim, lower-case; IPv4 octets lose leading zeros (``010.001.000.001`` -> ``10.1.0.1``);
    IPv6 is compressed (RFC 5952); unspecified, loopback and broadcast addresses are ``None``.
national_id
    whitespace, dashes, dots and slashes dropped, upper-case; one digit repeated, ``123456789`` and the
    SSNs printed on sample cards are ``None``.
any other kind (declared in the workspace configuration)
    trim and case-fold.

For every kind, a value is also ``None`` when its trimmed lower-case spelling or its key is in
``NO_IDENTITY`` (``unknown``, ``n/a``, ``null`` ...), when its key without punctuation is one of
those words (``N/A.`` -> ``n a``), or when its key has no letter or digit.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fraudgraph.ingest import textbytes
from fraudgraph.ingest.textbytes import byte_set, replace_where

__all__ = [
    "NO_IDENTITY",
    "NO_IDENTITY_KEYS",
    "canonical_key",
    "canonical_keys",
    "encode_strings",
    "keys_from_codes",
]

#: Spellings that mean "no value" in any kind. Compared with the trimmed, lower-cased raw value
#: and with the lower-cased canonical key.
NO_IDENTITY: frozenset[str] = frozenset(
    {
        "",
        "-",
        "--",
        "---",
        ".",
        "?",
        "??",
        "???",
        "0",
        "x",
        "xx",
        "xxx",
        "n/a",
        "n.a.",
        "n.a",
        "na",
        "#n/a",
        "none",
        "null",
        "(null)",
        "<null>",
        "nil",
        "nan",
        "undefined",
        "unknown",
        "unk",
        "missing",
        "not available",
        "not provided",
        "notprovided",
        "not applicable",
        "blank",
        "empty",
        "default",
        "test",
        "tbd",
        "no",
    }
)

#: Canonical keys that carry no identity, per kind (placeholders, loopback IPs, famous test
#: numbers). Compared with the key, i.e. after the kind's normalization.
NO_IDENTITY_KEYS: Mapping[str, frozenset[str]] = {
    "email": frozenset(
        {
            "test@test.com",
            "test@example.com",
            "none@none.com",
            "noemail@noemail.com",
            "no@email.com",
            "noemail@email.com",
            "email@email.com",
            "na@na.com",
            "null@null.com",
            "unknown@unknown.com",
            "example@example.com",
            "user@example.com",
            "noreply@noreply.com",
            "a@a.com",
            "x@x.com",
            "abc@abc.com",
            "asdf@asdf.com",
            "test@gmail.com",
        }
    ),
    "phone": frozenset({"1234567890", "0123456789", "1234567", "9876543210"}),
    "card": frozenset(
        {  # the card networks' published test numbers
            "4111111111111111",
            "4242424242424242",
            "4012888888881881",
            "5555555555554444",
            "5105105105105100",
            "378282246310005",
            "371449635398431",
            "6011111111111117",
        }
    ),
    "bank_account": frozenset({"123456789", "1234567890"}),
    "device": frozenset(
        {
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "9774d56d682e549c",  # the Android ID many Android 2.2 devices share
            "02:00:00:00:00:00",  # the MAC address iOS and Android report to apps
        }
    ),
    "ip": frozenset({"0.0.0.0", "127.0.0.1", "::1", "::", "255.255.255.255", "localhost"}),
    # 078-05-1120 and 219-09-9999 were printed on sample Social Security cards.
    "national_id": frozenset({"123456789", "987654321", "078051120", "219099999"}),
}

# The same spellings without punctuation ("N/A." -> "na"), for keys whose rule kept it as spaces.
_NO_IDENTITY_LETTERS: frozenset[str] = frozenset(
    "".join(ch for ch in value if ch.isalnum()) for value in NO_IDENTITY
) - {""}

_NO_IDENTITY_ARRAY = pa.array(sorted(NO_IDENTITY), pa.string())
_NO_IDENTITY_LETTERS_ARRAY = pa.array(sorted(_NO_IDENTITY_LETTERS), pa.string())
# Keys longer than this are not taken for a NO_IDENTITY word spelled with extra punctuation.
_LONGEST_NO_IDENTITY_SPELLING = max(len(word) for word in NO_IDENTITY) + 4
assert not any(ch in "123456789" for word in NO_IDENTITY for ch in word)  # see _spells_no_identity_word

# Structural no-identity rules on the key (RE2 syntax).
_ONE_DIGIT_REPEATED = "^(?:0+|1+|2+|3+|4+|5+|6+|7+|8+|9+)$"
_NO_IDENTITY_KEY_PATTERNS: Mapping[str, tuple[str, ...]] = {
    "email": ("^@",),
    "phone": (_ONE_DIGIT_REPEATED, r"^\d{0,6}$"),
    "card": (_ONE_DIGIT_REPEATED, r"^[^0-9]*$"),
    "bank_account": (_ONE_DIGIT_REPEATED, r"^[^0-9]*$"),
    "device": (r"^[0\-:.{}]+$",),
    "national_id": (_ONE_DIGIT_REPEATED,),
}

# Address words -> canonical token (USPS abbreviations; unit designators -> "unit").
_ADDRESS_TOKENS: dict[str, str] = {
    **dict.fromkeys(["street", "str", "st"], "st"),
    **dict.fromkeys(["avenue", "av", "ave", "aven", "avn"], "ave"),
    **dict.fromkeys(["road", "rd"], "rd"),
    **dict.fromkeys(["boulevard", "boul", "blv", "blvd"], "blvd"),
    **dict.fromkeys(["drive", "drv", "dr"], "dr"),
    **dict.fromkeys(["lane", "ln"], "ln"),
    **dict.fromkeys(["court", "crt", "ct"], "ct"),
    **dict.fromkeys(["place", "pl"], "pl"),
    **dict.fromkeys(["terrace", "terr", "ter"], "ter"),
    **dict.fromkeys(["highway", "hwy"], "hwy"),
    **dict.fromkeys(["parkway", "pky", "pkwy"], "pkwy"),
    **dict.fromkeys(["square", "sq"], "sq"),
    **dict.fromkeys(["circle", "circ", "cir"], "cir"),
    **dict.fromkeys(["north", "n"], "n"),
    **dict.fromkeys(["south", "s"], "s"),
    **dict.fromkeys(["east", "e"], "e"),
    **dict.fromkeys(["west", "w"], "w"),
    **dict.fromkeys(["northeast", "ne"], "ne"),
    **dict.fromkeys(["northwest", "nw"], "nw"),
    **dict.fromkeys(["southeast", "se"], "se"),
    **dict.fromkeys(["southwest", "sw"], "sw"),
    **dict.fromkeys(["apartment", "apt", "suite", "ste", "flat", "unit"], "unit"),
}
_UNIT_WORDS = "apartment|apt|suite|ste|flat|unit"


def _replace(arr: pa.Array, pattern: str, replacement: str) -> pa.Array:
    return pc.replace_substring_regex(arr, pattern=pattern, replacement=replacement)


# RE2 compiles a class of Unicode letters, digits or marks (\p{L}, \p{N}, \p{M}) into a large
# automaton, 2 ms a pattern, and Arrow compiles a pattern again on every call: for one value
# (``canonical_key``, a ``check`` event's identifiers) that was most of the work. On ASCII text
# each such class is exactly the ASCII class it holds (\p{L} -> A-Za-z, \p{N} -> 0-9, \p{M} ->
# none: ``test_normalize`` checks every ASCII character), so an array with no other character is
# matched with that one instead (15 us).
_LETTER_OR_DIGIT = (r"[\p{L}\p{N}]", "[A-Za-z0-9]")
_NOT_LETTER_OR_DIGIT = (r"[^\p{L}\p{N}]+", "[^A-Za-z0-9]+")
_NOT_WORD_CHARACTER = (r"[^\p{L}\p{N}\p{M}]+", "[^A-Za-z0-9]+")

# Every character of RE2's [\s\p{Z}\p{Cc}]: ASCII controls and space, DEL and the C1 controls,
# no-break, ogham, en/em ... and ideographic spaces, line and paragraph separators
# (``test_normalize`` checks the list against the regex on every code point).
_SPACE_CHARS = "".join(
    chr(c)
    for c in [*range(0x21), *range(0x7F, 0xA1), 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
)
_SPACE_BYTES = byte_set(ranges=((0x00, 0x20), (0x7F, 0x7F)))  # the ASCII ones
_COMPACT_BYTES = byte_set("-./", ranges=((0x00, 0x20), (0x7F, 0x7F)))
_APOSTROPHE_BYTES = byte_set("'`")  # the ASCII ones of ['\u2019\u2018`\u00b4]
_NOT_DIGIT_BYTES = ~byte_set("0123456789")  # every other byte: non-ASCII characters go whole


def _classed(arr: pa.Array, pattern: tuple[str, str]) -> str:
    """``pattern``'s Unicode spelling, or its ASCII one when every value of ``arr`` is ASCII."""
    return pattern[1] if pc.all(pc.string_is_ascii(arr)).as_py() is not False else pattern[0]


def _lower(arr: pa.Array, ascii: bool) -> pa.Array:
    return pc.ascii_lower(arr) if ascii else pc.utf8_lower(arr)


def _strip_unicode_space(arr: pa.Array, ascii: bool) -> pa.Array:
    # RE2's \s is ASCII only; \p{Z} adds no-break, ideographic ... spaces, \p{Cc} tabs and the like.
    return textbytes.delete(arr, _SPACE_BYTES) if ascii else _replace(arr, r"[\s\p{Z}\p{Cc}]+", "")


def _trim(arr: pa.Array) -> pa.Array:
    return pc.utf8_trim(arr, characters=_SPACE_CHARS)


# Each rule is given values that are all ASCII (``ascii``) or none: on ASCII text its hot steps
# are byte-level (``fraudgraph.ingest.textbytes``), a regex runs only on the values it can match
# (``replace_where``), and ``test_normalize`` checks the two ways agree on ASCII text.
def _email_keys(raw: pa.Array, ascii: bool) -> pa.Array:
    s = _strip_unicode_space(_lower(raw, ascii), ascii)
    s = replace_where(s, pc.ends_with(s, "."), r"\.+$", "")  # "ann@x.com." is the fully qualified spelling of ann@x.com
    s = replace_where(s, pc.ends_with(s, "@googlemail.com"), r"@googlemail\.com$", "@gmail.com")
    s = replace_where(s, pc.match_substring(s, "+"), r"^([^@+]+)\+[^@]*(@[^@]*)$", r"\1\2")
    is_gmail = pc.and_(pc.ends_with(s, "@gmail.com"), pc.equal(pc.count_substring(s, "@"), 1)).fill_null(False)
    rows = np.flatnonzero(is_gmail.to_numpy(zero_copy_only=False))
    if not len(rows):
        return s
    local = pc.replace_substring(pc.utf8_slice_codeunits(s.take(pa.array(rows)), 0, -len("@gmail.com")), ".", "")
    gmail_key = pc.binary_join_element_wise(local, pa.scalar("@gmail.com", s.type), pa.scalar("", s.type))
    return pc.replace_with_mask(s, is_gmail, gmail_key)


def _phone_keys(raw: pa.Array, ascii: bool) -> pa.Array:
    extension = r"[\s\p{Z}]*(?:extension|ext|x)\.?[\s\p{Z}]*\d{1,6}[\s\p{Z}\p{Cc}]*$"  # "x12", "ext. 12"
    s = _lower(raw, ascii)
    s = replace_where(s, pc.match_substring(s, "x"), extension, "")
    s = textbytes.delete(s, _NOT_DIGIT_BYTES)  # every character but 0-9: [^0-9]+ -> ""
    # ^1(\d{10})$ -> \1: the NANP country code off an 11-digit number
    return replace_where(s, pc.and_(pc.equal(pc.binary_length(s), 11), pc.starts_with(s, "1")), "^1", "")


def _address_keys(raw: pa.Array, ascii: bool) -> pa.Array:
    s = _lower(raw, ascii)
    s = replace_where(s, pc.match_substring(s, "-"), r"\b(\d{5})-\d{4}\b", r"\1")  # ZIP+4 -> ZIP
    # O'Neil == ONeil; then P.O. -> po, N. -> n
    s = textbytes.delete(s, _APOSTROPHE_BYTES) if ascii else _replace(s, "['\u2019\u2018`\u00b4]", "")
    s = _replace(s, r"\b([a-z])\.", r"\1")
    s = pc.replace_substring(s, "#", " unit ")
    # Every run of other characters becomes one space, so only spaces are left to trim.
    if ascii:
        s = textbytes.squeeze_to_spaces(s)
    else:
        s = pc.utf8_trim(_replace(s, _NOT_WORD_CHARACTER[0], " "), " ")
    s = _map_tokens(s, _address_token)
    # "Apt #4" -> unit unit 4 -> unit 4
    return replace_where(s, pc.match_substring(s, "unit unit"), "(^| )unit( unit)+( |$)", r"\1unit\3")


_UNIT_THEN_DIGIT = re.compile(f"({_UNIT_WORDS})[0-9]")


def _address_token(token: str) -> str:
    """One word of an address as its key spells it: ``_ADDRESS_TOKENS``'s, and a unit word run
    into its number apart from it (``apt4`` -> ``unit 4``)."""
    joined = _UNIT_THEN_DIGIT.match(token)
    if joined:
        return f"unit {token[joined.end(1) :]}"
    return _ADDRESS_TOKENS.get(token, token)


def _map_tokens(s: pa.Array, spell: Callable[[str], str]) -> pa.Array:
    """Each whole space-separated token spelled by ``spell``; each distinct token is spelled once."""
    s = s.combine_chunks() if isinstance(s, pa.ChunkedArray) else s
    lists = pc.split_pattern(s, " ")
    tokens = pc.list_flatten(lists)
    encoded = tokens.dictionary_encode()
    distinct = encoded.dictionary.to_pylist()
    mapped = pa.array([spell(t) for t in distinct], pa.string())
    new_tokens = pc.take(mapped, encoded.indices)
    new_lists = pa.ListArray.from_arrays(lists.offsets, new_tokens, mask=lists.is_null())
    return pc.binary_join(new_lists, " ")


def _compact_upper_keys(raw: pa.Array, ascii: bool) -> pa.Array:
    """Card, bank account and national id numbers: no spaces, dashes, dots or slashes (a bank account
    written ``routing/account`` is the same as ``routing account``); IBAN letters upper-case."""
    if ascii:
        return pc.ascii_upper(textbytes.delete(raw, _COMPACT_BYTES))
    return pc.utf8_upper(_replace(raw, r"[\s\p{Z}\p{Cc}\-\x{2010}-\x{2015}./]+", ""))


def _device_keys(raw: pa.Array, ascii: bool) -> pa.Array:
    return _trim(_lower(raw, ascii))


def _ip_keys(raw: pa.Array, ascii: bool) -> pa.Array:
    s = _trim(_lower(raw, ascii))
    is_v4 = pc.match_substring_regex(s, r"^\d{1,3}(?:\.\d{1,3}){3}$")
    zero_led = pc.or_(pc.starts_with(s, "0"), pc.match_substring(s, ".0"))  # an octet's leading zero
    s = replace_where(s, pc.and_(is_v4, zero_led), r"(^|\.)0+(\d)", r"\1\2")
    has_colon = pc.match_substring(s, ":").fill_null(False)
    positions = np.flatnonzero(has_colon.to_numpy(zero_copy_only=False))
    if len(positions) == 0:
        return s
    # IPv6 spellings vary (zero runs, leading zeros); the standard library knows the canonical one.
    out = np.array(s.to_numpy(zero_copy_only=False), dtype=object)
    out[positions] = [_compressed_ipv6(v) for v in out[positions]]
    return pa.array(out, pa.string())


def _compressed_ipv6(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return ipaddress.IPv6Address(value).compressed
    except ValueError:
        return value


def _casefold_keys(raw: pa.Array, ascii: bool) -> pa.Array:
    return pa.array([None if v is None else v.strip().casefold().strip() for v in raw.to_pylist()], pa.string())


_KEY_RULES: Mapping[str, Callable[[pa.Array, bool], pa.Array]] = {
    "email": _email_keys,
    "phone": _phone_keys,
    "address": _address_keys,
    "card": _compact_upper_keys,
    "bank_account": _compact_upper_keys,
    "device": _device_keys,
    "ip": _ip_keys,
    "national_id": _compact_upper_keys,
}


def _keys_of_kind(kind: str, raw: pa.Array, *, bytewise: bool = True) -> pa.Array:
    """Canonical keys of the raw values of one kind; null where the value carries no identity.
    The ASCII values and the others go through the kind's rule apart (``bytewise``: the ASCII
    ones its byte-level way; else both the regex way, which ``test_normalize`` compares)."""
    raw = raw.combine_chunks() if isinstance(raw, pa.ChunkedArray) else raw
    is_ascii = pc.string_is_ascii(raw).fill_null(True).to_numpy(zero_copy_only=False)
    if is_ascii.all() or not is_ascii.any():
        return _keys_of(kind, raw, bytewise and bool(is_ascii.all()))
    ascii_rows, other_rows = np.flatnonzero(is_ascii), np.flatnonzero(~is_ascii)
    keys = pa.concat_arrays(
        [
            _keys_of(kind, raw.take(pa.array(ascii_rows)), bytewise).cast(pa.string()),
            _keys_of(kind, raw.take(pa.array(other_rows)), False).cast(pa.string()),
        ]
    )
    slot = np.empty(len(raw), dtype=np.int64)
    slot[ascii_rows] = np.arange(len(ascii_rows))
    slot[other_rows] = np.arange(len(ascii_rows), len(raw))
    return keys.take(pa.array(slot))


def _keys_of(kind: str, raw: pa.Array, ascii: bool) -> pa.Array:
    """``_keys_of_kind`` of values all ASCII (``ascii``) or not."""
    keys = _KEY_RULES.get(kind, _casefold_keys)(raw, ascii)
    generic = _NO_IDENTITY_ARRAY
    folded_key = _lower(keys, ascii)
    junk = pc.or_(
        pc.or_(
            pc.is_in(pc.utf8_trim_whitespace(_lower(raw, ascii)), value_set=generic),
            pc.is_in(folded_key, value_set=generic),
        ),
        pc.invert(pc.match_substring_regex(keys, _classed(keys, _LETTER_OR_DIGIT))),  # no letter or digit at all
    )
    junk = pc.or_(junk, _spells_no_identity_word(folded_key))
    kind_keys = NO_IDENTITY_KEYS.get(kind)
    if kind_keys:
        junk = pc.or_(junk, pc.is_in(keys, value_set=pa.array(sorted(kind_keys), pa.string())))
    for pattern in _NO_IDENTITY_KEY_PATTERNS.get(kind, ()):
        junk = pc.or_(junk, pc.match_substring_regex(keys, pattern))
    junk = junk.fill_null(True)
    return pc.if_else(junk, pa.scalar(None, pa.string()), keys)


def _spells_no_identity_word(folded_keys: pa.Array) -> pa.Array:
    """Keys that are a NO_IDENTITY word once punctuation is gone ("n a" from "N/A.").

    Only short keys without a digit 1-9 can be such a word, so the regexes run on those alone
    (the short ones are found first: most keys are longer, and a regex over all 7.4M keys of 1M
    accounts took about a second).
    """
    short = pc.less_equal(pc.utf8_length(folded_keys), _LONGEST_NO_IDENTITY_SPELLING).fill_null(False)
    positions = np.flatnonzero(short.to_numpy(zero_copy_only=False))
    found = np.zeros(len(folded_keys), dtype=bool)
    if len(positions):
        short_keys = folded_keys.take(pa.array(positions))
        digitless = pc.invert(pc.match_substring_regex(short_keys, "[1-9]")).fill_null(False)
        positions = positions[digitless.to_numpy(zero_copy_only=False)]
        short_keys = short_keys.filter(digitless)
    if len(positions):
        letters_only = _replace(short_keys, _classed(short_keys, _NOT_LETTER_OR_DIGIT), "")
        hits = pc.is_in(letters_only, value_set=_NO_IDENTITY_LETTERS_ARRAY).fill_null(False)
        found[positions] = hits.to_numpy(zero_copy_only=False)
    return pa.array(found)


def canonical_key(kind: str, value: str | None) -> str | None:
    """The canonical key of one identifier value, or ``None`` when it carries no identity.

    >>> canonical_key("address", "12 Oak St. Apt 4") == canonical_key("address", "12 OAK STREET #4")
    True
    >>> canonical_key("phone", "+1 (555) 123-4567")
    '5551234567'
    >>> canonical_key("device", "00000000-0000-0000-0000-000000000000") is None
    True
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value)
    try:
        raw = pa.array([text], pa.string())
    except (UnicodeEncodeError, pa.ArrowInvalid):  # lone surrogates cannot be UTF-8
        raw = pa.array([text.encode("utf-8", errors="replace").decode("utf-8")], pa.string())
    return _keys_of_kind(kind, raw)[0].as_py()


def encode_strings(values: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """Integer codes (-1 = missing) and the distinct values as a pyarrow string array.

    pyarrow's hash encoding is as fast as ``pd.factorize`` on strings and much faster on
    low-cardinality columns such as ``kind``; Arrow-backed ``str`` columns are not copied.
    Non-string values (ids that came from Parquet as numbers) are encoded by their ``str()``.
    """
    try:
        arr = pa.array(values.array if isinstance(values, pd.Series) else values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = None
    if arr is None or not (
        pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) or pa.types.is_null(arr.type)
    ):
        spelled = [
            None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v)
            for v in np.asarray(values, dtype=object)
        ]
        arr = pa.array(spelled, pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    encoded = arr.dictionary_encode()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return codes, encoded.dictionary


def keys_from_codes(kind_codes: np.ndarray, kinds: pa.Array, value_codes: np.ndarray, values: pa.Array) -> np.ndarray:
    """Canonical keys (object array, ``None`` = no identity) of rows given as codes from ``encode_strings``.

    Each distinct value of each kind is normalized once, so the cost follows the number of
    distinct spellings, not the number of rows.
    """
    keys = np.full(len(value_codes), None, dtype=object)
    seen = np.zeros(len(values), dtype=bool)
    work = []
    for kind_index, kind in enumerate(kinds.to_pylist()):
        rows = np.flatnonzero((kind_codes == kind_index) & (value_codes >= 0))
        if len(rows) == 0 or kind is None:
            continue
        row_values = value_codes[rows]
        seen[:] = False
        seen[row_values] = True
        kind_values = np.flatnonzero(seen)  # the distinct values this kind uses
        work.append((kind, rows, row_values, kind_values))

    results = _keys_per_kind([(w[0], w[3]) for w in work], values, many=len(value_codes) >= 10_000)
    slot = np.zeros(len(values), dtype=np.int64)  # value code -> position among its kind's values
    for (_kind, rows, row_values, kind_values), kind_keys in zip(work, results):
        slot[kind_values] = np.arange(len(kind_values))
        keys[rows] = kind_keys.to_numpy(zero_copy_only=False)[slot[row_values]]
    return keys


_KEY_ROWS = 1_000_000  # rows normalized at a time by keys_of_rows


def keys_of_rows(kinds: pa.Array, values: pa.Array) -> pa.Array | pa.ChunkedArray:
    """Canonical keys (Arrow text, null = no identity) of rows given as Arrow text arrays.

    Each kind's rows are normalized in one pass of pyarrow kernels, row by row: when most values
    are distinct (a bank's links: 7.4M distinct among 8.5M), finding the distinct ones first costs
    more (a hash table of millions of strings) than normalizing the few repeats again. The keys
    stay Arrow text (64-bit offsets): a Python string per key is about three times the memory.
    Rows are taken _KEY_ROWS at a time (one chunk of the result each), so the kernels' working
    copies stay the size of a slice, not of every link.
    The 8.5M links of the 1M benchmark world: 5.5 s of CPU, 3.2 s on two threads (9.0 s and 5.0 s
    with every step a regex).
    """
    if len(values) > _KEY_ROWS:
        starts = range(0, len(values), _KEY_ROWS)
        pieces = [keys_of_rows(kinds.slice(i, _KEY_ROWS), values.slice(i, _KEY_ROWS)) for i in starts]
        return pa.chunked_array(pieces, pa.large_string())
    encoded = kinds.dictionary_encode()
    kind_codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    present = ~values.is_null().to_numpy(zero_copy_only=False)
    work = []
    for kind_index, kind in enumerate(encoded.dictionary.to_pylist()):
        rows = np.flatnonzero((kind_codes == kind_index) & present)
        if len(rows) and kind is not None:
            work.append((kind, rows))
    # Each kind's keys after the others, then one take puts every row's key in its place (rows
    # of no kind or no value point at a null after the last key).
    pieces = [k.cast(pa.large_string()) for k in _keys_per_kind(work, values, many=len(values) >= 10_000)]
    pieces.append(pa.nulls(1, pa.large_string()))
    slot = np.full(len(values), sum(len(rows) for _kind, rows in work), dtype=np.int64)
    start = 0
    for _kind, rows in work:
        slot[rows] = np.arange(start, start + len(rows))
        start += len(rows)
    return pa.concat_arrays(pieces).take(pa.array(slot))


def _keys_per_kind(work: list[tuple[str, np.ndarray]], values: pa.Array, *, many: bool) -> list[pa.Array]:
    """``_keys_of_kind`` of the ``values`` at each (kind, positions) of ``work``. pyarrow kernels
    release the GIL: with ``many`` values two kinds are normalized at a time on a 2-core machine
    (not for a handful, e.g. one check event, where starting threads costs more than it saves)."""

    def keys_of(w: tuple[str, np.ndarray]) -> pa.Array:
        return _keys_of_kind(w[0], values.take(pa.array(w[1])))

    if not many:
        return list(map(keys_of, work))
    with ThreadPoolExecutor(max_workers=min(2, max(1, len(work)))) as pool:
        return list(pool.map(keys_of, work))


def canonical_keys(kinds: pd.Series, values: pd.Series) -> pd.Series:
    """Canonical keys of many (kind, value) pairs, aligned with ``values``; ``None`` = no identity.

    Each distinct value of each kind is normalized once; missing values have no identity.
    """
    if len(kinds) != len(values):
        raise ValueError(f"kinds and values differ in length: {len(kinds)} != {len(values)}")
    kind_codes, kind_names = encode_strings(kinds)
    value_codes, distinct_values = encode_strings(values)
    keys = keys_from_codes(kind_codes, kind_names, value_codes, distinct_values)
    index = values.index if isinstance(values, pd.Series) else None
    return pd.Series(keys, index=index, dtype=object, name="key")
