"""Index fixtures: a store per test (SQLite in tmp; PostgreSQL on a throwaway cluster), and
the members of the session consortium as SDK clients."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from telcochain.index import IndexStore
from telcochain.node import free_port

from tests.index.flows import Members


@pytest.fixture
def members(local_node, deployment_path, dev_accounts) -> Members:  # type: ignore[no-untyped-def]
    return Members.connect(local_node.rpc_url, deployment_path, dev_accounts)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[IndexStore]:
    st = IndexStore(f"sqlite:///{tmp_path / 'index.sqlite'}")
    yield st
    st.dispose()


def _pg_bin() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free port (Debian's `postgresql` package); skipped
    with the reason when its binaries are absent. Stopped at the end of the session."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not installed: apt-get install -y postgresql")
    # its own directory under /tmp: pytest's tmp tree is private to this user, PostgreSQL runs as another
    root = Path(tempfile.mkdtemp(prefix="telcochain-pg-"))
    data, log = root / "data", root / "pg.log"
    port = free_port()
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
        os.chmod(root, 0o700)
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
            "-l",
            str(log),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        with contextlib.suppress(Exception):
            subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[IndexStore]:
    """A fresh database on the session's cluster for one test."""
    import psycopg

    name = f"idx_{int(time.time() * 1e6)}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    st = IndexStore(postgres_url.rsplit("/", 1)[0] + f"/{name}")
    yield st
    st.dispose()
