"""PDFs are printed in the worker's printer process: WeasyPrint never loads in the worker, a printer
that died is replaced, and threads printing together each get their own document."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from app.config import PROJECT_ROOT
from app.reports.pdf import print_pdf
from tests.reports.documents import pdf_pages

STATIC = PROJECT_ROOT / "app" / "static"


def document(title: str) -> str:
    return f'<html lang="fr"><body><h1>{title}</h1></body></html>'


def printer_pids() -> list[int]:
    return [child.pid for child in multiprocessing.active_children() if child.pid is not None]


def test_the_worker_never_imports_weasyprint() -> None:
    code = (
        "import sys; from app.config import PROJECT_ROOT; from app.reports.pdf import print_pdf;"
        " content = print_pdf('<html><body><p>Bonjour</p></body></html>', static_dir=PROJECT_ROOT / 'app' / 'static');"
        " assert content.startswith(b'%PDF-'), content[:20];"
        " print(sorted(name for name in sys.modules if name.split('.')[0] in {'weasyprint', 'pydyf', 'tinyhtml5'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_printer_that_died_is_replaced_and_the_document_printed() -> None:
    assert pdf_pages(print_pdf(document("Premier"), static_dir=STATIC)) == ["Premier\n1 / 1"]
    (dead,) = printer_pids()
    os.kill(dead, signal.SIGKILL)
    assert pdf_pages(print_pdf(document("Deuxième"), static_dir=STATIC)) == ["Deuxième\n1 / 1"]
    (replacement,) = printer_pids()
    assert replacement != dead


def test_documents_printed_from_several_threads_each_come_back_to_their_thread() -> None:
    titles = [f"Rapport {number}" for number in range(6)]
    with ThreadPoolExecutor(max_workers=3) as threads:
        printed = list(threads.map(lambda title: print_pdf(document(title), static_dir=STATIC), titles))
    assert [pdf_pages(content) for content in printed] == [[f"{title}\n1 / 1"] for title in titles]


def test_a_printer_whose_worker_was_killed_exits() -> None:
    """A worker killed outright (no time to stop its printer) leaves no printer behind."""
    code = (
        "from app.config import PROJECT_ROOT; from app.reports.pdf import print_pdf; import multiprocessing;"
        " print_pdf('<html><body><p>Bonjour</p></body></html>', static_dir=PROJECT_ROOT / 'app' / 'static');"
        " print(multiprocessing.active_children()[0].pid, flush=True); import time; time.sleep(60)"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT
    )
    try:
        assert worker.stdout is not None
        printer = int(worker.stdout.readline())
        assert Path(f"/proc/{printer}").exists()
    finally:
        worker.kill()
        worker.wait()
    deadline = time.monotonic() + 30
    while Path(f"/proc/{printer}").exists() and _state(printer) != "Z" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{printer}").exists() or _state(printer) == "Z", "the printer outlived its worker"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return "gone"
