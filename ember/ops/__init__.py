"""The op library: every public op, with torch's names, importable as ``ember.<name>``."""

from ember.ops import (
    conversion,
    creation,
    elementwise,
    indexing,
    linalg,
    misc,
    reduce,
    shape,
    special,
    views,
)
from ember.ops import dunders as _dunders  # noqa: F401  (binds Python operators)
from ember.ops.conversion import *  # noqa: F403
from ember.ops.creation import *  # noqa: F403
from ember.ops.elementwise import *  # noqa: F403
from ember.ops.indexing import *  # noqa: F403
from ember.ops.linalg import *  # noqa: F403
from ember.ops.misc import *  # noqa: F403
from ember.ops.reduce import *  # noqa: F403
from ember.ops.shape import *  # noqa: F403
from ember.ops.special import *  # noqa: F403
from ember.ops.views import *  # noqa: F403

# only the ops themselves are public: `from ember.ops import *` must not shadow ember.special,
# ember.linalg ... with these submodules
__all__ = sorted(
    {
        n
        for m in (
            conversion,
            creation,
            elementwise,
            indexing,
            linalg,
            misc,
            reduce,
            shape,
            special,
            views,
        )
        for n in getattr(m, "__all__", ())
    }
)
