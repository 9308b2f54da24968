"""SSE subscribe races in browser tests: a push sent before the page's EventSource is subscribed is lost. The
server subscribes before it sends the stream's first byte (`common.push.sse_response`), so once the browser
reports the stream open, nothing published afterwards is missed. `track_streams` counts the opened streams of
every page of a context (an init script, so the page's own scripts stay as they are); `wait_stream_open` waits
for them."""

from __future__ import annotations

import time
from typing import Any

_TRACK = """
(() => {
  const Real = window.EventSource;
  if (!Real || Real.__hotlineTracked) { return; }
  window.__hotlineStreamsOpen = 0;
  function Tracked(url, options) {
    const source = new Real(url, options);
    source.addEventListener("open", () => { window.__hotlineStreamsOpen += 1; });
    return source;
  }
  Tracked.prototype = Real.prototype;
  Tracked.CONNECTING = Real.CONNECTING;
  Tracked.OPEN = Real.OPEN;
  Tracked.CLOSED = Real.CLOSED;
  Tracked.__hotlineTracked = true;
  window.EventSource = Tracked;
})();
"""


def track_streams(context: Any) -> None:
    """Count the EventSource streams opened by the context's pages (from their next navigation on)."""
    context.add_init_script(_TRACK)


def wait_stream_open(page: Any, at_least: int = 1, timeout: float = 15.0) -> None:
    """Wait until the page has opened `at_least` streams (opens after a reconnect count too). Polled from here
    with `evaluate`: `wait_for_function` polls by evaluating a string in the page, which the CSP refuses."""
    deadline = time.monotonic() + timeout
    while streams_open(page) < at_least:
        assert time.monotonic() < deadline, f"the page opened no push stream within {timeout:.0f} s"
        page.wait_for_timeout(50)


def streams_open(page: Any) -> int:
    return int(page.evaluate("window.__hotlineStreamsOpen || 0"))
