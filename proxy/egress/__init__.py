"""The only door out of the device: the egress gate, the ledger records it writes before
and after each upstream call, and the threads that make those appends."""
