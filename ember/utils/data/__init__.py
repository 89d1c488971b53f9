"""Datasets, samplers and DataLoader with torch.utils.data's names (being written)."""
