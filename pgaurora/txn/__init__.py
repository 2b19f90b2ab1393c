"""pgaurora.txn — see DESIGN.md §4."""
