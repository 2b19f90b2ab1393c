"""Generates pgaurora/catalog/system/settings_table.py (pg_settings' static facts) from a real PostgreSQL 15.

    python tests/catalog_system/generate_settings.py "host=127.0.0.1 port=PORT user=postgres" \\
        > pgaurora/catalog/system/settings_table.py
"""

import sys

import psycopg

HEADER = '''"""PostgreSQL 15's configuration parameters as pg_settings describes them (generated from a real
PostgreSQL 15 by tests/catalog_system/generate_settings.py; do not edit by hand).

name (lower case) -> (name, category, short_desc, context, vartype, unit, min_val, max_val, enumvals, boot_val).
The values themselves come from the session's settings; these are the facts around them.
"""

SETTINGS: dict[str, tuple[str, str, str, str, str, str | None, str | None, str | None, tuple[str, ...] | None, str | None]] = {'''


def main() -> None:
    conn = psycopg.connect(sys.argv[1], autocommit=True)
    rows = conn.execute("SELECT name, category, short_desc, context, vartype, unit, min_val, max_val, enumvals, "
                        "boot_val FROM pg_settings ORDER BY name").fetchall()
    print(HEADER)
    for name, category, desc, context, vartype, unit, min_val, max_val, enumvals, boot in rows:
        enum = tuple(enumvals) if enumvals is not None else None
        print(f"    {name.lower()!r}: ({name!r}, {category!r}, {desc!r}, {context!r}, {vartype!r}, {unit!r}, "
              f"{min_val!r}, {max_val!r}, {enum!r}, {boot!r}),")
    print("}")


if __name__ == "__main__":
    main()
