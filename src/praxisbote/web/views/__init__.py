"""Staff UI views, one module per area; thin, they call the domain services."""
