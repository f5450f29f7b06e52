"""Hypothesis settings for a shared, noisy machine: no per-example deadline."""

from hypothesis import settings

settings.register_profile("hpo", deadline=None, print_blob=True)
settings.load_profile("hpo")
