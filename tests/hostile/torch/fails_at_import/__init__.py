"""A module that fails while it is imported (as torchvision does when broken)."""

raise RuntimeError("torchvision is broken:\n" + "frame\n" * 40)
