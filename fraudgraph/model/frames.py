"""The DataFrames that pass between fraudgraph's stages: their columns and types, in one place.

Every pure stage (contract -> normalize -> graph -> rings -> features -> scoring -> policy)
takes and returns these frames, so each backend (SQLite, Neo4j) only has to store and read
them back. Times are timezone-naive UTC ``datetime64[ns]``; ids and identifier values are
Python ``str`` (object or string dtype), never numbers.

accounts (one row per account)
    account_id      str, unique, verbatim
    created_at      datetime64[ns]
    credit_limit    float64, NaN when unknown
    balance         float64, NaN when unknown
    overdue_days    int64, 0 when unknown
    status          str: active | suspended | closed
    label           str or None: fraud | legit | None
    properties      str: JSON object of the extra columns of the source file ("{}" when none)

links (one row per (account_id, kind, value) observation)
    account_id      str
    kind            str: device | address | card | bank_account | phone | email | ip | national_id
    value           str, the raw spelling as the source system saw it
    key             str or None: canonical key from normalize.canonical_keys; None = carries
                    no identity (``unknown``, ``N/A``, all-zero device ...), never links accounts
    first_seen      datetime64[ns], NaT when unknown

transactions (may be empty)
    txn_id, account_id, counterparty, counterparty_kind (account | merchant), amount (float64 > 0),
    timestamp (datetime64[ns]), status (settled | declined | chargeback | refunded)

Detection output (rings.py / features.py / scoring.py):

rings (one row per ring)
    ring_id         str, stable across sweeps ("R-000001")
    size            int
    score           float in [0, 1]
    exposure        float: sum over members of max(credit_limit, balance), NaN treated as 0
    features        dict[str, float|int|str]
    reasons         list[Reason dict]  (see below)

ring_members
    ring_id, account_id

account_scores (one row per account, every account)
    account_id      str
    score           float in [0, 1]
    ring_id         str or None
    reasons         list[Reason dict]

hubs (identifiers that never link because too many accounts share them)
    kind, key, n_accounts, reason (str)

A Reason is a plain dict, JSON-serializable:
    {"code": "SHARED_DEVICE", "text": "6 accounts use device dev-...", "evidence": {...}}

decisions (policy.evaluate; one row per account)
    account_id, action (none | monitor | review | restrict | suspend), trigger (fraud_ring |
    account_risk | overdue | utilization | manual | none), score, ring_id, reasons (list),
    credit_limit (old), new_credit_limit (float or NaN)
"""

from __future__ import annotations

ACCOUNT_COLUMNS = [
    "account_id",
    "created_at",
    "credit_limit",
    "balance",
    "overdue_days",
    "status",
    "label",
    "properties",
]
LINK_COLUMNS = ["account_id", "kind", "value", "key", "first_seen"]
TRANSACTION_COLUMNS = [
    "txn_id",
    "account_id",
    "counterparty",
    "counterparty_kind",
    "amount",
    "timestamp",
    "status",
]
RING_COLUMNS = ["ring_id", "size", "score", "exposure", "features", "reasons"]
RING_MEMBER_COLUMNS = ["ring_id", "account_id"]
ACCOUNT_SCORE_COLUMNS = ["account_id", "score", "ring_id", "reasons"]
HUB_COLUMNS = ["kind", "key", "n_accounts", "reason"]
DECISION_COLUMNS = [
    "account_id",
    "action",
    "trigger",
    "score",
    "ring_id",
    "reasons",
    "credit_limit",
    "new_credit_limit",
]

# Account state, the logs and the sweep history (stored by the workspace, planned by policy.py).
STATE_COLUMNS = [
    "account_id",
    "action",
    "trigger",
    "status",
    "credit_limit",
    "original_credit_limit",
    "manual",
    "evidence",
    "updated_at",
    "sweep_id",
]
AUDIT_COLUMNS = [
    "at",
    "sweep_id",
    "actor",
    "account_id",
    "event",
    "previous_action",
    "new_action",
    "previous_status",
    "new_status",
    "previous_limit",
    "new_limit",
    "score",
    "reasons",
    "policy_hash",
    "note",
]
NOTICE_COLUMNS = [
    "notice_id",
    "sweep_id",
    "account_id",
    "created_at",
    "category",
    "action",
    "subject",
    "body",
    "customer_actions",
    "repayment_plan",
]
REVIEW_COLUMNS = ["account_id", "verdict", "note", "actor", "at", "evidence"]
SWEEP_COLUMNS = [
    "sweep_id",
    "started_at",
    "finished_at",
    "as_of",
    "seed",
    "engine",
    "policy_hash",
    "dry_run",
    "summary",
    "diff",
]
RING_IDENTIFIER_COLUMNS = ["ring_id", "kind", "key", "n_members", "n_accounts", "raw_values"]

IDENTIFIER_KINDS = ("device", "address", "card", "bank_account", "phone", "email", "ip", "national_id")
ACCOUNT_STATUSES = ("active", "suspended", "closed")
LABELS = ("fraud", "legit")
COUNTERPARTY_KINDS = ("account", "merchant")
TRANSACTION_STATUSES = ("settled", "declined", "chargeback", "refunded")
ACTIONS = ("none", "monitor", "review", "restrict", "suspend")  # in order of severity
