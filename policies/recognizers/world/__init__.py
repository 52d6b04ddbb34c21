"""Names of every country: the names-dataset lists and the scripts that use them."""
