/**
 * Test doubles for the checkout and POS extensions' tests (never bundled): shopify.i18n reading the
 * extension's own locales/*.json (a missing key throws, so a test fails on it), and a fake app answering
 * the extension API over a fake fetch that records every request.
 */
/// <reference types="vite/client" />
import {afterEach, beforeEach} from 'vitest';
import type {Texts} from './checkout-i18n.ts';

/** Every locale file of the extensions, read by Vitest (import.meta.glob), never bundled. */
const LOCALES = import.meta.glob<Record<string, unknown>>('../*/locales/*.json', {eager: true, import: 'default'});

/** The translations of `extension` (a folder under extensions/) in `lang` (`en` reads en.default.json). */
export function locale(extension: string, lang: 'en' | 'fr'): Record<string, unknown> {
  const file = `../${extension}/locales/${lang === 'en' ? 'en.default.json' : `${lang}.json`}`;
  if (!LOCALES[file]) throw new Error(`no locale file ${file}`);
  return LOCALES[file];
}

/** shopify.i18n as Shopify implements it for our use: dotted keys, `{{name}}` values, plural forms picked
 * by `count` (falling back to `other`). */
export function texts(messages: Record<string, unknown>, lang: string): Texts {
  return {
    translate(key, options = {}) {
      let entry: any = key.split('.').reduce<any>((node, part) => node?.[part], messages);
      if (entry && typeof entry === 'object' && 'count' in options) {
        entry = entry[new Intl.PluralRules(lang).select(Number(options.count))] ?? entry.other;
      }
      if (typeof entry !== 'string') throw new Error(`missing translation ${key} (${lang})`);
      return entry.replace(/\{\{(\w+)\}\}/g, (_m: string, name: string) => {
        if (!(name in options)) throw new Error(`translation ${key} needs {{${name}}}`);
        return String(options[name]);
      });
    },
    formatNumber: (value, options) => new Intl.NumberFormat(lang, options).format(value),
    formatCurrency: (value, options) => new Intl.NumberFormat(lang, {style: 'currency', currency: 'EUR', ...options}).format(value),
    formatDate: (date, options) => new Intl.DateTimeFormat(lang, options).format(date),
  };
}

export type Seen = {method: string; path: string; body: any; authorization: string | null};
type Route = (request: Seen) => {status: number; body: unknown} | Promise<{status: number; body: unknown}>;

/** A fake app: `routes` keyed by `METHOD /path` answer JSON; `fetch` records each request in `seen`. */
export function fakeApp(routes: Record<string, Route>) {
  const seen: Seen[] = [];
  const fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const path = new URL(url).pathname;
    const method = init?.method ?? 'GET';
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const request = {method, path, body: init?.body ? JSON.parse(String(init.body)) : null,
      authorization: headers.Authorization ?? null};
    seen.push(request);
    const route = routes[`${method} ${path}`];
    if (!route) return new Response(JSON.stringify({error: 'error.not_found', message: 'Not found'}), {status: 404});
    const {status, body} = await route(request);
    return new Response(JSON.stringify(body), {status});
  };
  return {fetch, seen};
}

/** A fake app installed as the global fetch, which the extensions call (shared/checkout-host.ts). */
export function serve(routes: Record<string, Route>) {
  const app = fakeApp(routes);
  (globalThis as any).fetch = app.fetch;
  return app;
}

/** For a test file: APP_URL as the bundle defines it, and the real fetch and no `shopify` after each test. */
export function extensionGlobals(appUrl = 'https://app.test') {
  const realFetch = globalThis.fetch;
  beforeEach(() => { (globalThis as any).APP_URL = appUrl; });
  afterEach(() => { globalThis.fetch = realFetch; delete (globalThis as any).shopify; });
}

/** The text a rendered HTML string shows (a `heading` attribute is shown too: banners and POS blocks),
 * tags removed and entities decoded, for assertions on text. */
export function visibleText(html: string): string {
  return html.replace(/<[^>]*\sheading="([^"]*)"[^>]*>/g, ' $1 ').replace(/<[^>]+>/g, ' ').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ').trim();
}
