"""Hyperband's bracket arithmetic, as Keras Tuner's `HyperbandOracle` does it, without Keras Tuner.

A plan (trials and epochs) is then known without importing Keras Tuner, so the
report and the CLI's checks stay light. Keras Tuner keeps these formulas in its
oracle's private methods (`_get_num_brackets`, `_get_size`, `_get_epochs`);
tests/test_tuners.py checks that these plans equal a dry run of its oracle.
"""

from __future__ import annotations

import math

from hpo.tuners._spec import Budget


def num_brackets(max_epochs: int, factor: int) -> int:
    """How many brackets one Hyperband iteration has (min_epochs is Keras Tuner's 1)."""
    epochs: float = max_epochs
    brackets = 0
    while epochs >= 1:
        epochs = epochs / factor
        brackets += 1
    return brackets


def size(max_epochs: int, factor: int, bracket: int, round_: int) -> int:
    """Trials in round `round_` of `bracket`: each bracket takes about the same resources."""
    bracket0_end_size = math.ceil(1 + math.log(max_epochs, factor))
    return math.ceil(bracket0_end_size / (bracket + 1) * factor ** (bracket - round_))


def epochs(max_epochs: int, factor: int, bracket: int, round_: int) -> int:
    """The epoch a trial of that round trains up to."""
    return math.ceil(max_epochs / factor ** (bracket - round_))


def bracket_cost(max_epochs: int, factor: int, bracket: int) -> int:
    """Epochs one bracket trains if no trial fails (a promoted trial trains on from its parent)."""
    cost, before = 0, 0
    for r in range(bracket + 1):
        upto = epochs(max_epochs, factor, bracket, r)
        cost += size(max_epochs, factor, bracket, r) * (upto - before)
        before = upto
    return cost


def bracket_trials(max_epochs: int, factor: int, bracket: int) -> int:
    return sum(size(max_epochs, factor, bracket, r) for r in range(bracket + 1))


def hyperband_plan(max_epochs: int, factor: int) -> Budget:
    """Trials and epochs of one Hyperband iteration, every bracket, if no trial fails."""
    brackets = range(num_brackets(max_epochs, factor))
    return Budget(
        sum(bracket_trials(max_epochs, factor, b) for b in brackets),
        sum(bracket_cost(max_epochs, factor, b) for b in brackets),
    )


def brackets_within(max_epochs: int, factor: int, budget: float) -> int:
    """How many whole brackets, the most exploratory first (Hyperband's order), fit in
    `budget` epochs; at least one."""
    count, spent = 0, 0
    for bracket in reversed(range(num_brackets(max_epochs, factor))):
        spent += bracket_cost(max_epochs, factor, bracket)
        if count and spent > budget:
            break
        count += 1
    return count


def hybrid_plan(max_epochs: int, factor: int, budget_epochs: int, exploration: float) -> Budget:
    """ "Hyperband, then Bayesian": the exploration brackets that fit in `exploration` of
    `budget_epochs`, then as many full-epoch trials as the rest pays for."""
    last = num_brackets(max_epochs, factor) - 1
    chosen = range(
        last, last - brackets_within(max_epochs, factor, exploration * budget_epochs), -1
    )
    trials = sum(bracket_trials(max_epochs, factor, b) for b in chosen)
    explored = sum(bracket_cost(max_epochs, factor, b) for b in chosen)
    refined = (budget_epochs - explored) // max_epochs
    return Budget(trials + refined, explored + refined * max_epochs)
