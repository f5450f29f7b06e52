"""Records in, numbers and files out: statistics, the summary and report, the regression gate.

Nothing here imports TensorFlow, Keras or Keras Tuner.
"""
