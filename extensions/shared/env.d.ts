/** The app's origin, compiled in by extensions/build.mjs (LOYALTY_APP_URL or shopify.app.toml). */
declare const APP_URL: string;
