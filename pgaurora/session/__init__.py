"""pgaurora.session — see DESIGN.md §4."""
