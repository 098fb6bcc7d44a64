"""The printer: a process of its own, next to each worker, that renders the PDFs.

WeasyPrint holds the GIL for the seconds a full report takes: in one of the worker's threads it would
stall every other request of that worker meanwhile. It also grows the process it runs in by about
100 MB that the allocator keeps. In the printer, the worker waits for the bytes without the GIL and
keeps its size; the printer (about 75 MB once WeasyPrint is loaded, 110 MB at its peak on a full
report) is replaced after `DOCUMENTS_PER_PRINTER` documents, which bounds what it keeps.

One printer per worker, started at the first document (WeasyPrint takes about 1.5 s of CPU to
import, a cost most workers never pay), so documents of one worker print one at a time. It is
started with `spawn`, never `fork`: the worker has threads and open database connections. A printer
that died is replaced and the document printed again, once; a printer whose worker died (killed, with
no time to stop it) exits within a second rather than wait for documents that cannot come. As in any
`spawn` child, the main module of the worker's process is imported in the printer first: a script that
prints PDFs keeps its work under `if __name__ == "__main__":` (uvicorn's and `autodiag`'s do).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

DOCUMENTS_PER_PRINTER = 50
PARENT_CHECK_SECONDS = 1.0

_lock = threading.Lock()
_printer: ProcessPoolExecutor | None = None


def print_document(html: str, static_dir: Path) -> bytes:
    """`html` printed to PDF bytes by the printer (`pdf.render_pdf` there)."""
    printer = _running_printer()
    try:
        return printer.submit(_render, html, str(static_dir)).result()
    except BrokenProcessPool:  # it died (killed, out of memory): once more, with a new printer
        _discard(printer)
    return _running_printer().submit(_render, html, str(static_dir)).result()


def _render(html: str, static_dir: str) -> bytes:
    """In the printer."""
    from app.reports.pdf import render_pdf

    return render_pdf(html, static_dir=Path(static_dir))


def _watch_worker(worker: int) -> None:
    """In the printer, at its start: exit once its worker is gone (the printer is then re-parented)."""

    def watch() -> None:
        while os.getppid() == worker:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="printer-watch", daemon=True).start()


def _running_printer() -> ProcessPoolExecutor:
    global _printer  # noqa: PLW0603 (one printer per process, shared by its threads)
    with _lock:
        if _printer is None:
            _printer = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                max_tasks_per_child=DOCUMENTS_PER_PRINTER,
                initializer=_watch_worker,
                initargs=(os.getpid(),),
            )
        return _printer


def _discard(printer: ProcessPoolExecutor) -> None:
    global _printer  # noqa: PLW0603
    with _lock:
        if _printer is printer:
            _printer = None
    printer.shutdown(wait=False, cancel_futures=True)
