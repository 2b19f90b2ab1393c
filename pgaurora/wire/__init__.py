"""pgaurora.wire — see DESIGN.md §4."""
