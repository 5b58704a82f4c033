"""A shop's programme settings: every number of the points rules, validated and versioned.

Each saved change is a new version; an award remembers the version it used so a later refund claws back
with the rule of the original award.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from decimal import Decimal

from loyalty.domain.errors import ProgrammeError
from loyalty.domain.settings.campaigns import Campaign, check_campaigns
from loyalty.domain.settings.earning import Earning
from loyalty.domain.settings.full_price import FullPrice
from loyalty.domain.settings.referrals import ReferralSettings
from loyalty.domain.settings.section import Section, check_parts
from loyalty.domain.settings.tiers import FreeShipping, Tier, Tiers
from loyalty.domain.settings.store_credit import StoreCredit
from loyalty.domain.settings.flow import FlowSettings
from loyalty.domain.settings.branding import Branding

EXPIRY_POLICIES = ("never", "after_last_purchase")
NEGATIVE_BALANCE_POLICIES = ("allow", "floor")
ROUNDING_POLICIES = ("floor", "nearest")
LANGUAGES = ("fr", "en")
REWARD_KINDS = ("perk", "voucher", "free_item", "gift_card", "donation", "percentage", "free_shipping",
                "store_credit")
"""`perk`: a status unlocked by lifetime points and never spent (a customer tag; `birthday` perks are given on
the birthday). The others are redeemable and spend their points: `voucher` a fixed-amount discount code,
`free_item` a code worth `amount` on the `collection_id` selection (or, with `customer_picks`, the one unit
the customer picks from it, free), `gift_card` a Shopify gift card, `donation` a gift to `cause` recorded
for the merchant's report, `percentage` a code for `percentage` % off, `free_shipping` a free shipping
code, `store_credit` `amount` credited to the customer's Shopify store credit account (spent online or at
the point of sale, no code)."""
REWARD_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
TAG = re.compile(r"^[^,]{1,40}$")


@dataclass(frozen=True)
class Reward(Section):
    """One entry of the reward catalogue, at a threshold of points."""

    REQUIRED = ("key", "kind", "points", "title")

    key: str
    kind: str
    points: int
    """perk: lifetime points that unlock it; other kinds: the points it costs."""
    title: str
    description: str = ""
    tag: str = ""
    """perk: the customer tag that marks it in Shopify (themes, Flow, the merchant's segments)."""
    amount: Decimal = Decimal("0")
    """voucher, free_item, gift_card, store_credit: the value in shop currency; donation: the value given to
    the cause."""
    collection_id: int = 0
    """free_item: the selection the item comes from; voucher: limits the code to it (0: every product)."""
    cause: str = ""
    """donation: who receives it."""
    birthday: bool = False
    """perk: given once a year on the customer's birthday, by the daily birthday job."""
    percentage: Decimal = Decimal("0")
    """percentage: the share off, above 0 and at most 100 (%)."""
    customer_picks: bool = False
    """free_item: the customer picks a product variant of the selection and gets that one unit free (a code
    for exactly that variant, worth its price); `amount` is then the highest price that may be picked (0:
    any)."""

    @property
    def spends_points(self) -> bool:
        return self.kind != "perk"

    def check(self, where: str) -> None:
        """Refuse an inconsistent reward, naming it (`rewards[2].amount: ...`)."""
        if not REWARD_KEY.match(self.key):
            raise ProgrammeError(f"{where}.key: {self.key!r} must be 1-40 of a-z, 0-9, _ and -")
        if self.kind not in REWARD_KINDS:
            raise ProgrammeError(f"{where}.kind: must be one of {', '.join(REWARD_KINDS)}")
        if not 1 <= self.points <= 10_000_000:
            raise ProgrammeError(f"{where}.points: must be between 1 and 10000000")
        if not self.title.strip() or len(self.title) > 120:
            raise ProgrammeError(f"{where}.title: must be 1-120 characters")
        if self.tag and not TAG.match(self.tag):
            raise ProgrammeError(f"{where}.tag: at most 40 characters, no comma")
        picked = self.kind == "free_item" and self.customer_picks
        if self.kind in ("voucher", "free_item", "gift_card", "donation", "store_credit") and self.amount <= 0 and not picked:
            raise ProgrammeError(f"{where}.amount: a {self.kind} needs an amount above 0")
        if picked and self.amount < 0:
            raise ProgrammeError(f"{where}.amount: the highest price that may be picked is 0 (any) or more")
        if self.customer_picks and self.kind != "free_item":
            raise ProgrammeError(f"{where}.customer_picks: only a free item is picked by the customer")
        if self.kind in ("percentage", "free_shipping") and self.amount != 0:
            raise ProgrammeError(f"{where}.amount: a {self.kind} code has no amount (leave it 0)")
        if self.kind == "percentage" and not 0 < self.percentage <= 100:
            raise ProgrammeError(f"{where}.percentage: a percentage off is above 0 and at most 100")
        if self.kind != "percentage" and self.percentage != 0:
            raise ProgrammeError(f"{where}.percentage: only a percentage reward has one")
        if self.kind == "free_item" and self.collection_id <= 0:
            raise ProgrammeError(f"{where}.collection_id: a free item needs the collection it is chosen from")
        if self.kind == "donation" and not self.cause.strip():
            raise ProgrammeError(f"{where}.cause: a donation needs the cause it goes to")
        if self.birthday and self.kind != "perk":
            raise ProgrammeError(f"{where}.birthday: only a perk can be a birthday present")
        if self.collection_id < 0:
            raise ProgrammeError(f"{where}.collection_id: must be 0 or a collection id")


@dataclass(frozen=True)
class Programme(Section):
    """The rules that turn orders into points for one shop: one JSON document, validated whole. Parts of it
    are Sections of their own (`NESTED`), each in loyalty.domain.settings."""

    NESTED = {"rewards": Reward, "tiers": Tiers, "full_price": FullPrice, "earning": Earning, "campaigns": Campaign,
              "store_credit": StoreCredit, "referrals": ReferralSettings, "flow": FlowSettings,
              "branding": Branding}

    earn_rate: Decimal = Decimal("1")
    pending_days: int = 14
    non_earning_gateways: tuple[str, ...] = ("gift_card", "shopify_store_credit")
    excluded_customer_tags: tuple[str, ...] = ()
    exclude_b2b: bool = False
    excluded_source_names: tuple[str, ...] = ()
    expiry: str = "never"
    expiry_months: int = 12
    negative_balance: str = "allow"
    voucher_value_per_point: Decimal = Decimal("0.1")
    voucher_minimum_subtotal: Decimal = Decimal("0")
    voucher_validity_days: int = 30
    voucher_collection_id: int = 0
    """Vouchers apply only to this collection (e.g. full-price items); 0: to every product."""
    voucher_expiry_returns_points: bool = False
    """An unused voucher that expires gives its points back (True) or they are lost (False)."""
    voucher_combines_with_discounts: bool = False
    """False: a voucher combines with no other discount (one code per order)."""
    rounding: str = "floor"
    """How an order's points are rounded to whole points: `floor` (never more than earned) or `nearest`."""
    earn_on_shipping: bool = False
    """Shipping paid earns points too."""
    earn_on_taxes: bool = True
    """Taxes included in prices earn points (False: only the price before tax earns). Tax added on top of
    prices never earns."""
    language: str = "fr"
    """Language of the messages customers receive: fr or en."""
    conversion_enabled: bool = True
    """Customers may convert any number of available points into a voucher (store B), at
    voucher_value_per_point, with the voucher_* terms."""
    conversion_minimum_points: int = 1
    """The fewest points a conversion may spend."""
    rewards: tuple[Reward, ...] = ()
    """The reward catalogue: status perks and redeemable rewards at their thresholds."""
    emails: bool = True
    """Customers receive the loyalty emails (points available, perk unlocked, voucher, expiry, birthday)."""
    shop_name: str = ""
    """The shop's name as emails show it; empty: the shop's domain name."""
    tiers: Tiers = Tiers()
    """VIP tiers (loyalty.domain.settings.tiers); off by default."""
    full_price: FullPrice = FullPrice()
    """Vouchers limited to the app's own full-price collection (off: `voucher_collection_id`)."""
    earning: Earning = Earning()
    """Ways to earn beyond a purchase (sign-up, birthday, actions) and the earning cap; all off by default."""
    campaigns: tuple[Campaign, ...] = ()
    """Time-boxed earning rules (multipliers, bonuses): loyalty.domain.settings.campaigns; none by default."""
    store_credit: StoreCredit = StoreCredit()
    """What a conversion makes (a code by default, or store credit) and how long store credit lasts."""
    referrals: ReferralSettings = ReferralSettings()
    """The referral programme (off by default): loyalty.domain.settings.referrals."""
    flow: FlowSettings = FlowSettings()
    """Shopify Flow: whether the shop's loyalty events are sent to Flow as triggers (off)."""
    branding: Branding = Branding()
    """The shopper's page: colours, logo, programme name, a few wording overrides (today's look by default)."""

    def __post_init__(self) -> None:
        if self.earn_rate < 0:
            raise ProgrammeError("earn_rate: must be 0 or more points per currency unit")
        if not 0 <= self.pending_days <= 3650:
            raise ProgrammeError("pending_days: must be between 0 and 3650")
        if self.expiry not in EXPIRY_POLICIES:
            raise ProgrammeError(f"expiry: must be one of {', '.join(EXPIRY_POLICIES)}")
        if not 1 <= self.expiry_months <= 120:
            raise ProgrammeError("expiry_months: must be between 1 and 120")
        if self.voucher_value_per_point <= 0:
            raise ProgrammeError("voucher_value_per_point: must be more than 0")
        if self.voucher_minimum_subtotal < 0:
            raise ProgrammeError("voucher_minimum_subtotal: must be 0 or more")
        if not 1 <= self.voucher_validity_days <= 3650:
            raise ProgrammeError("voucher_validity_days: must be between 1 and 3650")
        if self.negative_balance not in NEGATIVE_BALANCE_POLICIES:
            raise ProgrammeError(f"negative_balance: must be one of {', '.join(NEGATIVE_BALANCE_POLICIES)}")
        if self.rounding not in ROUNDING_POLICIES:
            raise ProgrammeError(f"rounding: must be one of {', '.join(ROUNDING_POLICIES)}")
        if self.language not in LANGUAGES:
            raise ProgrammeError(f"language: must be one of {', '.join(LANGUAGES)}")
        if not 1 <= self.conversion_minimum_points <= 10_000_000:
            raise ProgrammeError("conversion_minimum_points: must be between 1 and 10000000")
        if len(self.shop_name) > 120:
            raise ProgrammeError("shop_name: at most 120 characters")
        if self.voucher_collection_id < 0:
            raise ProgrammeError("voucher_collection_id: must be 0 or a collection id")
        self.full_price.check("full_price")
        if not isinstance(self.earning, Earning):
            raise ProgrammeError("earning: expected an object")
        self.earning.check("earning")
        self.store_credit.check("store_credit")
        self.branding.check("branding")
        seen = check_parts(self.rewards, Reward, "rewards", "a reward")
        self.tiers.check("tiers")
        self.tiers.check_rewards("tiers", seen)
        check_campaigns(self.campaigns)

    def reward(self, key: str) -> Reward | None:
        """The catalogue entry with that key, or None."""
        return next((r for r in self.rewards if r.key == key), None)

    @property
    def perks(self) -> tuple[Reward, ...]:
        """Status perks, lowest threshold first."""
        return tuple(sorted((r for r in self.rewards if r.kind == "perk"), key=lambda r: (r.points, r.key)))

    @property
    def redeemable(self) -> tuple[Reward, ...]:
        """Rewards that spend points, cheapest first."""
        return tuple(sorted((r for r in self.rewards if r.spends_points), key=lambda r: (r.points, r.key)))

    @property
    def thresholds(self) -> tuple[int, ...]:
        """The ladder of distinct thresholds, lowest first."""
        return tuple(sorted({r.points for r in self.rewards}))

    @classmethod
    def from_dict(cls, data, where: str = "") -> "Programme":
        """Build from JSON-like data, refusing unknown fields and wrong types with the field's path."""
        return super().from_dict(data, where)

    def to_json(self) -> str:
        """Canonical JSON for storage."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def with_changes(self, **changes) -> "Programme":
        """A new programme with some top-level fields changed (validated like from_dict)."""
        return Programme.from_dict({**self.to_dict(), **changes})

    def with_paths(self, changes: dict[str, object]) -> "Programme":
        """A new programme with settings changed by dotted path (`tiers.basis=spent`,
        `rewards.carte-cadeau-10.points=350`; a list item is named by its `key` or its index; a path to an
        item not in the list adds it (an object, its `key` taken from the path); `null` removes it).
        Validated whole like from_dict: nothing changes unless every change is valid."""
        document = self.to_dict()
        for path, value in changes.items():
            set_path(document, path, value)
        return Programme.from_dict(document)


def set_path(document: dict, path: str, value) -> None:
    """Set `value` at the dotted `path` of a JSON-like document (see Programme.with_paths). A text value is
    read as JSON unless the setting it replaces is text (`shop_name=2024` stays a name)."""
    names = [n.strip() for n in path.split(".")]
    if not path.strip() or any(not n for n in names):
        raise ProgrammeError(f"{path!r}: expected a setting name or a dotted path")
    node, where = document, ""
    for depth, name in enumerate(names):
        last = depth == len(names) - 1
        here = f"{where}.{name}" if where else name
        if isinstance(node, dict):
            if last:
                node[name] = _read_value(value, node.get(name))
                return
            if node.get(name) is None:
                if name not in node:
                    raise ProgrammeError(f"{here}: unknown setting")
                node[name] = {}
            node = node[name]
        elif isinstance(node, list):
            index = _item_index(node, name)
            if last:
                new = _read_value(value, node[index] if index is not None else {})
                if new is None:
                    if index is None:
                        raise ProgrammeError(f"{here}: no such item to remove")
                    del node[index]
                elif index is None:
                    if not isinstance(new, dict):
                        raise ProgrammeError(f"{here}: a new item is an object")
                    node.append({"key": name, **new} if not name.isdigit() else new)
                else:
                    node[index] = new
                return
            if index is None:
                raise ProgrammeError(f"{here}: no item with that key")
            node = node[index]
        else:
            raise ProgrammeError(f"{where}: is a value, it has no {name!r}")
        where = here


def _item_index(items: list, name: str) -> int | None:
    """The position of the list item named `name` (its `key`, else its index), or None."""
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("key") == name:
            return index
    if name.isdigit() and int(name) < len(items):
        return int(name)
    return None


def _read_value(value, current):
    if not isinstance(value, str) or isinstance(current, str):
        return value
    try:
        return json.loads(value, parse_float=Decimal)
    except ValueError:
        return value


def _reward(key: str, kind: str, points: int, title: str, **extra) -> Reward:
    return Reward(key=key, kind=kind, points=points, title=title, **extra)


TEMPLATES: dict[str, Programme] = {
    # Store A (../shared/seeds/store-a-fidelite-fr.txt): 1 point per euro online and in store, nothing on
    # gift cards or partner resellers, 14 days pending, never expires, perks at 150/300/500/1000, emails.
    "store-a": Programme(
        earn_rate=Decimal("1"), pending_days=14, expiry="never", language="fr", conversion_enabled=False,
        non_earning_gateways=("gift_card", "shopify_store_credit"),
        excluded_source_names=("partner_reseller",), excluded_customer_tags=("revendeur",),
        rewards=(
            _reward("anniversaire", "perk", 150, "Une surprise pour ton anniversaire",
                    description="Dans ta boîte mail", tag="fidelite-anniversaire", birthday=True),
            _reward("avant-premiere", "perk", 150, "Accès en avant-première",
                    description="Aux collections et retours en stock", tag="fidelite-avant-premiere"),
            _reward("carte-cadeau-10", "gift_card", 300, "10 € en carte cadeau", amount=Decimal("10")),
            _reward("don-association", "donation", 300, "Ou un don de 10 € à une association",
                    amount=Decimal("10"), cause="Association partenaire"),
            _reward("accessoire-upcycle", "free_item", 500, "Un accessoire upcyclé offert",
                    amount=Decimal("25"), collection_id=1001),
            _reward("culotte-offerte", "free_item", 500, "Une culotte offerte parmi une sélection",
                    amount=Decimal("35"), collection_id=1002),
            _reward("ambassadrice", "perk", 1000, "Programme ambassadrice", tag="fidelite-ambassadrice"),
        ),
    ),
    # Store B (../shared/seeds/store-b-loyalty-en.txt): points converted into a voucher from the account
    # page; valid one year after the last purchase (any purchase extends all); a voucher lasts one month,
    # needs a 100 EUR basket, excludes discounted products (the full-price collection) and combines with
    # nothing; a cancelled voucher re-credits its points.
    "store-b": Programme(
        earn_rate=Decimal("1"), pending_days=14, expiry="after_last_purchase", expiry_months=12, language="en",
        conversion_enabled=True, conversion_minimum_points=100, voucher_value_per_point=Decimal("0.1"),
        voucher_minimum_subtotal=Decimal("100"), voucher_validity_days=30, voucher_collection_id=2001,
        voucher_combines_with_discounts=False, voucher_expiry_returns_points=False,
    ),
    # An example of VIP tiers: Bronze, Silver and Gold by the amount spent over the last 12 months, kept at
    # least 12 months after qualifying; higher tiers earn more per euro, Gold has a reward of its own and a
    # free shipping code every month (valid 30 days).
    "vip-tiers": Programme(
        earn_rate=Decimal("1"), pending_days=14, expiry="never", language="en", conversion_enabled=True,
        conversion_minimum_points=100, voucher_value_per_point=Decimal("0.05"),
        tiers=Tiers(enabled=True, basis="spent", window="rolling_12_months", retention_months=12, levels=(
            Tier(key="bronze", name="Bronze", threshold=Decimal("100"), tag="vip-bronze"),
            Tier(key="silver", name="Silver", threshold=Decimal("300"), multiplier=Decimal("1.25"),
                 tag="vip-silver"),
            Tier(key="gold", name="Gold", threshold=Decimal("750"), multiplier=Decimal("1.5"), tag="vip-gold",
                 exclusive_rewards=("gold-gift",), free_shipping=FreeShipping(every="month", validity_days=30)),
        )),
        rewards=(
            _reward("gold-gift", "voucher", 500, "A 30 € Gold voucher", amount=Decimal("30")),
        ),
    ),
}
"""Ready programmes reproducing the two seed stores (and `vip-tiers`, an example of tiers); collection ids are placeholders the merchant replaces
with their own (the full-price collection, the selections)."""


def template(name: str) -> Programme:
    """A ready programme by name (`store-a`, `store-b`), or ProgrammeError listing the names."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise ProgrammeError(f"template: {name!r} is not one of {', '.join(sorted(TEMPLATES))}") from None
