"""`python -m tools.shopify_emulator`: serve one emulated shop over HTTP (threaded)."""
import argparse
import logging

from werkzeug.serving import run_simple

from tools.shopify_emulator.bucket import DEFAULT_MAXIMUM_AVAILABLE, DEFAULT_RESTORE_RATE
from tools.shopify_emulator.core import Emulator

log = logging.getLogger("tools.shopify_emulator")


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m tools.shopify_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--shop", default="demo.myshopify.com", help="shop domain to register")
    parser.add_argument("--token", default="demo-token", help="access token the shop answers to")
    # The demo shop is store A's kind of shop: French, in Paris, in euros (its orders are in EUR).
    parser.add_argument("--name", default="Maison Démo", help="the shop's name")
    parser.add_argument("--timezone", default="Europe/Paris", help="the shop's IANA time zone")
    parser.add_argument("--currency", default="EUR", help="the shop's currency")
    parser.add_argument("--locale", default="fr", help="the shop's primary locale")
    parser.add_argument("--maximum-available", type=float, default=DEFAULT_MAXIMUM_AVAILABLE)
    parser.add_argument("--restore-rate", type=float, default=DEFAULT_RESTORE_RATE)
    return parser.parse_args(argv)


def main(argv=None):
    """Build the emulator, load the schema before the first request needs it, and serve."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    emulator = Emulator(maximum_available=args.maximum_available, restore_rate=args.restore_rate)
    emulator.add_shop(args.shop, args.token, name=args.name, timezone=args.timezone, currency=args.currency,
                      locale=args.locale)
    loaded = emulator.schema
    log.info(
        "Shopify emulator for %s on http://%s:%d/%s (%s schema)",
        args.shop, args.host, args.port, args.shop, "Shopify's" if loaded.validates else "fallback",
    )
    run_simple(args.host, args.port, emulator.app, threaded=True)


if __name__ == "__main__":
    main()
