"""Is a server there? One GET before any scoring, so a wrong URL is one line, not a run of Nones.

The judge's probe (:mod:`repo_sdk.run_checks`) and the remote RM's (when its source is built) use it.

Any HTTP answer counts as reachable (not every server serves the path asked for),
except 401 and 403, which say the key is wrong. No answer at all (refused, unknown
host, timed out) is the problem, in a few words.

Example:
    >>> probe_url("http://127.0.0.1:9/health", timeout_s=2)  # nothing listens on port 9
    'unreachable (Connection refused)'
"""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit

__all__ = ["probe_url"]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def probe_url(url: str, *, api_key: str | None = None, timeout_s: float = 10.0) -> str | None:
    """None when a server answers ``GET url``, else what is wrong, in a few words."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    handlers = [urllib.request.ProxyHandler({})] if urlsplit(url).hostname in _LOOPBACK else []
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=timeout_s):
            return None
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            return f"refuses the request (HTTP {exc.code}: check the key in api_key_env)"
        return None
    except urllib.error.URLError as exc:
        reason = exc.reason
        return f"unreachable ({getattr(reason, 'strerror', None) or reason})"
    except (OSError, ValueError) as exc:  # timeouts, resets, a malformed URL
        return f"unreachable ({getattr(exc, 'strerror', None) or exc or type(exc).__name__})"
