"""A real, throw-away PostgreSQL 15 server for the tests: a temporary cluster on a free port.

The server refuses to run as root, so when the tests run as root the cluster belongs to the
`postgres` system account and every server command runs as that account.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import psycopg

BIN = Path(os.environ.get("AUTODIAG_PG_BIN", "/usr/lib/postgresql/15/bin"))


class PostgresServer:
    def __init__(self) -> None:
        if not (BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL 15 not found in {BIN}: install postgresql-15 (make test does)")
        self.root = Path(tempfile.mkdtemp(prefix="autodiag-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_owner = os.geteuid() == 0
        if self._as_owner:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"
        )
        # Each test has its own database and app; 300 connections leave room for the pools of a test's
        # apps and servers (the `app` fixture closes its own after the test).
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off -c max_connections=300"
        )
        log = self.root / "server.log"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(log), "-w", "start")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE DATABASE needs that)."""
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as c:
            c.execute(sql)  # type: ignore[arg-type]

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        # Hundreds of test databases make gigabytes to delete (a minute at the end of the run): a
        # detached `rm` deletes them while pytest finishes.
        subprocess.Popen(["rm", "-rf", str(self.root)], start_new_session=True)

    def _run(self, program: str, *args: str) -> None:
        command: Sequence[str] = [str(BIN / program), *args]
        if self._as_owner:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.root)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
