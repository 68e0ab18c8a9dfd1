"""The async API: the same implementation as the sync one, its requests awaited on aiobotocore.

``AsyncDynamoDBStore`` takes the arguments of :class:`~mastra_dynamo.store.DynamoDBStore` (or an existing store,
whose table, region, endpoint and options it copies). Its aiobotocore client is created on the running event loop
at first use (``async with AsyncDynamoDBStore(...) as store`` or the first awaited call) and closed by
``await store.close()``. Every domain method runs the synchronous domain code in a greenlet on the loop's own
thread (:mod:`mastra_dynamo.dynamo.bridge`): each request is awaited while other tasks run, no worker thread is
involved, and the records, errors and requests (``request_counts()``) are those of the sync API.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mastra_dynamo.dynamo.bridge import AsyncClientAdapter, awaitable, run_sync
from mastra_dynamo.store import DynamoDBStore
from mastra_dynamo.stores.agents import DynamoAgentsStore
from mastra_dynamo.stores.background_tasks import DynamoBackgroundTasksStore
from mastra_dynamo.stores.datasets import DynamoDatasetsStore
from mastra_dynamo.stores.experiments import DynamoExperimentsStore
from mastra_dynamo.stores.memory import DynamoMemoryStore
from mastra_dynamo.stores.scores import DynamoScoresStore
from mastra_dynamo.stores.workflows import DynamoWorkflowsStore


class AsyncDomainStore:
    """Base of the awaitable domain stores: each method runs the domain code on the event loop with its requests
    awaited (the client is opened first when needed)."""

    def __init__(self, ref: _DomainRef) -> None:
        self._ref = ref

    @property
    def sync(self) -> Any:
        """The synchronous domain store the calls run (after the client is open)."""
        return self._ref.resolve()

    async def _call(self, name: str, /, *args: Any, **kwargs: Any) -> Any:
        if name == "init":  # opens the client; one task at a time through the owner's lock
            await self._ref.owner.init()
            return None
        domain = self._ref.current()
        if domain is None:  # the client is opened by the first call
            domain = await self._ref.open()
        return await run_sync(getattr(domain, name), *args, **kwargs)


class AsyncMemoryStore(AsyncDomainStore):
    """The awaitable memory domain (threads, messages, resources, observational memory, run fences):
    :class:`~DynamoMemoryStore`'s methods."""

    supports_observational_memory = DynamoMemoryStore.supports_observational_memory
    supports_partial_thread_update = DynamoMemoryStore.supports_partial_thread_update

    init = awaitable(DynamoMemoryStore.init)
    get_thread_by_id = awaitable(DynamoMemoryStore.get_thread_by_id)
    save_thread = awaitable(DynamoMemoryStore.save_thread)
    update_thread = awaitable(DynamoMemoryStore.update_thread)
    delete_thread = awaitable(DynamoMemoryStore.delete_thread)
    list_threads = awaitable(DynamoMemoryStore.list_threads)
    list_messages = awaitable(DynamoMemoryStore.list_messages)
    list_messages_by_id = awaitable(DynamoMemoryStore.list_messages_by_id)
    list_messages_by_resource_id = awaitable(DynamoMemoryStore.list_messages_by_resource_id)
    save_messages = awaitable(DynamoMemoryStore.save_messages)
    update_messages = awaitable(DynamoMemoryStore.update_messages)
    delete_messages = awaitable(DynamoMemoryStore.delete_messages)
    clone_thread = awaitable(DynamoMemoryStore.clone_thread)
    copy_thread = awaitable(DynamoMemoryStore.copy_thread)
    get_resource_by_id = awaitable(DynamoMemoryStore.get_resource_by_id)
    save_resource = awaitable(DynamoMemoryStore.save_resource)
    update_resource = awaitable(DynamoMemoryStore.update_resource)
    dangerously_clear_all = awaitable(DynamoMemoryStore.dangerously_clear_all)
    supports_run_fencing = awaitable(DynamoMemoryStore.supports_run_fencing)
    raise_run_fence = awaitable(DynamoMemoryStore.raise_run_fence)
    retire_run_fence = awaitable(DynamoMemoryStore.retire_run_fence)
    get_observational_memory = awaitable(DynamoMemoryStore.get_observational_memory)
    get_observational_memory_history = awaitable(DynamoMemoryStore.get_observational_memory_history)
    get_observational_memory_record = awaitable(DynamoMemoryStore.get_observational_memory_record)
    initialize_observational_memory = awaitable(DynamoMemoryStore.initialize_observational_memory)
    insert_observational_memory_record = awaitable(DynamoMemoryStore.insert_observational_memory_record)
    update_active_observations = awaitable(DynamoMemoryStore.update_active_observations)
    update_buffered_observations = awaitable(DynamoMemoryStore.update_buffered_observations)
    swap_buffered_to_active = awaitable(DynamoMemoryStore.swap_buffered_to_active)
    create_reflection_generation = awaitable(DynamoMemoryStore.create_reflection_generation)
    update_buffered_reflection = awaitable(DynamoMemoryStore.update_buffered_reflection)
    swap_buffered_reflection_to_active = awaitable(DynamoMemoryStore.swap_buffered_reflection_to_active)
    set_reflecting_flag = awaitable(DynamoMemoryStore.set_reflecting_flag)
    set_observing_flag = awaitable(DynamoMemoryStore.set_observing_flag)
    set_buffering_observation_flag = awaitable(DynamoMemoryStore.set_buffering_observation_flag)
    set_buffering_reflection_flag = awaitable(DynamoMemoryStore.set_buffering_reflection_flag)
    set_pending_message_tokens = awaitable(DynamoMemoryStore.set_pending_message_tokens)
    update_observational_memory_config = awaitable(DynamoMemoryStore.update_observational_memory_config)
    clear_observational_memory = awaitable(DynamoMemoryStore.clear_observational_memory)


class AsyncWorkflowsStore(AsyncDomainStore):
    """The awaitable workflows domain (run snapshots, run ownership):
    :class:`~DynamoWorkflowsStore`'s methods."""

    init = awaitable(DynamoWorkflowsStore.init)
    persist_workflow_snapshot = awaitable(DynamoWorkflowsStore.persist_workflow_snapshot)
    load_workflow_snapshot = awaitable(DynamoWorkflowsStore.load_workflow_snapshot)
    update_workflow_results = awaitable(DynamoWorkflowsStore.update_workflow_results)
    update_workflow_state = awaitable(DynamoWorkflowsStore.update_workflow_state)
    get_workflow_run_by_id = awaitable(DynamoWorkflowsStore.get_workflow_run_by_id)
    list_workflow_runs = awaitable(DynamoWorkflowsStore.list_workflow_runs)
    delete_workflow_run_by_id = awaitable(DynamoWorkflowsStore.delete_workflow_run_by_id)
    supports_concurrent_updates = awaitable(DynamoWorkflowsStore.supports_concurrent_updates)
    supports_run_fencing = awaitable(DynamoWorkflowsStore.supports_run_fencing)
    claim_run_ownership = awaitable(DynamoWorkflowsStore.claim_run_ownership)
    renew_run_ownership = awaitable(DynamoWorkflowsStore.renew_run_ownership)
    release_run_ownership = awaitable(DynamoWorkflowsStore.release_run_ownership)
    get_run_ownership = awaitable(DynamoWorkflowsStore.get_run_ownership)
    dangerously_clear_all = awaitable(DynamoWorkflowsStore.dangerously_clear_all)


class AsyncScoresStore(AsyncDomainStore):
    """The awaitable scores domain:
    :class:`~DynamoScoresStore`'s methods."""

    supports_list_scores_by_span = DynamoScoresStore.supports_list_scores_by_span

    init = awaitable(DynamoScoresStore.init)
    save_score = awaitable(DynamoScoresStore.save_score)
    get_score_by_id = awaitable(DynamoScoresStore.get_score_by_id)
    list_scores_by_scorer_id = awaitable(DynamoScoresStore.list_scores_by_scorer_id)
    list_scores_by_run_id = awaitable(DynamoScoresStore.list_scores_by_run_id)
    list_scores_by_entity_id = awaitable(DynamoScoresStore.list_scores_by_entity_id)
    list_scores_by_span = awaitable(DynamoScoresStore.list_scores_by_span)
    dangerously_clear_all = awaitable(DynamoScoresStore.dangerously_clear_all)


class AsyncAgentsStore(AsyncDomainStore):
    """The awaitable agents domain (stored agents and their versions):
    :class:`~DynamoAgentsStore`'s methods."""

    init = awaitable(DynamoAgentsStore.init)
    create = awaitable(DynamoAgentsStore.create)
    update = awaitable(DynamoAgentsStore.update)
    delete = awaitable(DynamoAgentsStore.delete)
    get_by_id = awaitable(DynamoAgentsStore.get_by_id)
    get_by_id_resolved = awaitable(DynamoAgentsStore.get_by_id_resolved)
    list = awaitable(DynamoAgentsStore.list)
    list_resolved = awaitable(DynamoAgentsStore.list_resolved)
    create_version = awaitable(DynamoAgentsStore.create_version)
    get_version = awaitable(DynamoAgentsStore.get_version)
    get_version_by_number = awaitable(DynamoAgentsStore.get_version_by_number)
    get_latest_version = awaitable(DynamoAgentsStore.get_latest_version)
    get_versions = awaitable(DynamoAgentsStore.get_versions)
    list_versions = awaitable(DynamoAgentsStore.list_versions)
    count_versions = awaitable(DynamoAgentsStore.count_versions)
    delete_version = awaitable(DynamoAgentsStore.delete_version)
    delete_versions_by_parent_id = awaitable(DynamoAgentsStore.delete_versions_by_parent_id)
    dangerously_clear_all = awaitable(DynamoAgentsStore.dangerously_clear_all)


class AsyncDatasetsStore(AsyncDomainStore):
    """The awaitable datasets domain (datasets, items, versions):
    :class:`~DynamoDatasetsStore`'s methods."""

    init = awaitable(DynamoDatasetsStore.init)
    create_dataset = awaitable(DynamoDatasetsStore.create_dataset)
    update_dataset = awaitable(DynamoDatasetsStore.update_dataset)
    delete_dataset = awaitable(DynamoDatasetsStore.delete_dataset)
    get_dataset_by_id = awaitable(DynamoDatasetsStore.get_dataset_by_id)
    list_datasets = awaitable(DynamoDatasetsStore.list_datasets)
    add_item = awaitable(DynamoDatasetsStore.add_item)
    update_item = awaitable(DynamoDatasetsStore.update_item)
    delete_item = awaitable(DynamoDatasetsStore.delete_item)
    purge_item = awaitable(DynamoDatasetsStore.purge_item)
    batch_insert_items = awaitable(DynamoDatasetsStore.batch_insert_items)
    batch_delete_items = awaitable(DynamoDatasetsStore.batch_delete_items)
    get_item_by_id = awaitable(DynamoDatasetsStore.get_item_by_id)
    list_items = awaitable(DynamoDatasetsStore.list_items)
    get_items_by_version = awaitable(DynamoDatasetsStore.get_items_by_version)
    get_item_history = awaitable(DynamoDatasetsStore.get_item_history)
    create_dataset_version = awaitable(DynamoDatasetsStore.create_dataset_version)
    list_dataset_versions = awaitable(DynamoDatasetsStore.list_dataset_versions)
    dangerously_clear_all = awaitable(DynamoDatasetsStore.dangerously_clear_all)


class AsyncExperimentsStore(AsyncDomainStore):
    """The awaitable experiments domain (experiments and their results):
    :class:`~DynamoExperimentsStore`'s methods."""

    init = awaitable(DynamoExperimentsStore.init)
    create_experiment = awaitable(DynamoExperimentsStore.create_experiment)
    update_experiment = awaitable(DynamoExperimentsStore.update_experiment)
    delete_experiment = awaitable(DynamoExperimentsStore.delete_experiment)
    get_experiment_by_id = awaitable(DynamoExperimentsStore.get_experiment_by_id)
    list_experiments = awaitable(DynamoExperimentsStore.list_experiments)
    add_experiment_result = awaitable(DynamoExperimentsStore.add_experiment_result)
    upsert_experiment_result = awaitable(DynamoExperimentsStore.upsert_experiment_result)
    update_experiment_result = awaitable(DynamoExperimentsStore.update_experiment_result)
    get_experiment_result_by_id = awaitable(DynamoExperimentsStore.get_experiment_result_by_id)
    list_experiment_results = awaitable(DynamoExperimentsStore.list_experiment_results)
    delete_experiment_results = awaitable(DynamoExperimentsStore.delete_experiment_results)
    get_review_summary = awaitable(DynamoExperimentsStore.get_review_summary)
    dangerously_clear_all = awaitable(DynamoExperimentsStore.dangerously_clear_all)


class AsyncBackgroundTasksStore(AsyncDomainStore):
    """The awaitable background tasks domain:
    :class:`~DynamoBackgroundTasksStore`'s methods."""

    init = awaitable(DynamoBackgroundTasksStore.init)
    create_task = awaitable(DynamoBackgroundTasksStore.create_task)
    update_task = awaitable(DynamoBackgroundTasksStore.update_task)
    get_task = awaitable(DynamoBackgroundTasksStore.get_task)
    list_tasks = awaitable(DynamoBackgroundTasksStore.list_tasks)
    delete_task = awaitable(DynamoBackgroundTasksStore.delete_task)
    delete_tasks = awaitable(DynamoBackgroundTasksStore.delete_tasks)
    get_running_count = awaitable(DynamoBackgroundTasksStore.get_running_count)
    get_running_count_by_agent = awaitable(DynamoBackgroundTasksStore.get_running_count_by_agent)
    dangerously_clear_all = awaitable(DynamoBackgroundTasksStore.dangerously_clear_all)


class AsyncDynamoDBStore:
    """Awaitable DynamoDBStore on aiobotocore (see the module docstring).

    Arguments: those of :class:`DynamoDBStore` (``id``, ``table_name``, ``region``, ``endpoint_url``, ``ttl``,
    ``boto_config``, ...), or ``store=`` an existing store whose settings are copied (its own client is not
    used). ``aio_session``: an ``aiobotocore.session.AioSession`` (its profile, credentials and region; default: a
    new one, which reads the environment and the shared config files as boto3 does). ``max_pool_connections``:
    the size of the HTTP connection pool (default 32, or ``boto_config``'s). ``client=``: an aiobotocore
    DynamoDB client the caller opened and will close."""

    def __init__(self, store: DynamoDBStore | None = None, *, aio_session: Any = None,
                 max_pool_connections: int | None = None, client: Any = None, **kwargs: Any) -> None:
        if store is not None:
            kwargs = {**store.settings(), **kwargs}
        if "id" not in kwargs or "table_name" not in kwargs:
            raise TypeError("AsyncDynamoDBStore needs id= and table_name= (or store=)")
        self.id: str = kwargs["id"]
        self.table_name: str = kwargs["table_name"]
        self.disable_init: bool = bool(kwargs.get("disable_init", False))
        self._settings = kwargs
        self._aio_session = aio_session
        self._pool = max_pool_connections
        self._supplied = client
        self._client_context: Any = None
        self._sync: DynamoDBStore | None = None
        self._opening: asyncio.Lock | None = None
        self._init_lock: asyncio.Lock | None = None
        self._domains: dict[str, Any] = {}

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> AsyncDynamoDBStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Create the aiobotocore client on the running loop (once; later calls return at once)."""
        if self._sync is not None:
            return
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._sync is not None:
                return
            from mastra_dynamo.dynamo.aio_session import open_async_client

            settings = dict(self._settings)
            if self._supplied is not None:
                client = self._supplied
            else:
                self._client_context, client = await open_async_client(
                    region=settings.get("region"), endpoint_url=settings.get("endpoint_url"),
                    aio_session=self._aio_session, boto_config=settings.pop("boto_config", None),
                    max_pool_connections=self._pool)
            for name in ("region", "endpoint_url", "boto3_session", "boto_config"):
                settings.pop(name, None)
            try:
                self._sync = DynamoDBStore(client=AsyncClientAdapter(client), **settings)
            except BaseException:
                await self.close()
                raise

    @property
    def sync(self) -> DynamoDBStore:
        """The store the domain code runs on (its client awaits every request): after :meth:`open`."""
        if self._sync is None:
            raise RuntimeError("AsyncDynamoDBStore is not open: use `async with` or await a call first")
        return self._sync

    @property
    def is_open(self) -> bool:
        return self._sync is not None

    def request_counts(self) -> dict[str, int]:
        return {} if self._sync is None else self._sync.request_counts()

    def get_store(self, name: str) -> Any:
        """The awaitable domain store for ``name``, or None when the domain is not served. Usable before the
        client exists: it is opened by the first awaited call."""
        cls = DynamoDBStore.domain_class(name)
        if cls is None:
            return None
        wrapped = self._domains.get(cls.__name__)
        if wrapped is None:
            wrapped = _ASYNC_DOMAINS[cls](_DomainRef(self, name))
            self._domains[cls.__name__] = wrapped
        return wrapped

    async def init(self) -> None:
        await self.open()
        if self._init_lock is None:
            self._init_lock = asyncio.Lock()
        async with self._init_lock:  # one task at a time (the store's own lock is a thread lock)
            await run_sync(self.sync.init)

    async def create_table(self) -> None:
        await self.open()
        await run_sync(self.sync.create_table)

    async def delete_table(self) -> None:
        await self.open()
        await run_sync(self.sync.delete_table)

    async def close(self) -> None:
        """Close the client this store created (a supplied client is left open)."""
        context, self._client_context = self._client_context, None
        self._sync = None
        if context is not None:
            await context.__aexit__(None, None, None)


class _DomainRef:
    """The sync domain store of an async store, resolved once per opened client (not once per call)."""

    def __init__(self, owner: AsyncDynamoDBStore, name: str) -> None:
        self.owner = owner
        self.name = name
        self._store: DynamoDBStore | None = None  # the owner's sync store ``_domain`` belongs to
        self._domain: Any = None

    def current(self) -> Any:
        """The sync domain store, or None while the owner's client is not open."""
        store = self.owner._sync
        if store is not self._store:  # opened, closed or reopened since the last call
            self._store = store
            self._domain = None if store is None else store.get_store(self.name)
        return self._domain

    async def open(self) -> Any:
        """Open the owner's client if needed; the sync domain store."""
        await self.owner.open()
        return self.current()

    def resolve(self) -> Any:
        """The sync domain store (the owner must be open)."""
        return self.owner.sync.get_store(self.name)


_ASYNC_DOMAINS: dict[type[Any], type[AsyncDomainStore]] = {
    DynamoMemoryStore: AsyncMemoryStore, DynamoWorkflowsStore: AsyncWorkflowsStore,
    DynamoScoresStore: AsyncScoresStore,
    DynamoAgentsStore: AsyncAgentsStore, DynamoDatasetsStore: AsyncDatasetsStore,
    DynamoExperimentsStore: AsyncExperimentsStore, DynamoBackgroundTasksStore: AsyncBackgroundTasksStore}
