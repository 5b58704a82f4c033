"""Store A (../shared/seeds/store-a-fidelite-fr.txt), run end to end from its template: every rule of the
seed is a test named after it. Webhooks in, the ledger and the customer's standing out."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import responses

from jobs.scheduled import expire_points, mature_points
from loyalty.domain.programme import template
from tests.factories import customer, order
from tests.conftest import SHOP
from tests.samples import sample
from tests.e2e.test_earning import GRAPHQL, transactions_response


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def store_a(ctx, shop):
    from loyalty.services.shops import save_programme

    with ctx.engine.begin() as conn:
        save_programme(conn, shop, template("store-a"), at("2024-01-01T00:00:00"))


def test_chaque_euro_depense_sur_le_site_donne_1_point(send, process, summary):
    """« Chaque euro dépensé, en boutique ou sur le site, te donne 1 point »: online."""
    send("orders/paid", order(lines=((59.90, 2),), source_name="web", shipping=4.90))
    process()
    assert summary("alice@example.com")["lifetime"] == 119  # 119.80 -> 119, shipping does not earn


def test_chaque_euro_depense_en_boutique_donne_1_point(send, process, summary):
    """« ... en boutique »: a POS order earns like an online one."""
    send("orders/paid", order(lines=((45, 1),), source_name="pos", shipping=0))
    process()
    assert summary("alice@example.com")["lifetime"] == 45


def test_il_faut_renseigner_l_adresse_mail_du_compte(send, process, ctx):
    """« à condition de bien renseigner l'adresse mail »: an order with no email and no customer earns
    nothing and credits no one."""
    from sqlalchemy import func, select

    from db.tables import ledger_entries

    send("orders/paid", {**order(lines=((80, 1),)), "email": None, "contact_email": None, "customer": None})
    process()
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ledger_entries)).scalar() == 0


@responses.activate
def test_les_achats_avec_une_carte_cadeau_ne_rapportent_pas_de_points(send, process, summary):
    """« les achats réalisés avec une carte cadeau ne rapportent pas de points »: the amount paid by gift
    card is taken out of the earning base (the shared sample: 587 - 100 = 487)."""
    body = sample("order_with_gift_card_payment.json", SHOP)
    responses.post(GRAPHQL, json=transactions_response(
        body["id"], ("gift_card", "SALE", "SUCCESS", "100.00"), ("bogus", "SALE", "SUCCESS", "498.94")))
    send("orders/paid", body)
    process()
    assert summary(body["email"])["lifetime"] == 487


def test_les_achats_chez_nos_partenaires_revendeurs_ne_rapportent_pas_de_points(send, process, summary):
    """« Les achats réalisés chez nos partenaires revendeurs ne rapportent pas de point »: the reseller
    channel (and the reseller customer tag) of the template earn nothing."""
    send("orders/paid", order(email="r1@example.com", source_name="partner_reseller"))
    send("orders/paid", order(email="r2@example.com", customer_id=77, tags="revendeur"))
    process()
    assert summary("r1@example.com")["lifetime"] == 0 and summary("r2@example.com")["lifetime"] == 0


def test_les_points_sont_en_attente_14_jours(send, process, summary, ctx):
    """« vérifie que ton achat date de plus de 14 jours... tes points sont "en attente" »."""
    send("orders/paid", order(lines=((100, 1),), processed_at="2025-03-01T12:00:00+00:00"))
    process()
    mature_points(at("2025-03-15T11:59:00"), ctx)
    assert (summary("alice@example.com")["available"], summary("alice@example.com")["pending"]) == (0, 100)
    mature_points(at("2025-03-15T12:00:00"), ctx)
    assert (summary("alice@example.com")["available"], summary("alice@example.com")["pending"]) == (100, 0)


def test_les_commandes_passees_avant_le_programme_sont_comptabilisees_par_email(send, process, summary):
    """« Toutes les commandes passées avant la mise en place du programme ... sont comptabilisées même si
    tu n'avais pas créé de compte client ... depuis la même adresse email »: guest orders join the account
    created later with that email."""
    send("orders/paid", order(lines=((70, 1),), email="Camille@Example.com", processed_at="2023-06-01T10:00:00Z"))
    process()
    send("customers/create", customer(555, "camille@example.com"))
    send("orders/paid", order(lines=((30, 1),), email="camille@example.com", customer_id=555))
    process()
    record = summary("555")
    assert record["lifetime"] == 100 and record["customer"]["email"] == "camille@example.com"


def test_les_points_cumules_sont_valables_a_vie(send, process, summary, ctx):
    """« Non, les points cumulés sont valables à vie »: ten years on, nothing has expired."""
    send("orders/paid", order(lines=((120, 1),), processed_at="2015-01-01T10:00:00Z"))
    process()
    mature_points(at("2015-02-01T00:00:00"), ctx)
    expire_points(at("2025-02-01T00:00:00"), ctx)
    assert summary("alice@example.com")["available"] == 120


@pytest.mark.parametrize("spent, tier, unlocked, affordable", [
    (149, 0, [], []),
    (150, 150, ["anniversaire", "avant-premiere"], []),
    (300, 300, ["anniversaire", "avant-premiere"], ["carte-cadeau-10", "don-association"]),
    (500, 500, ["anniversaire", "avant-premiere"],
     ["carte-cadeau-10", "don-association", "accessoire-upcycle", "culotte-offerte"]),
    (1000, 1000, ["anniversaire", "avant-premiere", "ambassadrice"],
     ["carte-cadeau-10", "don-association", "accessoire-upcycle", "culotte-offerte"]),
])
def test_les_avantages_des_150_300_500_et_1000_points(send, process, summary, ctx, spent, tier, unlocked,
                                                       affordable):
    """« Dès 150 points » surprise and early access, « dès 300 » 10 € gift card or a donation, « dès 500 » an
    upcycled accessory or a free item from a selection, « dès 1000 » the ambassador programme."""
    send("orders/paid", order(lines=((spent, 1),), processed_at="2025-03-01T10:00:00Z", shipping=0))
    process()
    mature_points(at("2025-03-20T00:00:00"), ctx)
    standing = summary("alice@example.com")["standing"]
    assert standing["tier"] == tier
    assert [p["key"] for p in standing["unlocked"]] == unlocked
    assert [r["key"] for r in standing["redeemable"] if r["affordable"]] == affordable
    assert standing["conversion"] is None


def test_le_palier_suivant_et_ce_qu_il_reste_pour_l_atteindre(send, process, summary, ctx):
    """« voir à quel niveau tu es arrivé et combien il te reste pour atteindre le prochain palier »."""
    send("orders/paid", order(lines=((420, 1),), processed_at="2025-03-01T10:00:00Z", shipping=0))
    process()
    mature_points(at("2025-03-20T00:00:00"), ctx)
    standing = summary("alice@example.com")["standing"]
    assert (standing["tier"], standing["next_threshold"], standing["points_to_next"]) == (300, 500, 80)


def test_tu_seras_prevenue_par_mail_quand_tu_as_droit_a_un_avantage(send, process, ctx, shop, emulator, factory):
    """« Comment serais-je averti·e que j'ai droit à un avantage ? Tu seras prévenu·e par mail »: once the
    points behind a perk are confirmed, the write-back job grants it and one email in French is queued."""
    from sqlalchemy import select

    from db.tables import notifications
    from jobs.sync import sync_balances

    emulator.add_customer(shop.domain, 808, "ines@example.com")
    send("orders/paid", order(lines=((160, 1),), email="ines@example.com", customer_id=808,
                              processed_at="2025-03-01T10:00:00Z", shipping=0))
    process()
    sync_balances(ctx, client_factory=factory)
    mature_points(at("2025-03-16T00:00:00"), ctx)
    sync_balances(ctx, client_factory=factory)
    sync_balances(ctx, client_factory=factory)  # nothing new: still one email
    with ctx.engine.connect() as conn:
        sent = conn.execute(select(notifications.c.kind, notifications.c.language, notifications.c.to_address)
                            .where(notifications.c.kind == "threshold_reached")).all()
    assert [tuple(r) for r in sent] == [("threshold_reached", "fr", "ines@example.com")]
