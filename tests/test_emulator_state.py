"""The emulator's store without HTTP: paging invariants under any mix of creates and deletes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.emulator.store import SenderStore


def _body(n: int) -> dict:
    return {"sender_id": f"whatsapp:+1500555{n:04d}", "profile": {"name": f"S{n}"}}


def _walk(store: SenderStore, page_size: int) -> list[str]:
    seen, after = [], None
    while True:
        senders, after, _, _ = store.page(after, page_size)
        seen += [s["sid"] for s in senders]
        if after is None:
            return seen


@settings(max_examples=60)
@given(
    n=st.integers(min_value=0, max_value=40),
    deleted=st.sets(st.integers(min_value=0, max_value=39)),
    page_size=st.integers(min_value=1, max_value=12),
)
def test_paging_returns_every_sender_once_in_creation_order(n, deleted, page_size):
    store = SenderStore()
    sids = [store.create(_body(i))["sid"] for i in range(n)]
    for i in deleted:
        if i < n:
            store.delete(sids[i])
    expected = [sid for i, sid in enumerate(sids) if i not in deleted]
    assert _walk(store, page_size) == expected


@settings(max_examples=30)
@given(n=st.integers(min_value=1, max_value=30), page_size=st.integers(min_value=1, max_value=8))
def test_previous_page_is_the_page_before(n, page_size):
    store = SenderStore()
    for i in range(n):
        store.create(_body(i))
    pages, after = [], None
    while True:
        senders, next_after, previous_after, _ = store.page(after, page_size)
        pages.append((after, senders, previous_after))
        if next_after is None:
            break
        after = next_after
    for (_, _, previous_after), (before_after, before_senders, _) in zip(pages[1:], pages[:-1], strict=True):
        start = None if previous_after == -1 else previous_after
        assert start == before_after
        assert store.page(start, page_size)[0] == before_senders
