"""Schemathesis hooks for the API contract test (tests/tests/api_contract.rs): the
screenshot upload gets real images, PNG, JPEG and WebP files the test wrote to
EARSHOT_CONTRACT_IMAGES, and each one goes to a submission of its own, made just before
(EARSHOT_CONTRACT_URL, from a page on EARSHOT_CONTRACT_ORIGIN), so that it reaches the
decoder rather than stopping at "unknown submission" or "has one already"."""

import json
import os
import pathlib
import urllib.request
import uuid

import schemathesis
from hypothesis import strategies as st

IMAGES = pathlib.Path(os.environ["EARSHOT_CONTRACT_IMAGES"])
URL = os.environ["EARSHOT_CONTRACT_URL"]
ORIGIN = os.environ["EARSHOT_CONTRACT_ORIGIN"]
UPLOAD = "/v1/feedback/{id}/screenshot"
# How each type's files begin: a body that begins so is one of the test's images.
SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF")

for media_type, suffix in [("image/png", "png"), ("image/jpeg", "jpg"), ("image/webp", "webp")]:
    files = [path.read_bytes() for path in sorted(IMAGES.glob("*." + suffix))]
    assert files, f"no .{suffix} images in {IMAGES}"
    schemathesis.openapi.media_type(media_type, st.sampled_from(files))


def new_submission():
    """A stored submission without a screenshot, as the widget sends it; its id."""
    submission_id = str(uuid.uuid4())
    body = {
        "id": submission_id,
        "site": "demo",
        "rating": {"kind": "stars", "value": 4},
        "comment": "Sent by the contract test, with a screenshot",
        "page_url": ORIGIN + "/",
        # Longer than a bot takes, so that the submission is not flagged as spam.
        "open_ms": 6000,
    }
    request = urllib.request.Request(
        URL + "/v1/feedback",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "text/plain", "Origin": ORIGIN},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 201, response.status
    return submission_id


@schemathesis.hook
def before_call(context, case, **kwargs):
    # A case meant to be refused (a header left out, a wrong type) stays as generated.
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return
    body = case.body
    if case.operation.path == UPLOAD and isinstance(body, bytes) and body.startswith(SIGNATURES):
        case.path_parameters["id"] = new_submission()
        # A visitor of its own (the collector knows visitors by network address: an IPv6
        # /64), as its trusted proxy forwards it: each decode counts against a visitor's
        # allowance of 30 a minute, which one run of generated uploads would spend in seconds.
        network = uuid.uuid4().hex
        visitor = "2001:db8:%s:%s::1" % (network[:4], network[4:8])
        case.headers = {**(case.headers or {}), "X-Forwarded-For": visitor}
