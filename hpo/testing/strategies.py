"""Hypothesis strategies for values inside and outside the seed's search space.

Needs hypothesis (the `test` extra).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from hpo.experiment.space import SPACE


@st.composite
def space_values(draw: st.DrawFn) -> dict[str, Any]:
    """Any assignment of the space's active hyperparameters."""
    num_layers = draw(st.integers(SPACE.min_layers, SPACE.max_layers))
    values: dict[str, Any] = {"num_layers": num_layers}
    for i in range(num_layers):
        values[f"units_{i}"] = draw(st.sampled_from(SPACE.units_values))
    values["activation"] = draw(st.sampled_from(SPACE.activations))
    values["dropout"] = draw(st.sampled_from(SPACE.dropout_values))
    values["learning_rate"] = draw(st.sampled_from(SPACE.learning_rates))
    return values


@st.composite
def out_of_space_values(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A valid assignment with one value pushed outside the space; returns (values, name)."""
    values = draw(space_values())
    name = draw(st.sampled_from(sorted(values)))
    bad: Any
    if name == "num_layers":
        bad = draw(st.sampled_from([0, SPACE.max_layers + 1, -1, 2.5]))
    elif name.startswith("units_"):
        bad = draw(
            st.sampled_from([0, SPACE.min_units - 1, SPACE.max_units + SPACE.units_step, 33])
        )
    elif name == "activation":
        bad = draw(st.sampled_from(["softmax", "elu", "", "RELU"]))
    elif name == "dropout":
        bad = draw(st.sampled_from([-0.1, 0.6, 0.25, 1.0]))
    else:
        bad = draw(st.sampled_from([0.0001, 0.5, 1.0, 0.05]))
    values[name] = bad
    return values, name
