"""Requests: what a merchant, a customer or an operator asks the app to do, already parsed and typed.

The entrypoints (admin, storefront, cli) build one of these and hand it to its use case
(loyalty.services.use_cases); commands.py holds what a Shopify event asks. Shops are named by domain: the
use case finds the installed shop inside its own transaction. Nothing here touches the outside world.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from loyalty.domain.errors import ActionRefused, AdjustmentRefused, BirthdayRefused
from loyalty.domain.numbers import parse_int
from loyalty.domain.programme import Programme

# -- vouchers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedeemPoints:
    """Convert `points` of a customer (email or Shopify id) into a discount code (store B). The same
    `request_key` always gives the same voucher, spent once."""

    shop: str
    customer: str
    points: int
    request_key: str
    at_checkout: bool = False
    """A code for the checkout in progress: short-lived, given back unused (offers.at_checkout)."""


@dataclass(frozen=True)
class RedeemReward:
    """Spend points on the catalogue reward `reward_key`: a code, a gift card or a donation."""

    shop: str
    customer: str
    reward_key: str
    request_key: str
    variant_id: int | None = None
    """A free item the customer picks: the product variant picked from the reward's selection."""
    at_checkout: bool = False
    """A code for the checkout in progress: short-lived, given back unused (offers.at_checkout)."""


@dataclass(frozen=True)
class CancelVoucher:
    """Deactivate a code in Shopify and credit its points back (once)."""

    shop: str
    code: str
    reason: str = "cancelled by support"
    actor: str | None = None
    """The staff member (session token `sub`) for the audit log; None: the operator's CLI."""


@dataclass(frozen=True)
class InviteFriend:
    """A friend opening a customer's referral link gives their email: they get a first-order code (once per
    email), unless a fraud rule refuses the referral (recorded)."""

    shop: str
    code: str
    email: str


# -- points and customers --------------------------------------------------------------------------

MAX_ADJUSTMENT = 10_000_000
"""The largest adjustment either way: a typo of a few zeros is refused, not booked."""
MAX_REASON = 500


@dataclass(frozen=True)
class Adjustment:
    """A request to adjust: who asked, for whom, how much and why, and the submission's token. Built from
    a JSON body, so the fields are whatever was sent until `checked()`."""

    customer_id: int
    points: int
    reason: str
    actor: str
    client_token: str

    def checked(self) -> Adjustment:
        """The request with its reason trimmed, or AdjustmentRefused naming the field."""
        if isinstance(self.points, bool) or not isinstance(self.points, int):
            raise AdjustmentRefused("points must be a whole number", "points")
        if self.points == 0 or abs(self.points) > MAX_ADJUSTMENT:
            raise AdjustmentRefused(f"points must be between -{MAX_ADJUSTMENT} and {MAX_ADJUSTMENT}, not 0",
                                    "points")
        reason = (self.reason or "").strip() if isinstance(self.reason, str) else ""
        if not reason:
            raise AdjustmentRefused("a reason is required: it is kept in the customer's history", "reason")
        if len(reason) > MAX_REASON:
            raise AdjustmentRefused(f"the reason is longer than {MAX_REASON} characters", "reason")
        token = self.client_token if isinstance(self.client_token, str) else ""
        if not 8 <= len(token) <= 100:
            raise AdjustmentRefused("client_token must be 8-100 characters, one per submitted form", "client_token")
        if not self.actor:
            raise AdjustmentRefused("the staff member making the adjustment is unknown", "actor")
        return Adjustment(self.customer_id, self.points, reason, self.actor, token)


@dataclass(frozen=True)
class AdjustPoints:
    """A staff member adds or takes points of a customer of the shop."""

    shop: str
    adjustment: Adjustment


MAX_REFERENCE = 200


@dataclass(frozen=True)
class AwardAction:
    """Award the points of the programme's action `action` (earning.actions, e.g. a review) to a customer
    named by Shopify id, gid or email (`customer`) or by the app's record id (`customer_id`, the admin's),
    once per (action, `reference`): the review's id, the Flow run. `reason` is kept in the ledger; `actor`
    says who asked (a staff member, `flow`, `cli`)."""

    shop: str
    customer: str | None
    action: str
    reference: str
    reason: str = ""
    actor: str | None = None
    customer_id: int | None = None

    def checked(self) -> AwardAction:
        """The request with its texts trimmed, or ActionRefused naming the field."""
        action = self.action.strip() if isinstance(self.action, str) else ""
        if not action:
            raise ActionRefused("an action key is required", "action")
        reference = self.reference.strip() if isinstance(self.reference, str) else ""
        if not 1 <= len(reference) <= MAX_REFERENCE:
            raise ActionRefused(f"reference must be 1-{MAX_REFERENCE} characters: what the action was (the "
                                "review's id), so it is awarded once", "reference")
        reason = self.reason.strip() if isinstance(self.reason, str) else ""
        if len(reason) > MAX_REASON:
            raise ActionRefused(f"the reason is longer than {MAX_REASON} characters", "reason")
        customer = self.customer.strip() if isinstance(self.customer, str) else ""
        if not customer and self.customer_id is None:
            raise ActionRefused("the customer is required (Shopify id or email)", "customer")
        return AwardAction(self.shop, customer or None, action, reference, reason, self.actor, self.customer_id)


@dataclass(frozen=True)
class SetBirthday:
    """An operator records the birthday of a known customer (email or Shopify id)."""

    shop: str
    customer: str
    birthday: date


@dataclass(frozen=True)
class CorrectBirthday:
    """Staff correct (or clear: `birthday` None) a customer's recorded birthday, which the shopper may give only
    once; `reason` is required and kept in the audit log with `actor` (the session token's sub). Built from a
    JSON body, so the fields are whatever was sent until `checked()`."""

    shop: str
    customer_id: int
    birthday: object
    reason: object
    actor: str | None

    def checked(self) -> CorrectBirthday:
        """The request with its date parsed and its reason trimmed, or BirthdayRefused naming the field."""
        birthday = self.birthday
        if birthday is not None and not isinstance(birthday, date):
            try:
                birthday = date.fromisoformat(birthday) if isinstance(birthday, str) and len(birthday) == 10 else None
            except ValueError:
                birthday = None
            if birthday is None:
                raise BirthdayRefused("birthday: expected a date YYYY-MM-DD, or null to clear it", "birthday")
        reason = self.reason.strip() if isinstance(self.reason, str) else ""
        if not reason:
            raise BirthdayRefused("a reason is required: it is kept in the audit log", "reason")
        if len(reason) > MAX_REASON:
            raise BirthdayRefused(f"the reason is longer than {MAX_REASON} characters", "reason")
        return CorrectBirthday(self.shop, self.customer_id, birthday, reason, self.actor)


@dataclass(frozen=True)
class GiveOwnBirthday:
    """A logged-in customer gives their birthday on the loyalty page (their record is made if new)."""

    shop: str
    shopify_customer_id: int
    birthday: date


def birthday_from_form(day: str | None, month: str | None) -> date | None:
    """The day and month typed in a form as a date (of the leap year 2000, so 29 February exists); None
    for a day the calendar does not have (31 April) or a field that is no number in range."""
    month_number = parse_int((month or "").strip(), 1, 12)
    day_number = parse_int((day or "").strip(), 1, 31)
    try:
        return date(2000, month_number or 0, day_number or 0)
    except ValueError:
        return None


@dataclass(frozen=True)
class SetAcceptsEmails:
    """Stop (False) or resume (True) loyalty emails to a customer (email or Shopify id)."""

    shop: str
    customer: str
    accepts: bool


@dataclass(frozen=True)
class Unsubscribe:
    """A customer's own one-click unsubscribe (their signed link, already verified): the customer's row id."""

    shop: str
    customer_id: int


@dataclass(frozen=True)
class SaveEmailText:
    """A merchant's own subject and body for an email kind and language (checked by the use case)."""

    shop: str
    kind: str
    language: str
    subject: str
    body: str
    actor: str | None = None
    """The staff member (session token `sub`) for the audit log; None: the operator's CLI."""


@dataclass(frozen=True)
class SendTestEmail:
    """Send the email of `kind` in `language`, with made-up facts, to `to` (the merchant's own address);
    `subject` and `body`: a draft to try (None: the shop's text in force)."""

    shop: str
    kind: str
    language: str
    to: str
    subject: str | None = None
    body: str | None = None


# -- programme -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveProgramme:
    """Replace the shop's programme with this one (a new version; all of it validated already)."""

    shop: str
    programme: Programme
    based_on: int | None = None
    """The version the new one was edited from (`show --json` pasted back): refused when another version has
    been saved since, so two editors cannot silently undo each other. None: replace whatever is in force."""
    actor: str | None = None
    """The staff member (session token `sub`) kept with the version and in the audit log; None: the CLI."""
    template: str | None = None
    """The ready programme this one is (`store-a`), when a template is applied: the audit log says so."""


@dataclass(frozen=True)
class ChangeProgramme:
    """Change some settings of the programme in force (`PATH=VALUE`, a dotted path such as
    `rewards.gift.points`; checked by the domain)."""

    shop: str
    changes: dict[str, object] = field(default_factory=dict)
    based_on: int | None = None
    """As SaveProgramme.based_on."""
    actor: str | None = None
    """As SaveProgramme.actor."""


# -- failures --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryFailedWebhooks:
    """Give one failed webhook (`inbox_id`), or every failed one (of `shop`, when given), another round of
    attempts; `wake_worker` asks a worker to start at once instead of waiting for the sweeper."""

    inbox_id: int | None = None
    shop: str | None = None
    wake_worker: bool = True
    actor: str | None = None
    """The staff member (session token `sub`) for the audit log; None: the operator's CLI."""


# -- shops -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterShopToken:
    """Install a shop with a custom app's Admin API token pasted by an operator (`loyalty shops add`)."""

    shop: str
    token: str
    replace: bool = False
    """Replace the token of a shop installed already (otherwise it keeps the one that works)."""
    import_history: bool = True
    """Queue the import of the shop's past orders once installed."""


@dataclass(frozen=True)
class UseInstallNonce:
    """The OAuth callback spends the nonce of its signed state, once (a replayed callback is refused)."""

    nonce: str
    shop: str
    expires: datetime
    """When the state stops verifying."""
