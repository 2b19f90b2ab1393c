"""pgaurora.cluster — the processes of a cluster and the supervisor that runs them.

    supervisor.py  `pgaurora serve`: storage nodes, writer, readers, restarts, stop
    adopt.py       a new supervisor adopting the processes a dead one left running (pidfd handles)
    health.py      the health loop: probes, DOWN -> failover or reader restart, read points
    launch.py      command lines of storage nodes and instances, `pgaurora serve` options
    topology.py    failover runs, adding/removing instances, custom endpoints, aws-shaped descriptions
    failover.py    sans-I/O decisions: instance health from probes, which reader to promote
    endpoint.py    TCP routers with stable ports: writer, reader (round-robin), custom endpoints
    probe.py       SSLRequest health probe and a minimal simple-query client (read points, pg_promote)
    control.py     the supervisor's control socket: JSON lines on DATA/control.sock
    rds.py         `pgaurora rds ...` / `pgaurora failover`: aws-rds-shaped operator verbs
    metadata.py    cluster.json: instances, roles, ports, pids, epoch, endpoints (written durably)
    status.py      `pgaurora status`: roles, health, read points and lag of every process
"""
