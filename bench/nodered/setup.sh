#!/bin/sh
# Installs Node-RED (pinned in package.json / package-lock.json) into
# bench/nodered/node_modules for bench/mqtt_e2e. Idempotent: does nothing when the
# installed tree already matches the lock file.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
if [ -f node_modules/node-red/package.json ] && [ -f node_modules/.package-lock.json ] &&
   [ node_modules/.package-lock.json -nt package-lock.json ]; then
  echo "node-red $(node -p "require('./node_modules/node-red/package.json').version") already installed in $here/node_modules"
  exit 0
fi
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --omit=optional
else
  npm install --no-audit --no-fund --omit=optional
fi
echo "node-red $(node -p "require('./node_modules/node-red/package.json').version") installed in $here/node_modules"
