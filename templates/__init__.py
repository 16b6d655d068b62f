"""Judge prompt templates and `repo-sdk init` scaffolds, installed as repo_sdk.templates."""
