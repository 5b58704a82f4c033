"""The schema as SQLAlchemy Core tables. Invariants live here (UNIQUE keys, CHECKs, foreign keys) and in
the triggers the migration adds, so a race or a bug in Python cannot break them."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey, ForeignKeyConstraint, Index, Integer,
    LargeBinary, MetaData, Numeric, String, Table, Text, UniqueConstraint, text,
)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

Money = Numeric(18, 4, asdecimal=True)
UtcDateTime = DateTime(timezone=True)
SearchKey = String(511).with_variant(String(511, collation="C"), "postgresql")
"""A key searched by prefix with a range (`key >= p AND key < p || U+10FFFF`): compared code point by code
point, so the range holds exactly the keys starting with p and a plain btree answers it (SQLite's BINARY
collation does so already; PostgreSQL's default collation may not, hence "C" there)."""
EmailText = String(320).with_variant(String(320, collation="C"), "postgresql")
"""customers.email: searched by prefix like SearchKey (equality is the same in every collation)."""

ENTRY_KINDS = ("earn", "mature", "claw_back", "void", "expire", "redeem", "recredit", "adjust", "bonus")
"""Ledger entry kinds. `void` is a cancelled order taking back what it still held; `bonus` is points given
for something other than an order (sign-up, birthday, an action, a referral), available at once."""

shops = Table(
    "shops", metadata,
    Column("id", Integer, primary_key=True),
    Column("domain", String(255), nullable=False, unique=True),
    Column("access_token", LargeBinary, nullable=True, doc="Fernet-encrypted Admin API token"),
    Column("scopes", Text, nullable=True),
    Column("installed_at", UtcDateTime, nullable=False),
    Column("uninstalled_at", UtcDateTime, nullable=True),
    Column("settings_version", Integer, nullable=False, server_default=text("1")),
    Column("refresh_token", LargeBinary, nullable=True, doc="Fernet-encrypted; rotates on every refresh"),
    Column("access_token_expires_at", UtcDateTime, nullable=True, doc="NULL: the token does not expire"),
    Column("refresh_token_expires_at", UtcDateTime, nullable=True),
    Column("shopify_shop_id", BigInteger, nullable=True,
           doc="Shopify's numeric id of the shop (read at install); webhook bodies naming another are refused"),
    Column("write_back_error", Text, nullable=True,
           doc="why no balance of this installed shop can be written back (its token is not usable); NULL: none"),
    Column("write_back_error_at", UtcDateTime, nullable=True),
    Column("name", String(255), nullable=True, doc="the shop's name in Shopify (shop { name })"),
    Column("iana_timezone", String(64), nullable=True,
           doc="the shop's time zone in Shopify (`Europe/Paris`): report days, birthdays, schedules; NULL: UTC"),
    Column("currency_code", String(3), nullable=True, doc="the shop's currency in Shopify (`EUR`)"),
    Column("primary_locale", String(16), nullable=True, doc="the shop's primary locale in Shopify (`fr`)"),
    Column("facts_read_at", UtcDateTime, nullable=True, doc="when name, time zone, currency, locale were read"),
)

programme_settings = Table(
    "programme_settings", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("data", Text, nullable=False, doc="JSON of loyalty.domain.programme.Programme"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("actor", String(255), nullable=True, doc="the staff member who saved it (session token `sub`); NULL: "
                                                    "the app, the CLI or a template at install"),
    UniqueConstraint("shop_id", "version", name="uq_programme_settings_shop_version"),
    CheckConstraint("version >= 1", name="version_positive"),
)

webhook_inbox = Table(
    "webhook_inbox", metadata,
    Column("id", Integer, primary_key=True),
    Column("webhook_id", String(255), nullable=False, unique=True),
    Column("shop_domain", String(255), nullable=False),
    Column("topic", String(100), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("processed_at", UtcDateTime, nullable=True),
    Column("failed_at", UtcDateTime, nullable=True, doc="set when attempts are exhausted"),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text, nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
)
Index("ix_webhook_inbox_unprocessed", webhook_inbox.c.id,
      sqlite_where=text("processed_at IS NULL AND failed_at IS NULL"),
      postgresql_where=text("processed_at IS NULL AND failed_at IS NULL"))
Index("ix_webhook_inbox_failed", webhook_inbox.c.failed_at,
      sqlite_where=text("failed_at IS NOT NULL"), postgresql_where=text("failed_at IS NOT NULL"))

webhook_bodies = Table(
    "webhook_bodies", metadata,
    Column("inbox_id", ForeignKey("webhook_inbox.id", ondelete="CASCADE"), primary_key=True),
    Column("body", LargeBinary, nullable=False, doc="the webhook's raw body, as signed"),
)
"""Each inbox row's body (5-30 KB), apart from the row: the claim and the processed mark change a row's
size, and SQLite rewrites a record with all its overflow pages when it does; a narrow inbox row keeps
those two updates cheap. Written in the same transaction as its row; deleted with it (ON DELETE CASCADE)."""

customers = Table(
    "customers", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("shopify_customer_id", BigInteger, nullable=True),
    Column("email", EmailText, nullable=True, doc="normalised: trimmed, lower-case"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("birthday", Date, nullable=True, doc="for the birthday perk (year may be a placeholder)"),
    Column("profile_updated_at", UtcDateTime, nullable=True,
           doc="Shopify's updated_at of the newest customers/create|update applied: older ones change nothing"),
    Column("accepts_loyalty_emails", Boolean, nullable=False, server_default=text("true"),
           doc="False: the customer opted out of loyalty emails (or unsubscribed from the shop's emails)"),
    Column("first_name", String(255), nullable=True, doc="protected customer data: support's search and page"),
    Column("last_name", String(255), nullable=True, doc="protected customer data: support's search and page"),
    Column("tags", Text, nullable=True, doc="the customer's Shopify tags, comma-separated, as last received"),
    Column("name_key", SearchKey, nullable=True,
           doc='"first last", folded (loyalty.domain.customer_search.name_keys): name search by prefix'),
    Column("surname_key", SearchKey, nullable=True, doc='"last first", folded: search by last name'),
    UniqueConstraint("shop_id", "shopify_customer_id", name="uq_customers_shop_shopify_id"),
    UniqueConstraint("shop_id", "email", name="uq_customers_shop_email"),
    CheckConstraint("shopify_customer_id IS NOT NULL OR email IS NOT NULL", name="identified"),
)

Index("ix_customers_name_key", customers.c.shop_id, customers.c.name_key, customers.c.id)
Index("ix_customers_surname_key", customers.c.shop_id, customers.c.surname_key, customers.c.id)

orders = Table(
    "orders", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("shopify_order_id", BigInteger, nullable=False),
    Column("name", String(64), nullable=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=True),
    Column("source_name", String(100), nullable=True),
    Column("currency", String(3), nullable=True),
    Column("merchandise", Money, nullable=True, doc="sum of line price x qty - discounts, shop money"),
    Column("non_earning_paid", Money, nullable=True, doc="paid by gift card or store credit"),
    Column("paid_at", UtcDateTime, nullable=True, doc="processed_at of the paid order"),
    Column("cancelled_at", UtcDateTime, nullable=True),
    Column("excluded_reason", String(200), nullable=True),
    Column("award", Integer, nullable=True, doc="points the order earns before refunds"),
    Column("pending_until", UtcDateTime, nullable=True),
    Column("settings_version", Integer, nullable=True),
    Column("capped", Integer, nullable=True, doc="points the programme's earning cap took from the award"),
    Column("campaigns", Text, nullable=True,
           doc="the campaigns that added to the award and what each added: JSON [[key, points], ...]; NULL: none"),
    UniqueConstraint("shop_id", "shopify_order_id", name="uq_orders_shop_order"),
    CheckConstraint("award IS NULL OR award >= 0", name="award_not_negative"),
    CheckConstraint("merchandise IS NULL OR merchandise >= 0", name="merchandise_not_negative"),
)
Index("ix_orders_customer_paid", orders.c.customer_id, orders.c.paid_at)  # a customer's last purchase, tier window
Index("ix_orders_pending_until", orders.c.pending_until)
Index("ix_orders_shop_name", orders.c.shop_id, orders.c.name)  # support's search by order number

collection_products = Table(
    "collection_products", metadata,
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True),
    Column("collection_id", BigInteger, primary_key=True, doc="a collection a campaign of the shop names"),
    Column("product_id", BigInteger, primary_key=True),
    Column("refreshed_at", UtcDateTime, nullable=False, doc="when the collection was last read from Shopify"),
)
"""The products of the collections campaigns are limited to, as Shopify listed them at the last refresh
(when the programme is saved, and daily)."""

refunds = Table(
    "refunds", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("shopify_refund_id", BigInteger, nullable=False),
    Column("shopify_order_id", BigInteger, nullable=False,
           doc="a refund arriving before its order creates the order's row, empty"),
    Column("merchandise", Money, nullable=False, doc="sum of refund_line_items subtotal, shop money"),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("shop_id", "shopify_refund_id", name="uq_refunds_shop_refund"),
    # A worker creating an order's row knows that no refund of it is committed (loyalty.services.orders.BatchHints).
    ForeignKeyConstraint(["shop_id", "shopify_order_id"], ["orders.shop_id", "orders.shopify_order_id"]),
    CheckConstraint("merchandise >= 0", name="merchandise_not_negative"),
)
Index("ix_refunds_order", refunds.c.shop_id, refunds.c.shopify_order_id)

ledger_entries = Table(
    "ledger_entries", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=True, doc="NULL once the customer is redacted"),
    Column("order_id", ForeignKey("orders.id"), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("pending", Integer, nullable=False, server_default=text("0")),
    Column("available", Integer, nullable=False, server_default=text("0")),
    Column("reason", Text, nullable=False),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("effective_at", UtcDateTime, nullable=False, doc="the business time of the event"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("settings_version", Integer, nullable=True),
    Column("actor", String(255), nullable=True, doc="who made a manual adjustment"),
    CheckConstraint("kind IN (%s)" % ", ".join(f"'{k}'" for k in ENTRY_KINDS), name="kind_known"),
    CheckConstraint(
        "(kind = 'earn' AND pending > 0 AND available = 0)"
        " OR (kind = 'mature' AND pending < 0 AND available = -pending)"
        " OR (kind IN ('claw_back', 'void') AND pending <= 0 AND available <= 0 AND pending + available < 0)"
        " OR (kind IN ('expire', 'redeem') AND pending = 0 AND available < 0)"
        " OR (kind IN ('recredit', 'bonus') AND pending = 0 AND available > 0)"
        " OR (kind = 'adjust' AND pending = 0 AND available <> 0)",
        name="signs_match_kind",
    ),
)
Index("ix_ledger_entries_customer_activity", ledger_entries.c.customer_id, ledger_entries.c.effective_at,
      ledger_entries.c.order_id, ledger_entries.c.kind, ledger_entries.c.pending, ledger_entries.c.available)
"""A customer's entries in time order with what their balance, pending lots and history need (migration 0027):
the loyalty page reads a long history from the index alone."""
Index("ix_ledger_entries_order", ledger_entries.c.order_id)

oauth_states = Table(
    "oauth_states", metadata,
    Column("nonce", String(64), primary_key=True,
           doc="the nonce of a signed OAuth `state` already used at the callback (admin.install_state): "
               "kept until that state expires, so it works once"),
    Column("shop_domain", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False, doc="when the state was issued"),
)

data_exports = Table(
    "data_exports", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("data_request_id", BigInteger, nullable=True),
    Column("shopify_customer_id", BigInteger, nullable=True),
    Column("body", Text, nullable=False, doc="JSON: what we store about the customer (customers/data_request)"),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("shop_id", "data_request_id", name="uq_data_exports_shop_request"),
)

VOUCHER_STATUSES = ("creating", "active", "refused", "cancelled", "used", "expired", "donated")
VOUCHER_KINDS = ("discount", "gift_card", "donation", "free_shipping", "store_credit")
"""What a redemption made: a discount code, a Shopify gift card, or a donation recorded for the merchant."""

vouchers = Table(
    "vouchers", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=True),
    Column("request_key", String(255), nullable=False, unique=True, doc="idempotency of the redemption"),
    Column("code", String(64), nullable=False),
    Column("points", Integer, nullable=False),
    Column("amount", Money, nullable=False),
    Column("minimum_subtotal", Money, nullable=True),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("shopify_discount_id", String(255), nullable=True),
    Column("reason", Text, nullable=True, doc="why Shopify refused it, or who cancelled it"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("kind", String(16), nullable=False, server_default=text("'discount'")),
    Column("reward_key", String(40), nullable=True, doc="the catalogue reward redeemed; NULL: a conversion"),
    Column("collection_id", BigInteger, nullable=True, doc="a discount code applies only to this collection"),
    Column("percentage", Numeric(5, 2), nullable=True, doc="a percentage off (1-100) instead of an amount"),
    Column("variant_id", BigInteger, nullable=True, doc="a picked free item: the code is for this variant only"),
    Column("credit_sent_at", UtcDateTime, nullable=True,
           doc="store credit: when the credit was last asked of Shopify (committed before asking)"),
    Column("remaining_amount", Money, nullable=True,
           doc="store credit: what is left unspent, as Shopify last reported it"),
    Column("store_credit_checked_at", UtcDateTime, nullable=True,
           doc="store credit: when remaining_amount was last read back from Shopify"),
    Column("checkout", Boolean, nullable=False, server_default=text("false"),
           doc="made at checkout: a short life, given back when unused (jobs/checkout_codes.py)"),
    UniqueConstraint("shop_id", "code", name="uq_vouchers_shop_code"),
    CheckConstraint("points >= 0 AND amount >= 0", name="positive"),
    CheckConstraint("status IN (%s)" % ", ".join(f"'{s}'" for s in VOUCHER_STATUSES), name="status_known"),
    CheckConstraint("kind IN (%s)" % ", ".join(f"'{s}'" for s in VOUCHER_KINDS), name="kind_known"),
    CheckConstraint("status != 'donated' OR kind = 'donation'", name="donated_is_donation"),
    CheckConstraint("percentage IS NULL OR (percentage > 0 AND percentage <= 100)", name="percentage_range"),
)
Index("ix_vouchers_customer", vouchers.c.customer_id)
Index("ix_vouchers_creating", vouchers.c.shop_id, vouchers.c.created_at,
      sqlite_where=text("status = 'creating'"), postgresql_where=text("status = 'creating'"))
Index("ix_vouchers_checkout_active", vouchers.c.ends_at,
      sqlite_where=text("checkout AND status = 'active'"), postgresql_where=text("checkout AND status = 'active'"))
Index("ix_vouchers_store_credit_open", vouchers.c.shop_id, vouchers.c.customer_id,
      sqlite_where=text("kind = 'store_credit' AND status IN ('creating', 'active')"),
      postgresql_where=text("kind = 'store_credit' AND status IN ('creating', 'active')"))

shop_collections = Table(
    "shop_collections", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(32), nullable=False, doc="'full_price': products with a variant at full price"),
    Column("shopify_collection_id", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("shop_id", "purpose", name="uq_shop_collections_shop_id"),
    CheckConstraint("purpose IN ('full_price')", name="purpose_known"),
)
"""Collections the app made in a shop and maintains (made again when the merchant deletes one)."""
bonus_awards = Table(
    "bonus_awards", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", ForeignKey("customers.id", ondelete="SET NULL"), nullable=True,
           doc="NULL once the customer is redacted"),
    Column("rule", String(48), nullable=False, doc="signup, birthday, or action:KEY"),
    Column("reference", String(255), nullable=False, doc="what it was for: the account, the year, the review id"),
    Column("idempotency_key", String(255), nullable=False, unique=True, doc="its bonus entry's key"),
    Column("asked", Integer, nullable=False, doc="the points the rule gives"),
    Column("points", Integer, nullable=False, doc="the points given once the caps took their share"),
    Column("reason", Text, nullable=False, doc="what it was for, and what the caps took"),
    Column("actor", String(255), nullable=True, doc="who awarded an action"),
    Column("awarded_at", UtcDateTime, nullable=False),
    CheckConstraint("points >= 0 AND points <= asked", name="points_within_asked"),
)
Index("ix_bonus_awards_customer_rule", bonus_awards.c.customer_id, bonus_awards.c.rule, bonus_awards.c.awarded_at)

perk_grants = Table(
    "perk_grants", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("reward_key", String(40), nullable=False),
    Column("period", String(8), nullable=False, server_default=text("''"),
           doc="'' for a status perk; the year for a birthday present (once a year)"),
    Column("tag", String(40), nullable=True, doc="customer tag that marks the perk in Shopify"),
    Column("granted_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True, doc="lifetime points fell below the threshold"),
    Column("tag_synced", Boolean, nullable=False, server_default=text("false"),
           doc="the tag is added (or, once revoked, removed) in Shopify"),
    UniqueConstraint("customer_id", "reward_key", "period", name="uq_perk_grants_customer_reward_period"),
)
Index("ix_perk_grants_unsynced", perk_grants.c.shop_id, perk_grants.c.tag_synced)

customer_sync = Table(
    "customer_sync", metadata,
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("changed_at", UtcDateTime, nullable=False, doc="last balance change not yet written to Shopify"),
)
Index("ix_customer_sync_shop", customer_sync.c.shop_id, customer_sync.c.changed_at)

sync_failures = Table(
    "sync_failures", metadata,
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("reason", Text, nullable=False, doc="what Shopify answered, e.g. 'Owner does not exist.'"),
    Column("attempts", Integer, nullable=False, server_default=text("1")),
    Column("first_failed_at", UtcDateTime, nullable=False),
    Column("failed_at", UtcDateTime, nullable=False, doc="the last refusal"),
    Column("next_attempt_at", UtcDateTime, nullable=False, doc="backoff; a balance change after failed_at is sooner"),
    CheckConstraint("attempts >= 1", name="attempts_positive"),
)
"""Customers the balance write-back set aside because Shopify refused their write (jobs.sync); their
customer_sync row stays, so nothing is lost; the row goes once a write of theirs succeeds."""
Index("ix_sync_failures_shop", sync_failures.c.shop_id, sync_failures.c.next_attempt_at)

NOTIFICATION_KINDS = ("points_available", "threshold_reached", "voucher_created", "points_expiring", "birthday",
                      "points_awarded", "birthday_gift", "tier_changed", "referral_friend", "referral_reward",
                      "store_credit_issued", "voucher_cancelled")
NOTIFICATION_STATUSES = ("pending", "sent", "failed", "skipped")
"""`pending` waits for the sender (or its next attempt); `sent` was accepted by SMTP (or captured in demo);
`failed` gave up after the last attempt (`loyalty notifications retry`); `skipped` may not be sent (no email
address, opted out): kept with its reason so the same event is never reconsidered."""

notifications = Table(
    "notifications", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False,
           doc="a redacted customer's emails go with them"),
    Column("kind", String(24), nullable=False),
    Column("dedup_key", String(255), nullable=False, unique=True, doc="one email per business event"),
    Column("language", String(2), nullable=False),
    Column("to_address", String(320), nullable=True),
    Column("subject", Text, nullable=True),
    Column("body_text", Text, nullable=True),
    Column("body_html", Text, nullable=True),
    Column("status", String(16), nullable=False, server_default=text("'pending'")),
    Column("transport", String(16), nullable=True, doc="how it was sent: smtp, or capture (demo, no SMTP_URL)"),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True, doc="the SMTP error of the last attempt, or why it was skipped"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    CheckConstraint("kind IN (%s)" % ", ".join(f"'{k}'" for k in NOTIFICATION_KINDS), name="kind_known"),
    CheckConstraint("status IN (%s)" % ", ".join(f"'{s}'" for s in NOTIFICATION_STATUSES), name="status_known"),
    CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name="sent_has_time"),
    CheckConstraint("status = 'skipped' OR (to_address IS NOT NULL AND subject IS NOT NULL)", name="sendable"),
)
Index("ix_notifications_due", notifications.c.status, notifications.c.next_attempt_at)
Index("ix_notifications_customer", notifications.c.customer_id)

email_texts = Table(
    "email_texts", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("language", String(2), nullable=False),
    Column("subject", Text, nullable=False, doc="Jinja, checked by loyalty.domain.email_texts.check"),
    Column("body", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("shop_id", "kind", "language", name="uq_email_texts_shop_kind_language"),
)
"""A merchant's own subject and body for an email kind and language (no row: the built-in text)."""
IMPORT_KINDS = ("history", "reconcile")
IMPORT_STATUSES = ("running", "completed", "failed")

import_runs = Table(
    "import_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False, doc="history (past orders) or reconcile (missed webhooks)"),
    Column("status", String(16), nullable=False),
    Column("source", Text, nullable=True, doc="the JSONL's URL or file path"),
    Column("bulk_operation_id", String(255), nullable=True),
    Column("lines_done", BigInteger, nullable=False, server_default=text("0"), doc="JSONL lines committed"),
    Column("bytes_done", BigInteger, nullable=False, server_default=text("0"), doc="JSONL bytes committed"),
    Column("orders_done", Integer, nullable=False, server_default=text("0")),
    Column("orders_credited", Integer, nullable=False, server_default=text("0")),
    Column("points_credited", BigInteger, nullable=False, server_default=text("0")),
    Column("last_order_id", BigInteger, nullable=True, doc="Shopify id of the last order committed"),
    Column("watermark", UtcDateTime, nullable=True, doc="reconcile: orders updated up to here are applied"),
    Column("error", Text, nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    CheckConstraint("kind IN (%s)" % ", ".join(f"'{k}'" for k in IMPORT_KINDS), name="kind_known"),
    CheckConstraint("status IN (%s)" % ", ".join(f"'{s}'" for s in IMPORT_STATUSES), name="status_known"),
    CheckConstraint("lines_done >= 0 AND bytes_done >= 0 AND orders_done >= 0", name="progress_not_negative"),
)
Index("ix_import_runs_shop", import_runs.c.shop_id, import_runs.c.kind, import_runs.c.id)
Index("uq_import_runs_one_running", import_runs.c.shop_id, import_runs.c.kind, unique=True,
      sqlite_where=text("status = 'running'"), postgresql_where=text("status = 'running'"))

BULK_WRITE_STATUSES = ("preparing", "starting", "running", "done")
"""`preparing`: lines being added; `starting`: the JSONL is being staged and the bulk mutation started (a
crash here is resolved by asking Shopify for the app's current bulk mutation); `running`: Shopify runs it
(`bulk_operation_id`); `done`: its results applied (or it was given up, with `error`)."""

bulk_writes = Table(
    "bulk_writes", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("bulk_operation_id", String(255), nullable=True),
    Column("lines", Integer, nullable=False, server_default=text("0"), doc="customers in the JSONL"),
    Column("bytes", BigInteger, nullable=False, server_default=text("0"), doc="size of the JSONL"),
    Column("written", Integer, nullable=False, server_default=text("0")),
    Column("rejected", Integer, nullable=False, server_default=text("0"), doc="lines Shopify refused (userErrors)"),
    Column("error", Text, nullable=True),
    Column("lease_until", UtcDateTime, nullable=True, doc="a worker is on it until then"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("starting_at", UtcDateTime, nullable=True, doc="when the start was first attempted"),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    CheckConstraint("status IN (%s)" % ", ".join(f"'{s}'" for s in BULK_WRITE_STATUSES), name="status_known"),
)
Index("ix_bulk_writes_shop", bulk_writes.c.shop_id, bulk_writes.c.id)
Index("uq_bulk_writes_one_active", bulk_writes.c.shop_id, unique=True,
      sqlite_where=text("status <> 'done'"), postgresql_where=text("status <> 'done'"))

bulk_write_lines = Table(
    "bulk_write_lines", metadata,
    Column("write_id", ForeignKey("bulk_writes.id", ondelete="CASCADE"), primary_key=True),
    Column("line", Integer, primary_key=True, autoincrement=False, doc="__lineNumber in Shopify's results"),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("changed_at", UtcDateTime, nullable=False, doc="customer_sync.changed_at when the line was made"),
    Column("variables", Text, nullable=False, doc="the JSONL line: the mutation's variables"),
)
Index("uq_bulk_write_lines_customer", bulk_write_lines.c.write_id, bulk_write_lines.c.customer_id, unique=True)

tier_members = Table(
    "tier_members", metadata,
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("tier", String(40), nullable=False, doc="the tier's key in the programme's `tiers.levels`"),
    Column("since", UtcDateTime, nullable=False, doc="when the customer entered the tier"),
    Column("until", UtcDateTime, nullable=False, doc="kept whatever the figure until then (retention, period end)"),
)
"""Each customer's current VIP tier (loyalty.services.tiers); no row: no tier."""
Index("ix_tier_members_shop_until", tier_members.c.shop_id, tier_members.c.until)

tier_changes = Table(
    "tier_changes", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("from_tier", String(40), nullable=True, doc="NULL: from no tier"),
    Column("to_tier", String(40), nullable=True, doc="NULL: to no tier"),
    Column("reason", Text, nullable=False, doc="the figure and the rule that moved the customer"),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("settings_version", Integer, nullable=False, doc="the programme version that decided it"),
    CheckConstraint("from_tier IS NOT NULL OR to_tier IS NOT NULL", name="a_change"),
)
"""Every tier change of a customer, with its reason: their tier history."""
Index("ix_tier_changes_customer", tier_changes.c.customer_id)

tier_recalculations = Table(
    "tier_recalculations", metadata,
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True),
    Column("settings_version", Integer, nullable=False, doc="the programme version whose tiers are applied"),
    Column("next_customer_id", Integer, nullable=False, server_default=text("0"),
           doc="customers with a lower id are done"),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True, doc="NULL: under way"),
)
"""The recalculation of every customer of a shop that new tier settings ask for (jobs.tiers)."""
REFERRAL_STATUSES = ("invited", "attributed", "rewarded", "refused", "nothing")
"""`invited`: the friend has their code, no first order yet; `attributed`: the friend's first order is known,
waiting for its pending period; `rewarded`: the referrer earned; `refused`: a fraud rule or a cap refused it
(`rule`, `reason`); `nothing`: the first order was cancelled or fully refunded."""

referrals = Table(
    "referrals", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("referrer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("friend_email", String(320), nullable=False, doc="as the friend gave it: trimmed, lower-case"),
    Column("friend_key", String(320), nullable=False, doc="normalised (loyalty.domain.referrals.normalise_email)"),
    Column("voucher_id", ForeignKey("vouchers.id", ondelete="SET NULL"), nullable=True, doc="the friend's code"),
    Column("order_id", ForeignKey("orders.id", ondelete="SET NULL"), nullable=True, doc="the friend's first order"),
    Column("shopify_order_id", BigInteger, nullable=True),
    Column("status", String(16), nullable=False),
    Column("rule", String(32), nullable=True, doc="the rule that refused it (loyalty.domain.referrals)"),
    Column("reason", Text, nullable=True),
    Column("points", Integer, nullable=True, doc="what the referrer earned"),
    Column("settings_version", Integer, nullable=False, doc="the programme the invitation was made under"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("settled_at", UtcDateTime, nullable=True, doc="rewarded, refused or nothing"),
    UniqueConstraint("shop_id", "friend_key", name="uq_referrals_shop_friend"),
    CheckConstraint("status IN (%s)" % ", ".join(f"'{s}'" for s in REFERRAL_STATUSES), name="status_known"),
    CheckConstraint("points IS NULL OR points >= 0", name="points_not_negative"),
)
Index("ix_referrals_referrer", referrals.c.referrer_id)
Index("ix_referrals_open", referrals.c.shop_id, referrals.c.status)

referral_orders = Table(
    "referral_orders", metadata,
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True),
    Column("shopify_order_id", BigInteger, primary_key=True, autoincrement=False),
    Column("email", String(32), nullable=True, doc="digest of the normalised email"),
    Column("addresses", Text, nullable=False, doc="digests of the shipping and default addresses, space-separated"),
    Column("phones", Text, nullable=False, doc="digests of the order's phones, space-separated"),
    Column("codes", Text, nullable=False, doc="the discount codes used, upper-case, each between spaces"),
    Column("paid_at", UtcDateTime, nullable=False),
)
"""What a paid order tells the referral rules of its buyer (while a shop's referrals are on): digests only,
no address or phone in clear. Its customer is the order's (orders.customer_id, kept by merges)."""
Index("ix_referral_orders_email", referral_orders.c.shop_id, referral_orders.c.email)
FLOW_TRIGGER_STATUSES = ("pending", "sent", "failed", "skipped")
"""`pending` waits for the sender (or its next attempt); `sent` Shopify accepted (flowTriggerReceive without
userErrors); `failed` Shopify refused it, or it failed its last attempt (`loyalty flow retry`); `skipped` can
no longer be sent (the shop uninstalled the app), kept with the reason."""

flow_triggers = Table(
    "flow_triggers", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False,
           doc="a redacted customer's triggers go with them"),
    Column("handle", String(30), nullable=False, doc="the trigger extension's handle"),
    Column("payload", Text, nullable=False, doc="JSON sent as flowTriggerReceive's payload"),
    Column("dedup_key", String(400), nullable=False, unique=True, doc="one trigger per event announced"),
    Column("status", String(16), nullable=False, server_default=text("'pending'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    CheckConstraint("status IN (%s)" % ", ".join(f"'{s}'" for s in FLOW_TRIGGER_STATUSES), name="status_known"),
    CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name="sent_has_time"),
)
Index("ix_flow_triggers_due", flow_triggers.c.status, flow_triggers.c.next_attempt_at)

AUDIT_ACTIONS = ("programme_saved", "points_adjusted", "action_awarded", "voucher_cancelled", "birthday_corrected",
                 "failed_work_retried", "email_text_saved")
"""What the audit log records: every change a person makes to the programme or to a customer's account."""

audit_events = Table(
    "audit_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(255), nullable=True, doc="the staff member (session token `sub`); NULL: the CLI"),
    Column("action", String(32), nullable=False),
    Column("customer_id", ForeignKey("customers.id", ondelete="SET NULL"), nullable=True,
           doc="the customer it was about, if any (kept as NULL once the customer is redacted)"),
    Column("subject", String(255), nullable=True, doc="what it was about: a programme version, a code, a job"),
    Column("summary", Text, nullable=False, doc="one line a person reads: what changed, and why"),
    Column("details", Text, nullable=True, doc="JSON: the diff of a programme version, the before and after"),
    CheckConstraint("action IN (%s)" % ", ".join(f"'{a}'" for a in AUDIT_ACTIONS), name="action_known"),
)
"""Who changed what, when and why, per shop, newest first in the admin's Audit log; never updated."""
Index("ix_audit_events_shop_at", audit_events.c.shop_id, audit_events.c.at)
Index("ix_audit_events_shop_action_at", audit_events.c.shop_id, audit_events.c.action, audit_events.c.at)
Index("ix_audit_events_customer", audit_events.c.customer_id)

# -- ledger roll-ups (migration 0030): the home page and the liability report at any size -------------------

ledger_rollups = Table(
    "ledger_rollups", metadata,
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True),
    Column("watermark", Integer, nullable=False, server_default=text("0"),
           doc="every ledger entry of the shop with an id up to this one is in the totals; none above it"),
    Column("zone", String(64), nullable=False, doc="the time zone the days were cut in: another one rebuilds"),
    Column("max_effective_at", UtcDateTime, nullable=True, doc="the latest effective_at rolled up"),
    Column("horizon_id", Integer, nullable=True,
           doc="PostgreSQL: the highest id seen at the last run, rolled up once every transaction then open ended"),
    Column("horizon_xid", BigInteger, nullable=True, doc="PostgreSQL: the snapshot's xmax at the last run"),
    Column("rolled_at", UtcDateTime, nullable=True),
)
"""Per shop, how far the ledger is rolled up (loyalty/services/ledger_rollup.py)."""

ledger_day_totals = Table(
    "ledger_day_totals", metadata,
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True, doc="the shop's calendar day of the entries' effective_at"),
    Column("kind", String(16), primary_key=True),
    Column("pending", BigInteger, nullable=False),
    Column("available", BigInteger, nullable=False),
    Column("entries", BigInteger, nullable=False),
)
"""The ledger's sums per shop day and entry kind, up to the watermark."""

ledger_customer_totals = Table(
    "ledger_customer_totals", metadata,
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True),
    Column("customer_id", Integer, primary_key=True, doc="0: entries of no customer (redacted ones)"),
    Column("owed", BigInteger, nullable=False, doc="pending + available"),
    Column("last_active", Date, nullable=True, doc="shop day of the last customer activity (reports.ACTIVITY)"),
)
"""Per customer with entries (a member), up to the watermark."""

ledger_activity_totals = Table(
    "ledger_activity_totals", metadata,
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True),
    Column("last_active", Date, primary_key=True, doc="0001-01-01: no activity (or no customer)"),
    Column("owed", BigInteger, nullable=False),
    Column("customers", BigInteger, nullable=False),
)
"""ledger_customer_totals summed per day of last activity: dormant points and active members in a few rows."""

# A period's paid orders and rewards (home page). The time leads: led by shop_id, SQLite would take these for
# every `shop_id = ? ORDER BY id DESC LIMIT 1` (the shop's latest order) and sort the whole shop.
Index("ix_orders_paid_shop", orders.c.paid_at, orders.c.shop_id, orders.c.customer_id, orders.c.merchandise,
      orders.c.cancelled_at)  # covering: the period's orders read from the index alone
Index("ix_vouchers_created_shop", vouchers.c.created_at, vouchers.c.shop_id, vouchers.c.status, vouchers.c.kind,
      vouchers.c.reward_key, vouchers.c.points)  # covering (migration 0032): rewards by popularity from the index

# -- the orders rolled up (migration 0032; loyalty/services/order_rollup.py) --------------------------------------
def _rollup_state(name: str, log: str) -> Table:
    """Per shop, how far an append-only log of changes is rolled up (as ledger_rollups)."""
    return Table(
        name, metadata,
        Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True),
        Column("watermark", Integer, nullable=False, server_default=text("0"), doc=f"highest {log} id rolled up"),
        Column("zone", String(64), nullable=False, doc="the time zone the days were cut in: another one rebuilds"),
        Column("horizon_id", Integer, nullable=True, doc="PostgreSQL: as ledger_rollups.horizon_id"),
        Column("horizon_xid", BigInteger, nullable=True, doc="PostgreSQL: as ledger_rollups.horizon_xid"),
        Column("rolled_at", UtcDateTime, nullable=True),
    )


ORDER_BUYERS = ("member", "customer", "guest")
"""Who placed a counted order, decided by the order alone (its excluded_reason, stable once paid): `member` the
programme counted it (a customer, not excluded), `guest` no customer, `customer` a customer excluded by sales
channel, customer tag or B2B. Test orders count nowhere."""
JOINED = "joined"
"""order_changes' class of a customer row made (+1) or deleted (-1), not an order: their sum is the shop's customers."""

order_changes = Table(
    "order_changes", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("paid_at", UtcDateTime, nullable=False, doc="the order's: a change counts on its paid day"),
    Column("buyer", String(8), nullable=False, doc="ORDER_BUYERS, or `joined`: a customer row made or deleted"),
    Column("orders", Integer, nullable=False,
           doc="+1 an order counted, -1 no longer (cancelled), 0 a refund; `joined`: +1 made, -1 deleted"),
    Column("revenue", Money, nullable=False, doc="merchandise less refunds, the change of it"),
)
"""Append-only, written by database triggers (migration 0032) on every INSERT of an order or a refund and every
UPDATE of an order's paid_at, cancelled_at, excluded_reason or merchandise: the order's counted contribution
before the write taken away, the one after it added. An order counts when paid, not cancelled, not a test order:
one order and its merchandise less its refunds, at its paid_at. Summed, the changes of a day equal that day's
orders as they stand, whatever order the writes came in. Customer rows made (+1, at created_at) and deleted (-1)
are logged as `joined`: their sum is the shop's customers."""

order_day_totals = Table(
    "order_day_totals", metadata,
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True, doc="the shop's calendar day of paid_at"),
    Column("buyer", String(8), primary_key=True),
    Column("orders", BigInteger, nullable=False),
    Column("revenue", Money, nullable=False),
)
"""order_changes summed per shop day and buyer class, up to order_rollups.watermark."""

order_rollups = _rollup_state("order_rollups", "order_changes")
"""Per shop, how far order_changes are rolled up."""

voucher_changes = Table(
    "voucher_changes", metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False, doc="the voucher's: a change counts on its day of issue"),
    Column("kind", String(16), nullable=False),
    Column("reward_key", String(40), nullable=False, doc="'': a conversion"),
    Column("vouchers", Integer, nullable=False, doc="+1 a voucher counted (not cancelled), -1 no longer"),
    Column("points", Integer, nullable=False),
)
"""Append-only, written by database triggers (migration 0032) on every INSERT of a voucher and every UPDATE of
its status, points, created_at, kind or reward_key: its counted contribution (not cancelled) before the write
taken away, the one after added. The rewards by popularity of the home page, rolled up like order_changes."""

voucher_day_totals = Table(
    "voucher_day_totals", metadata,
    Column("shop_id", ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True, doc="the shop's calendar day of created_at"),
    Column("kind", String(16), primary_key=True),
    Column("reward_key", String(40), primary_key=True),
    Column("vouchers", BigInteger, nullable=False),
    Column("points", BigInteger, nullable=False),
)
"""voucher_changes summed per shop day, kind and reward key, up to voucher_rollups.watermark."""

voucher_rollups = _rollup_state("voucher_rollups", "voucher_changes")
"""Per shop, how far voucher_changes are rolled up."""
