"""`pgaurora status`: every process of a cluster with its role, AZ, pid, address and health.

Owns probing: health is what a probe sees now, not what cluster.json says. A process is
`healthy` when its pid is alive and its port answers — for instances and endpoints with a
real protocol exchange (SSLRequest answered 'N'), for storage nodes a TCP connection.
Not starting or restarting anything (cluster.supervisor).
"""

from __future__ import annotations

import json
import os
import socket
import struct
from pathlib import Path
from typing import Any

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
                if answer != b"N":
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
    rows = []
    for rec in meta.processes:
        rows.append({"name": rec.name, "role": rec.role, "az": rec.az, "pid": rec.pid,
                     "address": rec.address, "restarts": rec.restarts, "health": probe(rec)})
    supervisor_alive = pid_alive(meta.supervisor_pid)
    return {"cluster_id": meta.cluster_id, "state": meta.state if supervisor_alive or meta.state == "stopped"
            else "crashed", "supervisor_pid": meta.supervisor_pid, "endpoints": meta.endpoints,
            "processes": rows, "notes": meta.notes}


def format_status(report: dict[str, Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(report, indent=2)
    lines = [f"cluster {report['cluster_id']}: {report['state']} (supervisor pid {report['supervisor_pid']})"]
    header = ("NAME", "ROLE", "AZ", "PID", "ADDRESS", "HEALTH", "RESTARTS")
    table = [header] + [(p["name"], p["role"], p["az"] or "-", str(p["pid"]), p["address"], p["health"],
                         str(p["restarts"])) for p in report["processes"]]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
    lines += [f"note: {n}" for n in report["notes"]]
    return "\n".join(lines)
