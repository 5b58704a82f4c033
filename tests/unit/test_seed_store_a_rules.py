"""Store A's rules (/work/shared/seeds/store-a-fidelite-fr.txt, the `store-a` template), one test each, on the
pure pieces: the webhook body translated to its command, the points arithmetic, the exclusions, the ladder.
Each test names the rule it checks; tests/e2e/test_seed_store_a.py checks the same rules through the app."""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from integrations.shopify.translate import to_command
from loyalty.domain.commands import Payment
from loyalty.domain.emails import render
from loyalty.domain.errors import VoucherRefused
from loyalty.domain.programme import template
from loyalty.domain.birthdays import celebrates_on
from loyalty.domain.earning import exclusion_reason, needs_payment_lookup, non_earning_total, order_award
from loyalty.domain.maturity import expires_at, pending_until
from loyalty.domain.offers import conversion_offer, reward_offer
from loyalty.domain.standing import Balance, standing
from tests.factories import order

STORE_A = template("store-a")
CUSTOMER = 7
"""A customer the order resolved to (resolving one is the database's work)."""


def facts_of(body: dict):
    """The OrderFacts an orders/paid body gives."""
    return to_command("orders/paid", body).facts


def points_for(body: dict, non_earning_paid: Decimal = Decimal(0)) -> int:
    """What store A awards an order, or 0 when the order is excluded."""
    facts = facts_of(body)
    if exclusion_reason(facts, STORE_A, CUSTOMER) is not None:
        return 0
    return order_award(facts, non_earning_paid, STORE_A)


def test_store_a_rule_chaque_euro_depense_sur_le_site_donne_1_point():
    """Store A rule « Chaque euro dépensé ... sur le site, te donne 1 point »: an online order of 50 EUR and
    2 x 12.99 EUR earns 75 points (whole euros, cents never round up); the 5 EUR of shipping earn nothing."""
    body = order(lines=((50, 1), (Decimal("12.99"), 2)), source_name="web", shipping=5)
    assert points_for(body) == 75


def test_store_a_rule_chaque_euro_depense_en_boutique_donne_1_point():
    """Store A rule « ... en boutique ou sur le site »: a POS order earns exactly as an online one."""
    online, pos = order(lines=((80, 1),), source_name="web"), order(lines=((80, 1),), source_name="pos")
    assert exclusion_reason(facts_of(pos), STORE_A, CUSTOMER) is None
    assert points_for(pos) == points_for(online) == 80


def test_store_a_rule_les_remises_ne_rapportent_pas_de_points():
    """Store A rule « 1 point par 1 euro dépensé »: what is spent, so a line's discount does not earn."""
    assert points_for(order(lines=((100, 1),), discounts={0: 30})) == 70


def test_store_a_rule_il_faut_renseigner_l_adresse_mail_du_compte():
    """Store A rule « à condition de bien renseigner l'adresse mail rattachée au compte client »: an order
    that resolves to no customer (no email, no account) earns nothing, and says why."""
    facts = facts_of(order(email=None))
    assert facts.email is None and facts.customer_id is None
    assert exclusion_reason(facts, STORE_A, None) == "no customer and no email"


def test_store_a_rule_les_achats_avec_une_carte_cadeau_ne_rapportent_pas_de_points():
    """Store A rule « les achats réalisés avec une carte cadeau ne rapportent pas de points »: the gift-card
    share of a payment is looked up and taken off; only successful sales and captures count as paid."""
    body = order(lines=((100, 1),), gateways=("gift_card", "shopify_payments"))
    assert needs_payment_lookup(facts_of(body), STORE_A)
    payments = [Payment("gift_card", "sale", "success", Decimal("30")),
                Payment("gift_card", "sale", "failure", Decimal("70")),
                Payment("shopify_payments", "sale", "success", Decimal("70"))]
    paid_by_gift_card = non_earning_total(payments, STORE_A)
    assert paid_by_gift_card == Decimal("30")
    assert points_for(body, paid_by_gift_card) == 70
    assert points_for(order(lines=((100, 1),), gateways=("gift_card",)), Decimal("100")) == 0


def test_store_a_rule_un_paiement_sans_carte_cadeau_ne_demande_rien_a_shopify():
    """Store A rule « les achats ... avec une carte cadeau »: only an order paid (in part) by gift card or
    store credit needs its transactions; a card payment earns on its whole amount at once."""
    body = order(lines=((60, 1),), gateways=("shopify_payments",))
    assert not needs_payment_lookup(facts_of(body), STORE_A)
    assert points_for(body) == 60


@pytest.mark.parametrize("body", [order(source_name="partner_reseller"), order(customer_id=501, tags="revendeur")],
                         ids=["reseller channel", "reseller customer tag"])
def test_store_a_rule_les_achats_chez_nos_partenaires_revendeurs_ne_rapportent_pas_de_points(body):
    """Store A rule « Les achats réalisés chez nos partenaires revendeurs ne rapportent pas de point »:
    the reseller sales channel and the reseller customer tag are excluded, with the reason recorded."""
    assert exclusion_reason(facts_of(body), STORE_A, CUSTOMER) is not None
    assert points_for(body) == 0


def test_store_a_rule_les_points_sont_en_attente_14_jours():
    """Store A rule « tes points sont "en attente" » until the purchase is 14 days old: an order paid on
    1 March at 10:00 has its points pending until 15 March at 10:00 (loyalty.domain.maturity.pending_until,
    which the order service writes on the order)."""
    assert STORE_A.pending_days == 14
    paid = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)
    assert pending_until(paid, STORE_A) == datetime(2025, 3, 15, 10, 0, tzinfo=timezone.utc)


def test_store_a_rule_les_points_cumules_sont_valables_a_vie():
    """Store A rule « Non, les points cumulés sont valables à vie »: the template never expires points (the
    expiry job, a database service, skips shops whose policy is `never`): no expiry date, however old the
    last purchase."""
    assert STORE_A.expiry == "never"
    assert expires_at(datetime(2000, 1, 1, tzinfo=timezone.utc), STORE_A) is None


@pytest.mark.parametrize("lifetime, unlocked", [
    (149, set()),
    (150, {"anniversaire", "avant-premiere"}),
    (999, {"anniversaire", "avant-premiere"}),
    (1000, {"anniversaire", "avant-premiere", "ambassadrice"}),
])
def test_store_a_rule_les_avantages_des_150_et_1000_points(lifetime, unlocked):
    """Store A rule « Dès 150 points » a birthday surprise and early access, « Dès 1000 points » the ambassador
    programme: status perks held by confirmed lifetime points, whatever has been spent."""
    held = standing(STORE_A, Balance(available=0, pending=0, lifetime=lifetime))
    assert {perk.key for perk in held.unlocked} == unlocked


def test_store_a_rule_les_points_en_attente_ne_debloquent_pas_d_avantage():
    """Store A rule « tes points sont "en attente" »: pending points, which a return could take back, count
    for no perk."""
    held = standing(STORE_A, Balance(available=100, pending=100, lifetime=200))
    assert held.unlocked == () and held.tier == 0 and held.points_to_next == 50


@pytest.mark.parametrize("available, affordable", [
    (299, set()),
    (300, {"carte-cadeau-10", "don-association"}),
    (500, {"carte-cadeau-10", "don-association", "accessoire-upcycle", "culotte-offerte"}),
])
def test_store_a_rule_10_euros_en_carte_cadeau_ou_don_des_300_points_et_cadeaux_des_500(available, affordable):
    """Store A rule « 10€ en carte cadeau ou don à une asso » from 300 points, « Un accessoire Upcyclé offert »
    and « Une culotte offerte » from 500: the rewards the available points pay for."""
    held = standing(STORE_A, Balance(available=available, pending=0, lifetime=available))
    assert {reward.key for reward in held.redeemable_now} == affordable


def test_store_a_rule_les_recompenses_du_palier_300_et_500():
    """Store A rule « 10€ en carte cadeau ou don à une asso » (300) and the gifts of 500: what each one makes
    and costs; a perk is never bought, and store A converts no points into free vouchers."""
    gift_card, donation = reward_offer(STORE_A, "carte-cadeau-10"), reward_offer(STORE_A, "don-association")
    assert (gift_card.kind, gift_card.amount, gift_card.points) == ("gift_card", Decimal("10"), 300)
    assert (donation.kind, donation.amount, donation.points) == ("donation", Decimal("10"), 300)
    for key in ("accessoire-upcycle", "culotte-offerte"):
        gift = reward_offer(STORE_A, key)
        assert gift.kind == "discount" and gift.points == 500 and gift.collection_id  # its selection only
    with pytest.raises(VoucherRefused) as perk:
        reward_offer(STORE_A, "ambassadrice")
    assert perk.value.reason == "not_redeemable"
    with pytest.raises(VoucherRefused) as conversion:
        conversion_offer(STORE_A, 500)
    assert conversion.value.reason == "no_conversion"


def test_store_a_rule_voir_combien_il_reste_pour_le_prochain_palier():
    """Store A rule « voir à quel niveau tu es arrivé et combien il te reste pour atteindre le prochain
    palier de récompense »."""
    held = standing(STORE_A, Balance(available=320, pending=0, lifetime=320))
    assert (held.tier, held.next_threshold, held.points_to_next) == (300, 500, 180)
    top = standing(STORE_A, Balance(available=0, pending=0, lifetime=1200))
    assert (top.tier, top.next_threshold, top.points_to_next) == (1000, None, None)


def test_store_a_rule_une_surprise_pour_ton_anniversaire():
    """Store A rule « Une surprise pour ton anniversaire, dans ta boîte mail, dès 150 points »: the birthday
    perk at 150, given on the birthday (29 February on 28 February in other years)."""
    birthday_perks = [perk for perk in STORE_A.perks if perk.birthday]
    assert [(perk.key, perk.points) for perk in birthday_perks] == [("anniversaire", 150)]
    assert celebrates_on(date(1990, 6, 14), date(2025, 6, 14))
    assert not celebrates_on(date(1990, 6, 14), date(2025, 6, 15))
    assert celebrates_on(date(2000, 2, 29), date(2025, 2, 28))


def test_store_a_rule_tu_seras_prevenue_par_mail_quand_tu_as_droit_a_un_avantage():
    """Store A rule « Comment serais-je averti·e que j'ai droit à un avantage ? Tu seras prévenu·e par mail.
    Nous te préciserons alors comment bénéficier de l'avantage »: the email, in French, names each perk
    unlocked at 150 and how to enjoy it."""
    unlocked = standing(STORE_A, Balance(available=150, pending=0, lifetime=150)).unlocked
    email = render("threshold_reached", STORE_A.language, {
        "shop_name": "Boutique A", "to_address": "alice@example.com", "lifetime": 150,
        "perks": [asdict(perk) for perk in unlocked]})
    assert STORE_A.language == "fr" and STORE_A.emails
    assert "Une surprise pour ton anniversaire" in email.text and "Accès en avant-première" in email.text
    assert "Comment en bénéficier" in email.text and "date d'anniversaire" in email.text
