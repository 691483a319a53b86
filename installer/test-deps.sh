#!/usr/bin/env bash
# What only the tests need, made ready when we can; otherwise those tests skip and say how to enable them.
# Never fails the build.
#  - socat: a pseudo-terminal pair stands in for an RS-485 line in the Modbus RTU tests (installed with
#    apt when missing and we are root);
#  - PostgreSQL on 127.0.0.1:5432 for the historian's PostgreSQL tests (started when it is installed but
#    stopped; LINEWISE_TEST_POSTGRES points the tests at another server).
set -u

socat_ready() {
  command -v socat >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing socat for the Modbus RTU tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq socat >/dev/null && return 0
  fi
  echo "note: socat is not installed, so the Modbus RTU tests will skip (sudo apt-get install socat)" >&2
}

postgres_ready() {
  [ -n "${LINEWISE_TEST_POSTGRES:-}" ] && return 0
  command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432 && return 0
  if [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    for version in $(ls /etc/postgresql); do
      echo "starting PostgreSQL $version for the historian tests"
      pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
    done
    pg_isready -q -h 127.0.0.1 -p 5432 -t 10 && return 0
  fi
  echo "note: no PostgreSQL on 127.0.0.1:5432, so the historian's PostgreSQL tests will skip" \
       "(install and start it, or set LINEWISE_TEST_POSTGRES=postgresql+psycopg://user@host/db)" >&2
}

socat_ready
postgres_ready
exit 0
