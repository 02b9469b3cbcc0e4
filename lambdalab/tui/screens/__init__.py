"""Full screens of the app: one module each."""
