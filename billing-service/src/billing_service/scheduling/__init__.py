"""Recurring templates' periods and the scheduler loop (scheduled -> due, overdue)."""
