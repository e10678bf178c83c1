"""What the emulated service keeps: uploaded files, context caches, stored interactions."""
