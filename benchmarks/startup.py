"""Start-up of one worker in the production configuration: CPU time and memory to the first 200.

    uv run python -m benchmarks.startup [--runs 5]

Each run starts `uvicorn app.main:create_app --factory` with `AUTODIAG_ENVIRONMENT=production` on
an already migrated SQLite database (production never migrates at start-up), polls `/healthz`
until it answers 200, then reads the process's CPU time (user + system) and resident memory from
/proc. Two cases: with the bytecode compiled as the image builds it (`UV_COMPILE_BYTECODE` for the
installed packages, `compileall` for the app: the first run compiles a development environment's
packages, which PYTHONDONTWRITEBYTECODE leaves uncompiled) and without (`PYTHONDONTWRITEBYTECODE`
and an empty bytecode folder: every start compiles every module, as the image did before). Medians.
Target (shared/design.md §10): ≤ 1.5 s of CPU and ≤ 120 MB of RSS per worker.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import httpx2 as httpx

from benchmarks.served import ROOT, SECRET, cpu_seconds, free_port, machine_load


def start_once(env: dict[str, str]) -> tuple[float, float, float]:
    """(CPU seconds, RSS MB, wall seconds) of one worker from its start to its first 200 on /healthz."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(port)]
    command += ["--log-level", "warning"]
    began = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.02)
            if process.poll() is not None:
                raise RuntimeError("the server stopped before answering")
        wall = time.perf_counter() - began
        status = Path(f"/proc/{process.pid}/status").read_text()
        rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return cpu_seconds(process.pid), rss_kb / 1024, wall
    finally:
        process.terminate()
        process.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(machine_load())
    with tempfile.TemporaryDirectory() as folder:
        base = {
            **os.environ,
            "AUTODIAG_ENVIRONMENT": "production",
            "AUTODIAG_SECRET_KEY": SECRET,
            "AUTODIAG_DATA_DIR": folder,
            "AUTODIAG_MAIL_WORKER": "false",
        }
        autodiag = str(Path(sys.executable).with_name("autodiag"))
        subprocess.run([autodiag, "db", "upgrade"], cwd=ROOT, env=base, check=True, capture_output=True)
        # As the image: UV_COMPILE_BYTECODE compiles the installed packages, compileall the app.
        site = sysconfig.get_paths()["purelib"]
        subprocess.run([sys.executable, "-m", "compileall", "-q", site], check=True, capture_output=True)
        subprocess.run([sys.executable, "-m", "compileall", "-q", "app"], cwd=ROOT, check=True)
        cases = {
            "bytecode compiled (the image)": base,
            "no compiled bytecode (the image before)": {
                **base,
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONPYCACHEPREFIX": str(Path(folder) / "empty-pycache"),
            },
        }
        for name, env in cases.items():
            start_once(env)  # warm the file system cache
            runs = [start_once(env) for _ in range(args.runs)]
            cpu, rss, wall = (statistics.median(r[i] for r in runs) for i in range(3))
            print(
                f"{name:42} CPU {cpu:5.2f} s   RSS {rss:6.1f} MB   wall {wall:5.2f} s   (target ≤ 1.5 s, ≤ 120 MB)"
            )
    print(machine_load())


if __name__ == "__main__":
    main()
