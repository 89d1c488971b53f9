"""torch.utils.data._utils.worker's public names."""

from ember.utils.data._worker import WorkerInfo, get_worker_info

__all__ = ["WorkerInfo", "get_worker_info"]
