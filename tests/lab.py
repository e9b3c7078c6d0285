"""A JupyterLab server on 127.0.0.1 for a folder: what the browser tests and the browser
benchmark (benchmarks/browser.py) both start."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

#: User settings: every cell in the page (no windowing), and no question about news.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": '{"windowingMode": "none"}',
    "@jupyterlab/apputils-extension/notification": '{"fetchNews": "false"}',
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def lab_command(folder: Path, port: int, token: str) -> tuple[list[str], dict[str, str]]:
    """The command that serves ``folder`` (JupyterLab and Notebook 7) on 127.0.0.1, and its
    environment: settings and workspaces of its own (not the user's)."""
    settings = folder / "settings"
    for plugin, values in SETTINGS.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(values)
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={folder}", "--LabApp.news_url=", "--allow-root",
    ]  # fmt: skip
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(folder / "workspaces"),
    }
    return command, env
