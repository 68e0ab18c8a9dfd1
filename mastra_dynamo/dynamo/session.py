"""The store's DynamoDB client: the user's AWS configuration first, this library's defaults where it says nothing.

**Where settings come from.** A client is made from, in this order of precedence:

1. ``client=``: used as is (a boto3 or botocore DynamoDB client; a boto3 DynamoDB *resource* lends its client).
2. ``boto3_session=``: ``boto3_session.client("dynamodb", ...)``: its profile, credentials and region.
3. Otherwise a new botocore session, which reads the environment and the shared config files exactly as boto3
   does (``AWS_PROFILE``, ``AWS_DEFAULT_REGION``, the profile's ``region``, ``retry_mode``, ...).

The region is ``region=``, else ``AWS_REGION``, else whatever the session resolves (``AWS_DEFAULT_REGION``, the
profile); with none, :class:`~mastra_dynamo.errors.ConfigurationError` ``MISSING_REGION``.

**Client options** (:data:`DEFAULTS`): the library's defaults are merged *under* the user's: an option set in
``boto_config=`` wins, and the retry defaults apply only when neither ``boto_config`` nor the environment
(``AWS_RETRY_MODE``, ``AWS_MAX_ATTEMPTS``) nor the profile (``retry_mode``, ``max_attempts``) configures
retries. With an ``endpoint_url`` (DynamoDB Local, moto server), which never throttles, the default is 3
attempts, so a mistyped or stopped endpoint fails within seconds; an endpoint that is not an ``http(s)://host``
URL is refused at once (``INVALID_ENDPOINT``).

**Cost of creating clients.** Creating a botocore session from scratch loads and parses the DynamoDB service
model (~0.1 s). Every session made here shares one data loader, whose cache holds the parsed model, so later
clients cost a few milliseconds. Each client still gets its own session, so credentials and region are
resolved when the client is created, never inherited from an earlier client. Creation is serialised because
botocore's loader cache is not meant for concurrent first use; clients are thread-safe.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mastra_dynamo.dynamo import wire
from mastra_dynamo.errors import ConfigurationError

if TYPE_CHECKING:
    from botocore.config import Config

_lock = threading.Lock()
_loader: Any = None

DEFAULTS: dict[str, Any] = {
    "connect_timeout": 5,
    "read_timeout": 20,
    "max_pool_connections": 32,
    "tcp_keepalive": True,
    # every request is built by this library from validated records; DynamoDB validates again on the server.
    # Skipping botocore's client-side pass saves ~15-20% CPU per write.
    "parameter_validation": False,
}
"""Client options applied where the user's ``boto_config`` sets nothing (botocore ``Config`` names)."""
DEFAULT_RETRIES: dict[str, Any] = {"mode": "standard", "max_attempts": 8}
"""Retries when nothing configures them (AWS endpoint): standard mode, 8 retries (9 attempts in all)."""
LOCAL_ENDPOINT_RETRIES: dict[str, Any] = {"mode": "standard", "max_attempts": 3}
"""Retries when nothing configures them and ``endpoint_url`` is given (3 retries: a local endpoint never
throttles)."""
RETRY_ENVIRONMENT = ("AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS")
RETRY_PROFILE_KEYS = ("retry_mode", "max_attempts")


def new_session() -> Any:
    """A fresh botocore session wired to the process-wide data loader."""
    import botocore.session

    return share_loader(botocore.session.Session())


def share_loader(session: Any) -> Any:
    """Wire a new (botocore or aiobotocore) session to the process-wide data loader; returns the session."""
    global _loader
    with _lock:
        if _loader is None:
            _loader = session.get_component("data_loader")
        else:
            session.register_component("data_loader", _loader)
        return session


def check_endpoint(endpoint_url: str | None) -> None:
    """Refuse an endpoint that is not an ``http(s)://host[:port]`` URL (``localhost:8000``, ``127.0.0.1``)."""
    if endpoint_url is None:
        return
    parts = urlsplit(endpoint_url) if isinstance(endpoint_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"invalid endpoint URL {endpoint_url!r}: expected http(s)://host[:port], e.g. http://127.0.0.1:8000",
            code="INVALID_ENDPOINT", details={"endpoint_url": endpoint_url})
    try:
        _ = parts.port
    except ValueError:
        raise ConfigurationError(f"invalid endpoint URL {endpoint_url!r}: the port is not a number",
                                 code="INVALID_ENDPOINT", details={"endpoint_url": endpoint_url}) from None


def client_config(boto_config: Config | None, *, retries_configured: bool, local_endpoint: bool) -> Config:
    """The library's defaults with ``boto_config`` merged over them (the user's options win)."""
    from botocore.config import Config

    options = dict(DEFAULTS)
    if not retries_configured:
        options["retries"] = dict(LOCAL_ENDPOINT_RETRIES if local_endpoint else DEFAULT_RETRIES)
    defaults = Config(**options)
    if boto_config is None:
        return defaults
    if not isinstance(boto_config, Config):
        raise ConfigurationError(f"boto_config must be a botocore.config.Config, not {type(boto_config).__name__}",
                                 code="INVALID_BOTO_CONFIG")
    user_retries = getattr(boto_config, "_user_provided_options", {}).get("retries")
    merged: Config = defaults.merge(boto_config)
    if user_retries is None and retries_configured:
        merged.retries = None  # the environment or the profile decides (botocore reads them when None)
    return merged


def retries_configured(botocore_session: Any) -> bool:
    """Whether the environment or the session's profile configures retries."""
    if any(os.environ.get(name) for name in RETRY_ENVIRONMENT):
        return True
    try:
        scoped = botocore_session.get_scoped_config()
    except Exception as exc:  # unknown profile and the like: botocore says why
        raise ConfigurationError(f"AWS configuration: {exc}", code="INVALID_AWS_CONFIG") from exc
    return any(key in scoped for key in RETRY_PROFILE_KEYS)


def resolved_region(region: str | None, botocore_session: Any) -> str:
    region = region or os.environ.get("AWS_REGION") or botocore_session.get_config_variable("region")
    if not region:
        raise ConfigurationError(
            "DynamoDBStore: no region given or configured; pass region=..., set AWS_REGION or "
            "AWS_DEFAULT_REGION, or configure one in the AWS profile", code="MISSING_REGION")
    return str(region)


def create_dynamodb_client(*, region: str | None, endpoint_url: str | None, boto3_session: Any = None,
                           boto_config: Config | None = None) -> Any:
    """A DynamoDB client as described in the module docstring (not ``client=``: see :func:`supplied_client`)."""
    check_endpoint(endpoint_url)
    if boto3_session is not None:
        botocore_session = getattr(boto3_session, "_session", None)
        if botocore_session is None or not callable(getattr(boto3_session, "client", None)):
            raise ConfigurationError(
                f"boto3_session must be a boto3.session.Session, not {type(boto3_session).__name__}",
                code="INVALID_BOTO3_SESSION")
        config = client_config(boto_config, retries_configured=retries_configured(botocore_session),
                               local_endpoint=endpoint_url is not None)
        resolved = region or boto3_session.region_name or resolved_region(None, botocore_session)
        with _lock:
            return boto3_session.client("dynamodb", region_name=resolved, endpoint_url=endpoint_url, config=config)
    session = new_session()
    config = client_config(boto_config, retries_configured=retries_configured(session),
                           local_endpoint=endpoint_url is not None)
    resolved = resolved_region(region, session)
    with _lock:
        client = session.create_client("dynamodb", region_name=resolved, endpoint_url=endpoint_url, config=config)
    return wire.install(client)


def supplied_client(client: Any) -> Any:
    """The DynamoDB client of ``client=``: a boto3/botocore client, or the client of a boto3 DynamoDB resource."""
    if callable(getattr(client, "transact_write_items", None)):
        return client
    inner = getattr(getattr(client, "meta", None), "client", None)
    if callable(getattr(inner, "transact_write_items", None)):
        return inner  # a boto3 DynamoDB resource: use its low-level client
    raise ConfigurationError(
        f"client must be a boto3/botocore DynamoDB client (boto3.client('dynamodb')), not {type(client).__name__}",
        code="INVALID_CLIENT")


def client_region(client: Any) -> str | None:
    """The region a client sends to."""
    region = getattr(getattr(client, "meta", None), "region_name", None)
    return region if isinstance(region, str) else None


def custom_endpoint(client: Any) -> str | None:
    """The endpoint of a supplied client when it is not an AWS one (DynamoDB Local, moto server), else None."""
    url = getattr(getattr(client, "meta", None), "endpoint_url", None)
    if not isinstance(url, str):
        return None
    host = urlsplit(url).hostname or ""
    return None if host.endswith((".amazonaws.com", ".amazonaws.com.cn", ".api.aws")) else url
