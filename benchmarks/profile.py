"""py-spy profiles of the web and the worker while a benchmark measures (``--profile DIR``).

py-spy samples a running Python process from outside (``record --pid``); ``--subprocesses``
follows gunicorn's workers under their master, ``--nonblocking`` samples without pausing the
process (so the figures measured meanwhile stay near what they would be; py-spy's own CPU is
counted as other processes'). Stopped with SIGINT, py-spy writes its file: a flame graph
(SVG), speedscope JSON or "raw" collapsed stacks (one line per stack with its sample count,
for grep and for flamegraph.pl). Threads waiting in C (psycopg for PostgreSQL's answer, a
socket) count as busy in py-spy's samples; ``gil=True`` (``--profile-gil``) keeps only the
thread that holds the GIL: where a process's Python CPU goes.
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import sysconfig
from pathlib import Path

log = logging.getLogger("benchmarks")

FORMATS = {"flamegraph": "svg", "speedscope": "json", "raw": "txt"}


def py_spy() -> str:
    """The py-spy binary of this venv (a test dependency), else one on PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "py-spy"
    if beside.exists():
        return str(beside)
    found = shutil.which("py-spy")
    if found is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy; it is in .[test])")
    return found


class Profiler:
    """One ``py-spy record`` per process, from ``start()`` until ``stop()``."""

    def __init__(
        self, folder: Path, pids: dict[str, int], *, fmt: str, rate: int = 100, gil: bool = False
    ):
        self.folder = folder
        self.gil = gil
        self.pids = pids
        self.fmt = fmt
        self.rate = rate
        self.files: dict[str, str] = {}
        self._running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        binary = py_spy()
        for name, pid in self.pids.items():
            output = self.folder / f"{name}.{FORMATS[self.fmt]}"
            command = [binary, "record", "--pid", str(pid), "--subprocesses", "--nonblocking"]
            command += ["--rate", str(self.rate), "--format", self.fmt, "--output", str(output)]
            command += ["--gil"] if self.gil else []
            self._running[name] = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=open(self.folder / f"{name}.py-spy.log", "wb"),  # noqa: SIM115
            )
            self.files[name] = str(output)
            log.info("profiling the %s (pid %d) into %s", name, pid, output)

    def stop(self) -> dict[str, str]:
        """Stop every recording; the files written (name -> path)."""
        for process in self._running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for name, process in self._running.items():
            try:
                process.wait(120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr is not None:
                process.stderr.close()
            if not Path(self.files[name]).exists():
                log.warning("py-spy wrote no profile of the %s (see its .py-spy.log)", name)
                self.files.pop(name)
        self._running.clear()
        return dict(self.files)
