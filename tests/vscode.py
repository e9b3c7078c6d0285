"""code-server (VS Code in a browser) on 127.0.0.1, installed from npm into a cache folder: the
second frontend whose renderer the VS Code test (tests/test_vscode.py) checks answers against.

It renders saved notebooks with VS Code's own built-in stack (the ``ipynb`` extension reads
them, markdown-it renders Markdown outputs, ``@vscode/markdown-it-katex`` typesets math) and
needs no extension from a marketplace: it runs with an empty extensions folder.

The install takes a few minutes once, then is reused: Node 24 (code-server's engine, newer than
Debian's) comes from npm's ``node`` package; code-server's own install script is skipped
because it compiles every native module of VS Code, one of which (kerberos, for proxy
authentication) needs a system Kerberos library; only those the server loads are compiled.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

NODE = "24.21.0"
CODE_SERVER = "4.139.1"
#: VS Code's native modules that the server loads (its logger, storage, watchdog, file copy
#: and machine id); kerberos and the Windows-only ones are left out.
NATIVE = [
    "@vscode/spdlog",
    "@vscode/sqlite3",
    "@vscode/native-watchdog",
    "@vscode/fs-copyfile",
    "@vscode/deviceid",
]
#: User settings: no welcome page, no trust prompt, no telemetry, outputs shown whole.
SETTINGS = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.enableExperiments": False,
    "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "notebook.output.scrolling": False,
    "notebook.output.textLineLimit": 100000,
    "chat.disableAIFeatures": True,
    "window.restoreWindows": "none",
    "workbench.editorAssociations": {"*.ipynb": "jupyter-notebook"},
    "workbench.secondarySideBar.defaultVisibility": "hidden",
}


def cache_folder() -> Path:
    """Where the install is kept between test sessions (``CHATNB_TEST_CACHE`` overrides)."""
    root = os.environ.get("CHATNB_TEST_CACHE") or Path.home() / ".cache" / "chatnb-tests"
    return Path(root) / f"code-server-{CODE_SERVER}-node-{NODE}"


@dataclass(frozen=True)
class Install:
    """A finished install: the Node binary and code-server's entry script."""

    folder: Path

    @property
    def node(self) -> Path:
        return self.folder / "node" / "node_modules" / ".bin" / "node"

    @property
    def entry(self) -> Path:
        return self.folder / "cs" / "node_modules" / "code-server" / "out" / "node" / "entry.js"


class InstallFailed(RuntimeError):
    """An npm step failed; the message ends with its output."""


def _npm(npm: str, args: list[str], cwd: Path, path: str, log: Path) -> None:
    env = {**os.environ, "PATH": path, "npm_config_fund": "false", "npm_config_audit": "false"}
    with log.open("a") as out:
        out.write(f"\n$ npm {' '.join(args)}  (in {cwd})\n")
        out.flush()
        done = subprocess.run(
            [npm, *args], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    if done.returncode != 0:
        raise InstallFailed(f"npm {' '.join(args)} failed:\n{log.read_text()[-3000:]}")


def _build(npm: str, folder: Path) -> None:
    """Node, then code-server without its install script, then VS Code's dependencies and the
    native modules the server needs, all under ``folder``."""
    log = folder / "install.log"
    (folder / "node").mkdir(parents=True)
    (folder / "cs").mkdir()
    system = os.environ.get("PATH", "")
    _npm(npm, ["install", "--prefix", "node", f"node@{NODE}"], folder, system, log)
    path = f"{folder / 'node' / 'node_modules' / '.bin'}{os.pathsep}{system}"
    package = f"code-server@{CODE_SERVER}"
    _npm(npm, ["install", "--prefix", "cs", "--ignore-scripts", package], folder, path, log)
    vscode = folder / "cs" / "node_modules" / "code-server" / "lib" / "vscode"
    _npm(npm, ["install", "--omit=dev", "--ignore-scripts"], vscode, path, log)
    _npm(npm, ["rebuild", *NATIVE], vscode, path, log)


def install() -> Install:
    """The cached install, made first if it is not there (one maker at a time: a lock)."""
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm")
    final = cache_folder()
    final.parent.mkdir(parents=True, exist_ok=True)
    with open(final.parent / f"{final.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (final / "done").exists():
            shutil.rmtree(final, ignore_errors=True)
            # Built beside the final folder and renamed into place: a half install is never
            # taken for a finished one.
            building = Path(tempfile.mkdtemp(dir=final.parent, prefix=f"{final.name}."))
            try:
                _build(npm, building)
                (building / "done").write_text(f"code-server {CODE_SERVER}, node {NODE}\n")
                building.rename(final)
            finally:
                shutil.rmtree(building, ignore_errors=True)
    return Install(final)


def server_command(
    found: Install, folder: Path, state: Path, port: int
) -> tuple[list[str], dict[str, str]]:
    """The command that serves ``folder`` on 127.0.0.1 with no password, and its environment;
    settings, extensions (none) and config of its own under ``state``, not the user's."""
    user = state / "user-data"
    (user / "User").mkdir(parents=True, exist_ok=True)
    (user / "User" / "settings.json").write_text(json.dumps(SETTINGS, indent=1))
    (state / "extensions").mkdir(exist_ok=True)
    config = state / "config.yaml"
    config.write_text(f"bind-addr: 127.0.0.1:{port}\nauth: none\ncert: false\n")
    command = [
        str(found.node), str(found.entry), "--config", str(config),
        "--bind-addr", f"127.0.0.1:{port}", "--auth", "none",
        "--user-data-dir", str(user), "--extensions-dir", str(state / "extensions"),
        "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
        "--disable-getting-started-override", str(folder),
    ]  # fmt: skip
    path = f"{found.node.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return command, {**os.environ, "PATH": path, "XDG_CONFIG_HOME": str(state / "config")}
