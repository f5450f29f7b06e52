"""Root conftest: quiet TensorFlow's C++ start-up lines in this repository's test processes."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
