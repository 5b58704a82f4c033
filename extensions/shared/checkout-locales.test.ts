/**
 * Every translation key the checkout and POS extensions use exists in English and French, and every key
 * of their locales is used: keys are written as literals (`'checkout.…'`, `'order.…'`, `'pos.…'`,
 * `'common.…'`) in the sources, which this test reads.
 */
/// <reference types="vite/client" />
import {describe, expect, it} from 'vitest';
import {locale} from './checkout-fakes.ts';

const PLURAL = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);

/** The keys of a locale file; a plural entry ({one, other}) counts as its parent key. */
function keysOf(tree: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([name, value]) => {
    if (typeof value === 'string') return [prefix + name];
    const node = value as Record<string, unknown>;
    if (Object.keys(node).every((k) => PLURAL.has(k))) return [prefix + name];
    return keysOf(node, `${prefix}${name}.`);
  });
}

/** The sources of the extensions as text (tests and fixtures left out: they name keys only to check them). */
const SOURCES = import.meta.glob<string>(['../loyalty-checkout/src/*.{ts,tsx}', '../loyalty-pos/src/*.{ts,tsx}',
  '!**/*.test.*', '!**/fixtures.ts'], {eager: true, query: '?raw', import: 'default'});

function usedKeys(extension: string): string[] {
  const used = new Set<string>();
  for (const [file, text] of Object.entries(SOURCES)) {
    if (!file.startsWith(`../${extension}/`)) continue;
    for (const m of text.matchAll(/['"]((?:checkout|order|pos|common)\.[a-z_.]+)['"]/g)) used.add(m[1]);
  }
  return [...used].sort();
}

describe.each(['loyalty-checkout', 'loyalty-pos'])('%s translations', (extension) => {
  const en = keysOf(locale(extension, 'en')).sort();
  const fr = keysOf(locale(extension, 'fr')).sort();

  it('has the same keys in English and French', () => {
    expect(fr).toEqual(en);
  });

  it('has every key the sources use, and no key they do not use', () => {
    const used = usedKeys(extension);
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((k) => !en.includes(k))).toEqual([]);
    expect(en.filter((k) => !used.includes(k))).toEqual([]);
  });
});
