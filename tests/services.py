"""Real services the grader tests start and stop themselves: a Dask scheduler with
`dask worker` processes on loopback, and a throwaway PostgreSQL server."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

#: Debian's PostgreSQL server programs (the newest installed version).
POSTGRES_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), default=Path("/usr/lib/postgresql/15/bin"),
                   key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
DASK = Path(sys.executable).parent / "dask"


def stop_group(process: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 20) -> None:
    """Signal the process group ``process`` leads and wait for it; SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)


@dataclass
class DaskCluster:
    address: str
    scheduler: subprocess.Popen
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)  # by worker name

    def client(self):
        from distributed import Client

        return Client(self.address, timeout=60)


@contextlib.contextmanager
def dask_cluster(names=("a", "b"), log_dir: Path | None = None):
    """``dask scheduler`` and one ``dask worker`` (one task at a time) per name, each its own
    process group so a test can kill one; all stopped on exit."""
    folder = Path(tempfile.mkdtemp(prefix="dask-test-"))
    log_dir = log_dir or folder
    scheduler_file = folder / "scheduler.json"
    started: list[subprocess.Popen] = []

    def start(args, name):
        log = open(log_dir / f"{name}.log", "wb")
        process = subprocess.Popen([str(DASK), *args], stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        started.append(process)
        return process

    try:
        scheduler = start(["scheduler", "--host", "127.0.0.1", "--port", "0",
                           "--no-dashboard", "--scheduler-file", str(scheduler_file)], "scheduler")
        deadline = time.monotonic() + 120
        while not scheduler_file.is_file():
            if scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("dask scheduler did not start:\n"
                                   + (log_dir / "scheduler.log").read_text())
            time.sleep(0.2)
        import json

        address = json.loads(scheduler_file.read_text())["address"]
        cluster = DaskCluster(address, scheduler)
        for name in names:
            cluster.workers[name] = start(
                ["worker", address, "--name", name, "--nthreads", "1", "--nworkers", "1",
                 "--no-dashboard", "--memory-limit", "0", "--host", "127.0.0.1"], f"worker-{name}")
        with cluster.client() as client:
            client.wait_for_workers(len(names), timeout=180)
        yield cluster
    finally:
        for process in reversed(started):
            stop_group(process)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def postgres_server(database: str = "gradebook"):
    """A PostgreSQL server of its own in a temporary folder, listening only on a unix
    socket there; yields the SQLAlchemy URL of a fresh database. As root the server runs as
    the unprivileged ``postgres`` user (PostgreSQL refuses to run as root)."""
    if not (POSTGRES_BIN / "initdb").is_file():
        raise RuntimeError("Debian's postgresql package is not installed: run make env.")
    folder = Path(tempfile.mkdtemp(prefix="pg-test-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"

    def run(*args):
        subprocess.run([*as_user, *args], check=True, capture_output=True, text=True)

    try:
        run(str(POSTGRES_BIN / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres",
            "-E", "UTF8")
        run(str(POSTGRES_BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w",
            "-o", f"-k {folder} -c listen_addresses=''", "start")
        try:
            run(str(POSTGRES_BIN / "createdb"), "-h", str(folder), "-U", "postgres", database)
            yield f"postgresql://postgres@/{database}?host={folder}"
        finally:
            run(str(POSTGRES_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
