"""Finite-N solvers, samplers, trainers and the simulations of Sec. 4 / App. D (numpy, scipy, numba)."""

from beyond_collapse.numerics.datasets import condition_d1_dataset
from beyond_collapse.numerics.logistic import ConvergenceError, fit_ridge_logistic
from beyond_collapse.numerics.kkt import KKTSolution, kkt_residual, solve_kkt, solve_limit_system
from beyond_collapse.numerics.success import SuccessProbability, success_probability

__all__ = ["ConvergenceError", "KKTSolution", "condition_d1_dataset", "fit_ridge_logistic", "kkt_residual",
           "solve_kkt", "solve_limit_system",
           "SuccessProbability", "success_probability"]
from beyond_collapse.numerics.intervals import clopper_pearson, wilson  # noqa: E402  (audit helper)
__all__ += ["clopper_pearson", "wilson"]  # audit helper
from beyond_collapse.numerics.samplers import angle_directions, flip_labels, linear_generator, linear_pruner, rlhf_prune, sample_gaussian_mixture, sample_supervised_dataset, sample_supervised_pruning  # noqa: E402,E501  (samplers helper)
from beyond_collapse.numerics.bayes import accuracy_vs_bayes, bayes_accuracy, mixture_accuracy  # noqa: E402  (samplers helper)
__all__ += ["angle_directions", "flip_labels", "linear_generator", "linear_pruner", "rlhf_prune", "sample_gaussian_mixture", "sample_supervised_dataset", "sample_supervised_pruning", "accuracy_vs_bayes", "bayes_accuracy", "mixture_accuracy"]  # noqa: E501  (samplers helper)
from beyond_collapse.numerics.learning_curves import LearningCurve, LearningCurveError, proportional_parameters, rlhf_learning_curve, supervised_learning_curve  # noqa: E402,E501  (issue 16)
__all__ += ["LearningCurve", "LearningCurveError", "proportional_parameters", "rlhf_learning_curve", "supervised_learning_curve"]  # noqa: E501
