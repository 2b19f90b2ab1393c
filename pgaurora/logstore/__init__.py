"""pgaurora.logstore — see DESIGN.md §4."""
