"""Live-call configs kept in SSM Parameter Store: the other `ConfigSource` beside the table's.

A config named `CONFIG#phone#<id>` is the parameter `<prefix>/phone/<id>` (reads cached by Powertools).
"""

from __future__ import annotations

from collections.abc import Sequence


class SsmConfigSource:
    def __init__(self, prefix: str, *, max_age: int = 60) -> None:
        self._prefix = prefix.rstrip("/")
        self._max_age = max_age

    def fetch(self, key: str) -> str | None:
        from aws_lambda_powertools.utilities import parameters

        from voicetrail.infra.aws import parameters_provider

        _, _, rest = key.partition("#")  # CONFIG#phone#id -> phone#id
        name = f"{self._prefix}/{rest.replace('#', '/')}"
        try:
            return str(parameters_provider("ssm").get(name, max_age=self._max_age))
        except parameters.exceptions.GetParameterError as exc:
            if "ParameterNotFound" in type(exc.__cause__).__name__ or "ParameterNotFound" in str(exc):
                return None
            raise

    def fetch_many(self, keys: Sequence[str]) -> dict[str, str | None]:
        return {key: self.fetch(key) for key in keys}  # SSM reads are cached by Powertools per name
