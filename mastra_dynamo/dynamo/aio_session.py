"""The async API's DynamoDB client: an aiobotocore client made the way :mod:`mastra_dynamo.dynamo.session` makes
the sync one (the user's session, environment, profile and ``boto_config`` first; this library's defaults where
they say nothing), opened on the running event loop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mastra_dynamo.dynamo import session as sync_session
from mastra_dynamo.dynamo import wire
from mastra_dynamo.errors import ConfigurationError

if TYPE_CHECKING:
    from botocore.config import Config


async def open_async_client(*, region: str | None, endpoint_url: str | None, aio_session: Any = None,
                            boto_config: Config | None = None,
                            max_pool_connections: int | None = None) -> tuple[Any, Any]:
    """(the client's async context manager, the open client). Close with ``await context.__aexit__(...)``."""
    try:
        from aiobotocore.config import AioConfig  # type: ignore[import-untyped]
        from aiobotocore.session import AioSession  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - the async extra installs it
        raise ConfigurationError("the async API needs the `async` extra: pip install 'mastra-dynamo[async]'",
                                 code="MISSING_DEPENDENCY", details={"package": "aiobotocore"}) from exc
    sync_session.check_endpoint(endpoint_url)
    own_session = aio_session is None
    if aio_session is None:
        aio_session = AioSession()
        sync_session.share_loader(aio_session)  # the parsed service model is loaded once per process
    elif not isinstance(aio_session, AioSession):
        raise ConfigurationError(f"aio_session must be an aiobotocore AioSession, not {type(aio_session).__name__}",
                                 code="INVALID_AIO_SESSION")
    merged = sync_session.client_config(boto_config, retries_configured=sync_session.retries_configured(aio_session),
                                        local_endpoint=endpoint_url is not None)
    options = dict(getattr(merged, "_user_provided_options", {}))
    if max_pool_connections is not None:
        if not isinstance(max_pool_connections, int) or max_pool_connections < 1:
            raise ConfigurationError("max_pool_connections must be a positive integer",
                                     code="INVALID_POOL_SIZE", details={"max_pool_connections": max_pool_connections})
        options["max_pool_connections"] = max_pool_connections
    options.pop("tcp_keepalive", None)  # aiohttp keeps connections alive by itself
    config = AioConfig(**options)
    if merged.retries is None:
        config.retries = None
    resolved = sync_session.resolved_region(region, aio_session)
    context = aio_session.create_client("dynamodb", region_name=resolved, endpoint_url=endpoint_url, config=config)
    client = await context.__aenter__()
    if own_session:
        wire.install(client, factory_class=wire.aio_parser_factory())
    return context, client
