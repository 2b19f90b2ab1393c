"""pgaurora.catalog — table, index, sequence, view, role, schema and database definitions, and their privileges.

Files:
    model.py      the definition records (Table, Column, Constraint, Index, Sequence, View, Role, ...)
    state.py      CatalogState: an immutable, indexed view of all definitions at one version
    catalog.py    Catalog: definitions stored as rows of a heap in the volume (transactional DDL),
                  cached per version; oids from the control page; sequences; the roles API
    statistics.py what ANALYZE computes from a row sample (analyze.c) and the planner's decoded view
    roles.py      role membership: is_member / has_privileges_of over pg_auth_members (Role.member_of)
    rowsecurity.py  row security: whether a table's policies, and which, apply to a role
    acl.py        access control lists (relacl, attacl, nspacl, datacl, pg_default_acl): GRANT /
                  REVOKE arithmetic, defaults, and what a role holds on an object (aclmask)
    builtins/     built-in functions, operators, aggregates and their overload resolution
"""
