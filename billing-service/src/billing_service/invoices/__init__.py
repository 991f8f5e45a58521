"""Invoices, quotes, recurring templates: their contract, lifecycle, editing, actions and
answers."""
