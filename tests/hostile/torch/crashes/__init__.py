"""A builder whose process is killed by a signal (as a crash in native code would be)."""

import os
import signal


def build():
    os.kill(os.getpid(), signal.SIGKILL)
