"""The process's AWS clients, all built from one boto3 session.

Clients of one session share botocore's parsed endpoint rules, partitions and loader cache. Powertools
Parameters would otherwise open a session of its own for its provider and parse that data again: about
30 ms of the first request after a cold start. Every client gets tight timeouts, because a webhook must
answer fast and a slow dependency must become a retry, not a hung invocation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from boto3.session import Session
    from botocore.config import Config

ParameterSource = Literal["secretsmanager", "ssm"]
# Keyed by the session too: moto (tests) replaces boto3's default session when a mock starts.
_PROVIDERS: dict[tuple[int, ParameterSource], Any] = {}


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
    key = (id(session()), source)
    provider = _PROVIDERS.get(key)
    if provider is None:
        from aws_lambda_powertools.utilities import parameters

        factory = parameters.SecretsProvider if source == "secretsmanager" else parameters.SSMProvider
        for stale in [k for k in _PROVIDERS if k[0] != key[0]]:
            del _PROVIDERS[stale]  # a replaced session's providers are never used again
        provider = _PROVIDERS[key] = factory(boto3_client=client(source))
    return provider
