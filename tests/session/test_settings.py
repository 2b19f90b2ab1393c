"""Settings: PostgreSQL's values, display forms, errors and transactional behaviour of SET."""

from __future__ import annotations

import pytest

from pgaurora.errors import CantChangeRuntimeParam, InvalidParameterValue, UndefinedSetting
from pgaurora.session.settings import Settings


def test_defaults_and_reported_parameters() -> None:
    s = Settings({"application_name": "psql", "session_authorization": "postgres", "is_superuser": "on"})
    reported = dict(s.reported())
    assert reported["server_version"].startswith("15.")
    assert reported["DateStyle"] == "ISO, MDY"
    assert reported["TimeZone"] == "UTC"
    assert reported["integer_datetimes"] == "on"
    assert reported["standard_conforming_strings"] == "on"
    assert reported["application_name"] == "psql"
    assert reported["is_superuser"] == "on"
    assert reported["in_hot_standby"] == "off"
    assert list(s.changed_reports()) == []


@pytest.mark.parametrize(("name", "value", "shown"), [
    ("statement_timeout", "5000ms", "5s"),
    ("statement_timeout", "100", "100ms"),
    ("statement_timeout", "2min", "2min"),
    ("work_mem", "65536", "64MB"),
    ("work_mem", "1GB", "1GB"),
    ("DateStyle", "german", "German, DMY"),
    ("datestyle", "sql, dmy", "SQL, DMY"),
    ("TimeZone", "europe/berlin", "Europe/Berlin"),
    ("timezone", "utc", "UTC"),
    ("enable_seqscan", "of", "off"),
    ("enable_seqscan", "TRUE", "on"),
    ("client_encoding", "'utf-8'", "UTF8"),
    ("IntervalStyle", "ISO_8601", "iso_8601"),
    ("myapp.flag", "x y", "x y"),
])
def test_set_shows_postgres_display_form(name: str, value: str, shown: str) -> None:
    s = Settings()
    assert s.set(name, value) == shown
    assert s.get(name) == shown


def test_effective_cache_size_boot_value_is_shown_with_units() -> None:
    assert Settings().get("effective_cache_size") == "4GB"


@pytest.mark.parametrize(("name", "value", "error", "message"), [
    ("enable_seqscan", "maybe", InvalidParameterValue, 'parameter "enable_seqscan" requires a Boolean value'),
    ("statement_timeout", "abc", InvalidParameterValue, 'invalid value for parameter "statement_timeout": "abc"'),
    ("nosuch", "1", UndefinedSetting, 'unrecognized configuration parameter "nosuch"'),
    ("is_superuser", "on", CantChangeRuntimeParam, 'parameter "is_superuser" cannot be changed'),
    ("max_connections", "5", CantChangeRuntimeParam,
     'parameter "max_connections" cannot be changed without restarting the server'),
])
def test_set_errors(name: str, value: str, error: type, message: str) -> None:
    with pytest.raises(error) as info:
        Settings().set(name, value)
    assert info.value.message == message


def test_abort_undoes_set_and_set_local_ends_with_the_transaction() -> None:
    s = Settings()
    s.begin_transaction()
    s.set("work_mem", "1MB")
    s.set("statement_timeout", "1s", is_local=True)
    assert s.statement_timeout_ms == 1000
    s.end_transaction(committed=False)
    assert s.get("work_mem") == "4MB"
    assert s.statement_timeout_ms == 0
    s.begin_transaction()
    s.set("work_mem", "2MB")
    s.set("DateStyle", "German", is_local=True)
    s.end_transaction(committed=True)
    assert s.get("work_mem") == "2MB"
    assert s.get("DateStyle") == "ISO, MDY"


def test_savepoint_snapshot_restores_values() -> None:
    s = Settings()
    s.begin_transaction()
    s.set("work_mem", "1MB")
    snap = s.snapshot()
    s.set("work_mem", "3MB")
    s.restore(snap)
    assert s.get("work_mem") == "1MB"


def test_reported_changes_only_for_guc_report_parameters() -> None:
    s = Settings()
    s.reported()
    s.set("work_mem", "1MB")
    assert list(s.changed_reports()) == []
    s.set("TimeZone", "Asia/Tokyo")
    s.set("application_name", "app")
    assert dict(s.changed_reports()) == {"TimeZone": "Asia/Tokyo", "application_name": "app"}
    s.reset_all()
    assert dict(s.changed_reports()) == {"TimeZone": "UTC", "application_name": ""}


def test_show_all_is_sorted_and_complete() -> None:
    rows = Settings().show_all()
    names = [r[0] for r in rows]
    assert names == sorted(names, key=str.lower)
    assert "search_path" in names and "TimeZone" in names
    assert all(len(r) == 3 for r in rows)
