"""User functions, procedures, DO and triggers as PostgreSQL 15 has them: CREATE [OR REPLACE]
FUNCTION / PROCEDURE in LANGUAGE sql and plpgsql, calls from SQL (overloads, strictness, nesting,
recursion), the PL/pgSQL statements (assignment, IF, CASE, the loops, EXIT / CONTINUE, RAISE with
its options, PERFORM, SELECT / INSERT ... INTO [STRICT], EXECUTE ... USING, GET [STACKED]
DIAGNOSTICS, FOUND, exception blocks that roll back their writes), DO blocks, CALL, row and
statement triggers (BEFORE rows changed or skipped, AFTER rows seeing the whole statement, WHEN,
UPDATE OF, TG_* variables, ENABLE / DISABLE, RENAME), DROP with its dependency errors and
CASCADE, DROP SCHEMA / DROP OWNED over functions, the catalogs (pg_proc, pg_trigger,
pg_get_triggerdef, pg_get_function_arguments) and psql's \\df and \\d. Each scenario is compared
with PostgreSQL 15 on the same statements."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import psycopg

from tests.pgoracle import PgOracle, assert_same_transcript, pg_bindir, run_each
from tests.server.harness import InstanceProcess

CLEANUP = [
    "RESET ROLE",
    "DROP TABLE IF EXISTS rt_items, rt_audit, rt_counts, rt_log, rt_keep CASCADE",
    "DROP SCHEMA IF EXISTS rt_s CASCADE",
    "DROP SCHEMA IF EXISTS rt_afs CASCADE",
    "DROP PROCEDURE IF EXISTS rt_set(integer, text, integer), rt_atomic(integer)",
    "DROP FUNCTION IF EXISTS rt_twice(integer, integer), rt_count_atomic(), rt_first(), rt_first2(integer), "
    "rt_vsum(integer[]), rt_vjoin(text, text[]), rt_two(integer), rt_twos(integer), rt_tab(integer), "
    "rt_fc()",
    "DROP FUNCTION IF EXISTS rt_add_one(integer), rt_greet(text), rt_total(), rt_fact(integer), rt_loops(), "
    "rt_div(integer, integer), rt_boom(integer), rt_ins(text), rt_ov(integer), rt_ov(text), rt_noreturn(), "
    "rt_touch(), rt_audit_fn(), rt_guard(), rt_count(), rt_dyn(text), rt_strict(integer), rt_sum_to(integer), "
    "rt_diag(), rt_block(), rt_assert(integer), rt_case(integer), rt_mine(), rt_tlog(), rt_keep_old() CASCADE",
    "DROP PROCEDURE IF EXISTS rt_bump(integer)",
    "DROP OWNED BY rt_role",
    "DROP ROLE IF EXISTS rt_role",
]
SETUP = [
    "CREATE TABLE rt_items (id serial PRIMARY KEY, name text NOT NULL, qty int DEFAULT 0, note text)",
    "CREATE TABLE rt_log (id serial PRIMARY KEY, msg text)",
    "INSERT INTO rt_items (name, qty) VALUES ('a', 1), ('b', 2), ('c', 3)",
]

FUNCTIONS = [
    # LANGUAGE sql
    "CREATE FUNCTION rt_add_one(a integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT a + 1'",
    "SELECT rt_add_one(41), rt_add_one(NULL), rt_add_one('7')",
    "CREATE FUNCTION rt_add_one(a integer) RETURNS integer LANGUAGE sql AS 'SELECT a + 2'",
    "CREATE OR REPLACE FUNCTION rt_add_one(a integer) RETURNS integer LANGUAGE sql AS 'SELECT $1 + 2'",
    "SELECT rt_add_one(1)",
    "CREATE OR REPLACE FUNCTION rt_add_one(a integer) RETURNS bigint LANGUAGE sql AS 'SELECT $1 + 2'",
    "CREATE OR REPLACE FUNCTION rt_add_one(b integer) RETURNS integer LANGUAGE sql AS 'SELECT $1 + 2'",
    "SELECT id FROM rt_items WHERE rt_add_one(id) > 3 ORDER BY id",
    "SELECT rt_add_one(rt_add_one(id)) FROM rt_items ORDER BY 1",
    "CREATE FUNCTION rt_strict(x integer) RETURNS text LANGUAGE sql STRICT AS $$ SELECT 'called' $$",
    "SELECT rt_strict(1), rt_strict(NULL)",
    "CREATE FUNCTION rt_sum_to(n integer) RETURNS bigint LANGUAGE sql STABLE AS "
    "$$ SELECT sum(qty) FROM rt_items WHERE id <= n $$",
    "SELECT rt_sum_to(2), rt_sum_to(0)",
    "CREATE FUNCTION rt_ov(integer) RETURNS text LANGUAGE sql AS $$ SELECT 'int' $$",
    "CREATE FUNCTION rt_ov(text) RETURNS text LANGUAGE sql AS $$ SELECT 'text' $$",
    "SELECT rt_ov(1), rt_ov('x'), rt_ov(2::smallint)",
    "SELECT rt_ov(1.5)",
    "DROP FUNCTION rt_ov",
    "SELECT rt_nosuch(1)",
    # PL/pgSQL
    """CREATE FUNCTION rt_greet(name text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  msg text := 'hello';
BEGIN
  IF name IS NULL THEN
    RETURN msg || ' nobody';
  ELSIF length(name) > 5 THEN
    RAISE NOTICE 'long name: %', name;
  END IF;
  RETURN msg || ', ' || name;
END $$""",
    "SELECT rt_greet('bob'), rt_greet(NULL), rt_greet('alexander')",
    "SELECT CASE WHEN id > 2 THEN rt_greet(name) ELSE 'no' END FROM rt_items ORDER BY id",
    """CREATE FUNCTION rt_total() RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE t bigint := 0; r record;
BEGIN
  FOR r IN SELECT * FROM rt_items ORDER BY id LOOP
    t := t + r.qty;
  END LOOP;
  RETURN t;
END $$""",
    "SELECT rt_total()",
    """CREATE FUNCTION rt_fact(n integer) RETURNS numeric LANGUAGE plpgsql AS $$
BEGIN
  IF n <= 1 THEN RETURN 1; END IF;
  RETURN n * rt_fact(n - 1);
END $$""",
    "SELECT rt_fact(10), rt_fact(0)",
    """CREATE FUNCTION rt_loops() RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text := ''; i int; x int := 0; a int[] := ARRAY[7, 8, 9];
BEGIN
  FOR i IN 1..5 LOOP s := s || i; END LOOP;
  FOR i IN REVERSE 10..1 BY 3 LOOP s := s || ',' || i; END LOOP;
  WHILE x < 3 LOOP x := x + 1; CONTINUE WHEN x = 2; s := s || 'w' || x; END LOOP;
  <<outer>> LOOP
    x := x + 1;
    LOOP EXIT outer WHEN x > 6; x := x + 1; END LOOP;
  END LOOP;
  FOREACH i IN ARRAY a LOOP s := s || '-' || i; END LOOP;
  s := s || ' i=' || coalesce(i::text, 'null');
  RETURN s || ' x=' || x;
END $$""",
    "SELECT rt_loops()",
    """CREATE FUNCTION rt_case(n integer) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  CASE n WHEN 1, 2 THEN RETURN 'small'; WHEN 3 THEN RETURN 'three'; END CASE;
  RETURN 'never';
END $$""",
    "SELECT rt_case(2), rt_case(3)",
    "SELECT rt_case(9)",
    """CREATE FUNCTION rt_div(a integer, b integer) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
  RETURN a / b;
EXCEPTION WHEN division_by_zero THEN
  RAISE NOTICE 'caught %: %', SQLSTATE, SQLERRM;
  RETURN NULL;
END $$""",
    "SELECT rt_div(10, 2), rt_div(1, 0)",
    """CREATE FUNCTION rt_boom(x integer) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
  IF x > 0 THEN
    RAISE EXCEPTION 'x is too big: %', x USING HINT = 'use a smaller x', ERRCODE = '22023', DETAIL = 'x > 0';
  ELSIF x < 0 THEN
    RAISE unique_violation;
  END IF;
  RAISE WARNING 'zero is %%fine%%';
  RETURN x;
END $$""",
    "SELECT rt_boom(0)",
    "SELECT rt_boom(5)",
    "SELECT rt_boom(-1)",
    """CREATE FUNCTION rt_ins(n text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE new_id int;
BEGIN
  INSERT INTO rt_items (name) VALUES (n) RETURNING id INTO new_id;
  RETURN new_id;
END $$""",
    "SELECT rt_ins('d')",
    "SELECT id, name, qty FROM rt_items ORDER BY id",
    """CREATE FUNCTION rt_block() RETURNS text LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
  BEGIN
    INSERT INTO rt_log (msg) VALUES ('kept?');
    INSERT INTO rt_items (id, name) VALUES (1, 'dup');
  EXCEPTION WHEN unique_violation THEN
    INSERT INTO rt_log (msg) VALUES ('handled');
  END;
  SELECT count(*) INTO n FROM rt_log;
  RETURN 'log rows: ' || n;
END $$""",
    "SELECT rt_block()",
    "SELECT msg FROM rt_log ORDER BY id",
    """CREATE FUNCTION rt_diag() RETURNS text LANGUAGE plpgsql AS $$
DECLARE n bigint; r record; m text; st text;
BEGIN
  UPDATE rt_items SET qty = qty + 1 WHERE id <= 2;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM 1 FROM rt_items WHERE id = 999;
  IF NOT FOUND THEN m := 'none'; END IF;
  SELECT * INTO r FROM rt_items WHERE id = 2;
  BEGIN
    SELECT id INTO STRICT n FROM rt_items WHERE id > 0;
  EXCEPTION WHEN too_many_rows THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
  END;
  RETURN n || ' ' || m || ' ' || r.name || ' ' || r.qty || ' ' || st;
END $$""",
    "SELECT rt_diag()",
    """CREATE FUNCTION rt_dyn(t text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM %I WHERE id > $1', t) INTO n USING 1;
  RETURN n;
END $$""",
    "SELECT rt_dyn('rt_items')",
    "SELECT rt_dyn('rt_nosuch')",
    """CREATE FUNCTION rt_assert(x integer) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
  ASSERT x > 0, 'x must be positive';
  RETURN x;
END $$""",
    "SELECT rt_assert(1)",
    "SELECT rt_assert(0)",
    "CREATE FUNCTION rt_noreturn() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN NULL; END $$",
    "SELECT rt_noreturn()",
    "CREATE FUNCTION rt_bad() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 1 END $$",
    "CREATE FUNCTION rt_bad() RETURNS integer LANGUAGE plpython3u AS $$ x $$",
    "CREATE FUNCTION rt_bad() RETURNS integer AS $$ x $$",
    "CREATE FUNCTION rt_bad() RETURNS trigger LANGUAGE sql AS $$ SELECT 1 $$",
    # DO, CALL
    "DO $$ BEGIN RAISE NOTICE 'in do: %', (SELECT count(*) FROM rt_items); END $$",
    "DO $$ DECLARE n int; BEGIN SELECT count(*) INTO n FROM rt_items WHERE qty > 1; "
    "RAISE NOTICE 'n = %, found %', n, FOUND; END $$",
    "DO $$ BEGIN PERFORM rt_nosuch(); END $$",
    "DO $$ BEGIN RAISE; END $$",
    "DO LANGUAGE plpython3u $$ x $$",
    "CREATE PROCEDURE rt_bump(n integer) LANGUAGE plpgsql AS $$ BEGIN UPDATE rt_items SET qty = qty + n; END $$",
    "CALL rt_bump(100)",
    "SELECT sum(qty) FROM rt_items",
    "SELECT rt_bump(1)",
    "CALL rt_nosuch(1)",
    "CREATE PROCEDURE rt_set(n integer, d text DEFAULT 'dflt', extra integer DEFAULT 7) LANGUAGE plpgsql "
    "AS $$ BEGIN UPDATE rt_items SET qty = n + extra, note = d WHERE name = 'a'; END $$",
    "CALL rt_set(1)",
    "CALL rt_set(2, extra => 9)",
    "CALL rt_set(extra => 10, n => 4)",
    "CALL rt_set(d => 'y', n => '5', extra => 11)",
    "SELECT name, note, qty FROM rt_items ORDER BY name",
    "CALL rt_set(n => 6, 'z')",
    "CALL rt_set(1, n => 2)",
    "CALL rt_set(nosuch => 1)",
    "CALL rt_set(n => 1, n => 2)",
    "CALL rt_set()",
    "CALL rt_add_one(a => 1)",
    # the first parameter as a target (its datum is number 0)
    "CREATE FUNCTION rt_first(OUT total bigint) LANGUAGE plpgsql AS $$ BEGIN SELECT count(*) INTO total FROM rt_items; "
    "total := total + 1000; END $$",
    "SELECT rt_first()",
    "CREATE FUNCTION rt_first2(n int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN UPDATE rt_items SET qty = qty; "
    "GET DIAGNOSTICS n = ROW_COUNT; FOREACH n IN ARRAY ARRAY[n, n * 10] LOOP END LOOP; RETURN n; END $$",
    "SELECT rt_first2(0)",
    # a function of several result columns in a select list: a record; (f(x)).a one field
    "CREATE FUNCTION rt_two(x int, OUT a int, OUT b text) LANGUAGE plpgsql AS $$ BEGIN a := x * 2; b := 'v' || x; END $$",
    "CREATE FUNCTION rt_twos(x int, OUT a int, OUT b text) LANGUAGE sql AS $$ SELECT x + 1, 'has space, \"q\"' $$",
    "CREATE FUNCTION rt_tab(x int) RETURNS TABLE (p int, q int) LANGUAGE sql AS $$ SELECT x, x + 1 $$",
    "SELECT rt_two(3)::text, rt_twos(4)::text, rt_two(NULL)::text",  # (psycopg reads a record as a tuple)
    "SELECT (rt_two(3)).a, (rt_two(3)).b, (rt_twos(1)).b, (rt_two(NULL)).a IS NULL",
    "SELECT (rt_two(3)).nosuch",
    "SELECT rt_two(g)::text FROM generate_series(1, 3) g",
    "SELECT rt_tab(1)::text",
    "SELECT name FROM rt_items WHERE (rt_two(qty)).a = 4",
    # assignment to a whole record variable
    "DO $$ DECLARE r record; s record; q record; BEGIN r := rt_two(5); RAISE NOTICE '% % %', r, r.a, r.b; "
    "s := r; s.a := 7; RAISE NOTICE '% %', r, s; r := NULL; RAISE NOTICE '%', r; s := ROW(1, 'x'::text); "
    "RAISE NOTICE '% %', s, s.f2; r := q; RAISE NOTICE '%', r; END $$",
    # VARIADIC
    "CREATE FUNCTION rt_vsum(VARIADIC nums int[]) RETURNS int LANGUAGE sql AS 'SELECT sum(n)::int FROM unnest(nums) n'",
    "SELECT rt_vsum(1, 2, 3), rt_vsum(10), rt_vsum(VARIADIC ARRAY[4, 5]), rt_vsum(VARIADIC '{7,8}')",
    "SELECT rt_vsum()",
    "SELECT rt_vsum(ARRAY[1, 2])",
    "SELECT rt_vsum(VARIADIC 5)",
    "CREATE FUNCTION rt_vjoin(sep text, VARIADIC parts text[]) RETURNS text LANGUAGE plpgsql "
    "AS $$ BEGIN RETURN array_to_string(parts, sep); END $$",
    "SELECT rt_vjoin('-', 'a', 'b', 'c'), rt_vjoin(',', VARIADIC ARRAY['x', 'y'])",
    "SELECT rt_vjoin(sep => '+', parts => ARRAY['p', 'q'])",
    "SELECT proname, provariadic::regtype, proargmodes, pg_get_function_arguments(oid) FROM pg_proc "
    "WHERE proname IN ('rt_vsum', 'rt_vjoin') ORDER BY 1",
    "CREATE FUNCTION rt_bad(VARIADIC a int) RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "CREATE FUNCTION rt_bad(VARIADIC a int[], b int) RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "SELECT jsonb_extract_path('{\"a\":{\"b\":1}}', VARIADIC ARRAY['a', 'b'])",
    # ALTER FUNCTION options, SET SCHEMA
    "CREATE FUNCTION rt_af(x int) RETURNS int LANGUAGE sql AS 'SELECT x'",
    "ALTER FUNCTION rt_af(int) SET search_path = public, pg_temp",
    "ALTER FUNCTION rt_af(int) SET work_mem = '8MB'",
    "ALTER FUNCTION rt_af(int) IMMUTABLE STRICT SECURITY DEFINER RESET work_mem",
    "SELECT proconfig, provolatile, proisstrict, prosecdef FROM pg_proc WHERE proname = 'rt_af'",
    "ALTER FUNCTION rt_af RESET ALL",
    "ALTER FUNCTION rt_af STABLE CALLED ON NULL INPUT SECURITY INVOKER COST 5 PARALLEL SAFE",
    "SELECT proconfig, provolatile, proisstrict, prosecdef FROM pg_proc WHERE proname = 'rt_af'",
    "ALTER FUNCTION rt_af IMMUTABLE VOLATILE",
    "ALTER FUNCTION rt_af(text) IMMUTABLE",
    "ALTER PROCEDURE rt_bump(integer) IMMUTABLE",
    "ALTER ROUTINE rt_bump(integer) SECURITY DEFINER SET work_mem = '1MB'",
    "ALTER FUNCTION rt_bump(integer) SECURITY DEFINER",
    "CREATE SCHEMA rt_afs",
    "ALTER FUNCTION rt_af(int) SET SCHEMA rt_afs",
    "SELECT rt_afs.rt_af(5)",
    "ALTER FUNCTION rt_afs.rt_af(int) SET SCHEMA rt_nosuch",
    # SET ... FROM CURRENT: the session's value when CREATE / ALTER runs
    "SET work_mem = '12MB'",
    "CREATE FUNCTION rt_fc() RETURNS text LANGUAGE sql SET work_mem FROM CURRENT "
    "AS $$ SELECT current_setting('work_mem') $$",
    "RESET work_mem",
    "SET statement_timeout = '5s'",
    "ALTER FUNCTION rt_fc() SET statement_timeout FROM CURRENT",
    "RESET statement_timeout",
    "SELECT rt_fc(), current_setting('work_mem'), proconfig FROM pg_proc WHERE proname = 'rt_fc'",
    "CREATE FUNCTION rt_bad() RETURNS int LANGUAGE sql SET rt_nosuch_param FROM CURRENT AS 'SELECT 1'",
    # SQL-standard bodies
    "CREATE FUNCTION rt_twice(a integer, b integer DEFAULT 2) RETURNS integer LANGUAGE sql IMMUTABLE RETURN a * b",
    "SELECT rt_twice(21), rt_twice(2, 5), rt_twice(b => 3, a => 1), rt_twice(NULL)",
    "CREATE PROCEDURE rt_atomic(n integer) BEGIN ATOMIC INSERT INTO rt_items (name, qty) VALUES ('atomic', n); "
    "UPDATE rt_items SET qty = rt_atomic.n * 10 WHERE name = 'atomic'; END",
    "CALL rt_atomic(4)",
    "CREATE FUNCTION rt_count_atomic() RETURNS bigint LANGUAGE sql BEGIN ATOMIC "
    "SELECT count(*) FROM rt_items WHERE qty = 40; END",
    "SELECT rt_count_atomic()",
    "SELECT proname, prosrc, prosqlbody IS NOT NULL, pg_get_function_sqlbody(oid) IS NOT NULL FROM pg_proc "
    "WHERE proname IN ('rt_twice', 'rt_atomic', 'rt_add_one') ORDER BY 1",
    "CREATE FUNCTION rt_bad(a integer) RETURNS integer LANGUAGE plpgsql RETURN a",
    "CREATE FUNCTION rt_bad(a integer) RETURNS integer LANGUAGE sql AS 'SELECT 1' RETURN a",
    # catalogs
    "SELECT proname, prokind, provolatile, proisstrict, pronargs, pg_get_function_arguments(oid), "
    "pg_get_function_result(oid), l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
    "WHERE proname IN ('rt_add_one', 'rt_div', 'rt_bump', 'rt_strict') ORDER BY 1",
    "SELECT prosrc FROM pg_proc WHERE proname = 'rt_add_one'",
    "COMMENT ON FUNCTION rt_add_one(integer) IS 'adds'",
    "SELECT obj_description('rt_add_one(integer)'::regprocedure, 'pg_proc')",
    # ALTER, DROP
    "ALTER FUNCTION rt_add_one(integer) RENAME TO rt_add_two",
    "SELECT rt_add_two(1)",
    "ALTER FUNCTION rt_add_two(integer) RENAME TO rt_add_one",
    "DROP FUNCTION rt_add_one(integer)",
    "DROP FUNCTION rt_add_one(integer)",
    "DROP FUNCTION IF EXISTS rt_add_one(integer)",
    "DROP FUNCTION rt_nosuch",
    "DROP FUNCTION IF EXISTS rt_nosuch(rt_nosuchtype)",
    "CREATE SCHEMA rt_s",
    "CREATE FUNCTION rt_s.f(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x * 10'",
    "SELECT rt_s.f(2)",
    "SELECT f(2)",
    "DROP SCHEMA rt_s",
    "DROP SCHEMA rt_s CASCADE",
    "CREATE ROLE rt_role",
    "CREATE FUNCTION rt_mine() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
    "ALTER FUNCTION rt_mine() OWNER TO rt_role",
    "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'rt_mine'",
    "DROP ROLE rt_role",
    "DROP OWNED BY rt_role",
    "SELECT count(*) FROM pg_proc WHERE proname = 'rt_mine'",
]

TRIGGERS = [
    "CREATE TABLE rt_audit (id serial PRIMARY KEY, op text, item_id int, old_qty int, new_qty int, who text)",
    """CREATE FUNCTION rt_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.note := coalesce(NEW.note, '') || TG_OP || ':' || TG_WHEN || ':' || TG_NAME || ':' || TG_LEVEL
              || ':' || TG_TABLE_NAME || ':' || TG_NARGS;
  RETURN NEW;
END $$""",
    "CREATE TRIGGER rt_items_touch BEFORE INSERT OR UPDATE ON rt_items FOR EACH ROW EXECUTE FUNCTION rt_touch()",
    """CREATE FUNCTION rt_audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO rt_audit (op, item_id, old_qty, who) VALUES (TG_OP, OLD.id, OLD.qty, TG_ARGV[0]);
    RETURN OLD;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO rt_audit (op, item_id, old_qty, new_qty, who) VALUES (TG_OP, NEW.id, OLD.qty, NEW.qty, TG_ARGV[1]);
  ELSE
    INSERT INTO rt_audit (op, item_id, new_qty, who)
      VALUES (TG_OP, NEW.id, (SELECT count(*) FROM rt_items), TG_ARGV[0]);
  END IF;
  RETURN NEW;
END $$""",
    "CREATE TRIGGER rt_items_audit AFTER INSERT OR UPDATE OR DELETE ON rt_items FOR EACH ROW "
    "EXECUTE FUNCTION rt_audit_fn('app', 'upd')",
    "INSERT INTO rt_items (name, qty) VALUES ('d', 4), ('e', 5)",
    "INSERT INTO rt_items (name, qty) VALUES ('f', 6) RETURNING id, name, note",
    "UPDATE rt_items SET qty = qty * 10 WHERE id <= 2",
    "DELETE FROM rt_items WHERE id = 3 RETURNING id, qty",
    "SELECT id, name, qty, note FROM rt_items ORDER BY id",
    "SELECT op, item_id, old_qty, new_qty, who FROM rt_audit ORDER BY id",
    """CREATE FUNCTION rt_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.qty < 0 THEN
    RAISE EXCEPTION 'qty must not be negative (got %)', NEW.qty USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.qty = 0 THEN
    RETURN NULL;
  END IF;
  RETURN NEW;
END $$""",
    "CREATE TRIGGER rt_items_guard BEFORE INSERT OR UPDATE OF qty ON rt_items FOR EACH ROW EXECUTE FUNCTION rt_guard()",
    "INSERT INTO rt_items (name, qty) VALUES ('neg', -1)",
    "INSERT INTO rt_items (name, qty) VALUES ('zero', 0), ('seven', 7)",
    "UPDATE rt_items SET qty = 0 WHERE id = 1",
    "UPDATE rt_items SET name = name || '!' WHERE id = 1",
    "SELECT id, name, qty FROM rt_items ORDER BY id",
    "CREATE TABLE rt_counts (n int)",
    "INSERT INTO rt_counts VALUES (0)",
    """CREATE FUNCTION rt_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE rt_counts SET n = n + 1;
  RETURN NULL;
END $$""",
    "CREATE TRIGGER rt_items_stmt AFTER INSERT ON rt_items FOR EACH STATEMENT EXECUTE FUNCTION rt_count()",
    "INSERT INTO rt_items (name, qty) VALUES ('x', 1), ('y', 2)",
    "SELECT n FROM rt_counts",
    "CREATE TRIGGER rt_items_when AFTER UPDATE ON rt_items FOR EACH ROW WHEN (OLD.qty IS DISTINCT FROM NEW.qty) "
    "EXECUTE FUNCTION rt_count()",
    "UPDATE rt_items SET name = 'same' WHERE id = 1",
    "UPDATE rt_items SET qty = 77 WHERE id = 1",
    "SELECT n FROM rt_counts",
    "ALTER TABLE rt_items DISABLE TRIGGER rt_items_when",
    "UPDATE rt_items SET qty = 78 WHERE id = 1",
    "SELECT n FROM rt_counts",
    "SELECT tgname, tgenabled, tgtype, tgnargs FROM pg_trigger WHERE tgrelid = 'rt_items'::regclass ORDER BY 1",
    "ALTER TABLE rt_items ENABLE TRIGGER ALL",
    "ALTER TRIGGER rt_items_when ON rt_items RENAME TO rt_items_changed",
    "SELECT pg_get_triggerdef(oid), pg_get_triggerdef(oid, true) FROM pg_trigger "
    "WHERE tgrelid = 'rt_items'::regclass ORDER BY tgname",
    "CREATE TRIGGER rt_items_touch BEFORE INSERT ON rt_items FOR EACH ROW EXECUTE FUNCTION rt_touch()",
    "CREATE TRIGGER rt_bad BEFORE INSERT ON rt_items FOR EACH ROW EXECUTE FUNCTION rt_nosuch()",
    "CREATE TRIGGER rt_bad BEFORE INSERT ON rt_items FOR EACH ROW EXECUTE FUNCTION rt_total()",
    "CREATE TRIGGER rt_bad BEFORE INSERT ON rt_nosuch FOR EACH ROW EXECUTE FUNCTION rt_touch()",
    "CREATE TRIGGER rt_bad INSTEAD OF INSERT ON rt_items FOR EACH ROW EXECUTE FUNCTION rt_touch()",
    "SELECT rt_touch()",
    # NEW := OLD, a record copy of NEW; a NEW of another shape fails when the function returns it
    "CREATE TABLE rt_keep (id int, v text)",
    "CREATE FUNCTION rt_keep_old() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE r record; BEGIN r := NEW; "
    "r.v := upper(r.v); RAISE NOTICE 'r=% new=%', r, NEW; IF TG_OP = 'UPDATE' THEN NEW := OLD; END IF; "
    "IF NEW.id < 0 THEN NEW := ROW(1); END IF; RETURN NEW; END $$",
    "CREATE TRIGGER rt_keep_t BEFORE INSERT OR UPDATE ON rt_keep FOR EACH ROW EXECUTE FUNCTION rt_keep_old()",
    "INSERT INTO rt_keep VALUES (1, 'a')",
    "UPDATE rt_keep SET v = 'changed'",
    "SELECT * FROM rt_keep",
    "INSERT INTO rt_keep VALUES (-1, 'b')",
    "DROP TABLE rt_keep",
    "DROP FUNCTION rt_keep_old()",
    # TRUNCATE triggers (statement-level): BEFORE every table's, then the truncation, then AFTER
    "CREATE TABLE rt_log (msg text)",
    "CREATE TABLE rt_counts (n int)",
    "INSERT INTO rt_counts VALUES (1), (2)",
    "CREATE FUNCTION rt_tlog() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO rt_log VALUES (TG_WHEN || ' ' "
    "|| TG_OP || ' ' || TG_LEVEL || ' ' || TG_TABLE_NAME || ' ' || (SELECT count(*) FROM rt_counts) || ' ' || "
    "coalesce(TG_ARGV[0], '-')); RETURN NULL; END $$",
    "CREATE TRIGGER rt_c_bt BEFORE TRUNCATE ON rt_counts EXECUTE FUNCTION rt_tlog('bt')",
    "CREATE TRIGGER rt_c_at AFTER TRUNCATE ON rt_counts FOR EACH STATEMENT EXECUTE FUNCTION rt_tlog('at')",
    "CREATE TRIGGER rt_c_row BEFORE TRUNCATE ON rt_counts FOR EACH ROW EXECUTE FUNCTION rt_tlog()",
    "CREATE TRIGGER rt_l_multi AFTER INSERT OR TRUNCATE ON rt_audit EXECUTE FUNCTION rt_tlog('multi')",
    "TRUNCATE rt_counts, rt_audit",
    "SELECT * FROM rt_log",
    "SELECT tgname, tgtype, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname LIKE 'rt\\_%' "
    "AND tgname IN ('rt_c_bt', 'rt_c_at', 'rt_l_multi') ORDER BY 1",
    "DROP FUNCTION rt_touch()",
    "DROP TRIGGER rt_items_changed ON rt_items",
    "DROP TRIGGER rt_items_changed ON rt_items",
    "DROP TRIGGER IF EXISTS rt_items_changed ON rt_items",
    "DROP FUNCTION rt_touch() CASCADE",
    "SELECT tgname FROM pg_trigger WHERE tgrelid = 'rt_items'::regclass ORDER BY 1",
    "DROP TABLE rt_items",
    "SELECT count(*) FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname LIKE 'rt%'",
]


RESULTS = [
    # SETOF / TABLE / OUT parameters / defaults
    "CREATE FUNCTION rt_big(min_qty integer DEFAULT 2) RETURNS SETOF rt_items LANGUAGE sql STABLE AS "
    "$$ SELECT * FROM rt_items WHERE qty >= min_qty ORDER BY id $$",
    "SELECT * FROM rt_big()",
    "SELECT * FROM rt_big(3)",
    "SELECT name FROM rt_big(1) WHERE qty < 3",
    """CREATE FUNCTION rt_series(n integer) RETURNS SETOF integer LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..n LOOP RETURN NEXT i * 10; END LOOP;
  RETURN NEXT n;
  RETURN;
END $$""",
    "SELECT * FROM rt_series(3)",
    "SELECT s FROM rt_series(2) s",
    "SELECT * FROM rt_series(2) WITH ORDINALITY",
    "SELECT rt_series(2)",
    "SELECT i.name, s FROM rt_items i, LATERAL rt_series(i.qty) s ORDER BY 1, 2",
    "CREATE FUNCTION rt_stats(OUT n bigint, OUT total bigint) LANGUAGE sql AS "
    "'SELECT count(*), sum(qty) FROM rt_items'",
    "SELECT * FROM rt_stats()",
    "SELECT n FROM rt_stats()",
    """CREATE FUNCTION rt_pairs(k integer) RETURNS TABLE(id integer, label text) LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT i.id, i.name || k FROM rt_items i ORDER BY i.id;
  id := 99; label := 'extra';
  RETURN NEXT;
END $$""",
    "SELECT * FROM rt_pairs(7)",
    """CREATE FUNCTION rt_minmax(a integer, b integer, OUT lo integer, OUT hi integer) LANGUAGE plpgsql AS $$
BEGIN
  lo := least(a, b); hi := greatest(a, b);
END $$""",
    "SELECT * FROM rt_minmax(5, 3)",
    "SELECT hi FROM rt_minmax(1, 9)",
    "CREATE FUNCTION rt_add3(a integer, b integer DEFAULT 10, c integer DEFAULT 100) RETURNS integer "
    "LANGUAGE sql AS 'SELECT a + b + c'",
    "SELECT rt_add3(1), rt_add3(1, 2), rt_add3(1, 2, 3)",
    "SELECT rt_add3()",
    "CREATE FUNCTION rt_bad(a integer DEFAULT 1, b integer) RETURNS integer LANGUAGE sql AS 'SELECT 1'",
    "CREATE FUNCTION rt_bad(a integer, OUT b integer) RETURNS text LANGUAGE sql AS 'SELECT 1'",
    "CREATE FUNCTION rt_one_out(a integer, OUT doubled integer) LANGUAGE plpgsql AS $$ BEGIN doubled := a * 2; END $$",
    "SELECT rt_one_out(21), * FROM rt_one_out(2)",
    "SELECT proname, proretset, proargmodes, proargnames, pronargdefaults, pg_get_function_arguments(oid), "
    "pg_get_function_identity_arguments(oid), pg_get_function_result(oid) FROM pg_proc "
    "WHERE proname IN ('rt_big', 'rt_series', 'rt_stats', 'rt_pairs', 'rt_minmax', 'rt_add3', 'rt_one_out') "
    "ORDER BY 1",
    "CREATE OR REPLACE FUNCTION rt_minmax(a integer, b integer, OUT lo integer, OUT top integer) "
    "LANGUAGE sql AS 'SELECT 1, 2'",
    # whole records in triggers
    "CREATE TABLE rt_audit (id serial PRIMARY KEY, op text, old_row jsonb, new_row json, changed boolean)",
    """CREATE FUNCTION rt_audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
    RAISE NOTICE 'no change: %', NEW;
    RETURN NULL;
  END IF;
  INSERT INTO rt_audit (op, old_row, new_row, changed)
  VALUES (TG_OP, CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
          CASE WHEN TG_OP <> 'DELETE' THEN row_to_json(NEW) END,
          TG_OP = 'UPDATE' AND NEW IS DISTINCT FROM OLD);
  RETURN coalesce(NEW, OLD);
END $$""",
    "CREATE TRIGGER rt_items_audit BEFORE INSERT OR UPDATE OR DELETE ON rt_items FOR EACH ROW "
    "EXECUTE FUNCTION rt_audit_fn()",
    "INSERT INTO rt_items (name, qty) VALUES ('d', 4), ('e', NULL)",
    "UPDATE rt_items SET qty = qty WHERE id = 1",
    "UPDATE rt_items SET qty = 5 WHERE id = 5",
    "DELETE FROM rt_items WHERE id = 2",
    "SELECT id, name, qty FROM rt_items ORDER BY id",
    "SELECT op, old_row, new_row::text, changed FROM rt_audit ORDER BY id",
    """DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT id, name FROM rt_items ORDER BY id LOOP
    RAISE NOTICE 'row % json %', r, to_jsonb(r);
  END LOOP;
END $$""",
]


SECURITY_CLEANUP = ["RESET ROLE", "DROP FUNCTION IF EXISTS rt_peek(), rt_peek2(), rt_peek3(), rt_named",
                    "DROP TABLE IF EXISTS rt_secret", "DROP ROLE IF EXISTS rt_owner", "DROP ROLE IF EXISTS rt_caller"]
SECURITY = [
    "CREATE ROLE rt_owner",
    "CREATE ROLE rt_caller",
    "CREATE TABLE rt_secret (v text)",
    "INSERT INTO rt_secret VALUES ('hidden')",
    "ALTER TABLE rt_secret OWNER TO rt_owner",
    "CREATE FUNCTION rt_peek() RETURNS text LANGUAGE sql STABLE STRICT SECURITY DEFINER "
    "SET search_path = public, pg_temp SET work_mem = '64MB' AS 'SELECT v FROM rt_secret'",
    "CREATE FUNCTION rt_peek2() RETURNS text LANGUAGE plpgsql AS "
    "$$ BEGIN RETURN current_user || ' ' || current_setting('work_mem'); END $$",
    "CREATE FUNCTION rt_peek3() RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET work_mem = '1MB' AS "
    "$$ BEGIN RETURN rt_peek2(); END $$",
    "ALTER FUNCTION rt_peek() OWNER TO rt_owner",
    "ALTER FUNCTION rt_peek3() OWNER TO rt_owner",
    "SET ROLE rt_caller",
    "SELECT * FROM rt_secret",
    "SELECT rt_peek()",
    "SELECT rt_peek3(), rt_peek2()",
    "SHOW work_mem",
    "RESET ROLE",
    "SELECT proname, prosecdef, proconfig FROM pg_proc WHERE proname LIKE 'rt_peek%' ORDER BY 1",
    "SELECT pg_get_functiondef('rt_peek'::regproc)",
    "CREATE FUNCTION rt_named(a integer, b integer DEFAULT 2, c integer DEFAULT 3) RETURNS text LANGUAGE sql AS "
    "$$ SELECT a || '-' || b || '-' || c $$",
    "SELECT rt_named(1, c => 9), rt_named(a => 5), rt_named(1, 2, 3), rt_named(c => 1, a => 2)",
    "SELECT rt_named(b => 1)",
    "SELECT rt_named(1, d => 2)",
    "DROP ROLE rt_owner",
]


GRANTS_CLEANUP = ["RESET ROLE", "DROP SCHEMA IF EXISTS rt_app CASCADE", "DROP OWNED BY rt_alice",
                  "DROP OWNED BY rt_bob", "DROP ROLE IF EXISTS rt_alice", "DROP ROLE IF EXISTS rt_bob"]
GRANTS = [
    "CREATE ROLE rt_alice",
    "CREATE ROLE rt_bob",
    "CREATE SCHEMA rt_app",
    "GRANT USAGE ON SCHEMA rt_app TO rt_alice, rt_bob",
    "CREATE FUNCTION rt_app.f(a integer) RETURNS integer LANGUAGE sql AS 'SELECT a * 2'",
    "CREATE FUNCTION rt_app.g() RETURNS integer LANGUAGE sql AS 'SELECT 7'",
    "CREATE PROCEDURE rt_app.p() LANGUAGE sql AS 'SELECT 1'",
    "REVOKE ALL ON FUNCTION rt_app.f(int) FROM PUBLIC",
    "GRANT EXECUTE ON FUNCTION rt_app.f(integer) TO rt_alice",
    "SELECT proname, proacl FROM pg_proc WHERE pronamespace = 'rt_app'::regnamespace ORDER BY 1",
    "SET ROLE rt_bob",
    "SELECT rt_app.f(1)",
    "SELECT rt_app.g()",
    "SELECT has_function_privilege('rt_app.f(integer)', 'EXECUTE'), has_function_privilege('rt_app.g()', 'EXECUTE')",
    "RESET ROLE",
    "SET ROLE rt_alice",
    "SELECT rt_app.f(2)",
    "RESET ROLE",
    "SELECT has_function_privilege('rt_bob', 'rt_app.f(integer)', 'EXECUTE'), "
    "has_function_privilege('rt_alice', 'rt_app.f(int)', 'execute')",
    "REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA rt_app FROM PUBLIC",
    "REVOKE EXECUTE ON ALL PROCEDURES IN SCHEMA rt_app FROM PUBLIC",
    "SELECT proname, proacl FROM pg_proc WHERE pronamespace = 'rt_app'::regnamespace ORDER BY 1",
    "SET ROLE rt_bob",
    "CALL rt_app.p()",
    "RESET ROLE",
    "GRANT SELECT ON FUNCTION rt_app.g() TO rt_bob",
    "GRANT EXECUTE ON FUNCTION rt_app.nosuch() TO rt_bob",
    "GRANT EXECUTE ON FUNCTION rt_app.f TO rt_bob",
    "GRANT EXECUTE ON PROCEDURE rt_app.f(int) TO rt_bob",
    "DROP PROCEDURE rt_app.f(int)",
    "GRANT EXECUTE ON ROUTINE rt_app.p() TO rt_bob",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA rt_app REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC",
    "CREATE FUNCTION rt_app.h() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
    "SELECT proname, proacl FROM pg_proc WHERE pronamespace = 'rt_app'::regnamespace ORDER BY 1",
    "DROP ROLE rt_alice",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA rt_app GRANT EXECUTE ON FUNCTIONS TO PUBLIC",
    "DROP SCHEMA rt_app CASCADE",
]


def test_function_privileges_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, GRANTS, cleanup=GRANTS_CLEANUP, details=True)


def test_security_definer_set_clauses_and_named_arguments_as_postgres(instance: InstanceProcess,
                                                                       pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, SECURITY, cleanup=SECURITY_CLEANUP, details=True)


def test_set_returning_functions_and_records_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, RESULTS, setup=SETUP,
                           cleanup=[*CLEANUP, "DROP FUNCTION IF EXISTS rt_big, rt_series, rt_stats, rt_pairs, rt_minmax, "
                                    "rt_add3, rt_one_out, rt_audit_fn CASCADE"], details=True)


DROPPED_COLUMNS = [
    "CREATE TABLE rt_dc (a integer, b integer, c text)",
    "ALTER TABLE rt_dc DROP COLUMN b",
    """CREATE FUNCTION rt_dcf() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE '% %', to_jsonb(NEW), NEW;
  NEW.c := NEW.c || 'x';
  RETURN coalesce(NEW, OLD);
END $$""",
    "CREATE TRIGGER rt_dct BEFORE INSERT OR UPDATE OR DELETE ON rt_dc FOR EACH ROW EXECUTE FUNCTION rt_dcf()",
    "CREATE TABLE rt_dc_hist (a integer, c text)",
    """CREATE FUNCTION rt_dch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO rt_dc_hist SELECT NEW.*;
  INSERT INTO rt_dc_hist VALUES (NEW.*);
  RETURN NEW;
END $$""",
    "CREATE TRIGGER rt_dch AFTER INSERT ON rt_dc FOR EACH ROW EXECUTE FUNCTION rt_dch()",
    "INSERT INTO rt_dc VALUES (1, 'a')",
    "UPDATE rt_dc SET a = 2",
    "DELETE FROM rt_dc",
    "INSERT INTO rt_dc VALUES (3, 'z')",
    "SELECT * FROM rt_dc",
    "SELECT * FROM rt_dc_hist ORDER BY a, c",
]


INSTEAD_CLEANUP = ["DROP VIEW IF EXISTS rt_ab", "DROP TABLE IF EXISTS rt_base_a, rt_base_b",
                   "DROP FUNCTION IF EXISTS rt_ab_fn() CASCADE"]
INSTEAD = [
    "CREATE TABLE rt_base_a (id int PRIMARY KEY, v text)",
    "CREATE TABLE rt_base_b (id int PRIMARY KEY, w text)",
    "INSERT INTO rt_base_a VALUES (1, 'a1'), (2, 'a2')",
    "INSERT INTO rt_base_b VALUES (1, 'b1'), (2, 'b2')",
    "CREATE VIEW rt_ab AS SELECT a.id, a.v, b.w FROM rt_base_a a JOIN rt_base_b b USING (id)",
    "INSERT INTO rt_ab VALUES (3, 'x', 'y')",
    """CREATE FUNCTION rt_ab_fn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO rt_base_a VALUES (NEW.id, NEW.v);
    INSERT INTO rt_base_b VALUES (NEW.id, NEW.w);
    RETURN NEW;
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE rt_base_a SET v = NEW.v WHERE id = OLD.id;
    UPDATE rt_base_b SET w = NEW.w WHERE id = OLD.id;
    RETURN NEW;
  ELSE
    IF OLD.id = 2 THEN RETURN NULL; END IF;
    DELETE FROM rt_base_a WHERE id = OLD.id;
    DELETE FROM rt_base_b WHERE id = OLD.id;
    RETURN OLD;
  END IF;
END $$""",
    "CREATE TRIGGER rt_ab_t INSTEAD OF INSERT OR UPDATE OR DELETE ON rt_ab FOR EACH ROW EXECUTE FUNCTION rt_ab_fn()",
    "INSERT INTO rt_ab VALUES (3, 'x', 'y')",
    "INSERT INTO rt_ab (id, w) VALUES (4, 'only w') RETURNING *",
    "UPDATE rt_ab SET v = v || '!' WHERE id <= 2 RETURNING id, v, w",
    "DELETE FROM rt_ab WHERE id IN (2, 4)",
    "SELECT * FROM rt_ab ORDER BY id",
    "SELECT * FROM rt_base_a ORDER BY id",
    "SELECT tgname, tgtype, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'rt_ab'::regclass",
    "CREATE TRIGGER rt_bad BEFORE INSERT ON rt_ab FOR EACH ROW EXECUTE FUNCTION rt_ab_fn()",
    "CREATE TRIGGER rt_bad INSTEAD OF INSERT ON rt_base_a FOR EACH ROW EXECUTE FUNCTION rt_ab_fn()",
    "CREATE TRIGGER rt_bad INSTEAD OF INSERT ON rt_ab FOR EACH STATEMENT EXECUTE FUNCTION rt_ab_fn()",
    "CREATE TRIGGER rt_bad INSTEAD OF UPDATE OF v ON rt_ab FOR EACH ROW EXECUTE FUNCTION rt_ab_fn()",
    "DROP VIEW rt_ab",
    "SELECT count(*) FROM pg_trigger WHERE tgname = 'rt_ab_t'",
]


def test_instead_of_triggers_on_views_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, INSTEAD, cleanup=INSTEAD_CLEANUP, details=True)


def test_trigger_records_skip_dropped_columns_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, DROPPED_COLUMNS,
                           cleanup=["DROP TABLE IF EXISTS rt_dc, rt_dc_hist", "DROP FUNCTION IF EXISTS rt_dcf()",
                                    "DROP FUNCTION IF EXISTS rt_dch()"], details=True)


PARTITIONS_CLEANUP = ["DROP TABLE IF EXISTS rt_pt, rt_log2, rt_u, rt_ul", "DROP FUNCTION IF EXISTS rt_lf(), rt_uf(), "
                      "rt_ulf() CASCADE"]
PARTITIONS_AND_UPSERTS = [
    "CREATE TABLE rt_pt (id integer, k text) PARTITION BY LIST (k)",
    "CREATE TABLE rt_pt_a PARTITION OF rt_pt FOR VALUES IN ('a')",
    "CREATE TABLE rt_pt_b PARTITION OF rt_pt FOR VALUES IN ('b')",
    "CREATE TABLE rt_log2 (msg text)",
    """CREATE FUNCTION rt_lf() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO rt_log2 VALUES (TG_NAME || ' ' || TG_OP || ' ' || TG_LEVEL || ' ' || TG_TABLE_NAME || ' '
                              || coalesce(NEW.id::text, OLD.id::text, '-'));
  RETURN NEW;
END $$""",
    "CREATE TRIGGER rt_pt_row AFTER INSERT OR UPDATE ON rt_pt FOR EACH ROW EXECUTE FUNCTION rt_lf()",
    "CREATE TRIGGER rt_pt_stmt AFTER INSERT ON rt_pt FOR EACH STATEMENT EXECUTE FUNCTION rt_lf()",
    "INSERT INTO rt_pt VALUES (1, 'a'), (2, 'b')",
    "UPDATE rt_pt SET id = id + 10",
    "CREATE TRIGGER rt_pt_a_own BEFORE INSERT ON rt_pt_a FOR EACH ROW EXECUTE FUNCTION rt_lf()",
    "CREATE TRIGGER rt_pt_a_stmt AFTER INSERT ON rt_pt_a FOR EACH STATEMENT EXECUTE FUNCTION rt_lf()",
    "CREATE TRIGGER rt_pt_del AFTER DELETE ON rt_pt FOR EACH STATEMENT EXECUTE FUNCTION rt_lf()",
    "INSERT INTO rt_pt VALUES (3, 'a')",
    "INSERT INTO rt_pt_a VALUES (4, 'a')",
    "DELETE FROM rt_pt WHERE id = 3",
    "SELECT * FROM rt_log2 ORDER BY msg",
    "CREATE TABLE rt_u (id integer PRIMARY KEY, v integer, note text)",
    """CREATE FUNCTION rt_uf() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.note := TG_OP || coalesce(NEW.note, '');
  RETURN NEW;
END $$""",
    "CREATE TRIGGER rt_u_b BEFORE INSERT OR UPDATE ON rt_u FOR EACH ROW EXECUTE FUNCTION rt_uf()",
    "CREATE TABLE rt_ul (msg text)",
    "CREATE FUNCTION rt_ulf() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN INSERT INTO rt_ul VALUES (TG_WHEN || ' ' || TG_OP || ' ' || TG_LEVEL); RETURN NEW; END $$",
    "CREATE TRIGGER rt_u_r AFTER INSERT OR UPDATE ON rt_u FOR EACH ROW EXECUTE FUNCTION rt_ulf()",
    "CREATE TRIGGER rt_u_s AFTER INSERT OR UPDATE ON rt_u FOR EACH STATEMENT EXECUTE FUNCTION rt_ulf()",
    "INSERT INTO rt_u VALUES (1, 1, '') ON CONFLICT (id) DO UPDATE SET v = excluded.v RETURNING *",
    "INSERT INTO rt_u VALUES (1, 2, ''), (2, 2, '') ON CONFLICT (id) DO UPDATE SET v = excluded.v RETURNING *",
    "SELECT msg, count(*) FROM rt_ul GROUP BY msg ORDER BY msg",
    # PL/pgSQL details
    "DO $$ DECLARE arr int[] := '{1,2}'; t text[]; BEGIN arr[1] := 5; arr[4] := 9; t[1] := 'a'; "
    "t[2] := 'b' || arr[1]; RAISE NOTICE '% % %', arr, t, array_length(arr, 1); END $$",
    "DO $$ DECLARE a int; b text; BEGIN SELECT 1, 'x' INTO a, b; RAISE NOTICE '% %', a, b; "
    "SELECT 1 INTO STRICT a WHERE false; END $$",
    "DO $$ DECLARE a int; BEGIN SELECT g INTO STRICT a FROM generate_series(1, 2) g; END $$",
    "DO $$ DECLARE x int NOT NULL := 1; BEGIN x := NULL; END $$",
    """CREATE FUNCTION rt_curs(k integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  c CURSOR FOR SELECT p.id, p.k AS v FROM rt_pt p ORDER BY p.id;
  c2 CURSOR (lim int) FOR SELECT id FROM rt_pt ORDER BY id LIMIT lim;
  r record; x int; s text := ''; rc refcursor;
BEGIN
  OPEN c;
  FETCH c INTO x; s := s || x;
  FETCH NEXT FROM c INTO r; s := s || ',' || r.v;
  MOVE c; FETCH c INTO x; s := s || ',' || coalesce(x::text, '-');
  FETCH PRIOR FROM c INTO x; s := s || ',p' || x;
  FETCH LAST FROM c INTO x; s := s || ',l' || x;
  FETCH c INTO x; s := s || ',f' || FOUND;
  CLOSE c;
  OPEN c2(2); FETCH c2 INTO x; s := s || ',c2:' || x; CLOSE c2;
  OPEN rc FOR SELECT 42; FETCH rc INTO x; s := s || ',rc:' || x; CLOSE rc;
  OPEN rc FOR EXECUTE 'SELECT $1 * 2' USING 21; FETCH rc INTO x; s := s || ',dyn:' || x; CLOSE rc;
  FOR r IN c LOOP s := s || ';' || r.id; END LOOP;
  FOR r IN c2(1) LOOP s := s || ';c2=' || r.id; END LOOP;
  RETURN s;
END $$""",
    "SELECT rt_curs(2)",
    "DROP FUNCTION rt_curs(integer)",
    "DO $$ DECLARE c CURSOR FOR SELECT 1; BEGIN OPEN c; OPEN c; END $$",
    "DO $$ DECLARE c refcursor; BEGIN CLOSE c; END $$",
    "DO $$ DECLARE c CURSOR FOR SELECT 1; x int; BEGIN FETCH c INTO x; END $$",
    "CREATE FUNCTION rt_dep(n integer) RETURNS integer LANGUAGE sql AS "
    "$$ SELECT CASE WHEN n <= 0 THEN 0 ELSE 1 + rt_dep(n - 1) END $$",
    "SELECT rt_dep(50)",
    "DROP FUNCTION rt_dep(integer)",
]


def test_triggers_on_partitions_and_upserts_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, PARTITIONS_AND_UPSERTS, cleanup=PARTITIONS_CLEANUP,
                           details=True)


APP_CLEANUP = ["RESET ROLE", "DROP TABLE IF EXISTS rt_posts, rt_users CASCADE",
               "DROP FUNCTION IF EXISTS rt_norm(text), rt_valid(text), rt_next_code(), rt_count_posts(), "
               "rt_app_user() CASCADE", "DROP OWNED BY rt_app", "DROP ROLE IF EXISTS rt_app"]
APP = [
    # functions where a table's definition calls them: CHECK, DEFAULT, a unique expression index,
    # a view, a row security policy; a counter-cache trigger beside a cascading foreign key
    "CREATE FUNCTION rt_norm(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT lower(trim(t)) $$",
    "CREATE FUNCTION rt_valid(t text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT t LIKE '%@%' $$",
    "CREATE TABLE rt_users (id serial PRIMARY KEY, email text NOT NULL CHECK (rt_valid(email)), code text, "
    "posts int DEFAULT 0)",
    "CREATE FUNCTION rt_next_code() RETURNS text LANGUAGE plpgsql AS "
    "$$ BEGIN RETURN 'C' || lpad((SELECT count(*) + 1 FROM rt_users)::text, 4, '0'); END $$",
    "ALTER TABLE rt_users ALTER COLUMN code SET DEFAULT rt_next_code()",
    "CREATE UNIQUE INDEX rt_users_email_norm ON rt_users (rt_norm(email))",
    "INSERT INTO rt_users (email) VALUES ('A@x.com')",
    "INSERT INTO rt_users (email) VALUES (' a@X.com ')",
    "INSERT INTO rt_users (email) VALUES ('bad')",
    "INSERT INTO rt_users (email) VALUES ('b@y.com')",
    "SELECT id, email, code FROM rt_users ORDER BY id",
    "SELECT id FROM rt_users WHERE rt_norm(email) = 'b@y.com'",
    "CREATE TABLE rt_posts (id serial PRIMARY KEY, user_id int REFERENCES rt_users(id) ON DELETE CASCADE, title text)",
    """CREATE FUNCTION rt_count_posts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE rt_users SET posts = posts + 1 WHERE id = NEW.user_id;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE rt_users SET posts = posts - 1 WHERE id = OLD.user_id;
  END IF;
  RETURN NULL;
END $$""",
    "CREATE TRIGGER rt_posts_count AFTER INSERT OR DELETE ON rt_posts FOR EACH ROW EXECUTE FUNCTION rt_count_posts()",
    "INSERT INTO rt_posts (user_id, title) SELECT id, 'p' || id FROM rt_users",
    "INSERT INTO rt_posts (user_id, title) SELECT min(id), 'extra' FROM rt_users",
    "DELETE FROM rt_posts WHERE title = 'extra'",
    "SELECT email, posts FROM rt_users ORDER BY email",
    "DELETE FROM rt_users WHERE email = 'b@y.com'",
    "SELECT count(*) FROM rt_posts",
    "CREATE ROLE rt_app",
    "GRANT SELECT, UPDATE ON rt_users TO rt_app",
    "CREATE FUNCTION rt_app_user() RETURNS text LANGUAGE sql STABLE AS "
    "$$ SELECT nullif(current_setting('app.email', true), '') $$",
    "ALTER TABLE rt_users ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY rt_own ON rt_users USING (email = rt_app_user())",
    "SET ROLE rt_app",
    "SELECT email FROM rt_users",
    "SET app.email = 'A@x.com'",
    "SELECT email FROM rt_users",
    "UPDATE rt_users SET posts = 100 RETURNING email, posts",
    "RESET ROLE",
]


def test_functions_in_table_definitions_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, APP, setup=[], cleanup=APP_CLEANUP, details=True)


def test_functions_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, FUNCTIONS, setup=SETUP, cleanup=CLEANUP, details=True)


def test_triggers_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, TRIGGERS, setup=SETUP, cleanup=CLEANUP, details=True)


def test_exception_block_inside_a_transaction_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    """An exception block's savepoint inside the client's transaction: the caught error undoes
    only the block's writes; an uncaught one fails the transaction."""
    def transcript(dsn: str) -> list[object]:
        run_each(dsn, CLEANUP)
        run_each(dsn, SETUP)
        out: list[object] = []
        try:
            with psycopg.connect(dsn) as conn:
                conn.execute("INSERT INTO rt_log (msg) VALUES ('before')")
                conn.execute("""DO $$ BEGIN
                  INSERT INTO rt_log (msg) VALUES ('in block');
                  PERFORM 1 / 0;
                EXCEPTION WHEN division_by_zero THEN
                  INSERT INTO rt_log (msg) VALUES ('handler');
                END $$""")
                conn.execute("INSERT INTO rt_log (msg) VALUES ('after')")
                out.append(conn.execute("SELECT msg FROM rt_log ORDER BY id").fetchall())
                try:
                    conn.execute("DO $$ BEGIN INSERT INTO rt_log (msg) VALUES ('lost'); PERFORM 1 / 0; END $$")
                except psycopg.Error as exc:
                    out.append(exc.sqlstate)
                conn.rollback()
                out.append(conn.execute("SELECT count(*) FROM rt_log").fetchall())
        finally:
            run_each(dsn, CLEANUP)
        return out

    expected = transcript(pg_oracle.dsn)
    assert transcript(instance.dsn) == expected


def test_copy_fires_triggers_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    """COPY FROM goes through the INSERT triggers: BEFORE ROW changes each row, AFTER STATEMENT
    runs once."""
    def transcript(dsn: str) -> list[object]:
        run_each(dsn, CLEANUP)
        run_each(dsn, [*SETUP, "CREATE TABLE rt_counts (n int)", "INSERT INTO rt_counts VALUES (0)",
                       "CREATE FUNCTION rt_touch() RETURNS trigger LANGUAGE plpgsql AS "
                       "$$ BEGIN NEW.note := 'copied ' || NEW.name; RETURN NEW; END $$",
                       "CREATE FUNCTION rt_count() RETURNS trigger LANGUAGE plpgsql AS "
                       "$$ BEGIN UPDATE rt_counts SET n = n + 1; RETURN NULL; END $$",
                       "CREATE TRIGGER rt_t BEFORE INSERT ON rt_items FOR EACH ROW EXECUTE FUNCTION rt_touch()",
                       "CREATE TRIGGER rt_s AFTER INSERT ON rt_items FOR EACH STATEMENT EXECUTE FUNCTION rt_count()"])
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                with conn.cursor().copy("COPY rt_items (id, name, qty) FROM STDIN") as copy:
                    for row in ((10, "x", 1), (11, "y", 2)):
                        copy.write_row(row)
                return [conn.execute("SELECT id, name, note FROM rt_items WHERE id >= 10 ORDER BY id").fetchall(),
                        conn.execute("SELECT n FROM rt_counts").fetchall()]
        finally:
            run_each(dsn, CLEANUP)

    expected = transcript(pg_oracle.dsn)
    assert transcript(instance.dsn) == expected


def test_do_and_call_in_a_read_only_transaction_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    """DO and CALL run in a read-only transaction; what they write is refused statement by statement."""
    def transcript(dsn: str) -> list[object]:
        run_each(dsn, CLEANUP)
        run_each(dsn, [*SETUP, "CREATE PROCEDURE rt_bump(n integer) LANGUAGE plpgsql AS "
                               "$$ BEGIN UPDATE rt_items SET qty = qty + n; END $$"])
        out: list[object] = []
        try:
            with psycopg.connect(dsn) as conn:
                conn.add_notice_handler(lambda d: out.append(d.message_primary))
                conn.execute("BEGIN READ ONLY")
                conn.execute("DO $$ BEGIN RAISE NOTICE 'rows %', (SELECT count(*) FROM rt_items); END $$")
                for step in ("CALL rt_bump(1)", "DO $$ BEGIN CREATE TEMP TABLE rt_x (a int); END $$"):
                    try:
                        conn.execute(step)
                    except psycopg.Error as exc:
                        out.append((exc.sqlstate, str(exc).splitlines()[0]))
                    conn.rollback()
                    conn.execute("BEGIN READ ONLY")
                conn.rollback()
        finally:
            run_each(dsn, CLEANUP)
        return out

    expected = transcript(pg_oracle.dsn)
    assert transcript(instance.dsn) == expected


TXN_CLEANUP = ["DROP TABLE IF EXISTS rt_tc, rt_tc_parent, rt_tc_child, rt_tc_trig CASCADE",
               "DROP PROCEDURE IF EXISTS rt_batch(integer), rt_tc_sub(), rt_tc_outer(), rt_tc_fail(), rt_tc_chain(), "
               "rt_tc_definer(), rt_tc_set(), rt_tc_sql(), rt_tc_dyn(), rt_tc_fk(), rt_tc_inner()",
               "DROP FUNCTION IF EXISTS rt_tc_f(), rt_tc_tf() CASCADE"]
TXN_SETUP = [
    "CREATE TABLE rt_tc (a int)",
    "CREATE PROCEDURE rt_batch(n int) LANGUAGE plpgsql AS $$ BEGIN FOR i IN 1..n LOOP INSERT INTO rt_tc VALUES (i); "
    "IF i % 2 = 0 THEN COMMIT; ELSE ROLLBACK; END IF; END LOOP; END $$",
]
# COMMIT / ROLLBACK inside procedures and DO blocks (PostgreSQL's non-atomic CALL)
TRANSACTION_CONTROL = [
    "CALL rt_batch(6)",
    "SELECT * FROM rt_tc ORDER BY a",
    "BEGIN",
    "CALL rt_batch(2)",
    "ROLLBACK",
    "CREATE FUNCTION rt_tc_f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN COMMIT; RETURN 1; END $$",
    "SELECT rt_tc_f()",
    "CREATE PROCEDURE rt_tc_sub() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO rt_tc VALUES (100); COMMIT; "
    "EXCEPTION WHEN others THEN RAISE NOTICE 'caught %', SQLERRM; END $$",
    "CALL rt_tc_sub()",
    "CREATE PROCEDURE rt_tc_outer() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO rt_tc VALUES (200); CALL rt_batch(2); "
    "INSERT INTO rt_tc VALUES (201); ROLLBACK; END $$",
    "CALL rt_tc_outer()",
    "SELECT * FROM rt_tc ORDER BY a",
    "DO $$ BEGIN INSERT INTO rt_tc VALUES (300); COMMIT; INSERT INTO rt_tc VALUES (301); ROLLBACK; END $$",
    "CREATE PROCEDURE rt_tc_fail() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO rt_tc VALUES (400); COMMIT; "
    "INSERT INTO rt_tc VALUES (401); RAISE EXCEPTION 'boom'; END $$",
    "CALL rt_tc_fail()",
    "SELECT * FROM rt_tc WHERE a >= 300 ORDER BY a",
    "CREATE PROCEDURE rt_tc_chain() LANGUAGE plpgsql AS $$ BEGIN COMMIT AND CHAIN; "
    "RAISE NOTICE '%', current_setting('transaction_isolation'); END $$",
    "CALL rt_tc_chain()",
    "CREATE PROCEDURE rt_tc_definer() LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN COMMIT; END $$",
    "CALL rt_tc_definer()",
    "CREATE PROCEDURE rt_tc_set() LANGUAGE plpgsql SET work_mem = '10MB' AS $$ BEGIN COMMIT; END $$",
    "CALL rt_tc_set()",
    "CREATE PROCEDURE rt_tc_sql() LANGUAGE sql AS $$ INSERT INTO rt_tc VALUES (500); COMMIT; $$",
    "CALL rt_tc_sql()",
    "CREATE PROCEDURE rt_tc_dyn() LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'COMMIT'; END $$",
    "CALL rt_tc_dyn()",
    "CREATE TABLE rt_tc_parent (id int PRIMARY KEY)",
    "CREATE TABLE rt_tc_child (pid int REFERENCES rt_tc_parent DEFERRABLE INITIALLY DEFERRED)",
    "CREATE PROCEDURE rt_tc_fk() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO rt_tc_child VALUES (1); COMMIT; END $$",
    "CALL rt_tc_fk()",
    "SELECT count(*) FROM rt_tc_child",
    "CREATE PROCEDURE rt_tc_inner() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO rt_tc VALUES (600); COMMIT; END $$",
    "CREATE FUNCTION rt_tc_tf() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN CALL rt_tc_inner(); RETURN NEW; END $$",
    "CREATE TABLE rt_tc_trig (a int)",
    "CREATE TRIGGER rt_tc_tr BEFORE INSERT ON rt_tc_trig FOR EACH ROW EXECUTE FUNCTION rt_tc_tf()",
    "INSERT INTO rt_tc_trig VALUES (1)",
    "SELECT count(*) FROM rt_tc WHERE a = 600",
]


TRANSITION_CLEANUP = ["DROP TABLE IF EXISTS rt_acc, rt_acc_audit CASCADE",
                      "DROP FUNCTION IF EXISTS rt_aud(), rt_aud2(), rt_aud3(), rt_inner_reads() CASCADE"]
# REFERENCING OLD / NEW TABLE: the statement's rows as relations in its AFTER triggers
TRANSITIONS = [
    "CREATE TABLE rt_acc (id int PRIMARY KEY, drop_me int, bal numeric, owner text)",
    "ALTER TABLE rt_acc DROP COLUMN drop_me",
    "CREATE TABLE rt_acc_audit (id int, old_bal numeric, new_bal numeric)",
    "CREATE FUNCTION rt_aud() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO rt_acc_audit "
    "SELECT n.id, o.bal, n.bal FROM newtab n JOIN oldtab o USING (id) WHERE n.bal IS DISTINCT FROM o.bal; "
    "RAISE NOTICE 'rows: % %', (SELECT count(*) FROM newtab), (SELECT string_agg(owner, ',' ORDER BY id) FROM oldtab); "
    "RETURN NULL; END $$",
    "CREATE TRIGGER rt_acc_aud AFTER UPDATE ON rt_acc REFERENCING NEW TABLE AS newtab OLD TABLE AS oldtab "
    "FOR EACH STATEMENT EXECUTE FUNCTION rt_aud()",
    "INSERT INTO rt_acc VALUES (1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c')",
    "UPDATE rt_acc SET bal = bal * 2 WHERE id <> 2",
    "UPDATE rt_acc SET owner = upper(owner)",
    "UPDATE rt_acc SET bal = bal WHERE false",
    "SELECT * FROM rt_acc_audit ORDER BY id",
    "CREATE FUNCTION rt_inner_reads() RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT count(*) FROM newtab); "
    "END $$",
    "CREATE FUNCTION rt_aud2() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM rt_inner_reads(); RETURN NULL; END $$",
    "CREATE TRIGGER rt_acc_aud2 AFTER INSERT ON rt_acc REFERENCING NEW TABLE AS newtab FOR EACH STATEMENT "
    "EXECUTE FUNCTION rt_aud2()",
    "INSERT INTO rt_acc VALUES (4, 1, 'd')",
    "CREATE FUNCTION rt_aud3() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE '% deleted %', TG_LEVEL, "
    "(SELECT array_agg(id ORDER BY id) FROM gone); RETURN NULL; END $$",
    "CREATE TRIGGER rt_acc_aud3 AFTER DELETE ON rt_acc REFERENCING OLD TABLE AS gone FOR EACH ROW "
    "EXECUTE FUNCTION rt_aud3()",
    "DELETE FROM rt_acc WHERE id > 1",
    "SELECT tgname, tgoldtable, tgnewtable, pg_get_triggerdef(oid) FROM pg_trigger "
    "WHERE tgrelid = 'rt_acc'::regclass ORDER BY 1",
    "CREATE TRIGGER rt_bad BEFORE INSERT ON rt_acc REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION rt_aud()",
    "CREATE TRIGGER rt_bad AFTER INSERT ON rt_acc REFERENCING OLD TABLE AS o FOR EACH STATEMENT EXECUTE FUNCTION rt_aud()",
    "CREATE TRIGGER rt_bad AFTER DELETE ON rt_acc REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION rt_aud()",
    "CREATE TRIGGER rt_bad AFTER INSERT OR UPDATE ON rt_acc REFERENCING NEW TABLE AS n FOR EACH STATEMENT "
    "EXECUTE FUNCTION rt_aud()",
    "CREATE TRIGGER rt_bad AFTER UPDATE OF bal ON rt_acc REFERENCING NEW TABLE AS n FOR EACH STATEMENT "
    "EXECUTE FUNCTION rt_aud()",
    "CREATE TRIGGER rt_bad AFTER UPDATE ON rt_acc REFERENCING NEW TABLE AS n NEW TABLE AS m FOR EACH STATEMENT "
    "EXECUTE FUNCTION rt_aud()",
    "CREATE TRIGGER rt_bad AFTER UPDATE ON rt_acc REFERENCING NEW ROW AS n FOR EACH ROW EXECUTE FUNCTION rt_aud()",
    "CREATE TRIGGER rt_bad AFTER UPDATE ON rt_acc REFERENCING OLD TABLE AS n NEW TABLE AS n FOR EACH STATEMENT "
    "EXECUTE FUNCTION rt_aud()",
    "CREATE TRIGGER rt_bad AFTER TRUNCATE ON rt_acc REFERENCING OLD TABLE AS o EXECUTE FUNCTION rt_aud()",
    "SELECT count(*) FROM newtab",
]


CURSOR_CLEANUP = ["DROP TABLE IF EXISTS rt_ct CASCADE",
                  "DROP FUNCTION IF EXISTS rt_opencur(text), rt_twocur(), rt_rn1(), rt_rn2()"]
# a cursor a function opens is a portal of the session: the caller FETCHes from the refcursor
# it returns; RETURN NEXT of a variable; FOR over a %ROWTYPE variable
CURSORS = [
    "CREATE TABLE rt_ct (id int, v text)",
    "INSERT INTO rt_ct SELECT g, 'v' || g FROM generate_series(1, 5) g",
    "CREATE FUNCTION rt_opencur(name text) RETURNS refcursor LANGUAGE plpgsql AS $$ DECLARE ref refcursor := name; "
    "BEGIN OPEN ref FOR SELECT * FROM rt_ct ORDER BY id; RETURN ref; END $$",
    "BEGIN",
    "SELECT rt_opencur('rt_mycur')",
    "FETCH 2 FROM rt_mycur",
    "FETCH ALL IN rt_mycur",
    "FETCH PRIOR FROM rt_mycur",
    "CLOSE rt_mycur",
    "FETCH 1 FROM rt_mycur",
    "ROLLBACK",
    "BEGIN",
    "SELECT rt_opencur('rt_c2')",
    "SELECT rt_opencur('rt_c2')",
    "ROLLBACK",
    "SELECT rt_opencur('rt_c3')",
    "FETCH 1 FROM rt_c3",
    "CREATE FUNCTION rt_twocur() RETURNS SETOF refcursor LANGUAGE plpgsql AS $$ DECLARE a refcursor := 'rt_ca'; "
    "b refcursor := 'rt_cb'; BEGIN OPEN a FOR SELECT id FROM rt_ct WHERE id < 3; RETURN NEXT a; "
    "OPEN b FOR SELECT v FROM rt_ct WHERE id > 3; RETURN NEXT b; END $$",
    "BEGIN",
    "SELECT * FROM rt_twocur()",
    "FETCH ALL FROM rt_ca",
    "FETCH ALL FROM rt_cb",
    "COMMIT",
    "CREATE FUNCTION rt_rn1() RETURNS SETOF text LANGUAGE plpgsql AS $$ DECLARE a text := 'x'; \"B\" text := 'q'; "
    "BEGIN RETURN NEXT a; a := 'y'; RETURN NEXT a; IF true THEN RETURN NEXT \"B\"; END IF; RETURN NEXT a || '!'; END $$",
    "SELECT * FROM rt_rn1()",
    "CREATE FUNCTION rt_rn2() RETURNS SETOF rt_ct LANGUAGE plpgsql AS $$ DECLARE r rt_ct%ROWTYPE; s record; "
    "BEGIN FOR r IN SELECT * FROM rt_ct ORDER BY id LOOP RETURN NEXT r; END LOOP; "
    "FOR s IN SELECT 9 AS id, 'nine' AS v LOOP RETURN NEXT s; END LOOP; END $$",
    "SELECT * FROM rt_rn2()",
]


def test_cursors_and_return_next_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, CURSORS, cleanup=CURSOR_CLEANUP, details=True)


def test_transition_tables_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, TRANSITIONS, cleanup=TRANSITION_CLEANUP, details=True)


def test_transaction_control_in_procedures_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, TRANSACTION_CONTROL, setup=TXN_SETUP, cleanup=TXN_CLEANUP,
                           details=True)


OUT_CLEANUP = ["DROP PROCEDURE IF EXISTS rt_op1(integer), rt_op2(integer, integer), rt_op4(integer), "
               "rt_op5(integer, text), rt_op6(), rt_wrap(integer)",
               "DROP FUNCTION IF EXISTS rt_viaf(integer)"]
# procedures with OUT / INOUT parameters: CALL returns their row; PL/pgSQL's CALL assigns them
PROCEDURE_OUTS = [
    "CREATE PROCEDURE rt_op1(IN a int, OUT b int) LANGUAGE plpgsql AS $$ BEGIN b := a * 2; END $$",
    "CREATE PROCEDURE rt_op2(INOUT a int, OUT b text, c int DEFAULT 5) LANGUAGE plpgsql "
    "AS $$ BEGIN a := a + c; b := 'x' || a; END $$",
    "SELECT proname, pronargs, proargtypes::text, prorettype::regtype, proallargtypes, proargmodes, proargnames, "
    "pg_get_function_arguments(oid), pg_get_function_identity_arguments(oid), pg_get_function_result(oid) "
    "FROM pg_proc WHERE proname IN ('rt_op1', 'rt_op2') ORDER BY 1",
    "CALL rt_op1(3, NULL)",
    "CALL rt_op1(3)",
    "CALL rt_op2(1, NULL)",
    "CALL rt_op2(1, NULL, 10)",
    "CALL rt_op2(a => 1, b => NULL)",
    "CALL rt_op2('4', NULL)",
    "CREATE PROCEDURE rt_op4(INOUT a int) LANGUAGE sql AS $$ SELECT a + 1 $$",
    "CALL rt_op4(5)",
    "CREATE PROCEDURE rt_op5(INOUT a int, INOUT b text) LANGUAGE sql AS $$ SELECT a + 1, b || '!' $$",
    "CALL rt_op5(1, 'hi')",
    "CREATE PROCEDURE rt_op6(OUT a int) LANGUAGE plpgsql AS $$ BEGIN a := 1; RETURN; a := 2; END $$",
    "CALL rt_op6(NULL)",
    "CALL rt_op1(1.5, NULL)",
    "CALL rt_op1('x', NULL)",
    "SELECT rt_op1(1)",
    "DO $$ DECLARE x int := 1; y text; BEGIN CALL rt_op2(x, y); RAISE NOTICE '% %', x, y; CALL rt_op1(7, x); "
    "RAISE NOTICE '%', x; CALL rt_op2(a => x, b => y, c => 100); RAISE NOTICE '% %', x, y; END $$",
    "DO $$ DECLARE y text; BEGIN CALL rt_op2(1, y); END $$",
    "CREATE PROCEDURE rt_wrap(INOUT n int) LANGUAGE plpgsql AS $$ BEGIN CALL rt_op1(n, n); n := n + 1; END $$",
    "CALL rt_wrap(10)",
    "CREATE FUNCTION rt_viaf(k int) RETURNS int LANGUAGE plpgsql AS $$ DECLARE r int; BEGIN CALL rt_op1(k, r); "
    "RETURN r; END $$",
    "SELECT rt_viaf(21)",
    "DROP PROCEDURE rt_op1(int)",
]


def test_procedure_out_parameters_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, PROCEDURE_OUTS, cleanup=OUT_CLEANUP, details=True)


def test_call_with_bound_parameters_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    """CALL p($1, ...) through the extended protocol (asyncpg and psycopg send one): the
    parameters take the procedure's types, by position or by name, and an OUT row comes back."""
    import asyncio

    import asyncpg

    async def transcript(dsn: str) -> list[Any]:
        conn = await asyncpg.connect(dsn)
        out: list[Any] = []
        try:
            for step in ("DROP TABLE IF EXISTS rt_cp", "DROP PROCEDURE IF EXISTS rt_cpp(integer, text), "
                         "rt_cpo(integer, integer)", "CREATE TABLE rt_cp (a int, b text)",
                         "CREATE PROCEDURE rt_cpp(x int, y text DEFAULT 'd') LANGUAGE plpgsql "
                         "AS $$ BEGIN INSERT INTO rt_cp VALUES (x, y); END $$",
                         "CREATE PROCEDURE rt_cpo(x int, OUT y int) LANGUAGE plpgsql AS $$ BEGIN y := x + 1; END $$"):
                await conn.execute(step)
            for query, args in (("CALL rt_cpp($1)", (1,)), ("CALL rt_cpp($1, $2)", (2, "z")),
                                ("CALL rt_cpp(y => $1, x => $2)", ("n", 3)), ("CALL rt_cpp($1)", ("bad",))):
                try:
                    out.append(await conn.execute(query, *args))
                except (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.DataError) as exc:
                    out.append(type(exc).__name__)
            out.append([tuple(r) for r in await conn.fetch("CALL rt_cpo($1, NULL)", 41)])
            out.append([tuple(r) for r in await conn.fetch("SELECT * FROM rt_cp ORDER BY a")])
            for step in ("DROP TABLE rt_cp", "DROP PROCEDURE rt_cpp(integer, text), rt_cpo(integer, integer)"):
                await conn.execute(step)
        finally:
            await conn.close()
        return out

    assert asyncio.run(transcript(instance.url)) == asyncio.run(transcript(pg_oracle.url))


def test_a_procedures_commit_is_seen_while_it_runs(instance: InstanceProcess) -> None:
    """What a procedure COMMITs is durable and visible to other sessions before the CALL ends
    (the simple protocol here; the transcript above runs through the extended one), and a
    multi-statement query is a block: its CALL may not commit (2D000)."""
    import asyncio

    import asyncpg

    async def scenario() -> None:
        host, port = "127.0.0.1", instance.port
        a = await asyncpg.connect(host=host, port=port, user="postgres")
        b = await asyncpg.connect(host=host, port=port, user="postgres")
        try:
            for step in (*TXN_CLEANUP, "CREATE TABLE rt_tc (a int)"):
                await a.execute(step)
            await a.execute("CREATE PROCEDURE rt_tc_sub() LANGUAGE plpgsql AS $$ BEGIN "
                            "INSERT INTO rt_tc VALUES (1); COMMIT; INSERT INTO rt_tc VALUES (2); "
                            "PERFORM pg_sleep(1.5); END $$")
            task = asyncio.create_task(a.execute("CALL rt_tc_sub()"))
            await asyncio.sleep(0.6)
            assert await b.fetch("SELECT a FROM rt_tc ORDER BY a") == [(1,)]
            await asyncio.wait_for(task, 20)
            assert [r[0] for r in await b.fetch("SELECT a FROM rt_tc ORDER BY a")] == [1, 2]
            try:
                await a.execute("CALL rt_tc_sub(); SELECT 1")
                raise AssertionError("COMMIT ran inside a multi-statement query")
            except asyncpg.InvalidTransactionTerminationError as exc:
                assert "invalid transaction termination" in str(exc)
            assert [r[0] for r in await b.fetch("SELECT a FROM rt_tc ORDER BY a")] == [1, 2]
        finally:
            for step in TXN_CLEANUP:
                await a.execute(step)
            await a.close()
            await b.close()

    asyncio.run(scenario())


def test_an_endless_loop_holds_no_other_session_and_is_cancelled(instance: InstanceProcess) -> None:
    """An endless PL/pgSQL loop lets the server serve others, and ends on pg_cancel_backend or
    statement_timeout (57014), the session usable after."""
    import asyncio
    import time

    import asyncpg

    async def scenario() -> None:
        host, port = "127.0.0.1", instance.port
        a = await asyncpg.connect(host=host, port=port, user="postgres")
        b = await asyncpg.connect(host=host, port=port, user="postgres")
        try:
            pid = await a.fetchval("SELECT pg_backend_pid()")
            task = asyncio.create_task(a.execute("DO $$ BEGIN LOOP END LOOP; END $$"))
            await asyncio.sleep(0.3)
            started = time.monotonic()
            assert await asyncio.wait_for(b.fetchval("SELECT 1"), 10) == 1
            assert time.monotonic() - started < 5
            assert await b.fetchval("SELECT pg_cancel_backend($1)", pid) is True
            try:
                await asyncio.wait_for(task, 10)
                raise AssertionError("the loop ended by itself")
            except asyncpg.QueryCanceledError as exc:
                assert "user request" in str(exc)
            await a.execute("SET statement_timeout = 300")
            try:
                await a.execute("DO $$ DECLARE i int := 0; BEGIN WHILE true LOOP i := i + 1; END LOOP; END $$")
                raise AssertionError("the loop ended by itself")
            except asyncpg.QueryCanceledError as exc:
                assert "statement timeout" in str(exc)
            assert await a.fetchval("SELECT 2") == 2
        finally:
            await a.close()
            await b.close()

    asyncio.run(scenario())


def _psql(port: int, command: str) -> str:
    done = subprocess.run([os.path.join(pg_bindir(), "psql"), "-X", "-h", "127.0.0.1", "-p", str(port), "-U",
                           "postgres", "-d", "postgres", "-c", command], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


PSQL_SETUP = [
    *SETUP,
    "CREATE FUNCTION rt_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := 'x'; RETURN NEW; END $$",
    "CREATE FUNCTION rt_add_one(a integer) RETURNS integer LANGUAGE sql IMMUTABLE STRICT AS 'SELECT a + 1'",
    "CREATE PROCEDURE rt_bump(n integer) LANGUAGE plpgsql AS $$ BEGIN UPDATE rt_items SET qty = qty + n; END $$",
    "CREATE TRIGGER rt_items_touch BEFORE INSERT OR UPDATE OF qty, name ON rt_items FOR EACH ROW "
    "WHEN (NEW.qty > 0) EXECUTE FUNCTION rt_touch()",
    "CREATE TRIGGER rt_items_later AFTER DELETE ON rt_items FOR EACH STATEMENT EXECUTE FUNCTION rt_touch('a', 'b')",
]


# errors inside functions as psql shows them: CONTEXT lines per call, QUERY and its position for
# a statement that did not plan, `SQL statement "..."` for one that failed running
ERROR_REPORTS = (
    "DO $$ BEGIN PERFORM rt_nosuch(); END $$",
    "DO $$ DECLARE x int; BEGIN x := 1 / 0; END $$",
    "DO $$ DECLARE x int := 0; BEGIN PERFORM 1 / x; END $$",
    "DO $$ DECLARE r int; BEGIN SELECT nosuchcol INTO r FROM rt_items; END $$",
    "DO $$ BEGIN INSERT INTO rt_nosuch VALUES (1); END $$",
    "DO $$ BEGIN PERFORM rt_add_one(rt_add_one(1)); RAISE EXCEPTION 'stop %', 1 USING HINT = 'h'; END $$",
    "SELECT rt_add_one(1) FROM rt_items WHERE rt_add_one(id) / 0 > 1",
)


def test_psql_describes_functions_and_triggers_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    outputs = []
    for server in (pg_oracle, instance):
        run_each(server.dsn, CLEANUP)
        run_each(server.dsn, PSQL_SETUP)
        try:
            outputs.append([_psql(server.port, command)
                            for command in (r"\df rt_*", r"\d rt_items", r"\sf rt_add_one", r"\df+ rt_bump",
                                            *ERROR_REPORTS)])
        finally:
            run_each(server.dsn, CLEANUP)
    assert outputs[1] == outputs[0]


BLOCKS_CLEANUP = ["DROP TABLE IF EXISTS rt_bt CASCADE",
                  "DROP FUNCTION IF EXISTS rt_b1(integer), rt_b2(), rt_b3(), rt_b4(integer), rt_b5(), rt_b6(integer), "
                  "rt_b7(integer, text), rt_b8(integer), rt_b9()"]
# a nested block's DECLARE: its variables are initialized each time the block is entered, from
# defaults that see the variables in scope there (a loop's, an outer block's, shadowed ones), and
# are visible inside it only; <<label>>.variable, ALIAS FOR, an unassigned record reads as NULL
BLOCKS = [
    "CREATE TABLE rt_bt (id int PRIMARY KEY, v text)",
    "CREATE FUNCTION rt_b1(n int) RETURNS text LANGUAGE plpgsql AS $$\n"
    "DECLARE acc text := '';\nBEGIN\n  FOR i IN 1..n LOOP\n    DECLARE x int := 10; y int;\n    BEGIN\n"
    "      x := x + i; y := coalesce(y, 0) + 1; acc := acc || x || '/' || y || ' ';\n    END;\n  END LOOP;\n"
    "  RETURN acc;\nEND $$",
    "SELECT rt_b1(3)",
    "CREATE FUNCTION rt_b2() RETURNS text LANGUAGE plpgsql AS $$\n"
    "DECLARE a int := 1; r text := '';\nBEGIN\n  DECLARE a int := 2;\n  BEGIN\n    r := r || a;\n"
    "    DECLARE a int := a + 10;\n    BEGIN r := r || ',' || a; END;\n  END;\n  r := r || ',' || a;\n"
    "  FOR k IN 1..2 LOOP\n    DECLARE c int := k * 100; d int := c + 1;\n"
    "    BEGIN r := r || ',' || c || ':' || d; END;\n  END LOOP;\n  RETURN r;\nEND $$",
    "SELECT rt_b2()",
    "CREATE FUNCTION rt_b3() RETURNS text LANGUAGE plpgsql AS $$\n"
    "DECLARE s text := '';\nBEGIN\n  FOR i IN 1..2 LOOP\n    DECLARE r2 record; n int; arr int[];\n    BEGIN\n"
    "      IF r2 IS NULL THEN s := s || 'null;'; END IF;\n"
    "      SELECT i AS x INTO r2; n := r2.x; arr := arr || n; s := s || array_to_string(arr, '-') || ';';\n"
    "    END;\n  END LOOP;\n  RETURN s;\nEND $$",
    "SELECT rt_b3()",
    "CREATE FUNCTION rt_b4(p int) RETURNS int LANGUAGE plpgsql AS $$\n<<o>>\n"
    "DECLARE a int := 1; q ALIAS FOR $1; w ALIAS FOR a;\nBEGIN\n  DECLARE a int := 5;\n"
    "  BEGIN RETURN o.a * 100 + a * 10 + q + w + rt_b4.p; END;\nEND $$",
    "SELECT rt_b4(7)",
    "CREATE FUNCTION rt_b5() RETURNS trigger LANGUAGE plpgsql AS $$\nDECLARE n int := 0;\nBEGIN\n  <<lbl>>\n"
    "  DECLARE n int := 100; new_v text := upper(NEW.v);\n  BEGIN\n    NEW.v := new_v || lbl.n || n;\n  END;\n"
    "  RETURN NEW;\nEND $$",
    "CREATE TRIGGER rt_bt_b BEFORE INSERT ON rt_bt FOR EACH ROW EXECUTE FUNCTION rt_b5()",
    "INSERT INTO rt_bt VALUES (1, 'a'), (2, 'b')",
    "SELECT * FROM rt_bt ORDER BY id",
    "CREATE FUNCTION rt_b6(p int) RETURNS SETOF int LANGUAGE plpgsql AS $$\nDECLARE total int := 0;\nBEGIN\n"
    "  FOR i IN 1..p LOOP\n    DECLARE sq int := i * i; c CURSOR FOR SELECT g FROM generate_series(1, i) g;\n"
    "    BEGIN\n      FOR r IN c LOOP total := total + r.g; END LOOP;\n      RETURN NEXT sq + total;\n    END;\n"
    "  END LOOP;\n  WHILE total > 0 LOOP\n    DECLARE half int := total / 2;\n    BEGIN\n      total := half;\n"
    "      IF half < 3 THEN\n        DECLARE total int := -1;\n        BEGIN RETURN NEXT total; END;\n"
    "      END IF;\n    END;\n  END LOOP;\n  RETURN NEXT total;\nEND $$",
    "SELECT * FROM rt_b6(3)",
    "CREATE FUNCTION rt_b7(int, text) RETURNS text LANGUAGE plpgsql AS $$\n"
    "DECLARE n ALIAS FOR $1; t ALIAS FOR $2;\nBEGIN RETURN repeat(t, n); END $$",
    "SELECT rt_b7(3, 'ab')",
    "CREATE FUNCTION rt_b8(d int) RETURNS int LANGUAGE plpgsql AS $$\nDECLARE a int := d;\nBEGIN\n"
    "  IF d = 0 THEN RETURN 0; END IF;\n  DECLARE b int := a * 10;\n  BEGIN\n    RETURN b + rt_b8(d - 1);\n"
    "  END;\nEND $$",
    "SELECT rt_b8(3)",
    # a default that fails: caught by the enclosing block's handler, not the block's own
    "CREATE FUNCTION rt_b9() RETURNS text LANGUAGE plpgsql AS $$\nDECLARE s text := '';\nBEGIN\n"
    "  FOR i IN 1..3 LOOP\n    BEGIN\n      DECLARE x int := 10 / (i - 2); z int NOT NULL := CASE WHEN i = 3 THEN NULL END;"
    "\n      BEGIN s := s || x || ','; END;\n    EXCEPTION WHEN division_by_zero OR null_value_not_allowed THEN\n"
    "      DECLARE msg text := SQLERRM;\n      BEGIN s := s || msg || ','; END;\n    END;\n  END LOOP;\n"
    "  RETURN s;\nEND $$",
    "SELECT rt_b9()",
    "DO $$\nDECLARE a int := 1;\nBEGIN\n  a := a + 1;\n  DECLARE b int := a / (a - 2);\n  BEGIN RAISE NOTICE '%', b; END;\n"
    "END $$",
    "DO $$\nBEGIN\n  DECLARE b int NOT NULL := NULL;\n  BEGIN NULL; END;\nEND $$",
]


def test_nested_block_declarations_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, BLOCKS, cleanup=BLOCKS_CLEANUP, details=True)


ROWS_CLEANUP = ["DROP TABLE IF EXISTS rt_ra CASCADE",
                "DROP FUNCTION IF EXISTS rt_r1(integer), rt_r2(integer), rt_r3(), rt_r4(), rt_r5() CASCADE"]
# `table.column%TYPE` in a signature (a NOTICE says what it became), FOREACH ... SLICE,
# pg_trigger_depth(), (f(x)).* and field selection from rows
ROWS = [
    "CREATE TABLE rt_ra (id int PRIMARY KEY, name text NOT NULL, bal numeric(12,2), tags text[])",
    "INSERT INTO rt_ra VALUES (1, 'a', 10, '{x,y}'), (2, 'b', 20, '{y}'), (3, 'c', 30, NULL)",
    "CREATE FUNCTION rt_r1(p_id rt_ra.id%TYPE) RETURNS rt_ra.name%TYPE LANGUAGE plpgsql AS $$\n"
    "DECLARE v rt_ra.name%TYPE; r rt_ra%ROWTYPE;\nBEGIN\n  SELECT * INTO STRICT r FROM rt_ra WHERE id = p_id;\n"
    "  v := r.name || ':' || r.bal;\n  RETURN v;\nEXCEPTION WHEN no_data_found THEN RETURN 'none';\nEND $$",
    "SELECT rt_r1(1), rt_r1(99)",
    "SELECT pg_get_function_arguments('rt_r1'::regproc), pg_get_function_result('rt_r1'::regproc)",
    "CREATE FUNCTION rt_r2(n rt_ra.nosuch%TYPE) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",
    "CREATE FUNCTION rt_r2(n rt_nosuch.id%TYPE) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",
    "CREATE FUNCTION rt_r3() RETURNS text LANGUAGE plpgsql AS $$\n"
    "DECLARE x int[]; s text := '';\nBEGIN\n"
    "  FOREACH x SLICE 1 IN ARRAY ARRAY[[1,2],[3,4]] LOOP s := s || x::text || ';'; END LOOP;\n"
    "  FOREACH x SLICE 2 IN ARRAY ARRAY[[[1,2],[3,4]],[[5,6],[7,8]]] LOOP s := s || x::text || ';'; END LOOP;\n"
    "  FOREACH x SLICE 1 IN ARRAY ARRAY[1,2,3] LOOP s := s || x::text || ';'; END LOOP;\n"
    "  RETURN s;\nEND $$",
    "SELECT rt_r3()",
    "DO $$ DECLARE x int[]; BEGIN FOREACH x SLICE 2 IN ARRAY ARRAY[1,2,3] LOOP NULL; END LOOP; END $$",
    "DO $$ DECLARE x int; BEGIN FOREACH x SLICE 1 IN ARRAY ARRAY[[1,2]] LOOP NULL; END LOOP; END $$",
    "CREATE FUNCTION rt_r4() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
    "  IF NEW IS DISTINCT FROM OLD THEN\n"
    "    RAISE NOTICE '% % % depth=%', TG_OP, TG_TABLE_NAME, TG_ARGV[0], pg_trigger_depth();\n"
    "  END IF;\n  RETURN NEW;\nEND $$",
    "CREATE TRIGGER rt_ra_t BEFORE UPDATE ON rt_ra FOR EACH ROW EXECUTE FUNCTION rt_r4('arg0')",
    "UPDATE rt_ra SET bal = bal WHERE id = 1",
    "UPDATE rt_ra SET bal = bal + 5 WHERE id = 2",
    "SELECT pg_trigger_depth()",
    "CREATE FUNCTION rt_r2(n int, OUT d int, OUT e text) LANGUAGE sql AS $$ SELECT n * 2, 'e' || n $$",
    "CREATE FUNCTION rt_r5(OUT a int, OUT b text) RETURNS SETOF record LANGUAGE plpgsql AS $$\n"
    "BEGIN\n  FOR a, b IN SELECT id, name FROM rt_ra ORDER BY id LOOP RETURN NEXT; END LOOP;\nEND $$",
    "SELECT (rt_r2(3)).*",
    "SELECT id, (rt_r2(id)).* FROM rt_ra ORDER BY id",
    "SELECT (rt_r2(id)).e, (rt_r2(id)).d FROM rt_ra ORDER BY id",
    "SELECT (rt_r5()).*",
    "SELECT (rt_r5()).b",
    "SELECT (rt_ra).name FROM rt_ra ORDER BY id",
    "SELECT (ROW(1, 'x'::text)).f2, (ROW(1, 2)).f1 + 1",
    "SELECT (ROW(1, 'x')).nosuch",
    "SELECT (rt_r2(1)).nosuch",
]


def test_signature_types_slices_and_row_fields_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, ROWS, cleanup=ROWS_CLEANUP, details=True)


RECORDS_CLEANUP = ["DROP TABLE IF EXISTS rt_rc CASCADE",
                   "DROP FUNCTION IF EXISTS rt_rc1(), rt_rc2(integer), rt_rc3(integer), rt_rc4(integer), "
                   "rt_rc5(integer)"]
# RETURNS [SETOF] record without OUT parameters: a column definition list says the columns
# (and the rows must match it), a select list gets records
RECORD_RESULTS = [
    "CREATE TABLE rt_rc (id int, name text)",
    "INSERT INTO rt_rc VALUES (1, 'a'), (2, 'b')",
    "CREATE FUNCTION rt_rc1() RETURNS SETOF record LANGUAGE plpgsql AS $$\nDECLARE r record;\nBEGIN\n"
    "  FOR r IN SELECT id, name FROM rt_rc ORDER BY id LOOP RETURN NEXT r; END LOOP;\nEND $$",
    "SELECT * FROM rt_rc1() AS t(id int, name text)",
    "SELECT t.name FROM rt_rc1() t(id int, name text) WHERE id = 2",
    "SELECT * FROM rt_rc1()",
    "SELECT * FROM rt_rc1() AS t(id bigint, name text)",
    "SELECT * FROM rt_rc1() AS t(id int)",
    "CREATE FUNCTION rt_rc2(n int) RETURNS SETOF record LANGUAGE plpgsql AS $$\n"
    "BEGIN RETURN QUERY SELECT g, g * 2 FROM generate_series(1, n) g; END $$",
    "SELECT * FROM rt_rc2(3) AS (a int, b int)",
    "SELECT * FROM rt_rc2(3) AS (a int, b text)",
    "CREATE FUNCTION rt_rc3(n int) RETURNS SETOF record LANGUAGE sql AS "
    "$$ SELECT g, 'x' || g FROM generate_series(1, n) g $$",
    "SELECT * FROM rt_rc3(2) AS (a int, b text)",
    "SELECT * FROM rt_rc3(2) AS (a int, b int)",
    "SELECT * FROM rt_rc3(2) AS (a int)",
    "SELECT rt_rc3(2)",
    "CREATE FUNCTION rt_rc4(n int) RETURNS record LANGUAGE sql AS $$ SELECT n, 'y'::text $$",
    "SELECT * FROM rt_rc4(5) AS (a int, b text)",
    "SELECT rt_rc4(5)",
    "CREATE FUNCTION rt_rc5(n int) RETURNS record LANGUAGE plpgsql AS "
    "$$ DECLARE r record; BEGIN SELECT n AS a, 'z'::text AS b INTO r; RETURN r; END $$",
    "SELECT * FROM rt_rc5(5) AS (a int, b text)",
    "SELECT * FROM rt_rc5(5) AS (a int, b int)",
    "SELECT rt_rc5(5)",
    "SELECT pg_get_function_result('rt_rc1'::regproc), pg_get_function_result('rt_rc4'::regproc)",
    "SELECT * FROM rt_rc AS t(x int, y text)",
]


def test_functions_returning_record_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, RECORD_RESULTS, cleanup=RECORDS_CLEANUP, details=True)


IDIOMS_CLEANUP = ["DROP TABLE IF EXISTS rt_it, rt_aud CASCADE",
                  "DROP FUNCTION IF EXISTS rt_touch2(), rt_aud_fn(), rt_upsert(text, integer), rt_page(integer, integer), "
                  "rt_stats(), rt_gen(integer), rt_dync(regclass), rt_sdiv(numeric, numeric), rt_arrf(integer[]), "
                  "rt_strictf(integer), rt_getdiag()"]
# an application's usual functions and triggers: audit to jsonb, upserts, pagination with named
# arguments in FROM, OUT parameters, dynamic SQL, exception handling, GET STACKED DIAGNOSTICS
IDIOMS = [
    'CREATE TABLE rt_it (id serial PRIMARY KEY, sku text UNIQUE, qty int NOT NULL DEFAULT 0, price numeric(10,2), updated_at timestamptz)',
    'CREATE TABLE rt_aud (id bigserial PRIMARY KEY, tbl text, op text, old jsonb, new jsonb)',
    "CREATE OR REPLACE FUNCTION rt_touch2() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN NEW.updated_at := '2020-01-01 00:00:00+00'; RETURN NEW; END $$",
    "CREATE OR REPLACE FUNCTION rt_aud_fn() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  INSERT INTO rt_aud (tbl, op, old, new)\n  VALUES (TG_TABLE_NAME, TG_OP,\n          CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) - 'updated_at' END,\n          CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) - 'updated_at' END);\n  RETURN COALESCE(NEW, OLD);\nEND $$",
    'CREATE TRIGGER rt_it_t BEFORE INSERT OR UPDATE ON rt_it FOR EACH ROW EXECUTE FUNCTION rt_touch2()',
    'CREATE TRIGGER rt_it_a AFTER INSERT OR UPDATE OR DELETE ON rt_it FOR EACH ROW EXECUTE FUNCTION rt_aud_fn()',
    "INSERT INTO rt_it (sku, qty, price) VALUES ('A', 1, 9.99), ('B', 2, 19.5)",
    "UPDATE rt_it SET qty = qty + 1 WHERE sku = 'A'",
    "DELETE FROM rt_it WHERE sku = 'B'",
    'SELECT id, tbl, op, old, new FROM rt_aud ORDER BY id',
    'SELECT sku, qty, updated_at FROM rt_it',
    'CREATE FUNCTION rt_upsert(p_sku text, p_qty int) RETURNS int LANGUAGE plpgsql AS $$\nDECLARE v_id int;\nBEGIN\n  INSERT INTO rt_it (sku, qty) VALUES (p_sku, p_qty)\n  ON CONFLICT (sku) DO UPDATE SET qty = rt_it.qty + EXCLUDED.qty\n  RETURNING id INTO v_id;\n  RETURN v_id;\nEND $$',
    "SELECT rt_upsert('A', 5), rt_upsert('C', 1)",
    'SELECT sku, qty FROM rt_it ORDER BY sku',
    'CREATE FUNCTION rt_page(p_limit int DEFAULT 10, p_offset int DEFAULT 0)\nRETURNS TABLE (sku text, qty int, total bigint) LANGUAGE sql STABLE AS $$\n  SELECT i.sku, i.qty, count(*) OVER () FROM rt_it i ORDER BY i.sku LIMIT p_limit OFFSET p_offset\n$$',
    'SELECT * FROM rt_page(1)',
    'SELECT * FROM rt_page(p_offset => 1)',
    'CREATE FUNCTION rt_stats(OUT n int, OUT s numeric, OUT avg_qty numeric) LANGUAGE plpgsql AS $$\nBEGIN\n  SELECT count(*), sum(qty), round(avg(qty), 2) INTO n, s, avg_qty FROM rt_it;\nEND $$',
    'SELECT * FROM rt_stats()',
    'SELECT (rt_stats()).avg_qty',
    "CREATE FUNCTION rt_gen(n int) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$\nDECLARE result text := ''; i int := 0;\nBEGIN\n  WHILE i < n LOOP\n    result := result || chr(65 + (i * 7) % 26);\n    i := i + 1;\n    CONTINUE WHEN i % 2 = 0;\n    result := result || '-';\n  END LOOP;\n  RETURN result;\nEND $$",
    'SELECT rt_gen(5)',
    "CREATE FUNCTION rt_dync(tbl regclass) RETURNS bigint LANGUAGE plpgsql AS $$\nDECLARE n bigint;\nBEGIN EXECUTE 'SELECT count(*) FROM ' || tbl INTO n; RETURN n; END $$",
    "SELECT rt_dync('rt_it'), rt_dync('rt_aud'::regclass)",
    "DO $$\nDECLARE r record; total numeric := 0;\nBEGIN\n  FOR r IN EXECUTE 'SELECT sku, qty FROM rt_it WHERE qty > $1 ORDER BY sku' USING 0 LOOP\n    total := total + r.qty;\n    RAISE NOTICE 'sku=% qty=%', r.sku, r.qty;\n  END LOOP;\n  RAISE NOTICE 'total=%', total;\n  PERFORM pg_sleep(0);\n  IF NOT FOUND THEN RAISE NOTICE 'not found'; END IF;\nEND $$",
    "CREATE FUNCTION rt_sdiv(a numeric, b numeric) RETURNS numeric LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN a / b;\nEXCEPTION\n  WHEN division_by_zero THEN\n    RAISE WARNING 'div by zero: % / %', a, b;\n    RETURN NULL;\nEND $$",
    'SELECT rt_sdiv(1, 0), rt_sdiv(1, 3)',
    'CREATE FUNCTION rt_arrf(VARIADIC xs int[]) RETURNS int LANGUAGE sql AS $$ SELECT sum(x)::int FROM unnest(xs) x $$',
    'SELECT rt_arrf(1,2,3), rt_arrf(VARIADIC ARRAY[4,5])',
    'CREATE FUNCTION rt_strictf(a int) RETURNS int LANGUAGE sql STRICT AS $$ SELECT a + 1 $$',
    'SELECT rt_strictf(NULL), rt_strictf(1)',
    "CREATE FUNCTION rt_getdiag() RETURNS text LANGUAGE plpgsql AS $$\nDECLARE msg text; st text; det text;\nBEGIN\n  BEGIN\n    INSERT INTO rt_it (sku, qty) VALUES ('A', 1);\n  EXCEPTION WHEN OTHERS THEN\n    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, st = RETURNED_SQLSTATE, det = PG_EXCEPTION_DETAIL;\n    RETURN st || ': ' || msg || ' / ' || det;\n  END;\n  RETURN 'ok';\nEND $$",
    'SELECT rt_getdiag()',
]


def test_application_idioms_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, IDIOMS, cleanup=IDIOMS_CLEANUP, details=True)


AGG_CLEANUP = ["DROP TABLE IF EXISTS rt_agt",
               "DROP AGGREGATE IF EXISTS rt_first(anyelement), rt_last(anyelement), rt_my_sum(integer), "
               "rt_product(numeric)",
               "DROP FUNCTION IF EXISTS rt_first_agg(anyelement, anyelement), rt_last_agg(anyelement, anyelement), "
               "rt_prod_step(numeric, numeric), rt_prod_final(numeric)"]
# CREATE AGGREGATE: polymorphic first / last over a strict SQL function (the first value becomes
# the state), a built-in transition function with an initial condition, a PL/pgSQL one with a
# final function; ORDER BY, FILTER and DISTINCT in the calls; errors; DROP AGGREGATE
AGGREGATES = [
    'CREATE FUNCTION rt_first_agg(anyelement, anyelement) RETURNS anyelement LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT $1 $$',
    'CREATE AGGREGATE rt_first(anyelement) (SFUNC = rt_first_agg, STYPE = anyelement)',
    'CREATE FUNCTION rt_last_agg(anyelement, anyelement) RETURNS anyelement LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT $2 $$',
    'CREATE AGGREGATE rt_last(anyelement) (SFUNC = rt_last_agg, STYPE = anyelement)',
    'CREATE TABLE rt_agt (g int, v text, n int)',
    "INSERT INTO rt_agt VALUES (1, 'a', 1), (1, 'b', 2), (2, NULL, 3), (2, 'c', 4), (3, NULL, NULL)",
    'SELECT g, rt_first(v ORDER BY n), rt_last(v ORDER BY n), rt_first(n), rt_last(n) FROM rt_agt GROUP BY g ORDER BY g',
    "CREATE AGGREGATE rt_my_sum(int) (SFUNC = int4pl, STYPE = int, INITCOND = '0')",
    'SELECT rt_my_sum(n), rt_my_sum(n) FILTER (WHERE g = 1) FROM rt_agt',
    'CREATE FUNCTION rt_prod_step(numeric, numeric) RETURNS numeric LANGUAGE plpgsql AS $$ BEGIN RETURN coalesce($1, 1) * coalesce($2, 1); END $$',
    "CREATE FUNCTION rt_prod_final(numeric) RETURNS text LANGUAGE sql AS $$ SELECT 'rt_product=' || $1 $$",
    'CREATE AGGREGATE rt_product(numeric) (SFUNC = rt_prod_step, STYPE = numeric, FINALFUNC = rt_prod_final)',
    'SELECT g, rt_product(n) FROM rt_agt GROUP BY g ORDER BY g',
    'SELECT rt_product(x) FROM generate_series(1, 5) x',
    'SELECT rt_product(DISTINCT x % 3) FROM generate_series(1, 5) x',
    'CREATE AGGREGATE rt_bad(int) (SFUNC = nosuch, STYPE = int)',
    'CREATE AGGREGATE rt_bad2(int) (STYPE = int)',
    "CREATE AGGREGATE rt_bad3(int) (SFUNC = int4pl, STYPE = int, INITCOND = 'x')",
    'SELECT rt_first(1, 2)',
    "SELECT proname, prokind FROM pg_proc WHERE proname IN ('first', 'rt_my_sum', 'rt_product') ORDER BY 1",
    'DROP AGGREGATE rt_my_sum(int)',
    'SELECT rt_my_sum(n) FROM rt_agt',
    'DROP AGGREGATE IF EXISTS rt_my_sum(int)',
    'DROP FUNCTION rt_first(anyelement)',
    'DROP AGGREGATE rt_first(anyelement)',
]


AGGREGATES.insert(AGGREGATES.index("SELECT rt_product(x) FROM generate_series(1, 5) x"),
                  "SELECT g, n, rt_first(v) OVER (PARTITION BY g ORDER BY n), rt_my_sum(n) OVER (ORDER BY n), "
                  "rt_my_sum(n) OVER (ORDER BY n ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM rt_agt ORDER BY g, n")


def test_user_aggregates_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, AGGREGATES, cleanup=AGG_CLEANUP, details=True)


CT_CLEANUP = ["DROP TABLE IF EXISTS rt_cacct, rt_clog CASCADE", "DROP FUNCTION IF EXISTS rt_chk() CASCADE"]
# CREATE CONSTRAINT TRIGGER: DEFERRABLE INITIALLY DEFERRED ones fire at COMMIT (an error there
# rolls the transaction back), SET CONSTRAINTS name / ALL IMMEDIATE fires them at once, NOT
# DEFERRABLE ones fire as AFTER ROW triggers; pg_trigger, pg_constraint (contype 't'),
# pg_get_triggerdef, DROP TRIGGER
CONSTRAINT_TRIGGERS = [
    'CREATE TABLE rt_cacct (id int PRIMARY KEY, bal int)',
    'CREATE TABLE rt_clog (msg text)',
    'CREATE FUNCTION rt_chk() RETURNS trigger LANGUAGE plpgsql AS $$',
    'BEGIN',
    "  INSERT INTO rt_clog VALUES (TG_NAME || ' ' || TG_OP || ' ' || NEW.id || ' sum=' || (SELECT sum(bal) FROM rt_cacct))",
    "  IF (SELECT sum(bal) FROM rt_cacct) <> 0 THEN RAISE EXCEPTION 'unrt_balanced: %', (SELECT sum(bal) FROM rt_cacct); END IF",
    '  RETURN NULL',
    'END $$',
    'CREATE CONSTRAINT TRIGGER rt_balance AFTER INSERT OR UPDATE ON rt_cacct DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rt_chk()',
    'CREATE CONSTRAINT TRIGGER rt_immediate AFTER DELETE ON rt_cacct FOR EACH ROW EXECUTE FUNCTION rt_chk()',
    'BEGIN',
    'INSERT INTO rt_cacct VALUES (1, 10)',
    'INSERT INTO rt_cacct VALUES (2, -10)',
    'SELECT count(*) FROM rt_clog',
    'COMMIT',
    'SELECT * FROM rt_clog ORDER BY msg',
    'INSERT INTO rt_cacct VALUES (3, 5)',
    'SELECT * FROM rt_cacct ORDER BY id',
    'BEGIN',
    'UPDATE rt_cacct SET bal = bal + 1 WHERE id = 1',
    'SET CONSTRAINTS rt_balance IMMEDIATE',
    'ROLLBACK',
    'BEGIN',
    'SET CONSTRAINTS ALL IMMEDIATE',
    'UPDATE rt_cacct SET bal = 0 WHERE id = 1',
    'ROLLBACK',
    'SET CONSTRAINTS rt_immediate DEFERRED',
    'SELECT tgname, tgdeferrable, tginitdeferred, tgconstraint <> 0 FROM pg_trigger ORDER BY 1',
    "SELECT conname, contype, condeferrable, condeferred FROM pg_constraint WHERE contype = 't' ORDER BY 1",
    'SELECT pg_get_triggerdef(oid) FROM pg_trigger ORDER BY tgname',
    'DROP TRIGGER rt_balance ON rt_cacct',
    "SELECT count(*) FROM pg_constraint WHERE contype = 't'",
]


def test_constraint_triggers_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    assert_same_transcript(instance.dsn, pg_oracle.dsn, CONSTRAINT_TRIGGERS, cleanup=CT_CLEANUP, details=True)


PSQL_NEW_CLEANUP = ["DROP TABLE IF EXISTS rt_ps CASCADE", "DROP AGGREGATE IF EXISTS rt_psfirst(anyelement)",
                    "DROP FUNCTION IF EXISTS rt_psfirst_agg(anyelement, anyelement), rt_pschk() CASCADE"]
PSQL_NEW_SETUP = [
    "CREATE TABLE rt_ps (id int PRIMARY KEY, r int4range, during tstzrange) WITH (fillfactor = 70)",
    "CREATE FUNCTION rt_pschk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
    "CREATE CONSTRAINT TRIGGER rt_psct AFTER INSERT ON rt_ps DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
    "EXECUTE FUNCTION rt_pschk()",
    "CREATE FUNCTION rt_psfirst_agg(anyelement, anyelement) RETURNS anyelement LANGUAGE sql IMMUTABLE STRICT "
    "AS $$ SELECT $1 $$",
    "CREATE AGGREGATE rt_psfirst(anyelement) (SFUNC = rt_psfirst_agg, STYPE = anyelement)",
]


def test_psql_describes_new_objects_as_postgres(instance: InstanceProcess, pg_oracle: PgOracle) -> None:
    """psql's \\d of a table with range columns, storage parameters and a constraint trigger, \\da of
    a user aggregate, \\df of window functions."""
    outputs = []
    for server in (pg_oracle, instance):
        run_each(server.dsn, PSQL_NEW_CLEANUP)
        run_each(server.dsn, PSQL_NEW_SETUP)
        try:
            outputs.append([_psql(server.port, command) for command in (r"\d+ rt_ps", r"\da rt_*", r"\df lag",
                                                                        r"\df rt_psfirst*")])
        finally:
            run_each(server.dsn, PSQL_NEW_CLEANUP)
    assert outputs[1] == outputs[0]
