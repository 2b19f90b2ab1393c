"""pgaurora.planner — see DESIGN.md §4."""
