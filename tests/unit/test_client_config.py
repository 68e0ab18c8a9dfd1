"""The store's client honours the user's AWS configuration: the environment, the profile, a boto3 session, a
botocore Config and a supplied client win over the library's defaults, which fill in only what nobody set."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.dynamo.session import DEFAULTS
from mastra_dynamo.errors import ConfigurationError


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No region, no retry settings and an empty shared config: each test sets what it needs."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    yield config


def _retries(store: DynamoDBStore) -> dict[str, object]:
    retries = store.table.raw.meta.config.retries
    assert isinstance(retries, dict)
    return retries


def test_defaults_apply_when_nothing_is_configured(aws_env: Path) -> None:
    store = DynamoDBStore(id="s", table_name="table", region="eu-west-1")
    config = store.table.raw.meta.config
    assert store.region == "eu-west-1" and store.endpoint_url is None
    assert (config.connect_timeout, config.read_timeout) == (DEFAULTS["connect_timeout"], DEFAULTS["read_timeout"])
    assert config.max_pool_connections == DEFAULTS["max_pool_connections"]
    assert _retries(store)["mode"] == "standard" and _retries(store)["total_max_attempts"] == 9


def test_environment_retry_settings_win(aws_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    retries = _retries(DynamoDBStore(id="s", table_name="table", region="eu-west-1"))
    assert retries["mode"] == "adaptive" and retries["total_max_attempts"] == 2


def test_the_profile_gives_region_and_retries(aws_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    aws_env.write_text("[profile team]\nregion = eu-west-2\nretry_mode = legacy\nmax_attempts = 4\n")
    monkeypatch.setenv("AWS_PROFILE", "team")
    store = DynamoDBStore(id="s", table_name="table")
    assert store.region == "eu-west-2"
    assert _retries(store)["mode"] == "legacy" and _retries(store)["total_max_attempts"] == 4


def test_an_unknown_profile_is_a_configuration_error(aws_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nobody")
    with pytest.raises(ConfigurationError) as info:
        DynamoDBStore(id="s", table_name="table", region="eu-west-1")
    assert info.value.code == "INVALID_AWS_CONFIG"


def test_no_region_anywhere_is_missing_region(aws_env: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        DynamoDBStore(id="s", table_name="table")
    assert info.value.code == "MISSING_REGION"


def test_boto_config_options_win_over_the_defaults(aws_env: Path) -> None:
    store = DynamoDBStore(id="s", table_name="table", region="eu-west-1",
                          boto_config=Config(read_timeout=3, retries={"mode": "legacy", "max_attempts": 1}))
    config = store.table.raw.meta.config
    assert config.read_timeout == 3 and config.connect_timeout == DEFAULTS["connect_timeout"]
    assert _retries(store)["mode"] == "legacy" and _retries(store)["total_max_attempts"] == 2
    with pytest.raises(ConfigurationError) as info:
        DynamoDBStore(id="s", table_name="table", region="eu-west-1", boto_config={"read_timeout": 3})  # type: ignore[arg-type]
    assert info.value.code == "INVALID_BOTO_CONFIG"


def test_a_boto3_session_gives_profile_and_region(aws_env: Path) -> None:
    session = boto3.Session(region_name="ap-south-1", aws_access_key_id="a", aws_secret_access_key="b")
    store = DynamoDBStore(id="s", table_name="table", boto3_session=session)
    assert store.region == "ap-south-1"
    assert store.table.raw.meta.config.read_timeout == DEFAULTS["read_timeout"]
    with pytest.raises(ConfigurationError) as info:
        DynamoDBStore(id="s", table_name="table", boto3_session="default")
    assert info.value.code == "INVALID_BOTO3_SESSION"


@pytest.mark.parametrize("endpoint", ["localhost:8000", "127.0.0.1", "ftp://127.0.0.1:8000", "http://", "http://h:x"])
def test_a_mistyped_endpoint_fails_at_once(aws_env: Path, endpoint: str) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigurationError) as info:
        DynamoDBStore(id="s", table_name="table", region="us-east-1", endpoint_url=endpoint)
    assert info.value.code == "INVALID_ENDPOINT"
    assert time.monotonic() - started < 5  # refused before any connection attempt


def test_a_local_endpoint_retries_less_by_default(aws_env: Path) -> None:
    store = DynamoDBStore(id="s", table_name="table", region="us-east-1", endpoint_url="http://127.0.0.1:9")
    assert store.endpoint_url == "http://127.0.0.1:9"
    assert _retries(store)["total_max_attempts"] == 4


def test_a_supplied_client_or_resource_is_used_for_everything(aws_env: Path) -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="sa-east-1", aws_access_key_id="a",
                              aws_secret_access_key="b")
        store = DynamoDBStore(id="s", table_name="table", client=client)
        assert store.table.raw is client and store.region == "sa-east-1" and store.endpoint_url is None
        store.create_table()  # through the supplied client: the table is in its region
        assert client.describe_table(TableName="table")["Table"]["TableStatus"] == "ACTIVE"
        assert client.describe_time_to_live(TableName="table")["TimeToLiveDescription"]["TimeToLiveStatus"] \
            == "ENABLED"
        assert store.request_counts()["CreateTable"] == 1
        store.init()
        resource = boto3.resource("dynamodb", region_name="sa-east-1", aws_access_key_id="a",
                                  aws_secret_access_key="b")
        via_resource = DynamoDBStore(id="r", table_name="table", client=resource)
        assert via_resource.table.raw is resource.meta.client
        via_resource.init()
    with pytest.raises(ConfigurationError) as info:
        DynamoDBStore(id="s", table_name="table", client=object())
    assert info.value.code == "INVALID_CLIENT"
