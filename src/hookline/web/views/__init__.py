"""The UI's views, one module per area."""
