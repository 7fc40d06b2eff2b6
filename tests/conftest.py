"""pytest's own `pytester` fixture, for the tests of chaosbed's pytest plugin."""

pytest_plugins = ("pytester",)
