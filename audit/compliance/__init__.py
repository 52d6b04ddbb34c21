"""The ledger as compliance output: proofs for third parties, data-subject search, retention
and streaming to other systems."""
