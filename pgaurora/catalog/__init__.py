"""pgaurora.catalog — see DESIGN.md §4."""
