"""torch.nn.functional: stateless layers, activations and losses (one file per family)."""

from ember.nn.functional._attention import *  # noqa: F403
from ember.nn.functional._basic import *  # noqa: F403
from ember.nn.functional._conv import *  # noqa: F403
from ember.nn.functional._embedding import *  # noqa: F403
from ember.nn.functional._loss import *  # noqa: F403
from ember.nn.functional._norm import *  # noqa: F403
from ember.nn.functional._pool import *  # noqa: F403
from ember.nn.functional._rnn import *  # noqa: F403
