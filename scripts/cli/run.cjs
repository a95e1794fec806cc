#!/usr/bin/env node
// Runs the CLI (scripts/cli/main.ts) from one esbuild bundle cached in node_modules/.cache, so a call
// answers without compiling TypeScript first. The bundle is rebuilt when any file it was built from is
// newer than it (the list esbuild reports is kept beside it), and packages stay external (loaded from
// node_modules as before). Each source file keeps its own __dirname, __filename and import.meta.url, so
// code that reads files beside its source (pages, templates) finds them. When esbuild is missing or the
// build fails, the CLI runs through tsx as before (slower, same behaviour).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const ROOT = path.join(__dirname, '..', '..');
const ENTRY = path.join(__dirname, 'main.ts');
const CACHE_DIR =
  process.env.ORDER_WEBHOOKS_CLI_CACHE ?? path.join(ROOT, 'node_modules', '.cache', 'order-webhooks-cli');
const BUNDLE = path.join(CACHE_DIR, 'main.cjs');
const INPUTS = path.join(CACHE_DIR, 'inputs.json');
const SOURCE_EXTENSIONS = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** The bundle when every file it was built from (and this script) is older than it; else undefined. */
function freshBundle() {
  try {
    const builtAt = fs.statSync(BUNDLE).mtimeMs;
    const { inputs } = JSON.parse(fs.readFileSync(INPUTS, 'utf8'));
    for (const file of [__filename, 'package.json', 'tsconfig.json', ...inputs])
      if (fs.statSync(path.resolve(ROOT, file)).mtimeMs > builtAt) return;
    return BUNDLE;
  } catch {
    return undefined;
  }
}

/** esbuild plugin: a source's own location replaces __dirname, __filename and import.meta.* in it. */
const keepSourceLocation = {
  name: 'keep-source-location',
  setup(build) {
    build.onLoad({ filter: SOURCE_EXTENSIONS }, (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const text = fs.readFileSync(args.path, 'utf8');
      const dir = JSON.stringify(path.dirname(args.path));
      const file = JSON.stringify(args.path);
      const contents = text
        .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href))
        .replace(/\bimport\.meta\.dirname\b/g, dir)
        .replace(/\bimport\.meta\.filename\b/g, file)
        .replace(/(?<![.\w$])__dirname\b/g, dir)
        .replace(/(?<![.\w$])__filename\b/g, file);
      const ext = path.extname(args.path).slice(1);
      return { contents, loader: /^[mc]?ts$/.test(ext) ? 'ts' : 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

/**
 * Bundles `entry` into `<cacheDir>/main.cjs` with the list of its inputs beside it. Packages resolve
 * from the entry's folder wherever the bundle lives, as they would for the source.
 */
async function buildBundle(entry = ENTRY, cacheDir = CACHE_DIR) {
  const esbuild = require('esbuild');
  fs.mkdirSync(cacheDir, { recursive: true });
  const bundle = path.join(cacheDir, 'main.cjs');
  const inputsFile = path.join(cacheDir, 'inputs.json');
  const temp = `${bundle}.${process.pid}.tmp`;
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile: temp,
    banner: { js: `var require = require('node:module').createRequire(${JSON.stringify(entry)});` },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20', // package.json engines: the bundle runs on any Node the CLI supports
    packages: 'external',
    keepNames: true,
    // Non-code files a command imports (a page, a stylesheet) become strings in the bundle.
    loader: { '.html': 'text', '.css': 'text', '.svg': 'text', '.txt': 'text', '.md': 'text' },
    absWorkingDir: ROOT,
    metafile: true,
    logLevel: 'silent',
    plugins: [keepSourceLocation],
  });
  const inputs = Object.keys(result.metafile.inputs).filter((file) => !file.includes('node_modules/'));
  // Written aside and renamed: a second CLI run at the same moment never loads half a bundle.
  fs.writeFileSync(`${inputsFile}.${process.pid}.tmp`, JSON.stringify({ inputs }));
  fs.renameSync(`${inputsFile}.${process.pid}.tmp`, inputsFile);
  fs.renameSync(temp, bundle);
  return bundle;
}

function runWithTsx() {
  process.env.TSX_TSCONFIG_PATH ??= path.join(ROOT, 'tsconfig.json');
  require('tsx/cjs');
  require('./main.ts');
}

async function run() {
  let bundle = freshBundle();
  if (!bundle && process.env.ORDER_WEBHOOKS_CLI_NO_BUNDLE !== '1') {
    try {
      bundle = await buildBundle();
    } catch (error) {
      if (process.env.ORDER_WEBHOOKS_CLI_DEBUG) process.stderr.write(`cli bundle: ${error}\n`);
    }
  }
  if (bundle && process.env.ORDER_WEBHOOKS_CLI_NO_BUNDLE !== '1') require(bundle);
  else runWithTsx();
}

module.exports = { run, freshBundle, buildBundle, BUNDLE };

if (require.main === module) run();
