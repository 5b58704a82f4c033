"""The API's error messages, in the programme's language (the extensions show them as they are)."""
from __future__ import annotations

MESSAGES = {
    "en": {
        "unauthorized": "Your session has expired: reload the page.",
        "sign_in": "Sign in to use your points.",
        "not_found": "Nothing to show here.",
        "bad_body": "This request is not understood.",
        "token": "This form has expired: reload the page.",
        "in_progress": "A redemption is already in progress; try again in a moment.",
        "creating": "Your code is being created; try again in a moment.",
        "not_enough_points": "You do not have enough points for this yet.",
        "tier_required": "This reward is for {tier} members: your points are untouched.",
        "bad_points": "Enter a number of points.",
        "not_a_code": "This reward cannot be applied at checkout: redeem it from your account.",
    },
    "fr": {
        "unauthorized": "Ta session a expiré : recharge la page.",
        "sign_in": "Connecte-toi pour utiliser tes points.",
        "not_found": "Rien à afficher ici.",
        "bad_body": "Cette demande n'est pas comprise.",
        "token": "Ce formulaire a expiré : recharge la page.",
        "in_progress": "Une utilisation de tes points est déjà en cours ; réessaie dans un instant.",
        "creating": "Ton code est en cours de création ; réessaie dans un instant.",
        "not_enough_points": "Tu n'as pas encore assez de points pour cette récompense.",
        "tier_required": "Cette récompense est réservée aux membres {tier} : tes points n'ont pas bougé.",
        "bad_points": "Indique un nombre de points.",
        "not_a_code": "Cette récompense ne s'utilise pas au paiement : utilise-la depuis ton compte.",
    },
}


def message(language: str, key: str, fallback: str = "", facts: dict | None = None) -> str:
    """The message for an error key (English for a language the app does not speak); `fallback` (the
    domain's own wording) for a refusal without one."""
    texts = MESSAGES.get(language, MESSAGES["en"])
    if key not in texts:
        return fallback or key
    try:
        return texts[key].format(**(facts or {}))
    except (KeyError, IndexError):
        return texts[key]
