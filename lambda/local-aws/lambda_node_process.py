"""Runs one Lambda invocation of a Node handler in a child `node` process, with a deadline."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any


@dataclass
class NodeRun:
    """What one invocation left behind."""

    # What run-node-handler.cjs wrote to the result file: {"ok": true, "payload": "<json>"} or
    # {"ok": false, "errorType", "errorMessage", "trace"}. None if it never wrote one.
    result: dict[str, Any] | None
    timed_out: bool
    exit_code: int | None
    duration_ms: float
    # (epoch milliseconds, text) for every line the process wrote to stdout or stderr.
    lines: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Invocation:
    code_dir: str
    handler: str
    event: bytes
    env: dict[str, str]
    timeout_s: float
    context: dict[str, Any]


class NodeProcesses:
    """Starts handler processes and remembers the live ones, so shutdown can kill them all."""

    def __init__(self, node_binary: str, runner_script: str, scratch_dir: str) -> None:
        self._node = node_binary
        self._runner = runner_script
        self._scratch = scratch_dir
        self._live: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def run(self, invocation: Invocation) -> NodeRun:
        with tempfile.TemporaryDirectory(dir=self._scratch, prefix="invoke-") as tmp:
            spec_file = os.path.join(tmp, "invocation.json")
            result_file = os.path.join(tmp, "result.json")
            with open(spec_file, "w", encoding="utf-8") as spec:
                json.dump(
                    {
                        "taskRoot": invocation.code_dir,
                        "handler": invocation.handler,
                        "event": invocation.event.decode("utf-8"),
                        "resultFile": result_file,
                        "context": invocation.context,
                    },
                    spec,
                )
            return self._run_process(invocation, spec_file, result_file)

    def _run_process(self, invocation: Invocation, spec_file: str, result_file: str) -> NodeRun:
        lines: list[tuple[int, str]] = []
        started = time.monotonic()
        # A session of its own, so a timeout kills whatever the handler spawned as well.
        proc = subprocess.Popen(
            [self._node, self._runner, spec_file],
            cwd=invocation.code_dir,
            env=invocation.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        with self._lock:
            self._live.add(proc)
        readers = [_start_line_reader(stream, lines) for stream in (proc.stdout, proc.stderr)]
        timed_out = False
        try:
            proc.wait(timeout=invocation.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            duration_ms = (time.monotonic() - started) * 1000
            # Lambda freezes the sandbox after the response; here we end it, including any
            # background process the handler left behind that would keep the pipes open.
            _kill_group(proc)
            proc.wait()
            with self._lock:
                self._live.discard(proc)
        for reader in readers:
            reader.join(timeout=2)
        return NodeRun(
            result=None if timed_out else _read_result(result_file),
            timed_out=timed_out,
            exit_code=None if timed_out else proc.returncode,
            duration_ms=duration_ms,
            lines=sorted(lines, key=lambda line: line[0]),
        )

    def kill_all(self) -> None:
        with self._lock:
            live = list(self._live)
        for proc in live:
            _kill_group(proc)


def _start_line_reader(stream: IO[bytes] | None, sink: list[tuple[int, str]]) -> threading.Thread:
    def read() -> None:
        assert stream is not None
        for raw in stream:
            # The runner writes a multi-line console message as one line with \r in place of
            # \n (as Lambda's Node runtime does), so one console call stays one log event.
            text = raw.decode("utf-8", errors="replace").rstrip("\n").rstrip("\r").replace("\r", "\n")
            sink.append((int(time.time() * 1000), text))
        stream.close()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _read_result(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as result:
            return json.load(result)
    except (OSError, ValueError):
        return None
