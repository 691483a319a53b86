#!/usr/bin/env bash
# Programs only the tests need: socat (a pseudo-terminal pair stands in for an RS-485 line in
# the Modbus RTU tests). Installed when missing and we can (root + apt); otherwise those tests
# skip and say how to enable them. Never fails the build.
set -u
command -v socat >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing socat for the Modbus RTU tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq socat >/dev/null && exit 0
fi
echo "note: socat is not installed, so the Modbus RTU tests will skip (sudo apt-get install socat)" >&2
exit 0
