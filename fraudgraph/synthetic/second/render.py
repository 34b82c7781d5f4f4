"""Identifier spellings for the second generator: entity numbers -> raw values as source systems write them.

Why a module of its own: every kind has one rule that maps an entity number to a value (distinct
entities never collide, because each rule is a bijection of the entity number) and a few spelling
variants that the loader must fold back to one key (``(555) 201-3344`` / ``+1 555 201 3344``), plus
typo variants that it must not fold (``12 Oka St``), which is how real extracts split one home in two.
Rendering works on the distinct (entity, variant) pairs only, then spreads them back to the rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KINDS = ("device", "address", "card", "bank_account", "phone", "email", "ip", "national_id")
KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}
N_VARIANTS = 4  # spelling variants 0..3 fold to the same key; TYPO does not
TYPO = 9

FIRST = [
    "amara",
    "kofi",
    "liang",
    "priya",
    "mateo",
    "ingrid",
    "tomasz",
    "yusuf",
    "chloe",
    "dmitri",
    "nadia",
    "oscar",
    "ravi",
    "sakura",
    "elena",
    "femi",
    "gustavo",
    "hana",
    "ivan",
    "jonah",
    "keiko",
    "lars",
    "maya",
    "nikolai",
    "olu",
    "paloma",
    "quinn",
    "rosa",
    "sven",
    "tariq",
    "ursula",
    "vikram",
    "wren",
    "ximena",
    "yara",
    "zane",
    "aiko",
    "bruno",
    "celeste",
    "dario",
]
LAST = [
    "okafor",
    "lindqvist",
    "haddad",
    "moreau",
    "tanaka",
    "kowalski",
    "ferreira",
    "nguyen",
    "osei",
    "petrov",
    "garcia",
    "brennan",
    "mbeki",
    "castillo",
    "yilmaz",
    "novak",
    "rahman",
    "schultz",
    "ivanova",
    "dubois",
    "kim",
    "mensah",
    "silva",
    "larsen",
    "abbott",
    "delgado",
    "farouk",
    "hughes",
    "iqbal",
    "jensen",
]
STREETS = [
    "Juniper",
    "Willowbrook",
    "Harbor",
    "Quarry",
    "Lantern",
    "Meadowlark",
    "Copperfield",
    "Beacon",
    "Orchard",
    "Sable",
    "Tamarack",
    "Foundry",
    "Heron",
    "Kestrel",
    "Millrace",
    "Granite",
    "Bramble",
    "Cinder",
    "Larkspur",
    "Riverbend",
    "Alder",
    "Chestnut",
    "Sparrow",
    "Ridgeway",
    "Falcon",
    "Hollow",
    "Cobalt",
    "Thistle",
    "Saffron",
    "Marigold",
]
SUFFIX_LONG = ("Street", "Avenue", "Road", "Boulevard", "Drive", "Lane", "Court", "Place")
SUFFIX_SHORT = ("St", "Ave", "Rd", "Blvd", "Dr", "Ln", "Ct", "Pl")
CITIES = (
    ("Port Alder", "OR", 972),
    ("Kestrel Falls", "MN", 554),
    ("New Harwick", "CT", 61),
    ("Sable City", "TX", 752),
    ("Greyhaven", "OH", 441),
    ("Millbrook", "GA", 303),
)
DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "aol.com")
FIRST_OCTETS = np.array([o for o in range(31, 222) if o not in (100, 127, 169, 172, 192, 198, 203)])
BUILDING_SPACE = 9000 * len(STREETS) * len(SUFFIX_LONG) * len(CITIES)


def bijection(entity: np.ndarray, modulus: int, multiplier: int, salt: int) -> np.ndarray:
    """A scrambled but collision-free number in [0, modulus) per entity (multiplier coprime to modulus)."""
    e = np.asarray(entity, dtype=object)
    return np.asarray((e * multiplier + salt) % modulus, dtype=np.int64)


def _devices(ent: np.ndarray, var: np.ndarray) -> list[str]:
    h1 = bijection(ent, 2**61 - 1, 0x9E3779B97F4A7C15 % (2**61 - 1), 0x1F3A5C7E9B2D4F61 % (2**61 - 1))
    h2 = bijection(ent, 2**61 - 1, 0x2545F4914F6CDD1D % (2**61 - 1), 0x3C6EF372FE94F82B % (2**61 - 1))
    out = []
    for a, b, v in zip(h1.tolist(), h2.tolist(), var.tolist()):
        t = f"{a:016x}{b:016x}"
        text = f"{t[:8]}-{t[8:12]}-{t[12:16]}-{t[16:20]}-{t[20:32]}"
        out.append(text.upper() if v % 2 else text)
    return out


def _phones(ent: np.ndarray, var: np.ndarray) -> list[str]:
    n = bijection(ent, 7_000_000_000, 4_093_082_899, 3_917_342_001) + 2_100_000_000
    out = []
    for n_, v in zip(n.tolist(), var.tolist()):
        s = f"{n_:010d}"
        a, b, c = s[:3], s[3:6], s[6:]
        out.append((f"({a}) {b}-{c}", f"+1 {a} {b} {c}", f"{a}.{b}.{c}", f"1{a}{b}{c}")[v % 4])
    return out


def _cards(ent: np.ndarray, var: np.ndarray) -> list[str]:
    n = bijection(ent, 10**15, 602_214_076_015_263, 384_920_117_445_901)
    out = []
    for n_, v in zip(n.tolist(), var.tolist()):
        s = f"{4 + n_ % 2}{n_:015d}"
        groups = " ".join(s[i : i + 4] for i in range(0, 16, 4))
        out.append((s, groups, groups.replace(" ", "-"), f" {groups} ")[v % 4])
    return out


def _banks(ent: np.ndarray, var: np.ndarray) -> list[str]:
    routing = ("021000021", "111000025", "026009593", "121000358", "322271627")
    n = bijection(ent, 10**10, 6_700_417_317, 5_829_130_447)
    out = []
    for e_, n_, v in zip(ent.tolist(), n.tolist(), var.tolist()):
        r = routing[e_ % len(routing)]
        acct = f"{n_:010d}"
        out.append((f"{r}/{acct}", f"{r} {acct}", f"{r}-{acct}", f"{r}{acct}")[v % 4])
    return out


def _ssns(ent: np.ndarray, var: np.ndarray) -> list[str]:
    n = bijection(ent, 799_000_000, 48_271, 331_908_512) + 100_000_000
    out = []
    for n_, v in zip(n.tolist(), var.tolist()):
        s = f"{n_:09d}"
        out.append((f"{s[:3]}-{s[3:5]}-{s[5:]}", s, f"{s[:3]} {s[3:5]} {s[5:]}", f"{s[:3]}.{s[3:5]}.{s[5:]}")[v % 4])
    return out


def _ips(ent: np.ndarray, var: np.ndarray) -> list[str]:
    span = len(FIRST_OCTETS) * 2**24
    n = bijection(ent, span, 2_654_435_761, 1_234_577_777)
    first = FIRST_OCTETS[n // 2**24]
    rest = n % 2**24
    out = []
    for f, r, v in zip(first.tolist(), rest.tolist(), var.tolist()):
        octets = (f, r >> 16, (r >> 8) & 255, max(r & 255, 1))
        out.append(".".join(f"{o:03d}" for o in octets) if v % 2 else ".".join(map(str, octets)))
    return out


def _emails(ent: np.ndarray, var: np.ndarray, domain: np.ndarray) -> list[str]:
    out = []
    for e_, v, d in zip(ent.tolist(), var.tolist(), domain.tolist()):
        first, last = FIRST[e_ % len(FIRST)], LAST[(e_ // len(FIRST)) % len(LAST)]
        host = DOMAINS[d] if d < len(DOMAINS) else f"corp{d}.example.com"
        base = f"{first}.{last}{e_}"
        if v % 4 == 1:
            base = base.upper()
        elif v % 4 == 2:
            base = f"{base}+shop"
        elif v % 4 == 3 and host == "gmail.com":
            base = base.replace(".", "")
        out.append(f"{base}@{host}")
    return out


def _addresses(building: np.ndarray, unit: np.ndarray, var: np.ndarray) -> list[str]:
    m = bijection(building, BUILDING_SPACE, 1_299_709, 7_654_321)
    number = m % 9000 + 1
    street = (m // 9000) % len(STREETS)
    suffix = (m // (9000 * len(STREETS))) % len(SUFFIX_LONG)
    city = m // (9000 * len(STREETS) * len(SUFFIX_LONG))
    out = []
    for no, st, sf, ci, u, v in zip(
        number.tolist(), street.tolist(), suffix.tolist(), city.tolist(), unit.tolist(), var.tolist()
    ):
        name, state, zip3 = CITIES[ci]
        zipc = f"{zip3:03d}{(no * 7 + st) % 100:02d}"
        word = STREETS[st] if v != TYPO else STREETS[st][:-2] + STREETS[st][-1] + STREETS[st][-2]
        if v % 4 == 0 or v == TYPO:
            unit_txt = f" Apt {u}" if u > 0 else ""
            text = f"{no} {word} {SUFFIX_LONG[sf]}{unit_txt}, {name}, {state} {zipc}"
        elif v % 4 == 1:
            unit_txt = f" #{u}" if u > 0 else ""
            text = f"{no} {word} {SUFFIX_SHORT[sf]}{unit_txt} {name} {state} {zipc}".upper()
        elif v % 4 == 2:
            unit_txt = f" Unit {u}" if u > 0 else ""
            text = f"{no} {word} {SUFFIX_SHORT[sf]}.{unit_txt}, {name} {state} {zipc}-{(no * 13) % 10000:04d}"
        else:
            unit_txt = f" apt. {u}" if u > 0 else ""
            text = f"{no} {word.lower()} {SUFFIX_LONG[sf].lower()}{unit_txt} {name.lower()} {state.lower()} {zipc}"
        out.append(text)
    return out


def render(kind: np.ndarray, entity: np.ndarray, variant: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """Raw values for link rows. ``extra`` is the unit number (address) or email domain code."""
    frame = pd.DataFrame({"k": kind, "e": entity, "v": variant, "x": extra})
    distinct = frame.drop_duplicates().reset_index(drop=True)
    values = np.empty(len(distinct), dtype=object)
    for code, name in enumerate(KINDS):
        sel = np.flatnonzero(distinct["k"].to_numpy() == code)
        if not len(sel):
            continue
        e = distinct["e"].to_numpy()[sel]
        v = distinct["v"].to_numpy()[sel]
        x = distinct["x"].to_numpy()[sel]
        if name == "address":
            values[sel] = _addresses(e, x, v)
        elif name == "email":
            values[sel] = _emails(e, v, x)
        else:
            rule = {
                "device": _devices,
                "card": _cards,
                "bank_account": _banks,
                "phone": _phones,
                "ip": _ips,
                "national_id": _ssns,
            }[name]
            values[sel] = rule(e, v)
    position = frame.merge(distinct.assign(_i=np.arange(len(distinct))), on=["k", "e", "v", "x"], how="left")["_i"]
    return values[position.to_numpy()]
