"""Neural-network building blocks with torch.nn's names."""

from ember.nn import (  # noqa: F401
    functional,
    init,
    parallel,
    utils,
)
from ember.nn.modules.activation import *  # noqa: F403
from ember.nn.modules.attention import *  # noqa: F403
from ember.nn.modules.container import *  # noqa: F403
from ember.nn.modules.conv import *  # noqa: F403
from ember.nn.modules.distance import CosineSimilarity, PairwiseDistance  # noqa: F401
from ember.nn.modules.dropout import *  # noqa: F403
from ember.nn.modules.embedding import *  # noqa: F403
from ember.nn.modules.flatten import *  # noqa: F403
from ember.nn.modules.linear import *  # noqa: F403
from ember.nn.modules.loss import *  # noqa: F403
from ember.nn.modules.module import Module  # noqa: F401
from ember.nn.modules.normalization import *  # noqa: F403
from ember.nn.modules.pooling import *  # noqa: F403
from ember.nn.modules.rnn import *  # noqa: F403
from ember.nn.modules.sync_batchnorm import SyncBatchNorm  # noqa: F401
from ember.nn.modules.transformer import *  # noqa: F403
from ember.nn.parallel import DataParallel  # noqa: F401
from ember.nn.parameter import Buffer, Parameter  # noqa: F401
