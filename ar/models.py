"""Remittances (835 posting), the patient ledger, statements and payment plans (to come)."""
