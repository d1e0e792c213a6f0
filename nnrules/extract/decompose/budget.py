"""Budgets: seconds, rules and terms, checked at every step of an extraction.

A method calls :meth:`Budget.tick` before each unit of work (one tree, one factor of a product)
and :meth:`Budget.charge_terms` / :meth:`Budget.charge_rules` as it makes terms and rules. Past a
limit the budget raises :class:`OutOfBudget`; the method catches it, keeps the rules finished so
far and reports the reason. So a budget is never exceeded by more than the one step in flight.
"""

from __future__ import annotations

import time

__all__ = ["Budget", "OutOfBudget"]


class OutOfBudget(Exception):
    """Internal signal: a budget ran out (``reason`` says which); never reaches the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Budget:
    """Limits on wall-clock seconds, rules and terms.

    Parameters
    ----------
    max_seconds : float or None
    max_rules : int or None
        Rules (clauses on the inputs) the result may hold.
    max_terms : int or None
        Distinct hidden-unit terms for which rules may be learned.
    """

    def __init__(self, max_seconds: float | None, max_rules: int | None,
                 max_terms: int | None) -> None:
        self.max_seconds = max_seconds
        self.max_rules = max_rules
        self.max_terms = max_terms
        self.start = time.perf_counter()
        self.n_terms = 0
        self.n_rules = 0
        self.steps = 0
        self._last_tick = self.start
        self.last_step = 0.0  # seconds between the last two ticks
        self.overrun = 0.0  # seconds past max_seconds when the time ran out
        self._limit = max_seconds  # the time limit ticks check (see reserve)
        self._spent = False  # a tick has already found the whole max_seconds spent

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def reserve(self, fraction: float) -> None:
        """Keep the last ``fraction`` of ``max_seconds`` for finishing work: ticks raise once
        ``(1 - fraction) * max_seconds`` have passed, until :meth:`release`."""
        if self.max_seconds is not None:
            self._limit = (1.0 - fraction) * self.max_seconds

    def release(self) -> None:
        """Ticks check the whole ``max_seconds`` again."""
        self._limit = self.max_seconds

    def tick(self) -> None:
        """Raise OutOfBudget when the time is up. ``overrun`` and ``last_step`` describe the
        tick that first found the time up (later ticks raise without changing them)."""
        now = time.perf_counter()
        elapsed = now - self.start
        if self._spent:  # already reported: the step that overran stays on record
            raise OutOfBudget(f"max_seconds={self.max_seconds:g} reached after {elapsed:.2f} s")
        self.steps += 1
        self.last_step, self._last_tick = now - self._last_tick, now
        if self._limit is not None and elapsed > self._limit:
            self._spent = elapsed > self.max_seconds
            self.overrun = elapsed - self._limit
            note = ("" if self._limit == self.max_seconds else
                    f" (this stage may use {self._limit / self.max_seconds:.0%} of it; the "
                    "rest is kept to finish the rules)")
            raise OutOfBudget(f"max_seconds={self.max_seconds:g} reached after {elapsed:.2f} s"
                              + note)

    def charge_terms(self, n: int = 1) -> None:
        """Count ``n`` new terms; raise OutOfBudget if that passes max_terms."""
        if self.max_terms is not None and self.n_terms + n > self.max_terms:
            raise OutOfBudget(f"max_terms={self.max_terms} reached")
        self.n_terms += n

    def room_for_rules(self) -> int | None:
        """Rules still allowed (None = unlimited)."""
        return None if self.max_rules is None else self.max_rules - self.n_rules

    def charge_rules(self, n: int = 1) -> None:
        """Count ``n`` new rules; raise OutOfBudget if that passes max_rules."""
        if self.max_rules is not None and self.n_rules + n > self.max_rules:
            raise OutOfBudget(f"max_rules={self.max_rules} reached")
        self.n_rules += n
