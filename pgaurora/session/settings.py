"""Per-session configuration parameters: SET, SHOW, RESET, set_config() and current_setting().

Owns the values a session sees and their transactional behaviour, as PostgreSQL's guc.c:
    SET x = v          session value; undone if the transaction (or savepoint) aborts
    SET LOCAL x = v    lasts until the end of the transaction
    RESET x / RESET ALL back to the value the session started with
and which changes must be reported to the client with ParameterStatus (GUC_REPORT).
Not the definitions (session.guc_table), not the SET statement syntax (session.utility).

The executor's functions reach these values through `ExecContext.settings`:
`settings.get(name, missing_ok=False) -> str | None` and `settings.set(name, value, is_local) -> str`.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Iterable

from pgaurora.datatypes import FormatContext
from pgaurora.errors import (
    CantChangeRuntimeParam,
    InsufficientPrivilege,
    InvalidParameterValue,
    UndefinedSetting,
)
from pgaurora.session.guc_table import BY_NAME, DEFINITIONS, REPORTED, Context, GucDef, VarType

_TRUE = ("on", "true", "yes", "1")
_FALSE = ("off", "false", "no", "0")
# Set by BEGIN / SET TRANSACTION for one transaction; no cached value (_refresh_hot) reads them
TRANSACTION_CHARACTERISTICS = frozenset({"transaction_isolation", "transaction_read_only", "transaction_deferrable"})
_TIME_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "min": 60000.0, "h": 3600000.0, "d": 86400000.0}
_MEMORY_UNITS = {"B": 1 / 1024, "kB": 1.0, "MB": 1024.0, "GB": 1024.0**2, "TB": 1024.0**3}
_UNIT_BASE = {"ms": (_TIME_UNITS, 1.0), "s": (_TIME_UNITS, 1000.0), "kB": (_MEMORY_UNITS, 1.0),
              "8kB": (_MEMORY_UNITS, 8.0), "min": (_TIME_UNITS, 60000.0), "MB": (_MEMORY_UNITS, 1024.0),
              "B": (_MEMORY_UNITS, 1 / 1024)}
_DISPLAY_TIME = (("d", 86400000), ("h", 3600000), ("min", 60000), ("s", 1000), ("ms", 1))
_DISPLAY_MEMORY = (("TB", 1024**3), ("GB", 1024**2), ("MB", 1024), ("kB", 1))
_NUMBER_WITH_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]*)\s*$")
_UTF8_NAMES = {"utf8", "utf-8", "unicode"}

_timezone_names: dict[str, str] | None = None


def _invalid(name: str, value: str, hint: str | None = None, detail: str | None = None) -> InvalidParameterValue:
    return InvalidParameterValue(f'invalid value for parameter "{name}": "{value}"', hint=hint, detail=detail)


def _canonical_timezone(value: str) -> str | None:
    global _timezone_names
    stripped = value.strip()
    if stripped.upper() in ("UTC", "GMT", "Z", "ZULU", "UCT"):
        return "UTC" if stripped.upper() != "GMT" else "GMT"
    if re.fullmatch(r"[-+]?\d{1,2}", stripped):
        hours = int(stripped)
        if abs(hours) > 15:
            return None
        sign, inverse = ("+", "-") if hours >= 0 else ("-", "+")
        return f"<{sign}{abs(hours):02d}>{inverse}{abs(hours):02d}"
    try:
        zoneinfo.ZoneInfo(stripped)
        return stripped
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        pass
    if _timezone_names is None:
        _timezone_names = {n.lower(): n for n in zoneinfo.available_timezones()}
    return _timezone_names.get(stripped.lower())


def _datestyle(value: str, current: str) -> str:
    style, order = (p.strip() for p in current.split(","))
    new_style = new_order = None
    for token in (t.strip().lower() for t in value.split(",")):
        if token in ("iso", "postgres", "sql", "german"):
            if new_style is not None and new_style.lower() != token:
                raise _invalid("DateStyle", value, detail="Conflicting \"datestyle\" specifications.")
            new_style = {"iso": "ISO", "postgres": "Postgres", "sql": "SQL", "german": "German"}[token]
        elif token in ("dmy", "euro", "european", "mdy", "us", "noneuro", "noneuropean", "ymd"):
            new_order = "DMY" if token in ("dmy", "euro", "european") else "YMD" if token == "ymd" else "MDY"
        elif token == "default":
            new_style, new_order = "ISO", "MDY"
        else:
            raise _invalid("DateStyle", value, detail=f'Unrecognized key word: "{token}".')
    if new_style == "German" and new_order is None:
        new_order = "DMY"
    return f"{new_style or style}, {new_order or order}"


def _format_with_unit(number: int, unit: str) -> str:
    if number == 0 or not unit or number < 0:
        return str(number)
    table, factor = _UNIT_BASE[unit]
    base = int(number * factor)
    for name, size in _DISPLAY_TIME if table is _TIME_UNITS else _DISPLAY_MEMORY:
        if base % size == 0:
            return f"{base // size}{name}"
    return f"{number}{unit}"


def normalize(d: GucDef, value: str, current: str) -> str:
    """Checks `value` for parameter `d` and returns it in display form (as SHOW prints it)."""
    vt = d.vartype
    if vt is VarType.BOOL:
        low = value.strip().lower()
        if low and any(t.startswith(low) for t in _TRUE) and low not in ("o",):
            return "on"
        if low and any(f.startswith(low) for f in _FALSE) and low not in ("o",):
            return "off"
        raise InvalidParameterValue(f'parameter "{d.name}" requires a Boolean value')
    if vt is VarType.INTEGER:
        m = _NUMBER_WITH_UNIT.match(value)
        if m is None:
            raise _invalid(d.name, value)
        number, unit = float(m.group(1)), m.group(2)
        if unit:
            if not d.unit:
                raise _invalid(d.name, value)
            table, factor = _UNIT_BASE[d.unit]
            if unit not in table:
                units = ", ".join(f'"{u}"' for u in table)
                raise _invalid(d.name, value, hint=f"Valid units for this parameter are {units}.")
            number = number * table[unit] / factor
        result = int(round(number))
        if d.bounds is not None:
            lo, hi = int(d.bounds[0]), int(d.bounds[1])
            if not lo <= result <= hi:
                raise InvalidParameterValue(
                    f'{result} is outside the valid range for parameter "{d.name}" ({lo} .. {hi})')
            return _format_with_unit(result, d.unit)
        if not -2147483648 <= result <= 2147483647:
            raise InvalidParameterValue(
                f'{result} is outside the valid range for parameter "{d.name}" (0 .. 2147483647)')
        if result < 0 and (d.unit or d.name.endswith("timeout")):
            raise InvalidParameterValue(
                f'{result} is outside the valid range for parameter "{d.name}" (0 .. 2147483647)')
        return _format_with_unit(result, d.unit)
    if vt is VarType.REAL:
        try:
            number = float(value)
        except ValueError:
            raise _invalid(d.name, value) from None
        return f"{number:g}"
    if vt is VarType.ENUM:
        low = value.strip().lower()
        for choice in d.choices:
            if choice == low:
                return choice
        raise _invalid(d.name, value, hint="Available values: " + ", ".join(d.choices) + ".")
    return _normalize_string(d, value, current)


def _normalize_string(d: GucDef, value: str, current: str) -> str:
    name = d.name
    if name == "DateStyle":
        return _datestyle(value, current)
    if name == "TimeZone":
        canonical = _canonical_timezone(value)
        if canonical is None:
            raise _invalid(name, value)
        return canonical
    if name == "client_encoding":
        if value.strip().strip("'").lower() in _UTF8_NAMES:
            return "UTF8"
        if value.strip().upper() == "SQL_ASCII":
            return "SQL_ASCII"
        raise _invalid(name, value)
    if name == "application_name":
        cleaned = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in value)
        return cleaned[:63]
    return value


_BOOT_DEFAULTS: dict[str, str] = {}


# PostgreSQL 15's GUC_SUPERUSER_ONLY parameters: hidden from SHOW ALL and pg_settings, and SHOW /
# current_setting() refuse them, for roles that are no superuser nor member of pg_read_all_settings
SUPERUSER_ONLY = frozenset({
    "config_file", "data_directory", "dynamic_library_path", "extension_destdir", "external_pid_file", "hba_file",
    "ident_file", "jit_provider", "krb_server_keyfile", "log_directory", "log_filename", "primary_conninfo",
    "session_preload_libraries", "shared_preload_libraries", "ssl_ciphers", "ssl_dh_params_file", "ssl_ecdh_curve",
    "ssl_max_protocol_version", "ssl_min_protocol_version", "ssl_passphrase_command", "unix_socket_directories"})


def check_context(d: GucDef, superuser: bool, *, at_startup: bool = False) -> None:
    """Whether a client may set parameter `d` now (PostgreSQL's set_config_option checks of its
    context): by SET, or `at_startup` by a start-up packet's parameters and `-c` options (where
    the backend-context ones may be set too). 42501 for a superuser-only parameter, 55P02 for
    one fixed at server start, by its configuration, or after connection start."""
    ctx = d.context
    if ctx is Context.USER or (ctx is Context.BACKEND and at_startup):
        return
    if ctx is Context.SUPERUSER:
        if not superuser:
            raise InsufficientPrivilege(f'permission denied to set parameter "{d.name}"')
        return
    if ctx is Context.POSTMASTER:
        raise CantChangeRuntimeParam(f'parameter "{d.name}" cannot be changed without restarting the server')
    if ctx is Context.SIGHUP:
        raise CantChangeRuntimeParam(f'parameter "{d.name}" cannot be changed now')
    if ctx is Context.BACKEND:
        raise CantChangeRuntimeParam(f'parameter "{d.name}" cannot be set after connection start')
    raise CantChangeRuntimeParam(f'parameter "{d.name}" cannot be changed')


class Settings:
    """The configuration parameters of one session."""

    __slots__ = ("_defaults", "_session", "_local", "_tx_base", "_in_transaction", "_reported",
                 "_report_dirty", "superuser", "statement_timeout_ms", "idle_in_transaction_timeout_ms",
                 "idle_session_timeout_ms", "lock_timeout_ms", "_format_context", "default_isolation", "default_read_only",
                 "default_deferrable", "_search_path_cache", "path_key", "superuser_of",
                 "reads_all_settings_of")

    def __init__(self, overrides: dict[str, str] | None = None, *, superuser: bool = True) -> None:
        self.superuser = superuser
        # whether the current role is a superuser, asked at each check (a session sets it: SET
        # ROLE changes the answer, and a rollback changes it back); None: `superuser`
        self.superuser_of: Callable[[], bool] | None = None
        # whether the current role may read the superuser-only parameters (a superuser or a
        # member of pg_read_all_settings), asked likewise; None: `superuser_of`
        self.reads_all_settings_of: Callable[[], bool] | None = None
        self._search_path_cache: tuple[str, tuple[str, ...] | None] | None = None
        if not _BOOT_DEFAULTS:  # computed once: several hundred parameters
            _BOOT_DEFAULTS.update({
                d.name.lower(): normalize(d, d.boot, d.boot) if d.unit else d.boot for d in DEFINITIONS})
        self._defaults: dict[str, str] = dict(_BOOT_DEFAULTS)
        for name, value in (overrides or {}).items():
            key = name.lower()
            d = BY_NAME.get(key)
            self._defaults[key] = normalize(d, value, self._defaults[key]) if d else value
        self._session: dict[str, str] = dict(self._defaults)
        self._local: dict[str, str] = {}
        self._tx_base: tuple[dict[str, str], dict[str, str]] | None = None
        self._in_transaction = False
        self._reported: dict[str, str] = {}
        self._report_dirty = True
        self.statement_timeout_ms = 0
        self.idle_in_transaction_timeout_ms = 0
        self.lock_timeout_ms = 0
        self.default_isolation = "read committed"
        self.default_read_only = False
        self.default_deferrable = False
        self._format_context: FormatContext | None = None
        self._refresh_hot()

    # -- reading ----------------------------------------------------------------------------

    def get(self, name: str, missing_ok: bool = False) -> str | None:
        """The value as SHOW and current_setting() print it; 42704 for an unknown name."""
        key = name.lower()
        value = self._local.get(key)
        if value is None:
            value = self._session.get(key)
        if value is None:
            if key in TRANSACTION_CHARACTERISTICS:
                return self._session.get("default_" + key)
            if missing_ok:
                return None
            raise UndefinedSetting(f'unrecognized configuration parameter "{name}"')
        return value

    def search_path_schemas(self) -> tuple[str, ...] | None:
        """search_path as schema names for the planner; None while it is the default
        ("$user", public), which lets the plan cache serve the statement."""
        raw = self.get("search_path") or ""
        cached = self._search_path_cache
        if cached is not None and cached[0] == raw:
            return cached[1]
        from pgaurora.catalog.state import parse_search_path

        schemas = parse_search_path(raw)
        self._search_path_cache = (raw, schemas)
        return schemas

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        assert value is not None
        return value

    def canonical_name(self, name: str) -> str:
        d = BY_NAME.get(name.lower())
        return d.name if d else name.lower()

    def reads_all_settings(self) -> bool:
        if self.reads_all_settings_of is not None:
            return self.reads_all_settings_of()
        return self.superuser_of() if self.superuser_of is not None else self.superuser

    def check_examine(self, name: str) -> None:
        """SHOW and current_setting() of a superuser-only parameter (GUC_SUPERUSER_ONLY): 42501
        for a role that is no superuser nor member of pg_read_all_settings."""
        if name.lower() in SUPERUSER_ONLY and not self.reads_all_settings():
            raise InsufficientPrivilege(f'must be superuser or have privileges of pg_read_all_settings to examine '
                                        f'"{self.canonical_name(name)}"')

    def show_all(self) -> list[tuple[str, str, str]]:
        """Rows of SHOW ALL: (name, setting, description), sorted by name as PostgreSQL does
        (the superuser-only parameters only for who may read them)."""
        hide = not self.reads_all_settings()
        rows = [(d.name, self.get(d.name) or "", d.description) for d in DEFINITIONS
                if not d.hidden and not (hide and d.name.lower() in SUPERUSER_ONLY)]
        rows += [(k, v, "") for k, v in self._session.items() if "." in k]
        rows.sort(key=lambda r: r[0].lower())
        return rows

    # -- changing ---------------------------------------------------------------------------

    def set(self, name: str, value: str | None, is_local: bool = False) -> str:
        """SET name = value (None = DEFAULT); returns the new display value."""
        key = name.lower()
        d = BY_NAME.get(key)
        if d is None:
            if "." not in key or key.startswith(".") or key.endswith("."):
                raise UndefinedSetting(f'unrecognized configuration parameter "{name}"')
            new = "" if value is None else value
        else:
            check_context(d, self.superuser_of() if self.superuser_of is not None else self.superuser)
            if value is None:
                new = self._defaults[key]
            else:
                new = normalize(d, value, self.get(key) or d.boot)
        self._store(key, new, is_local, d)
        return new

    def set_internal(self, name: str, value: str, is_local: bool = False) -> None:
        """Sets a parameter no SET may change (role, session_authorization, is_superuser: the
        session checks those changes itself), transactionally as SET does."""
        key = name.lower()
        self._store(key, value, is_local, BY_NAME.get(key))

    def _store(self, key: str, value: str, is_local: bool, d: GucDef | None) -> None:
        self._remember_base()
        if is_local:
            self._local[key] = value
        else:
            self._session[key] = value
            self._local.pop(key, None)
        self._changed(d)

    def set_transaction_characteristic(self, key: str, value: str) -> None:
        """transaction_isolation/read_only/deferrable for the current transaction only."""
        self._local[key] = value

    def reset(self, name: str) -> None:
        self.set(name, None, is_local=False)

    def reset_all(self) -> None:
        """RESET ALL: every user-settable parameter back to its start-up value."""
        self._remember_base()
        for key, value in self._defaults.items():
            d = BY_NAME.get(key)
            if d is not None and d.context in (Context.USER, Context.SUPERUSER) and not d.hidden:
                self._session[key] = value
        for key in [k for k in self._session if "." in k]:
            del self._session[key]
        self._local.clear()
        self._changed(None)

    def _remember_base(self) -> None:
        if self._in_transaction and self._tx_base is None:
            self._tx_base = (dict(self._session), dict(self._local))

    def _changed(self, d: GucDef | None) -> None:
        if d is None or d.report:
            self._report_dirty = True
        self._refresh_hot()

    def format_context(self) -> FormatContext:
        """DateStyle, IntervalStyle, TimeZone, extra_float_digits and bytea_output for value I/O."""
        ctx = self._format_context
        if ctx is None:
            ctx = self._format_context = FormatContext(
                datestyle=self["DateStyle"], intervalstyle=self["IntervalStyle"], timezone=self["TimeZone"],
                extra_float_digits=int(self["extra_float_digits"]), bytea_output=self["bytea_output"])
        return ctx

    def _refresh_hot(self) -> None:
        self._format_context = None
        self.statement_timeout_ms = self._milliseconds("statement_timeout")
        self.idle_in_transaction_timeout_ms = self._milliseconds("idle_in_transaction_session_timeout")
        self.idle_session_timeout_ms = self._milliseconds("idle_session_timeout")
        self.lock_timeout_ms = self._milliseconds("lock_timeout")
        self.default_isolation = self.get("default_transaction_isolation") or "read committed"
        self.default_read_only = self.get("default_transaction_read_only") == "on"
        self.default_deferrable = self.get("default_transaction_deferrable") == "on"
        # what a prepared statement's unqualified names depend on besides the catalog
        self.path_key = (self.get("search_path"), self.get("role", missing_ok=True),
                         self.get("session_authorization", missing_ok=True))

    def _milliseconds(self, key: str) -> int:
        shown = self.get(key) or "0"
        m = _NUMBER_WITH_UNIT.match(shown)
        if m is None:
            return 0
        return int(float(m.group(1)) * _TIME_UNITS.get(m.group(2) or "ms", 1.0))

    # -- transactions -----------------------------------------------------------------------

    def begin_transaction(self) -> None:
        self._in_transaction = True
        self._tx_base = None

    def end_transaction(self, committed: bool) -> None:
        """Commit keeps session-level SETs; abort undoes them; SET LOCAL ends either way."""
        changed = False
        if not committed and self._tx_base is not None:
            self._session = self._tx_base[0]
            self._report_dirty = changed = True
        if self._local:
            if any(BY_NAME.get(k) is not None and BY_NAME[k].report for k in self._local):
                self._report_dirty = True
            # BEGIN's transaction characteristics (every block has them) feed no cached value
            if not self._local.keys() <= TRANSACTION_CHARACTERISTICS:
                changed = True
            self._local = {}
        self._tx_base = None
        self._in_transaction = False
        if changed:
            self._refresh_hot()

    def snapshot(self) -> tuple[dict[str, str], dict[str, str]]:
        """Values to return to at ROLLBACK TO SAVEPOINT."""
        return dict(self._session), dict(self._local)

    def restore(self, snapshot: tuple[dict[str, str], dict[str, str]]) -> None:
        self._session, self._local = dict(snapshot[0]), dict(snapshot[1])
        self._report_dirty = True
        self._refresh_hot()

    # -- ParameterStatus --------------------------------------------------------------------

    def reported(self) -> list[tuple[str, str]]:
        """Every GUC_REPORT parameter with its value (sent once after authentication)."""
        self._report_dirty = False
        out = [(name, self.get(name) or "") for name in REPORTED]
        self._reported = dict(out)
        return out

    def changed_reports(self) -> Iterable[tuple[str, str]]:
        """GUC_REPORT parameters whose value changed since the last report."""
        if not self._report_dirty:
            return ()
        self._report_dirty = False
        out = []
        for name in REPORTED:
            value = self.get(name) or ""
            if self._reported.get(name) != value:
                self._reported[name] = value
                out.append((name, value))
        return out
