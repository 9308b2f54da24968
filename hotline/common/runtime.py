"""Process-level settings for server processes (WSGI/ASGI workers, the background worker)."""

from __future__ import annotations

import gc


def settle_after_startup() -> None:
    """Call once the application is loaded (and warmed up).

    Everything alive at this point — modules, settings, URL resolvers, reference caches — lives as long as the
    process. `gc.freeze()` moves it out of the collector's generations, so the periodic full collections no
    longer re-scan it on some unlucky request (a full pass over a loaded Django process costs tens of ms, the
    tail of the latency figures); with a pre-forking server it also keeps those pages shared between workers.
    """
    gc.collect()
    gc.freeze()
