"""pgaurora.server — the only code that touches client sockets, and the instance around it.

    instance.py    a writer instance: volume (recovery) -> page cache -> txn -> catalog -> listener
    listener.py    PgServer: accepts clients; backends table, cancel, NOTIFY, max_connections
    connection.py  ClientConnection: one socket, its wire decoder, the message loop, the ResultSink
    startup.py     SSL/GSS refusal, CancelRequest, StartupMessage, authentication, ParameterStatus
    auth.py        hba rules (trust on loopback by default) and the security exchange per method
    results.py     RowDescription + DataRow encoders per result shape (wire.formats), cached
    copy.py        COPY FROM STDIN / TO STDOUT sub-protocol
"""
