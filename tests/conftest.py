"""pytest's own `pytester` fixture, for the tests of chaosbed's pytest plugin;
and Ctrl-C as a terminal gives it, for the tests that interrupt a command."""

import signal

pytest_plugins = ("pytester",)

# A suite started in the background by a shell without job control inherits
# SIGINT ignored, and so would every command a test interrupts with Ctrl-C
# (an ignored disposition survives exec): those tests would wait in vain. A
# terminal gives commands the default, so the suite does too.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
