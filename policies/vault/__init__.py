"""Pseudonym vaults (value ↔ placeholder per conversation) and the stored ids that continue
them, in memory or in PostgreSQL."""
