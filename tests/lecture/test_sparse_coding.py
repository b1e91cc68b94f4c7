"""ISTA, FISTA and LISTA (002_e592b05206285d1e.txt L582-636; FISTA: Beck & Teboulle 2009, EXTERNAL);
LISTA's sparse and low-rank S (L616)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfzoo import testing
from tfzoo.lecture.sparse_coding import (
    LISTA,
    energy,
    fista,
    ista,
    ista_matrices,
    lipschitz_constant,
    mnist_patches,
    optimality_violation,
    random_dictionary,
    soft_threshold,
    sparse_signals,
)
from tfzoo.recipe import Recipe

ALPHA = 0.1


@pytest.fixture(scope="module")
def problem():
    d = random_dictionary(64, 100, seed=0)
    x = sparse_signals(d, 200, seed=1)
    z_star = fista(x, d, ALPHA, 3000).codes
    return d, x, z_star


def test_soft_threshold_is_the_proximal_map_of_the_l1_norm():
    # h_theta(v) = argmin_z 1/2 (z - v)^2 + theta |z|, checked on a fine grid.
    v = np.linspace(-2, 2, 41).astype("float32")
    grid = np.linspace(-3, 3, 60001)
    objective = 0.5 * (grid[None] - v[:, None]) ** 2 + 0.3 * np.abs(grid[None])
    np.testing.assert_allclose(soft_threshold(v, 0.3), grid[np.argmin(objective, 1)], atol=1e-4)


def test_ista_energy_is_monotone_and_meets_its_rate(problem):
    d, x, z_star = problem
    energies = ista(x, d, ALPHA, 200).energies.numpy()
    e_star = energy(x, z_star, d, ALPHA).numpy()
    # monotone up to float32 rounding (relative 1e-6 of the energy)
    assert np.all(np.diff(energies, axis=0) <= 1e-6 * np.abs(energies[:-1]) + 1e-6)
    # Beck & Teboulle Thm 3.1: E(z_k) - E* <= L ||z_0 - z*||^2 / (2k), z_0 = 0
    lip = float(lipschitz_constant(d))
    k = np.arange(1, 201)[:, None]
    bound = lip * np.sum(np.square(z_star), -1)[None] / (2 * k)
    assert np.all(energies[1:] - e_star <= bound + 1e-4)


def test_fista_meets_its_rate_but_not_monotonicity(problem):
    d, x, z_star = problem
    energies = fista(x, d, ALPHA, 200).energies.numpy()
    e_star = energy(x, z_star, d, ALPHA).numpy()
    lip = float(lipschitz_constant(d))
    k = np.arange(1, 201)[:, None]
    bound = 2 * lip * np.sum(np.square(z_star), -1)[None] / (k + 1) ** 2     # Beck & Teboulle Thm 4.4
    assert np.all(energies[1:] - e_star <= bound + 1e-4)
    # What is NOT guaranteed: FISTA's energy goes up markedly on some examples.
    assert np.max(np.diff(energies, axis=0)) > 1e-3
    # ... and after 30 iterations it is far closer to E* than ISTA
    ista_gap = ista(x, d, ALPHA, 30).energies.numpy()[-1] - e_star
    assert np.mean(energies[30] - e_star) < 0.2 * np.mean(ista_gap)


def test_optimality_conditions_hold_at_convergence(problem):
    d, x, z_star = problem
    assert optimality_violation(x, z_star, d, ALPHA) < 1e-4
    assert optimality_violation(x, ista(x, d, ALPHA, 5).codes, d, ALPHA) > 1e-2
    converged = ista(x, d, ALPHA, 2000).codes
    np.testing.assert_allclose(converged, z_star, atol=2e-3)


# S kept whole: dense, a sparse pattern keeping every entry, a low-rank factorisation of full rank m = 100.
FULL_S = {"dense": {}, "sparse": {"s_structure": "sparse", "s_density": 1.0},
          "low_rank": {"s_structure": "low_rank", "s_rank": 100}}


@pytest.mark.parametrize("structure", FULL_S)
@pytest.mark.parametrize("steps,tied", [(0, True), (1, True), (3, True), (3, False)])
def test_lista_initialised_from_ista_equals_ista(problem, steps, tied, structure):
    d, x, _ = problem
    model = LISTA(n_inputs=64, n_codes=100, num_steps=steps, alpha=ALPHA, tied=tied, dictionary_seed=0,
                  **FULL_S[structure])
    np.testing.assert_array_equal(model.dictionary.numpy(), d)
    np.testing.assert_allclose(model(x), ista(x, d, ALPHA, steps + 1).codes, atol=1e-6)
    other = random_dictionary(64, 100, seed=5)
    model.set_dictionary(other)
    np.testing.assert_allclose(model(x), ista(x, other, ALPHA, steps + 1).codes, atol=1e-6)


def test_trained_lista_beats_ista_with_one_more_iteration():
    keras.utils.set_random_seed(0)
    d = random_dictionary(64, 100, seed=0)
    x_train, x_test = sparse_signals(d, 1000, seed=2), sparse_signals(d, 500, seed=3)
    model = LISTA(n_inputs=64, n_codes=100, num_steps=1, alpha=ALPHA, dictionary_seed=0)
    model.compile_from_recipe(Recipe(optimizer="adam", learning_rate=1e-2, jit_compile=False))
    z_train, z_test = model.optimal_codes(x_train), model.optimal_codes(x_test)
    model.fit(x_train, z_train, batch_size=50, epochs=5, verbose=0)
    lista_error = np.mean(np.sum((model(x_test).numpy() - z_test) ** 2, -1))
    ista_error = np.mean(np.sum((ista(x_test, d, ALPHA, 2).codes.numpy() - z_test) ** 2, -1))
    assert lista_error < 0.25 * ista_error  # measured: 0.33 vs 2.31


@pytest.mark.parametrize("steps,tied", [(1, True), (3, False)])
def test_low_rank_s_is_the_best_rank_r_approximation_with_2mr_parameters(steps, tied):
    m, r = 100, 10
    dense = LISTA(n_inputs=64, n_codes=m, num_steps=steps, tied=tied)
    model = LISTA(n_inputs=64, n_codes=m, num_steps=steps, tied=tied, s_structure="low_rank", s_rank=r)
    dense.build_from_preset()
    model.build_from_preset()
    copies = 1 if tied else steps
    factors = model.inhibition_weights
    assert set(factors) == {"S_U", "S_V"} and factors["S_U"].shape == factors["S_V"].shape == (copies, m, r)
    assert sum(int(np.prod(w.shape)) for w in factors.values()) == copies * r * 2 * m
    assert model.count_params() == dense.count_params() - copies * m * m + copies * r * 2 * m
    # Eckart-Young: the spectral-norm error of U V^T is ISTA's (r+1)-th singular value.
    s_ista = ista_matrices(model.dictionary, model.alpha)[1].numpy().astype(np.float64)
    singular_values = np.linalg.svd(s_ista, compute_uv=False)
    for s in model.inhibition_matrices().numpy():
        assert np.linalg.matrix_rank(s) == r
        np.testing.assert_allclose(np.linalg.norm(s_ista - s, 2), singular_values[r], rtol=1e-4)


def _fit_a_few_steps(model, x, z, epochs=1):
    """Compiles with Adam 1e-2 and fits ``epochs`` epochs of batches of 50; returns the loss before and after."""
    model.compile_from_recipe(Recipe(optimizer="adam", learning_rate=1e-2, jit_compile=False))
    before = model.evaluate(x, z, verbose=0)
    model.fit(x, z, batch_size=50, epochs=epochs, verbose=0)
    return before, model.evaluate(x, z, verbose=0)


def test_sparse_s_stays_exactly_zero_off_its_pattern_during_training(problem):
    d, x, z_star = problem
    keras.utils.set_random_seed(0)
    model = LISTA(n_inputs=64, n_codes=100, num_steps=3, alpha=ALPHA, tied=False, s_structure="sparse", s_density=0.1)
    mask = model.inhibition_weights["S_mask"].numpy()
    # the pattern: the 1000 entries of ISTA's S of largest magnitude, the diagonal among them
    s_ista = np.abs(ista_matrices(d, ALPHA)[1].numpy())
    assert mask.sum() == 1000 and np.all(np.diag(mask) == 1)
    assert s_ista[mask == 0].max() <= s_ista[mask == 1].min()
    before = model.inhibition_matrices().numpy()
    _fit_a_few_steps(model, x, z_star.numpy())                    # 4 Adam steps
    after = model.inhibition_matrices().numpy()
    np.testing.assert_array_equal(model.inhibition_weights["S_mask"].numpy(), mask)
    assert np.all(after[:, mask == 0] == 0.0) and np.all(model.inhibition_weights["S"].numpy()[:, mask == 0] == 0.0)
    assert np.mean(after[:, mask == 1] != before[:, mask == 1]) > 0.9     # the pattern's entries do train


@pytest.mark.parametrize("structure", [{}, {"s_structure": "sparse", "s_density": 0.2},
                                       {"s_structure": "low_rank", "s_rank": 8}], ids=["dense", "sparse", "low_rank"])
def test_every_s_structure_trains(structure):
    keras.utils.set_random_seed(0)
    d = random_dictionary(16, 32, seed=0)
    x = sparse_signals(d, 200, sparsity=3, seed=1)
    model = LISTA(n_inputs=16, n_codes=32, num_steps=2, alpha=ALPHA, dictionary_seed=0, **structure)
    before, after = _fit_a_few_steps(model, x, model.optimal_codes(x), epochs=5)
    assert after < 0.7 * before


@pytest.mark.parametrize("structure", [{"s_structure": "sparse", "s_density": 0.3},
                                       {"s_structure": "low_rank", "s_rank": 5}], ids=["sparse", "low_rank"])
def test_structured_lista_round_trips_through_a_keras_file(tmp_path, structure):
    keras.utils.set_random_seed(0)
    model = LISTA(n_inputs=16, n_codes=32, num_steps=1, alpha=ALPHA, **structure)
    model.set_dictionary(random_dictionary(16, 32, seed=7))     # a pattern / factors the constructor does not make
    x = testing.example_batch(model, 50)
    _fit_a_few_steps(model, x, model.optimal_codes(x, 100))
    model.save(tmp_path / "lista.keras")
    reloaded = keras.models.load_model(tmp_path / "lista.keras")
    np.testing.assert_allclose(reloaded(x), model(x), atol=1e-6)
    np.testing.assert_array_equal(reloaded.inhibition_matrices(), model.inhibition_matrices())


@pytest.mark.parametrize("options,message", [
    ({"s_structure": "banded"}, "s_structure must be one of 'dense', 'sparse', 'low_rank', got 'banded'"),
    ({"s_structure": "sparse"}, r"needs s_density in \(0, 1\], got None"),
    ({"s_structure": "sparse", "s_density": 1.5}, r"needs s_density in \(0, 1\], got 1.5"),
    ({"s_structure": "low_rank", "s_rank": 101}, r"needs an integer s_rank in 1..100, got 101"),
    ({"s_structure": "low_rank", "s_rank": 2.5}, r"needs an integer s_rank in 1..100, got 2.5"),
    ({"s_rank": 4}, "s_rank applies to s_structure='low_rank' only"),
    ({"s_structure": "low_rank", "s_rank": 4, "s_density": 0.1}, "s_density applies to s_structure='sparse' only"),
])
def test_bad_s_structure_options_raise_clear_errors(options, message):
    with pytest.raises(ValueError, match=message):
        LISTA(n_inputs=64, n_codes=100, num_steps=1, **options)


def test_mnist_patches_are_centred_textured_and_seeded(mnist_dir):
    from tfzoo.datasets import load_mnist

    images = load_mnist(mnist_dir).x_train[:500]
    patches = mnist_patches(images, 300, seed=0)
    assert patches.shape == (300, 64) and patches.dtype == np.float32
    np.testing.assert_allclose(patches.mean(1), 0.0, atol=1e-6)
    assert patches.std(1).min() >= 0.1 - 1e-6 and np.abs(patches).max() <= 1.0
    np.testing.assert_array_equal(patches, mnist_patches(images, 300, seed=0))
    assert not np.array_equal(patches, mnist_patches(images, 300, seed=1))
    with pytest.raises(ValueError, match="lower min_std"):
        mnist_patches(images, 5, min_std=0.9)
    with pytest.raises(ValueError, match=r"shape \(N, 28, 28\)"):
        mnist_patches(images.reshape(500, -1), 5)


def test_bad_input_names_the_expected_shape():
    from tfzoo.errors import InputError

    model = LISTA(n_inputs=64, n_codes=100, num_steps=1)
    with pytest.raises(InputError, match=r"\(None, 64\)"):
        model(tf.zeros([2, 63]))


# ------------------------------------------------- prepare_training_data: the task hook of tfzoo.train
def test_prepare_training_data_gives_the_fista_codes_and_keeps_the_random_dictionary():
    from tfzoo.datasets import load_task

    splits = load_task("sparse-gaussian-m100", limit=40)
    model = LISTA(n_inputs=64, n_codes=100, num_steps=1, alpha=ALPHA, dictionary_seed=0)
    assert model.get_config()["dictionary"] == "random" and model.get_config()["learn_steps"] == 30
    before = model.dictionary.numpy().copy()
    prepared = model.prepare_training_data(splits, seed=3)
    np.testing.assert_array_equal(model.dictionary.numpy(), before)
    for split, (x, _) in splits.items():
        x_prepared, z = prepared[split]
        assert x_prepared is x and z.shape == (40, 100)
        np.testing.assert_array_equal(z, model.optimal_codes(x, 1000))
        np.testing.assert_array_equal(z, fista(x, random_dictionary(64, 100, seed=0), ALPHA, 1000).codes.numpy())


def test_prepare_training_data_learns_the_dictionary_of_the_patches(mnist_dir):
    from tfzoo.datasets import load_task
    from tfzoo.lecture.sparse_coding import learn_dictionary

    splits = load_task("mnist-patches-8x8", data_dir=mnist_dir, limit=600)
    model = LISTA(n_inputs=64, n_codes=16, num_steps=1, alpha=ALPHA, dictionary="learned", learn_steps=5)
    random_d = model.dictionary.numpy().copy()
    prepared = model.prepare_training_data(splits, seed=1)
    learned = model.dictionary.numpy()
    np.testing.assert_array_equal(learned, learn_dictionary(splits["train"][0], 16, ALPHA, steps=5, seed=1))
    assert not np.allclose(learned, random_d)
    np.testing.assert_allclose(np.linalg.norm(learned, axis=0), 1.0, atol=1e-5)
    # set_dictionary reset W_e to ISTA's W_d^T / L for the learned dictionary
    np.testing.assert_allclose(model.filters.numpy(), ista_matrices(learned, ALPHA)[0].numpy(), rtol=1e-5, atol=1e-7)
    x_test, z_test = prepared["test"]
    np.testing.assert_array_equal(z_test, model.optimal_codes(x_test, 1000))
    z_random = fista(x_test, random_d, ALPHA, 1000).codes.numpy()
    error = {name: float(np.mean(np.sum((x_test - z @ d.T) ** 2, 1)))
             for name, d, z in (("learned", learned, z_test), ("random", random_d, z_random))}
    assert error["learned"] < 0.7 * error["random"], error
    assert np.mean(energy(x_test, z_test, learned, ALPHA)) < np.mean(energy(x_test, z_random, random_d, ALPHA))
    # a model that already holds a learned dictionary (e.g. trained, then evaluated) keeps it and its weights
    model.filters.assign(model.filters * 2.0)
    trained_filters = model.filters.numpy().copy()
    model.prepare_training_data(splits, seed=2)
    np.testing.assert_array_equal(model.dictionary.numpy(), learned)
    np.testing.assert_array_equal(model.filters.numpy(), trained_filters)
    assert LISTA.from_config(model.get_config()).dictionary_source == "learned"
    with pytest.raises(ValueError, match="dictionary must be one of 'random', 'learned'"):
        LISTA(dictionary="pretrained")
    with pytest.raises(ValueError, match="learn_steps"):
        LISTA(learn_steps=-1)


def test_fit_targets_are_the_models_optimal_codes():
    """``fit_targets = "optimal_codes"``: the example fit data pair inputs with the FISTA codes for the
    model's dictionary, the targets ``fit`` trains LISTA on (L624)."""
    model = LISTA(n_inputs=16, n_codes=32, num_steps=1, alpha=ALPHA)
    x, z_star = testing.example_fit_data(model, 6, seed=2)
    np.testing.assert_allclose(z_star, model.optimal_codes(x), rtol=1e-6, atol=1e-7)
    assert sorted(testing.example_inputs(model)) == ["encode", "reconstruct", "serve"]
