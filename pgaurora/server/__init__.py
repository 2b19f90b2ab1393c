"""pgaurora.server — the only code that touches client sockets, and the instance around it.

    instance.py    a writer instance: volume (recovery) -> page cache -> txn -> catalog -> listener
    listener.py    PgServer: accepts clients; backends table, cancel, NOTIFY, max_connections
    connection.py  ClientConnection: one socket, its wire decoder, the message loop, the ResultSink
    startup.py     SSL/GSS refusal, CancelRequest, StartupMessage, authentication, ParameterStatus
    auth.py        hba rules (trust on loopback by default) and the security exchange per method
    results.py     RowDescription + DataRow encoders per result shape (wire.formats), cached
    fused.py       one-pass replies to Bind/Execute/Sync and Query of fast statements
    copy.py        COPY FROM STDIN / TO STDOUT sub-protocol
    replication_protocol.py  the replica stream: msgspec messages, framing (sans I/O)
    replication_source.py    the writer's replication listener: redo, VDL, running xids -> readers
    replication_follower.py  a reader following that stream; feedback (xmin, read point) back
    replication_storage.py   access.Storage for readers (no B-tree cleanup, no VACUUM)
    replication_functions.py aurora_replica_status(), pgaurora_replica_lag(), pg_promote(),
                             aurora_follow_writer()
"""
