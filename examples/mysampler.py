"""Any Optuna sampler as a tuner, here a scrambled Halton sequence: name it mysampler:SPEC."""

import optuna

from hpo.tuners import optuna_spec


def halton(seeds, profile):
    """Made anew for every trial: the sequence seeded by the cell (so it never restarts),
    the values it does not cover (a layer only some trials have) by the trial."""
    return optuna.samplers.QMCSampler(
        qmc_type="halton",
        scramble=True,
        seed=seeds.cell,
        independent_sampler=optuna.samplers.RandomSampler(seed=seeds.trial),
        warn_independent_sampling=False,
    )


SPEC = optuna_spec("qmc-halton", halton)
