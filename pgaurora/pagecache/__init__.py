"""pgaurora.pagecache — see DESIGN.md §4."""
