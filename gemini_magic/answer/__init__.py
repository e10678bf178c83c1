"""The answer as a value, and its code made runnable on the user's live objects."""
