"""pgaurora.security — see DESIGN.md §4."""
