"""Records in, numbers and files out: statistics, the summary and report, the regression gate.

Nothing here imports TensorFlow, Keras, Keras Tuner or a tuner (`hpo.tuners`): what
the report says of a tuner's budget its caller passes in (`hpo.tuners.budget_texts`).
"""
