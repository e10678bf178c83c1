"""The service's JSON: reading requests as the SDK sends them, writing errors and usage."""
