"""Model hubs without a network: before a backbone asks the Hugging Face hub (timm, open_clip and
transformers all download through it) for weights, one short connection probe decides whether the
hub is reachable. When it is not, the hub client runs in offline mode for that call, so weights
missing from the cache fail at once with cliffbench's one-line error instead of minutes of retries
with back-off. ``HF_HUB_OFFLINE=1`` skips the probe."""

from __future__ import annotations

import contextlib
import functools
import logging
import socket
from collections.abc import Iterator
from urllib.parse import urlparse

log = logging.getLogger("cliffbench")
PROBE_TIMEOUT_S = 3.0


def _endpoint() -> str:
    from huggingface_hub import constants

    return str(constants.ENDPOINT)


@functools.lru_cache(maxsize=4)
def _reachable(endpoint: str) -> bool:
    url = urlparse(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=PROBE_TIMEOUT_S):
            return True
    except OSError as exc:
        log.info("model hub %s not reachable (%s): looking only in the local cache", endpoint, exc)
        return False


def hub_reachable() -> bool:
    """Whether the hub endpoint accepts a TCP connection (probed once per process and endpoint)."""
    return _reachable(_endpoint())


@contextlib.contextmanager
def offline_unless_reachable() -> Iterator[bool]:
    """Run the block in hub offline mode when the hub cannot be reached; yields whether online."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        yield False
        return
    online = hub_reachable()
    if online:
        yield True
        return
    constants.HF_HUB_OFFLINE = True
    previous = logging.root.manager.disable
    logging.disable(logging.ERROR)  # the libraries' own "failed to download" lines: ours says it once
    try:
        yield False
    finally:
        constants.HF_HUB_OFFLINE = False
        logging.disable(previous)
