"""The toy methods of the papers' analytic examples (least squares and ridge, 1-NN regression, the
mean classifier, the random-feature student, the harmonic net) with their exact errors."""
