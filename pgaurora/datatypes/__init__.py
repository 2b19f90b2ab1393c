"""pgaurora.datatypes — see DESIGN.md §4."""
