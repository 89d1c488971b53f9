"""Seed 000's MLP regression, as a PyTorch user writes it, run on ember.

Data: y = x @ w_true + 0.5 + noise (10 features, Gaussian noise sigma 0.05), 512 train / 128 test.
Model: Linear(10, 5) -> ReLU -> Linear(5, 1), MSELoss, SGD(lr=0.01). Prints the train and test
loss it reaches (the noise floor is sigma^2 = 0.0025).
"""

import argparse

import ember as torch
import ember.nn as nn
import ember.optim as optim


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)
    w_true = torch.randn(10, 1)
    x = torch.randn(640, 10)
    y = x @ w_true + 0.5 + 0.05 * torch.randn(640, 1)
    x_train, y_train, x_test, y_test = x[:512], y[:512], x[512:], y[512:]

    model = nn.Sequential(nn.Linear(10, 5), nn.ReLU(), nn.Linear(5, 1))
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=args.lr)
    for _epoch in range(args.epochs):
        for i in range(0, 512, 32):
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[i : i + 32]), y_train[i : i + 32])
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        train_loss = loss_fn(model(x_train), y_train).item()
        test_loss = loss_fn(model(x_test), y_test).item()
    print(f"train loss {train_loss:.5f}  test loss {test_loss:.5f}  (noise floor 0.0025)")
    return train_loss, test_loss


if __name__ == "__main__":
    main()
