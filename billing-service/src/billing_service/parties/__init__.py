"""The parties and things an invoice names: organisations, invoicers and their payment
details, recipients with their client-portal contacts, products."""
