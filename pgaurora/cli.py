"""The `pgaurora` command: serve, status, instance, storage-node.

Owns argument parsing and choosing the event loop (uvloop when installed). Not what the
commands do: cluster.supervisor (serve), cluster.status (status), server.instance
(instance), and the logstore package's storage node main (storage-node).

    pgaurora serve [--data DIR] [--port 5432] [--reader-port 5433] [--host 127.0.0.1]
                   [--storage-nodes 6] [--max-connections N] [--auth trust|scram-sha-256|md5]
    pgaurora status --data DIR [--json]
    pgaurora instance --role writer --data DIR [--port 0] [--storage-nodes HOST:PORT@AZ,...]
    pgaurora storage-node --data DIR --listen HOST:PORT --az a
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

AUTH_METHODS = ("trust", "scram-sha-256", "md5", "password")


def run_loop(main: Coroutine[Any, Any, int]) -> int:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.run(main)
    return uvloop.run(main)


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

    status = sub.add_parser("status", help="list every process of a cluster and probe its health")
    status.add_argument("--data", default="./pgaurora-data")
    status.add_argument("--json", action="store_true")

    inst = sub.add_parser("instance", help="run one compute instance (writer)")
    inst.add_argument("--role", choices=("writer",), default="writer")
    inst.add_argument("--data", required=True, help="the instance's directory (in-process storage lives here)")
    inst.add_argument("--host", default="127.0.0.1")
    inst.add_argument("--port", type=int, default=5432, help="0 picks a free port (printed as READY port=N)")
    inst.add_argument("--storage-nodes", default="",
                      help="HOST:PORT@AZ,... of the storage nodes; empty = in-process storage nodes")
    inst.add_argument("--max-connections", type=int, default=100)
    inst.add_argument("--auth", choices=AUTH_METHODS, default="trust")

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
                               max_connections=args.max_connections, auth=args.auth)
        try:
            return run_loop(serve(options))
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
        from pgaurora.server.instance import InstanceOptions, run_instance
        options_i = InstanceOptions(data_dir=Path(args.data), host=args.host, port=args.port,
                                    storage_nodes=args.storage_nodes, max_connections=args.max_connections,
                                    auth=args.auth, role=args.role)
        return run_loop(run_instance(options_i))
    if args.command == "storage-node":
        return run_storage_node(args.data, args.listen, args.az)
    return 2


def run_storage_node(data: str, listen: str, az: str) -> int:
    """Delegates to the logstore package's storage node main."""
    from pgaurora.logstore import node_main
    return int(node_main(["--data", data, "--listen", listen, "--az", az]) or 0)


if __name__ == "__main__":
    sys.exit(main())
