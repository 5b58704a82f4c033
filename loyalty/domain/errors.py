"""The domain's refusals: a rule says no. Each carries a message for the person who asked (and some a
`code` the answer names), and maps to a 4xx at the entrypoints."""
from __future__ import annotations


class ProgrammeError(ValueError):
    """A setting is invalid; the message names the field."""


class StaleProgramme(ProgrammeError):
    """A change edited from an older version than the one in force (someone saved meanwhile): nothing saved.
    `in_force` is the current version, `diff` what changed from the edited version to it
    (loyalty.domain.programme_diff)."""

    def __init__(self, based_on: int, in_force: int, diff: list[dict]):
        super().__init__(f"version: edited from version {based_on}, but version {in_force} is in force now "
                         "(saved meanwhile): show the programme again and redo the change")
        self.based_on, self.in_force, self.diff = based_on, in_force, diff


class UninstallNotConfirmed(ValueError):
    """app/uninstalled that Shopify does not confirm (the shop's token still works): a Shop body replayed with a
    forged topic header, or an uninstall sent before a reinstall. Nothing is done."""


class TooManyPoints(ValueError):
    """An award too large for the ledger: the order is implausible, and would be so on every retry."""


class ImplausibleAmount(ValueError):
    """An amount too large to be a real order's (it would not fit the Numeric(18, 4) columns)."""


class VoucherRefused(ValueError):
    """The redemption cannot be made; the message says why, `reason` says it for code (storefront
    translations): not_enough_points, below_minimum, not_redeemable, unknown_reward, no_conversion,
    no_account, worthless, not_cancellable, unknown_voucher, tier_required; `facts` are the values a
    translated message names (tier_required: `tier`, the tier's name)."""

    def __init__(self, message: str, reason: str = "refused", **facts):
        super().__init__(message)
        self.reason = reason
        self.facts = facts


class ReferralRefused(ValueError):
    """A referral claim cannot be made (not a fraud refusal: those are recorded); `reason` says it for code:
    referrals_off, unknown_code, bad_email."""

    def __init__(self, message: str, reason: str = "refused"):
        super().__init__(message)
        self.reason = reason


class AdjustmentRefused(ValueError):
    """The adjustment cannot be booked; `field` names the input at fault (or None), the message says why."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class ActionRefused(ValueError):
    """Points for an action cannot be awarded; `field` names the input at fault (action, reference,
    customer), the message says why."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class BirthdayRefused(ValueError):
    """The birthday cannot be recorded (not a date, or already given); the message says why, `field` names
    the input at fault when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class ReportRangeError(ValueError):
    """The dates asked for are not a usable range; the message says why."""


class ShopMismatch(ValueError):
    """A webhook body names another shop than the one it was recorded for (or names none): its destructive
    work is refused. The web refuses such deliveries at the door; this catches rows recorded before that."""


class FlowActionRefused(ValueError):
    """A Shopify Flow action request cannot be carried out; `status` is the HTTP answer (a 4xx: Flow marks
    the step failed and does not send it again), `field` names the property at fault (or None)."""

    def __init__(self, message: str, status: int = 422, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.field = field
