#!/usr/bin/env node
// "TSDoc on every public export": for each publishable package's src/index.ts, every exported
// name (value or type) must carry a documentation comment (`/** ... */`) on its declaration.
// Members of exported interfaces and classes are counted and listed with --members, not enforced.
// Uses the TypeScript compiler API (tsconfig.docs.json), so it is exact and takes seconds.
// Usage: node scripts/check-docs.mjs [--members]
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const showMembers = process.argv.includes('--members');

const entries = [];
for (const parent of ['packages', 'packages/adapters']) {
  for (const entry of readdirSync(join(root, parent), { withFileTypes: true })) {
    const dir = join(root, parent, entry.name);
    const manifest = join(dir, 'package.json');
    if (!entry.isDirectory() || !existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    if (pkg.private !== true && existsSync(join(dir, 'src', 'index.ts'))) entries.push({ name: pkg.name, file: join(dir, 'src', 'index.ts') });
  }
}
entries.sort((a, b) => a.name.localeCompare(b.name));

const configPath = join(root, 'tsconfig.docs.json');
const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => console.error(d.messageText) });
const program = ts.createProgram({ rootNames: entries.map((e) => e.file), options: config.options });
const checker = program.getTypeChecker();

const hasDoc = (symbol) => {
  if (symbol.getDocumentationComment(checker).length > 0) return true;
  // A doc comment with only tags (e.g. `/** @internal */`) still counts as documented.
  return (symbol.declarations ?? []).some((d) => ts.getJSDocCommentsAndTags(d).length > 0);
};
const where = (decl) => {
  const sf = decl.getSourceFile();
  const { line } = sf.getLineAndCharacterOfPosition(decl.getStart(sf));
  return `${relative(root, sf.fileName)}:${line + 1}`;
};

let missing = 0;
let exportsChecked = 0;
let membersMissing = 0;
for (const { name, file } of entries) {
  const source = program.getSourceFile(file);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  if (!moduleSymbol) {
    console.log(`${name}: cannot read ${relative(root, file)}`);
    missing += 1;
    continue;
  }
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decl = target.declarations?.[0];
    if (!decl) continue;
    exportsChecked += 1;
    if (!hasDoc(target)) {
      missing += 1;
      console.log(`${name}: \`${exported.name}\` has no doc comment (${where(decl)})`);
    }
    // Members of interfaces, classes and object type aliases: reported, not enforced.
    if (showMembers && target.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class)) {
      for (const member of target.members?.values() ?? []) {
        const mDecl = member.declarations?.[0];
        if (!mDecl || member.name === '__constructor' || (ts.getCombinedModifierFlags(mDecl) & ts.ModifierFlags.Private) !== 0) continue;
        if (member.name.startsWith('#')) continue;
        if (!hasDoc(member)) {
          membersMissing += 1;
          console.log(`  (member) ${name}: \`${exported.name}.${member.name}\` has no doc comment (${where(mDecl)})`);
        }
      }
    }
  }
}

if (showMembers) console.log(`${membersMissing} interface/class members without a doc comment (not enforced)`);
if (missing > 0) {
  console.log(`${missing} of ${exportsChecked} public exports have no doc comment: add a /** ... */ saying what it is for`);
  process.exit(1);
}
console.log(`every public export has a doc comment (${exportsChecked} exports in ${entries.length} packages)`);
