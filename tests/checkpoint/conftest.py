"""Model tests run tiny networks: one intra-op thread is faster than two (no thread
hand-off per small op) and immune to a busy machine. Restored after each test."""

import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
