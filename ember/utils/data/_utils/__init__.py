"""torch.utils.data._utils's module layout (collate, worker), for code that imports from it."""

from ember.utils.data._utils import collate, worker

__all__ = ["collate", "worker"]
