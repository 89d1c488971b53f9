"""Utilities with torch.utils' names."""
