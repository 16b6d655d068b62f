"""`repo-sdk schema`: the JSON Schema of reward specs, for editors."""

from __future__ import annotations

import json

from repo_sdk.cli.app import app, cli_errors
from repo_sdk.schema import spec_json_schema


@app.command()
@cli_errors
def schema() -> None:
    """Print the JSON Schema of the reward spec, with every registered source and combiner."""
    print(json.dumps(spec_json_schema(), indent=2))
