"""Starts moto in server mode with keyroll's runtime patches: atomic DynamoDB requests, IoT tagging, Docker-free Lambda Invoke, an IoT rules engine with topic rule destinations, Secrets Manager rotation as on AWS, and schedules that fire.

    python3 moto_launcher.py [--host 127.0.0.1] [--port 0] [--quiet] [--exit-with-stdin]

moto's installed files are never edited: this script imports moto, patches classes in memory
(see moto_iot_tags.py, moto_lambda_invoke.py, moto_iot_rules.py, moto_iot_destinations.py,
moto_secrets_rotation.py and moto_scheduler.py), starts a ticker (local_ticker.py), then serves
moto's own WSGI app behind the emulator-only routes of keyroll_local_routes.py. Once the
socket listens it prints one line to stdout, `keyroll-local-aws: {"event": "ready", ...}`;
startup failures print `{"event": "error", "code": ..., "message": ...}` on the same prefix and
exit non-zero. local-aws.ts reads these lines.

Environment:
  KEYROLL_IOT_SECRET_CACHE_SECONDS  how long each rules-engine node caches a get_secret value
                                    (default 900, AWS's 15 minutes; 0 reads the secret every time)
  KEYROLL_LOCAL_SCHEDULER_TICK_SECONDS
                                    how often the ticker starts due Secrets Manager rotations and
                                    fires due EventBridge Scheduler schedules (default 30; 0: never,
                                    only POST /keyroll-local/secretsmanager/rotate-due and
                                    /keyroll-local/scheduler/run do)
  KEYROLL_LOCAL_ROTATION_RETRIES    how many more times a failed rotation is tried, with the same
                                    token, before Secrets Manager gives up (default 2)
  KEYROLL_LOCAL_ROTATION_RETRY_SECONDS
                                    the wait before each retry (default 60)
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ANNOUNCE_PREFIX = "keyroll-local-aws: "
# Enough for a rotation benchmark of 1000 secrets (2 or more events each) to read back its own.
ROTATION_EVENTS_KEPT = 10_000


def announce(message: dict[str, Any]) -> None:
    print(ANNOUNCE_PREFIX + json.dumps(message), flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default: 0)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument("--exit-with-stdin", action="store_true",
                        help="stop when stdin closes, so the emulator dies with the process that started it")
    parser.add_argument("--node", default="node", help="node binary that runs Lambda handlers (default: node)")
    parser.add_argument("--sdk-node-modules",
                        help="a node_modules folder holding @aws-sdk, offered to handlers the way Lambda's runtime provides the SDK")
    return parser.parse_args(argv)


def iot_secret_cache_seconds(environ: dict[str, str]) -> float:
    return seconds_setting(environ, "KEYROLL_IOT_SECRET_CACHE_SECONDS", 900.0)


def seconds_setting(environ: dict[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (0 <= value < float("inf")):
        raise ValueError(f"{name} must be a number of seconds, 0 or more (default {default:g}); got {raw!r}.")
    return value


def count_setting(environ: dict[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ValueError(f"{name} must be a whole number, 0 or more (default {default}); got {raw!r}.")
    return int(raw)


def bind(host: str, port: int) -> socket.socket:
    # Bound here rather than by werkzeug, which prints and sys.exit()s on a taken port: this way
    # a taken port becomes a clear error for the caller, and port 0 yields the port chosen.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


def runtime_node_path(scratch: str, sdk_node_modules: str | None) -> str | None:
    """A folder holding only a link to @aws-sdk, like /var/runtime/node_modules in Lambda."""
    if not sdk_node_modules or not os.path.isdir(os.path.join(sdk_node_modules, "@aws-sdk")):
        return None
    folder = os.path.join(scratch, "runtime-node_modules")
    os.makedirs(folder)
    os.symlink(os.path.join(os.path.abspath(sdk_node_modules), "@aws-sdk"), os.path.join(folder, "@aws-sdk"))
    return folder


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server
    except ImportError as error:
        announce({"event": "error", "code": "MOTO_MISSING", "message": f"Cannot import moto server mode: {error}"})
        return 2

    # Keep the source folder free of __pycache__ from our own modules.
    sys.dont_write_bytecode = True
    sys.path.insert(0, HERE)
    import moto_dynamodb_atomic
    import moto_iot_destinations
    import moto_iot_rules
    import moto_iot_tags
    import moto_lambda_invoke
    import moto_secrets_rotation
    from iot_deliveries import DeliveryLog
    from keyroll_local_routes import LocalRoutes
    from lambda_code_cache import CodeCache
    from lambda_node_process import NodeProcesses
    from local_event_log import EventLog
    from local_ticker import Ticker
    from moto_scheduler import Schedules

    try:
        environ = dict(os.environ)
        secret_cache_seconds = iot_secret_cache_seconds(environ)
        tick_seconds = seconds_setting(environ, "KEYROLL_LOCAL_SCHEDULER_TICK_SECONDS", 30.0)
        rotation_retries = count_setting(environ, "KEYROLL_LOCAL_ROTATION_RETRIES", 2)
        rotation_retry_seconds = seconds_setting(environ, "KEYROLL_LOCAL_ROTATION_RETRY_SECONDS", 60.0)
    except ValueError as error:
        announce({"event": "error", "code": "INVALID_SETTING", "message": str(error)})
        return 2

    try:
        sock = bind(args.host, args.port)
    except OSError as error:
        code = "PORT_IN_USE" if error.errno == errno.EADDRINUSE else "BIND_FAILED"
        announce({"event": "error", "code": code, "message": f"Cannot listen on {args.host}:{args.port}: {error.strerror}"})
        return 3
    port = sock.getsockname()[1]
    connect_host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    endpoint = f"http://[{connect_host}]:{port}" if ":" in connect_host else f"http://{connect_host}:{port}"
    # moto reads MOTO_PORT when it builds URLs that point back at itself.
    os.environ["MOTO_PORT"] = str(port)

    scratch = tempfile.mkdtemp(prefix="keyroll-local-aws-")
    processes = NodeProcesses(args.node, os.path.join(HERE, "run-node-handler.cjs"), scratch)
    code_root = os.path.join(scratch, "code")
    os.makedirs(code_root)
    moto_dynamodb_atomic.install()
    moto_dynamodb_atomic.install_transaction_snapshots()
    moto_iot_tags.install()
    import moto_lambda_revisions  # RevisionId on functions, for lambda-env consumers' guarded updates

    moto_lambda_revisions.install()
    moto_iot_destinations.install(endpoint)
    deliveries = DeliveryLog()
    moto_iot_rules.install(deliveries, secret_cache_seconds)
    moto_lambda_invoke.install(
        moto_lambda_invoke.LocalInvoker(endpoint, processes, CodeCache(code_root), runtime_node_path(scratch, args.sdk_node_modules))
    )
    rotations = moto_secrets_rotation.install(moto_secrets_rotation.Rotations(EventLog(ROTATION_EVENTS_KEPT), rotation_retries, rotation_retry_seconds))
    schedules = Schedules(EventLog())
    ticker = Ticker(tick_seconds, [rotations.start_due, schedules.run_due])

    if args.quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = LocalRoutes(DomainDispatcherApplication(create_backend_app), deliveries, rotations, schedules)
    server = make_server(args.host, port, app, threaded=True, fd=sock.fileno())
    sock.close()  # make_server holds its own duplicate of the descriptor

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    if args.exit_with_stdin:
        threading.Thread(target=lambda: (sys.stdin.buffer.read(), stop.set()), daemon=True).start()

    # Served from a thread: server.shutdown() must not run on the thread inside serve_forever().
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    ticker.start()
    announce({"event": "ready", "endpoint": endpoint, "port": port, "pid": os.getpid()})
    try:
        while not stop.wait(0.5):
            pass
    finally:
        ticker.stop()
        server.shutdown()
        processes.kill_all()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    status = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit, not sys.exit: the daemon thread blocked reading stdin would otherwise make the
    # interpreter's shutdown abort with "Fatal Python error: _enter_buffered_busy" on Ctrl-C.
    os._exit(status)
