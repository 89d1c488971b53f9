"""Alias of ``ember.utils.data._collate`` under torch's path ``torch.utils.data._utils.collate``."""

from ember.utils.data._collate import *  # noqa: F403
from ember.utils.data._collate import __all__  # noqa: F401
