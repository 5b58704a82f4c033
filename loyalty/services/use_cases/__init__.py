"""Use cases: one function per thing a merchant, a customer or an operator asks of the app, each
`use_case(request, uow)`: a request of loyalty.domain.requests and a unit of work
(loyalty.services.unit_of_work: transaction, clock, after-commit outbox). The entrypoints (admin,
storefront, cli) parse, call one of these (or one query of loyalty.services.read) and answer.

    vouchers      redeem_points, redeem_reward, cancel_voucher
    customers     adjust_points, set_birthday, give_own_birthday, set_accepts_emails
    earning       award_action
    programme     save_programme, change_programme
    failures      retry_failed_webhooks
    shops         register_shop_token, use_install_nonce
    flow          run_flow_action (a Shopify Flow action: award points, change tier)
"""
