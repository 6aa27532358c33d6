"""articles.memo: the word caches of every process stay within their size and keep answering right."""
from articles.memo import memoize


def test_a_full_cache_starts_over_and_answers_stay_right():
    calls = []

    @memoize(3)
    def double(n):
        calls.append(n)
        return 2 * n

    assert [double(n) for n in (1, 2, 3, 1, 2, 3)] == [2, 4, 6, 2, 4, 6]
    assert calls == [1, 2, 3]
    assert double(4) == 8  # a fourth entry: the cache is emptied first
    assert len(double.cache) == 1
    assert double(1) == 2 and calls == [1, 2, 3, 4, 1]
    assert double.__name__ == "double"


def test_a_failure_is_not_remembered():
    attempts = []

    @memoize(10)
    def flaky(n):
        attempts.append(n)
        if len(attempts) == 1:
            raise ValueError("first attempt fails")
        return n

    try:
        flaky(5)
    except ValueError:
        pass
    assert flaky(5) == 5 and attempts == [5, 5]
