"""The HTTP reward server speaking OpenRLHF's protocol (FastAPI + uvicorn)."""

from __future__ import annotations

from repo_sdk_openrlhf.server.app import RewardRequest, ServerSettings, create_app
from repo_sdk_openrlhf.server.batcher import MicroBatcher
from repo_sdk_openrlhf.server.run import ServerThread, bind, serve

__all__ = ["MicroBatcher", "RewardRequest", "ServerSettings", "ServerThread", "bind", "create_app", "serve"]
