"""What trains a trial's model: the graph engine (one traced graph) and Keras' own fit."""
