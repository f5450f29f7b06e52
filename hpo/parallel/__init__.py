"""Where cells run: worker processes, Keras Tuner's distributed workers, a Dask cluster."""
