"""Sign-up and sign-in under abuse: a stranger cannot lock an account, parallel
guesses get no more tries than the limit, sign-ups are limited per address and
never hash a password while holding SQLite's write lock."""

from __future__ import annotations

import asyncio
import time

import pytest

from hookline.auth.passwords import Passwords
from hookline.auth.ratelimit import FailureLimiter
from tests.conftest import FAST_PASSWORDS
from tests.helpers import ApiFactory

PASSWORD = "correct horse"


def creds(email: str, password: str = PASSWORD) -> dict[str, str]:
    return {"email": email, "password": password}


async def _victim(api_factory: ApiFactory) -> str:
    api = await api_factory.anonymous()
    await api.call("register-profile", {**creds("victim@example.com"), "fullname": "V"})
    return "victim@example.com"


async def test_failures_from_one_address_do_not_lock_the_owner_out(
    api_factory: ApiFactory,
) -> None:
    email = await _victim(api_factory)
    attacker = await api_factory.anonymous(client=("203.0.113.66", 4000))
    for _ in range(10):
        status, body = await attacker.error("login-with-password", creds(email, "guess guess"))
        assert (status, body["code"]) == (400, "wrong-credentials")
    status, body = await attacker.error("login-with-password", creds(email, "guess guess"))
    assert (status, body["code"]) == (429, "too-many-attempts")
    # The right password does not help an address that has used up its tries...
    status, _ = await attacker.error("login-with-password", creds(email))
    assert status == 429
    # ...but the owner, elsewhere, signs in.
    owner = await api_factory.anonymous(client=("198.51.100.7", 4000))
    assert (await owner.call("login-with-password", creds(email)))["email"] == email


async def test_parallel_wrong_passwords_get_no_more_tries_than_the_limit(
    api_factory: ApiFactory,
) -> None:
    email = await _victim(api_factory)
    limit = api_factory.services.login_limiter.limit
    attacker = await api_factory.anonymous(client=("203.0.113.67", 4000))
    responses = await asyncio.gather(
        *(attacker.post("login-with-password", creds(email, f"guess {n:04}")) for n in range(40))
    )
    codes = sorted(response.json()["code"] for response in responses)
    tries = codes.count("wrong-credentials")
    assert tries == limit, f"{tries} tries against a limit of {limit}"
    assert codes.count("too-many-attempts") == 40 - limit


async def test_successful_sign_ins_do_not_use_up_an_address(api_factory: ApiFactory) -> None:
    email = await _victim(api_factory)
    office = await api_factory.anonymous(client=("192.0.2.10", 4000))
    for _ in range(api_factory.services.login_limiter.limit + 5):
        await office.call("login-with-password", creds(email))


async def test_sign_ups_are_limited_per_address(api_factory: ApiFactory) -> None:
    api_factory.services.signup_limiter = FailureLimiter(3, 3600)
    here = await api_factory.anonymous(client=("203.0.113.5", 4000))
    for n in range(2):
        await here.call("register-profile", {**creds(f"s{n}@example.com"), "fullname": "S"})
    # A refused sign-up cost a hash as well, so it counts.
    taken = {**creds("s0@example.com"), "fullname": "S"}
    status, body = await here.error("register-profile", taken)
    assert (status, body["code"]) == (400, "email-already-exists")
    response = await here.post("register-profile", {**creds("s3@example.com"), "fullname": "S"})
    assert response.status_code == 429
    assert response.json()["code"] == "too-many-attempts"
    assert 3500 < int(response.headers["retry-after"]) <= 3600
    elsewhere = await api_factory.anonymous(client=("203.0.113.6", 4000))
    await elsewhere.call("register-profile", {**creds("s3@example.com"), "fullname": "S"})


async def test_an_ipv6_client_counts_as_its_whole_64(api_factory: ApiFactory) -> None:
    api_factory.services.signup_limiter = FailureLimiter(1, 3600)
    first = await api_factory.anonymous(client=("2001:db8:5:6::1", 4000))
    await first.call("register-profile", {**creds("v6a@example.com"), "fullname": "S"})
    neighbour = await api_factory.anonymous(client=("2001:db8:5:6:abcd::2", 4000))
    status, _ = await neighbour.error(
        "register-profile", {**creds("v6b@example.com"), "fullname": "S"}
    )
    assert status == 429


class SlowPasswords(Passwords):
    """Hashes and verifies as the real thing does, taking ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        super().__init__(time_cost=1, memory_kib=1024)
        self.delay = delay
        self.working = asyncio.Event()

    async def hash(self, password: str) -> str:
        self.working.set()
        await asyncio.sleep(self.delay)
        return await FAST_PASSWORDS.hash(password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        self.working.set()
        await asyncio.sleep(self.delay)
        return await FAST_PASSWORDS.verify(password_hash, password)


@pytest.mark.parametrize("command", ["register-profile", "login-with-password"])
async def test_passwords_are_hashed_before_taking_the_write_lock(
    api_factory: ApiFactory, command: str
) -> None:
    writer = await api_factory.user()
    team = await writer.call("create-team", {"name": "Busy"})
    visitor = await api_factory.anonymous()
    params = {**creds("slow@example.com"), "fullname": "S"}
    if command == "login-with-password":
        await visitor.call("register-profile", params)
    slow = SlowPasswords(delay=1.0)
    api_factory.services.passwords = slow
    busy = asyncio.create_task(visitor.call(command, params))
    await slow.working.wait()
    started = time.perf_counter()
    await writer.call("create-project", {"teamId": team["id"], "name": "Meanwhile"})
    waited = time.perf_counter() - started
    assert not busy.done()
    assert waited < 0.5, f"a write waited {waited:.2f} s for a password hash"
    assert (await busy)["email"] == "slow@example.com"


async def test_a_password_changed_during_sign_in_wins(api_factory: ApiFactory) -> None:
    user = await api_factory.user(password=PASSWORD)
    email = user.profile["email"]
    slow = SlowPasswords(delay=0.5)
    api_factory.services.passwords = slow
    visitor = await api_factory.anonymous()
    signing_in = asyncio.create_task(visitor.post("login-with-password", creds(email)))
    await slow.working.wait()
    api_factory.services.passwords = FAST_PASSWORDS
    await user.call("update-profile-password", {"oldPassword": PASSWORD, "password": "new one!"})
    response = await signing_in
    assert (response.status_code, response.json()["code"]) == (400, "wrong-credentials")
