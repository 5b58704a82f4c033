/** Every translation key the code uses exists in both locale files (en.default.json and fr.json), with
 * the same placeholders, and neither file has a key the other lacks. */
/// <reference types="vite/client" />
import {describe, expect, it} from 'vitest';

// Files read through Vite's import.meta.glob (the toolchain has no Node typings): the locale files, and the
// extension's sources as text (not the tests nor their fixtures).
const localeFiles: Record<string, Tree> = import.meta.glob('../locales/*.json', {eager: true, import: 'default'});
const sourceFiles: Record<string, string> = import.meta.glob(
  ['./**/*.ts', './**/*.tsx', '!./**/*.test.*', '!./testing/**'], {eager: true, query: '?raw', import: 'default'});
const LOCALES = ['en.default.json', 'fr.json'];
const PLURAL_FORMS = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);

type Tree = {[key: string]: string | Tree};

/** Every translatable key: a string leaf, or an object of plural forms (`points` -> {one, other}). */
function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [name, value] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (typeof value === 'string') keys.set(key, value);
    else if (Object.keys(value).every((form) => PLURAL_FORMS.has(form))) keys.set(key, JSON.stringify(value));
    else flatten(value, key).forEach((text, k) => keys.set(k, text));
  }
  return keys;
}

function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]))].sort();
}

const locales = Object.fromEntries(LOCALES.map((file) => [file, flatten(localeFiles[`../locales/${file}`])]));
const known = locales['en.default.json'];

/** Keys in the code: every quoted string that names a locale key (the keys all have a dot, or are `points`). */
function usedKeys(): Set<string> {
  const used = new Set<string>();
  for (const text of Object.values(sourceFiles)) {
    for (const match of text.matchAll(/['"`]([a-z_]+(?:\.[a-z_]+)+|points)['"`]/g)) {
      const prefix = match[1].split('.')[0];
      if ([...known.keys()].some((key) => key.split('.')[0] === prefix)) used.add(match[1]);
    }
  }
  return used;
}

describe('translations', () => {
  it('has every key the code uses, in English and French', () => {
    expect(Object.keys(sourceFiles)).toContain('./LoyaltyPage.tsx');
    const used = usedKeys();
    expect(used.size).toBeGreaterThan(60);
    for (const file of LOCALES) {
      expect([...used].filter((key) => !locales[file].has(key)), file).toEqual([]);
    }
  });

  it('has the same keys and placeholders in both languages', () => {
    const [en, fr] = LOCALES.map((file) => locales[file]);
    expect([...fr.keys()].sort()).toEqual([...en.keys()].sort());
    for (const [key, text] of en) {
      expect(placeholders(fr.get(key)!), key).toEqual(placeholders(text));
    }
  });

  it('has no key that the code never uses', () => {
    const used = usedKeys();
    expect([...known.keys()].filter((key) => !used.has(key))).toEqual([]);
  });
});
