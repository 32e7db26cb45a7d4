"""The results do not depend on the thread count."""

import pandas as pd

import dialtone
from conftest import CORRUPTION, SITE


def test_study_is_the_same_on_one_and_two_threads():
    a = dialtone.study(SITE, replications=30, seed=13, threads=1)
    b = dialtone.study(SITE, replications=30, seed=13, threads=2)
    pd.testing.assert_frame_equal(a.results, b.results, check_exact=True)
    assert a.summary == b.summary


def test_compare_is_the_same_on_one_and_two_threads():
    kw = dict(strategies=["restore-only", "dial-tone-same-server"], replications=10, seed=13)
    a = dialtone.compare(CORRUPTION, threads=1, **kw)
    b = dialtone.compare(CORRUPTION, threads=2, **kw)
    pd.testing.assert_frame_equal(a.results, b.results, check_exact=True)
    assert a.summary == b.summary
