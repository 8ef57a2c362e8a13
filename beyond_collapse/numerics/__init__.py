"""Finite-N solvers, samplers, trainers and the simulations of Sec. 4 / App. D (numpy, scipy, numba)."""

from beyond_collapse._lazy import lazy_exports

_EXPORTS = {
    "condition_d1_dataset": "beyond_collapse.numerics.datasets",
    "ConvergenceError": "beyond_collapse.numerics.logistic",
    "fit_ridge_logistic": "beyond_collapse.numerics.logistic",
    "KKTSolution": "beyond_collapse.numerics.kkt",
    "kkt_residual": "beyond_collapse.numerics.kkt",
    "solve_kkt": "beyond_collapse.numerics.kkt",
    "solve_limit_system": "beyond_collapse.numerics.kkt",
    "SuccessProbability": "beyond_collapse.numerics.success",
    "success_probability": "beyond_collapse.numerics.success",
    "clopper_pearson": "beyond_collapse.numerics.intervals",
    "wilson": "beyond_collapse.numerics.intervals",
    "angle_directions": "beyond_collapse.numerics.samplers",
    "flip_labels": "beyond_collapse.numerics.samplers",
    "linear_generator": "beyond_collapse.numerics.samplers",
    "linear_pruner": "beyond_collapse.numerics.samplers",
    "rlhf_prune": "beyond_collapse.numerics.samplers",
    "sample_gaussian_mixture": "beyond_collapse.numerics.samplers",
    "sample_supervised_dataset": "beyond_collapse.numerics.samplers",
    "sample_supervised_pruning": "beyond_collapse.numerics.samplers",
    "accuracy_vs_bayes": "beyond_collapse.numerics.bayes",
    "bayes_accuracy": "beyond_collapse.numerics.bayes",
    "mixture_accuracy": "beyond_collapse.numerics.bayes",
    "LearningCurve": "beyond_collapse.numerics.learning_curves",
    "LearningCurveError": "beyond_collapse.numerics.learning_curves",
    "proportional_parameters": "beyond_collapse.numerics.learning_curves",
    "rlhf_learning_curve": "beyond_collapse.numerics.learning_curves",
    "supervised_learning_curve": "beyond_collapse.numerics.learning_curves",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
