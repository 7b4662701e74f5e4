"""Write ``fixture_keys.json``: the top-level keys of each object of Stripe's fixtures.

The objects of the Stripe dialect must carry every top-level key of Stripe's own fixture of
that object (SPEC section 14). The fixtures live outside the repository, in ``shared/`` beside
it (``<repo>/../shared/stripe/fixtures.json``, also where CI copies them); the tests read the
committed key lists, so they never depend on a file outside the repository, and check the
lists against the fixtures whenever those are there. After the fixtures change::

    python tests/stripe/make_fixture_keys.py [path/to/fixtures.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
FIXTURES = REPO.parent / "shared" / "stripe" / "fixtures.json"
KEYS = HERE / "fixture_keys.json"


def key_lists(fixtures: dict[str, Any]) -> dict[str, Any]:
    """``{"source": ..., "resources": {name: sorted top-level keys}}`` of a fixtures file."""
    return {
        "source": fixtures.get("source", ""),
        "resources": {
            name: sorted(resource) for name, resource in sorted(fixtures["resources"].items())
        },
    }


def render(fixtures: dict[str, Any]) -> str:
    """The text of ``fixture_keys.json`` for these fixtures."""
    return json.dumps(key_lists(fixtures), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else FIXTURES
    KEYS.write_text(render(json.loads(source.read_text(encoding="utf-8"))), encoding="utf-8")
    print(f"wrote {KEYS} from {source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
