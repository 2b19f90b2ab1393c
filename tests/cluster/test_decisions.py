"""cluster.failover without processes: health states from probe events, the promotion choice."""

from __future__ import annotations

import pytest

from pgaurora.cluster.failover import Candidate, FailoverRefused, Health, HealthTracker, choose_target


def test_health_goes_down_after_consecutive_failures_only() -> None:
    tracker = HealthTracker(failures_before_down=3)
    assert tracker.state is Health.STARTING
    assert tracker.probed(True) is Health.HEALTHY
    assert tracker.probed(False) is Health.SUSPECT
    assert tracker.probed(True) is Health.HEALTHY          # a success resets the count
    assert [tracker.probed(False) for _ in range(3)] == [Health.SUSPECT, Health.SUSPECT, Health.DOWN]
    tracker.restarted()
    assert tracker.state is Health.STARTING and tracker.failures == 0


def test_a_process_exit_is_down_at_once() -> None:
    tracker = HealthTracker()
    tracker.probed(True)
    assert tracker.exited() is Health.DOWN


def test_the_most_up_to_date_healthy_reader_is_promoted() -> None:
    plan = choose_target([Candidate("r1", True, 100), Candidate("r2", True, 250), Candidate("r3", False, 900)])
    assert plan.promote == "r2"
    assert "250" in plan.reason


def test_ties_prefer_the_lower_promotion_tier_then_the_name() -> None:
    assert choose_target([Candidate("r2", True, 10, 1), Candidate("r1", True, 10, 5)]).promote == "r2"
    assert choose_target([Candidate("r2", True, 10), Candidate("r1", True, 10)]).promote == "r1"


def test_a_reader_that_cannot_tell_its_read_point_comes_last() -> None:
    assert choose_target([Candidate("r1", True, None), Candidate("r2", True, 0)]).promote == "r2"


def test_no_healthy_reader_means_a_fresh_writer() -> None:
    plan = choose_target([Candidate("r1", False, 10)])
    assert plan.promote is None
    assert choose_target([]).promote is None


def test_a_requested_target_must_be_a_healthy_reader() -> None:
    candidates = [Candidate("r1", True, 10), Candidate("r2", False, 99)]
    assert choose_target(candidates, "r1").promote == "r1"
    with pytest.raises(FailoverRefused, match="not healthy"):
        choose_target(candidates, "r2")
    with pytest.raises(FailoverRefused, match="not a reader"):
        choose_target(candidates, "writer-1")
