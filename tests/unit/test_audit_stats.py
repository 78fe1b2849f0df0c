"""PSI and Jensen-Shannon on cases computed by hand (the arithmetic is written next to each)."""

from __future__ import annotations

import math

import pytest

from lenslog.audit import stats


def test_psi_of_a_50_50_baseline_against_75_25_is_0_2747():
    # e = (0.5, 0.5), a = (0.75, 0.25)
    # (0.75 - 0.5) ln(0.75 / 0.5) = 0.25 * 0.405465 = 0.101366
    # (0.25 - 0.5) ln(0.25 / 0.5) = -0.25 * -0.693147 = 0.173287
    # PSI = 0.274653
    assert stats.psi({"a": 50, "b": 50}, {"a": 75, "b": 25}) == pytest.approx(0.274653, abs=1e-6)


def test_psi_uses_proportions_not_counts():
    assert stats.psi({"a": 5, "b": 5}, {"a": 750, "b": 250}) == pytest.approx(
        stats.psi({"a": 50, "b": 50}, {"a": 75, "b": 25})
    )


def test_psi_replaces_an_empty_bin_by_epsilon():
    # baseline only saw "a": e = (1, 0 -> 1e-4); current a = (0.5, 0.5)
    # (0.5 - 1) ln(0.5 / 1)         = -0.5 * -0.693147   = 0.346574
    # (0.5 - 1e-4) ln(0.5 / 1e-4)   = 0.4999 * 8.517193  = 4.257745
    # PSI = 4.604319
    expected = 0.5 * math.log(2) + 0.4999 * math.log(5000)
    assert expected == pytest.approx(4.604319, abs=1e-6)
    assert stats.psi({"a": 10}, {"a": 1, "b": 1}) == pytest.approx(expected, abs=1e-9)


def test_psi_of_identical_distributions_is_zero():
    assert stats.psi({"a": 3, "b": 1}, {"a": 30, "b": 10}) == pytest.approx(0.0)


def test_psi_and_js_are_none_when_a_side_is_empty():
    assert stats.psi({}, {"a": 1}) is None
    assert stats.psi({"a": 1}, {"a": 0}) is None
    assert stats.js_divergence({"a": 1}, {}) is None


def test_negative_counts_are_read_as_zero():
    assert stats.psi({"a": 50, "b": 50, "c": -3}, {"a": 75, "b": 25}) == pytest.approx(0.274653, abs=1e-6)


def test_js_of_50_50_against_75_25_is_0_0488():
    # p = (0.5, 0.5), q = (0.75, 0.25), m = (0.625, 0.375)
    # KL(p||m) = 0.5 log2(0.5/0.625) + 0.5 log2(0.5/0.375) = 0.5*-0.321928 + 0.5*0.415037 = 0.046555
    # KL(q||m) = 0.75 log2(0.75/0.625) + 0.25 log2(0.25/0.375) = 0.197276 - 0.146241 = 0.051035
    # JS = (0.046555 + 0.051035) / 2 = 0.048795
    assert stats.js_divergence({"a": 50, "b": 50}, {"a": 75, "b": 25}) == pytest.approx(0.048795, abs=1e-6)


def test_js_is_symmetric_and_bounded_by_one_for_disjoint_supports():
    assert stats.js_divergence({"a": 1}, {"b": 1}) == pytest.approx(1.0)
    p, q = {"a": 1, "b": 3}, {"a": 2, "b": 1, "c": 1}
    assert stats.js_divergence(p, q) == pytest.approx(stats.js_divergence(q, p))


def test_js_of_identical_distributions_is_zero():
    assert stats.js_divergence({"a": 2, "b": 2}, {"a": 1, "b": 1}) == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("value", "level"),
    [
        (None, "no_data"),
        (0.0, "ok"),
        (0.0999, "ok"),
        (0.1, "watch"),
        (0.2499, "watch"),
        (0.25, "alert"),
        (3.0, "alert"),
    ],
)
def test_drift_level_thresholds(value, level):
    assert stats.drift_level(value) == level
