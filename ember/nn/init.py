"""torch.nn.init (being written)."""
