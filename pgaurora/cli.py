"""The `pgaurora` command: serve, status, failover, rds, instance, storage-node.

Owns argument parsing and choosing the event loop (uvloop when installed). Not what the
commands do: cluster.supervisor (serve), cluster.status (status), server.instance
(instance), and the logstore package's storage node main (storage-node).

    pgaurora serve [--data DIR] [--port 5432] [--reader-port 5433] [--host 127.0.0.1]
                   [--storage-nodes 6] [--replicas N] [--max-connections N] [--auth trust|scram-sha-256|md5]
    pgaurora status --data DIR [--json]
    pgaurora failover --data DIR [--target INSTANCE]
    pgaurora rds create-db-cluster | describe-db-clusters | describe-db-instances | create-db-instance
                 | delete-db-instance | failover-db-cluster | create-db-cluster-endpoint ... (cluster.rds)
    pgaurora instance --role writer --data DIR [--port 0] [--storage-nodes HOST:PORT@AZ,...]
                      [--replication-port 0] [--server-id NAME]
    pgaurora instance --role reader --data DIR [--port 0] --writer HOST:REPLPORT
                      --storage-nodes HOST:PORT@AZ,... [--server-id NAME]
    pgaurora storage-node --data DIR --listen HOST:PORT --az a
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from pgaurora.cluster.failover import FAILURES_BEFORE_DOWN

AUTH_METHODS = ("trust", "scram-sha-256", "md5", "password")


# Python frames a server process may nest: a user function calling itself goes through the
# executor, the session and PL/pgSQL for each call (about 20 frames); 100 calls deep
# (session.routines.MAX_DEPTH) need some 2,000 beyond the server's own
RECURSION_LIMIT = 6000


def run_loop(main: Coroutine[Any, Any, int]) -> int:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.run(main)
    return uvloop.run(main)


def run_server(command: str, data: str, run: Callable[[], int]) -> int:
    """Runs a server command (serve, instance, storage-node). When the file system fails it --
    a full disk, a data directory it may not write -- it ends with one PostgreSQL-style FATAL
    line on stderr and exit status 1, not a Python traceback; so does a PgError that escapes."""
    from pgaurora.errors import PgError

    try:
        return run()
    except OSError as exc:
        _fatal(command, os_error_message(exc), os_error_hint(exc, data))
    except PgError as exc:
        _fatal(command, exc.message, exc.hint)
    return 1


def os_error_message(exc: OSError) -> str:
    """PostgreSQL's wording: `could not write to file "F": No space left on device`."""
    reason = exc.strerror or str(exc)
    if exc.filename is None:
        return reason
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f'could not write to file "{exc.filename}": {reason}'
    return f'could not access file "{exc.filename}": {reason}'


def os_error_hint(exc: OSError, data: str) -> str | None:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f'Free disk space on the file system that holds "{data}".'
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f'Check that "{data}" can be written by this user.'
    return None


def _fatal(command: str, message: str, hint: str | None) -> None:
    lines = [f"pgaurora {command}: FATAL:  {message}"]
    if hint:
        lines.append(f"HINT:  {hint}")
    try:
        print("\n".join(lines), file=sys.stderr, flush=True)
    except OSError:  # stderr itself is on the full disk: the exit status still says it failed
        pass


def _mebibytes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid size in MiB: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"a size in MiB must be at least 1, not {value}")
    return value


def _tls_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ssl", action="store_true",
                        help="accept TLS (SSLRequest): with no --ssl-cert-file, the data directory's server.crt "
                             "and server.key, a self-signed pair written at the first start")
    parser.add_argument("--ssl-cert-file", default="", help="the server certificate (PEM; implies --ssl)")
    parser.add_argument("--ssl-key-file", default="", help="its private key (PEM)")
    parser.add_argument("--force-ssl", action="store_true",
                        help="refuse TCP clients without TLS (Aurora's rds.force_ssl; implies --ssl)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pgaurora", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default="WARNING")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the embedded cluster: 6 storage nodes, a writer, endpoints")
    serve.add_argument("--data", default="./pgaurora-data")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5432)
    serve.add_argument("--reader-port", type=int, default=5433)
    serve.add_argument("--storage-nodes", type=int, default=6)
    serve.add_argument("--max-connections", type=int, default=100)
    serve.add_argument("--auth", choices=AUTH_METHODS, default="trust")
    serve.add_argument("--replicas", type=int, default=0, help="read replica instances to run")
    serve.add_argument("--kill-fenced-after", type=float, default=0.0,
                       help="seconds an unresponsive old writer is left alive after a failover (the epoch fences it)")
    serve.add_argument("--health-check-failures", type=int, default=FAILURES_BEFORE_DOWN,
                       help="consecutive failed health probes (about 4.5 s each) before a live but unresponsive writer is failed over; a writer that exits is failed over at once")
    serve.add_argument("--protection-group-mib", type=_mebibytes, default=None,
                       help="size of a new volume's protection groups in MiB (default 10240, as Aurora's 10 GB)")
    serve.add_argument("--no-standby", action="store_true",
                       help="do not keep a pre-started instance process for faster restarts and failovers")
    _tls_arguments(serve)

    status = sub.add_parser("status", help="list every process of a cluster and probe its health")
    status.add_argument("--data", default="./pgaurora-data")
    status.add_argument("--json", action="store_true")

    inst = sub.add_parser("instance", help="run one compute instance (writer or read replica)")
    inst.add_argument("--role", choices=("writer", "reader"), default="writer")
    inst.add_argument("--writer", default="", help="reader: the writer's replication HOST:PORT")
    inst.add_argument("--replication-port", type=int, default=0,
                      help="port readers subscribe on, for a writer or a promoted reader "
                           "(0 picks one; printed as REPLICATION port=N)")
    inst.add_argument("--server-id", default="", help="this instance's name in aurora_replica_status()")
    inst.add_argument("--data", required=True, help="the instance's directory (in-process storage lives here)")
    inst.add_argument("--host", default="127.0.0.1")
    inst.add_argument("--port", type=int, default=5432, help="0 picks a free port (printed as READY port=N)")
    inst.add_argument("--storage-nodes", default="",
                      help="HOST:PORT@AZ,... of the storage nodes; empty = in-process storage nodes")
    inst.add_argument("--max-connections", type=int, default=100)
    inst.add_argument("--auth", choices=AUTH_METHODS, default="trust")
    inst.add_argument("--protection-group-mib", type=_mebibytes, default=None,
                      help="size of a new volume's protection groups in MiB (default 10240, as Aurora's 10 GB)")
    _tls_arguments(inst)

    from pgaurora.cluster.rds import add_failover_parser, add_parser
    add_parser(sub)
    add_failover_parser(sub)
    standby = sub.add_parser("standby", help="(supervisor) an instance process started ahead of need")
    standby.add_argument("--data", required=True, help="the cluster it serves (names it in ps)")

    node = sub.add_parser("storage-node", help="run one storage node (segments of the volume)")
    node.add_argument("--data", required=True)
    node.add_argument("--listen", required=True, help="HOST:PORT")
    node.add_argument("--az", default="a")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    if args.command == "serve":
        from pgaurora.cluster.supervisor import ServeOptions, serve
        options = ServeOptions(data_dir=Path(args.data), host=args.host, port=args.port,
                               reader_port=args.reader_port, storage_nodes=args.storage_nodes,
                               max_connections=args.max_connections, auth=args.auth, replicas=args.replicas,
                               kill_fenced_after=args.kill_fenced_after, standby=not args.no_standby,
                               failures_before_down=args.health_check_failures,
                               protection_group_mib=args.protection_group_mib,
                               ssl=args.ssl or args.force_ssl or bool(args.ssl_cert_file),
                               ssl_cert_file=args.ssl_cert_file, ssl_key_file=args.ssl_key_file,
                               force_ssl=args.force_ssl)
        try:
            return run_server("serve", args.data, lambda: run_loop(serve(options)))
        except KeyboardInterrupt:
            return 130
    if args.command == "status":
        from pgaurora.cluster.status import format_status, status
        try:
            report = status(args.data)
        except FileNotFoundError as exc:
            print(f"pgaurora status: {exc}", file=sys.stderr)
            return 2
        try:
            print(format_status(report, args.json), flush=True)
        except BrokenPipeError:   # `pgaurora status | head`
            sys.stderr.close()
        return 0 if all(p["health"] == "healthy" for p in report["processes"]) else 1
    if args.command == "instance":
        from pgaurora.server.instance import InstanceOptions, group_pages, run_instance
        options_i = InstanceOptions(data_dir=Path(args.data), host=args.host, port=args.port,
                                    storage_nodes=args.storage_nodes, max_connections=args.max_connections,
                                    auth=args.auth, role=args.role, writer=args.writer,
                                    replication_port=args.replication_port, server_id=args.server_id,
                                    ssl=args.ssl or args.force_ssl, ssl_cert_file=args.ssl_cert_file,
                                    ssl_key_file=args.ssl_key_file, force_ssl=args.force_ssl)
        if args.protection_group_mib is not None:
            options_i.protection_group_pages = group_pages(args.protection_group_mib)
        return run_server("instance", args.data, lambda: run_loop(run_instance(options_i)))
    if args.command == "standby":
        return run_standby()
    if args.command in ("rds", "failover"):
        from pgaurora.cluster.rds import run
        return run(args)
    if args.command == "storage-node":
        return run_server("storage-node", args.data, lambda: run_storage_node(args.data, args.listen, args.az))
    return 2


def run_standby() -> int:
    """Imports the instance stack, says STANDBY, then runs the argv the supervisor sends (one JSON line).

    A Python process spends seconds importing pgaurora on a loaded host; a fresh writer or a
    restarted reader started from a standby skips that wait (cluster.supervisor keeps one ready).
    """
    import json

    import pgaurora.server.instance  # noqa: F401 - the expensive imports, done before we are needed
    print("STANDBY", flush=True)
    line = sys.stdin.readline()
    if not line:
        return 0
    return main([str(a) for a in json.loads(line)])


def run_storage_node(data: str, listen: str, az: str) -> int:
    """Delegates to the logstore package's storage node main."""
    from pgaurora.logstore import node_main
    return int(node_main(["--data", data, "--listen", listen, "--az", az]) or 0)


if __name__ == "__main__":
    sys.exit(main())
