"""pgaurora.cluster — the processes of a cluster and the supervisor that runs them.

    supervisor.py  `pgaurora serve`: storage nodes, the writer, restarts, ordered shutdown
    endpoint.py    TCP routers with stable ports (the reader endpoint routes to the writer)
    metadata.py    cluster.json: processes, pids, ports, AZs, roles (written durably)
    status.py      `pgaurora status`: probes every process for its health
"""
