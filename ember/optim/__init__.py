"""Optimizers and learning-rate schedulers with torch.optim's names and semantics.

Each optimizer is a thin torch-shaped shell (``ember.optim.optimizer.Optimizer``) around one
in-place update of a parameter's array; ``state_dict()`` has torch's layout.
"""

from ember.optim import lr_scheduler
from ember.optim.adadelta import Adadelta
from ember.optim.adagrad import Adagrad
from ember.optim.adam import Adam
from ember.optim.adamax import Adamax
from ember.optim.adamw import AdamW
from ember.optim.asgd import ASGD
from ember.optim.lbfgs import LBFGS
from ember.optim.nadam import NAdam
from ember.optim.optimizer import (
    Optimizer,
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
)  # fmt: skip
from ember.optim.radam import RAdam
from ember.optim.rmsprop import RMSprop
from ember.optim.rprop import Rprop
from ember.optim.sgd import SGD

__all__ = [
    "ASGD", "LBFGS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam",
    "Optimizer", "RAdam", "RMSprop", "Rprop", "lr_scheduler", "register_optimizer_step_post_hook",
    "register_optimizer_step_pre_hook",
]  # fmt: skip
