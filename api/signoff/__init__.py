"""Sign-off: the customer's signature (or recorded refusal) on a work order."""
