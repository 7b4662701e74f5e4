"""Report a value from a generated test to the test that ran it.

The ``run`` fixture copies this module next to every generated test; ``record(name, value)``
writes ``<name>.json`` to ``$PLUGIN_TEST_OUT``, which the outer test reads back with
``run.recorded(name)`` (that works under ``-n 2`` too, where a worker's output is not shown).
"""

import json
import os
import pathlib


def record(name, value):
    path = pathlib.Path(os.environ["PLUGIN_TEST_OUT"]) / f"{name}.json"
    path.write_text(json.dumps(value))
