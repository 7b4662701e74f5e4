"""Helpers shared by the test folders, one module a concern (imported as ``tests.support.*``).

- ``ids``: the id and time patterns (``ID_RE``, ``EVENT_ID_RE``, ``DELIVERY_ID_RE``,
  ``TIME_RE``), one copy for every test.
- ``http``: the checking ``Http`` client (every error body is checked for leaked secrets),
  the section 5 error assertions (``assert_error``, ``assert_json_error_shape``), the
  expected field sets, ``state_of`` (a snapshot of the whole simulator) and raw socket requests.
- ``receivers``: webhook receivers on real loopback sockets: ``Receiver`` (scripted statuses,
  statuses by path, hanging, dribbling, or a reserved port that listens only once activated),
  ``serve_wsgi`` for any other WSGI app, ``closed_port_url``.
- ``webhooks``: ``Env`` (a running ``PaysimServer`` with its ``paysim`` handle), ``tamper`` and
  the third-party verifiers a real receiver would use (stripe, standardwebhooks, Ed25519).
- ``pages``: the merchant stand-in (``Shop``), ``Pages`` and API shortcuts of the page tests.
- ``plugin``: the pytester ``Runner`` of the plugin tests, ``header_line``, ``free_port_pair``,
  ``serve_paysim`` (a ``paysim serve`` subprocess); the generated modules it runs are real
  files under ``tests/plugin/examples``, loaded with ``pytester.copy_example``.

The fixtures stay in each folder's ``conftest.py``.
"""
