"""Alignment of cloud drafts with local candidates through bytes, on hand-made distributions."""

from __future__ import annotations

import math

import pytest
from cogate.collab.logits.align import (
    MIN_FLOOR,
    CloudStep,
    Draft,
    cloud_probs,
    compatible,
    coverage,
    view_at,
)


def lp(p: float) -> float:
    return math.log(p)


def spanish_draft() -> Draft:
    # The cloud wrote " Spanish lessons" as two tokens.
    return Draft(
        [
            CloudStep(b" Spanish", {b" Spanish": lp(0.6), b" French": lp(0.3), b" Span": lp(0.05)}),
            CloudStep(b" lessons", {b" lessons": lp(0.7), b" classes": lp(0.2)}),
        ]
    )


def test_a_local_piece_that_is_a_prefix_of_cloud_tokens_pools_their_probability():
    view = view_at(spanish_draft())
    # " Span" is a prefix of " Spanish" and equal to " Span": it collects both.
    span, french, german = cloud_probs(view, [b" Span", b" French", b" German"])
    assert span == pytest.approx(0.65)
    assert french == pytest.approx(0.3)
    assert german == pytest.approx(view.floor)
    assert 0 < german < 0.05


def test_a_local_token_longer_than_the_cloud_token_is_vouched_for_by_it():
    draft = Draft(
        [CloudStep(b" Span", {b" Span": lp(0.8), b" Fr": lp(0.1)}), CloudStep(b"ish", {})]
    )
    (p,) = cloud_probs(view_at(draft), [b" Spanish"])
    assert p == pytest.approx(0.8)


def test_mid_token_offsets_condition_on_the_emitted_bytes():
    draft = spanish_draft()
    # The local tokenizer split " Spanish" as " Span" + "ish".
    assert draft.advance(b" Span")
    view = view_at(draft)
    # Only " Spanish" and " Span" start with " Span"; " Span" is fully emitted, so the
    # remainder "ish" carries the conditional mass.
    assert set(view.options) == {b"ish"}
    ish, other = cloud_probs(view, [b"ish", b"ly"])
    assert ish > 0.5
    assert other == pytest.approx(view.floor)
    assert draft.advance(b"ish")
    assert view_at(draft).top() == b" lessons"


def test_a_local_piece_spanning_two_cloud_tokens_advances_across_the_boundary():
    draft = spanish_draft()
    assert draft.advance(b" Spanish lesson")
    view = view_at(draft)
    assert view.options == {b"s": pytest.approx(0.7 / 0.7 * min(1.0, 0.7 / 0.9))}
    assert draft.advance(b"s")
    assert draft.exhausted
    assert view_at(draft) is None


def test_disagreement_invalidates_the_draft():
    draft = spanish_draft()
    assert not draft.advance(b" French")
    assert draft.consumed == 0


def test_running_past_a_draft_that_ran_out_of_tokens_is_agreement():
    draft = Draft([CloudStep(b" yes", {b" yes": lp(0.9)})])
    assert draft.advance(b" yes.")
    assert draft.exhausted


def test_a_draft_where_the_cloud_stopped_votes_for_the_end():
    draft = Draft([CloudStep(b" done.", {b" done.": lp(0.9)})], stopped=True)
    assert draft.advance(b" done.")
    view = view_at(draft)
    assert view.end == 1.0
    end, more = cloud_probs(view, [None, b" And"])
    assert end == 1.0 and more == pytest.approx(MIN_FLOOR)
    assert not draft.advance(b" And")


def test_empty_top_k_falls_back_to_the_emitted_token_or_says_nothing():
    with_logprob = Draft([CloudStep(b" cat", {}, logprob=lp(0.5))])
    assert cloud_probs(view_at(with_logprob), [b" cat"]) == [pytest.approx(0.5)]
    bare = Draft([CloudStep(b" cat", {})])
    assert view_at(bare) is None
    assert view_at(None) is None
    assert view_at(Draft([])) is None


def test_empty_tokens_from_split_utf8_are_skipped():
    # A cloud that decodes each token on its own loses half of a multi-byte character.
    draft = Draft([CloudStep(b"", {}), CloudStep(b" caf", {b" caf": lp(0.9)}), CloudStep(b"e", {})])
    assert view_at(draft).top() == b" caf"


def test_coverage_is_the_share_of_cloud_mass_the_pool_can_carry():
    view = view_at(spanish_draft())
    assert coverage(view, [b" S"]) == pytest.approx(0.65 / 0.95)
    assert coverage(view, [b" S", b" F"]) == pytest.approx(1.0)
    assert coverage(view, [b"\n"]) == 0.0


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (b" Span", b" Spanish", True),
        (b" Spanish", b" Span", True),
        (b" Span", b" French", False),
        (b"", b" x", False),
        (b" x", b"", False),
    ],
)
def test_compatible(a, b, expected):
    assert compatible(a, b) is expected
