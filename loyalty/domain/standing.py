"""Where a customer stands on the ladder, and which status perks they should hold: pure rules on a balance.

A perk is unlocked by confirmed lifetime points (what the customer has earned once the return window has
passed, minus what refunds and cancellations took back: pending points do not count) and is never spent;
if lifetime points fall back below its threshold, it is lost (revoked).
"""
from __future__ import annotations

from dataclasses import dataclass

from loyalty.domain.programme import Programme, Reward


@dataclass(frozen=True)
class Balance:
    """A customer's points, derived from their ledger entries."""

    available: int
    pending: int
    lifetime: int


@dataclass(frozen=True)
class Standing:
    """A customer's place on the ladder."""

    tier: int
    """The highest threshold reached by lifetime points (0: none yet)."""
    next_threshold: int | None
    points_to_next: int | None
    unlocked: tuple[Reward, ...]
    """Status perks held."""
    redeemable_now: tuple[Reward, ...]
    """Rewards the available points pay for."""


def confirmed_lifetime(balance: Balance) -> int:
    """Lifetime points without those still pending: what the ladder counts."""
    return balance.lifetime - balance.pending


def standing(prog: Programme, balance: Balance) -> Standing:
    """Tier, next threshold, perks held and rewards affordable, from the balance."""
    lifetime = confirmed_lifetime(balance)
    reached = [t for t in prog.thresholds if t <= lifetime]
    ahead = [t for t in prog.thresholds if t > lifetime]
    return Standing(
        tier=reached[-1] if reached else 0,
        next_threshold=ahead[0] if ahead else None,
        points_to_next=ahead[0] - lifetime if ahead else None,
        unlocked=tuple(p for p in prog.perks if p.points <= lifetime),
        redeemable_now=tuple(r for r in prog.redeemable if r.points <= balance.available),
    )


GRANT, REGRANT, REVOKE = "grant", "regrant", "revoke"


def perk_moves(prog: Programme, lifetime: int, held: dict[str, bool]) -> list[tuple[Reward, str]]:
    """What to change so the customer holds exactly the status perks `lifetime` (confirmed) reaches, in the
    programme's order: GRANT a perk never held, REGRANT one held once and revoked, REVOKE one held that
    lifetime fell below. `held`: reward key -> whether that grant is revoked now."""
    moves = []
    for perk in prog.perks:
        revoked = held.get(perk.key)
        if perk.points <= lifetime:
            if revoked is None:
                moves.append((perk, GRANT))
            elif revoked:
                moves.append((perk, REGRANT))
        elif revoked is False:
            moves.append((perk, REVOKE))
    return moves
