#!/usr/bin/env node
// "No `any` in public types": parses the built declarations (dist/*.d.ts and *.d.cts) of every
// publishable package and fails on any `any` keyword in a type position, printing where it is.
// It uses the TypeScript parser, so the word in comments or strings never counts.
// Needs built packages (`pnpm build` first). Usage: node scripts/check-no-any.mjs
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function publishablePackageDirs() {
  const out = [];
  for (const parent of ['packages', 'packages/adapters']) {
    for (const entry of readdirSync(join(root, parent), { withFileTypes: true })) {
      const dir = join(root, parent, entry.name);
      const manifest = join(dir, 'package.json');
      if (entry.isDirectory() && existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).private !== true) out.push(dir);
    }
  }
  return out.sort();
}

let found = 0;
let checked = 0;
const missing = [];
for (const dir of publishablePackageDirs()) {
  const dist = join(dir, 'dist');
  const decls = existsSync(dist) ? readdirSync(dist).filter((f) => f.endsWith('.d.ts') || f.endsWith('.d.cts')) : [];
  if (decls.length === 0) missing.push(relative(root, dir));
  for (const file of decls) {
    const path = join(dist, file);
    const text = readFileSync(path, 'utf8');
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    checked += 1;
    const visit = (node) => {
      if (node.kind === ts.SyntaxKind.AnyKeyword) {
        found += 1;
        const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source));
        const lineText = text.split('\n')[line].trim();
        console.log(`${relative(root, path)}:${line + 1}:${character + 1}: \`any\` in a public type: ${lineText}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
}

if (missing.length > 0) {
  console.log(`no built declarations in ${missing.join(', ')}: run \`pnpm build\` first`);
  process.exit(1);
}
if (found > 0) {
  console.log(`${found} \`any\` in public declarations; use \`unknown\`, a generic or a precise type instead`);
  process.exit(1);
}
console.log(`no \`any\` in the public declarations (${checked} declaration files checked)`);
