"""What a record depends on: library versions, the Keras backend, and a hash of hpo's code."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path


def versions() -> dict[str, str]:
    """Library versions, the Keras backend and a hash of hpo's code: what a result depends on."""
    import keras
    import keras_tuner as kt
    import numpy as np
    import sklearn
    import tensorflow as tf

    return {
        "hpo_source": source_hash(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_tuner": kt.__version__,
        "keras_backend": keras.backend.backend(),
        "scikit_learn": sklearn.__version__,
        "numpy": np.__version__,
    }


@functools.cache
def source_hash() -> str:
    """A digest of hpo's own modules: a record made by other code is not reused."""
    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]
