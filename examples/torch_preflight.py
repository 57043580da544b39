"""Estimate the energy of training a PyTorch model before training it.

Builds an MLP for MNIST-sized inputs, asks wsenergy what training it would cost on the study's
GPU node (the shipped fitted model), shows where its working sets land and how the energy
splits, and only then trains it for a moment. Run with the module on the path:

    PYTHONPATH=build/ci/python /usr/bin/python3 examples/torch_preflight.py
"""

import torch

import wsenergy
import wsenergy.torch

model = torch.nn.Sequential(
    torch.nn.Flatten(),
    torch.nn.Linear(784, 1024), torch.nn.ReLU(),
    torch.nn.Linear(1024, 512), torch.nn.ReLU(),
    torch.nn.Linear(512, 10),
)
plan = dict(train_examples=60000, eval_examples=10000, batch=256, epochs=20)

estimate = wsenergy.torch.predict(model, hardware="eagle-gpu", **plan)
print(f"predicted energy {estimate.total_j:.4g} J ({estimate.kwh:.3g} kWh) on {estimate.hardware}")
i = estimate.interval
print(f"  {100 * i['level']:g} % interval {i['low_j']:.4g} to {i['high_j']:.4g} J" +
      ("" if i["covered"] else " (without coverage: outside the fitted domain)"))
for x in estimate.extrapolated:
    print(f"  outside the fitted domain: {x['text']}")
if estimate.fixed_cost:  # the shipped model was fitted at 3000 epochs only
    f = estimate.fixed_cost
    print(f"  fixed cost per run {f['per_run_j']:.4g} J, per epoch {f['per_epoch_j']:.4g} J "
          "(the central value)")
for group, joules in estimate.by_group.items():
    if joules > 0:
        print(f"  {group:<11} {joules:>11.4g} J {100 * joules / estimate.total_j:6.1f} %")

net = wsenergy.torch.from_module(model)
sets = wsenergy.working_sets(net, wsenergy.TrainingRun(**plan), wsenergy.hardware("eagle-gpu"))
print(f"{net.parameters} parameters; working sets: " +
      ", ".join(f"{name} in {p['level_name']}" for name, p in sets.items()))

# The estimate is cheap enough to compare candidates before choosing one.
narrow = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
alternative = wsenergy.torch.predict(narrow, hardware="eagle-gpu", **plan)
print(f"a 256-wide alternative: {alternative.total_j:.4g} J")

# Then train (one step here, to keep the example short).
optimiser = torch.optim.SGD(model.parameters(), lr=0.01)
x, y = torch.randn(plan["batch"], 1, 28, 28), torch.randint(0, 10, (plan["batch"],))
loss = torch.nn.functional.cross_entropy(model(x), y)
loss.backward()
optimiser.step()
print(f"trained one step: loss {loss.item():.3f}")
