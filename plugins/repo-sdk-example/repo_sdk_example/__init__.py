"""A minimal repo-sdk plugin package."""
