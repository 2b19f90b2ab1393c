"""CREATE / DROP EXTENSION as PostgreSQL 15 has them for the extensions pgaurora provides:
plpgsql (always installed), "uuid-ossp" (uuid_generate_v1 / v3 / v4 / v5, the namespaces) and
pgcrypto (digest, hmac, gen_random_bytes, crypt with bf / md5 / des salts, gen_salt): their
functions exist only once installed, in the extension's schema; pg_extension, its comments and
psql's \\dx; IF [NOT] EXISTS, an unknown extension's error. Compared with PostgreSQL 15."""

from __future__ import annotations

import os
import subprocess

from tests.pgoracle import PgOracle, assert_same_transcript, pg_bindir, run_each
from tests.server.harness import InstanceProcess

CLEANUP = ["DROP TABLE IF EXISTS ext_u", "DROP EXTENSION IF EXISTS pgcrypto", 'DROP EXTENSION IF EXISTS "uuid-ossp"',
           "DROP SCHEMA IF EXISTS ext_s CASCADE"]
STEPS = [
    "SELECT uuid_generate_v4()",
    "CREATE EXTENSION IF NOT EXISTS plpgsql",
    "CREATE EXTENSION plpgsql",
    'CREATE EXTENSION IF NOT EXISTS "uuid-ossp"',
    'CREATE EXTENSION "uuid-ossp"',
    "CREATE SCHEMA ext_s",
    "CREATE EXTENSION pgcrypto WITH SCHEMA ext_s",
    "CREATE EXTENSION ext_nosuch",
    "SELECT extname, extversion, extnamespace::regnamespace, extrelocatable FROM pg_extension ORDER BY 1",
    "SELECT uuid_generate_v3(uuid_ns_dns(), 'example.com'), uuid_generate_v5(uuid_ns_url(), 'http://x'), uuid_nil()",
    "SELECT length(uuid_generate_v4()::text), uuid_generate_v1() IS NOT NULL, "
    "public.uuid_generate_v4() <> public.uuid_generate_v4()",
    "SELECT digest('abc', 'sha256')",
    "SELECT encode(ext_s.digest('abc', 'sha256'), 'hex'), encode(ext_s.digest('abc'::bytea, 'md5'), 'hex')",
    "SET search_path = public, ext_s",
    "SELECT encode(hmac('data', 'key', 'sha1'), 'hex'), length(gen_random_bytes(16))",
    "SELECT crypt('secret', '$2a$06$abcdefghijklmnopqrstuv'), crypt('secret', '$1$saltsalt'), crypt('secret', 'ab')",
    "SELECT length(gen_salt('bf', 8)), length(gen_salt('md5')), length(gen_salt('des'))",
    "SELECT crypt('pw', s) = crypt('pw', crypt('pw', s)) FROM (SELECT gen_salt('bf', 4) AS s) x",
    "SELECT digest('x', 'nosuch')",
    "CREATE TABLE ext_u (id uuid PRIMARY KEY DEFAULT uuid_generate_v4(), pw text)",
    "INSERT INTO ext_u (pw) VALUES (crypt('hunter2', gen_salt('bf', 4)))",
    "SELECT count(*) FROM ext_u WHERE pw = crypt('hunter2', pw)",
    "COMMENT ON EXTENSION pgcrypto IS 'crypto!'",
    "SELECT e.extname, d.description FROM pg_extension e JOIN pg_description d ON d.objoid = e.oid "
    "AND d.classoid = 'pg_extension'::regclass ORDER BY 1",
    "RESET search_path",
    "DROP EXTENSION pgcrypto",
    "DROP EXTENSION IF EXISTS pgcrypto",
    "SELECT ext_s.digest('abc', 'sha1')",
]


def test_extensions_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, STEPS, cleanup=CLEANUP, details=True)


def test_psql_lists_extensions_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    outputs = []
    for server in (pg_oracle, instance):
        run_each(server.dsn, CLEANUP)
        run_each(server.dsn, ['CREATE EXTENSION "uuid-ossp"', "CREATE EXTENSION pgcrypto"])
        try:
            done = subprocess.run([os.path.join(pg_bindir(), "psql"), "-X", "-h", "127.0.0.1", "-p", str(server.port),
                                   "-U", "postgres", "-d", "postgres", "-c", r"\dx"],
                                  capture_output=True, text=True, timeout=60)
            outputs.append(done.stdout + done.stderr)
        finally:
            run_each(server.dsn, CLEANUP)
    assert outputs[1] == outputs[0]
