"""Every member of the ``paysim``, ``paysim_server`` and ``paysim_webhooks`` fixtures.

One module of ``examples/fixture_members`` (run once) holds a test per member; a second one
checks that state left behind by one test is gone in the next.
"""

from __future__ import annotations

from tests.support.plugin import Runner


def test_every_member_of_the_fixtures(run: Runner) -> None:
    run.pytester.copy_example("paysim_helpers.py")
    run.pytester.copy_example("fixture_members")
    result = run("--paysim")
    result.assert_outcomes(passed=24)
