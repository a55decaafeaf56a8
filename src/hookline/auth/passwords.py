"""Password hashing with argon2id, off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    def __init__(self, *, time_cost: int = 3, memory_kib: int = 65536) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        # Verified against when an e-mail is unknown, so timing does not tell
        # which accounts exist.
        self._dummy = self._hasher.hash("not a real password")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash or self._dummy, password) and bool(
                    password_hash
                )
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check)
