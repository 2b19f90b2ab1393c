"""Benchmarks: pgaurora and a real PostgreSQL 15 side by side, same client, same settings.

    make bench                          # every workload
    make bench ARGS="select1 --runs 5"  # one workload, more runs

Files:
    harness.py          starts both servers (PostgreSQL via tests/pgoracle.py, pgaurora via
                        `pgaurora serve`), runs each workload several times on each, alternating
    report.py           medians, pgaurora/PostgreSQL ratios, JSON and PNG in benchmarks/results/
    workloads/          one module per workload: NAME, DESCRIPTION, setup(), run()
    profile_server.py   one workload against an in-process instance under cProfile (calls per
                        op) or with --cpu (server CPU microseconds per op, user and system)
    server_cpu.py       the server's CPU per round trip with no socket: whole round trips fed
                        straight to one connection (what pgaurora's own code costs per query)

These are measurements, not timed tests: nothing here runs under `make test`.
"""
