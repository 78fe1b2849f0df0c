"""Services: one use case each, composed of domain functions and ports."""
