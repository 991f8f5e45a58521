"""Automatic reminders (dunning): each company's reminder steps and the scheduler's step that
sends them, with their late fees and due-date extensions."""
