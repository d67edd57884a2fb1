"""Fixtures several test modules share."""

import pytest
from hostile import Canaries


@pytest.fixture(scope="module")
def one_torch_thread():
    """PyTorch on one thread for a module's tests: small float64 convolutions run twice as fast."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def canaries(tmp_path) -> Canaries:
    """A canary secret outside the hostile input's folder and a file only executed code would create."""
    return Canaries(tmp_path)
