"""Units of work run for accepted deliveries, and the queue backends that run them."""
