"""pgaurora.server — see DESIGN.md §4."""
