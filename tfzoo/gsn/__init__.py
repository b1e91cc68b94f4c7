"""Score-estimating auto-encoders and Generative Stochastic Networks (Alain's thesis, Ch. 3 and Ch. 5).

Paper: /work/shared/papers/003_a93095073811cc34.txt, Ch. 3 (L743-1440: DAE/CAE/RCAE learn the score,
Metropolis-Hastings with estimated energy differences) and Ch. 5 (L1488-2330: DAEs as generative models,
walkback, deep GSNs, clamping, dependency networks).

Modules:
  corruption  -- corruptions that stay active at sampling time (Gaussian, salt-and-pepper, random subset);
  theory      -- exact NumPy results: grid DAE/RCAE optima (3.3)/(3.11), GMM closed forms, finite-chain
                 Prop. 1/2/5 constructions, dependency networks, the Schweitzer bound;
  mcmc        -- energy differences (3.14) and the score-based Metropolis-Hastings TransitionKernel;
  evaluation  -- Gaussian Parzen log-likelihood (sigma on validation, standard error) and the
                 reconstruction-mixture estimator of Sec. 5.5.1;
  models      -- ScoreAutoencoder (DAE/CAE/RCAE), GenerativeDAE (walkback, alpha_k), GSN (deep, odd/even);
  dependency_network -- DependencyNetworkGSN (one masked MLP for P(x_s | x_-s), random/ordered scan, Sec. 5.3.7);
  callbacks   -- the Walkback schedule callback.
"""
