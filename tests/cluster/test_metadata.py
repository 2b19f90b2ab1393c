"""cluster.metadata: cluster.json written atomically and read back, tolerant of fields it does not know."""

from __future__ import annotations

import json
from pathlib import Path

from pgaurora.cluster import metadata as md


def test_round_trip_and_instance_names(tmp_path: Path) -> None:
    meta = md.new_metadata()
    writer = md.ProcessRecord(name=meta.new_instance_name(), role="writer", host="127.0.0.1", port=5)
    reader = md.ProcessRecord(name=meta.new_instance_name(), role="reader", host="127.0.0.1", port=6,
                              promotion_tier=3)
    meta.processes = [md.ProcessRecord(name="storage-1", role="storage-node", host="127.0.0.1", port=7, az="a"),
                      writer, reader]
    meta.epoch = 4
    meta.custom_endpoints["analytics"] = {"type": "READER", "members": [reader.name], "port": 9}
    md.save(tmp_path, meta)
    assert not (tmp_path / "cluster.json.tmp").exists()
    loaded = md.load(tmp_path)
    assert loaded is not None
    assert loaded == meta
    assert [r.name for r in loaded.instances()] == ["instance-1", "instance-2"]
    assert loaded.writer() == writer and loaded.readers() == [reader]
    assert loaded.new_instance_name() == "instance-3"


def test_unknown_fields_are_ignored(tmp_path: Path) -> None:
    """A cluster.json from a newer (or older) pgaurora still opens."""
    meta = md.new_metadata()
    raw = json.loads(meta.to_json())
    raw["from_the_future"] = 1
    raw["processes"] = [{"name": "writer", "role": "writer", "host": "127.0.0.1", "port": 5432, "extra": True}]
    (tmp_path / "cluster.json").write_text(json.dumps(raw))
    loaded = md.load(tmp_path)
    assert loaded is not None and loaded.writer() is not None
    assert loaded.writer().name == "writer"   # type: ignore[union-attr]
    assert md.load(tmp_path / "nowhere") is None
