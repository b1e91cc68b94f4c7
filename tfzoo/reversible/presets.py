"""Presets of the reversible-nets family (Arora, Liang, Ma, ``001_ba50c8426a439536.txt``).

Numbers the paper does not give are marked "[not in paper]". The paper reports no numeric SHADOW
results (Figures 3, 5–7 are plots without numbers in the text), so ``reported`` holds the numbers the
text does state (architecture and protocol), with the qualitative claim in a note.
"""

from tfzoo.recipe import Recipe
from tfzoo.registry import Preset, Reported, register

_PAPER = "001_ba50c8426a439536.txt"
_MODEL = "tfzoo.reversible.models:ShadowNet"
_RECIPE = Recipe(
    optimizer="adam", learning_rate=1e-3, batch_size=100, epochs=20,
    notes="batch 100 and learning rate 4^a x 0.001 with a = 0 from the grid a in {-2..2} (P622); "
          "the optimiser, epochs and initialisation are [not in paper]; the paper picks a and the "
          "SHADOW weight 2^b, b in {-3..3}, on 10,000 held-out training points (P622)",
)
_REPORTED = dict(
    hidden_units=Reported(5000, "units per hidden layer", f"{_PAPER}:612-616"),
    batch_size=Reported(100, "examples", f"{_PAPER}:622"),
    validation_size=Reported(10000, "examples", f"{_PAPER}:622"),
    dropout_rate=Reported(0.5, "fraction", f"{_PAPER}:622",
                          "SHADOW 'error drops much faster ... a small but persistent advantage is "
                          "retained even at the end' over backprop + dropout (P234); no numbers given"),
)

register(Preset(
    name="shadownet-mnist",
    model=_MODEL,
    config=dict(hidden_units=(5000, 5000), dropout=0.5, shadow_weight=1.0),
    task="mnist",
    recipe=_RECIPE,
    reported=_REPORTED,
    citation=f"{_PAPER}:612-624",
    description="The SHADOW paper's 784-5000-5000-10 ReLU net with dropout 0.5, trained with SHADOW.",
    expected_params=28980010,
    test_config=dict(hidden_units=(32, 32)),
    test_params=26506,
))

register(Preset(
    name="shadownet-mnist-small",
    model=_MODEL,
    config=dict(hidden_units=(512, 512), dropout=0.5, shadow_weight=1.0),
    task="mnist",
    recipe=_RECIPE.replace(epochs=5, notes=_RECIPE.notes + "; widths 512 [not in paper] for CPU"),
    reported=_REPORTED,
    citation=f"{_PAPER}:612-624",
    description="SHADOW-trained 784-512-512-10 ReLU net with dropout 0.5: the CPU-sized ShadowNet.",
    expected_params=669706,
))
