"""One botocore session per process.

Creating a botocore session loads and parses the DynamoDB service model (~0.1 s); sharing one session makes
every later client cheap. botocore sessions are not safe for concurrent client creation, so creation is
serialised; the clients themselves are thread-safe.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_session: Any = None


def shared_session() -> Any:
    global _session
    with _lock:
        if _session is None:
            import botocore.session

            _session = botocore.session.get_session()
        return _session


def create_dynamodb_client(region: str, endpoint_url: str | None) -> Any:
    from botocore.config import Config

    session = shared_session()
    with _lock:
        return session.create_client(
            "dynamodb",
            region_name=region,
            endpoint_url=endpoint_url,
            config=Config(
                retries={"mode": "standard", "max_attempts": 8},
                connect_timeout=5,
                read_timeout=20,
                max_pool_connections=32,
                tcp_keepalive=True,
            ),
        )
