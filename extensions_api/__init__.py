"""The UI extensions' HTTP API (`/extensions/...`): the customer-account page, checkout, the thank-you and
order-status pages, and the point of sale call the app with Shopify's session token as their only credential."""
