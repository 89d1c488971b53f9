"""Datasets with torchvision.datasets' names, read from local files (nothing is downloaded)."""

from ember.datasets.mnist import MNIST, FashionMNIST, MNIST5k

__all__ = ["MNIST", "FashionMNIST", "MNIST5k"]
