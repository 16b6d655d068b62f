"""Project-specific SOP rules for repo-sdk."""
