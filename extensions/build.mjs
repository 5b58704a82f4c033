// Bundles every UI extension the way Shopify CLI does (esbuild, Preact JSX, minified ES module) and checks
// each bundle against Shopify's deploy limit: 64 KB gzip-compressed, 128 KB for a full-page customer
// account extension. Writes extensions/<folder>/dist/<handle>.js (ignored by git) and prints the sizes.
//
// An extension is an `[[extensions]]` of a shopify.extension.toml under extensions/ that names
// `module = "./src/..."` entry points (one per target); each is bundled on its own, as Shopify does.
// The app's URL is compiled in as APP_URL: LOYALTY_APP_URL, else the application_url host of
// shopify.app.toml.
import {build} from 'esbuild';
import {readFileSync, readdirSync, existsSync, mkdirSync, writeFileSync} from 'node:fs';
import {gzipSync} from 'node:zlib';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
export const KB = 1024;
export const LIMIT = 64 * KB;
export const FULL_PAGE_LIMIT = 128 * KB;

export function appUrl() {
  if (process.env.LOYALTY_APP_URL) return process.env.LOYALTY_APP_URL.replace(/\/+$/, '');
  const toml = readFileSync(join(root, 'shopify.app.toml'), 'utf8');
  const url = new URL(/^application_url\s*=\s*"([^"]+)"/m.exec(toml)[1]);
  return url.origin;
}

/** The extensions to bundle, one per `[[extensions]]` of each shopify.extension.toml (a file may declare
 * several, as Shopify allows): {name, dir, modules, fullPage}. */
export function extensions() {
  return readdirSync(here, {withFileTypes: true})
    .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'shopify.extension.toml')))
    .flatMap((d) => {
      const toml = readFileSync(join(here, d.name, 'shopify.extension.toml'), 'utf8');
      const sections = toml.split(/^\[\[extensions\]\]\s*$/m);
      return (sections.length > 1 ? sections.slice(1) : sections).map((section) => {
        const handle = /^\s*handle\s*=\s*"([^"]+)"/m.exec(section)?.[1] ?? d.name;
        const modules = [...section.matchAll(/^\s*module\s*=\s*"([^"]+)"/gm)].map((m) => m[1]);
        const fullPage = /target\s*=\s*"customer-account\.page\.render"/.test(section);
        return {name: handle, dir: join(here, d.name), modules: [...new Set(modules)], fullPage};
      });
    })
    .filter((e) => e.modules.length > 0);
}

async function bundle(ext, url) {
  const out = join(ext.dir, 'dist');
  mkdirSync(out, {recursive: true});
  // One bundle per extension, as Shopify builds it: a generated entry importing each target's module.
  const entry = ext.modules.map((m, i) => `export {default as t${i}} from ${JSON.stringify(m)};`).join('\n');
  const result = await build({
    stdin: {contents: entry, resolveDir: ext.dir, sourcefile: 'targets.js', loader: 'js'},
    bundle: true, format: 'esm', minify: true, write: false, target: 'es2020', legalComments: 'none',
    jsx: 'automatic', jsxImportSource: 'preact', define: {APP_URL: JSON.stringify(url)}, logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  writeFileSync(join(out, `${ext.name}.js`), code);
  return {raw: code.length, gzip: gzipSync(code, {level: 9}).length};
}

export async function main() {
  const url = appUrl();
  let failed = false;
  for (const ext of extensions()) {
    const size = await bundle(ext, url);
    const limit = ext.fullPage ? FULL_PAGE_LIMIT : LIMIT;
    const ok = size.gzip <= limit;
    failed ||= !ok;
    console.log(`${ok ? 'ok  ' : 'OVER'} ${ext.name}: ${(size.gzip / KB).toFixed(1)} KB gzip `
      + `(${(size.raw / KB).toFixed(1)} KB raw), limit ${limit / KB} KB`);
  }
  if (failed) {
    console.error("a bundle is over Shopify's size limit: it would be refused at deploy");
    process.exit(1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
