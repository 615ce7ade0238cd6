"""The process's AWS clients, all built from one boto3 session.

Clients of one session share botocore's parsed endpoint rules, partitions and loader cache. Powertools
Parameters would otherwise open a session of its own for its provider and parse that data again: about
30 ms of the first request after a cold start. Every client gets tight timeouts, because a webhook must
answer fast and a slow dependency must become a retry, not a hung invocation.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from boto3.session import Session
    from botocore.config import Config

ParameterSource = Literal["secretsmanager", "ssm"]
# Each provider with the session its client came from: moto (tests) replaces boto3's default session
# when a mock starts, and a provider of the old session must then be rebuilt.
_PROVIDERS: dict[ParameterSource, tuple[Session, Any]] = {}
_PROVIDERS_LOCK = threading.Lock()  # a secret prefetch thread and the request thread may ask at once


def session() -> Session:
    import boto3

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    return boto3.DEFAULT_SESSION


def client_config() -> Config:
    from botocore.config import Config

    return Config(
        connect_timeout=2,
        read_timeout=3,
        retries={"mode": "standard", "total_max_attempts": 3},
        tcp_keepalive=True,
    )


def client(service: str, *, endpoint_url: str | None = None, region: str | None = None) -> Any:
    return session().client(  # type: ignore[call-overload]
        service, endpoint_url=endpoint_url, region_name=region, config=client_config()
    )


def parameters_provider(source: ParameterSource) -> Any:
    """The Powertools provider for a source, one per process so that its max_age cache is shared."""
    with _PROVIDERS_LOCK:
        current = session()
        cached = _PROVIDERS.get(source)
        if cached is not None and cached[0] is current:
            return cached[1]
        from aws_lambda_powertools.utilities import parameters

        factory = parameters.SecretsProvider if source == "secretsmanager" else parameters.SSMProvider
        provider = factory(boto3_client=client(source))
        _PROVIDERS[source] = (current, provider)
        return provider
