"""What the loyalty page says, in the programme's language (fr: store A's wording, en: store B's), and
the FAQ answers built from the programme's own settings so they never contradict the rules."""
from __future__ import annotations

from decimal import Decimal

from loyalty.domain.money import shown
from loyalty.domain.programme import Programme

TEXTS = {
    "fr": {
        "title": "Fidélité",
        "intro": "Connecte-toi et profite pleinement de tous les avantages offerts par ton programme de fidélité !",
        "anonymous": "Connecte-toi dès maintenant pour découvrir ton nombre de points accumulés ! Gagne des "
                     "récompenses, accède à des offres exclusives et suis ta progression en temps réel.",
        "sign_in": "Connexion", "create_account": "Créer un compte",
        "available": "Points disponibles", "pending": "Points en attente", "lifetime": "Points cumulés",
        "pending_until": "{points} points disponibles le {date}",
        "from_points": "Dès {points} points",
        "next": "Encore {points} points pour atteindre le prochain palier ({threshold} points)",
        "top": "Tu as atteint le dernier palier : bravo !",
        "unlocked": "Tes avantages", "no_perks": "Pas encore d'avantage débloqué.",
        "unlocked_badge": "Débloqué", "locked": "Encore {points} points",
        "redeem": "Utiliser {points} points", "not_affordable": "Encore {points} points",
        "history": "Historique", "no_history": "Pas encore de mouvement de points.",
        "vouchers": "Tes bons", "code": "Ton code", "valid_until": "valable jusqu'au {date}", "minimum": "dès {amount} d'achat",
        "gift_card_done": "Ta carte cadeau de {amount}",
        "donation_done": "Merci ! Ton don de {amount} à {cause} est enregistré.",
        "voucher_done": "Ton bon de {amount}",
        "free_shipping_done": "Ton code livraison offerte", "percentage_done": "Ton bon de {percentage} % de réduction",
        "free_item_done": "Ton article offert : {title}", "pick_item": "Choisis ton article",
        "no_choice": "La sélection n'est pas disponible pour le moment, réessaie dans quelques minutes.",
        "store_credit_done": "{amount} d'avoir ajoutés à ton compte : à utiliser en ligne ou en boutique, sans code, jusqu'au {date}.",
        "creating": "Ton code est en cours de création ; réessaie dans un instant.", "retry": "Réessayer",
        "refused": "Le bon n'a pas pu être créé ; tes points te sont rendus. ({reason})",
        "convert_title": "Convertis tes points en bon d'achat",
        "convert_help": "{points} points = {amount}", "convert_button": "Convertir",
        "convert_points": "Points à convertir",
        "birthday": "Ton anniversaire", "birthday_help": "Indique ton jour et ton mois de naissance "
                                                        "(une seule fois) pour recevoir ta surprise.",
        "birthday_day": "Jour", "birthday_month": "Mois", "birthday_save": "Enregistrer",
        "birthday_set": "Ton anniversaire : le {day} {month}.", "birthday_saved": "Ton anniversaire est enregistré.",
        "faq": "On répond à tes questions",
        "kind.earn": "Commande {order}", "kind.mature": "{points} points disponibles (commande {order})",
        "kind.claw_back": "Remboursement (commande {order})", "kind.void": "Commande {order} annulée",
        "kind.expire": "Points expirés", "kind.redeem": "Points utilisés", "kind.recredit": "Points rendus",
        "kind.adjust": "Ajustement",
        "kind.bonus": "Points offerts",
        "referral": "Parraine tes ami·es",
        "referral_help": "Partage ton lien : ton ami·e reçoit un code pour sa première commande, et tu gagnes "
                         "{points} points quand sa commande est confirmée.",
        "referral_code": "Ton code de parrainage : {code}", "referral_link": "Ton lien",
        "referral_friend": "Ton cadeau de bienvenue",
        "referral_friend_help": "Indique ton e-mail : nous t'envoyons un code de réduction pour ta première "
                                "commande.",
        "referral_email": "E-mail", "referral_send": "Recevoir mon code",
        "referral_sent": "C'est envoyé : ton code t'attend dans ta boîte mail.",
        "referral_refused": "Cette invitation ne peut pas être utilisée avec cet e-mail "
                            "(elle est réservée à une première commande).",
        "error.referral": "Ce lien de parrainage n'est pas valable.",
        "error.referral_email": "Indique une adresse e-mail valide.",
        "status.active": "actif", "status.used": "utilisé", "status.expired": "expiré",
        "status.cancelled": "annulé", "status.refused": "refusé", "status.creating": "en cours",
        "status.donated": "donné",
        "error.token": "Ce formulaire a expiré : recharge la page.",
        "error.in_progress": "Une utilisation de tes points est déjà en cours ; réessaie dans un instant.",
        "error.sign_in": "Connecte-toi pour utiliser tes points.",
        "error.birthday": "Cette date n'existe pas.",
        "error.not_enough": "Tu n'as pas encore assez de points pour cette récompense.",
        "error.points": "Indique un nombre de points.",
        "error.tier_required": "Cette récompense est réservée aux membres {tier} : elle n'a pas été utilisée et "
                               "tes points n'ont pas bougé.",
        "tier": "Ton statut VIP", "tier_current": "Tu es membre {tier}.",
        "tier_none": "Tu n'as pas encore de statut VIP.",
        "tier_multiplier": "Tes commandes te rapportent {multiplier} fois plus de points.",
        "tier_until": "Statut garanti jusqu'au {date}.",
        "tier_next.points": "Encore {remaining} points pour devenir membre {tier}",
        "tier_next.spent": "Encore {remaining} d'achats pour devenir membre {tier}",
        "tier_next.orders": "Encore {remaining} commande(s) pour devenir membre {tier}",
        "tier_window.lifetime": ".", "tier_window.calendar_year": " (cette année).",
        "tier_window.rolling_12_months": " (sur les 12 derniers mois).",
        "tier_top": "Tu as atteint le plus haut statut VIP.",
        "tier_locked": "Réservé aux membres {tier}",
        "available_help": "à dépenser en récompenses", "lifetime_help": "débloquent tes avantages",
        "ladder_note": "Tes avantages se débloquent avec tes points cumulés (ils ne sont jamais dépensés) ; "
                       "les récompenses se paient avec tes points disponibles.",
        "perk_ahead": "Encore {points} points cumulés pour le débloquer",
        "short": "Encore {points} points disponibles pour l'utiliser",
        "terms.validity": "Valable {days} jours", "terms.minimum": "Dès {amount} d'achat",
        "terms.full_price": "Sur les articles plein tarif uniquement (hors soldes, promotions et outlet)",
        "terms.one_per_order": "Un seul code par commande, non cumulable avec une autre réduction",
        "terms.lost": "Non utilisé à temps, le bon expire et ses points sont perdus",
        "terms.returned": "Non utilisé à temps, ses points te sont rendus",
        "expiry.date": "Tes {points} points disponibles expirent le {date} si tu ne fais aucun achat d'ici là ; "
                       "chaque achat prolonge leur validité.",
        "expiry.never": "Tes points n'expirent jamais.",
        "convert_range": "De {minimum} à {available} points (tes {available} points valent {amount}).",
        "convert_short": "Encore {points} points disponibles pour convertir (dès {minimum} points).",
        "copy": "Copier le code", "copied": "Code copié", "amount": "Montant", "status": "Statut",
    },
    "en": {
        "title": "Loyalty program",
        "intro": "Sign in to enjoy every benefit of your loyalty program.",
        "anonymous": "Sign in to see your points, convert them into vouchers and follow your progress.",
        "sign_in": "Sign in", "create_account": "Create an account",
        "available": "Available points", "pending": "Pending points", "lifetime": "Points earned",
        "pending_until": "{points} points available on {date}",
        "from_points": "From {points} points",
        "next": "{points} more points to the next level ({threshold} points)",
        "top": "You have reached the top level.",
        "unlocked": "Your perks", "no_perks": "No perk unlocked yet.",
        "unlocked_badge": "Unlocked", "locked": "{points} more points",
        "redeem": "Use {points} points", "not_affordable": "{points} more points",
        "history": "History", "no_history": "No points yet.",
        "vouchers": "Your vouchers", "code": "Your code", "valid_until": "valid until {date}", "minimum": "on orders from {amount}",
        "gift_card_done": "Your {amount} gift card",
        "donation_done": "Thank you! Your {amount} donation to {cause} is recorded.",
        "voucher_done": "Your {amount} voucher",
        "free_shipping_done": "Your free shipping code", "percentage_done": "Your {percentage} % voucher",
        "free_item_done": "Your free item: {title}", "pick_item": "Pick your item",
        "no_choice": "The selection is not available right now, try again in a few minutes.",
        "store_credit_done": "{amount} of store credit added to your account: spend it online or in store, no code needed, until {date}.",
        "creating": "Your code is being created; try again in a moment.", "retry": "Try again",
        "refused": "The voucher could not be created; your points are back. ({reason})",
        "convert_title": "Convert your points into a voucher",
        "convert_help": "{points} points = {amount}", "convert_button": "Convert",
        "convert_points": "Points to convert",
        "birthday": "Your birthday", "birthday_help": "Tell us your day and month of birth (once).",
        "birthday_day": "Day", "birthday_month": "Month", "birthday_save": "Save",
        "birthday_set": "Your birthday: {month} {day}.", "birthday_saved": "Your birthday is saved.",
        "faq": "Questions",
        "kind.earn": "Order {order}", "kind.mature": "{points} points available (order {order})",
        "kind.claw_back": "Refund (order {order})", "kind.void": "Order {order} cancelled",
        "kind.expire": "Points expired", "kind.redeem": "Points converted", "kind.recredit": "Points credited back",
        "kind.adjust": "Adjustment",
        "kind.bonus": "Bonus points",
        "referral": "Refer a friend",
        "referral_help": "Share your link: your friend gets a code for their first order, and you earn {points} "
                         "points once their order is confirmed.",
        "referral_code": "Your referral code: {code}", "referral_link": "Your link",
        "referral_friend": "Your welcome gift",
        "referral_friend_help": "Give your email: we send you a discount code for your first order.",
        "referral_email": "Email", "referral_send": "Get my code",
        "referral_sent": "Sent: your code is waiting in your inbox.",
        "referral_refused": "This invitation cannot be used with this email (it is for a first order only).",
        "error.referral": "This referral link is not valid.",
        "error.referral_email": "Please give a valid email address.",
        "status.active": "active", "status.used": "used", "status.expired": "expired",
        "status.cancelled": "cancelled", "status.refused": "refused", "status.creating": "being created",
        "status.donated": "donated",
        "error.token": "This form has expired: reload the page.",
        "error.in_progress": "A redemption is already in progress; try again in a moment.",
        "error.sign_in": "Sign in to use your points.",
        "error.birthday": "That date does not exist.",
        "error.not_enough": "You do not have enough points for this yet.",
        "error.points": "Enter a number of points.",
        "error.tier_required": "This reward is for {tier} members: it was not redeemed and your points are "
                               "untouched.",
        "tier": "Your VIP tier", "tier_current": "You are a {tier} member.",
        "tier_none": "You do not have a VIP tier yet.",
        "tier_multiplier": "Your orders earn {multiplier}x the points.",
        "tier_until": "Tier kept until {date}.",
        "tier_next.points": "{remaining} more points to become a {tier} member",
        "tier_next.spent": "Spend {remaining} more to become a {tier} member",
        "tier_next.orders": "{remaining} more order(s) to become a {tier} member",
        "tier_window.lifetime": ".", "tier_window.calendar_year": " (this calendar year).",
        "tier_window.rolling_12_months": " (over the last 12 months).",
        "tier_top": "You have reached the top VIP tier.",
        "tier_locked": "For {tier} members",
        "available_help": "to spend on rewards", "lifetime_help": "unlock your perks",
        "ladder_note": "Perks unlock with the points you have earned over time (they are never spent); rewards "
                       "are paid with your available points.",
        "perk_ahead": "{points} more points earned to unlock it",
        "short": "{points} more available points to use it",
        "terms.validity": "Valid for {days} days", "terms.minimum": "On orders from {amount}",
        "terms.full_price": "Full-price items only (not on sales, promotions or outlet)",
        "terms.one_per_order": "One code per order; does not combine with other discounts",
        "terms.lost": "If unused in time, the voucher expires and its points are lost",
        "terms.returned": "If unused in time, its points come back to you",
        "expiry.date": "Your {points} available points expire on {date} unless you make a purchase before then; "
                       "every purchase extends them.",
        "expiry.never": "Your points never expire.",
        "convert_range": "From {minimum} to {available} points (your {available} points are worth {amount}).",
        "convert_short": "{points} more available points to convert (from {minimum} points).",
        "copy": "Copy code", "copied": "Code copied", "amount": "Amount", "status": "Status",
    },
}

MONTHS = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CAD": "$", "CHF": "CHF"}


def text(language: str, key: str, **values) -> str:
    """One sentence in the programme's language, with its values filled in."""
    return TEXTS[language][key].format(**values)


def message(language: str, key: str, values: dict | None = None) -> str:
    """An outcome's message: the text of a known key with its values, else the key itself (a message the
    domain worded)."""
    return text(language, key, **(values or {})) if key in TEXTS[language] else key


def number(language: str, value: str) -> str:
    """A decimal as the language writes it (`1,25` in French)."""
    return value.replace(".", ",") if language == "fr" else value


def money(language: str, amount: Decimal, currency: str = "EUR") -> str:
    """`10,00 €` in French, `€10.00` in English."""
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    value = shown(amount)
    if language == "fr":
        return f"{value:,.2f}".replace(",", "\u202f").replace(".", ",") + f"\u00a0{symbol}"
    return f"{symbol}{value:,.2f}"


def date(language: str, moment) -> str:
    """`14 juin 2025` / `June 14, 2025`."""
    month = MONTHS[language][moment.month - 1]
    return f"{moment.day} {month} {moment.year}" if language == "fr" else f"{month} {moment.day}, {moment.year}"


def faq(prog: Programme, currency: str = "EUR") -> list[tuple[str, str]]:
    """Questions and answers, from the programme's settings (store A's and store B's FAQ wording)."""
    rate = prog.earn_rate.normalize()
    gift_cards = "gift_card" in prog.non_earning_gateways
    if prog.language == "fr":
        items = [
            ("Je n'ai pas créé de compte auparavant, est-ce que mes anciennes commandes sont comptabilisées ?",
             "Toutes les commandes passées sont comptabilisées même si tu n'avais pas créé de compte client. "
             "Il te suffit d'avoir passé commande depuis la même adresse email."),
            ("Comment cumuler des points ?",
             f"Chaque euro dépensé, en boutique ou sur le site, te donne {rate} point{'s' if rate > 1 else ''}, "
             "à condition de bien renseigner l'adresse mail rattachée à ton compte client lors de ta commande "
             "ou de ton passage en caisse."),
            ("Est-ce que tous mes achats me rapportent des points ?",
             "L'intégralité des achats effectués en boutique ou sur le site te rapportent des points."
             + (" En revanche, les achats réalisés avec une carte cadeau ne rapportent pas de points." if gift_cards
                else "")
             + (" Les achats réalisés chez nos partenaires revendeurs ne rapportent pas de point non plus."
                if prog.excluded_source_names else "")),
            ("Mon achat n'apparaît pas sur mon solde de points. Que dois-je faire ?",
             f"Tes points sont « en attente » pendant {prog.pending_days} jours après ton achat, puis "
             "disponibles. Si ton achat n'apparaît pas dans tes commandes, contacte notre service client afin "
             "que nous puissions ajuster tes points."),
            ("Les points peuvent-ils expirer ?",
             "Non, les points cumulés sont valables à vie." if prog.expiry == "never" else
             f"Tes points sont valables {prog.expiry_months} mois après ton dernier achat ; chaque achat "
             "prolonge la validité de tous tes points."),
        ]
        if prog.conversion_enabled:
            items.append(("Combien de temps mon bon est-il valable ?",
                          f"Un bon créé avec tes points est valable {prog.voucher_validity_days} jours."))
        return items
    items = [
        ("How do I earn points?",
         f"Every {CURRENCY_SYMBOLS.get(currency, currency + ' ')}1 spent online or in store earns {rate} point{'s' if rate != 1 else ''}, as long as "
         "you give the email address of your customer account."
         + (" Purchases paid by gift card do not earn points." if gift_cards else "")),
        ("When can I use my points?",
         f"Points are pending for {prog.pending_days} days after your purchase, then available."),
        ("What is the validity of my loyalty points?",
         "Your points never expire." if prog.expiry == "never" else
         f"Loyalty points are valid for {_months_en(prog.expiry_months)} after your last purchase. If you make "
         "any kind of purchase, the validity of all your loyalty points is extended."),
    ]
    if prog.conversion_enabled:
        items.append(("How do I convert my points?",
                      "To convert your points into savings, simply use the form on this page, from "
                      f"{prog.conversion_minimum_points} points. If you create a voucher from your loyalty points, "
                      f"it will be valid for {_days_en(prog.voucher_validity_days)}. If you have converted your "
                      "points by mistake, contact our customer service so that we can cancel the voucher and "
                      "re-credit your loyalty points."))
        where = ("all full-price products on the site, excluding discounted products (sales, promotions or outlet)"
                 if prog.voucher_collection_id else "all products on the site")
        minimum = (f" Vouchers can be used from a minimum of {money('en', prog.voucher_minimum_subtotal, currency)}."
                   if prog.voucher_minimum_subtotal else "")
        combine = "" if prog.voucher_combines_with_discounts else \
            " It is not possible to use more than one coupon per order."
        items.append(("On which products can I use my loyalty voucher?",
                      f"The vouchers created from your loyalty points can be used on {where}.{minimum}{combine}"))
    return items


def _months_en(months: int) -> str:
    return "one year" if months == 12 else f"{months} months"


def _days_en(days: int) -> str:
    return "one month" if days in (30, 31) else f"{days} days"
