"""botocore sessions that share one parsed service model.

Creating a botocore session from scratch loads and parses the DynamoDB service model (~0.1 s). Every session
made here shares one data loader, whose cache holds the parsed model, so later clients cost a few
milliseconds. Each client still gets its own session, so credentials and region are resolved when the
client is created (as with a fresh boto3 session), never inherited from an earlier client. Creation is
serialised because botocore's loader cache is not meant for concurrent first use; clients are thread-safe.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_loader: Any = None


def new_session() -> Any:
    """A fresh botocore session wired to the process-wide data loader."""
    import botocore.session

    global _loader
    with _lock:
        session = botocore.session.Session()
        if _loader is None:
            _loader = session.get_component("data_loader")
        else:
            session.register_component("data_loader", _loader)
        return session


def create_dynamodb_client(region: str, endpoint_url: str | None) -> Any:
    from botocore.config import Config

    session = new_session()
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
                # every request is built by this library from validated records; DynamoDB validates
                # again on the server. Skipping botocore's client-side pass saves ~15-20% CPU per write.
                parameter_validation=False,
            ),
        )
