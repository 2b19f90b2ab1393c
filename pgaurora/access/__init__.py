"""pgaurora.access — see DESIGN.md §4."""
