"""Methods (config group ``method/``): fit on the n-sample subsets of all trials of one n and report
each cell's test error."""
