"""Pages, one module per concept."""
