"""Memory tags: values that live in Linewise itself (operator entries, test points)."""
