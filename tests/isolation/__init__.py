"""Transaction semantics acceptance tests (issue #5), run against pgaurora and PostgreSQL 15.

Files:
    spec.py                      PostgreSQL's isolation spec format (setup, sessions, steps, permutations)
    runner.py                    runs one permutation over real connections; which steps block
    specs/*.spec                 the specs: anomalies per level, locks, races, EvalPlanQual, upserts
    test_specs.py                every permutation on both servers: transcripts must be identical
    history.py                   list-append history checker (prefixes, lost appends, cycles)
    test_history.py              the checker on hand-written histories
    test_anomalies.py            hypothesis: random concurrent bank/counter/list-append transactions
    test_speculative_insert.py   ON CONFLICT when the conflict appears only at the index insert
    test_vacuum.py               dead versions under a steady update load; vacuum and snapshots
"""
