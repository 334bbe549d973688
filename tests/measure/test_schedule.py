"""The plan of what is timed: secret orders, no repeats within a process, the probe set apart."""

from __future__ import annotations

import numpy as np
import pytest

from runners import schedule


def test_a_round_times_each_test_input_at_most_once():
    plan = schedule.plan_round(np.random.default_rng(1), index=0, test_count=540, block_queries=32, with_probe=True)
    assert len(set(plan.order.tolist())) == len(plan.order)
    assert plan.blocks == len(plan.order) // 32 and len(plan.order) % 32 == 0
    blocks = [plan.block(k) for k in range(plan.blocks)]
    assert np.array_equal(np.concatenate(blocks), plan.order)


def test_the_probes_fresh_inputs_are_never_in_a_timed_block_of_their_round():
    plan = schedule.plan_round(np.random.default_rng(2), index=0, test_count=540, block_queries=32, with_probe=True)
    assert len(plan.probe_fresh) == schedule.PROBE_QUERIES
    assert not set(plan.probe_fresh.tolist()) & set(plan.order.tolist())
    later = schedule.plan_round(np.random.default_rng(3), index=1, test_count=540, block_queries=32, with_probe=False)
    assert len(later.probe_fresh) == 0 and len(later.order) == 540 - 540 % 32


def test_a_small_split_gives_the_probe_a_quarter_and_blocks_what_is_left():
    plan = schedule.plan_round(np.random.default_rng(4), index=0, test_count=20, block_queries=32, with_probe=True)
    assert len(plan.probe_fresh) == 5
    assert plan.block_queries == 15 and plan.blocks == 1


def test_the_order_depends_on_the_secret_and_on_nothing_a_server_can_read():
    a = schedule.plan_round(np.random.default_rng(10), index=0, test_count=200, block_queries=16, with_probe=True)
    b = schedule.plan_round(np.random.default_rng(10), index=0, test_count=200, block_queries=16, with_probe=True)
    c = schedule.plan_round(np.random.default_rng(11), index=0, test_count=200, block_queries=16, with_probe=True)
    assert np.array_equal(a.order, b.order)  # reproducible from the secret recorded after the job
    assert not np.array_equal(a.order, c.order)
    # Not the order a seeded permutation of the spec's (public) seed would give.
    assert not np.array_equal(a.order[:50], np.random.default_rng(0).permutation(200)[:50])


def test_subjects_take_every_position_in_the_blocks():
    orders = schedule.subject_orders(np.random.default_rng(5), ["null", "reference", "submission"], 300)
    firsts = {
        subject: sum(1 for order in orders if order[0] == subject) for subject in ("null", "reference", "submission")
    }
    assert all(60 < count < 140 for count in firsts.values()), firsts
    assert all(sorted(order) == ["null", "reference", "submission"] for order in orders)


def test_the_probe_interleaves_the_repeated_input_with_each_fresh_one_in_random_order():
    indices, kinds = schedule.probe_sequence(np.random.default_rng(6), 7, np.arange(100, 164))
    assert len(indices) == 128 and sum(kinds) == 64
    pairs = list(zip(indices[::2], indices[1::2], strict=True))
    assert all(7 in pair for pair in pairs)
    assert sorted(i for i in indices if i != 7) == list(range(100, 164))
    assert 16 < sum(1 for first, _ in pairs if first == 7) < 48  # a coin flip per pair


def test_offline_batches_hold_distinct_inputs_each_once():
    batches = schedule.offline_batches(np.random.default_rng(7), test_count=540, batch_size=64)
    assert len(batches) == 8 and all(len(b) == 64 for b in batches)
    flat = np.concatenate(batches)
    assert len(set(flat.tolist())) == len(flat)


def test_a_round_share_spreads_what_is_left_over_the_rounds_to_come():
    assert schedule.round_share(1024, 0, 3) == pytest.approx(1024 / 3)
    assert schedule.round_share(1024, 1024, 1) == 0.0
    assert schedule.blocks_wanted(queries_wanted=342, block_queries=32) == 11
    assert schedule.blocks_wanted(queries_wanted=0, block_queries=32) == 1


def test_warm_up_draws_from_the_training_pool_only():
    picks = schedule.warmup_indices(np.random.default_rng(8), 5, 12)
    assert len(picks) == 12 and set(picks.tolist()) <= set(range(5))
    with pytest.raises(ValueError):
        schedule.warmup_indices(np.random.default_rng(8), 0, 3)
