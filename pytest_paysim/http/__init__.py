"""The HTTP layer: the werkzeug app over the simulator core, its routes and its OpenAPI."""
