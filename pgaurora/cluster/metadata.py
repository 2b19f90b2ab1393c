"""Cluster metadata: which processes make up a cluster, their roles, where they listen, the epoch.

Owns the durable `cluster.json` in the data directory (written to a temporary file, fsynced,
renamed over the old one, and the directory fsynced, so a crash leaves the old or the new
version, never a torn one). Not the processes themselves (cluster.supervisor), not the
volume's own metadata (logstore.metadata).
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgaurora.logstore.durablefile import replace_file

METADATA_FILE = "cluster.json"
AZS = ("a", "b", "c")


@dataclass(slots=True)
class ProcessRecord:
    """One process of the cluster: a storage node, the writer instance or an endpoint."""

    name: str              # "storage-1", "instance-1", "reader-endpoint"
    role: str              # "storage-node" | "writer" | "reader" | "endpoint"
    host: str
    port: int
    az: str = ""
    pid: int = 0
    started_at: float = 0.0
    restarts: int = 0
    data_dir: str = ""     # the node's (or instance's) own directory
    replication_port: int = 0   # a writer's listener for readers' redo streams
    promotion_tier: int = 1     # failover prefers lower tiers among equally recent readers
    health: str = ""            # the supervisor's last view (cluster.failover.Health value)
    read_lsn: int = 0           # an instance's read point (its applied VDL) at the last probe
    lag_ms: float = 0.0         # a reader's replica lag at the last probe

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(slots=True)
class ClusterMetadata:
    """Everything `pgaurora status` needs to find and probe a running cluster."""

    cluster_id: str
    created_at: float
    state: str = "stopped"          # "starting" | "running" | "stopping" | "stopped"
    supervisor_pid: int = 0
    processes: list[ProcessRecord] = field(default_factory=list)
    endpoints: dict[str, str] = field(default_factory=dict)   # "writer"/"reader"/custom -> host:port
    notes: list[str] = field(default_factory=list)
    epoch: int = 0                  # the volume epoch of the current writer (bumped by every failover)
    volume_id: str = "volume"
    volume_dir: str = ""            # where the current writer's volume.json lives
    # custom endpoints: name -> {"type": "READER" | "ANY", "members": [instance names], "port": int}
    custom_endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    failovers: list[dict[str, Any]] = field(default_factory=list)   # newest last
    next_instance: int = 1

    def storage_nodes(self) -> list[ProcessRecord]:
        return [p for p in self.processes if p.role == "storage-node"]

    def instances(self) -> list[ProcessRecord]:
        return [p for p in self.processes if p.role in ("writer", "reader")]

    def writer(self) -> ProcessRecord | None:
        return next((p for p in self.processes if p.role == "writer"), None)

    def readers(self) -> list[ProcessRecord]:
        return [p for p in self.processes if p.role == "reader"]

    def new_instance_name(self) -> str:
        while self.find(name := f"instance-{self.next_instance}") is not None:
            self.next_instance += 1
        self.next_instance += 1
        return name

    def find(self, name: str) -> ProcessRecord | None:
        for p in self.processes:
            if p.name == name:
                return p
        return None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ClusterMetadata:
        raw = json.loads(text)
        known = {f.name for f in dataclasses.fields(ProcessRecord)}
        processes = [ProcessRecord(**{k: v for k, v in p.items() if k in known}) for p in raw.pop("processes", [])]
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(processes=processes, **{k: v for k, v in raw.items() if k in fields})


def metadata_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / METADATA_FILE


def load(data_dir: Path | str) -> ClusterMetadata | None:
    path = metadata_path(data_dir)
    if not path.exists():
        return None
    return ClusterMetadata.from_json(path.read_text())


def save(data_dir: Path | str, meta: ClusterMetadata) -> None:
    """Atomically and durably replaces cluster.json."""
    directory = Path(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    replace_file(directory / METADATA_FILE, meta.to_json().encode())


def new_metadata() -> ClusterMetadata:
    now = time.time()
    return ClusterMetadata(cluster_id=f"pgaurora-{int(now * 1000):x}", created_at=now)
