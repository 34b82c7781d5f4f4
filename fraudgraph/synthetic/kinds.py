"""What a synthetic world is made of: the contract's input columns, the truth's ring and group
kinds, identifier kind numbers, and the time units and caps every generator step shares."""

from __future__ import annotations

from fraudgraph.ingest.contract import TABLE_COLUMNS
from fraudgraph.model.frames import IDENTIFIER_KINDS

# The data contract's input columns, as the loader reads them.
ACCOUNT_INPUT_COLUMNS = list(TABLE_COLUMNS["accounts"])
LINK_INPUT_COLUMNS = list(TABLE_COLUMNS["links"])
TRUTH_COLUMNS = ["account_id", "is_fraud", "ring_id", "ring_kind", "group_id", "group_kind"]
RING_KINDS = ("bust_out", "ato_farm", "mule_network")
LONE_KIND = "lone"  # truth ring_kind of a fraud account in no ring
# Innocent structures, most specific first: an account in several gets the first one in truth.csv.
GROUP_KINDS = (
    "household",
    "corporate_card",
    "apartment_block",
    "kiosk",
    "parcel_locker",
    "carrier_ip",
    "junk_device",
    "late_payer",
)

DEVICE, ADDRESS, CARD, BANK, PHONE, EMAIL, IP, NATIONAL_ID = range(8)
assert IDENTIFIER_KINDS[BANK] == "bank_account" and IDENTIFIER_KINDS[NATIONAL_ID] == "national_id"

DAY = 86_400
HOUR = 3_600
TRANSACTION_WINDOW_DAYS = 180  # the transactions extract covers this many days before as_of
NO_GROUP = len(GROUP_KINDS)
DECLINED = 1  # index into TRANSACTION_STATUSES (settled, declined, chargeback, refunded)
CHARGEBACK = 2
# The detector's default hub cap: an identifier shared by more accounts never links anyone, so
# sharing one is no tie (and lone fraudsters may share one with ring members, as anybody may).
HUB_CAP = 40
