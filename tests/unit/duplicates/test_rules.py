"""The duplicate rule and the text similarity it reads: properties over generated orders."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from api.duplicates.rules import DuplicateSettings, OrderFacts, match
from api.duplicates.similarity import similarity

TENANT = uuid.UUID(int=1)
CUSTOMERS = [uuid.UUID(int=10), uuid.UUID(int=11)]
SITES = [uuid.UUID(int=20), uuid.UUID(int=21)]
ASSETS = [uuid.UUID(int=30), uuid.UUID(int=31), uuid.UUID(int=32)]
CATEGORIES = [None, uuid.UUID(int=40), uuid.UUID(int=41)]
T0 = datetime(2026, 12, 1, tzinfo=UTC)

# Words a Shanghai help desk hears, in both languages, so texts overlap often.
WORDS = ["空调", "不制冷", "漏水", "异响", "压缩机", "冷凝器", "电梯", "故障", "AC", "leak",
         "not cooling", "noise", "compressor", "lift", "broken", "2号楼", "３楼", "！",
         " "]  # fmt: skip
texts = st.lists(st.sampled_from(WORDS), max_size=8).map("".join) | st.text(max_size=30)

orders = st.builds(
    OrderFacts,
    id=st.uuids(),
    tenant_id=st.just(TENANT),
    customer_id=st.sampled_from(CUSTOMERS),
    site_id=st.sampled_from(SITES),
    created_at=st.integers(0, 10 * 24 * 60).map(lambda m: T0 + timedelta(minutes=m)),
    text=texts,
    asset_ids=st.frozensets(st.sampled_from(ASSETS), max_size=2),
    category_id=st.sampled_from(CATEGORIES),
)
settings = st.builds(
    DuplicateSettings,
    window=st.integers(1, 240).map(lambda h: timedelta(hours=h)),
    min_score=st.integers(1, 100),
)


@given(texts, texts)
def test_similarity_is_symmetric_and_bounded(a: str, b: str) -> None:
    assert similarity(a, b) == similarity(b, a)
    assert 0.0 <= similarity(a, b) <= 1.0


@given(texts)
def test_a_text_with_letters_is_fully_similar_to_itself(text: str) -> None:
    assert similarity(text, text) in (0.0, 1.0)


@given(orders, orders, settings)
def test_the_rule_is_symmetric(a: OrderFacts, b: OrderFacts, rule: DuplicateSettings) -> None:
    assert match(a, b, rule) == match(b, a, rule)


@given(orders, orders, settings)
def test_only_orders_of_one_customer_at_one_site_within_the_window_match(
    a: OrderFacts, b: OrderFacts, rule: DuplicateSettings
) -> None:
    found = match(a, b, rule)
    if found is not None:
        assert a.customer_id == b.customer_id and a.site_id == b.site_id
        assert abs(a.created_at - b.created_at) <= rule.window
        assert rule.min_score <= found.score <= 100


@given(orders, st.uuids(), settings)
def test_another_customer_never_matches_even_with_the_same_words(
    a: OrderFacts, other_id: uuid.UUID, rule: DuplicateSettings
) -> None:
    twin = OrderFacts(**{**vars(a), "id": other_id, "customer_id": uuid.UUID(int=99)})
    assert match(a, twin, rule) is None


@given(orders, st.uuids(), st.integers(0, 240))
def test_the_same_report_twice_within_the_window_always_matches(
    a: OrderFacts, other_id: uuid.UUID, hours: int
) -> None:
    if similarity(a.text, a.text) < 1.0 or other_id == a.id:
        return  # a text without letters says nothing
    rule = DuplicateSettings(window=timedelta(hours=120), min_score=90)
    twin = OrderFacts(
        **{**vars(a), "id": other_id, "created_at": a.created_at + timedelta(hours=hours)}
    )
    assert (match(a, twin, rule) is not None) == (hours <= 120)


def test_chinese_without_spaces_and_english_typos_are_compared_by_ngrams() -> None:
    assert similarity("空调不制冷", "空调不制冷了，请尽快处理") > 0.5
    assert similarity("空调不制冷", "电梯异响") == 0.0
    assert similarity("Compressor leaking", "compresor leaking!") > 0.6
    assert similarity("ＡＣ１２ 漏水", "ac12漏水") == 1.0  # full-width and case
