"""`pgaurora rds ...` and `pgaurora failover`: operator verbs shaped like `aws rds` for a local cluster.

Owns the command-line shape of the verbs (their `aws rds` option names), turning them into
control-socket requests to the running supervisor, starting a supervisor for
create-db-cluster (a detached `pgaurora serve`), and printing replies as JSON (aws's default)
or a table. Not what the verbs do (cluster.topology), not the socket (cluster.control).

    pgaurora rds create-db-cluster --data DIR [--port P] [--reader-port P] [--replicas N]
    pgaurora rds describe-db-clusters | describe-db-instances [--db-instance-identifier I]
    pgaurora rds create-db-instance [--db-instance-identifier I] [--promotion-tier T]
    pgaurora rds delete-db-instance --db-instance-identifier I
    pgaurora rds failover-db-cluster [--target-db-instance-identifier I]
    pgaurora rds create-db-cluster-endpoint --db-cluster-endpoint-identifier E
                 --endpoint-type READER|ANY --static-members I [I ...] [--port P]
    pgaurora rds describe-db-cluster-endpoints | delete-db-cluster          (all take --output json|table)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pgaurora.cluster.control import ControlError, call
from pgaurora.cluster.failover import FAILURES_BEFORE_DOWN

CREATE_TIMEOUT = 120.0


def add_parser(sub: Any) -> None:
    rds = sub.add_parser("rds", help="operator verbs mirroring `aws rds` for a local cluster")
    verbs = rds.add_subparsers(dest="verb", required=True)

    def verb(name: str, help_text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = verbs.add_parser(name, help=help_text)
        p.add_argument("--data", default="./pgaurora-data", help="the cluster's data directory")
        p.add_argument("--output", choices=("json", "table"), default="json")
        return p

    p = verb("create-db-cluster", "start a cluster (a detached `pgaurora serve`) in --data")
    p.add_argument("--db-cluster-identifier", default="")
    p.add_argument("--port", type=int, default=5432)
    p.add_argument("--reader-port", type=int, default=5433)
    p.add_argument("--replicas", type=int, default=0)
    p.add_argument("--storage-nodes", type=int, default=6)
    p.add_argument("--auth", default="trust")
    p.add_argument("--health-check-failures", type=int, default=FAILURES_BEFORE_DOWN,
                   help="consecutive failed health probes (about 4.5 s each) before a live but unresponsive writer is failed over; a writer that exits is failed over at once")
    p.add_argument("--kill-fenced-after", type=float, default=0.0,
                   help="seconds an unresponsive old writer is left alive after a failover (tests of the fence)")
    verb("describe-db-clusters", "the cluster: endpoints, members, epoch, last failover")
    p = verb("describe-db-instances", "instances: roles, endpoints, read points, lag")
    p.add_argument("--db-instance-identifier", default="")
    p = verb("create-db-instance", "add a reader instance")
    p.add_argument("--db-instance-identifier", default="")
    p.add_argument("--promotion-tier", type=int, default=1)
    p = verb("delete-db-instance", "remove an instance (the writer: after a failover)")
    p.add_argument("--db-instance-identifier", required=True)
    p = verb("failover-db-cluster", "promote a reader (the most up-to-date one by default)")
    p.add_argument("--target-db-instance-identifier", default="")
    p = verb("create-db-cluster-endpoint", "a custom endpoint over chosen instances")
    p.add_argument("--db-cluster-endpoint-identifier", required=True)
    p.add_argument("--endpoint-type", default="ANY", type=str.upper, choices=("READER", "ANY"))
    p.add_argument("--static-members", nargs="*", default=[])
    p.add_argument("--port", type=int, default=0)
    verb("describe-db-cluster-endpoints", "custom endpoints")
    verb("delete-db-cluster", "stop the cluster's supervisor and every process (the data stays)")


def add_failover_parser(sub: Any) -> None:
    p = sub.add_parser("failover", help="fail the writer over to a reader (or a fresh writer)")
    p.add_argument("--data", default="./pgaurora-data")
    p.add_argument("--target", default="", help="the reader to promote (default: the most up-to-date)")
    p.add_argument("--output", choices=("json", "table"), default="table")


def request_for(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    verb = args.verb
    if verb in ("describe-db-instances", "create-db-instance", "delete-db-instance"):
        extra = {"promotion_tier": args.promotion_tier} if verb == "create-db-instance" else {}
        return verb, {"name": args.db_instance_identifier, **extra}
    if verb == "failover-db-cluster":
        return verb, {"target": args.target_db_instance_identifier}
    if verb == "create-db-cluster-endpoint":
        return verb, {"name": args.db_cluster_endpoint_identifier, "type": args.endpoint_type,
                      "members": args.static_members, "port": args.port}
    return verb, {}


def create_cluster(args: argparse.Namespace) -> Any:
    """Starts `pgaurora serve` detached and returns describe-db-clusters once it answers."""
    data = Path(args.data).resolve()
    data.mkdir(parents=True, exist_ok=True)
    try:
        call(data, "describe-db-clusters", timeout=5.0)
    except ControlError:
        pass
    else:
        raise ControlError(f"a cluster is already running in {data}")
    command = [sys.executable, "-m", "pgaurora", "serve", "--data", str(data), "--port", str(args.port),
               "--reader-port", str(args.reader_port), "--replicas", str(args.replicas),
               "--storage-nodes", str(args.storage_nodes), "--auth", args.auth,
               "--kill-fenced-after", str(args.kill_fenced_after),
               "--health-check-failures", str(args.health_check_failures)]
    with open(data / "serve.log", "ab") as log_file:
        proc = subprocess.Popen(command, stdout=log_file, stderr=log_file, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    deadline = time.monotonic() + CREATE_TIMEOUT
    while True:
        if proc.poll() is not None:
            tail = (data / "serve.log").read_text(errors="replace")[-2000:]
            raise ControlError(f"pgaurora serve exited with {proc.returncode}:\n{tail}")
        try:
            result = call(data, "describe-db-clusters", timeout=5.0)
        except ControlError:
            if time.monotonic() > deadline:
                raise ControlError(f"the cluster did not start within {CREATE_TIMEOUT}s") from None
            time.sleep(0.2)  # bounded poll of an external process
            continue
        cluster = result["DBClusters"][0]
        if cluster["Status"] == "available":
            return {"DBCluster": cluster | {"SupervisorPid": proc.pid}}
        time.sleep(0.2)  # bounded poll of an external process


def format_table(result: Any) -> str:
    """The reply's lists of records as aligned tables, its scalars as `key: value` lines."""
    lines: list[str] = []

    def table(title: str, records: list[dict[str, Any]]) -> None:
        lines.append(title)
        if not records:
            lines.append("  (none)")
            return
        header = [k for k, v in records[0].items() if _flat(v)]
        rows = [header] + [[_cell(r.get(k)) for k in header] for r in records]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines.extend("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)

    def walk(title: str, value: Any) -> None:
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            table(title, value)
            for i, record in enumerate(value):
                for key, inner in record.items():
                    if isinstance(inner, list) and inner and all(isinstance(v, dict) for v in inner):
                        walk(f"{title}[{i}].{key}", inner)
        elif isinstance(value, dict):
            scalars = [(k, v) for k, v in value.items() if not isinstance(v, list | dict) or not v
                       or not all(isinstance(x, dict) for x in (v if isinstance(v, list) else [v]))]
            for key, inner in scalars:
                lines.append(f"{title}.{key}: {_cell(inner)}" if title else f"{key}: {_cell(inner)}")
            for key, inner in value.items():
                if (key, inner) not in scalars:
                    walk(f"{title}.{key}" if title else key, inner if isinstance(inner, list) else [inner])
        else:
            lines.append(f"{title}: {_cell(value)}")

    walk("", result)
    return "\n".join(lines)


def _flat(value: Any) -> bool:
    """A scalar, or a small record of scalars (an Endpoint): one table cell."""
    if isinstance(value, dict):
        return all(not isinstance(v, list | dict) for v in value.values())
    return not isinstance(value, list)


def _cell(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"Address", "Port"}:
        return f"{value['Address']}:{value['Port']}"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return "-" if value is None else str(value)


def run(args: argparse.Namespace) -> int:
    """The `rds` and `failover` commands; prints the reply, returns the exit status."""
    try:
        if args.command == "failover":
            result = call(args.data, "failover-db-cluster", {"target": args.target})
        elif args.verb == "create-db-cluster":
            result = create_cluster(args)
        else:
            verb, payload = request_for(args)
            result = call(args.data, verb, payload)
    except ControlError as exc:
        name = "failover" if args.command == "failover" else f"rds {args.verb}"
        print(f"pgaurora {name}: {exc}", file=sys.stderr)
        return 1
    try:
        print(json.dumps(result, indent=2) if args.output == "json" else format_table(result), flush=True)
    except BrokenPipeError:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), sys.stdout.fileno())
    return 0
