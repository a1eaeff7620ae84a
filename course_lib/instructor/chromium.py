"""Debian's headless Chromium, the one browser the course drives: it prints peer-review
PDFs and runs the JupyterLab browser test. No browser download, no LaTeX."""

from __future__ import annotations

import os
import shutil

#: Quiet, offline, single-user: no sandbox of its own (root in containers), no GPU, no
#: first-run pages, no background traffic to any service.
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: Printing a page to PDF: headless, no date/URL header and footer, time for images to load.
PRINT_FLAGS = ["--headless", *FLAGS, "--no-pdf-header-footer", "--virtual-time-budget=3000"]
INSTALL_HINT = "Install Debian's package: apt-get install -y chromium"


def find_chromium() -> str:
    """The Chromium executable: ``$CHROMIUM``, else the first of the usual names on PATH."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise FileNotFoundError(f"No Chromium found. {INSTALL_HINT}")
