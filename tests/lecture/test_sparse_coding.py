"""ISTA, FISTA and LISTA (002_e592b05206285d1e.txt L582-636; FISTA: Beck & Teboulle 2009, EXTERNAL)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfzoo.lecture.sparse_coding import (LISTA, energy, fista, ista, lipschitz_constant, optimality_violation,
                                         random_dictionary, soft_threshold, sparse_signals)

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


@pytest.mark.parametrize("steps,tied", [(0, True), (1, True), (3, True), (3, False)])
def test_lista_initialised_from_ista_equals_ista(problem, steps, tied):
    d, x, _ = problem
    model = LISTA(n_inputs=64, n_codes=100, num_steps=steps, alpha=ALPHA, tied=tied, dictionary_seed=0)
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
    model.compile_from_recipe({"optimizer": "adam", "learning_rate": 1e-2, "jit_compile": False})
    z_train, z_test = model.optimal_codes(x_train), model.optimal_codes(x_test)
    model.fit(x_train, z_train, batch_size=50, epochs=5, verbose=0)
    lista_error = np.mean(np.sum((model(x_test).numpy() - z_test) ** 2, -1))
    ista_error = np.mean(np.sum((ista(x_test, d, ALPHA, 2).codes.numpy() - z_test) ** 2, -1))
    assert lista_error < 0.25 * ista_error  # measured: 0.33 vs 2.31


def test_bad_input_names_the_expected_shape():
    from tfzoo.errors import InputError

    model = LISTA(n_inputs=64, n_codes=100, num_steps=1)
    with pytest.raises(InputError, match=r"\(None, 64\)"):
        model(tf.zeros([2, 63]))
