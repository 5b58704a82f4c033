"""The storefront: the loyalty page customers reach through Shopify's app proxy (`/apps/loyalty` in the
shop, forwarded to `/proxy` here), signed by Shopify; HTML inside the shop's theme, plain HTML, or JSON."""
