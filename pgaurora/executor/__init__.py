"""pgaurora.executor — see DESIGN.md §4."""
