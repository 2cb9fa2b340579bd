"""`SessionRegistry`: attach, detach, resume, take over and expire, as a pure state machine."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from hexlit.domain.session_registry import Claim, SessionRegistry
from hexlit.ports.runtime import UserInfo

TTL = 10.0
ANON: UserInfo = {}
ALICE: UserInfo = {"email": "alice@example.com", "is_logged_in": True}
BOB: UserInfo = {"email": "bob@example.com", "is_logged_in": True}


class Owner:
    """Stands for one connection; compared by identity, as the registry does."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Owner({self.name})"


def registry(ttl: float = TTL, max_detached: int = 3) -> SessionRegistry:
    return SessionRegistry(ttl, max_detached)


def test_a_new_connection_gets_the_fresh_id_attached() -> None:
    reg, owner = registry(), Owner("a")
    assert reg.claim(None, ANON, owner, "s-1") == Claim("s-1", resume=False)
    assert reg.is_attached("s-1")
    assert reg.owner_of("s-1") is owner
    assert (reg.attached_count, reg.detached_count) == (1, 0)


def test_a_detached_session_is_resumed_by_the_same_user() -> None:
    reg, first, second = registry(), Owner("a"), Owner("b")
    reg.claim(None, ALICE, first, "s-1")
    assert reg.detach("s-1", first, now=0.0)
    assert not reg.is_attached("s-1")
    assert reg.owner_of("s-1") is None
    assert reg.expire(now=TTL - 0.001) == []
    assert reg.claim("s-1", dict(ALICE), second, "s-2") == Claim("s-1", resume=True)
    assert reg.owner_of("s-1") is second
    assert (reg.attached_count, reg.detached_count) == (1, 0)


def test_a_detached_session_is_not_resumed_by_another_user() -> None:
    reg, first, second = registry(), Owner("a"), Owner("b")
    reg.claim(None, ALICE, first, "s-1")
    reg.detach("s-1", first, now=0.0)
    assert reg.claim("s-1", BOB, second, "s-2") == Claim("s-2", resume=False)
    assert reg.claim("s-1", ANON, Owner("c"), "s-3") == Claim("s-3", resume=False)
    assert reg.detached_count == 1  # Alice can still come back
    assert reg.claim("s-1", ALICE, Owner("d"), "s-4") == Claim("s-1", resume=True)


def test_an_attached_session_offered_by_the_same_user_is_taken_over() -> None:
    reg, first, second = registry(), Owner("a"), Owner("b")
    reg.claim(None, ALICE, first, "s-1")
    assert reg.claim("s-1", ALICE, second, "s-2") == Claim("s-1", resume=True, displaced=first)
    assert reg.owner_of("s-1") is second
    assert (reg.attached_count, reg.detached_count) == (1, 0)


def test_the_late_close_of_a_displaced_owner_changes_nothing() -> None:
    reg, first, second = registry(), Owner("a"), Owner("b")
    reg.claim(None, ANON, first, "s-1")
    reg.claim("s-1", ANON, second, "s-2")
    assert not reg.detach("s-1", first, now=1.0)
    assert reg.owner_of("s-1") is second
    assert (reg.attached_count, reg.detached_count) == (1, 0)


def test_an_attached_session_offered_by_another_user_is_left_alone() -> None:
    reg, first, second = registry(), Owner("a"), Owner("b")
    reg.claim(None, ALICE, first, "s-1")
    assert reg.claim("s-1", BOB, second, "s-2") == Claim("s-2", resume=False)
    assert reg.owner_of("s-1") is first
    assert reg.owner_of("s-2") is second


def test_an_unknown_offered_id_gets_a_fresh_session() -> None:
    reg = registry()
    assert reg.claim("never-seen", ANON, Owner("a"), "s-1") == Claim("s-1", resume=False)
    assert not reg.is_attached("never-seen")


def test_sessions_detached_for_ttl_expire_and_are_not_resumed() -> None:
    reg, first = registry(), Owner("a")
    reg.claim(None, ANON, first, "s-1")
    reg.detach("s-1", first, now=100.0)
    assert reg.expire(now=100.0 + TTL - 0.001) == []
    assert reg.expire(now=100.0 + TTL) == ["s-1"]
    assert reg.detached_count == 0
    assert reg.claim("s-1", ANON, Owner("b"), "s-2") == Claim("s-2", resume=False)


def test_beyond_max_detached_the_oldest_expire_first() -> None:
    reg = registry(max_detached=2)
    owners = [Owner(str(i)) for i in range(4)]
    for index, owner in enumerate(owners):
        reg.claim(None, ANON, owner, f"s-{index}")
    for index in (2, 0, 3, 1):  # detach order, not creation order, decides age
        reg.detach(f"s-{index}", owners[index], now=float(index))
    assert reg.expire(now=5.0) == ["s-2", "s-0"]
    assert reg.detached_count == 2
    assert reg.claim("s-3", ANON, Owner("x"), "s-9").resume
    assert reg.claim("s-1", ANON, Owner("y"), "s-10").resume


def test_resuming_and_detaching_again_makes_a_session_young() -> None:
    reg = registry(max_detached=1)
    a, b, c = Owner("a"), Owner("b"), Owner("c")
    reg.claim(None, ANON, a, "s-1")
    reg.claim(None, ANON, b, "s-2")
    reg.detach("s-1", a, now=0.0)
    reg.detach("s-2", b, now=1.0)
    reg.claim("s-1", ANON, c, "s-3")
    reg.detach("s-1", c, now=2.0)
    assert reg.expire(now=3.0) == ["s-2"]


def test_detach_by_a_stranger_or_of_an_unknown_id_is_refused() -> None:
    reg, owner = registry(), Owner("a")
    reg.claim(None, ANON, owner, "s-1")
    assert not reg.detach("s-1", Owner("stranger"), now=0.0)
    assert not reg.detach("s-2", owner, now=0.0)
    assert reg.owner_of("s-1") is owner
    assert reg.detach("s-1", owner, now=0.0)
    assert not reg.detach("s-1", owner, now=0.0)  # already detached
    assert reg.detached_count == 1


def test_a_fresh_id_already_in_use_is_a_programming_error() -> None:
    reg, owner = registry(), Owner("a")
    reg.claim(None, ANON, owner, "s-1")
    with pytest.raises(ValueError, match="already in use"):
        reg.claim(None, ANON, Owner("b"), "s-1")
    reg.detach("s-1", owner, now=0.0)
    with pytest.raises(ValueError, match="already in use"):
        reg.claim(None, ANON, Owner("c"), "s-1")


def test_forget_removes_a_session_in_either_state() -> None:
    reg, a, b = registry(), Owner("a"), Owner("b")
    reg.claim(None, ANON, a, "s-1")
    reg.claim(None, ANON, b, "s-2")
    reg.detach("s-2", b, now=0.0)
    reg.forget("s-1")
    reg.forget("s-2")
    reg.forget("unknown")
    assert (reg.attached_count, reg.detached_count) == (0, 0)
    assert reg.claim("s-2", ANON, Owner("c"), "s-3") == Claim("s-3", resume=False)


def test_rename_moves_the_attachment() -> None:
    reg, owner = registry(), Owner("a")
    reg.claim(None, ALICE, owner, "s-1")
    reg.rename("s-1", "r-1")
    assert not reg.is_attached("s-1")
    assert reg.owner_of("r-1") is owner
    assert reg.detach("r-1", owner, now=0.0)
    assert reg.claim("r-1", ALICE, Owner("b"), "s-2") == Claim("r-1", resume=True)


def test_the_registry_keeps_its_own_copy_of_user_info() -> None:
    reg, owner = registry(), Owner("a")
    info = {"email": "alice@example.com"}
    reg.claim(None, info, owner, "s-1")
    reg.detach("s-1", owner, now=0.0)
    info["email"] = "mallory@example.com"
    assert reg.claim("s-1", info, Owner("b"), "s-2") == Claim("s-2", resume=False)


# -- the stateful model ----------------------------------------------------------------

USERS: tuple[UserInfo, ...] = (ANON, ALICE, BOB)


@dataclass
class Held:
    user: UserInfo
    owner: Owner | None
    detached_at: float | None


class RegistryMachine(RuleBasedStateMachine):
    """The registry against a dictionary model of the rules in its docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.ttl = TTL
        self.max_detached = 3
        self.reg = SessionRegistry(self.ttl, self.max_detached)
        self.now = 0.0
        self.attached: dict[str, Held] = {}
        self.detached: OrderedDict[str, Held] = OrderedDict()
        self.gone: set[str] = set()  # expired ids
        self.owners: list[Owner] = []  # every owner ever, current or stale
        self.counter = 0

    def fresh_id(self) -> str:
        self.counter += 1
        return f"s-{self.counter}"

    def new_owner(self) -> Owner:
        owner = Owner(str(len(self.owners)))
        self.owners.append(owner)
        return owner

    def snapshot(self) -> tuple[object, ...]:
        return (
            self.reg.attached_count,
            self.reg.detached_count,
            {sid: self.reg.owner_of(sid) for sid in [*self.attached, *self.detached]},
        )

    def check_claim(self, offered: str | None, user: UserInfo) -> None:
        owner, fresh = self.new_owner(), self.fresh_id()
        claim = self.reg.claim(offered, user, owner, fresh)
        if offered is None:
            assert claim == Claim(fresh, resume=False)
            self.attached[fresh] = Held(user, owner, None)
        elif offered in self.attached and self.attached[offered].user == user:
            held = self.attached[offered]
            assert claim == Claim(offered, resume=True, displaced=held.owner)
            held.owner = owner
        elif offered in self.detached and self.detached[offered].user == user:
            assert claim == Claim(offered, resume=True)
            held = self.detached.pop(offered)
            held.owner, held.detached_at = owner, None
            self.attached[offered] = held
        else:
            assert claim == Claim(fresh, resume=False)
            self.attached[fresh] = Held(user, owner, None)
        # a different user never resumes someone else's session
        assert self.attached[claim.session_id].user == user

    @rule(user=st.sampled_from(USERS))
    def claim_new(self, user: UserInfo) -> None:
        self.check_claim(None, user)

    @precondition(lambda self: self.attached or self.detached or self.gone)
    @rule(data=st.data(), user=st.sampled_from(USERS))
    def claim_offered_existing(self, data: st.DataObject, user: UserInfo) -> None:
        known = sorted([*self.attached, *self.detached, *self.gone])
        self.check_claim(data.draw(st.sampled_from(known)), user)

    @rule(user=st.sampled_from(USERS), suffix=st.integers(0, 3))
    def claim_offered_unknown(self, user: UserInfo, suffix: int) -> None:
        self.check_claim(f"unknown-{suffix}", user)

    @precondition(lambda self: self.attached)
    @rule(data=st.data(), user=st.sampled_from(USERS))
    def claim_attached_as_another_user(self, data: st.DataObject, user: UserInfo) -> None:
        target = data.draw(st.sampled_from(sorted(self.attached)))
        if self.attached[target].user == user:
            user = BOB if user != BOB else ALICE
        before = self.attached[target].owner
        self.check_claim(target, user)
        assert self.reg.owner_of(target) is before

    @precondition(lambda self: self.attached)
    @rule(data=st.data())
    def detach_by_owner(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(sorted(self.attached)))
        held = self.attached.pop(target)
        assert self.reg.detach(target, held.owner, self.now)
        held.owner, held.detached_at = None, self.now
        self.detached[target] = held

    @precondition(lambda self: self.owners)
    @rule(data=st.data())
    def detach_by_stale_owner(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(sorted([*self.attached, *self.detached, "unknown-0"])))
        current = self.attached[target].owner if target in self.attached else None
        stale = [owner for owner in self.owners if owner is not current]
        if not stale:
            stale = [self.new_owner()]
        owner = data.draw(st.sampled_from(stale))
        before = self.snapshot()
        assert not self.reg.detach(target, owner, self.now)
        assert self.snapshot() == before

    @rule(seconds=st.sampled_from([0.0, 0.5, 3.0, TTL - 0.5, TTL, 2 * TTL]))
    def advance_time(self, seconds: float) -> None:
        self.now += seconds

    @rule()
    def expire(self) -> None:
        expected: list[str] = []
        for sid, held in list(self.detached.items()):
            assert held.detached_at is not None
            too_old = self.now - held.detached_at >= self.ttl
            if not too_old and len(self.detached) <= self.max_detached:
                break
            del self.detached[sid]
            expected.append(sid)
        assert self.reg.expire(self.now) == expected
        self.gone.update(expected)
        assert self.reg.detached_count <= self.max_detached
        # nothing detached for ttl or longer survives an expiry
        for held in self.detached.values():
            assert held.detached_at is not None
            assert self.now - held.detached_at < self.ttl

    @invariant()
    def attached_and_detached_are_disjoint(self) -> None:
        assert not set(self.attached) & set(self.detached)
        assert self.reg.attached_count == len(self.attached)
        assert self.reg.detached_count == len(self.detached)
        for sid in self.detached:
            assert not self.reg.is_attached(sid)
            assert self.reg.owner_of(sid) is None
        for sid in self.gone:
            assert not self.reg.is_attached(sid)

    @invariant()
    def each_attached_session_has_its_one_owner(self) -> None:
        for sid, held in self.attached.items():
            assert self.reg.is_attached(sid)
            assert held.owner is not None
            assert self.reg.owner_of(sid) is held.owner
        owners = [held.owner for held in self.attached.values()]
        assert len({id(owner) for owner in owners}) == len(owners)


RegistryMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_registry_state_machine = RegistryMachine.TestCase
