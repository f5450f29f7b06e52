"""hpo: honest, reproducible benchmarks of Keras Tuner's hyperparameter optimizers."""

from hpo.errors import HpoError

__all__ = ["HpoError"]
__version__ = "0.1.0"
