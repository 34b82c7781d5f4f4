"""Names, emails, phones, addresses, cards, bank accounts, national ids and IPs: the tables the
spellings are drawn from, the junk values sloppy forms leave behind, and ``Spellings``, which renders
every distinct (kind, entity, variant) as text once, at the end."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fraudgraph.synthetic.arrays import (
    by_layout,
    chars_to_text,
    coded_names,
    concat,
    digit_chars,
    hex_chars,
    in_row_order,
    join_chars,
    mix64,
    spread,
)
from fraudgraph.synthetic.kinds import ADDRESS, BANK, CARD, DEVICE, EMAIL, IP, NATIONAL_ID, PHONE

# Values that carry no identity, per kind; accounts of every kind pick them up from sloppy forms.
JUNK_VALUES = {
    DEVICE: ["00000000-0000-0000-0000-000000000000", "unknown", "N/A", "null", "0", "-"],
    EMAIL: ["none@none.com", "N/A", "noemail@noemail.com", "unknown"],
    PHONE: ["N/A", "0000000000", "unknown", "000-000-0000"],
    ADDRESS: ["N/A", "unknown"],
}
JUNK_BASE = 1 << 40  # entity ids at or above this are indexes into JUNK_VALUES

FIRST_NAMES = [
    "james",
    "john",
    "robert",
    "michael",
    "william",
    "david",
    "richard",
    "joseph",
    "thomas",
    "charles",
    "christopher",
    "daniel",
    "matthew",
    "anthony",
    "mark",
    "donald",
    "steven",
    "paul",
    "andrew",
    "joshua",
    "kenneth",
    "kevin",
    "brian",
    "george",
    "timothy",
    "ronald",
    "edward",
    "jason",
    "jeffrey",
    "ryan",
    "jacob",
    "gary",
    "nicholas",
    "eric",
    "jonathan",
    "stephen",
    "larry",
    "justin",
    "scott",
    "brandon",
    "benjamin",
    "samuel",
    "gregory",
    "frank",
    "patrick",
    "raymond",
    "jack",
    "dennis",
    "jerry",
    "tyler",
    "aaron",
    "jose",
    "adam",
    "nathan",
    "douglas",
    "zachary",
    "peter",
    "kyle",
    "ethan",
    "walter",
    "noah",
    "jeremy",
    "christian",
    "keith",
    "roger",
    "terry",
    "gerald",
    "harold",
    "sean",
    "austin",
    "carl",
    "arthur",
    "dylan",
    "jesse",
    "bryan",
    "billy",
    "joe",
    "bruce",
    "gabriel",
    "logan",
    "albert",
    "willie",
    "alan",
    "juan",
    "wayne",
    "elijah",
    "randy",
    "roy",
    "vincent",
    "ralph",
    "eugene",
    "bobby",
    "philip",
    "louis",
    "mary",
    "patricia",
    "jennifer",
    "linda",
    "elizabeth",
    "barbara",
    "susan",
    "jessica",
    "sarah",
    "karen",
    "lisa",
    "nancy",
    "betty",
    "margaret",
    "sandra",
    "ashley",
    "kimberly",
    "emily",
    "donna",
    "michelle",
    "carol",
    "amanda",
    "dorothy",
    "melissa",
    "deborah",
    "stephanie",
    "rebecca",
    "sharon",
    "laura",
    "cynthia",
    "kathleen",
    "amy",
    "angela",
    "shirley",
    "brenda",
    "pamela",
    "emma",
    "nicole",
    "helen",
    "samantha",
    "katherine",
    "christine",
    "debra",
    "rachel",
    "carolyn",
    "janet",
    "catherine",
    "maria",
    "heather",
    "diane",
    "ruth",
    "julie",
    "olivia",
    "joyce",
    "virginia",
    "victoria",
    "lauren",
    "christina",
    "joan",
    "evelyn",
    "judith",
    "megan",
    "andrea",
    "cheryl",
    "hannah",
    "jacqueline",
    "martha",
    "gloria",
    "teresa",
    "sara",
    "madison",
    "frances",
    "kathryn",
    "janice",
    "jean",
    "abigail",
    "alice",
    "judy",
    "sophia",
    "grace",
    "denise",
    "amber",
    "doris",
    "marilyn",
    "danielle",
    "beverly",
    "isabella",
    "theresa",
    "diana",
    "natalie",
    "brittany",
    "charlotte",
    "marie",
    "kayla",
    "alexis",
    "lori",
    "priya",
    "wei",
    "mohammed",
    "fatima",
    "yuki",
    "omar",
    "aisha",
    "lucas",
]
LAST_NAMES = [
    name
    for name in [
        "smith",
        "johnson",
        "williams",
        "brown",
        "jones",
        "garcia",
        "miller",
        "davis",
        "rodriguez",
        "martinez",
        "hernandez",
        "lopez",
        "gonzalez",
        "wilson",
        "anderson",
        "taylor",
        "moore",
        "jackson",
        "martin",
        "lee",
        "perez",
        "thompson",
        "white",
        "harris",
        "sanchez",
        "clark",
        "ramirez",
        "lewis",
        "robinson",
        "walker",
        "young",
        "allen",
        "king",
        "wright",
        "torres",
        "nguyen",
        "hill",
        "flores",
        "green",
        "adams",
        "nelson",
        "baker",
        "hall",
        "rivera",
        "campbell",
        "mitchell",
        "carter",
        "roberts",
        "gomez",
        "phillips",
        "evans",
        "turner",
        "diaz",
        "parker",
        "cruz",
        "edwards",
        "collins",
        "reyes",
        "stewart",
        "morris",
        "morales",
        "murphy",
        "cook",
        "rogers",
        "gutierrez",
        "ortiz",
        "morgan",
        "cooper",
        "peterson",
        "bailey",
        "reed",
        "howard",
        "ramos",
        "kim",
        "cox",
        "ward",
        "richardson",
        "watson",
        "brooks",
        "chavez",
        "wood",
        "bennett",
        "gray",
        "mendoza",
        "ruiz",
        "hughes",
        "price",
        "alvarez",
        "castillo",
        "sanders",
        "patel",
        "myers",
        "long",
        "ross",
        "foster",
        "jimenez",
        "powell",
        "jenkins",
        "perry",
        "sullivan",
        "bell",
        "coleman",
        "butler",
        "henderson",
        "barnes",
        "fisher",
        "vasquez",
        "simmons",
        "romero",
        "patterson",
        "hamilton",
        "graham",
        "reynolds",
        "griffin",
        "wallace",
        "moreno",
        "west",
        "cole",
        "hayes",
        "bryant",
        "herrera",
        "gibson",
        "ellis",
        "tran",
        "medina",
        "aguilar",
        "stevens",
        "murray",
        "ford",
        "castro",
        "marshall",
        "owens",
        "harrison",
        "fernandez",
        "mcdonald",
        "woods",
        "washington",
        "kennedy",
        "wells",
        "vargas",
        "chen",
        "freeman",
        "webb",
        "tucker",
        "guzman",
        "burns",
        "crawford",
        "olson",
        "simpson",
        "porter",
        "hunter",
        "gordon",
        "mendez",
        "silva",
        "shaw",
        "snyder",
        "dixon",
        "munoz",
        "hunt",
        "hicks",
        "holmes",
        "palmer",
        "wagner",
        "black",
        "robertson",
        "boyd",
        "rose",
        "stone",
        "salazar",
        "fox",
        "warren",
        "mills",
        "meyer",
        "rice",
        "schmidt",
        "garza",
        "daniels",
        "ferguson",
        "nichols",
        "stephens",
        "soto",
        "weaver",
        "gardner",
        "payne",
        "dunn",
        "spencer",
        "hawkins",
        "arnold",
        "pierce",
        "vazquez",
        "hansen",
        "peters",
        "santos",
        "hart",
        "bradley",
        "knight",
        "elliott",
        "cunningham",
        "duncan",
        "armstrong",
        "hudson",
        "carroll",
        "lane",
        "riley",
        "andrews",
        "alvarado",
        "delgado",
        "berry",
        "perkins",
        "hoffman",
        "johnston",
        "matthews",
        "pena",
        "richards",
        "contreras",
        "willis",
        "carpenter",
        "sandoval",
        "okafor",
        "kowalski",
        "novak",
        "schulz",
        "yamamoto",
        "singh",
        "haddad",
        "osei",
    ]
    if name not in FIRST_NAMES  # so "first.last" and "last.first" spellings can never coincide
]
EMAIL_DOMAINS = [
    ("gmail.com", 0.44),
    ("yahoo.com", 0.14),
    ("outlook.com", 0.11),
    ("hotmail.com", 0.08),
    ("icloud.com", 0.08),
    ("aol.com", 0.03),
    ("proton.me", 0.03),
    ("comcast.net", 0.04),
    ("gmx.com", 0.02),
    ("mail.com", 0.03),
]
GMAIL = 0
STREETS = [
    "oak",
    "maple",
    "pine",
    "cedar",
    "elm",
    "walnut",
    "willow",
    "birch",
    "spruce",
    "chestnut",
    "main",
    "park",
    "lake",
    "hill",
    "river",
    "church",
    "mill",
    "spring",
    "sunset",
    "highland",
    "meadow",
    "forest",
    "valley",
    "ridge",
    "center",
    "washington",
    "lincoln",
    "jefferson",
    "franklin",
    "madison",
    "jackson",
    "adams",
    "monroe",
    "grant",
    "wilson",
    "harrison",
    "cleveland",
    "garfield",
    "hamilton",
    "market",
    "union",
    "water",
    "bridge",
    "school",
    "north",
    "south",
    "east",
    "west",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "broad",
    "high",
    "green",
    "prospect",
    "pleasant",
    "liberty",
    "cherry",
    "dogwood",
    "magnolia",
    "laurel",
    "holly",
    "sycamore",
    "poplar",
    "aspen",
    "hickory",
    "juniper",
    "cypress",
    "orchard",
    "vine",
    "rose",
    "lilac",
    "jasmine",
    "hawthorn",
    "fairview",
    "lakeview",
    "hillcrest",
    "riverside",
    "woodland",
    "greenwood",
    "brookside",
    "meadowbrook",
    "cambridge",
    "oxford",
    "windsor",
    "devon",
    "kingston",
    "princeton",
    "college",
    "academy",
    "canal",
    "railroad",
    "depot",
    "harbor",
    "bay",
    "ocean",
    "beach",
    "shore",
    "cliff",
    "summit",
    "mountain",
    "canyon",
    "mesa",
    "prairie",
    "heritage",
    "colonial",
    "victoria",
    "albany",
    "hudson",
    "delaware",
    "potomac",
]
STREET_TYPES = [
    ("St", "Street"),
    ("Ave", "Avenue"),
    ("Rd", "Road"),
    ("Blvd", "Boulevard"),
    ("Dr", "Drive"),
    ("Ln", "Lane"),
    ("Ct", "Court"),
    ("Pl", "Place"),
]
CITIES = [
    ("Springfield", "IL", 62701),
    ("Riverside", "CA", 92501),
    ("Franklin", "TN", 37064),
    ("Greenville", "SC", 29601),
    ("Bristol", "CT", 6010),
    ("Clinton", "IA", 52732),
    ("Fairview", "NJ", 7022),
    ("Salem", "OR", 97301),
    ("Madison", "WI", 53703),
    ("Georgetown", "TX", 78626),
    ("Arlington", "VA", 22201),
    ("Ashland", "OH", 44805),
    ("Dover", "DE", 19901),
    ("Oxford", "MS", 38655),
    ("Jackson", "MI", 49201),
    ("Burlington", "VT", 5401),
    ("Manchester", "NH", 3101),
    ("Milton", "MA", 2186),
    ("Newport", "RI", 2840),
    ("Auburn", "AL", 36830),
    ("Dayton", "OH", 45402),
    ("Lexington", "KY", 40507),
    ("Marion", "IN", 46952),
    ("Winchester", "VA", 22601),
    ("Hudson", "NY", 12534),
    ("Kingston", "NY", 12401),
    ("Columbia", "MO", 65201),
    ("Portland", "ME", 4101),
    ("Aurora", "CO", 80010),
    ("Mesa", "AZ", 85201),
]
CARD_BINS = ["453201", "491761", "455673", "516732", "542418", "523911", "371449", "601100"]
ROUTING_NUMBERS = [
    "021000021",
    "026009593",
    "121000248",
    "111000025",
    "071000013",
    "031176110",
    "122105278",
    "044000037",
    "053000219",
    "091000019",
]
# First octets of public IPv4 space used for residential and carrier addresses alike.
IP_FIRST_OCTETS = [o for o in range(24, 224) if o not in (100, 127, 169, 172, 192, 198, 203)]


class Spellings:
    """Turns (kind, entity, variant) integers into identifier text, once per distinct triple: the same
    entity always reads the same, its variants are the spellings real systems produce (case, dots,
    plus tags, formatting, typos), and nothing in the text tells fraud from legit."""

    def __init__(
        self,
        salt: int,
        address_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
        email_domain_parts: list[np.ndarray],
    ):
        self.salt = salt
        self.address_parts = address_parts
        self.email_domain_parts = email_domain_parts

    def render_values(self, kind: np.ndarray, entity: np.ndarray, variant: np.ndarray):
        """Spell every observation: returns (distinct strings, code of each row into them).

        Each distinct (entity, variant) is rendered once; two that happen to render alike (a dot
        pattern on a dot-free name) get the same code, so duplicates can be dropped on integers.
        """
        renderers = {
            DEVICE: self.render_devices,
            ADDRESS: self.render_addresses,
            CARD: self.render_cards,
            BANK: self.render_bank_accounts,
            PHONE: self.render_phones,
            EMAIL: self.render_emails,
            IP: self.render_ips,
            NATIONAL_ID: self.render_national_ids,
        }
        codes = np.empty(len(kind), dtype=np.int64)
        dictionary: list[np.ndarray] = []
        offset = 0
        for code, render in renderers.items():
            rows = np.flatnonzero(kind == code)
            if len(rows) == 0:
                continue
            packed = entity[rows] * 8192 + variant[rows]
            unique, inverse = np.unique(packed, return_inverse=True)
            ent, var = unique // 8192, unique % 8192
            junk = ent >= JUNK_BASE
            real = np.flatnonzero(~junk)
            text = render(ent[real], var[real])
            if junk.any():
                junk_text = coded_names(JUNK_VALUES[code], ent[junk] - JUNK_BASE)
                text = in_row_order(len(unique), [(real, text), (np.flatnonzero(junk), junk_text)])
            # Big worlds (above about a million accounts) render some kinds as chunked arrays.
            encoded = concat([text]).dictionary_encode()
            codes[rows] = offset + encoded.indices.to_numpy()[inverse]
            dictionary.append(encoded.dictionary)
            offset += len(encoded.dictionary)
        return (concat(dictionary) if dictionary else pa.array([], pa.string())), codes

    def render_devices(self, ent, var):
        a = mix64(ent, self.salt ^ 0x1D1)
        b = mix64(ent, self.salt ^ 0x2D2)
        android = b % np.uint64(5) == 0
        # Some systems log ids upper-case; iOS identifierForVendor always is.
        upper = ((var & 1) == 1) | (b % np.uint64(5) == 1)
        rows_android, rows_uuid = np.flatnonzero(android), np.flatnonzero(~android)
        android_ids = hex_chars(a[rows_android], 16, upper[rows_android])
        a, b, upper = a[rows_uuid], b[rows_uuid], upper[rows_uuid]
        uuids = join_chars(
            len(rows_uuid),
            hex_chars(a >> np.uint64(32), 8, upper), b"-",
            hex_chars(a >> np.uint64(16), 4, upper), b"-4",
            hex_chars(a, 3, upper), b"-",
            hex_chars(((b >> np.uint64(48)) & np.uint64(0x3FFF)) | np.uint64(0x8000), 4, upper), b"-",
            hex_chars(b, 12, upper),
        )  # fmt: skip
        return in_row_order(len(ent), [(rows_android, chars_to_text(android_ids)), (rows_uuid, chars_to_text(uuids))])

    def render_phones(self, ent, var):
        x = spread(ent, 800 * 800 * 10000, self.salt)
        area = digit_chars(200 + x // 8_000_000, 3)
        exchange = digit_chars(200 + (x // 10000) % 800, 3)
        line = digit_chars(x % 10000, 4)
        layouts = (
            lambda r: (b"(", area[r], b") ", exchange[r], b"-", line[r]),
            lambda r: (b"+1 ", area[r], b" ", exchange[r], b" ", line[r]),
            lambda r: (area[r], b"-", exchange[r], b"-", line[r]),
            lambda r: (area[r], exchange[r], line[r]),
        )
        return by_layout(var % 4, layouts)

    def render_cards(self, ent, var):
        x = spread(ent, 10**9, self.salt)
        h = mix64(ent, self.salt ^ 0xCA5D)
        bins = np.frombuffer("".join(CARD_BINS).encode(), dtype=np.uint8).reshape(-1, 6)
        digits = np.concatenate(
            [bins[(h % np.uint64(len(CARD_BINS))).astype(np.intp)], digit_chars(x, 9),
             digit_chars((h >> np.uint64(8)) % np.uint64(10), 1)], axis=1,
        )  # fmt: skip
        g = [digits[:, i : i + 4] for i in (0, 4, 8, 12)]
        layouts = (
            lambda r: (g[0][r], b" ", g[1][r], b" ", g[2][r], b" ", g[3][r]),
            lambda r: (g[0][r], b"-", g[1][r], b"-", g[2][r], b"-", g[3][r]),
            lambda r: (digits[r],),
        )
        return by_layout(var % 3, layouts)

    def render_bank_accounts(self, ent, var):
        x = spread(ent, 10**10, self.salt)
        h = mix64(ent, self.salt ^ 0xBA4C)
        routing = np.frombuffer("".join(ROUTING_NUMBERS).encode(), dtype=np.uint8).reshape(-1, 9)
        separator = np.frombuffer(b"- /", dtype=np.uint8)[var % 3][:, None]
        chars = np.concatenate(
            [routing[(h % np.uint64(len(ROUTING_NUMBERS))).astype(np.intp)], separator, digit_chars(x, 10)],
            axis=1,
        )
        return chars_to_text(chars)

    def render_national_ids(self, ent, var):
        digits = digit_chars(100_000_000 + spread(ent, 799_999_999, self.salt), 9)
        h = mix64(ent * 8 + var, self.salt ^ 0x5511)
        typo = np.flatnonzero(var & 4)  # two neighbouring digits swapped by whoever typed it
        at = (h[typo] % np.uint64(8)).astype(np.intp)
        digits[typo, at], digits[typo, at + 1] = digits[typo, at + 1], digits[typo, at].copy()
        d = digits
        layouts = (
            lambda r: (d[r, :3], b"-", d[r, 3:5], b"-", d[r, 5:]),
            lambda r: (d[r],),
            lambda r: (d[r, :3], b" ", d[r, 3:5], b" ", d[r, 5:]),
        )
        return by_layout(np.minimum(var & 3, 2), layouts)

    def render_ips(self, ent, var):
        x = spread(ent, len(IP_FIRST_OCTETS) << 24, self.salt)
        octets = [coded_names([str(o) for o in IP_FIRST_OCTETS], x >> 24)]
        octets += [pc.cast(pa.array((x >> shift) & 255), pa.string()) for shift in (16, 8, 0)]
        return pc.binary_join_element_wise(*octets, ".")

    def render_emails(self, ent, var):
        domains = np.concatenate(self.email_domain_parts)[ent].tolist()
        n_first, n_last = len(FIRST_NAMES), len(LAST_NAMES)
        x = spread(ent, n_first * n_last * 4 * 1000, self.salt)
        num = (x % 1000).tolist()
        pattern = ((x // 1000) % 4).tolist()
        last = ((x // 4000) % n_last).tolist()
        first = (x // (4000 * n_last)).tolist()
        h = mix64(ent * 8192 + var, self.salt ^ 0xE3A1).tolist()
        tags = ("shop", "x", "news", "1", "promo", "amzn", "bank", "spam", "2", "mail")
        out = []
        for f_i, l_i, p, nm, d, hash_, v in zip(first, last, pattern, num, domains, h, var.tolist()):
            f, surname = FIRST_NAMES[f_i], LAST_NAMES[l_i]
            suffix = str(nm) if nm else ""
            if p == 0:
                local = f"{f}.{surname}{suffix}"
            elif p == 1:
                local = f"{f}_{surname}{suffix}"
            elif p == 2:
                local = f"{surname}.{f}{suffix}"
            else:
                local = f"{f[0]}{surname}{nm + 1000 * f_i}"
            transform = (v >> 2) & 3
            if transform & 2 and d == GMAIL:
                # Gmail ignores dots: put them anywhere.
                bare = local.replace(".", "")
                bits = hash_
                chars = [bare[0]]
                for c in bare[1:]:
                    if bits & 3 == 0:
                        chars.append(".")
                    bits >>= 2
                    chars.append(c)
                local = "".join(chars)
            if transform & 1:
                local = f"{local}+{tags[(hash_ >> 40) % len(tags)]}"
            domain = EMAIL_DOMAINS[d][0]
            case = v & 3
            if case == 1:
                local = ".".join(part[:1].upper() + part[1:] for part in local.split("."))
                domain = domain[:1].upper() + domain[1:]
            elif case == 2:
                local, domain = local.upper(), domain.upper()
            out.append(f"{local}@{domain}")
        return pa.array(out, type=pa.string())

    def render_addresses(self, ent, var):
        building = np.concatenate([b for b, _, _ in self.address_parts])[ent]
        apt = np.concatenate([a for _, a, _ in self.address_parts])[ent].tolist()
        unit_style = np.concatenate([u for _, _, u in self.address_parts])[ent].tolist()
        n_streets, n_types = len(STREETS), len(STREET_TYPES)
        x = spread(building, 9999 * n_streets * n_types * len(CITIES), self.salt)
        number = (1 + x % 9999).tolist()
        rest = x // 9999
        street = (rest % n_streets).tolist()
        street_type = ((rest // n_streets) % n_types).tolist()
        city = (rest // (n_streets * n_types)).tolist()
        h = mix64(ent * 8192 + var, self.salt ^ 0xADD7).tolist()
        out = []
        rows = zip(number, street, street_type, city, apt, unit_style, h, var.tolist())
        for num, s_i, t_i, c_i, a, u, hash_, v in rows:
            name = STREETS[s_i]
            if v & 4 and len(name) >= 4:  # a typo: two letters swapped
                i = 1 + hash_ % (len(name) - 2)
                name = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
            abbr, full = STREET_TYPES[t_i]
            city_name, state, zip_base = CITIES[c_i]
            zip_code = f"{zip_base + s_i % 40:05d}"
            style = v & 3
            word = ("Apt", "Suite")[u]
            if style == 0:
                unit = f" {word} {a}" if a else ""
                out.append(f"{num} {name.title()} {abbr}.{unit}, {city_name}, {state} {zip_code}")
            elif style == 1:
                unit = f" {('APT', 'STE')[u]} {a}" if a else ""
                out.append(f"{num} {name.upper()} {full.upper()}{unit} {city_name.upper()} {state} {zip_code}")
            elif style == 2:
                unit = f" #{a}" if a else ""
                out.append(f"{num} {name} {full.lower()}{unit}, {city_name.lower()} {state.lower()} {zip_code}")
            else:
                unit = f", {('Apt.', 'Ste.')[u]} {a}" if a else ""
                out.append(f"{num} {name.title()} {full}{unit}, {city_name} {state} {zip_code}")
        return pa.array(out, type=pa.string())
