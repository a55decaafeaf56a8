"""One-time values carried across a POST's redirect: a new webhook's signing
secret, a new access token, an invitation link. They never go in a URL (URLs
land in histories and logs), so they wait here, in the serving process's
memory, for the page the redirect leads to; that page takes them once, and
they vanish after a minute if it never asks. A reload finds nothing.

Keys are a hash of the browser's CSRF binding (its session key, or its
pre-session key), so only the browser that made the POST can read them."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Long enough for a redirect on a slow link; short enough that a value
# nobody read does not linger.
LIFETIME_S = 60.0
# A browser making hundreds of one-time values a minute is not a person.
MAX_PER_BROWSER = 20


@dataclass
class FlashStore:
    clock: Callable[[], float] = time.monotonic
    _slots: dict[tuple[str, str], tuple[float, dict[str, Any]]] = field(default_factory=dict)

    @staticmethod
    def _owner(binding: str) -> str:
        return hashlib.sha256(b"hookline-flash\0" + binding.encode()).hexdigest()

    def _expire(self) -> None:
        now = self.clock()
        for key in [k for k, (ends, _) in self._slots.items() if ends <= now]:
            del self._slots[key]

    def put(self, binding: str, name: str, value: dict[str, Any]) -> None:
        """Keep ``value`` for the next page of this browser that asks for ``name``."""
        self._expire()
        owner = self._owner(binding)
        mine = sorted((ends, key) for key, (ends, _) in self._slots.items() if key[0] == owner)
        for _, key in mine[: max(0, len(mine) - MAX_PER_BROWSER + 1)]:
            del self._slots[key]
        self._slots[(owner, name)] = (self.clock() + LIFETIME_S, value)

    def move(self, old_binding: str, new_binding: str) -> None:
        """Hand what waits for a browser over to its new binding: signing in
        replaces the key its CSRF tokens and flashes hang on."""
        self._expire()
        old, new = self._owner(old_binding), self._owner(new_binding)
        for key in [k for k in self._slots if k[0] == old]:
            self._slots[(new, key[1])] = self._slots.pop(key)

    def take(self, binding: str, name: str) -> dict[str, Any] | None:
        """The value, once; afterwards (or after its minute) None."""
        self._expire()
        found = self._slots.pop((self._owner(binding), name), None)
        return found[1] if found else None


# One store for the process: a serve process handles a browser's POST and the
# GET its redirect leads to.
store = FlashStore()
