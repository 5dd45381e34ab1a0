"""Text messages (SMS) to customers about their order, through a configured provider."""
