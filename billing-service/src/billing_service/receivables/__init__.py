"""Accounts receivable: credit notes, refunds, customer credit and payments received across
invoices. Built over the invoices table (invoices' records, lifecycle and settlement)."""
