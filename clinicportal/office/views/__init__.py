"""Office console pages by area. Each parses input, calls one selector or service, and renders."""
