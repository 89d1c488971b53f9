"""Image transforms with torchvision.transforms' names (tensors and NumPy arrays, no PIL).

Random transforms draw from ember's RNG, so DataLoader worker seeding makes them differ per
worker and per epoch, and ``ember.manual_seed`` reproduces them.
"""

from ember.transforms import functional
from ember.transforms.functional import InterpolationMode
from ember.transforms.transforms import (
    CenterCrop,
    Compose,
    ConvertImageDtype,
    Lambda,
    Normalize,
    Pad,
    RandomCrop,
    RandomHorizontalFlip,
    RandomVerticalFlip,
    Resize,
    ToTensor,
)  # fmt: skip

__all__ = [
    "CenterCrop",
    "Compose",
    "ConvertImageDtype",
    "InterpolationMode",
    "Lambda",
    "Normalize",
    "Pad",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomVerticalFlip",
    "Resize",
    "ToTensor",
    "functional",
]
