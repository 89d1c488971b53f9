"""Neural-network building blocks with torch.nn's names."""

from ember.nn import functional, init  # noqa: F401
from ember.nn.modules.attention import *  # noqa: F403
from ember.nn.modules.conv import *  # noqa: F403
from ember.nn.modules.embedding import *  # noqa: F403
from ember.nn.modules.normalization import *  # noqa: F403
from ember.nn.modules.pooling import *  # noqa: F403
from ember.nn.modules.rnn import *  # noqa: F403
from ember.nn.modules.transformer import *  # noqa: F403
