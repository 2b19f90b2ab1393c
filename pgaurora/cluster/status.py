"""`pgaurora status`: every process of a cluster with its role, AZ, pid, address, health, read point, lag.

Owns probing: health is what a probe sees now, not what cluster.json says. A process is
`healthy` when its pid is alive and its port answers — for instances and endpoints with a
real protocol exchange (SSLRequest answered 'N'), for storage nodes a TCP connection.
Roles, ports, read points and lag come from the running supervisor (control socket) when it
answers, else from cluster.json. Not starting or restarting anything (cluster.supervisor).
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import struct
from pathlib import Path
from typing import Any

from pgaurora.cluster import control
from pgaurora.cluster import metadata as md

PROBE_TIMEOUT = 1.0
SSL_REQUEST = struct.pack("!ii", 8, 80877103)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def probe(rec: md.ProcessRecord) -> str:
    """'healthy', 'down' (nothing listens / pid gone) or 'unresponsive' (listens, wrong answer)."""
    try:
        with socket.create_connection((rec.host, rec.port), timeout=PROBE_TIMEOUT) as sock:
            if rec.role in ("writer", "reader", "endpoint"):
                sock.settimeout(PROBE_TIMEOUT)
                sock.sendall(SSL_REQUEST)
                answer = sock.recv(1)
                if answer not in (b"N", b"S"):  # 'S': an instance with TLS (`serve --ssl`)
                    return "unresponsive"
    except OSError:
        return "down"
    if rec.pid and not pid_alive(rec.pid):
        return "down"
    return "healthy"


def status(data_dir: Path | str) -> dict[str, Any]:
    meta = md.load(data_dir)
    if meta is None:
        raise FileNotFoundError(f"no pgaurora cluster in {data_dir} (cluster.json not found)")
    supervisor_alive = pid_alive(meta.supervisor_pid)
    live: dict[str, dict[str, Any]] = {}
    epoch, failovers = meta.epoch, meta.failovers
    if supervisor_alive:
        # the supervisor knows the current roles, ports, read points and lag better than the file
        try:
            instances = control.call(data_dir, "describe-db-instances", timeout=5.0)["DBInstances"]
            cluster = control.call(data_dir, "describe-db-clusters", timeout=5.0)["DBClusters"][0]
            live = {i["DBInstanceIdentifier"]: i for i in instances}
            epoch, failovers = cluster["Epoch"], [cluster["LastFailover"]] if cluster["LastFailover"] else []
        except (control.ControlError, KeyError, IndexError, ValueError):
            live = {}
    rows = []
    for rec in meta.processes:
        row = {"name": rec.name, "role": rec.role, "az": rec.az, "pid": rec.pid,
               "address": rec.address, "restarts": rec.restarts, "read_lsn": None, "lag_ms": None}
        if rec.name in live:
            info = live[rec.name]
            row |= {"role": info["Role"], "pid": info["Pid"], "restarts": info["Restarts"],
                    "address": f"{info['Endpoint']['Address']}:{info['Endpoint']['Port']}",
                    "read_lsn": info["ReadLsn"], "lag_ms": info["ReplicaLagMs"] if info["Role"] == "reader" else 0.0}
            rec = dataclasses.replace(rec, role=info["Role"], pid=info["Pid"], port=info["Endpoint"]["Port"])
        row["health"] = probe(rec)
        rows.append(row)
    return {"cluster_id": meta.cluster_id, "state": meta.state if supervisor_alive or meta.state == "stopped"
            else "crashed", "supervisor_pid": meta.supervisor_pid, "endpoints": meta.endpoints,
            "epoch": epoch, "last_failover": failovers[-1] if failovers else None,
            "processes": rows, "notes": meta.notes}


def format_status(report: dict[str, Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(report, indent=2)
    lines = [f"cluster {report['cluster_id']}: {report['state']} (supervisor pid {report['supervisor_pid']})"]
    lines[0] += f", volume epoch {report.get('epoch', 0)}"
    header = ("NAME", "ROLE", "AZ", "PID", "ADDRESS", "HEALTH", "RESTARTS", "READ_LSN", "LAG_MS")
    table = [header] + [(p["name"], p["role"], p["az"] or "-", str(p["pid"]), p["address"], p["health"],
                         str(p["restarts"]), "-" if p.get("read_lsn") is None else str(p["read_lsn"]),
                         "-" if p.get("lag_ms") is None else f"{p['lag_ms']:.1f}") for p in report["processes"]]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
    lines += [f"note: {n}" for n in report["notes"]]
    if report.get("last_failover"):
        f = report["last_failover"]
        lines.append(f"last failover: {f['from']} -> {f['to']} in {f['seconds']} s ({f['reason']}), epoch {f['epoch']}")
    return "\n".join(lines)
