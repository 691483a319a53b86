"""A PostgreSQL database of its own for each test module, on the machine's server.

The server is the one at LINEWISE_TEST_POSTGRES (a SQLAlchemy URL of a database to connect to for
creating others; default: user postgres on 127.0.0.1:5432, trust auth, as CI machines have it). Without
a reachable server the tests skip and say how to get one, except under CI, where they fail: CI promises
the server (installer/test-deps.sh starts it when it is installed but stopped).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

ADMIN_URL = os.environ.get("LINEWISE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """The URL of a new, empty database, dropped after the module."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"linewise_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        reason = (f"PostgreSQL is not reachable at {make_url(ADMIN_URL).render_as_string(hide_password=True)} "
                  f"({str(exc.orig).splitlines()[0]}): start it (pg_ctlcluster <version> main start) or set "
                  "LINEWISE_TEST_POSTGRES to a server's URL")
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
