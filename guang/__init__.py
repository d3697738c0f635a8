"""guang package."""
