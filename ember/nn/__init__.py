"""Neural-network building blocks with torch.nn's names (being written)."""
