"""A valid model whose builder leaves a thread running that would keep a process alive."""

import threading
import time

import torch.nn as nn


def build():
    threading.Thread(target=time.sleep, args=(3600,)).start()
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
