"""The configuration parameters a session knows (PostgreSQL's guc_tables.c, abridged).

Owns the definitions: name, type, boot value, unit, context, description, and whether a change
is reported to the client with ParameterStatus (GUC_REPORT). Not the per-session values
(session.settings), not the parsing of SET statements (session.utility).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

SERVER_VERSION = "15.8 (pgaurora 0.1.0)"
SERVER_VERSION_NUM = "150008"


class VarType(enum.Enum):
    BOOL = "bool"
    INTEGER = "integer"
    REAL = "real"
    STRING = "string"
    ENUM = "enum"


class Context(enum.Enum):
    """Who may change a parameter and when (PostgreSQL's GucContext)."""

    INTERNAL = "internal"      # never changeable
    POSTMASTER = "postmaster"  # server start only
    SIGHUP = "sighup"          # configuration reload only
    SUPERUSER = "superuser"
    USER = "user"
    BACKEND = "backend"        # start-up packet only


@dataclass(frozen=True, slots=True)
class GucDef:
    name: str          # canonical spelling, as SHOW prints it
    vartype: VarType
    boot: str          # boot value in display form
    context: Context
    description: str
    unit: str = ""     # "ms", "s", "kB", "8kB" for integers with units
    report: bool = False
    choices: tuple[str, ...] = ()
    bounds: tuple[float, float] | None = None  # PostgreSQL's (min_val, max_val) for numbers, when known
    # GUC_NO_SHOW_ALL | GUC_NO_RESET_ALL: not in SHOW ALL or pg_settings, kept by RESET ALL
    # (role, session_authorization, is_superuser: set through session.Session.set_role)
    hidden: bool = False


_B, _I, _R, _S, _E = VarType.BOOL, VarType.INTEGER, VarType.REAL, VarType.STRING, VarType.ENUM
_U, _INT, _PM, _SU, _HUP = Context.USER, Context.INTERNAL, Context.POSTMASTER, Context.SUPERUSER, Context.SIGHUP

_LEVELS = ("debug5", "debug4", "debug3", "debug2", "debug1", "log", "notice", "warning", "error")
_ISOLATION = ("serializable", "repeatable read", "read committed", "read uncommitted")

DEFINITIONS: tuple[GucDef, ...] = (
    GucDef("application_name", _S, "", _U, "Sets the application name to be reported in statistics and logs.", report=True),
    GucDef("array_nulls", _B, "on", _U, "Enable input of NULL elements in arrays."),
    GucDef("backslash_quote", _E, "safe_encoding", _U, "Sets whether \"\\'\" is allowed in string literals.",
           choices=("safe_encoding", "on", "off")),
    GucDef("block_size", _I, "8192", _INT, "Shows the size of a disk block."),
    GucDef("bytea_output", _E, "hex", _U, "Sets the output format for bytea.", choices=("escape", "hex")),
    GucDef("check_function_bodies", _B, "on", _U, "Check routine bodies during CREATE FUNCTION and CREATE PROCEDURE."),
    GucDef("client_encoding", _S, "UTF8", _U, "Sets the client's character set encoding.", report=True),
    GucDef("client_min_messages", _E, "notice", _U, "Sets the message levels that are sent to the client.",
           choices=_LEVELS),
    GucDef("constraint_exclusion", _E, "partition", _U, "Enables the planner to use constraints to optimize queries.",
           choices=("partition", "on", "off")),
    GucDef("cpu_index_tuple_cost", _R, "0.005", _U,
           "Sets the planner's estimate of the cost of processing each index entry during an index scan."),
    GucDef("cpu_operator_cost", _R, "0.0025", _U,
           "Sets the planner's estimate of the cost of processing each operator or function call."),
    GucDef("cpu_tuple_cost", _R, "0.01", _U, "Sets the planner's estimate of the cost of processing each tuple (row)."),
    GucDef("cursor_tuple_fraction", _R, "0.1", _U,
           "Sets the planner's estimate of the fraction of a cursor's rows that will be retrieved."),
    GucDef("DateStyle", _S, "ISO, MDY", _U, "Sets the display format for date and time values.", report=True),
    GucDef("default_statistics_target", _I, "100", _U, "Sets the default statistics target."),
    GucDef("default_tablespace", _S, "", _U, "Sets the default tablespace to create tables and indexes in."),
    GucDef("default_text_search_config", _S, "pg_catalog.english", _U, "Sets default text search configuration."),
    GucDef("default_transaction_deferrable", _B, "off", _U, "Sets the default deferrable status of new transactions."),
    GucDef("default_transaction_isolation", _E, "read committed", _U,
           "Sets the transaction isolation level of each new transaction.", choices=_ISOLATION),
    GucDef("default_transaction_read_only", _B, "off", _U, "Sets the default read-only status of new transactions.",
           report=True),
    GucDef("effective_cache_size", _I, "524288", _U,
           "Sets the planner's assumption about the total size of the data caches.", unit="8kB"),
    GucDef("enable_bitmapscan", _B, "on", _U, "Enables the planner's use of bitmap-scan plans."),
    GucDef("enable_hashagg", _B, "on", _U, "Enables the planner's use of hashed aggregation plans."),
    GucDef("enable_hashjoin", _B, "on", _U, "Enables the planner's use of hash join plans."),
    GucDef("enable_indexonlyscan", _B, "on", _U, "Enables the planner's use of index-only-scan plans."),
    GucDef("enable_indexscan", _B, "on", _U, "Enables the planner's use of index-scan plans."),
    GucDef("enable_material", _B, "on", _U, "Enables the planner's use of materialization."),
    GucDef("enable_mergejoin", _B, "on", _U, "Enables the planner's use of merge join plans."),
    GucDef("enable_nestloop", _B, "on", _U, "Enables the planner's use of nested-loop join plans."),
    GucDef("enable_partition_pruning", _B, "on", _U, "Enables plan-time and execution-time partition pruning."),
    GucDef("enable_seqscan", _B, "on", _U, "Enables the planner's use of sequential-scan plans."),
    GucDef("enable_sort", _B, "on", _U, "Enables the planner's use of explicit sort steps."),
    GucDef("escape_string_warning", _B, "on", _U, "Warn about backslash escapes in ordinary string literals."),
    GucDef("extra_float_digits", _I, "1", _U, "Sets the number of digits displayed for floating-point values."),
    GucDef("from_collapse_limit", _I, "8", _U, "Sets the FROM-list size beyond which subqueries are not collapsed."),
    GucDef("geqo", _B, "on", _U, "Enables genetic query optimization."),
    GucDef("idle_in_transaction_session_timeout", _I, "0", _U,
           "Sets the maximum allowed idle time between queries, when in a transaction.", unit="ms"),
    GucDef("idle_session_timeout", _I, "0", _U,
           "Sets the maximum allowed idle time between queries, when not in a transaction.", unit="ms"),
    GucDef("in_hot_standby", _B, "off", _INT, "Shows whether hot standby is currently active.", report=True),
    GucDef("integer_datetimes", _B, "on", _INT, "Shows whether datetimes are integer based.", report=True),
    GucDef("IntervalStyle", _E, "postgres", _U, "Sets the display format for interval values.", report=True,
           choices=("postgres", "postgres_verbose", "sql_standard", "iso_8601")),
    GucDef("is_superuser", _B, "off", _INT, "Shows whether the current user is a superuser.", report=True,
           hidden=True),
    GucDef("jit", _B, "on", _U, "Allow JIT compilation."),
    GucDef("join_collapse_limit", _I, "8", _U,
           "Sets the FROM-list size beyond which JOIN constructs are not flattened."),
    GucDef("lc_collate", _S, "C", _INT, "Shows the collation order locale."),
    GucDef("lc_ctype", _S, "C", _INT, "Shows the character classification and case conversion locale."),
    GucDef("lc_messages", _S, "C", _SU, "Sets the language in which messages are displayed."),
    GucDef("lc_monetary", _S, "C", _U, "Sets the locale for formatting monetary amounts."),
    GucDef("lc_numeric", _S, "C", _U, "Sets the locale for formatting numbers."),
    GucDef("lc_time", _S, "C", _U, "Sets the locale for formatting date and time values."),
    GucDef("listen_addresses", _S, "127.0.0.1", _PM, "Sets the host name or IP address(es) to listen to."),
    GucDef("lock_timeout", _I, "0", _U, "Sets the maximum allowed duration of any wait for a lock.", unit="ms"),
    GucDef("log_min_messages", _E, "warning", _SU, "Sets the message levels that are logged.",
           choices=(*_LEVELS, "fatal", "panic")),
    GucDef("maintenance_work_mem", _I, "65536", _U,
           "Sets the maximum memory to be used for maintenance operations.", unit="kB"),
    GucDef("max_connections", _I, "100", _PM, "Sets the maximum number of concurrent connections."),
    GucDef("max_identifier_length", _I, "63", _INT, "Shows the maximum identifier length."),
    GucDef("password_encryption", _E, "scram-sha-256", _U, "Chooses the algorithm for encrypting passwords.",
           choices=("md5", "scram-sha-256")),
    GucDef("plan_cache_mode", _E, "auto", _U, "Controls the planner's selection of custom or generic plan.",
           choices=("auto", "force_generic_plan", "force_custom_plan")),
    GucDef("port", _I, "5432", _PM, "Sets the TCP port the server listens on."),
    GucDef("quote_all_identifiers", _B, "off", _U, "When generating SQL fragments, quote all identifiers."),
    GucDef("random_page_cost", _R, "4", _U,
           "Sets the planner's estimate of the cost of a nonsequentially fetched disk page."),
    GucDef("row_security", _B, "on", _U, "Enable row security."),
    GucDef("search_path", _S, '"$user", public', _U,
           "Sets the schema search order for names that are not schema-qualified."),
    GucDef("seq_page_cost", _R, "1", _U, "Sets the planner's estimate of the cost of a sequentially fetched disk page."),
    GucDef("server_encoding", _S, "UTF8", _INT, "Shows the server (database) character set encoding.", report=True),
    GucDef("server_version", _S, SERVER_VERSION, _INT, "Shows the server version.", report=True),
    GucDef("server_version_num", _I, SERVER_VERSION_NUM, _INT, "Shows the server version as an integer."),
    GucDef("role", _S, "none", _INT, "Sets the current role.", hidden=True),
    GucDef("session_authorization", _S, "", _INT, "Sets the session user name.", report=True, hidden=True),
    GucDef("session_replication_role", _E, "origin", _SU,
           "Sets the session's behavior for triggers and rewrite rules.", choices=("origin", "replica", "local")),
    GucDef("ssl", _B, "off", _HUP, "Enables SSL connections."),
    GucDef("ssl_cert_file", _S, "server.crt", _HUP, "Location of the SSL server certificate file."),
    GucDef("ssl_key_file", _S, "server.key", _HUP, "Location of the SSL server private key file."),
    GucDef("standard_conforming_strings", _B, "on", _U, "Causes '...' strings to treat backslashes literally.",
           report=True),
    GucDef("statement_timeout", _I, "0", _U, "Sets the maximum allowed duration of any statement.", unit="ms"),
    GucDef("synchronous_commit", _E, "on", _U, "Sets the current transaction's synchronization level.",
           choices=("local", "remote_write", "remote_apply", "on", "off")),
    GucDef("tcp_keepalives_idle", _I, "7200", _U, "Time between issuing TCP keepalives.", unit="s"),
    GucDef("temp_buffers", _I, "1024", _U, "Sets the maximum number of temporary buffers used by each session.",
           unit="8kB"),
    GucDef("temp_tablespaces", _S, "", _U,
           "Sets the tablespace(s) to use for temporary tables and sort files."),
    GucDef("TimeZone", _S, "UTC", _U, "Sets the time zone for displaying and interpreting time stamps.", report=True),
    GucDef("timezone_abbreviations", _S, "Default", _U, "Selects a file of time zone abbreviations."),
    GucDef("transaction_deferrable", _B, "off", _U,
           "Whether to defer a read-only serializable transaction until it can be executed with no possible "
           "serialization failures."),
    GucDef("transaction_isolation", _E, "read committed", _U, "Sets the current transaction's isolation level.",
           choices=_ISOLATION),
    GucDef("transaction_read_only", _B, "off", _U, "Sets the current transaction's read-only status."),
    GucDef("transform_null_equals", _B, "off", _U, "Treats \"expr=NULL\" as \"expr IS NULL\"."),
    GucDef("work_mem", _I, "4096", _U, "Sets the maximum memory to be used for query workspaces.", unit="kB"),
    GucDef("xmloption", _E, "content", _U,
           "Sets whether XML data in implicit parsing and serialization operations is to be considered as documents "
           "or content fragments.", choices=("content", "document")),
)

_CONTEXTS = {"user": _U, "superuser": _SU, "sighup": _HUP, "postmaster": _PM, "internal": _INT,
             "backend": Context.BACKEND, "superuser-backend": Context.BACKEND}
_VARTYPES = {"bool": _B, "integer": _I, "real": _R, "string": _S, "enum": _E}


def _postgresql_parameters(known: set[str]) -> tuple[GucDef, ...]:
    """Every other parameter PostgreSQL 15 has, with its real boot value, unit and context
    (clients such as pg_dump SET them: `SET synchronize_seqscans TO off`). pgaurora keeps their
    values per session and shows them; only the parameters defined above change its behaviour."""
    from pgaurora.catalog.system.settings_table import SETTINGS

    out = []
    for key, (name, _category, description, context, vartype, unit, _lo, _hi, choices, boot) in SETTINGS.items():
        if key in known:
            continue
        out.append(GucDef(name, _VARTYPES[vartype], boot or "", _CONTEXTS.get(context, _INT), description,
                          unit=unit or "", choices=choices or (),
                          bounds=(float(_lo), float(_hi)) if _lo is not None and _hi is not None else None))
    return tuple(out)


DEFINITIONS = DEFINITIONS + _postgresql_parameters({d.name.lower() for d in DEFINITIONS})
BY_NAME: dict[str, GucDef] = {d.name.lower(): d for d in DEFINITIONS}
REPORTED: tuple[str, ...] = tuple(sorted(d.name for d in DEFINITIONS if d.report))
