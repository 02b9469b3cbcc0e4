"""The results channel between a submission's grading process and `lambdalab grade`: only a line signed with
this submission's secret is read as a result; whatever else reaches the channel is refused (and counted as
forged by the caller), whoever wrote it."""

from __future__ import annotations

import json
import os

import pytest

from lambdalab.grading import channel

SECRET = os.urandom(32)
BODY = json.dumps({"exercise_id": "proxy-response", "passed": 4, "total": 4})


def test_a_line_the_grader_signed_reads_back_as_its_body():
    assert channel.verify(SECRET, channel.sign(SECRET, BODY)) == BODY


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(BODY + "\n", id="unsigned"),
        pytest.param(channel.sign(os.urandom(32), BODY), id="signed-with-another-secret"),
        pytest.param(channel.sign(SECRET, BODY).replace('"passed": 4', '"passed": 5'), id="body-changed"),
        pytest.param(channel.sign(SECRET, BODY)[:40] + "\n", id="cut-short"),
        pytest.param("0" * 64 + " " + BODY + "\n", id="made-up-signature"),
        pytest.param("\n", id="empty"),
    ],
)
def test_any_other_line_is_refused(line):
    assert channel.verify(SECRET, line) is None


def test_a_secret_signs_differently_from_the_next_submissions():
    assert channel.sign(SECRET, BODY) != channel.sign(os.urandom(32), BODY)
