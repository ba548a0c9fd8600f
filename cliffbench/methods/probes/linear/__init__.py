"""The linear probe as one unit: the method (``linear``), its batched multinomial logistic-regression
solver (``logreg_solver``) in preconditioned variables (``logreg_reparam``) with its line search
(``line_search``), and the least-squares / ridge fits for regression targets (``linear_regression``)."""
