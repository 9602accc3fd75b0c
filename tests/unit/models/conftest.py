"""Model tests run tiny networks; one intra-op thread is fastest on the shared cores."""

import torch

torch.set_num_threads(1)
