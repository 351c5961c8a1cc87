#!/bin/sh
# Installs a kafka-forwarder package tarball (from `npm pack`) the way a user gets it: into DIR,
# with production dependencies only, giving DIR/node_modules/.bin/kafka-forwarder and
# DIR/node_modules/kafka-forwarder/dist/cli/main.js.
#
#   sh deploy/container/install-package.sh TARBALL DIR
#
# The one install procedure: the Dockerfile's runtime stage RUNs it, and test/package/ runs it
# before testing the installed command against Kafka, so the image holds what that test tested.
# POSIX sh: the slim Node images have no bash.
set -eu
if [ "$#" -ne 2 ]; then
  echo "usage: install-package.sh TARBALL DIR" >&2
  exit 2
fi
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dir=$2
mkdir -p "$dir"
# An application of its own, so that npm installs the package as a dependency (its bin linked
# into node_modules/.bin) and not as the project itself.
printf '%s\n' '{ "name": "kafka-forwarder-app", "private": true }' >"$dir/package.json"
cd "$dir"
npm install --omit=dev --no-audit --no-fund --no-package-lock "$tarball"
