#!/usr/bin/env bash
# Moves the newer Claude Code pin of the end-to-end tests (tests/e2e/claude-code)
# to the registry's latest release; the older pin stays. Regenerates the lock
# file, then `bash scripts/test.sh` installs it and runs every real-CLI test on
# both. Usage: bash scripts/bump-claude-code.sh [VERSION]   (default: npm's latest)
set -euo pipefail
cd "$(dirname "$0")/../tests/e2e/claude-code"

PKG=@anthropic-ai/claude-code-linux-x64
latest=${1:-$(npm view "$PKG" version)}
case $latest in
  *[!0-9.]* | "") echo "bump-claude-code: not a version: '$latest'" >&2; exit 2 ;;
esac
if [ "$(npm view "$PKG@$latest" version)" != "$latest" ]; then
  echo "bump-claude-code: $PKG@$latest is not on the registry" >&2
  exit 2
fi

# package.json is put back if the lock cannot be regenerated.
cp package.json .package.json.bak
trap 'mv -f .package.json.bak package.json' ERR

status=0
LATEST=$latest node - <<'JS' || status=$?
const fs = require("fs");
const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
const key = (v) => v.split(".").map(Number);
const older = (a, b) => { const x = key(a), y = key(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) < (y[i] || 0);
  }
  return false; };
const pins = Object.keys(pkg.dependencies).map((a) => a.replace(/^claude-code-/, ""));
pins.sort((a, b) => (older(a, b) ? -1 : older(b, a) ? 1 : 0));
const oldest = pins[0], newest = pins[pins.length - 1], latest = process.env.LATEST;
if (!older(newest, latest)) {
  console.log(`bump-claude-code: ${newest} is already the newest pin (latest: ${latest})`);
  process.exit(3);
}
const deps = {};
for (const v of [oldest, latest]) {
  deps[`claude-code-${v}`] = `npm:@anthropic-ai/claude-code-linux-x64@${v}`;
}
pkg.dependencies = deps;
fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2) + "\n");
console.log(`bump-claude-code: ${newest} -> ${latest} (older pin ${oldest} kept)`);
JS
if [ "$status" = 3 ]; then rm -f .package.json.bak; exit 0; fi
[ "$status" = 0 ] || { mv -f .package.json.bak package.json; exit "$status"; }

npm install --package-lock-only --ignore-scripts --no-audit --no-fund --loglevel=error
rm -f .package.json.bak
echo "bump-claude-code: package.json and package-lock.json updated; run: bash scripts/test.sh tests/e2e"
