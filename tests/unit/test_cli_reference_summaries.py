"""The CLI reference lists every command with its whole first sentence, never cut mid-sentence."""

from __future__ import annotations

import re

import pytest

from tools import docgen

pytestmark = pytest.mark.unit


def test_command_summaries_are_whole_sentences() -> None:
    page = docgen.cli_page()
    summaries = re.findall(r"^\* `[a-z][a-z-]*`: (.*)$", page, re.M)
    assert len(summaries) >= 20
    for summary in summaries:
        assert not summary.endswith("...") and summary.endswith((".", ")")), summary
